#include "ingest.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "storenode/common/topics.h"

namespace storenode::fog {
namespace {

constexpr size_t kMaxHeldPerDevice = 100000;
// Invariant 7: how often a till is asked again for an event whose stored
// signature failed.
constexpr int64_t kRepairEveryUs = 10'000'000;

std::string Hex(const std::string& raw) { return crypto::ToHex(crypto::AsBytes(raw)); }

bool SameHash(std::string_view a, const crypto::Hash& b) {
  return a.size() == 32 && std::memcmp(a.data(), b.data(), 32) == 0;
}

}  // namespace

Ingest::Ingest(sql::Db& db, const Config& config, const Clock& clock, Trust& trust)
    : db_(db), config_(config), clock_(clock), trust_(trust) {}

Ingest::Standing Ingest::StandingOf(const std::string& device_id) const {
  if (trust_.Revoked(device_id)) return Standing::kRevoked;
  const bool known = trust_.Known(device_id) || devices_.count(device_id) > 0;
  return known ? Standing::kKnown : Standing::kUnknown;
}

Result<std::map<std::string, uint64_t>> Ingest::QuarantinedByDevice() const {
  SN_ASSIGN_OR_RETURN(sql::Stmt q,
                      db_.Prepare("SELECT device_id, COUNT(*) FROM quarantine GROUP BY device_id"));
  std::map<std::string, uint64_t> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out[q.Text(0)] = static_cast<uint64_t>(q.Int(1));
  }
  return out;
}

Status Ingest::Load() {
  SN_ASSIGN_OR_RETURN(devices_, LoadDevices(db_));
  SN_ASSIGN_OR_RETURN(insert_event_,
                      db_.Prepare("INSERT INTO events(device_id, journal_id, seq, business_day, "
                                  "kind, receipt_no, header, body, prev_hash, hash, signature) "
                                  "VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
  SN_ASSIGN_OR_RETURN(find_hash_, db_.Prepare("SELECT hash FROM events WHERE device_id = ? AND "
                                              "journal_id = ? AND seq = ?"));
  SN_ASSIGN_OR_RETURN(unchecked_,
                      db_.Prepare("SELECT seq, business_day, hash, signature FROM events WHERE "
                                  "device_id = ? AND journal_id = ? AND seq > ? ORDER BY seq "
                                  "LIMIT ?"));
  SN_ASSIGN_OR_RETURN(int64_t total, db_.QueryInt("SELECT value FROM counters WHERE name = "
                                                  "'events_stored'",
                                                  0));
  events_total_ = static_cast<uint64_t>(total);
  SN_ASSIGN_OR_RETURN(sql::Stmt covered,
                      db_.Prepare("SELECT device_id, journal_id, business_day, first_seq, "
                                  "last_seq FROM covered_ranges"));
  std::vector<CoveredRange> ranges;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, covered.Step());
    if (!row) break;
    ranges.push_back({covered.Text(0), covered.Blob(1), covered.Text(2),
                      static_cast<uint64_t>(covered.Int(3)),
                      static_cast<uint64_t>(covered.Int(4))});
  }
  CoveredCommitted(ranges);
  return Status::Ok();
}

Device* Ingest::Stage(const std::string& device_id) {
  auto s = staged_.find(device_id);
  if (s != staged_.end()) return &s->second;
  auto c = devices_.find(device_id);
  if (c == devices_.end()) return nullptr;
  return &(staged_[device_id] = c->second);
}

Status Ingest::Quarantine(const std::string& device, const std::string& topic,
                          const std::string& reason, const std::string& payload) {
  return RecordQuarantine(device, topic, reason, payload, payload.size(),
                          crypto::Sha256Of(payload));
}

Status Ingest::QuarantineOversized(const std::string& device, const mqtt::Oversized& message) {
  return RecordQuarantine(device, message.topic,
                          "message of " + std::to_string(message.size) +
                              " bytes is over broker.max_message_bytes (" +
                              std::to_string(config_.max_message_bytes) + "): only its first " +
                              std::to_string(message.prefix.size()) + " bytes are kept",
                          message.prefix, message.size, message.sha256);
}

Status Ingest::RecordQuarantine(const std::string& device, const std::string& topic,
                                const std::string& reason, std::string_view kept, size_t size,
                                const crypto::Hash& sha256) {
  if (quarantine_log_.Allow(device, clock_.NowMicros())) {
    spdlog::warn("quarantined from device '{}' on {}: {}", device, topic, reason);
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db_.Prepare("INSERT INTO quarantine(at_us, device_id, topic, reason, "
                                  "payload, payload_size, payload_sha256) VALUES(?,?,?,?,?,?,?)"));
  stmt.Bind(1, clock_.NowMicros()).Bind(2, device).Bind(3, topic).Bind(4, reason);
  stmt.BindBlob(5, kept.data(), kept.size()).Bind(6, static_cast<int64_t>(size));
  stmt.BindBlob(7, sha256.data(), sha256.size());
  ++staged_counters_.quarantined;
  return stmt.Run();
}

void Ingest::QueueAck(const Device& d, bool resend, const std::string& reason,
                      std::optional<uint64_t> acked_seq) {
  int64_t now = clock_.NowMicros();
  if (resend) {
    // One resend request per hold period: a burst of in-flight batches must
    // not make the till rewind once per batch.
    int64_t& last = last_resend_us_[d.device_id];
    int64_t hold_us = std::max(200, config_.gap_hold_ms) * int64_t{1000};
    if (now - last < hold_us) return;
    last = now;
    spdlog::info("asking {} to resend from seq {}: {}", d.device_id,
                 acked_seq.value_or(d.acked_seq) + 1, reason);
  }
  v1::SyncAck ack;
  ack.set_journal_id(d.journal_id);
  ack.set_acked_seq(acked_seq.value_or(d.acked_seq));
  ack.set_resend(resend);
  ack.set_reason(reason);
  mqtt::Message m;
  m.topic = topics::Ack(config_.store_id, d.device_id);
  m.payload = ack.SerializeAsString();
  m.qos = 1;
  outgoing_.push_back(std::move(m));
}

bool Ingest::PinNewDevice(const std::string& device_id, const Held& genesis, std::string* why) {
  const v1::EventHeader& h = genesis.decoded.header;
  const std::string& pk = genesis.decoded.body.genesis().public_key();
  Result<std::string> source = trust_.PinSource(device_id, pk);
  if (!source.ok()) {
    *why = source.status().message();
    return false;
  }
  ChainVerifier chain;
  DecodedEvent scratch;
  Status s = chain.Next(genesis.event, &scratch);
  if (!s.ok()) {
    *why = "genesis: " + s.message();
    return false;
  }
  Device d;
  d.device_id = device_id;
  d.journal_id = h.journal_id();
  std::memcpy(d.key.data(), pk.data(), 32);
  d.key_source = *source;
  d.acked_seq = 0;
  d.head_hash = GenesisPrevHash(h.store_id(), h.device_id(), h.journal_id());
  d.first_seen_us = clock_.NowMicros();
  staged_[device_id] = d;
  spdlog::info("new till {}: journal {}, key {} pinned ({})", device_id, Hex(d.journal_id),
               crypto::Fingerprint(d.key), *source);
  return true;
}

Status Ingest::HandleJournal(const mqtt::Message& m) {
  auto topic = topics::ParseDevice(config_.store_id, m.topic);
  std::string device = topic ? topic->device : "";
  ++staged_counters_.batches;
  trust_.Refresh();
  if (trust_.Revoked(device)) return Quarantine(device, m.topic, "device revoked", m.payload);
  v1::JournalBatch batch;
  if (!batch.ParseFromString(m.payload)) {
    return Quarantine(device, m.topic, "payload does not parse as a JournalBatch", m.payload);
  }
  if (batch.schema_version() == 0 || batch.schema_version() > kSchemaVersion) {
    std::string v = std::to_string(batch.schema_version());
    return Quarantine(device, m.topic,
                      batch.schema_version() == 0
                          ? "batch has no schema version"
                          : "batch schema version " + v + " is newer than this fog understands (" +
                                std::to_string(kSchemaVersion) + ")",
                      m.payload);
  }
  if (batch.events().empty()) return Quarantine(device, m.topic, "empty batch", m.payload);

  // Decode everything first; the valid prefix is processed, the rest is
  // quarantined with the reason of the first bad event.
  std::vector<Held> run;
  run.reserve(batch.events_size());
  std::string bad_reason;
  for (v1::JournalEvent& ev : *batch.mutable_events()) {
    Held e;
    Status s = DecodeEvent(ev, &e.decoded);
    const v1::EventHeader& h = e.decoded.header;
    if (s.ok() && h.device_id() != device) {
      // Nothing of a misaddressed batch is used.
      return Quarantine(device, m.topic,
                        "topic names device '" + device + "' but seq " + std::to_string(h.seq()) +
                            " is from device '" + h.device_id() + "'",
                        m.payload);
    }
    if (s.ok() && h.store_id() != config_.store_id) {
      s = Status::Invalid("seq " + std::to_string(h.seq()) + " is from store '" + h.store_id() +
                          "'");
    }
    if (s.ok() && !run.empty() && h.journal_id() != run.front().decoded.header.journal_id()) {
      s = Status::Invalid("seq " + std::to_string(h.seq()) + " is from another journal");
    }
    if (s.ok() && check_) {
      std::string why = check_(e.decoded);
      if (!why.empty()) s = Status::Invalid(why);
    }
    if (!s.ok()) {
      bad_reason = s.message();
      break;
    }
    e.event = std::move(ev);
    run.push_back(std::move(e));
  }

  if (!run.empty()) {
    const v1::EventHeader& first = run.front().decoded.header;
    Device* d = Stage(device);
    if (d == nullptr) {
      if (first.seq() != 1 || first.kind() != v1::GENESIS) {
        // A fog rebuilt from empty, or a till it never saw: ask for all of it.
        Device unknown;
        unknown.device_id = device;
        unknown.journal_id = first.journal_id();
        QueueAck(unknown, true, "unknown till, send the journal from seq 1");
        run.clear();
      } else {
        // Everything that can refuse the batch is checked before the new
        // device is staged: a quarantined batch must leave no device row.
        std::optional<crypto::Hash> anchor;
        if (batch.anchor_seq() > 1) {
          auto parsed = crypto::HashFromBytes(batch.anchor_hash());
          if (!parsed.ok()) return Quarantine(device, m.topic, "malformed anchor hash", m.payload);
          anchor = *parsed;
        }
        std::string why;
        if (!PinNewDevice(device, run.front(), &why)) {
          return Quarantine(device, m.topic, why, m.payload);
        }
        d = Stage(device);
        if (anchor) {
          // The till pruned 2..anchor_seq: keep genesis, continue at the anchor.
          SN_RETURN_IF_ERROR(StoreEvent(*d, run.front()));
          Book(run.front());
          d->acked_seq = batch.anchor_seq();
          d->head_hash = *anchor;
          spdlog::warn(
              "till {} pruned seq 2..{} before this fog saw them; continuing from its "
              "anchor",
              device, batch.anchor_seq());
        }
      }
    } else if (first.journal_id() != d->journal_id) {
      std::string journal = first.journal_id();
      if (journal == d->pending_journal_id) return Status::Ok();  // already reported
      if (first.seq() != 1 || first.kind() != v1::GENESIS) {
        return Quarantine(device, m.topic,
                          "events of unknown journal " + Hex(journal) + " for known device",
                          m.payload);
      }
      const std::string& new_key = run.front().decoded.body.genesis().public_key();
      if (const crypto::PublicKey* provisioned = trust_.ProvisionedKey(device);
          provisioned != nullptr &&
          (new_key.size() != 32 || std::memcmp(new_key.data(), provisioned->data(), 32) != 0)) {
        return Quarantine(device, m.topic,
                          "key does not match the provisioned key (" +
                              crypto::Fingerprint(*provisioned) + ") in new journal " +
                              Hex(journal),
                          m.payload);
      }
      d->pending_journal_id = journal;
      d->pending_key = new_key;
      return Quarantine(device, m.topic,
                        "new journal id " + Hex(journal) + " for known device (journal " +
                            Hex(d->journal_id) +
                            "); a replaced till needs: storectl device "
                            "accept --device " +
                            device,
                        m.payload);
    }
    if (const crypto::PublicKey* provisioned = trust_.ProvisionedKey(device);
        d != nullptr && provisioned != nullptr && *provisioned != d->key) {
      // Pinned before the till was provisioned (trust on first use), and not
      // with the key the operator registered: someone else got there first.
      return Quarantine(device, m.topic,
                        "key does not match the provisioned key (" +
                            crypto::Fingerprint(*provisioned) + "; pinned " +
                            crypto::Fingerprint(d->key) + ")",
                        m.payload);
    }
    if (d != nullptr && batch.anchor_seq() > d->acked_seq) {
      return Quarantine(device, m.topic,
                        "the till pruned seq " + std::to_string(d->acked_seq + 1) + ".." +
                            std::to_string(batch.anchor_seq()) + " which this fog never stored",
                        m.payload);
    }
    if (d != nullptr && !run.empty()) {
      // Every batch handled is acked with the watermark, duplicates too: the
      // till may have lost the ack that covered them (a fog killed between
      // commit and publish, or the till offline then).
      ack_due_.insert(device);
      SN_RETURN_IF_ERROR(Extend(*d, m.topic, std::move(run)));
    }
  }
  if (!bad_reason.empty()) SN_RETURN_IF_ERROR(Quarantine(device, m.topic, bad_reason, m.payload));
  return Status::Ok();
}

Status Ingest::Extend(Device& d, const std::string& topic, std::vector<Held> run) {
  auto& held = held_[d.device_id];
  for (Held& e : run) {
    uint64_t seq = e.decoded.header.seq();
    if (seq > d.acked_seq) {
      if (held.size() < kMaxHeldPerDevice) held.emplace(seq, std::move(e));
      continue;
    }
    // Already stored: a duplicate must be byte-identical in effect.
    find_hash_->Bind(1, d.device_id).BindBlob(2, d.journal_id).Bind(3, static_cast<int64_t>(seq));
    SN_ASSIGN_OR_RETURN(bool found, find_hash_->Step());
    bool same = found && SameHash(find_hash_->BlobView(0), e.decoded.hash);
    find_hash_->Reset();
    if (same && seq == d.repair_seq) SN_RETURN_IF_ERROR(Repair(d, e));
    if (same || !found) {  // !found: pruned by the till's anchor resend; nothing to do
      ++staged_counters_.duplicates;
      continue;
    }
    held.clear();
    return Quarantine(d.device_id, topic,
                      "seq " + std::to_string(seq) +
                          " conflicts with the stored event of that seq (replayed or forged)",
                      e.event.SerializeAsString());
  }

  // Take the contiguous run that extends the stored chain.
  std::vector<Held> chain;
  crypto::Hash prev = d.head_hash;
  for (auto it = held.find(d.acked_seq + 1); it != held.end();
       it = held.find(d.acked_seq + 1 + chain.size())) {
    if (!SameHash(it->second.event.prev_hash(), prev)) {
      std::string reason = "seq " + std::to_string(it->first) +
                           ": prev_hash does not link to the stored chain (broken chain)";
      std::string raw = it->second.event.SerializeAsString();
      held.clear();
      SN_RETURN_IF_ERROR(Quarantine(d.device_id, topic, reason, raw));
      break;
    }
    prev = it->second.decoded.hash;
    chain.push_back(std::move(it->second));
    held.erase(it);
  }
  if (!chain.empty()) {
    auto signed_ok = [&](const Held& e) {
      return crypto::Verify(d.key, crypto::AsBytes(e.event.hash()),
                            crypto::AsBytes(e.event.signature()));
    };
    if (!signed_ok(chain.back())) {
      size_t good = 0;
      while (good < chain.size() && signed_ok(chain[good])) ++good;
      std::string reason = "seq " + std::to_string(chain[good].decoded.header.seq()) +
                           ": bad signature (not signed by the pinned key " +
                           crypto::Fingerprint(d.key) + ")";
      std::string raw = chain[good].event.SerializeAsString();
      chain.resize(good);
      held.clear();
      SN_RETURN_IF_ERROR(Quarantine(d.device_id, topic, reason, raw));
    }
    for (const Held& e : chain) {
      SN_RETURN_IF_ERROR(StoreEvent(d, e));
      Book(e);
      d.acked_seq = e.decoded.header.seq();
      d.head_hash = e.decoded.hash;
      d.last_event_us = std::max(d.last_event_us, e.decoded.header.wall_time_us());
    }
    ack_due_.insert(d.device_id);
  }
  if (held.empty()) {
    gap_since_us_.erase(d.device_id);
  } else {
    gap_since_us_.try_emplace(d.device_id, clock_.NowMicros());
  }
  return Status::Ok();
}

Status Ingest::StoreEvent(const Device& d, const Held& e) {
  const v1::EventHeader& h = e.decoded.header;
  sql::Stmt& ins = *insert_event_;
  // Everything bound lives until Run() returns: no copies.
  ins.BindTextRef(1, d.device_id).BindBlobRef(2, d.journal_id);
  ins.Bind(3, static_cast<int64_t>(h.seq())).BindTextRef(4, h.business_day());
  ins.Bind(5, int64_t{h.kind()}).Bind(6, static_cast<int64_t>(h.receipt_no()));
  ins.BindBlobRef(7, e.event.header()).BindBlobRef(8, e.event.body());
  ins.BindBlobRef(9, e.event.prev_hash()).BindBlobRef(10, e.event.hash());
  ins.BindBlobRef(11, e.event.signature());
  ++events_in_txn_;
  ++staged_counters_.events_stored;
  return ins.Run();
}

void Ingest::Book(const Held& e) {
  const v1::EventHeader& h = e.decoded.header;
  bool covered = false;
  if (auto j = covered_.find({h.device_id(), h.journal_id()}); j != covered_.end()) {
    auto r = j->second.upper_bound(h.seq());
    if (r != j->second.begin()) {
      --r;
      covered = h.seq() <= r->second.first && r->second.second == h.business_day();
    }
  }
  read_models_.Add(e.decoded, part_of_(h.business_day()), covered);
}

Status Ingest::AddCovered(const std::vector<CoveredRange>& ranges) {
  SN_ASSIGN_OR_RETURN(sql::Stmt ins, db_.Prepare("INSERT OR REPLACE INTO covered_ranges("
                                                 "device_id, journal_id, business_day, "
                                                 "first_seq, last_seq) VALUES(?,?,?,?,?)"));
  for (const CoveredRange& r : ranges) {
    ins.Bind(1, r.device_id).BindBlob(2, r.journal_id).Bind(3, r.business_day);
    ins.Bind(4, static_cast<int64_t>(r.first_seq)).Bind(5, static_cast<int64_t>(r.last_seq));
    SN_RETURN_IF_ERROR(ins.Run());
  }
  return Status::Ok();
}

void Ingest::CoveredCommitted(const std::vector<CoveredRange>& ranges) {
  for (const CoveredRange& r : ranges) {
    covered_[{r.device_id, r.journal_id}][r.first_seq] = {r.last_seq, r.business_day};
  }
}

Status Ingest::Flush() {
  SN_RETURN_IF_ERROR(read_models_.Flush(db_));
  if (staged_counters_.events_stored > 0) {
    SN_ASSIGN_OR_RETURN(sql::Stmt count, db_.Prepare("UPDATE counters SET value = value + ? WHERE "
                                                     "name = 'events_stored'"));
    count.Bind(1, static_cast<int64_t>(staged_counters_.events_stored));
    SN_RETURN_IF_ERROR(count.Run());
  }
  for (const auto& [id, d] : staged_) SN_RETURN_IF_ERROR(SaveDevice(db_, d));
  return Status::Ok();
}

void Ingest::Committed() {
  for (auto& [id, d] : staged_) devices_[id] = std::move(d);
  staged_.clear();
  for (const std::string& id : ack_due_) QueueAck(devices_[id], false, "");
  ack_due_.clear();
  counters_.events_stored += staged_counters_.events_stored;
  events_total_ += staged_counters_.events_stored;
  counters_.duplicates += staged_counters_.duplicates;
  counters_.quarantined += staged_counters_.quarantined;
  counters_.batches += staged_counters_.batches;
  staged_counters_ = {};
  events_in_txn_ = 0;
}

void Ingest::Aborted() {
  staged_.clear();
  ack_due_.clear();
  held_.clear();
  gap_since_us_.clear();
  read_models_.Clear();
  staged_counters_ = {};
  events_in_txn_ = 0;
  // Acks queued in this transaction would announce uncommitted progress.
  std::erase_if(outgoing_, [](const mqtt::Message& m) {
    v1::SyncAck ack;
    return ack.ParseFromString(m.payload) && !ack.resend();
  });
}

std::vector<mqtt::Message> Ingest::TakeOutgoing() { return std::exchange(outgoing_, {}); }

void Ingest::CheckGaps() {
  int64_t now = clock_.NowMicros();
  for (auto it = gap_since_us_.begin(); it != gap_since_us_.end();) {
    auto d = devices_.find(it->first);
    if (d == devices_.end() || now - it->second < int64_t{config_.gap_hold_ms} * 1000) {
      ++it;
      continue;
    }
    held_[it->first].clear();
    QueueAck(d->second, true, "gap after seq " + std::to_string(d->second.acked_seq));
    it = gap_since_us_.erase(it);
  }
  for (const auto& [id, d] : devices_) {
    if (d.repair_seq != 0) RequestRepair(d);
  }
}

Result<size_t> Ingest::CheckSignatures(Device& d, size_t max) {
  if (d.repair_seq != 0 || d.verified_seq >= d.acked_seq) return size_t{0};
  sql::Stmt& q = *unchecked_;
  q.Bind(1, d.device_id).BindBlob(2, d.journal_id);
  q.Bind(3, static_cast<int64_t>(d.verified_seq)).Bind(4, static_cast<int64_t>(max));
  size_t checked = 0;
  while (true) {
    Result<bool> row = q.Step();
    if (!row.ok() || !*row) {
      q.Reset();
      SN_RETURN_IF_ERROR(row.status());
      break;
    }
    ++checked;
    const uint64_t seq = static_cast<uint64_t>(q.Int(0));
    if (crypto::Verify(d.key, crypto::AsBytes(q.BlobView(2)), crypto::AsBytes(q.BlobView(3)))) {
      d.verified_seq = seq;
      continue;
    }
    d.repair_seq = seq;
    d.repair_day = q.Text(1);
    std::string signature(q.BlobView(3));
    q.Reset();
    spdlog::warn("{} seq {}: stored signature does not verify; asking the till for its copy",
                 d.device_id, seq);
    SN_RETURN_IF_ERROR(Quarantine(
        d.device_id, topics::Journal(config_.store_id, d.device_id),
        "seq " + std::to_string(seq) + ": stored signature does not verify (pinned key " +
            crypto::Fingerprint(d.key) + "); asked the till to send the event again",
        signature));
    RequestRepair(d);
    return checked;
  }
  // Every stored event up to the watermark is checked (2..anchor_seq of a
  // pruned till were never stored).
  if (checked < max) d.verified_seq = d.acked_seq;
  return checked;
}

void Ingest::RequestRepair(const Device& d) {
  int64_t now = clock_.NowMicros();
  auto [last, fresh] = last_repair_us_.try_emplace(d.device_id, now);
  if (!fresh && now - last->second < kRepairEveryUs) return;
  last->second = now;
  QueueAck(
      d, true,
      "seq " + std::to_string(d.repair_seq) + ": stored signature does not verify, send it again",
      d.repair_seq - 1);
}

Status Ingest::Repair(Device& d, const Held& e) {
  const uint64_t seq = e.decoded.header.seq();
  if (!crypto::Verify(d.key, crypto::AsBytes(e.event.hash()),
                      crypto::AsBytes(e.event.signature()))) {
    return Status::Ok();  // still bad: the stored event waits for a good copy
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt upd, db_.Prepare("UPDATE events SET signature = ? WHERE "
                                                 "device_id = ? AND journal_id = ? AND seq = ?"));
  upd.BindBlob(1, e.event.signature()).Bind(2, d.device_id).BindBlob(3, d.journal_id);
  upd.Bind(4, static_cast<int64_t>(seq));
  SN_RETURN_IF_ERROR(upd.Run());
  d.repair_seq = 0;
  d.repair_day.clear();
  last_repair_us_.erase(d.device_id);
  spdlog::info("{} seq {}: stored signature replaced by the till's copy, which verifies",
               d.device_id, seq);
  return Status::Ok();
}

Result<bool> Ingest::VerifySome(int64_t budget_us) {
  const auto start = std::chrono::steady_clock::now();
  auto spent_us = [&] {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
  };
  // The watermarks advance in memory and are written with each device's row
  // (by an ingest transaction, and here once everything pending is
  // checked). After a crash the fog checks again from the written value:
  // repeated work, nothing trusted.
  bool pending = false, advanced = false;
  for (auto& [id, d] : devices_) {
    while (spent_us() < budget_us) {
      SN_ASSIGN_OR_RETURN(size_t n, CheckSignatures(d, 16));
      if (n == 0) break;
      advanced = true;
    }
    pending = pending || (d.repair_seq == 0 && d.verified_seq < d.acked_seq);
  }
  if (advanced && !pending) {
    sql::Transaction txn(db_);
    SN_RETURN_IF_ERROR(txn.begin_status());
    SN_ASSIGN_OR_RETURN(sql::Stmt upd, db_.Prepare("UPDATE devices SET verified_seq = ? WHERE "
                                                   "device_id = ? AND journal_id = ?"));
    for (const auto& [id, d] : devices_) {
      upd.Bind(1, static_cast<int64_t>(d.verified_seq)).Bind(2, d.device_id);
      upd.BindBlob(3, d.journal_id);
      SN_RETURN_IF_ERROR(upd.Run());
    }
    SN_RETURN_IF_ERROR(txn.Commit());
  }
  return pending;
}

Status Ingest::VerifyAll() {
  for (auto& [id, d] : devices_) {
    while (true) {
      SN_ASSIGN_OR_RETURN(size_t n, CheckSignatures(d, 4096));
      if (n == 0) break;
    }
  }
  return Status::Ok();
}

std::map<std::string, std::string> Ingest::Unproven(const std::string& day) const {
  std::map<std::string, std::string> out;
  for (const auto& [id, d] : devices_) {
    if (d.repair_seq != 0 && d.repair_day <= day) {
      out[id] = id + " seq " + std::to_string(d.repair_seq);
    }
  }
  return out;
}

uint64_t Ingest::unverified() const {
  uint64_t n = 0;
  for (const auto& [id, d] : devices_) n += d.acked_seq - std::min(d.acked_seq, d.verified_seq);
  return n;
}

void Ingest::AnnounceWatermarks() {
  for (const auto& [id, d] : devices_) QueueAck(d, false, "fog started");
}

void Ingest::AskEveryTillToResend(const std::string& reason) {
  for (const auto& [id, d] : devices_) QueueAck(d, true, reason);
}

void Ingest::OnTillStatus(const std::string& device_id, const v1::DeviceStatus& status) {
  if (!status.online() || status.head_seq() == 0 || trust_.Revoked(device_id)) return;
  auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    Device unknown;
    unknown.device_id = device_id;
    unknown.journal_id = status.journal_id();
    QueueAck(unknown, true, "unknown till reports head " + std::to_string(status.head_seq()));
    return;
  }
  const Device& d = it->second;
  if (d.journal_id == status.journal_id() && status.acked_seq() < d.acked_seq) {
    // The till missed an ack (lost in a crash or while it was offline).
    QueueAck(d, false, "till reports acked " + std::to_string(status.acked_seq()));
  }
  if (d.journal_id != status.journal_id() || status.head_seq() <= d.acked_seq) {
    acked_at_last_status_.erase(device_id);
    return;
  }
  auto [last, fresh] = acked_at_last_status_.try_emplace(device_id, d.acked_seq);
  if (!fresh && last->second == d.acked_seq) {
    QueueAck(d, true,
             "till reports head " + std::to_string(status.head_seq()) +
                 " and nothing arrived since its last status");
  }
  last->second = d.acked_seq;
}

Status Ingest::AcceptReplacement(const std::string& device_id, Device* accepted) {
  Device* d = Stage(device_id);
  if (d == nullptr) return Status::NotFound("unknown device '" + device_id + "'");
  if (d->pending_journal_id.empty()) {
    return Status::Precondition("device '" + device_id + "' has no replacement journal waiting");
  }
  if (d->pending_key.size() != 32) return Status::Corruption("pending key is malformed");
  if (const crypto::PublicKey* provisioned = trust_.ProvisionedKey(device_id);
      provisioned != nullptr && std::memcmp(d->pending_key.data(), provisioned->data(), 32) != 0) {
    return Status::Precondition("the new journal's key does not match the provisioned key (" +
                                crypto::Fingerprint(*provisioned) +
                                "); provision the till again with its new key first");
  }
  d->journal_id = d->pending_journal_id;
  std::memcpy(d->key.data(), d->pending_key.data(), 32);
  d->key_source = "genesis, accepted by an operator";
  d->acked_seq = 0;
  d->verified_seq = 0;
  d->repair_seq = 0;
  d->head_hash = GenesisPrevHash(config_.store_id, device_id, d->journal_id);
  d->pending_journal_id.clear();
  d->pending_key.clear();
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("INSERT OR IGNORE INTO journals(device_id, "
                                                  "journal_id, public_key, accepted_us) "
                                                  "VALUES(?,?,?,?)"));
  stmt.Bind(1, device_id).BindBlob(2, d->journal_id).BindBlob(3, d->key.data(), 32);
  stmt.Bind(4, clock_.NowMicros());
  SN_RETURN_IF_ERROR(stmt.Run());
  held_[device_id].clear();
  last_resend_us_.erase(device_id);
  QueueAck(*d, true, "replacement journal accepted");
  *accepted = *d;
  return Status::Ok();
}

Status ForEachEventOfDay(
    sql::Db& db, const std::string& day,
    const std::function<Status(const v1::EventHeader&, const v1::EventBody&)>& fn) {
  SN_ASSIGN_OR_RETURN(std::vector<DayRange> ranges, DayRangesOfEveryPart(db, day));
  SN_ASSIGN_OR_RETURN(sql::Stmt covered,
                      db.Prepare("SELECT device_id, journal_id, first_seq, last_seq FROM "
                                 "covered_ranges WHERE business_day = ?"));
  covered.Bind(1, day);
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, covered.Step());
    if (!row) break;
    ranges.push_back({covered.Text(0), covered.Blob(1), static_cast<uint64_t>(covered.Int(2)),
                      static_cast<uint64_t>(covered.Int(3)), 0});
  }
  // Ranges of one journal may touch or overlap (parts, covered ranges):
  // each seq is read once.
  std::sort(ranges.begin(), ranges.end(), [](const DayRange& a, const DayRange& b) {
    return std::tie(a.device_id, a.journal_id, a.first_seq) <
           std::tie(b.device_id, b.journal_id, b.first_seq);
  });
  SN_ASSIGN_OR_RETURN(sql::Stmt events,
                      db.Prepare("SELECT header, body FROM events WHERE device_id = ? AND "
                                 "journal_id = ? AND seq BETWEEN ? AND ? AND business_day = ? "
                                 "ORDER BY seq"));
  v1::EventHeader header;
  v1::EventBody body;
  for (size_t i = 0; i < ranges.size(); ++i) {
    DayRange r = ranges[i];
    for (; i + 1 < ranges.size() && ranges[i + 1].device_id == r.device_id &&
           ranges[i + 1].journal_id == r.journal_id && ranges[i + 1].first_seq <= r.last_seq + 1;
         ++i) {
      r.last_seq = std::max(r.last_seq, ranges[i + 1].last_seq);
    }
    events.Bind(1, r.device_id).BindBlob(2, r.journal_id);
    events.Bind(3, static_cast<int64_t>(r.first_seq)).Bind(4, static_cast<int64_t>(r.last_seq));
    events.Bind(5, day);
    while (true) {
      SN_ASSIGN_OR_RETURN(bool row, events.Step());
      if (!row) break;
      if (!header.ParseFromArray(events.BlobView(0).data(),
                                 static_cast<int>(events.BlobView(0).size())) ||
          !body.ParseFromArray(events.BlobView(1).data(),
                               static_cast<int>(events.BlobView(1).size()))) {
        return Status::Corruption("a stored event of " + r.device_id + " on " + day +
                                  " does not parse");
      }
      SN_RETURN_IF_ERROR(fn(header, body));
    }
    events.Reset();
  }
  return Status::Ok();
}

}  // namespace storenode::fog
