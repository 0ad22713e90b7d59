// The in-memory broker (memory_broker.h). NOTES ON THE DESIGN
//
// One mutex (Core::mu) guards the broker's state and every client's
// connection state; one thread (Core::Run) takes tasks from one FIFO queue
// and runs them, calling the clients' callbacks with the mutex released.
//
// Invariants:
//  1. Every accepted Publish() is one kPublish task, queued in acceptance
//     order and run in that order: per-publisher order holds (promise 2).
//  2. A client's `session` grows on every connect and every loss. A task
//     carries the session it was queued in; a kConnect of an older session
//     is stale and skipped, and the on_done of a publish accepted in an
//     older session reports the connection loss (the message itself reached
//     the broker and is delivered, as an unacked publish may be).
//  3. `connected` flips to false at once in Partition(), Stop() and a
//     takeover, under the mutex, so Publish() refuses from that moment; the
//     OnDisconnected callback and the will follow on the broker thread, after
//     whatever was queued before.
//  4. A client's callbacks run under its own callback mutex, guarded by
//     `silenced`: Stop() sets it while holding that mutex, so no callback
//     runs after Stop() returns (unless Stop() runs inside one, on the
//     broker thread, where waiting would deadlock).
//  5. Retained messages and drop rules change only on the broker thread, in
//     task order, so a retained message is what the last publish on its
//     topic (in acceptance order) left.
#include "support/memory_broker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace storenode::testing {
namespace {

std::vector<std::string_view> Levels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

}  // namespace

bool TopicMatches(std::string_view filter, std::string_view topic) {
  // Wildcards do not match topics starting with '$' (MQTT 4.7.2).
  if (!topic.empty() && topic[0] == '$' && !filter.empty() &&
      (filter[0] == '+' || filter[0] == '#')) {
    return false;
  }
  std::vector<std::string_view> f = Levels(filter), t = Levels(topic);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return i + 1 == f.size();  // also matches the parent level
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

struct MemoryClient {
  mqtt::Options options;
  std::string id;

  // Set before Start(), read-only afterwards.
  std::function<void(const mqtt::Message&)> on_message;
  std::function<void(const mqtt::Oversized&)> on_oversized;
  std::function<void()> on_connected;
  std::function<void(const std::string&)> on_disconnected;

  // Under Core::mu.
  bool started = false;
  bool stopped = false;
  bool connected = false;
  uint64_t session = 0;  // invariant 2
  size_t inflight = 0;
  std::vector<std::pair<std::string, int>> subscriptions;

  // Invariant 4.
  std::mutex callback_mu;
  std::atomic<bool> silenced{false};

  template <typename F>
  void Guarded(F&& f) {
    std::lock_guard lock(callback_mu);
    if (silenced) return;
    f();
  }
  // The QoS this client gets `topic` at, if any of its filters matches.
  std::optional<int> Match(const std::string& topic) const {
    std::optional<int> qos;
    for (const auto& [filter, q] : subscriptions) {
      if (TopicMatches(filter, topic)) qos = std::max(qos.value_or(0), q);
    }
    return qos;
  }
};

struct MemoryBroker::Core {
  enum class Kind { kPublish, kConnect, kLost, kRetainedFor };
  struct Task {
    Kind kind = Kind::kPublish;
    std::shared_ptr<MemoryClient> client;  // the publisher, or the client concerned
    uint64_t session = 0;
    mqtt::Message message{};  // kPublish; kRetainedFor: its topic is the new filter
    std::function<void(Status)> on_done{};
    std::string cause{};  // kLost
  };
  struct DropRule {
    std::string filter;
    int remaining;  // < 0: all
  };

  explicit Core(size_t max) : max_queued(max) {}

  const size_t max_queued;
  mutable std::mutex mu;
  std::condition_variable cv;       // the broker thread waits for tasks
  std::condition_variable idle_cv;  // WaitIdle waits for none
  std::deque<Task> queue;
  bool running_task = false;
  bool stopping = false;
  std::vector<std::shared_ptr<MemoryClient>> clients;
  std::set<std::string> partitioned;
  std::vector<DropRule> drops;
  std::map<std::string, mqtt::Message> retained;
  Counts counts;
  std::thread thread;

  void Run();
  void RunTask(Task& task);
  void RunPublish(Task& task);
  void RunConnect(Task& task);
  void RunLost(Task& task);
  void RunRetainedFor(Task& task);
  // Under mu: the connected clients subscribed to `topic`, with their QoS.
  std::vector<std::pair<std::shared_ptr<MemoryClient>, int>> Recipients(const std::string& topic);
  // Routes `m` (retained store, drop rules, delivery); not under mu.
  // False when a drop rule discarded it.
  bool Route(const mqtt::Message& m);
  void Deliver(MemoryClient& c, const mqtt::Message& m);
  // Under mu: marks `c` disconnected (invariant 3) and queues its kLost.
  void LoseLocked(const std::shared_ptr<MemoryClient>& c, std::string cause);
  static std::unique_ptr<mqtt::Transport> NewClient(const std::shared_ptr<Core>& core,
                                                    mqtt::Options options);
  void Enqueue(Task t) {
    queue.push_back(std::move(t));
    cv.notify_one();
  }
};

void MemoryBroker::Core::Run() {
  std::unique_lock lock(mu);
  while (true) {
    cv.wait(lock, [&] { return stopping || !queue.empty(); });
    if (stopping) break;
    Task task = std::move(queue.front());
    queue.pop_front();
    running_task = true;
    lock.unlock();
    RunTask(task);
    task = Task{};  // its callbacks die outside the lock
    lock.lock();
    running_task = false;
    if (queue.empty()) idle_cv.notify_all();
  }
  // Nothing queued runs any more: its publishers get no on_done, as after a
  // broker crash.
  queue.clear();
  idle_cv.notify_all();
}

void MemoryBroker::Core::RunTask(Task& task) {
  switch (task.kind) {
    case Kind::kPublish:
      return RunPublish(task);
    case Kind::kConnect:
      return RunConnect(task);
    case Kind::kLost:
      return RunLost(task);
    case Kind::kRetainedFor:
      return RunRetainedFor(task);
  }
}

std::vector<std::pair<std::shared_ptr<MemoryClient>, int>> MemoryBroker::Core::Recipients(
    const std::string& topic) {
  std::vector<std::pair<std::shared_ptr<MemoryClient>, int>> out;
  for (const auto& c : clients) {
    if (!c->connected) continue;
    if (std::optional<int> qos = c->Match(topic)) out.emplace_back(c, *qos);
  }
  return out;
}

bool MemoryBroker::Core::Route(const mqtt::Message& m) {
  std::vector<std::pair<std::shared_ptr<MemoryClient>, int>> to;
  {
    std::lock_guard lock(mu);
    for (DropRule& rule : drops) {
      if (rule.remaining == 0 || !TopicMatches(rule.filter, m.topic)) continue;
      if (rule.remaining > 0) --rule.remaining;
      ++counts.dropped;
      return false;
    }
    if (m.retained) {
      if (m.payload.empty()) {
        retained.erase(m.topic);
      } else {
        retained[m.topic] = m;
      }
    }
    to = Recipients(m.topic);
  }
  for (auto& [client, qos] : to) {
    mqtt::Message copy = m;
    copy.qos = std::min(m.qos, qos);
    copy.retained = false;
    Deliver(*client, copy);
  }
  return true;
}

void MemoryBroker::Core::Deliver(MemoryClient& c, const mqtt::Message& m) {
  const mqtt::Options& o = c.options;
  if (o.max_packet_bytes > 0 && m.topic.size() + m.payload.size() > o.max_packet_bytes) {
    return;  // the broker never sends a packet over the client's maximum (v5 3.1.2.11.4)
  }
  {
    std::lock_guard lock(mu);
    ++counts.delivered;
  }
  if (o.max_payload_bytes > 0 && m.payload.size() > o.max_payload_bytes) {
    mqtt::Oversized big = mqtt::DescribeOversized(m.topic, m.payload);
    c.Guarded([&] {
      if (c.on_oversized) {
        c.on_oversized(big);
      } else {
        spdlog::warn("memory broker: {} dropped a message of {} bytes on {}", c.id, big.size,
                     big.topic);
      }
    });
    return;
  }
  c.Guarded([&] {
    if (c.on_message) c.on_message(m);
  });
}

void MemoryBroker::Core::RunPublish(Task& task) {
  Route(task.message);
  MemoryClient& c = *task.client;
  bool same_session;
  {
    std::lock_guard lock(mu);
    same_session = c.session == task.session;
    if (same_session && task.message.qos > 0 && c.inflight > 0) --c.inflight;
  }
  if (!task.on_done) return;
  Status s = same_session ? Status::Ok() : Status::Unavailable("memory broker: connection lost");
  c.Guarded([&] { task.on_done(std::move(s)); });
}

void MemoryBroker::Core::RunConnect(Task& task) {
  const std::shared_ptr<MemoryClient>& c = task.client;
  std::vector<mqtt::Message> kept;
  {
    std::lock_guard lock(mu);
    if (c->stopped || c->session != task.session || partitioned.count(c->id)) return;
    // Session takeover: the older connection with this id goes (its will too).
    for (const auto& other : clients) {
      if (other != c && other->id == c->id && other->connected) {
        LoseLocked(other, "session taken over by a new connection with its client id");
      }
    }
    c->connected = true;
    for (const auto& [topic, m] : retained) {
      if (c->Match(topic)) kept.push_back(m);
    }
  }
  for (mqtt::Message& m : kept) Deliver(*c, m);
  c->Guarded([&] {
    if (c->on_connected) c->on_connected();
  });
}

void MemoryBroker::Core::LoseLocked(const std::shared_ptr<MemoryClient>& c, std::string cause) {
  c->connected = false;
  ++c->session;
  c->inflight = 0;
  Task t;
  t.kind = Kind::kLost;
  t.client = c;
  t.cause = std::move(cause);
  Enqueue(std::move(t));
}

void MemoryBroker::Core::RunLost(Task& task) {
  MemoryClient& c = *task.client;
  c.Guarded([&] {
    if (c.on_disconnected) c.on_disconnected(task.cause);
  });
  if (c.options.will) {
    {
      std::lock_guard lock(mu);
      ++counts.wills;
    }
    Route(*c.options.will);
  }
}

void MemoryBroker::Core::RunRetainedFor(Task& task) {
  const std::shared_ptr<MemoryClient>& c = task.client;
  std::vector<mqtt::Message> kept;
  {
    std::lock_guard lock(mu);
    if (!c->connected || c->session != task.session) return;  // the next connect sends them
    for (const auto& [topic, m] : retained) {
      if (TopicMatches(task.message.topic, topic)) kept.push_back(m);
    }
  }
  for (mqtt::Message& m : kept) Deliver(*c, m);
}

namespace {

// One client of a MemoryBroker.
class MemoryTransport final : public mqtt::Transport {
 public:
  MemoryTransport(std::shared_ptr<MemoryBroker::Core> core, std::shared_ptr<MemoryClient> state)
      : core_(std::move(core)), c_(std::move(state)) {}
  ~MemoryTransport() override {
    Stop();
    std::lock_guard lock(core_->mu);
    auto& v = core_->clients;
    v.erase(std::remove(v.begin(), v.end(), c_), v.end());
  }

  void OnMessage(std::function<void(const mqtt::Message&)> f) override {
    c_->on_message = std::move(f);
  }
  void OnOversized(std::function<void(const mqtt::Oversized&)> f) override {
    c_->on_oversized = std::move(f);
  }
  void OnConnected(std::function<void()> f) override { c_->on_connected = std::move(f); }
  void OnDisconnected(std::function<void(const std::string&)> f) override {
    c_->on_disconnected = std::move(f);
  }

  Status Subscribe(std::string filter, int qos) override {
    SN_RETURN_IF_ERROR(mqtt::CheckSubscribe(filter, qos));
    std::lock_guard lock(core_->mu);
    for (const auto& [f, q] : c_->subscriptions) {
      if (f == filter && q == qos) return Status::Ok();
    }
    c_->subscriptions.emplace_back(filter, qos);
    if (c_->connected) {
      MemoryBroker::Core::Task t;
      t.kind = MemoryBroker::Core::Kind::kRetainedFor;
      t.client = c_;
      t.session = c_->session;
      t.message.topic = std::move(filter);
      core_->Enqueue(std::move(t));
    }
    return Status::Ok();
  }

  void Start() override {
    std::lock_guard lock(core_->mu);
    if (c_->started || c_->stopped) return;
    c_->started = true;
    MemoryBroker::Core::Task t;
    t.kind = MemoryBroker::Core::Kind::kConnect;
    t.client = c_;
    t.session = ++c_->session;
    core_->Enqueue(std::move(t));
  }

  void Stop() override {
    {
      std::lock_guard lock(core_->mu);
      c_->stopped = true;
      c_->connected = false;  // a clean disconnect: no will
      ++c_->session;
      c_->inflight = 0;
    }
    if (std::this_thread::get_id() == core_->thread.get_id()) {
      c_->silenced = true;  // inside one of the callbacks: waiting would deadlock
      return;
    }
    std::lock_guard lock(c_->callback_mu);
    c_->silenced = true;
  }

  bool connected() const override {
    std::lock_guard lock(core_->mu);
    return c_->connected;
  }

  Status Publish(const mqtt::Message& m, std::function<void(Status)> on_done) override {
    SN_RETURN_IF_ERROR(mqtt::CheckPublish(m));
    std::lock_guard lock(core_->mu);
    if (core_->stopping) return Status::Unavailable("memory broker: gone");
    if (!c_->connected) return Status::Unavailable("memory broker: " + c_->id + " not connected");
    const size_t max_inflight = static_cast<size_t>(std::max(c_->options.max_inflight, 1));
    if (m.qos > 0 && c_->inflight >= max_inflight) {
      return Status::Unavailable("memory broker: " + std::to_string(c_->inflight) +
                                 " publishes in flight");
    }
    if (core_->queue.size() >= core_->max_queued) {
      return Status::Unavailable("memory broker: " + std::to_string(core_->queue.size()) +
                                 " messages queued");
    }
    if (m.qos > 0) ++c_->inflight;
    ++core_->counts.published;
    MemoryBroker::Core::Task t;
    t.kind = MemoryBroker::Core::Kind::kPublish;
    t.client = c_;
    t.session = c_->session;
    t.message = m;
    t.on_done = std::move(on_done);
    core_->Enqueue(std::move(t));
    return Status::Ok();
  }

  size_t inflight() const override {
    std::lock_guard lock(core_->mu);
    return c_->inflight;
  }

 private:
  std::shared_ptr<MemoryBroker::Core> core_;
  std::shared_ptr<MemoryClient> c_;
};

}  // namespace

MemoryBroker::MemoryBroker(size_t max_queued) : core_(std::make_shared<Core>(max_queued)) {
  core_->thread = std::thread([core = core_.get()] { core->Run(); });
}

MemoryBroker::~MemoryBroker() {
  {
    std::lock_guard lock(core_->mu);
    core_->stopping = true;
    for (const auto& c : core_->clients) c->connected = false;
  }
  core_->cv.notify_all();
  core_->thread.join();
}

std::unique_ptr<mqtt::Transport> MemoryBroker::Core::NewClient(const std::shared_ptr<Core>& core,
                                                               mqtt::Options options) {
  auto state = std::make_shared<MemoryClient>();
  state->id = options.client_id.empty() ? mqtt::NewClientId("mem") : options.client_id;
  state->options = std::move(options);
  {
    std::lock_guard lock(core->mu);
    core->clients.push_back(state);
  }
  return std::make_unique<MemoryTransport>(core, std::move(state));
}

std::unique_ptr<mqtt::Transport> MemoryBroker::Connect(mqtt::Options options) {
  return Core::NewClient(core_, std::move(options));
}

mqtt::Connector MemoryBroker::Connector() {
  // Holds the core, not the broker: a connector that outlives the broker
  // makes clients that never connect.
  return [core = core_](mqtt::Options o) { return Core::NewClient(core, std::move(o)); };
}

void MemoryBroker::Drop(const std::string& filter, int count) {
  std::lock_guard lock(core_->mu);
  core_->drops.push_back({filter, count});
}

void MemoryBroker::Undrop(const std::string& filter) {
  std::lock_guard lock(core_->mu);
  auto& d = core_->drops;
  d.erase(std::remove_if(d.begin(), d.end(),
                         [&](const Core::DropRule& r) { return r.filter == filter; }),
          d.end());
}

void MemoryBroker::Partition(const std::string& client_id) {
  std::lock_guard lock(core_->mu);
  core_->partitioned.insert(client_id);
  for (const auto& c : core_->clients) {
    if (c->id == client_id && c->connected) core_->LoseLocked(c, "partitioned from the broker");
  }
}

void MemoryBroker::Heal(const std::string& client_id) {
  std::lock_guard lock(core_->mu);
  core_->partitioned.erase(client_id);
  for (const auto& c : core_->clients) {
    if (c->id != client_id || !c->started || c->stopped || c->connected) continue;
    Core::Task t;
    t.kind = Core::Kind::kConnect;
    t.client = c;
    t.session = ++c->session;
    core_->Enqueue(std::move(t));
  }
}

bool MemoryBroker::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(core_->mu);
  return core_->idle_cv.wait_for(lock, timeout, [&] {
    return core_->stopping || (core_->queue.empty() && !core_->running_task);
  });
}

std::optional<mqtt::Message> MemoryBroker::Retained(const std::string& topic) const {
  std::lock_guard lock(core_->mu);
  auto it = core_->retained.find(topic);
  if (it == core_->retained.end()) return std::nullopt;
  return it->second;
}

bool MemoryBroker::IsConnected(const std::string& client_id) const {
  std::lock_guard lock(core_->mu);
  for (const auto& c : core_->clients) {
    if (c->id == client_id && c->connected) return true;
  }
  return false;
}

MemoryBroker::Counts MemoryBroker::counts() const {
  std::lock_guard lock(core_->mu);
  return core_->counts;
}

}  // namespace storenode::testing
