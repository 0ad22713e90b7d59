// The chain's cloud end to end (issue 15): three NATS nodes with JetStream
// at R3, a throwaway PostgreSQL, two ledger-sink workers reading one
// durable pull consumer, and three stores' fog links speaking MQTT 3.1.1
// to all three nodes. The stores follow the fog's protocol (one Z in
// flight, resent until a receipt verifies, each receipt's head proven
// consistent with the one trusted before). In the middle of the burst a
// NATS node is SIGKILLed, a worker is SIGKILLed at its crash points, a node
// is frozen for 10 s and PostgreSQL is stopped fast. After each, every Z is
// in the log exactly once, every store holds a verified receipt for each of
// its Zs, and the ledger audits clean.
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>

#include "ledger/ledger.h"
#include "storenode/common/ledger.h"
#include "storenode/common/mqtt.h"
#include "support/chain_cloud.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/ledger_sink.h"
#include "support/ledger_zs.h"

using namespace storenode;
using namespace storenode::testing;
using namespace std::chrono_literals;

namespace {

// The stores' side: the fog's forwarder in miniature, on one MQTT 3.1.1
// connection with the three nodes as failover.
class Stores {
 public:
  Stores(const harness::NatsCluster& nats, int stores, int zs_each) {
    for (int s = 0; s < stores; ++s) {
      State& st = state_.emplace_back(FakeFog("store-" + std::to_string(s + 1)));
      for (int n = 0; n < zs_each; ++n) st.zs.push_back(st.fog.Next(100 * n + s));
    }
    mqtt::Options o;
    o.uri = nats.mqtt_uri(0);
    o.failover_uris = {nats.mqtt_uri(1), nats.mqtt_uri(2)};
    o.protocol = mqtt::Protocol::kV3_1_1;
    o.client_id = "chain-test-stores";
    o.min_backoff = 100ms;
    o.max_backoff = 1000ms;
    client_ = mqtt::Client::Create(o);
    client_->OnMessage([this](const mqtt::Message& m) { OnAnswer(m); });
    for (const State& st : state_)
      REQUIRE(client_->Subscribe(ledger::AnswerTopic(st.fog.store), 0).ok());
    client_->Start();
  }
  ~Stores() { client_->Stop(); }

  void Trust(const crypto::PublicKey& key) { key_ = key; }

  // Sends what is due: each store's next Z, or a resend after 2 s.
  void Poll() {
    struct Due {
      size_t store, done;
      mqtt::Message m;
    };
    std::vector<Due> due;
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < state_.size(); ++i) {
        State& st = state_[i];
        if (st.done == st.zs.size() || now - st.sent_at < 2s) continue;
        v1::LedgerRequest r = SubmitOf(st.zs[st.done], st.trusted.tree_size(), ++request_id_);
        Due& d = due.emplace_back(Due{i, st.done, {}});
        d.m.topic = ledger::SubmitTopic(st.fog.store);
        d.m.payload = r.SerializeAsString();
        d.m.qos = 1;
      }
    }
    // Published without mu_: Paho calls OnAnswer, which takes mu_, with its
    // own lock held, and a publish waits for that lock (holding mu_ here
    // hung the test now and then).
    for (Due& d : due) {
      if (!client_->Publish(d.m).ok()) continue;
      std::lock_guard lock(mu_);
      if (state_[d.store].done == d.done) state_[d.store].sent_at = now;
    }
  }
  size_t receipted() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const State& st : state_) n += st.done;
    return n;
  }
  size_t total() const { return state_.size() * state_[0].zs.size(); }
  std::vector<std::string> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  // Polls until `n` Zs are receipted; false after `timeout`.
  bool RunUntil(size_t n, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (receipted() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      Poll();
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

 private:
  struct State {
    explicit State(FakeFog f) : fog(std::move(f)) {}
    FakeFog fog;
    std::vector<v1::SignedZ> zs;
    size_t done = 0;  // receipted: a prefix of zs
    v1::TreeHead trusted;
    std::chrono::steady_clock::time_point sent_at{};
  };

  void OnAnswer(const mqtt::Message& m) {
    v1::LedgerAnswer a;
    std::lock_guard lock(mu_);
    if (!a.ParseFromString(m.payload) || !key_) return;
    for (State& st : state_) {
      if (st.fog.store != a.store_id() || st.done == st.zs.size()) continue;
      if (a.z_number() != st.done + 1 || !a.has_accepted()) return;  // another Z's, or unavailable
      const v1::SignedZ& z = st.zs[st.done];
      auto head = ledger::VerifyReceipt(a.accepted().receipt(), z.z(), *key_);
      if (!head.ok()) {
        errors_.push_back(st.fog.store + " Z " + std::to_string(a.z_number()) + ": " +
                          head.status().ToString());
        return;
      }
      if (st.trusted.tree_size() > 0) {
        if (!a.accepted().has_consistency()) return;  // answered to an older request
        auto next = ledger::VerifyConsistency(st.trusted, a.accepted().consistency(), *key_);
        if (!next.ok() || next->root() != head->root()) {
          // A proof from a size this store no longer trusts: an answer to an
          // older resend. Only a proof from the trusted head counts.
          if (a.accepted().consistency().from_size() == st.trusted.tree_size()) {
            errors_.push_back(st.fog.store + ": inconsistent heads: " + next.status().ToString());
          }
          return;
        }
      }
      st.trusted = *head;
      ++st.done;
      st.sent_at = {};
    }
  }

  std::mutex mu_;
  std::vector<State> state_;
  std::vector<std::string> errors_;
  std::optional<crypto::PublicKey> key_;
  uint64_t request_id_ = 0;
  std::unique_ptr<mqtt::Client> client_;
};

}  // namespace

TEST_CASE(
    "chain: NATS node, worker, sequencer and PostgreSQL failures lose no Z and count none twice",
    "[chain][nats][integration]") {
  const std::string dir = MakeTempDir("sn-chain-");
  ChainCloud cloud(dir);
  harness::NatsCluster& nats = cloud.nats;
  harness::PgCluster& pg = cloud.pg;
  LedgerSinkProcess &a = cloud.a, &b = cloud.b;
  auto key = crypto::SigningKey::Load(a.key_path());
  REQUIRE(key.ok());

  Stores stores(nats, 3, 24);
  stores.Trust(key->public_key());
  auto phase = [&](size_t n, const char* what) {
    INFO(what << ": " << stores.receipted() << " of " << n << "\n" << a.Log() << "\n" << b.Log());
    REQUIRE(stores.RunUntil(n, 90s));
    CHECK(stores.errors().empty());
  };
  phase(6, "the first Zs");

  // A NATS node dies in the middle of the burst, and comes back.
  nats.Kill(0);
  phase(18, "after a node's death");
  REQUIRE(nats.Restart(0).ok());

  // A worker is SIGKILLed after storing a batch and before its ack, then
  // the other as the sequencer, in its transaction; each time the other one
  // (or the restart) carries on.
  auto alone_until_killed = [&](LedgerSinkProcess& doomed, const char* point) {
    doomed.Start(point);
    const bool died = WaitFor(
        [&] {
          stores.Poll();
          return doomed.Exited().has_value();
        },
        30s);
    INFO(point << "\n" << doomed.Log());
    REQUIRE(died);
    CHECK(*doomed.Exited() == -SIGKILL);
  };
  a.Stop();
  b.Stop();
  alone_until_killed(a, "ledger-after-commit");
  a.Start();  // makes the stored Z a leaf first; the resend is a duplicate
  phase(stores.receipted() + 1, "worker a back after its store's commit");
  a.Stop();
  alone_until_killed(b, "sequencer-before-commit");
  a.Start();
  b.Start();
  phase(36, "both workers back");

  // A node frozen for 10 s, as a stand-in for a partition.
  nats.Pause(1);
  std::this_thread::sleep_for(10s);
  nats.Resume(1);
  phase(48, "after a frozen node");

  // PostgreSQL stopped fast and started again.
  REQUIRE(pg.StopFast().ok());
  std::this_thread::sleep_for(2s);
  REQUIRE(pg.Start().ok());
  phase(stores.total(), "after PostgreSQL's restart");

  CHECK(a.Stop() == 0);
  CHECK(b.Stop() == 0);
  auto audit = ledger::VerifyLedgerDb(pg.conninfo());
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == stores.total());  // each Z once: the audit checks every chain
  CHECK(audit->stored() == 0);
  CHECK(audit->stores() == 3);
}
