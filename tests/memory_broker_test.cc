// The in-memory broker (tests/support/memory_broker.h), promise by promise:
// routing, order, retained messages, wills, v5 properties, size limits, the
// drop and partition switches and its bounds. No mosquitto, no sockets.
#include "support/memory_broker.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storenode/common/crypto.h"
#include "support/harness.h"
#include "support/recorder.h"

namespace storenode::testing {
namespace {

using namespace std::chrono_literals;
using mqtt::Message;

struct Peer {
  std::unique_ptr<mqtt::Transport> t;
  Recorder r;
};

// A started client of `broker` subscribed to `filters` (QoS 1 unless given).
std::unique_ptr<Peer> Join(MemoryBroker& broker, const std::string& id,
                           std::vector<std::pair<std::string, int>> filters = {},
                           mqtt::Options o = {}) {
  auto p = std::make_unique<Peer>();
  o.client_id = id;
  p->t = broker.Connect(o);
  p->r.Attach(*p->t);
  for (const auto& [f, q] : filters) REQUIRE(p->t->Subscribe(f, q).ok());
  p->t->Start();
  REQUIRE(WaitFor([&] { return p->t->connected() && p->r.connects() == 1; }, 5s));
  return p;
}

Message Msg(std::string topic, std::string payload, int qos = 1, bool retained = false) {
  Message m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.qos = qos;
  m.retained = retained;
  return m;
}

}  // namespace

TEST_CASE(
    "memory broker: topic filters match as MQTT says: + is one level, # is the rest and the parent",
    "[memory_broker][inprocess]") {
  CHECK(TopicMatches("a/b/c", "a/b/c"));
  CHECK_FALSE(TopicMatches("a/b/c", "a/b"));
  CHECK_FALSE(TopicMatches("a/b", "a/b/c"));
  CHECK(TopicMatches("a/+/c", "a/x/c"));
  CHECK_FALSE(TopicMatches("a/+/c", "a/x/y/c"));
  CHECK(TopicMatches("a/+", "a/"));  // an empty level is a level
  CHECK(TopicMatches("a/#", "a"));
  CHECK(TopicMatches("a/#", "a/b/c/d"));
  CHECK(TopicMatches("#", "sn/v1/store-1/dev/till-1/journal"));
  CHECK(TopicMatches("sn/v1/store-1/dev/+/journal", "sn/v1/store-1/dev/till-1/journal"));
  CHECK_FALSE(TopicMatches("sn/v1/store-1/dev/+/journal", "sn/v1/store-2/dev/till-1/journal"));
  CHECK_FALSE(TopicMatches("#", "$SYS/uptime"));
  CHECK_FALSE(TopicMatches("+/uptime", "$SYS/uptime"));
}

TEST_CASE(
    "memory broker: a publish reaches each matching client once, at the lower QoS, with its v5 "
    "properties",
    "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto both = Join(broker, "both", {{"s/+/x", 1}, {"s/#", 0}});
  auto qos0 = Join(broker, "qos0", {{"s/a/x", 0}});
  auto other = Join(broker, "other", {{"t/#", 1}});
  auto pub = Join(broker, "pub");
  Message m = Msg("s/a/x", "hello");
  m.response_topic = "s/reply/pub";
  m.correlation_data = std::string("\x01\x00\x02", 3);
  REQUIRE(pub->t->Publish(m).ok());
  REQUIRE(broker.WaitIdle());
  REQUIRE(both->r.count() == 1);  // two filters match: one copy
  Message got = both->r.messages()[0];
  CHECK(got.payload == "hello");
  CHECK(got.qos == 1);  // the higher of its matching subscriptions
  CHECK_FALSE(got.retained);
  CHECK(got.response_topic == "s/reply/pub");
  CHECK(got.correlation_data == std::string("\x01\x00\x02", 3));
  REQUIRE(qos0->r.count() == 1);
  CHECK(qos0->r.messages()[0].qos == 0);
  CHECK(other->r.count() == 0);
  CHECK(pub->r.count() == 0);  // not subscribed to its own topic
  CHECK(broker.counts().published == 1);
  CHECK(broker.counts().delivered == 2);

  // Refused at once, as by Paho: no on_done.
  CHECK(pub->t->Publish(Msg("s/+/x", "wild")).code() == Code::kInvalidArgument);
  CHECK(pub->t->Publish(Msg("s/a/x", "q3", 3)).code() == Code::kInvalidArgument);
  CHECK(pub->t->Subscribe("", 1).code() == Code::kInvalidArgument);
}

TEST_CASE(
    "memory broker: each publisher's messages arrive in order, on the broker's thread, before "
    "on_done",
    "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto sub = Join(broker, "sub", {{"o/#", 1}});
  mqtt::Options many;
  many.max_inflight = 1000;  // the default 100 would refuse (as Paho does)
  auto p1 = Join(broker, "p1", {}, many);
  auto p2 = Join(broker, "p2", {}, many);
  constexpr int kEach = 500;
  std::mutex mu;
  std::vector<std::string> done_order;
  bool done_before_delivery = false;
  std::thread::id publishing_thread = std::this_thread::get_id();
  bool done_on_caller = false;
  int failed_dones = 0;
  for (int i = 0; i < kEach; ++i) {
    for (auto* p : {p1.get(), p2.get()}) {
      const std::string name = (p == p1.get() ? "a" : "b") + std::to_string(i);
      // QoS alternates: order holds across both.
      Message m = Msg(p == p1.get() ? "o/1" : "o/2", name, i % 2);
      // Catch's macros are not for other threads: record, check below.
      REQUIRE(p->t->Publish(m,
                            [&, name](Status s) {
                              std::lock_guard lk(mu);
                              if (!s.ok()) failed_dones++;
                              done_order.push_back(name);
                              std::vector<std::string> got = sub->r.payloads();
                              if (std::find(got.begin(), got.end(), name) == got.end())
                                done_before_delivery = true;
                              if (std::this_thread::get_id() == publishing_thread)
                                done_on_caller = true;
                            })
                  .ok());
    }
  }
  REQUIRE(broker.WaitIdle());
  std::vector<std::string> got = sub->r.payloads();
  REQUIRE(got.size() == 2 * kEach);
  int next_a = 0, next_b = 0;
  for (const std::string& p : got) {
    if (p[0] == 'a') REQUIRE(p == "a" + std::to_string(next_a++));
    if (p[0] == 'b') REQUIRE(p == "b" + std::to_string(next_b++));
  }
  CHECK(next_a == kEach);
  CHECK(next_b == kEach);
  std::lock_guard lk(mu);
  CHECK(done_order.size() == 2 * kEach);
  CHECK(failed_dones == 0);
  CHECK_FALSE(done_before_delivery);
  CHECK_FALSE(done_on_caller);
  for (std::thread::id t : sub->r.threads()) REQUIRE(t != publishing_thread);
}

TEST_CASE(
    "memory broker: retained messages reach later subscribers, an empty retained payload clears "
    "them",
    "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto pub = Join(broker, "pub");
  REQUIRE(pub->t->Publish(Msg("r/one", "v1", 1, true)).ok());
  REQUIRE(pub->t->Publish(Msg("r/one", "v2", 1, true)).ok());  // replaces v1
  REQUIRE(pub->t->Publish(Msg("r/two", "w", 1, true)).ok());
  REQUIRE(pub->t->Publish(Msg("r/three", "live only")).ok());  // not retained
  REQUIRE(broker.WaitIdle());
  REQUIRE(broker.Retained("r/one").has_value());
  CHECK(broker.Retained("r/one")->payload == "v2");

  // Subscribed before connecting: sent on connect, flagged retained.
  auto late = Join(broker, "late", {{"r/+", 1}});
  REQUIRE(broker.WaitIdle());
  auto got = late->r.messages();
  REQUIRE(got.size() == 2);
  std::map<std::string, std::string> by_topic;
  for (const Message& m : got) {
    CHECK(m.retained);
    by_topic[m.topic] = m.payload;
  }
  CHECK(by_topic == std::map<std::string, std::string>{{"r/one", "v2"}, {"r/two", "w"}});

  // Subscribed while connected: sent at once.
  auto later = Join(broker, "later");
  REQUIRE(later->t->Subscribe("r/two", 1).ok());
  REQUIRE(broker.WaitIdle());
  REQUIRE(later->r.count() == 1);
  CHECK(later->r.messages()[0].payload == "w");

  REQUIRE(pub->t->Publish(Msg("r/one", "", 1, true)).ok());  // clears r/one
  REQUIRE(broker.WaitIdle());
  CHECK_FALSE(broker.Retained("r/one").has_value());
  auto last = Join(broker, "last", {{"r/#", 1}});
  REQUIRE(broker.WaitIdle());
  REQUIRE(last->r.count() == 1);
  CHECK(last->r.messages()[0].topic == "r/two");
}

TEST_CASE("memory broker: a will is published when a client is partitioned, never on a clean Stop",
          "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto watcher = Join(broker, "watcher", {{"status/#", 1}});
  mqtt::Options with_will;
  with_will.will = Msg("status/a", "offline", 1, true);
  auto a = Join(broker, "a", {}, with_will);
  mqtt::Options with_will_b;
  with_will_b.will = Msg("status/b", "offline", 1, true);
  auto b = Join(broker, "b", {}, with_will_b);

  b->t->Stop();  // clean
  b.reset();
  broker.Partition("a");
  REQUIRE(broker.WaitIdle());
  auto got = watcher->r.messages();
  REQUIRE(got.size() == 1);
  CHECK(got[0].topic == "status/a");
  CHECK(got[0].payload == "offline");
  CHECK(broker.Retained("status/a")->payload == "offline");  // as a retained will
  CHECK_FALSE(broker.Retained("status/b").has_value());
  CHECK(broker.counts().wills == 1);
  CHECK(a->r.disconnects() == 1);
}

TEST_CASE(
    "memory broker: a payload over max_payload_bytes reaches OnOversized with its size, hash and "
    "prefix",
    "[memory_broker][inprocess]") {
  MemoryBroker broker;
  mqtt::Options small;
  small.max_payload_bytes = 1000;
  small.max_packet_bytes = 100000;
  auto sub = Join(broker, "sub", {{"big/#", 1}}, small);
  auto pub = Join(broker, "pub");
  std::string exact(1000, 'e'), over(1001, 'o'), huge(200000, 'h');
  for (size_t i = 0; i < over.size(); ++i) over[i] = static_cast<char>('a' + i % 26);
  for (const std::string* p : {&exact, &over, &huge}) {
    REQUIRE(pub->t->Publish(Msg("big/x", *p)).ok());
  }
  REQUIRE(broker.WaitIdle());
  REQUIRE(sub->r.count() == 1);  // the one at the limit
  CHECK(sub->r.messages()[0].payload == exact);
  auto big = sub->r.oversized();
  REQUIRE(big.size() == 1);  // `huge` is over the packet limit: never sent
  CHECK(big[0].topic == "big/x");
  CHECK(big[0].size == 1001);
  CHECK(big[0].sha256 == crypto::Sha256Of(over));
  CHECK(big[0].prefix == over.substr(0, mqtt::kOversizedPrefixBytes));
}

TEST_CASE("memory broker: drop discards the next N publishes on a filter, or all until undropped",
          "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto sub = Join(broker, "sub", {{"d/#", 1}});
  auto pub = Join(broker, "pub");
  broker.Drop("d/+/journal", 2);
  int ok_dones = 0;
  std::mutex mu;
  auto count_done = [&](Status s) {
    std::lock_guard lk(mu);
    if (s.ok()) ++ok_dones;
  };
  for (int i = 1; i <= 4; ++i) {
    REQUIRE(pub->t->Publish(Msg("d/t1/journal", "j" + std::to_string(i)), count_done).ok());
    REQUIRE(pub->t->Publish(Msg("d/t1/status", "s" + std::to_string(i)), count_done).ok());
  }
  REQUIRE(broker.WaitIdle());
  CHECK(sub->r.payloads() == std::vector<std::string>{"s1", "s2", "j3", "s3", "j4", "s4"});
  CHECK(broker.counts().dropped == 2);
  {
    std::lock_guard lk(mu);
    CHECK(ok_dones == 8);  // the broker "acked" what it lost
  }
  broker.Drop("d/#");
  REQUIRE(pub->t->Publish(Msg("d/x", "gone1", 1, true)).ok());
  REQUIRE(pub->t->Publish(Msg("d/y", "gone2")).ok());
  REQUIRE(broker.WaitIdle());
  CHECK(sub->r.count() == 6);
  CHECK_FALSE(broker.Retained("d/x").has_value());  // dropped before it was kept
  broker.Undrop("d/#");
  REQUIRE(pub->t->Publish(Msg("d/z", "back")).ok());
  REQUIRE(broker.WaitIdle());
  CHECK(sub->r.payloads().back() == "back");
  CHECK(broker.counts().dropped == 4);
}

TEST_CASE(
    "memory broker: a partitioned client is cut off until healed, then has its subscriptions back",
    "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto pub = Join(broker, "pub");
  auto till = Join(broker, "till", {{"cmd/till", 1}});
  REQUIRE(pub->t->Publish(Msg("cmd/till", "before")).ok());
  REQUIRE(broker.WaitIdle());
  REQUIRE(till->r.count() == 1);

  broker.Partition("till");
  CHECK_FALSE(till->t->connected());  // at once: Publish refuses from now on
  Status refused = till->t->Publish(Msg("up/till", "x"));
  CHECK(refused.code() == Code::kUnavailable);
  REQUIRE(broker.WaitIdle());
  CHECK(till->r.disconnects() == 1);
  CHECK_THAT(till->r.cause(), Catch::Contains("partitioned"));
  CHECK_FALSE(broker.IsConnected("till"));
  REQUIRE(pub->t->Publish(Msg("cmd/till", "while cut off")).ok());
  REQUIRE(pub->t->Publish(Msg("cmd/till", "kept", 1, true)).ok());
  REQUIRE(broker.WaitIdle());
  CHECK(till->r.count() == 1);

  broker.Heal("till");
  REQUIRE(WaitFor([&] { return till->r.connects() == 2; }, 5s));
  CHECK(till->t->connected());
  REQUIRE(broker.WaitIdle());
  // The retained message on reconnect; the live one sent while cut off is lost.
  CHECK(till->r.payloads() == std::vector<std::string>{"before", "kept"});
  REQUIRE(pub->t->Publish(Msg("cmd/till", "after")).ok());
  REQUIRE(broker.WaitIdle());
  CHECK(till->r.payloads().back() == "after");

  // A client partitioned before it starts does not connect until healed.
  broker.Partition("new");
  auto fresh = broker.Connect({.client_id = "new"});
  fresh->Start();
  REQUIRE(broker.WaitIdle());
  CHECK_FALSE(fresh->connected());
  broker.Heal("new");
  REQUIRE(WaitFor([&] { return fresh->connected(); }, 5s));
}

TEST_CASE(
    "memory broker: a second client with the same id takes the session over, its will goes out",
    "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto watcher = Join(broker, "watcher", {{"status/#", 1}});
  mqtt::Options o;
  o.will = Msg("status/till", "offline");
  auto first = Join(broker, "till", {}, o);
  auto second = Join(broker, "till", {}, o);
  REQUIRE(broker.WaitIdle());
  CHECK_FALSE(first->t->connected());
  CHECK(second->t->connected());
  CHECK(first->r.disconnects() == 1);
  CHECK(watcher->r.payloads() == std::vector<std::string>{"offline"});
}

TEST_CASE("memory broker: the broker's queue and a client's in-flight publishes are bounded",
          "[memory_broker][inprocess]") {
  MemoryBroker broker(/*max_queued=*/10);
  // A subscriber that holds the broker thread, so that publishes queue up.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  auto blocker = broker.Connect({.client_id = "blocker"});
  blocker->OnMessage([&](const Message&) {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return release; });
  });
  REQUIRE(blocker->Subscribe("hold", 1).ok());
  blocker->Start();
  REQUIRE(WaitFor([&] { return blocker->connected(); }, 5s));
  mqtt::Options few;
  few.max_inflight = 3;
  auto pub = Join(broker, "pub", {}, few);
  auto other = Join(broker, "other");
  REQUIRE(other->t->Publish(Msg("hold", "x", 0)).ok());
  REQUIRE(WaitFor([&] { return broker.counts().delivered == 1; }, 5s));  // thread held

  for (int i = 0; i < 3; ++i) REQUIRE(pub->t->Publish(Msg("q", "m", 1)).ok());
  CHECK(pub->t->inflight() == 3);
  Status full = pub->t->Publish(Msg("q", "m", 1));
  CHECK(full.code() == Code::kUnavailable);
  CHECK_THAT(full.message(), Catch::Contains("3 publishes in flight"));
  // QoS 0 does not count against max_inflight, but the queue bound holds.
  int accepted = 0;
  Status s;
  while ((s = pub->t->Publish(Msg("q", "m0", 0))).ok()) ++accepted;
  CHECK(accepted == 7);  // 10 queued in all
  CHECK(s.code() == Code::kUnavailable);
  CHECK_THAT(s.message(), Catch::Contains("10 messages queued"));
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  REQUIRE(broker.WaitIdle());
  CHECK(pub->t->inflight() == 0);
  CHECK(pub->t->Publish(Msg("q", "again", 1)).ok());
}

TEST_CASE("memory broker: no callback runs after Stop(), and outstanding publishes get no on_done",
          "[memory_broker][inprocess]") {
  MemoryBroker broker;
  auto sub = Join(broker, "sub", {{"s/#", 1}});
  mqtt::Options many;
  many.max_inflight = 1000;
  auto pub = Join(broker, "pub", {}, many);
  std::atomic<int> dones{0};
  for (int i = 0; i < 200; ++i) {
    REQUIRE(pub->t->Publish(Msg("s/x", std::to_string(i)), [&](Status) { ++dones; }).ok());
  }
  pub->t->Stop();
  sub->t->Stop();
  size_t seen = sub->r.count();
  int done_at_stop = dones.load();
  REQUIRE(broker.WaitIdle());
  CHECK(sub->r.count() == seen);
  CHECK(dones.load() == done_at_stop);
  CHECK_FALSE(pub->t->connected());
  CHECK(pub->t->Publish(Msg("s/x", "late")).code() == Code::kUnavailable);
  CHECK(broker.counts().wills == 0);
}

}  // namespace storenode::testing
