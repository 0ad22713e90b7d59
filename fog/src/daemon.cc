// The fog daemon: MQTT in, one worker thread, MQTT out.
//
// Size: a message over config.max_message_bytes is never copied, parsed or
// queued whole. The MQTT client hands on only its size, SHA-256 and first
// bytes (mqtt::Oversized), which the worker quarantines; and the fog's
// CONNECT tells the broker the largest packet it takes at all
// (kMaxPacketBytes, fog.h), so that whatever is published the fog's memory
// stays bounded (Paho holds a packet whole, about three times, before any
// callback runs).
//
// The MQTT client's callback only parks messages on a queue; the worker
// drains it, runs up to config.max_batch_events events through Ingest in one
// transaction, commits, and only then publishes the acks (ingest.h says
// why that keeps exactly-once). Requests are answered by the same worker
// after the journals that arrived before them, so a status answer never
// lags behind an ack already sent.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>

#include "fog_impl.h"
#include "storenode/common/fault.h"
#include "storenode/common/topics.h"

namespace storenode::fog {

Result<std::unique_ptr<Fog>> Fog::Open(const Config& config, Env env) {
  auto impl = std::make_unique<Impl>(config, env);
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  // LoadConfig checked that it could be made; failing now is still the
  // operator's to fix (exit 2), not a runtime failure.
  if (ec) {
    return Status::Precondition("cannot create data dir " + config.data_dir + ": " + ec.message());
  }
  sql::OpenOptions options;
  options.sync = sql::Sync::kFull;
  // Stored events are ~480 bytes: 8 KiB pages keep several per page in the
  // WITHOUT ROWID events table (tools/bench sync).
  options.page_size = 8192;
  options.vfs = env.sqlite_vfs;
  SN_ASSIGN_OR_RETURN(impl->db, sql::Db::Open(config.data_dir + "/fog.db", options));
  SN_RETURN_IF_ERROR(sql::Migrate(*impl->db, "fog.db", kFogMigrations).status());
  impl->ingest = std::make_unique<Ingest>(*impl->db, impl->config, impl->clock);
  SN_RETURN_IF_ERROR(impl->ingest->Load());
  SN_RETURN_IF_ERROR(impl->LoadCloseDowns());
  impl->forwarder =
      std::make_unique<Forwarder>(*impl->db, impl->config, impl->clock, impl->fog_key.public_key(),
                                  impl->connect_ledger);
  SN_RETURN_IF_ERROR(impl->forwarder->Load());
  impl->catalog = std::make_unique<Catalog>(*impl->db, impl->config, impl->clock);
  SN_RETURN_IF_ERROR(impl->catalog->Load());
  return std::unique_ptr<Fog>(new Fog(std::move(impl)));
}

Fog::Fog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Fog::~Fog() { Stop(); }

mqtt::Message Fog::Impl::FogStatusMessage(bool online) const {
  v1::FogStatus s;
  s.set_online(online);
  s.set_store_id(config.store_id);
  s.set_software_version(STORENODE_VERSION);
  s.set_time_us(clock.NowMicros());
  mqtt::Message m;
  m.topic = topics::FogStatus(config.store_id);
  m.payload = s.SerializeAsString();
  m.retained = true;
  return m;
}

Status Fog::Start() {
  Impl& f = *impl_;
  if (f.config.broker.insecure && f.config.broker.uri.starts_with("tcp://")) {
    spdlog::warn(
        "broker connection is plain TCP (broker.insecure = true): journals travel "
        "unencrypted");
  }
  mqtt::Options o = ToMqttOptions(f.config.broker);
  o.will = f.FogStatusMessage(false);
  o.max_payload_bytes = f.config.max_message_bytes;
  o.max_packet_bytes = kMaxPacketBytes;
  f.client = f.connect_store(o);
  f.client->OnMessage([&f](const mqtt::Message& m) { f.Enqueue(m); });
  f.client->OnOversized([&f](const mqtt::Oversized& m) {
    {
      std::lock_guard lock(f.mu);
      f.oversized.push_back(m);
    }
    f.cv.notify_one();
  });
  f.client->OnConnected([&f] {
    spdlog::info("connected to broker {}", f.config.broker.uri);
    f.just_connected = true;
    f.cv.notify_one();
  });
  f.client->OnDisconnected(
      [](const std::string& cause) { spdlog::warn("broker connection lost: {}", cause); });
  const std::string& store = f.config.store_id;
  for (const char* leaf : {"journal", "status", "catalog_req"}) {
    SN_RETURN_IF_ERROR(f.client->Subscribe(topics::AllDevices(store, leaf), 1));
  }
  SN_RETURN_IF_ERROR(f.client->Subscribe(topics::AllFogRequests(store), 1));
  f.worker = std::thread([&f] { f.Run(); });
  f.client->Start();
  f.forwarder->Start([&f](const mqtt::Message& m) { f.Enqueue(m); },
                     [&f](const v1::SignedZ& z) { return f.RestoreZ(z); });
  if (f.config.console.enabled) {
    f.console = std::make_unique<Console>(f);
    SN_RETURN_IF_ERROR(f.console->Start());
  }
  spdlog::info("fog for store {} started, data in {}", store, f.config.data_dir);
  return Status::Ok();
}

void Fog::Stop() {
  Impl& f = *impl_;
  // First the console: its requests in flight still need the worker.
  if (f.console) f.console->Stop();
  {
    std::lock_guard lock(f.mu);
    if (f.stopping) return;
    f.stopping = true;
  }
  f.cv.notify_one();
  if (f.worker.joinable()) f.worker.join();
  f.forwarder->Stop();
  if (f.client) {
    if (f.client->connected()) {
      (void)mqtt::PublishAndWait(*f.client, f.FogStatusMessage(false), std::chrono::seconds(1));
    }
    f.client->Stop();
  }
}

Fog::Counters Fog::counters() const {
  std::lock_guard lock(impl_->counters_mu);
  return impl_->counters;
}

void Fog::Impl::Enqueue(const mqtt::Message& m) {
  {
    std::lock_guard lock(mu);
    queue.push_back(m);
  }
  cv.notify_one();
}

Status Fog::Impl::RunOnWorker(std::function<void()> task, std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  {
    std::lock_guard lock(mu);
    if (stopping) return Status::Unavailable("the fog is stopping");
    tasks.push_back([task = std::move(task), done] {
      task();
      done->set_value();
    });
  }
  cv.notify_one();
  if (finished.wait_for(timeout) != std::future_status::ready) {
    return Status::Unavailable("the fog is busy: no answer within " +
                               std::to_string(timeout.count()) + " ms");
  }
  try {
    finished.get();
  } catch (const std::future_error&) {  // dropped unrun at shutdown
    return Status::Unavailable("the fog is stopping");
  }
  return Status::Ok();
}

void Fog::Impl::Publish(mqtt::Message m) {
  Status s = client->Publish(m);
  if (s.code() == Code::kUnavailable && client->connected() && unsent.size() < 100000) {
    unsent.push_back(std::move(m));
  }
}

void Fog::Impl::FlushUnsent() {
  while (!unsent.empty()) {
    if (!client->Publish(unsent.front()).ok()) {
      if (!client->connected()) unsent.clear();
      return;
    }
    unsent.pop_front();
  }
}

void Fog::Impl::Run() {
  // A slice of signature checks (ingest.h, invariant 7) delays the next
  // batch by at most this much.
  constexpr int64_t kVerifySliceUs = 3000;
  bool verifying = true;
  bool dropped_while_recovering = false;
  while (true) {
    std::vector<mqtt::Message> batch;
    std::vector<mqtt::Oversized> too_big;
    std::deque<std::function<void()>> calls;
    {
      std::unique_lock lock(mu);
      // Unchecked signatures are checked while nothing else waits.
      cv.wait_for(lock, std::chrono::milliseconds(verifying ? 0 : 50), [&] {
        return stopping || !queue.empty() || !oversized.empty() || !tasks.empty() || just_connected;
      });
      if (stopping && queue.empty() && oversized.empty() && tasks.empty()) break;
      batch.assign(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()));
      queue.clear();
      too_big.assign(std::make_move_iterator(oversized.begin()),
                     std::make_move_iterator(oversized.end()));
      oversized.clear();
      calls.swap(tasks);
    }
    if (just_connected.exchange(false)) {
      ingest->AnnounceWatermarks();
      greeted.clear();  // the broker may have lost every retained message
      Reassert();
    } else if (clock.NowMicros() - last_reassert_us >= int64_t{config.reassert_ms} * 1000) {
      Reassert();
    }
    // A till that connects gets every seal it owes, whatever the broker kept.
    auto greet = [this](const std::string& till) {
      if (greeted.insert(till).second) SendOwedSeals(till);
    };
    std::vector<mqtt::Message> journals, requests;
    std::vector<std::pair<std::string, std::string>> fetches;
    for (mqtt::Message& m : batch) {
      auto t = topics::ParseDevice(config.store_id, m.topic);
      if (t && t->leaf == "journal") {
        greet(t->device);
        journals.push_back(std::move(m));
      } else if (t && t->leaf == "status") {
        v1::DeviceStatus s;
        if (s.ParseFromString(m.payload)) {
          ingest->OnTillStatus(t->device, s);
          if (s.online()) {
            greet(t->device);
          } else {
            greeted.erase(t->device);
          }
          tills[t->device] = TillSeen{s, clock.NowMicros()};
        } else {
          spdlog::warn("ignored unparsable status from {}", t->device);
        }
      } else if (t && t->leaf == "catalog_req") {
        fetches.emplace_back(t->device, std::move(m.payload));
      } else if (topics::ParseFogRequest(config.store_id, m.topic)) {
        requests.push_back(std::move(m));
      } else if (forwarder->IsAnswer(m)) {
        forwarder->OnAnswer(m);
      }
    }
    QuarantineOversized(too_big);
    if (forwarder->recovering()) {
      // forwarder.h, invariant 6: nothing is booked before the ledger's Zs
      // are back, or an event could land in a part a recovered Z already
      // closed. The tills keep their journals and are asked again below.
      if (!journals.empty() && !dropped_while_recovering) {
        spdlog::warn("journals are not stored until the ledger's Zs are recovered");
      }
      dropped_while_recovering = dropped_while_recovering || !journals.empty();
      journals.clear();
    } else if (dropped_while_recovering) {
      dropped_while_recovering = false;
      ingest->AskEveryTillToResend("the ledger's Zs are recovered");
      for (const auto& [id, seen] : tills) ingest->OnTillStatus(id, seen.status);
    }
    ProcessJournals(journals);
    // After the journals: a new till's first fetch may follow its genesis.
    ServeCatalogFetches(fetches);
    for (const mqtt::Message& m : requests) HandleRequest(m);
    // Like fog/req: after the journals that came before them.
    for (auto& call : calls) call();
    PollCloseDowns();
    forwarder->Poll();
    ingest->CheckGaps();
    for (mqtt::Message& m : ingest->TakeOutgoing()) Publish(std::move(m));
    if (batch.empty() && calls.empty()) {
      auto more = ingest->VerifySome(kVerifySliceUs);
      if (!more.ok()) spdlog::error("checking stored signatures: {}", more.status().ToString());
      verifying = more.ok() && *more;
      for (mqtt::Message& m : ingest->TakeOutgoing()) Publish(std::move(m));
    }
    FlushUnsent();
    std::lock_guard lock(counters_mu);
    counters = ingest->counters();
  }
}

void Fog::Impl::Reassert() {
  last_reassert_us = clock.NowMicros();
  Publish(FogStatusMessage(true));
  if (auto manifest = catalog->Manifest()) Publish(std::move(*manifest));
  for (const std::string& till : ExpectedTills()) SendOwedSeals(till);
}

void Fog::Impl::QuarantineOversized(const std::vector<mqtt::Oversized>& messages) {
  if (messages.empty()) return;
  sql::Transaction txn(*db);
  Status s = txn.begin_status();
  for (size_t i = 0; s.ok() && i < messages.size(); ++i) {
    auto t = topics::ParseDevice(config.store_id, messages[i].topic);
    s = ingest->QuarantineOversized(t ? t->device : std::string(), messages[i]);
  }
  if (s.ok()) s = txn.Commit();
  if (s.ok()) {
    ingest->Committed();
  } else {
    spdlog::error("quarantine of {} oversized messages failed: {}", messages.size(), s.ToString());
    ingest->Aborted();
  }
}

void Fog::Impl::ProcessJournals(std::vector<mqtt::Message>& journals) {
  size_t i = 0;
  while (i < journals.size()) {
    sql::Transaction txn(*db);
    Status s = txn.begin_status();
    size_t start = i;
    while (s.ok() && i < journals.size() &&
           ingest->events_in_txn() < static_cast<uint64_t>(config.max_batch_events)) {
      s = ingest->HandleJournal(journals[i++]);
    }
    if (s.ok()) s = ingest->Flush();
    const bool storing = s.ok() && ingest->stored_in_txn() > 0;
    if (s.ok()) s = txn.Commit();
    if (s.ok()) {
      // Tests: events are committed and the acks below are lost. Only a
      // commit that stored events counts (not one of a held gap alone).
      if (storing) CrashPoint("ingest-after-commit");
      ingest->Committed();
      // Ack now, not after the whole queue: the tills refill their window
      // while the next transaction runs.
      for (mqtt::Message& m : ingest->TakeOutgoing()) Publish(std::move(m));
    } else {
      // Nothing of these messages was acked; the tills will send them again.
      spdlog::error("ingest transaction of {} messages failed: {}", i - start, s.ToString());
      ingest->Aborted();
    }
  }
}

}  // namespace storenode::fog
