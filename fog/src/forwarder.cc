#include "forwarder.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "closedown.h"
#include "storenode/common/fault.h"
#include "storenode/common/head_office.h"
#include "storenode/common/ledger.h"

namespace storenode::fog {
namespace {

std::string KeyBytes(const crypto::PublicKey& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

}  // namespace

Forwarder::Forwarder(sql::Db& db, const Config& config, const Clock& clock,
                     const crypto::PublicKey& fog_key, LedgerOutbox& outbox,
                     mqtt::Connector connect)
    : db_(db),
      outbox_(outbox),
      config_(config),
      clock_(clock),
      fog_key_(fog_key),
      connect_(std::move(connect)),
      backoff_(
          config.ledger.retry_min_ms, config.ledger.retry_max_ms,
          std::hash<std::string>()(config.store_id) ^ static_cast<uint64_t>(clock.NowMicros())) {}

Status Forwarder::Load() {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("SELECT ledger_public_key, key_source, "
                                                  "tree_head FROM ledger_state WHERE id = 1"));
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  std::optional<crypto::PublicKey> stored;
  if (row) {
    SN_ASSIGN_OR_RETURN(stored, crypto::HashFromBytes(stmt.BlobView(0)));
    if (!stmt.IsNull(2)) {
      v1::SignedTreeHead sth;
      if (!sth.ParseFromString(stmt.Blob(2))) {
        return Status::Corruption("fog.db: the trusted ledger tree head does not parse");
      }
      SN_ASSIGN_OR_RETURN(trusted_, ledger::VerifyTreeHead(sth, *stored));
    }
  }
  if (!config_.ledger.public_key.empty()) {
    crypto::PublicKey pinned = crypto::HashFromBytes(*crypto::FromHex(config_.ledger.public_key))
                                   .value();  // LoadConfig checked it
    if (stored && *stored != pinned) {
      // The trusted head was signed by the old key; a new key starts over.
      spdlog::warn("ledger.public_key {} replaces the key {} pinned in fog.db",
                   crypto::Fingerprint(pinned), crypto::Fingerprint(*stored));
      trusted_.Clear();
    }
    ledger_key_ = pinned;
  } else {
    ledger_key_ = stored;
  }
  if (!config_.ledger.link.uri.empty()) {
    SN_ASSIGN_OR_RETURN(uint64_t last, outbox_.LastZNumber());
    SN_ASSIGN_OR_RETURN(int64_t marked, db_.QueryInt("SELECT COUNT(*) FROM counters WHERE name = "
                                                     "'recover_from_ledger'"));
    if (last == 0 || marked > 0) {
      recover_from_ = last + 1;
      // Marked until the ledger's answer is complete: a recovery cut short
      // (a crash after some Zs) goes on at the next start.
      SN_RETURN_IF_ERROR(
          db_.Exec("INSERT OR REPLACE INTO counters(name, value) "
                   "VALUES('recover_from_ledger', 1)"));
    }
  }
  return Status::Ok();
}

void Forwarder::Start(std::function<void(const mqtt::Message&)> deliver) {
  const BrokerLink& link = config_.ledger.link;
  if (link.uri.empty()) {
    spdlog::info("no [ledger] uri: close-downs stay in the ledger outbox");
    if (!config_.head_office.public_key.empty()) {
      spdlog::warn("head_office.public_key is set, but without a [ledger] uri no release comes");
    }
    return;
  }
  mqtt::Options o = ToMqttOptions(link);
  const std::vector<std::string> servers = mqtt::Servers(o);
  if (link.insecure && std::any_of(servers.begin(), servers.end(), [](const std::string& uri) {
        return uri.starts_with("tcp://");
      })) {
    spdlog::warn("ledger connection is plain TCP (ledger.insecure = true)");
  }
  // The cloud may be away for days: reconnect attempts settle at one a minute.
  o.max_backoff = std::chrono::milliseconds(std::min(config_.ledger.retry_max_ms, 60000));
  client_ = connect_(o);
  client_->OnMessage(std::move(deliver));
  client_->OnConnected([this] {
    const BrokerLink& l = config_.ledger.link;
    spdlog::info("connected to the ledger broker {}{} ({})", l.uri,
                 l.failover_uris.empty() ? "" : " or a failover server",
                 mqtt::ProtocolName(l.protocol));
    resend_now_ = true;
  });
  client_->OnDisconnected(
      [](const std::string& cause) { spdlog::warn("ledger connection lost: {}", cause); });
  // Invariant 7.
  const int answer_qos = link.protocol == mqtt::Protocol::kV3_1_1 ? 0 : 1;
  (void)client_->Subscribe(ledger::AnswerTopic(config_.store_id), answer_qos);
  // Head office's releases (head_office.h) share the link, at QoS 0 on
  // either protocol: they are retained, and the fog takes the newest again
  // on every reconnect, so a lost one costs only the wait for it.
  if (config_.head_office.public_key.empty()) {
    spdlog::info("no head_office.public_key: head-office releases are not taken");
  } else {
    for (const std::string& topic :
         head_office::SubscriptionsFor(config_.store_id, config_.head_office.groups)) {
      (void)client_->Subscribe(topic, 0);
    }
  }
  client_->Start();
}

void Forwarder::Stop() {
  if (client_) client_->Stop();
}

bool Forwarder::IsAnswer(const mqtt::Message& m) const {
  return m.topic == ledger::AnswerTopic(config_.store_id);
}

void Forwarder::Backoff() { next_try_us_ = clock_.NowMicros() + backoff_.NextMs() * 1000; }

void Forwarder::Poll() {
  if (!client_ || !client_->connected()) return;
  bool now = resend_now_.exchange(false);
  if (!now && clock_.NowMicros() < next_try_us_) return;
  if (recover_from_ > 0) {
    v1::LedgerRequest request;
    request.set_request_id(++request_id_);
    request.mutable_history()->set_from_z_number(recover_from_);
    mqtt::Message m;
    m.topic = ledger::SubmitTopic(config_.store_id);
    m.payload = request.SerializeAsString();
    if (!client_->Publish(m).ok()) return;
    spdlog::info("fog.db holds no Z: asking the ledger for this store's Zs from {}", recover_from_);
    Backoff();
    return;
  }
  auto next = outbox_.NextUndelivered();  // the outbox (invariant 1)
  if (!next.ok()) {
    spdlog::error("ledger outbox: {}", next.status().ToString());
    return;
  }
  if (!*next) {
    in_flight_ = 0;
    return;
  }
  v1::LedgerRequest request;
  request.set_request_id(++request_id_);
  v1::LedgerSubmit* submit = request.mutable_submit();
  *submit->mutable_z() = (*next)->z;
  submit->set_known_tree_size(trusted_.tree_size());
  // The fog's public key travels with every Z; the ledger pins the first.
  submit->mutable_z()->set_fog_public_key(KeyBytes(fog_key_));
  uint64_t z_number = (*next)->z_number;
  mqtt::Message m;
  m.topic = ledger::SubmitTopic(config_.store_id);
  m.payload = request.SerializeAsString();
  if (!client_->Publish(m).ok()) return;  // busy or just lost: the next poll
  if (in_flight_ != z_number) {
    spdlog::info("forwarding Z {} to the ledger", z_number);
  } else {
    spdlog::info("resending Z {} to the ledger (no valid answer yet)", z_number);
  }
  in_flight_ = z_number;
  Backoff();
}

void Forwarder::Alert(uint64_t z_number, const std::string& reason, const std::string& answer) {
  spdlog::error("ledger, Z {}: {}", z_number, reason);
  last_error_ = reason;
  auto ins = db_.Prepare(
      "INSERT INTO ledger_alerts(at_us, z_number, reason, answer) "
      "VALUES(?,?,?,?)");
  if (ins.ok()) {
    ins->Bind(1, clock_.NowMicros()).Bind(2, static_cast<int64_t>(z_number)).Bind(3, reason);
    ins->BindBlob(4, answer);
    if (Status s = ins->Run(); !s.ok()) spdlog::error("ledger_alerts: {}", s.ToString());
  }
}

void Forwarder::OnAnswer(const mqtt::Message& m) {
  v1::LedgerAnswer answer;
  if (!answer.ParseFromString(m.payload)) {
    Alert(in_flight_, "answer does not parse as a LedgerAnswer", m.payload);
    return;
  }
  if (recover_from_ > 0) {
    OnHistory(answer, m.payload);
    return;
  }
  if (in_flight_ == 0 || answer.z_number() != in_flight_) {
    spdlog::debug("ignored a ledger answer for Z {} (in flight: {})", answer.z_number(),
                  in_flight_);
    return;
  }
  if (answer.has_rejected() && answer.rejected().code() == "unavailable") {
    // The ledger could not reach its own storage: nothing is wrong with the
    // Z or the ledger's history, so no alert; resent after the backoff.
    last_error_ = "ledger unavailable: " + answer.rejected().reason();
    spdlog::warn("ledger, Z {}: {}; resending later", in_flight_, last_error_);
    return;
  }
  if (answer.has_rejected()) {
    Alert(
        in_flight_,
        "rejected by the ledger (" + answer.rejected().code() + "): " + answer.rejected().reason(),
        m.payload);
    return;  // resent after the backoff: the ledger may be fixed meanwhile
  }
  if (!answer.has_accepted()) {
    Alert(in_flight_, "answer is neither a receipt nor a rejection", m.payload);
    return;
  }
  auto z = outbox_.ZBytes(in_flight_);
  if (!z.ok() || !*z) return;
  Status s = Accept(in_flight_, **z, answer);
  if (!s.ok()) {
    Alert(in_flight_, "receipt not accepted: " + s.message(), m.payload);
    return;
  }
  in_flight_ = 0;
  next_try_us_ = 0;  // the next Z at once
  backoff_.Reset();
  last_error_.clear();
}

void Forwarder::OnHistory(const v1::LedgerAnswer& answer, const std::string& raw) {
  if (answer.z_number() != recover_from_ || !answer.has_history()) {
    if (answer.has_rejected()) {
      last_error_ = "recovery: " + answer.rejected().code() + ": " + answer.rejected().reason();
      spdlog::warn("ledger, recovery from Z {}: {}; asking again later", recover_from_,
                   last_error_);
    }
    return;  // an answer to something else, or refused: asked again after the backoff
  }
  for (const v1::SignedZ& z : answer.history().records()) {
    Status s = outbox_.Restore(z);
    if (!s.ok()) {
      // Not this fog's next Z: nothing more can be restored safely. The fog
      // stays recovering (no Z is issued) and asks again after the backoff.
      Alert(recover_from_, "recovery: Z " + std::to_string(recover_from_) + ": " + s.message(),
            raw);
      return;
    }
    ++recover_from_;
  }
  if (answer.history().more()) {
    // The next page at once; a "more" without records is asked again only
    // after the backoff, so a broken ledger cannot make the fog spin.
    resend_now_ = answer.history().records_size() > 0;
    return;
  }
  if (Status s = db_.Exec("DELETE FROM counters WHERE name = 'recover_from_ledger'"); !s.ok()) {
    spdlog::error("recovery: {}; asking the ledger again", s.ToString());
    return;
  }
  spdlog::info("recovered the ledger's Zs up to {}; the Z numbering continues at {}",
               recover_from_ - 1, recover_from_);
  recover_from_ = 0;
  resend_now_ = true;  // resend them: the ledger's receipts, as duplicates
  backoff_.Reset();
  last_error_.clear();
}

Status Forwarder::Accept(uint64_t z_number, const std::string& z, const v1::LedgerAnswer& answer) {
  const v1::LedgerReceipt& receipt = answer.accepted().receipt();
  if (receipt.z_number() != z_number || receipt.store_id() != config_.store_id) {
    return Status::Corruption("receipt names store " + receipt.store_id() + " Z " +
                              std::to_string(receipt.z_number()));
  }
  std::string key_source = "config";
  crypto::PublicKey key{};
  if (ledger_key_) {
    key = *ledger_key_;
  } else {
    SN_ASSIGN_OR_RETURN(key, crypto::HashFromBytes(receipt.tree_head().ledger_public_key()));
    key_source = "first receipt (trust on first use)";
  }
  SN_ASSIGN_OR_RETURN(v1::TreeHead head, ledger::VerifyReceipt(receipt, z, key));
  // The new head must extend the trusted one.
  if (trusted_.tree_size() > 0) {
    if (head.tree_size() < trusted_.tree_size()) {
      return Status::Corruption("ledger history changed: tree of " +
                                std::to_string(head.tree_size()) + " is older than the trusted " +
                                std::to_string(trusted_.tree_size()));
    }
    if (head.tree_size() == trusted_.tree_size()) {
      if (head.root() != trusted_.root()) {
        return Status::Corruption("ledger history changed: two roots for tree size " +
                                  std::to_string(head.tree_size()));
      }
    } else {
      if (!answer.accepted().has_consistency()) {
        return Status::Corruption("no consistency proof from the trusted tree size " +
                                  std::to_string(trusted_.tree_size()));
      }
      SN_ASSIGN_OR_RETURN(v1::TreeHead proven, ledger::VerifyConsistency(
                                                   trusted_, answer.accepted().consistency(), key));
      if (proven.tree_size() != head.tree_size() || proven.root() != head.root()) {
        return Status::Corruption("consistency proof ends at another tree head than the receipt");
      }
    }
  }
  sql::Transaction txn(db_);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt ins, db_.Prepare("INSERT INTO ledger_receipts(z_number, "
                                                 "leaf_index, tree_size, receipt, received_us) "
                                                 "VALUES(?,?,?,?,?)"));
  ins.Bind(1, static_cast<int64_t>(z_number)).Bind(2, static_cast<int64_t>(receipt.leaf_index()));
  ins.Bind(3, static_cast<int64_t>(receipt.tree_size())).BindBlob(4, receipt.SerializeAsString());
  ins.Bind(5, clock_.NowMicros());
  SN_RETURN_IF_ERROR(ins.Run());
  SN_ASSIGN_OR_RETURN(sql::Stmt state,
                      db_.Prepare("INSERT INTO ledger_state(id, ledger_public_key, key_source, "
                                  "tree_head, updated_us) VALUES(1,?,?,?,?) ON CONFLICT DO UPDATE "
                                  "SET ledger_public_key = excluded.ledger_public_key, key_source "
                                  "= excluded.key_source, tree_head = excluded.tree_head, "
                                  "updated_us = excluded.updated_us"));
  state.BindBlob(1, KeyBytes(key)).Bind(2, key_source);
  state.BindBlob(3, receipt.tree_head().SerializeAsString()).Bind(4, clock_.NowMicros());
  SN_RETURN_IF_ERROR(state.Run());
  CrashPoint("ledger-receipt-before-commit");
  SN_RETURN_IF_ERROR(txn.Commit());
  if (!ledger_key_) {
    spdlog::warn("pinned the ledger's key {} from its first receipt (no ledger.public_key)",
                 crypto::Fingerprint(key));
    ledger_key_ = key;
  }
  trusted_ = head;
  spdlog::info("Z {} is in the ledger{}: leaf {} of {}", z_number,
               answer.accepted().duplicate() ? " (already)" : "", receipt.leaf_index(),
               receipt.tree_size());
  return Status::Ok();
}

v1::LedgerStatus Forwarder::GetStatus() {
  v1::LedgerStatus s;
  s.set_enabled(!config_.ledger.link.uri.empty());
  s.set_uri(config_.ledger.link.uri);
  s.set_connected(client_ && client_->connected());
  s.set_trusted_tree_size(trusted_.tree_size());
  s.set_last_error(last_error_);
  s.set_recovering(recovering());
  if (ledger_key_) s.set_ledger_key_fingerprint(crypto::Fingerprint(*ledger_key_));
  s.set_backlog(outbox_.UndeliveredCount().value_or(0));
  if (s.backlog() > 0) {
    s.set_next_z_number(static_cast<uint64_t>(
        db_.QueryInt("SELECT IFNULL(MAX(z_number), 0) + 1 FROM ledger_receipts").value_or(0)));
  }
  s.set_alerts(
      static_cast<uint64_t>(db_.QueryInt("SELECT COUNT(*) FROM ledger_alerts").value_or(0)));
  auto last = db_.Prepare(
      "SELECT z_number, leaf_index, tree_size, received_us FROM "
      "ledger_receipts ORDER BY z_number DESC LIMIT 1");
  if (last.ok()) {
    auto row = last->Step();
    if (row.ok() && *row) {
      s.set_last_z_number(static_cast<uint64_t>(last->Int(0)));
      s.set_last_leaf_index(static_cast<uint64_t>(last->Int(1)));
      s.set_last_tree_size(static_cast<uint64_t>(last->Int(2)));
      s.set_last_receipt_us(last->Int(3));
    }
  }
  return s;
}

Result<v1::LedgerReceipt> StoredReceipt(sql::Db& db, uint64_t z_number) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("SELECT receipt FROM ledger_receipts WHERE z_number = ?"));
  stmt.Bind(1, static_cast<int64_t>(z_number));
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return Status::NotFound("Z " + std::to_string(z_number) +
                            " has no ledger receipt yet (still in the ledger backlog)");
  }
  v1::LedgerReceipt receipt;
  if (!receipt.ParseFromString(stmt.Blob(0))) {
    return Status::Corruption("the stored ledger receipt does not parse");
  }
  return receipt;
}

}  // namespace storenode::fog
