// The fog daemon: MQTT in, one worker thread, MQTT out. It keeps only the
// queue, the worker, topic routing and the wiring of the components, each
// of which owns its tables (store.h, "Ownership"):
//   Trust         the till registry: pinned keys, revocations (trust.h)
//   Ingest        the tills' journals, their events and what was refused
//                 (ingest.h), with the read models it books (read_models.h)
//   ActionJournal the signed record of manager actions (action_journal.h)
//   CloseDown     close-down requests, Zs and supplements, fog.key
//                 (closedown.h)
//   Forwarder     Zs to the cloud ledger, through the close-down's
//                 LedgerOutbox (forwarder.h)
//   Catalog       the catalog master and its distribution (catalog.h)
//   HeadOffice    head office's signed releases, applied to the catalog
//                 and the store settings (head_office.h)
//   SettingsIssuer  the store settings, issued to the tills (settings.h)
//   Stock         stock on hand, on order, counts (stock.h); sales and
//                 refunds are booked by the read models
//   ReorderJob    reorder suggestions, forecast in the background on its
//                 own thread and read-only connection (reorder.h)
//   Reports       reports from the read models and Zs (reports.h)
//   Requests      fog/req and catalog fetches, across them (requests.h)
//   Console       HTTP, seeing the daemon only as a ConsoleBackend
//                 (console.h; metrics.h formats its /metrics)
//
// Failure policy. Every piece of state has a source that outlives a failure
// (the tills' journals, fog.db, the ledger), so the fog's one answer to a
// failure is to drop what is in flight and do it again from that source;
// it never guesses, and it keeps serving what still works.
//  - A commit fails (I/O error, full disk, power cut): the transaction rolls
//    back, the components forget what they staged (Ingest::Aborted; the
//    close-down keeps its day waiting), and nothing is acked or announced.
//    The tills resend from their watermark and the next poll builds the Z
//    again with the same number (MAX + 1 read inside the transaction). The
//    fog keeps running: a full disk is the operator's to fix, and stopping
//    would only cut off every till.
//  - The ledger fails (its broker is away, it refuses, or its answer does
//    not verify): the Z stays in the outbox and is resent with backoff; a
//    bad answer is an alert, never a receipt. The store keeps selling and
//    closing its days; only the ledger backlog grows (status, /metrics).
//  - The store broker goes: the client reconnects forever with backoff. On
//    every reconnect the fog announces every watermark and publishes again
//    everything it keeps retained (its status, owed seal commands, the
//    catalog manifest, the store settings), since a broker may lose retained messages; publishes
//    refused while the client was busy wait in a bounded queue, and those
//    lost with the connection are made again from fog.db.
//
// Under systemd (Type=notify, common/service.h): READY once fog.db is open
// and the store broker connected the first time (a broker outage later
// makes the fog unready on /readyz, never un-READY); the watchdog is fed by
// the worker on every turn of Run() (at least every 50 ms), so a worker
// wedged in a call stops feeding it and systemd restarts the daemon.
// The same turn marks the time /healthz's worker check reads
// (console.h, "Health"); its write check runs on the worker like any task.
//
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "action_journal.h"
#include "catalog.h"
#include "closedown.h"
#include "console.h"
#include "forwarder.h"
#include "head_office.h"
#include "histogram.h"
#include "ingest.h"
#include "metrics.h"
#include "reorder.h"
#include "reports.h"
#include "requests.h"
#include "settings.h"
#include "stock.h"
#include "storenode/common/fault.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/service.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/topics.h"
#include "storenode/common/x509.h"
#include "storenode/fog/fog.h"
#include "trust.h"

namespace storenode::fog {

class Fog::Impl : public ConsoleBackend {
 public:
  Impl(const Config& c, const Env& env)
      : config(c),
        clock(env.clock ? *env.clock : *SystemClock::Default()),
        connect_store(env.store_broker ? env.store_broker : mqtt::PahoConnector()),
        connect_ledger(env.ledger_broker ? env.ledger_broker : mqtt::PahoConnector()) {}

  Status Open(const Env& env);

  Config config;
  const Clock& clock;
  const mqtt::Connector connect_store, connect_ledger;  // Env, resolved
  // The components, in the order they are made (each may use the ones
  // before it) and destroyed in reverse.
  std::unique_ptr<sql::Db> db;
  crypto::SigningKey fog_key;  // loaded by the close-down's LoadFogKey
  std::unique_ptr<Trust> trust;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<ActionJournal> actions;
  std::unique_ptr<CloseDown> closedown;
  std::unique_ptr<Forwarder> forwarder;      // to the cloud ledger
  std::unique_ptr<Catalog> catalog;          // the catalog master
  std::unique_ptr<HeadOffice> head_office;   // head office's releases
  std::unique_ptr<SettingsIssuer> settings;  // the store settings the tills get
  std::unique_ptr<Reports> reports;
  std::unique_ptr<Stock> stock;
  std::unique_ptr<ReorderJob> reorder;
  std::unique_ptr<Requests> requests;
  std::unique_ptr<mqtt::Transport> client;

  // Messages from the MQTT thread to the worker.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<mqtt::Message> queue;
  std::deque<mqtt::Oversized> oversized;  // over config.max_message_bytes
  bool stopping = false;
  std::thread worker;
  std::atomic<bool> just_connected{false};
  // Work from other threads (the console) for the worker, under mu.
  std::deque<std::function<void()>> tasks;
  std::unique_ptr<Console> console;

  // Worker thread only.
  std::deque<mqtt::Message> unsent;  // publishes refused while the client was busy
  int64_t last_reassert_us = 0;
  std::set<std::string> greeted;  // tills sent their owed seal commands since they connected
  // Journals were dropped while the ledger's Zs were recovered (forwarder.h,
  // invariant 6): every till is asked to resend once it is done.
  bool dropped_while_recovering = false;
  // The settings version whose zone ingest books hours in.
  uint64_t zoned_settings_version = 0;
  // Close-downs seen: a new one starts a reorder run (reorder.h, NOTES 3).
  uint64_t closedowns_seen = 0;

  mutable std::mutex counters_mu;
  Fog::Counters counters;
  Histogram ingest_commit_seconds{kCommitBounds};
  // When the worker last turned its loop (steady clock, us).
  std::atomic<int64_t> last_turn_us{SteadyMicros()};
  // The newest write check and whether one waits on the worker, under
  // health_mu; the check itself writes only fog.db.
  std::mutex health_mu;
  Status write_checked = Status::Unavailable("not checked yet");
  int64_t write_checked_us = 0;
  bool write_check_queued = false;

  static int64_t SteadyMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Health checks (console.h, "Health"); WriteCheck on the worker.
  Status WriteCheck();
  Status DiskCheck() const;
  Status WorkerCheck() const;

  void Enqueue(const mqtt::Message& m);
  // Runs `task` on the worker, which owns fog.db, and waits up to `timeout`
  // for it. Unavailable if the fog stops first or the wait runs out; the
  // task may then still run later, so it must own what it touches.
  Status RunOnWorker(std::function<void()> task, std::chrono::milliseconds timeout);
  void Run();
  // Routes one drained batch of messages, in arrival order by kind.
  void Route(std::vector<mqtt::Message>& batch);
  void ProcessJournals(std::vector<mqtt::Message>& journals);
  // Quarantines messages too large to receive, in one transaction.
  void QuarantineOversized(const std::vector<mqtt::Oversized>& messages);
  void Publish(mqtt::Message m);
  // Publishes what the components queued.
  void PublishOutgoing();
  void FlushUnsent();
  mqtt::Message FogStatusMessage(bool online) const;
  // Publishes again everything the fog keeps retained on the broker.
  void Reassert();

  // ConsoleBackend, from the console's threads.
  Result<v1::FogResponse> Answer(const v1::FogRequest& request, const std::string& actor,
                                 std::chrono::milliseconds timeout) override;
  Result<MetricsSample> Sample(std::chrono::milliseconds timeout) override;
  Result<v1::StoreSettings> SettingsInForce(std::chrono::milliseconds timeout) override;
  Health CheckHealth(std::chrono::milliseconds timeout) override;
};

Result<std::unique_ptr<Fog>> Fog::Open(const Config& config, Env env) {
  auto impl = std::make_unique<Impl>(config, env);
  SN_RETURN_IF_ERROR(impl->Open(env));
  return std::unique_ptr<Fog>(new Fog(std::move(impl)));
}

Status Fog::Impl::Open(const Env& env) {
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
  SN_ASSIGN_OR_RETURN(db, sql::Db::Open(config.data_dir + "/fog.db", options));
  SN_RETURN_IF_ERROR(sql::Migrate(*db, "fog.db", kFogMigrations).status());
  trust = std::make_unique<Trust>(config);
  SN_RETURN_IF_ERROR(trust->Load());
  ingest = std::make_unique<Ingest>(*db, config, clock, *trust);
  SN_RETURN_IF_ERROR(ingest->Load());
  SN_ASSIGN_OR_RETURN(fog_key, LoadFogKey(*db, config.data_dir));
  actions = std::make_unique<ActionJournal>(*db, clock, config.store_id, fog_key);
  settings = std::make_unique<SettingsIssuer>(*db, config, clock, *actions, fog_key);
  SN_RETURN_IF_ERROR(settings->Load());
  ingest->SetEventCheck([this](const DecodedEvent& e) {
    std::string why = settings->CheckEvent(e);
    return why.empty() && catalog ? catalog->CheckEvent(e) : why;
  });
  ingest->SetZone(settings->calendar().zone());
  closedown = std::make_unique<CloseDown>(*db, config, clock, fog_key, *ingest, *trust, *actions,
                                          [this] { return forwarder->recovering(); });
  closedown->SetSettings(settings.get());
  SN_RETURN_IF_ERROR(closedown->Load());
  forwarder = std::make_unique<Forwarder>(*db, config, clock, fog_key.public_key(), *closedown,
                                          connect_ledger);
  SN_RETURN_IF_ERROR(forwarder->Load());
  catalog = std::make_unique<Catalog>(*db, config, clock, *actions, *settings);
  SN_RETURN_IF_ERROR(catalog->Load());
  head_office = std::make_unique<HeadOffice>(*db, config, clock, *catalog, *settings);
  SN_RETURN_IF_ERROR(head_office->Load());
  reports = std::make_unique<Reports>(*db, config.store_id, *closedown, *settings, *catalog, clock);
  stock = std::make_unique<Stock>(*db, clock, *actions, *settings);
  if (config.stock.reorder) {
    reorder = std::make_unique<ReorderJob>(
        config.data_dir + "/fog.db", config.stock, clock,
        [this] {
          auto day = std::make_shared<std::string>();
          (void)RunOnWorker([this, day] { *day = reports->Today(); }, std::chrono::minutes(1));
          return *day;
        },
        [this](std::function<void(sql::Db&)> write) {
          return RunOnWorker([this, write] { write(*db); }, std::chrono::minutes(10)).ok();
        });
  }
  requests = std::make_unique<Requests>(
      config, clock,
      Requests::Components{*db, *trust, *ingest, *closedown, *reports, *catalog, *forwarder,
                           *settings, *stock, reorder.get()});
  return Status::Ok();
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
  f.closedowns_seen = f.closedown->Durations().count();
  f.worker = std::thread([&f] { f.Run(); });
  if (f.reorder) {
    f.reorder->Start();
    f.reorder->Trigger();  // reorder.h, NOTES 3: at start-up
  }
  f.client->Start();
  f.forwarder->Start([&f](const mqtt::Message& m) { f.Enqueue(m); });
  if (f.config.console.enabled) {
    f.console = std::make_unique<Console>(f.config.console, f.clock, f, f.config.store);
    SN_RETURN_IF_ERROR(f.console->Start());
  }
  spdlog::info("fog for store {} started, data in {}", store, f.config.data_dir);
  return Status::Ok();
}

void Fog::Stop() {
  Impl& f = *impl_;
  // First the console and the reorder job: their work in flight still
  // needs the worker.
  if (f.console) f.console->Stop();
  if (f.reorder) f.reorder->Stop();
  {
    std::lock_guard lock(f.mu);
    if (f.stopping) return;
    f.stopping = true;
  }
  service::NotifyStopping();
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
  bool ready = false;
  while (true) {
    service::FeedWatchdog();
    last_turn_us = SteadyMicros();
    StallPoint("worker-turn");  // tests: a wedged worker
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
      if (!ready) {
        ready = true;
        service::NotifyReady("store " + config.store_id + ": connected to " + config.broker.uri);
      }
      ingest->AnnounceWatermarks();
      greeted.clear();  // the broker may have lost every retained message
      Reassert();
    } else if (clock.NowMicros() - last_reassert_us >= int64_t{config.reassert_ms} * 1000) {
      Reassert();
    }
    QuarantineOversized(too_big);
    Route(batch);
    // Like fog/req: after the journals that came before them.
    for (auto& call : calls) call();
    closedown->Poll();
    if (const uint64_t closed = closedown->Durations().count(); closed != closedowns_seen) {
      closedowns_seen = closed;
      if (reorder) reorder->Trigger();
    }
    forwarder->Poll();
    head_office->Poll();
    if (settings->current().version() != zoned_settings_version) {
      // A settings release may have moved the store's zone: the hours follow.
      zoned_settings_version = settings->current().version();
      ingest->SetZone(settings->calendar().zone());
    }
    ingest->CheckGaps();
    PublishOutgoing();
    if (batch.empty() && calls.empty()) {
      auto more = ingest->VerifySome(kVerifySliceUs);
      if (!more.ok()) spdlog::error("checking stored signatures: {}", more.status().ToString());
      verifying = more.ok() && *more;
      PublishOutgoing();
    }
    FlushUnsent();
    std::lock_guard lock(counters_mu);
    counters = ingest->counters();
  }
}

void Fog::Impl::Route(std::vector<mqtt::Message>& batch) {
  // A till that connects gets every seal it owes, whatever the broker kept.
  auto greet = [this](const std::string& till) {
    if (greeted.insert(till).second) closedown->SendOwedSeals(till);
  };
  std::vector<mqtt::Message> journals, fog_requests;
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
        requests->OnTillStatus(t->device, s);
      } else {
        spdlog::warn("ignored unparsable status from {}", t->device);
      }
    } else if (t && t->leaf == "catalog_req") {
      fetches.emplace_back(t->device, std::move(m.payload));
    } else if (topics::ParseFogRequest(config.store_id, m.topic)) {
      fog_requests.push_back(std::move(m));
    } else if (forwarder->IsAnswer(m)) {
      forwarder->OnAnswer(m);
    } else if (HeadOffice::IsRelease(m)) {
      head_office->OnRelease(m);
    }
  }
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
    for (const auto& [id, seen] : requests->tills()) ingest->OnTillStatus(id, seen.status);
  }
  ProcessJournals(journals);
  // After the journals: a new till's first fetch may follow its genesis.
  requests->ServeCatalogFetches(fetches);
  for (const mqtt::Message& m : fog_requests) requests->Handle(m);
}

void Fog::Impl::PublishOutgoing() {
  for (mqtt::Message& m : ingest->TakeOutgoing()) Publish(std::move(m));
  for (mqtt::Message& m : closedown->TakeOutgoing()) Publish(std::move(m));
  for (mqtt::Message& m : requests->TakeOutgoing()) Publish(std::move(m));
  for (mqtt::Message& m : head_office->TakeOutgoing()) Publish(std::move(m));
}

Result<v1::FogResponse> Fog::Impl::Answer(const v1::FogRequest& request, const std::string& actor,
                                          std::chrono::milliseconds timeout) {
  auto response = std::make_shared<v1::FogResponse>();
  SN_RETURN_IF_ERROR(RunOnWorker(
      [this, request, actor, response] { *response = requests->Answer(request, actor); }, timeout));
  return *response;
}

Result<v1::StoreSettings> Fog::Impl::SettingsInForce(std::chrono::milliseconds timeout) {
  auto now = std::make_shared<v1::StoreSettings>();
  SN_RETURN_IF_ERROR(RunOnWorker([this, now] { *now = settings->current(); }, timeout));
  return *now;
}

Result<MetricsSample> Fog::Impl::Sample(std::chrono::milliseconds timeout) {
  auto sample = std::make_shared<Result<MetricsSample>>(Status::Unavailable("not sampled"));
  SN_RETURN_IF_ERROR(RunOnWorker(
      [this, sample] {
        *sample = [&]() -> Result<MetricsSample> {
          MetricsSample m;
          SN_ASSIGN_OR_RETURN(m.status, requests->StoreStatus());
          m.counters = ingest->counters();
          m.now_us = clock.NowMicros();
          m.requests_refused = requests->refused();
          return m;
        }();
      },
      timeout));
  if (!sample->ok()) return std::move(*sample);
  // The rest needs no fog.db: read here, off the worker.
  MetricsSample& m = **sample;
  m.broker_connected = client && client->connected();
  m.ingest_commit_seconds = ingest_commit_seconds.Read();
  m.closedown_seconds = closedown->Durations();
  m.process = ReadProcessFigures();
  std::error_code ec;
  for (const char* file : {"/fog.db", "/fog.db-wal"}) {
    const auto bytes = std::filesystem::file_size(config.data_dir + file, ec);
    if (!ec) m.database_bytes += bytes;
  }
  if (struct statvfs fs; statvfs(config.data_dir.c_str(), &fs) == 0) {
    m.disk_free_bytes = uint64_t{fs.f_bavail} * fs.f_frsize;
  }
  for (const auto& [key, file] : {std::pair{"broker.ca_file", &config.broker.ca_file},
                                  {"broker.cert_file", &config.broker.cert_file},
                                  {"ledger.ca_file", &config.ledger.link.ca_file},
                                  {"ledger.cert_file", &config.ledger.link.cert_file}}) {
    if (file->empty()) continue;
    auto not_after = x509::NotAfterOfFile(*file);
    if (not_after.ok()) {
      m.certificates.push_back({key, *file, *not_after});
    } else {
      spdlog::warn("metrics: {}: {}", key, not_after.status().ToString());
    }
  }
  return std::move(*sample);
}

Status Fog::Impl::WriteCheck() {
  // A row of the counters table the health check owns (store.h), written
  // and committed like any transaction: sync kFull fsyncs the WAL.
  sql::Transaction txn(*db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt put, db->Prepare("INSERT INTO counters(name, value) "
                                                 "VALUES('health_checked_us', ?) ON CONFLICT(name) "
                                                 "DO UPDATE SET value = excluded.value"));
  put.Bind(1, clock.NowMicros());
  SN_RETURN_IF_ERROR(put.Run());
  return txn.Commit();
}

Status Fog::Impl::DiskCheck() const {
  struct statvfs fs;
  if (statvfs(config.data_dir.c_str(), &fs) != 0) {
    return Status::Io("cannot stat " + config.data_dir + ": " + std::strerror(errno));
  }
  const uint64_t free_mib = uint64_t{fs.f_bavail} * fs.f_frsize / (1024 * 1024);
  if (free_mib < static_cast<uint64_t>(config.health.min_free_mib)) {
    return Status::Unavailable(
        std::to_string(free_mib) + " MiB free in " + config.data_dir +
        ", under health.min_free_mib = " + std::to_string(config.health.min_free_mib));
  }
  return Status::Ok();
}

Status Fog::Impl::WorkerCheck() const {
  const int64_t idle_s = (SteadyMicros() - last_turn_us) / 1'000'000;
  if (idle_s < config.health.worker_stall_s) return Status::Ok();
  return Status::Unavailable(
      "no turn of its loop for " + std::to_string(idle_s) +
      " s (health.worker_stall_s = " + std::to_string(config.health.worker_stall_s) + ")");
}

ConsoleBackend::Health Fog::Impl::CheckHealth(std::chrono::milliseconds timeout) {
  Health h;
  h.worker = WorkerCheck();
  h.disk = DiskCheck();
  h.broker_connected = client && client->connected();
  // At most one write check a second, and one queued at a time: a wedged
  // worker must not collect a queue of them.
  bool run = false;
  {
    std::lock_guard lock(health_mu);
    run = !write_check_queued && SteadyMicros() - write_checked_us >= 1'000'000;
    write_check_queued = write_check_queued || run;
  }
  if (run) {
    // On a timeout the check stays queued and reports when it runs.
    (void)RunOnWorker(
        [this] {
          Status s = WriteCheck();
          std::lock_guard lock(health_mu);
          write_checked = s;
          write_checked_us = SteadyMicros();
          write_check_queued = false;
        },
        timeout);
  }
  std::lock_guard lock(health_mu);
  h.write = write_checked;
  return h;
}

void Fog::Impl::Reassert() {
  last_reassert_us = clock.NowMicros();
  Publish(FogStatusMessage(true));
  if (auto manifest = catalog->Manifest()) Publish(std::move(*manifest));
  Publish(settings->Retained());
  closedown->ReassertSeals();
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
    if (s.ok()) {
      const int64_t start_us = SteadyMicros();
      s = txn.Commit();
      if (s.ok())
        ingest_commit_seconds.Observe(static_cast<double>(SteadyMicros() - start_us) / 1e6);
    }
    if (s.ok()) {
      // Tests: events are committed and the acks below are lost. Only a
      // commit that stored events counts (not one of a held gap alone).
      if (storing) CrashPoint("ingest-after-commit");
      ingest->Committed();
      // Ack now, not after the whole queue: the tills refill their window
      // while the next transaction runs.
      PublishOutgoing();
    } else {
      // Nothing of these messages was acked; the tills will send them again.
      spdlog::error("ingest transaction of {} messages failed: {}", i - start, s.ToString());
      ingest->Aborted();
    }
  }
}

}  // namespace storenode::fog
