// The edge sync engine: NOTES ON THE DESIGN
//
// Promise: every event in the journal reaches the fog and is stored there
// exactly once in effect, whatever is lost, duplicated or reordered on the
// way, and whoever restarts.
//
// Invariants:
//  1. The journal is the only outbox. MQTT sessions are clean and Paho keeps
//     nothing; anything lost in flight is re-read from the journal.
//  2. next_ (the next seq to publish) only moves forward by what was
//     published, and moves back to acked_ + 1 on: (re)connect, the fog
//     coming online, an ack asking for a resend or going backwards (a fog
//     rebuilt from empty), and ack_timeout_ms without progress.
//  3. acked_ is whatever the fog last said for this journal: the fog's
//     watermark is authoritative. It is persisted (at most once a second) so
//     that pruning never deletes an event the fog has not stored.
//  4. At most max_inflight_batches publishes are unconfirmed and at most
//     window_events events are beyond the watermark.
//
// The catalog replica rides on the same connection: the fog's retained
// manifest names its version; when the replica's differs the engine sends a
// CatalogFetch (again after catalog_fetch_timeout_ms without a chunk),
// collects the answer's chunks and applies the payload on its own thread
// (CatalogReplica::Apply: hash checked, one transaction). A failed apply
// asks again, for a snapshot when the content did not match.
//
// The store settings ride on it too: the fog's retained settings document
// is handed to Journal::ApplySettings (signature, store and version checked
// there) on the engine's thread; a till offline keeps the newest it has.
//
// Threads: Paho's callback thread only records what arrived (atomics and a
// small command queue) and wakes the engine's thread, which does all reading,
// publishing and journal writes (seals).
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "storenode/common/catalog.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/topics.h"
#include "storenode/edge.h"
#include "storenode/schemas/sync.pb.h"
#include "sync_access.h"

namespace storenode::edge {

using SteadyClock = std::chrono::steady_clock;

class SyncEngine::Impl {
 public:
  Impl(Journal* j, SyncOptions o) : journal(j), options(std::move(o)) {}

  Journal* journal;
  SyncOptions options;
  std::unique_ptr<mqtt::Transport> client;
  std::thread thread;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::deque<v1::DeviceCommand> commands;
  // Catalog, under mu: the fog's manifest and the chunks collected so far.
  std::optional<v1::CatalogManifest> manifest;
  catalog::Assembler chunks;
  SteadyClock::time_point last_chunk{};
  std::optional<std::string> settings;          // the fog's newest document, not yet applied
  std::optional<std::string> settings_refused;  // why the newest was dropped unread
  // Engine thread only.
  SteadyClock::time_point last_fetch{};
  uint64_t fetched_for = 0;     // the manifest version last asked about
  bool fetch_snapshot = false;  // the last apply failed: start from nothing

  // Engine thread only: refused settings documents are logged when the
  // reason changes and otherwise once a minute with a count, so a sender
  // repeating one cannot flood the POS's log.
  std::string refusal;
  SteadyClock::time_point refusal_logged{};
  uint64_t refusals_unlogged = 0;
  void LogRefusal(const std::string& reason);

  std::atomic<bool> rewind{true};
  std::atomic<bool> fog_online{false};
  std::atomic<uint64_t> acked{0};
  std::atomic<int> inflight{0};
  std::atomic<int64_t> last_progress_ns{0};

  uint64_t next = 1;  // engine thread only

  std::string Topic(std::string_view leaf) const {
    const Options& o = journal->options();
    return topics::Device(o.store_id, o.device_id, leaf);
  }
  void Wake() { cv.notify_one(); }
  void OnMessage(const mqtt::Message& m);
  void Run();
  void PublishSome();
  void PublishStatus(bool online);
  mqtt::Message StatusMessage(bool online) const;
  void RunCommands();
  void CatalogWork(SteadyClock::time_point now);
  void Housekeeping(SteadyClock::time_point now, SteadyClock::time_point* last_persist);
  static int64_t Now() { return SteadyClock::now().time_since_epoch().count(); }
};

mqtt::Message SyncEngine::Impl::StatusMessage(bool online) const {
  v1::DeviceStatus s;
  s.set_online(online);
  s.set_device_id(journal->options().device_id);
  s.set_journal_id(journal->journal_id());
  uint64_t head = journal->head_seq(), a = std::min(acked.load(), head);
  s.set_head_seq(head);
  s.set_acked_seq(a);
  s.set_backlog(head - a);
  if (head > a) s.set_oldest_unacked_us(SyncAccess::WallTimeOf(*journal, a + 1));
  s.set_catalog_version(journal->catalog().version());
  s.set_software_version(STORENODE_VERSION);
  s.set_time_us(journal->options().clock->NowMicros());
  s.set_business_day(journal->business_day());
  s.set_settings_version(journal->settings().version());
  mqtt::Message m;
  m.topic = Topic("status");
  m.payload = s.SerializeAsString();
  m.retained = true;
  return m;
}

void SyncEngine::Impl::PublishStatus(bool online) { (void)client->Publish(StatusMessage(online)); }

void SyncEngine::Impl::OnMessage(const mqtt::Message& m) {
  const Options& o = journal->options();
  if (m.topic == Topic("ack")) {
    v1::SyncAck ack;
    if (!ack.ParseFromString(m.payload)) {
      spdlog::warn("sync: ignored an ack that does not parse");
      return;
    }
    if (ack.journal_id() != journal->journal_id()) return;  // about another journal of ours
    uint64_t before = acked.exchange(ack.acked_seq());
    if (ack.resend() || ack.acked_seq() < before) rewind = true;
    if (ack.acked_seq() != before || ack.resend()) last_progress_ns = Now();
    Wake();
  } else if (m.topic == Topic("cmd")) {
    v1::DeviceCommand cmd;
    if (!cmd.ParseFromString(m.payload)) {
      spdlog::warn("sync: ignored a command that does not parse");
      return;
    }
    std::lock_guard lock(mu);
    commands.push_back(std::move(cmd));
    Wake();
  } else if (m.topic == topics::CatalogManifest(o.store_id)) {
    v1::CatalogManifest manifest;
    if (!manifest.ParseFromString(m.payload)) {
      spdlog::warn("sync: ignored a catalog manifest that does not parse");
      return;
    }
    std::lock_guard lock(mu);
    this->manifest = std::move(manifest);
    Wake();
  } else if (m.topic == topics::Settings(o.store_id)) {
    // Only the newest is kept; one over the cap is not even copied.
    std::lock_guard lock(mu);
    if (m.payload.size() > topics::kMaxSettingsBytes) {
      settings.reset();
      settings_refused = "a document of " + std::to_string(m.payload.size()) + " bytes (at most " +
                         std::to_string(topics::kMaxSettingsBytes) + ")";
    } else {
      settings = m.payload;
    }
    Wake();
  } else if (m.topic == Topic("catalog")) {
    v1::CatalogChunk chunk;
    if (!chunk.ParseFromString(m.payload)) {
      spdlog::warn("sync: ignored a catalog chunk that does not parse");
      return;
    }
    std::lock_guard lock(mu);
    chunks.Add(chunk);
    last_chunk = SteadyClock::now();
    if (chunks.complete()) Wake();
  } else if (m.topic == topics::FogStatus(o.store_id)) {
    v1::FogStatus s;
    if (!s.ParseFromString(m.payload)) return;
    bool was = fog_online.exchange(s.online());
    if (s.online() && !was) rewind = true;  // a (re)started fog: send from its watermark
    Wake();
  }
}

void SyncEngine::Impl::PublishSome() {
  uint64_t a = acked.load();
  if (rewind.exchange(false)) {
    next = a + 1;
    last_progress_ns = Now();
  }
  if (next <= a) next = a + 1;
  uint64_t head = journal->head_seq();
  // Nothing confirmed for too long: whatever was sent may be gone.
  if (next - 1 > a &&
      Now() - last_progress_ns.load() > int64_t{options.ack_timeout_ms} * 1'000'000) {
    next = a + 1;
    last_progress_ns = Now();
  }
  while (next <= head && inflight.load() < static_cast<int>(options.max_inflight_batches) &&
         next - 1 - a < options.window_events) {
    v1::JournalBatch batch;
    batch.set_schema_version(kSchemaVersion);
    uint64_t from = next;
    uint64_t anchor = SyncAccess::AnchorSeq(*journal);
    if (anchor > 0 && from <= anchor) {
      // The fog wants events this till has pruned: send genesis and the
      // anchor, then what is kept (see sync.proto).
      auto genesis = journal->ReadEvents(1, 1);
      if (!genesis.ok() || genesis->empty()) return;
      *batch.add_events() = (*genesis)[0];
      crypto::Hash h = SyncAccess::AnchorHash(*journal);
      batch.set_anchor_seq(anchor);
      batch.set_anchor_hash(h.data(), h.size());
      from = anchor + 1;
    }
    auto events = journal->ReadEvents(from, options.batch_events);
    if (!events.ok()) {
      spdlog::error("sync: cannot read the journal: {}", events.status().ToString());
      return;
    }
    if (events->empty()) return;
    for (auto& e : *events) *batch.add_events() = std::move(e);
    mqtt::Message m;
    m.topic = Topic("journal");
    m.payload = batch.SerializeAsString();
    uint64_t sent_to = from + events->size() - 1;
    ++inflight;
    Status s = client->Publish(m, [this](Status) {
      --inflight;
      Wake();
    });
    if (!s.ok()) {
      --inflight;
      return;
    }
    next = sent_to + 1;
  }
}

void SyncEngine::Impl::LogRefusal(const std::string& reason) {
  const auto now = SteadyClock::now();
  if (reason == refusal && now - refusal_logged < std::chrono::minutes(1)) {
    ++refusals_unlogged;
    return;
  }
  constexpr size_t kMaxReason = 300;  // a reason may quote the document
  spdlog::error("sync: store settings not applied: {}{}", reason.substr(0, kMaxReason),
                refusals_unlogged == 0
                    ? ""
                    : " (" + std::to_string(refusals_unlogged) + " more refused since)");
  refusal = reason;
  refusal_logged = now;
  refusals_unlogged = 0;
}

void SyncEngine::Impl::RunCommands() {
  std::deque<v1::DeviceCommand> todo;
  std::optional<std::string> doc, refused;
  {
    std::lock_guard lock(mu);
    todo.swap(commands);
    doc.swap(settings);
    refused.swap(settings_refused);
  }
  if (refused) LogRefusal(*refused);
  if (doc) {
    uint64_t before = journal->settings().version();
    Status s = journal->ApplySettings(*doc);
    if (!s.ok()) {
      LogRefusal(s.ToString());
    } else if (journal->settings().version() != before) {
      spdlog::info("sync: store settings version {} applied", journal->settings().version());
      if (client->connected()) PublishStatus(true);
    }
  }
  for (const v1::DeviceCommand& cmd : todo) {
    if (cmd.has_seal_day()) {
      auto r = journal->SealDaysUpTo(cmd.seal_day().day(), "fog");
      if (r.ok()) {
        spdlog::debug("sync: business days up to {} sealed", cmd.seal_day().day());
      } else {
        spdlog::error("sync: cannot seal {}: {}", cmd.seal_day().day(), r.status().ToString());
      }
    }
  }
}

void SyncEngine::Impl::CatalogWork(SteadyClock::time_point now) {
  CatalogReplica& replica = journal->catalog();
  std::optional<catalog::Assembler> payload;
  std::optional<v1::CatalogManifest> want;
  SteadyClock::time_point last_chunk_at;
  {
    std::lock_guard lock(mu);
    if (chunks.complete()) {
      payload.emplace(std::move(chunks));
      chunks.Clear();
    }
    want = manifest;
    last_chunk_at = last_chunk;
  }
  if (payload && payload->to_version() != replica.version()) {
    Status s = SyncAccess::Apply(replica, *payload);
    if (s.ok()) {
      spdlog::info("sync: catalog version {} applied ({} items)", replica.version(),
                   replica.item_count());
      fetch_snapshot = false;
      if (client->connected()) PublishStatus(true);
    } else {
      spdlog::error("sync: catalog version {} not applied: {}", payload->to_version(),
                    s.ToString());
      fetch_snapshot = s.code() == Code::kCorruption;
      fetched_for = 0;  // ask again now
    }
  }
  if (!want || !client->connected()) return;
  if (want->version() == replica.version() && want->content_hash() == replica.content_hash()) {
    return;
  }
  // A new manifest is asked about at once; the same one again only when
  // its answer stalled.
  auto quiet = std::chrono::milliseconds(options.catalog_fetch_timeout_ms);
  if (want->version() == fetched_for && (now - last_fetch < quiet || now - last_chunk_at < quiet)) {
    return;
  }
  v1::CatalogFetch fetch;
  fetch.set_device_id(journal->options().device_id);
  if (!fetch_snapshot) {
    fetch.set_have_version(replica.version());
    fetch.set_have_content_hash(replica.content_hash());
  }
  mqtt::Message m;
  m.topic = Topic("catalog_req");
  m.payload = fetch.SerializeAsString();
  if (client->Publish(m).ok()) {
    last_fetch = now;
    fetched_for = want->version();
  }
}

void SyncEngine::Impl::Housekeeping(SteadyClock::time_point now,
                                    SteadyClock::time_point* last_persist) {
  if (now - *last_persist < std::chrono::seconds(1)) return;
  *last_persist = now;
  uint64_t a = std::min(acked.load(), journal->head_seq());
  if (a > journal->acked_seq() || a < journal->acked_seq()) {
    if (Status s = SyncAccess::SetAckedSeq(*journal, a); !s.ok()) {
      spdlog::error("sync: cannot record the acked seq: {}", s.ToString());
    }
  }
}

void SyncEngine::Impl::Run() {
  auto last_status = SteadyClock::now() - std::chrono::hours(1);
  auto last_persist = SteadyClock::now();
  auto last_prune = SteadyClock::now() - std::chrono::hours(1);
  while (true) {
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return stopping; });
      if (stopping) break;
    }
    RunCommands();
    auto now = SteadyClock::now();
    CatalogWork(now);
    if (client->connected()) {
      PublishSome();
      if (now - last_status > std::chrono::milliseconds(options.status_interval_ms)) {
        PublishStatus(true);
        last_status = now;
      }
    }
    Housekeeping(now, &last_persist);
    if (now - last_prune > std::chrono::minutes(10)) {
      last_prune = now;
      auto pruned = SyncAccess::Prune(*journal, options.retention_days);
      if (pruned.ok() && *pruned > 0) spdlog::info("sync: pruned {} acked events", *pruned);
    }
  }
}

Result<std::unique_ptr<SyncEngine>> SyncEngine::Start(Journal* journal, SyncOptions options) {
  const Options& o = journal->options();
  const BrokerLink& link = options.broker;
  bool tls = link.uri.starts_with("ssl://");
  if (!tls && !link.insecure) {
    return Status::Invalid("plain " + link.uri + " needs insecure = true");
  }
  if (!tls) spdlog::warn("sync: plain TCP to {}: journals travel unencrypted", link.uri);
  if (options.batch_events == 0 || options.max_inflight_batches == 0) {
    return Status::Invalid("batch_events and max_inflight_batches must be positive");
  }
  auto impl = std::make_unique<Impl>(journal, options);
  impl->acked = journal->acked_seq();
  impl->next = journal->acked_seq() + 1;
  mqtt::Options mo = ToMqttOptions(link);
  if (mo.client_id.empty()) mo.client_id = "sn-" + o.store_id + "-" + o.device_id;
  mo.max_inflight = static_cast<int>(options.max_inflight_batches) + 4;
  mo.will = impl->StatusMessage(false);
  const mqtt::Connector connect = options.connect ? options.connect : mqtt::PahoConnector();
  impl->client = connect(mo);
  Impl* p = impl.get();
  p->client->OnMessage([p](const mqtt::Message& m) { p->OnMessage(m); });
  p->client->OnConnected([p] {
    p->rewind = true;
    p->Wake();
  });
  SN_RETURN_IF_ERROR(p->client->Subscribe(p->Topic("ack"), 1));
  SN_RETURN_IF_ERROR(p->client->Subscribe(p->Topic("cmd"), 1));
  SN_RETURN_IF_ERROR(p->client->Subscribe(topics::FogStatus(o.store_id), 1));
  SN_RETURN_IF_ERROR(p->client->Subscribe(topics::CatalogManifest(o.store_id), 1));
  SN_RETURN_IF_ERROR(p->client->Subscribe(topics::Settings(o.store_id), 1));
  SN_RETURN_IF_ERROR(p->client->Subscribe(p->Topic("catalog"), 1));
  p->thread = std::thread([p] { p->Run(); });
  p->client->Start();
  return std::unique_ptr<SyncEngine>(new SyncEngine(std::move(impl)));
}

SyncEngine::SyncEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncEngine::~SyncEngine() { Stop(); }

void SyncEngine::Stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    if (s.stopping) return;
    s.stopping = true;
  }
  s.cv.notify_one();
  if (s.thread.joinable()) s.thread.join();
  if (s.client->connected()) {
    (void)mqtt::PublishAndWait(*s.client, s.StatusMessage(false), std::chrono::seconds(1));
  }
  s.client->Stop();
  uint64_t a = std::min(s.acked.load(), s.journal->head_seq());
  (void)SyncAccess::SetAckedSeq(*s.journal, a);
}

SyncState SyncEngine::state() const {
  Impl& s = *impl_;
  SyncState st;
  st.connected = s.client->connected();
  st.fog_online = s.fog_online.load();
  st.head_seq = s.journal->head_seq();
  st.acked_seq = std::min(s.acked.load(), st.head_seq);
  st.backlog = st.head_seq - st.acked_seq;
  // Counted with the version they made visible (CatalogReplica::applied).
  const CatalogReplica::Applied applied = s.journal->catalog().applied();
  st.catalog_version = s.journal->catalog().version();
  st.catalog_snapshots = applied.snapshots;
  st.catalog_deltas = applied.deltas;
  {
    std::lock_guard lock(s.mu);
    if (s.manifest) st.catalog_available = s.manifest->version();
  }
  if (st.backlog > 0) {
    int64_t t = SyncAccess::WallTimeOf(*s.journal, st.acked_seq + 1);
    if (t > 0) st.oldest_unacked_age_us = s.journal->options().clock->NowMicros() - t;
  }
  return st;
}

}  // namespace storenode::edge
