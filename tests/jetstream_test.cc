// The ledger workers' JetStream client (tools/ledger-sink/jetstream.h)
// against a real three-node NATS cluster (tests/support/harness/nats.h):
// two workers share one durable pull consumer; submits come in through
// JetStream and through MQTT 3.1.1 (the fogs' way, subject mapping a/b/c ->
// a.b.c); a node is SIGKILLed or frozen while they drain. Delivery is at
// least once, so the figures asserted are the distinct payloads, exactly.
#include "jetstream.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/nats.h"
#include "storenode/common/ledger.h"
#include "storenode/common/mqtt.h"
#include "support/harness.h"

namespace storenode::ledger {
namespace {

using namespace std::chrono_literals;
using harness::NatsCluster;
using testing::MakeTempDir;
using testing::WaitFor;

struct Cluster {
  Cluster() : nats(MakeTempDir("natsjs")) {
    Status s = nats.Start();
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  JetStreamOptions Options() const {
    JetStreamOptions o;
    for (int i = 0; i < nats.nodes(); ++i) o.servers.push_back(nats.nats_url(i));
    return o;
  }
  std::unique_ptr<JetStream> Worker(const JetStreamOptions& o) {
    auto w = JetStream::Connect(o);
    INFO(w.status().ToString());
    REQUIRE(w.ok());
    return std::move(w).value();
  }
  int NodeNamed(const std::string& name) const {
    for (int i = 0; i < nats.nodes(); ++i) {
      if (nats.name(i) == name) return i;
    }
    return -1;
  }
  NatsCluster nats;
};

// What the workers drained, shared by their threads.
struct Drained {
  std::mutex mu;
  std::set<std::string> distinct;
  std::map<std::string, std::string> subject_of;
  std::set<uint64_t> seqs;
  size_t deliveries = 0;
  size_t per_worker[2] = {0, 0};
  int fetch_errors = 0, ack_errors = 0;
  int other_errors = 0;  // fetch errors other than Unavailable
  std::string last_error;

  size_t size() {
    std::lock_guard lk(mu);
    return distinct.size();
  }
};

// A worker's loop: fetch, record, ack, until `want` distinct payloads were
// drained (by either worker) or `deadline`.
void Work(JetStream& w, int index, Drained& d, size_t want,
          std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline && d.size() < want) {
    auto got = w.Fetch(100, 500ms);
    if (!got.ok()) {
      std::lock_guard lk(d.mu);
      ++d.fetch_errors;
      d.last_error = got.status().ToString();
      // Checked on the test's thread (Catch's CHECK is not thread-safe: two
      // workers failing at once, as a frozen node makes them, crashed it).
      if (got.status().code() != Code::kUnavailable) ++d.other_errors;
      std::this_thread::sleep_for(100ms);
      continue;
    }
    for (JetStream::Msg& m : *got) {
      {
        std::lock_guard lk(d.mu);
        std::string payload(m.data());
        d.distinct.insert(payload);
        d.subject_of[payload] = m.subject();
        d.seqs.insert(m.stream_seq());
        ++d.deliveries;
        ++d.per_worker[index];
      }
      if (Status a = w.Ack(m); !a.ok()) {
        std::lock_guard lk(d.mu);
        ++d.ack_errors;
        d.last_error = a.ToString();
      }
    }
  }
}

// Two workers drain in parallel; `during` runs on the test's thread once
// `at` distinct payloads are in (or never, with at = 0).
void DrainWithTwo(JetStream& w1, JetStream& w2, Drained& d, size_t want,
                  std::chrono::seconds timeout, size_t at = 0,
                  const std::function<void()>& during = {}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::thread t1([&] { Work(w1, 0, d, want, deadline); });
  std::thread t2([&] { Work(w2, 1, d, want, deadline); });
  if (during) {
    WaitFor([&] { return d.size() >= at; }, timeout);
    during();
  }
  t1.join();
  t2.join();
}

// sn/v1/ledger/{store}/submit as the NATS subject the MQTT listener maps it to.
std::string SubmitTopicSubject(const std::string& store) {
  std::string t = SubmitTopic(store);
  std::replace(t.begin(), t.end(), '/', '.');
  return t;
}

std::vector<std::string> PublishJs(JetStream& w, const std::string& prefix, int n) {
  std::vector<std::string> sent;
  for (int i = 0; i < n; ++i) {
    std::string payload = prefix + "-" + std::to_string(i);
    Status s = w.JsPublish(SubmitTopicSubject("store-" + std::to_string(i % 10)), payload);
    INFO(s.ToString());
    REQUIRE(s.ok());
    sent.push_back(payload);
  }
  return sent;
}

}  // namespace

TEST_CASE("two ledger workers share one durable consumer and get every submit, once after its ack",
          "[nats][jetstream][integration]") {
  Cluster c;
  JetStreamOptions o = c.Options();
  auto w1 = c.Worker(o);
  auto w2 = c.Worker(o);  // finds the stream and the consumer made by w1
  CHECK(w1->connected());
  CHECK(w2->connected());

  constexpr int kJs = 1900, kMqtt = 100, kAll = kJs + kMqtt;
  std::vector<std::string> sent = PublishJs(*w1, "js", kJs);
  // The fogs' way in: MQTT 3.1.1, QoS 1, topic sn/v1/ledger/store-7/submit.
  mqtt::Options mo;
  mo.uri = c.nats.mqtt_uri(1);
  mo.protocol = mqtt::Protocol::kV3_1_1;
  mo.client_id = "store-7-fog-ledger";
  auto fog = mqtt::Client::Create(mo);
  fog->Start();
  REQUIRE(WaitFor([&] { return fog->connected(); }, 30s));
  for (int i = 0; i < kMqtt; ++i) {
    mqtt::Message m;
    m.topic = SubmitTopic("store-7");
    m.payload = "mqtt-" + std::to_string(i);
    Status s = mqtt::PublishAndWait(*fog, m, 10s);
    INFO(s.ToString());
    REQUIRE(s.ok());
    sent.push_back(m.payload);
  }
  fog->Stop();

  Drained d;
  DrainWithTwo(*w1, *w2, d, kAll, 40s);
  INFO("fetch errors " << d.fetch_errors << ", ack errors " << d.ack_errors << ": "
                       << d.last_error);
  CHECK(d.distinct == std::set<std::string>(sent.begin(), sent.end()));
  CHECK(d.distinct.size() == size_t(kAll));
  CHECK(d.other_errors == 0);  // only Unavailable, while a node is away
  // A calm cluster, acks within ack_wait: each message once.
  CHECK(d.deliveries == size_t(kAll));
  CHECK(d.seqs.size() == size_t(kAll));
  CHECK(*d.seqs.begin() == 1);
  CHECK(*d.seqs.rbegin() == uint64_t(kAll));
  CHECK(d.per_worker[0] > 0);
  CHECK(d.per_worker[1] > 0);
  CHECK(d.per_worker[0] + d.per_worker[1] == size_t(kAll));
  CHECK(d.subject_of["mqtt-0"] == "sn.v1.ledger.store-7.submit");
  CHECK(d.subject_of["mqtt-99"] == "sn.v1.ledger.store-7.submit");
  CHECK(d.subject_of["js-13"] == "sn.v1.ledger.store-3.submit");
  CHECK(d.ack_errors == 0);

  // Acked is done: nothing comes again.
  for (JetStream* w : {w1.get(), w2.get()}) {
    auto again = w->Fetch(100, 1500ms);
    REQUIRE(again.ok());
    CHECK(again->empty());
  }
}

// What an earlier pull left pending (its messages came after its fetch timed
// out) is taken by the next fetches, and nothing is lost or made up. With more
// than half a batch pending and more arriving, libnats 3.4.1 wrote past its
// batch array (Fetch in jetstream.cc); that needs two pulls' messages to cross
// and is what the frozen-node case below hit, one run in five under valgrind.
TEST_CASE("what a timed-out pull left pending is taken by the next fetches and nothing is lost",
          "[nats][jetstream][integration]") {
  Cluster c;
  auto w = c.Worker(c.Options());
  std::vector<std::string> sent = PublishJs(*w, "early", 70);
  std::set<std::string> got;
  auto take = [&](Result<std::vector<JetStream::Msg>>& batch) {
    REQUIRE(batch.ok());
    for (const JetStream::Msg& m : *batch) got.insert(std::string(m.data()));
  };
  auto first = w->Fetch(100, 1ms);
  take(first);
  for (const std::string& p : PublishJs(*w, "late", 70)) sent.push_back(p);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (got.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    auto batch = w->Fetch(100, 500ms);
    take(batch);
    for (JetStream::Msg& m : *batch) REQUIRE(w->Ack(m).ok());
  }
  CHECK(got == std::set<std::string>(sent.begin(), sent.end()));
}

TEST_CASE("an unacked submit comes again after ack_wait, a nak'd one after its delay",
          "[nats][jetstream][integration]") {
  Cluster c;
  JetStreamOptions o = c.Options();
  o.ack_wait = 1500ms;
  auto w = c.Worker(o);
  for (const char* p : {"left", "naked", "acked"}) {
    REQUIRE(w->JsPublish(SubmitTopicSubject("store-1"), p).ok());
  }
  std::map<std::string, JetStream::Msg> first;
  REQUIRE(WaitFor(
      [&] {
        auto got = w->Fetch(3, 500ms);
        if (got.ok()) {
          for (JetStream::Msg& m : *got) first.emplace(std::string(m.data()), std::move(m));
        }
        return first.size() == 3;
      },
      10s));
  for (auto& [payload, m] : first) CHECK(m.delivered() == 1);
  CHECK(first.at("left").stream_seq() == 1);
  CHECK(first.at("acked").stream_seq() == 3);
  REQUIRE(w->Nak(first.at("naked"), 200ms).ok());
  REQUIRE(w->Ack(first.at("acked")).ok());
  const auto sent_at = std::chrono::steady_clock::now();

  std::map<std::string, uint64_t> again;  // payload -> delivered
  std::map<std::string, double> after_s;
  const auto deadline = sent_at + 10s;
  while (again.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    auto got = w->Fetch(3, 500ms);
    REQUIRE(got.ok());
    for (JetStream::Msg& m : *got) {
      std::string payload(m.data());
      again[payload] = m.delivered();
      after_s[payload] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count();
      REQUIRE(w->Ack(m).ok());
    }
  }
  REQUIRE(again.size() == 2);
  CHECK(again.at("left") == 2);
  CHECK(again.at("naked") == 2);
  // The unacked one only once its ack_wait ran out.
  CHECK(after_s.at("left") >= 1.0);
  auto none = w->Fetch(3, 2500ms);  // past another ack_wait
  REQUIRE(none.ok());
  CHECK(none->empty());

  // The stream's size cap.
  Status big = w->JsPublish(SubmitTopicSubject("store-1"), std::string(300 * 1024, 'z'));
  CHECK(big.code() == Code::kInvalidArgument);
  CHECK_THAT(big.message(),
             Catch::StartsWith("jetstream: publish on sn.v1.ledger.store-1.submit:"));
  // A worker with more subjects updates the stream to take them.
  JetStreamOptions more = o;
  more.subjects = {"sn.v1.ledger.*.submit", "sn.v1.chain.*.submit"};
  auto w2 = c.Worker(more);
  CHECK(w2->JsPublish("sn.v1.chain.store-1.submit", "chain").ok());
  auto taken = w2->Fetch(5, 2000ms);
  REQUIRE(taken.ok());
  REQUIRE(taken->size() == 1);
  REQUIRE(w2->Ack(taken->front()).ok());

  // A worker with a shorter keep updates the stream's MaxAge: a submit
  // nobody took in time is gone, and the stream's disk stays bounded.
  JetStreamOptions brief = more;
  brief.keep = 1500ms;
  auto w3 = c.Worker(brief);
  REQUIRE(w3->JsPublish(SubmitTopicSubject("store-1"), "stale").ok());
  std::this_thread::sleep_for(3s);
  auto aged = w3->Fetch(5, 1000ms);
  REQUIRE(aged.ok());
  CHECK(aged->empty());
}

TEST_CASE("a node SIGKILLed while two workers drain loses no submit",
          "[nats][jetstream][integration]") {
  Cluster c;
  JetStreamOptions o = c.Options();
  auto w1 = c.Worker(o);
  auto w2 = c.Worker(o);
  constexpr int kAll = 2000;
  std::vector<std::string> sent = PublishJs(*w1, "z", kAll);
  auto leader = w1->ConsumerLeader();
  INFO(leader.status().ToString());
  REQUIRE(leader.ok());
  const int victim = c.NodeNamed(*leader);
  REQUIRE(victim >= 0);

  Drained d;
  std::chrono::steady_clock::time_point killed_at;
  DrainWithTwo(*w1, *w2, d, kAll, 55s, 500, [&] {
    // The consumer's leader dies: the survivors elect another.
    c.nats.Kill(victim);
    killed_at = std::chrono::steady_clock::now();
  });
  const double drained_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  WARN("node " << *leader << " killed after " << 500 << "+ submits; the rest drained " << drained_s
               << " s later; " << d.deliveries - d.distinct.size() << " redeliveries, "
               << d.fetch_errors << " fetch errors (" << d.last_error << ")");
  CHECK(d.distinct == std::set<std::string>(sent.begin(), sent.end()));
  CHECK(d.distinct.size() == size_t(kAll));
  CHECK(d.other_errors == 0);  // only Unavailable, while a node is away
  CHECK(d.deliveries >= size_t(kAll));
}

TEST_CASE("a node frozen for 4 s while two workers drain loses no submit",
          "[nats][jetstream][integration]") {
  Cluster c;
  JetStreamOptions o = c.Options();
  auto w1 = c.Worker(o);
  auto w2 = c.Worker(o);
  constexpr int kAll = 1000;
  std::vector<std::string> sent = PublishJs(*w1, "p", kAll);
  auto leader = w1->ConsumerLeader();
  REQUIRE(leader.ok());
  const int frozen = c.NodeNamed(*leader);
  REQUIRE(frozen >= 0);

  Drained d;
  DrainWithTwo(*w1, *w2, d, kAll, 50s, 200, [&] {
    c.nats.Pause(frozen);
    std::this_thread::sleep_for(4s);
    c.nats.Resume(frozen);
  });
  INFO(d.fetch_errors << " fetch errors: " << d.last_error);
  CHECK(d.distinct == std::set<std::string>(sent.begin(), sent.end()));
  CHECK(d.distinct.size() == size_t(kAll));
  CHECK(d.other_errors == 0);  // only Unavailable, while a node is away
}

}  // namespace storenode::ledger
