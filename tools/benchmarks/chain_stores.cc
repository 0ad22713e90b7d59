// bench chain-stores: one load-generating process of bench chain (not
// listed in the usage). It holds `--connections` MQTT 3.1.1 connections to
// the NATS cluster (the three nodes as failover, the first one rotated so
// that the connections spread over the nodes); connection g is store g,
// and in the burst also stores g + k * total (k = 1 .. per-connection - 1).
//
// Each store follows the fog's protocol (fog/src/forwarder.h): one Z in
// flight, published at QoS 1 on its submit topic, resent on the fog's own
// schedule (ledger::ResendBackoff from --resend-ms, by default the fog's
// retry_min_ms, up to its retry_max_ms, with its jitter) until an answer on its
// answer topic (subscribed at QoS 0) verifies: the inclusion proof and the
// head's signature against the pinned ledger key, and the consistency proof
// from the head it trusted before. Only then is the Z receipted and the
// next one may go.
//
// The parent paces the phases through files (chain_bench.h). At the end one
// ChainStoresReport goes to stdout as JSON.
//
// Threads: Paho's (answers, verified under the store's own lock), one
// pacing thread (issues Zs and sends what is due) and the main thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "bench.h"
#include "chain_bench.h"
#include "host.h"
#include "sim/json.h"
#include "storenode/common/ledger.h"
#include "storenode/common/log.h"
#include "storenode/common/mqtt.h"
#include "storenode/schemas/bench.pb.h"
#include "storenode/schemas/ledger.pb.h"

namespace storenode::bench {

std::string ChainStoreId(uint32_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "bench-s%06u", index + 1);
  return buf;
}

std::string ChainSignalPath(const std::string& dir, std::string_view what) {
  return dir + "/" + std::string(what);
}

v1::SignedZ ChainFog::Next() {
  v1::ZReport z;
  const uint64_t n = next;
  z.set_store_id(store);
  char day[16];
  std::snprintf(day, sizeof(day), "2026-%02d-%02d", static_cast<int>(1 + (n / 28) % 12),
                static_cast<int>(1 + n % 28));
  z.set_business_day(day);
  z.set_z_number(n);
  z.set_kind("Z");
  z.set_period_start_us(1'800'000'000'000'000 + static_cast<int64_t>(n) * 86'400'000'000);
  z.set_period_end_us(z.period_start_us() + 50'000'000'000);
  z.set_software_version("storenode-fogd 0.9.0");
  z.set_created_us(z.period_end_us() + 1'000'000);
  z.set_store_name("Bench Store " + store);
  z.set_store_address("1 High Street, Springfield");
  z.set_store_tax_id("DE123456789");
  z.set_currency("EUR");
  z.set_currency_decimals(2);
  z.set_time_zone("Europe/Berlin");
  z.set_settings_version(3);
  v1::DayTotals* t = z.mutable_totals();
  t->set_store_id(store);
  t->set_business_day(day);
  const int64_t net = 1'000'000 + static_cast<int64_t>(n % 977) * 1'000;
  const std::string hash_bytes(32, static_cast<char>(n));
  for (int k = 1; k <= 8; ++k) {
    const std::string device = "till-" + std::to_string(k);
    v1::ZTill* till = z.add_tills();
    till->set_device_id(device);
    till->set_sealed(true);
    till->set_journal_id("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0" +
                         std::to_string(k));
    till->set_first_seq(n * 400 + 1);
    till->set_last_seq(n * 400 + 400);
    till->set_event_count(400);
    till->set_first_receipt_no(n * 300 + 1);
    till->set_last_receipt_no(n * 300 + 300);
    till->set_receipt_count(300);
    till->set_head_seq(n * 400 + 400);
    till->set_head_hash(hash_bytes);
    v1::DrawerTotal* d = t->add_drawers();
    d->set_device_id(device);
    d->set_opening_float(20'000);
    d->set_cash_sales(net / 8);
    d->set_cash_refunds(1'500);
    d->set_pay_ins(0);
    d->set_pay_outs(2'000);
    d->set_drops(50'000);
    d->set_expected(20'000 + net / 8 - 1'500 - 2'000 - 50'000);
    v1::DrawerCount* c = z.add_drawer_counts();
    c->set_device_id(device);
    c->set_counted(true);
    c->set_counted_cash(d->expected() - 50);
    c->set_expected_cash(d->expected());
    c->set_over_short(-50);
  }
  const struct {
    const char* code;
    const char* name;
    int rate_bp;
    int share;
  } kTaxes[] = {{"A", "Standard", 1900, 60},
                {"B", "Reduced", 700, 25},
                {"C", "Deposit", 1900, 10},
                {"D", "Exempt", 0, 5}};
  int64_t tax_total = 0;
  for (const auto& tx : kTaxes) {
    v1::TaxTotal* tax = t->add_taxes();
    tax->set_tax_code(tx.code);
    tax->set_name(tx.name);
    tax->set_rate_bp(tx.rate_bp);
    tax->set_net(net * tx.share / 100);
    tax->set_tax(tax->net() * tx.rate_bp / 10'000);
    tax->set_gross(tax->net() + tax->tax());
    tax_total += tax->tax();
  }
  const char* kTenders[] = {"CASH", "CARD", "VOUCHER", "OTHER"};
  for (int k = 0; k < 4; ++k) {
    v1::TenderTotal* tender = t->add_tenders();
    tender->set_type(kTenders[k]);
    tender->set_count(600 / (k + 1));
    tender->set_sales(net / (k + 2));
    tender->set_refunds(k == 0 ? 6'000 : 0);
  }
  t->set_receipt_count(1'200);
  t->set_first_receipt_no(n * 1'200 + 1);
  t->set_last_receipt_no(n * 1'200 + 1'200);
  t->set_gross_sales(net + 25'000);
  t->set_discounts(9'000);
  t->set_refund_count(4);
  t->set_refunds(6'000);
  t->set_void_count(7);
  t->set_voids(3'100);
  t->set_net_sales(net);
  t->set_event_count(1'600);
  t->set_sealed(true);
  t->set_first_event_time_us(z.period_start_us());
  t->set_last_event_time_us(z.period_end_us());
  v1::GrandTotals* g = z.mutable_grand_totals();
  g->set_net_sales(net * static_cast<int64_t>(n));
  g->set_gross_sales((net + 25'000) * static_cast<int64_t>(n));
  g->set_discounts(9'000 * static_cast<int64_t>(n));
  g->set_refunds(6'000 * static_cast<int64_t>(n));
  g->set_voids(3'100 * static_cast<int64_t>(n));
  g->set_tax(tax_total * static_cast<int64_t>(n));
  g->set_receipts(1'200 * n);
  z.set_merkle_root(crypto::Sha256Of(hash_bytes).data(), 32);
  z.set_leaf_count(1'600);
  z.set_prev_z_hash(prev_hash);

  v1::SignedZ s;
  s.set_z(z.SerializeAsString());
  const crypto::Hash h = crypto::Sha256Of(s.z());
  s.set_hash(h.data(), h.size());
  const crypto::Signature sig = key.Sign(crypto::AsBytes(s.hash()));
  s.set_signature(sig.data(), sig.size());
  s.set_fog_public_key(key.public_key().data(), key.public_key().size());
  ++next;
  prev_hash = s.hash();
  return s;
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: bench chain-stores --dir DIR --first G --connections C --total-connections T\n"
    "         --per-connection K --mqtt URI,URI,URI --ledger-key HEX --rate R\n"
    "         --rate-s S --max-s S --resend-ms MS --drain-s S\n"
    "  one store process of bench chain (see chain_stores.cc)\n";

constexpr int kMaxErrors = 10;

struct Config {
  std::string dir, mqtt, ledger_key;
  uint32_t first = 0, connections = 0, total_connections = 0, per_connection = 5;
  uint32_t rate = 500, rate_s = 20, max_s = 30, resend_ms = ledger::kRetryMinMs, drain_s = 120;
};

// One simulated store. Guarded by mu: the pacing thread issues and sends,
// Paho's threads verify answers.
struct Store {
  explicit Store(std::string id) : fog(std::move(id)) {}
  std::mutex mu;
  ChainFog fog;
  mqtt::Client* client = nullptr;
  bool in_flight = false;
  v1::SignedZ z;      // the Z in flight
  size_t sample = 0;  // its index in the phase's samples
  bool sent_once = false;
  Clock::time_point next_send{};
  std::optional<ledger::ResendBackoff> backoff;
  v1::TreeHead trusted;
};

class StoresProcess {
 public:
  explicit StoresProcess(Config config) : config_(std::move(config)) {}

  Status Run(v1::ChainStoresReport* report);

 private:
  Status Connect(v1::ChainStoresReport* report);
  Status RunPhase(std::string_view name, v1::ChainStoresPhase* phase);
  // Issues `store`'s next Z now (it has none in flight).
  void Issue(Store& store, int64_t now_ns);
  // Sends every due submit; the number of stores with a Z in flight.
  size_t SendDue(const std::vector<Store*>& stores);
  void OnAnswer(const mqtt::Message& m);
  void Error(std::string what);

  const Config config_;
  crypto::PublicKey ledger_key_{};
  std::deque<Store> stores_;  // the connections' own stores first, then the burst's
  std::unordered_map<std::string, Store*> by_id_;
  std::vector<std::unique_ptr<mqtt::Client>> clients_;
  std::mutex samples_mu_;
  std::vector<int64_t> submit_ns_, receipt_ns_;
  std::atomic<uint64_t> resends_{0}, request_id_{0}, verify_errors_{0};
  std::mutex errors_mu_;
  std::vector<std::string> errors_;
};

void StoresProcess::Error(std::string what) {
  ++verify_errors_;
  std::lock_guard lock(errors_mu_);
  if (errors_.size() < kMaxErrors) errors_.push_back(std::move(what));
}

Status StoresProcess::Connect(v1::ChainStoresReport* report) {
  std::vector<std::string> uris;
  std::stringstream in(config_.mqtt);
  for (std::string uri; std::getline(in, uri, ',');) uris.push_back(uri);
  if (uris.empty()) return Status::Invalid("--mqtt names no server");
  SN_ASSIGN_OR_RETURN(std::string key_bytes, crypto::FromHex(config_.ledger_key));
  if (key_bytes.size() != ledger_key_.size())
    return Status::Invalid("--ledger-key is not 32 bytes");
  std::copy(key_bytes.begin(), key_bytes.end(), ledger_key_.begin());

  for (uint32_t k = 0; k < config_.per_connection; ++k) {
    for (uint32_t c = 0; c < config_.connections; ++c) {
      const uint32_t index = k * config_.total_connections + config_.first + c;
      Store& s = stores_.emplace_back(ChainStoreId(index));
      by_id_[s.fog.store] = &s;
    }
  }
  for (uint32_t c = 0; c < config_.connections; ++c) {
    const uint32_t g = config_.first + c;
    mqtt::Options o;
    o.uri = uris[g % uris.size()];
    for (size_t i = 1; i < uris.size(); ++i) o.failover_uris.push_back(uris[(g + i) % uris.size()]);
    o.protocol = mqtt::Protocol::kV3_1_1;
    o.client_id = "bench-chain-" + std::to_string(g);
    o.keepalive_s = 30;
    o.min_backoff = std::chrono::milliseconds(250);
    o.max_backoff = std::chrono::milliseconds(2000);
    std::unique_ptr<mqtt::Client> client = mqtt::Client::Create(o);
    client->OnMessage([this](const mqtt::Message& m) { OnAnswer(m); });
    for (uint32_t k = 0; k < config_.per_connection; ++k) {
      Store& s = stores_[k * config_.connections + c];
      s.client = client.get();
      SN_RETURN_IF_ERROR(client->Subscribe(ledger::AnswerTopic(s.fog.store), 0));
    }
    clients_.push_back(std::move(client));
  }
  // Every client connects in the background at once: one at a time, Paho
  // makes each after the first wait about 2 s.
  const auto start = Clock::now();
  for (auto& client : clients_) client->Start();
  const auto deadline = start + std::chrono::seconds(180);
  while (true) {
    size_t up = 0;
    for (auto& client : clients_) up += client->connected() ? 1 : 0;
    if (up == clients_.size()) break;
    if (Clock::now() > deadline) {
      return Status::Unavailable(std::to_string(up) + " of " + std::to_string(clients_.size()) +
                                 " connections up after 180 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  report->set_connect_s(Round(std::chrono::duration<double>(Clock::now() - start).count(), 2));
  report->set_connections(static_cast<uint32_t>(clients_.size()));
  return Status::Ok();
}

void StoresProcess::Issue(Store& s, int64_t now_ns) {
  s.z = s.fog.Next();
  s.in_flight = true;
  s.sent_once = false;
  s.next_send = Clock::now();
  if (!s.backoff) {
    s.backoff.emplace(config_.resend_ms, ledger::kRetryMaxMs,
                      std::hash<std::string>()(s.fog.store));
  }
  s.backoff->Reset();
  std::lock_guard lock(samples_mu_);
  s.sample = submit_ns_.size();
  submit_ns_.push_back(now_ns);
  receipt_ns_.push_back(0);
}

size_t StoresProcess::SendDue(const std::vector<Store*>& stores) {
  size_t in_flight = 0;
  const auto now = Clock::now();
  for (Store* s : stores) {
    mqtt::Message m;
    {
      std::lock_guard lock(s->mu);
      if (!s->in_flight) continue;
      ++in_flight;
      if (now < s->next_send) continue;
      v1::LedgerRequest r;
      r.set_request_id(++request_id_);
      *r.mutable_submit()->mutable_z() = s->z;
      r.mutable_submit()->set_known_tree_size(s->trusted.tree_size());
      m.topic = ledger::SubmitTopic(s->fog.store);
      m.payload = r.SerializeAsString();
      m.qos = 1;
      // Due again unless the publish goes out (below).
      s->next_send = now + std::chrono::milliseconds(100);
    }
    // Published without the store's lock: Paho calls OnAnswer with its own
    // lock held, which a publish waits for.
    if (!s->client->Publish(m).ok()) continue;  // not connected, or its window full
    std::lock_guard lock(s->mu);
    if (!s->in_flight) continue;  // receipted meanwhile
    if (s->sent_once) ++resends_;
    s->sent_once = true;
    s->next_send = now + std::chrono::milliseconds(s->backoff->NextMs());
  }
  return in_flight;
}

void StoresProcess::OnAnswer(const mqtt::Message& m) {
  v1::LedgerAnswer a;
  if (!a.ParseFromString(m.payload)) return Error("an answer that does not parse");
  auto it = by_id_.find(a.store_id());
  if (it == by_id_.end()) return;
  Store& s = *it->second;
  std::lock_guard lock(s.mu);
  if (!s.in_flight || a.z_number() != s.fog.next - 1) return;  // another Z's
  if (!a.has_accepted()) {
    if (a.has_rejected()) {
      Error(s.fog.store + " Z " + std::to_string(a.z_number()) +
            " rejected: " + a.rejected().code() + ": " + a.rejected().reason());
    }
    return;  // unavailable: resent when due
  }
  auto head = ledger::VerifyReceipt(a.accepted().receipt(), s.z.z(), ledger_key_);
  if (!head.ok()) {
    return Error(s.fog.store + " Z " + std::to_string(a.z_number()) + ": " +
                 head.status().ToString());
  }
  if (s.trusted.tree_size() > 0) {
    if (!a.accepted().has_consistency()) return;  // an answer to an older request
    auto next = ledger::VerifyConsistency(s.trusted, a.accepted().consistency(), ledger_key_);
    if (!next.ok() || next->root() != head->root()) {
      // Only a proof from the trusted head counts; others answer older resends.
      if (a.accepted().consistency().from_size() == s.trusted.tree_size()) {
        Error(s.fog.store + ": inconsistent heads: " + next.status().ToString());
      }
      return;
    }
  }
  s.trusted = *head;
  s.in_flight = false;
  const int64_t now_ns = MonotonicNanos();
  std::lock_guard samples(samples_mu_);
  receipt_ns_[s.sample] = now_ns;
}

Result<int64_t> WaitGo(const std::string& dir, std::string_view phase) {
  const std::string path = ChainSignalPath(dir, "go-" + std::string(phase));
  const auto deadline = Clock::now() + std::chrono::minutes(10);
  while (Clock::now() < deadline) {
    std::ifstream in(path);
    int64_t start_ns = 0;
    if (in >> start_ns) {
      while (MonotonicNanos() < start_ns) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return start_ns;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Unavailable("no " + path + " within 10 minutes");
}

Status StoresProcess::RunPhase(std::string_view name, v1::ChainStoresPhase* phase) {
  SN_ASSIGN_OR_RETURN(int64_t start_ns, WaitGo(config_.dir, name));
  {
    std::lock_guard lock(samples_mu_);
    submit_ns_.clear();
    receipt_ns_.clear();
  }
  const uint64_t resends_before = resends_;
  std::vector<Store*> own, all;
  for (size_t i = 0; i < stores_.size(); ++i) {
    all.push_back(&stores_[i]);
    if (i < config_.connections) own.push_back(&stores_[i]);
  }
  const bool burst = name == "burst";
  const std::vector<Store*>& active = burst ? all : own;
  const int64_t end_ns =
      start_ns + int64_t{name == "rate" ? config_.rate_s : config_.max_s} * 1'000'000'000;
  // Open loop at this process's share of --rate: Zs due by now.
  const double share = static_cast<double>(config_.rate) * config_.connections /
                       static_cast<double>(config_.total_connections);
  uint64_t issued = 0;
  size_t next_store = 0;
  if (burst) {
    for (Store* s : active) {
      std::lock_guard lock(s->mu);
      Issue(*s, start_ns);
    }
  }
  const int64_t drain_end = end_ns + int64_t{config_.drain_s} * 1'000'000'000;
  while (true) {
    const int64_t now_ns = MonotonicNanos();
    if (!burst && now_ns < end_ns) {
      if (name == "rate") {
        const uint64_t due =
            static_cast<uint64_t>(static_cast<double>(now_ns - start_ns) / 1e9 * share);
        // Round robin over the stores; one that still waits for its receipt
        // is skipped (one Z in flight per store).
        for (size_t tried = 0; issued < due && tried < active.size(); ++tried) {
          Store* s = active[next_store];
          next_store = (next_store + 1) % active.size();
          std::lock_guard lock(s->mu);
          if (s->in_flight) continue;
          Issue(*s, now_ns);
          ++issued;
        }
      } else {
        for (Store* s : active) {
          std::lock_guard lock(s->mu);
          if (!s->in_flight) Issue(*s, now_ns);
        }
      }
    }
    const size_t in_flight = SendDue(active);
    if ((burst || now_ns >= end_ns) && in_flight == 0) break;
    if (now_ns > drain_end) break;  // what is still in flight is lost
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  uint32_t up = 0;
  for (auto& client : clients_) up += client->connected() ? 1 : 0;
  phase->set_name(std::string(name));
  phase->set_connected(up);
  phase->set_resends(resends_ - resends_before);
  std::lock_guard lock(samples_mu_);
  for (size_t i = 0; i < submit_ns_.size(); ++i) {
    phase->add_submit_ns(submit_ns_[i]);
    phase->add_receipt_ns(receipt_ns_[i]);
  }
  std::ofstream(ChainSignalPath(config_.dir,
                                "done-" + std::string(name) + "-" + std::to_string(config_.first)))
      << "done\n";
  return Status::Ok();
}

Status StoresProcess::Run(v1::ChainStoresReport* report) {
  SN_RETURN_IF_ERROR(Connect(report));
  std::ofstream(ChainSignalPath(config_.dir, "ready-" + std::to_string(config_.first)))
      << "ready\n";
  for (std::string_view name : kChainPhases) {
    SN_RETURN_IF_ERROR(RunPhase(name, report->add_phases()));
  }
  report->set_verify_errors(verify_errors_);
  {
    std::lock_guard lock(errors_mu_);
    for (const std::string& e : errors_) report->add_errors(e);
  }
  for (auto& client : clients_) client->Stop();
  SN_ASSIGN_OR_RETURN(ProcUsage self, ReadSelfUsage());
  report->set_peak_rss_mb(Round(self.peak_rss_mb, 1));
  return Status::Ok();
}

}  // namespace

int RunChainStores(const std::vector<std::string>& args) {
  Config c;
  const Flag flags[] = {{"dir", &c.dir},
                        {"first", &c.first},
                        {"connections", &c.connections},
                        {"total-connections", &c.total_connections},
                        {"per-connection", &c.per_connection},
                        {"mqtt", &c.mqtt},
                        {"ledger-key", &c.ledger_key},
                        {"rate", &c.rate},
                        {"rate-s", &c.rate_s},
                        {"max-s", &c.max_s},
                        {"resend-ms", &c.resend_ms},
                        {"drain-s", &c.drain_s}};
  return RunMode<v1::ChainStoresReport>(
      "chain-stores", kUsage, args, flags,
      [&]() -> Status {
        if (c.dir.empty() || c.connections == 0 || c.total_connections < c.connections ||
            c.per_connection == 0) {
          return Status::Invalid("--dir, --connections, --total-connections and --per-connection");
        }
        // Paho's adapter logs through spdlog: to stderr, warnings only, so
        // that stdout holds the report alone.
        return log::Init("bench", "warn");
      },
      [&](v1::ChainStoresReport* r) { return StoresProcess(c).Run(r); });
}

}  // namespace storenode::bench
