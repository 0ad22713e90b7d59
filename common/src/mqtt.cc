// The MQTT adapter over Paho C++ (async client). Paho's types stay in this file.
//
// NOTES ON THE DESIGN
//
// One supervisor thread per client owns the connection life cycle:
//
//   connect ──ok──> restore subscriptions ──acked──> connected ──lost──┐
//      ^  └─failed─> backoff ─┐                                        │
//      └──────────────────────┴──────────────── backoff <──────────────┘
//
// Each step is a non-blocking Paho call whose result arrives on a Paho thread
// (ActionListener); the listener records it under mu_ and wakes the
// supervisor. The supervisor waits on the condition variable, never on a Paho
// token, so Stop() can interrupt any step. Paho's own automatic reconnect is
// not used: with a clean session the broker forgets subscriptions, and we
// want OnConnected to fire only after they are restored.
//
// Several servers (Options::failover_uris): each attempt hands Paho one
// server, `first_server_`. The first attempt is at uri; after a lost
// connection the next is at the server after the lost one, after a failed
// attempt at the next one, so no dead node is always tried first (a paused
// one costs a whole connect timeout). Never the whole list: Paho 1.3.12,
// handed one, answers the loss of a link by connecting the old attempt to
// the next server itself (nextOrClose), and a connect of ours that arrives
// once that link is up is dropped with no callback at all.
//
// Invariants:
//  1. `connected_` is true only between "subscriptions acked" and the first
//     loss notification; Publish() refuses otherwise, so nothing is buffered
//     in Paho while offline (sendWhileDisconnected is off).
//  2. Every accepted publish is in `pending_` until exactly one of: its ack,
//     its failure, or the connection loss that fails all of them. Whichever
//     comes first erases it; later notifications find nothing.
//  3. Results carry the attempt number they belong to; a result of an older
//     attempt is ignored.
//  4. User callbacks run through Guarded(), which counts them; Stop() closes
//     the gate and waits for the count to drain, so none runs after Stop().
//  5. The subscription list only grows. A filter added while connected is
//     sent by Subscribe(); one added before is sent by the supervisor, which
//     flips `connected_` under the same lock after checking that it has sent
//     them all, so each filter is sent once per session.
//  6. A received payload over Options::max_payload_bytes never reaches
//     OnMessage and is never copied whole: OnOversized gets its size,
//     SHA-256 and first kOversizedPrefixBytes (OnPahoMessage).
//  7. The supervisor waits for a connect result no longer than the connect
//     timeout plus kConnectGraceS; without one it closes whatever link Paho
//     holds and starts over, so a result Paho never sends cannot stall it.
//  8. On MQTT 3.1.1 nothing v5-only reaches Paho: Publish() and Subscribe()
//     refuse v5 properties and QoS 2 (CheckPublish, CheckSubscribe), and the
//     options are refused at Create() when they need v5 (max_packet_bytes,
//     a QoS 2 will), so nothing is dropped in silence.
#include "storenode/common/mqtt.h"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "storenode/common/crypto.h"

namespace storenode::mqtt {
namespace {

// Identifies the client whose callback this thread is running, so that Stop()
// called from a callback does not wait for itself.
thread_local const void* tls_callback_owner = nullptr;

// Invariant 7: how much longer than its connect timeout an attempt may take.
constexpr int kConnectGraceS = 5;

class ActionListener final : public ::mqtt::iaction_listener {
 public:
  using Handler = std::function<void(const ::mqtt::token&, bool ok)>;
  explicit ActionListener(Handler h) : handler_(std::move(h)) {}
  void on_success(const ::mqtt::token& tok) override { handler_(tok, true); }
  void on_failure(const ::mqtt::token& tok) override { handler_(tok, false); }

 private:
  Handler handler_;
};

uint64_t ContextId(const ::mqtt::token& tok) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(tok.get_user_context()));
}
void* AsContext(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }

std::string DescribeFailure(const ::mqtt::token& tok) {
  std::string s = "rc " + std::to_string(tok.get_return_code());
  if (const char* e = ::MQTTAsync_strerror(tok.get_return_code())) s += std::string(" (") + e + ")";
  auto reason = static_cast<int>(tok.get_reason_code());
  if (reason != 0) {
    s += ", reason " + std::to_string(reason);
    if (const char* r = ::MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(reason))) {
      s += std::string(" (") + r + ")";
    }
  }
  return s;
}

bool IsTls(const std::string& uri) {
  return uri.starts_with("ssl://") || uri.starts_with("mqtts://") || uri.starts_with("wss://");
}

int PahoVersion(Protocol p) { return p == Protocol::kV5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1; }

// Why `options` cannot be used with its protocol; empty when they can.
std::string ProtocolProblem(const Options& o) {
  if (o.protocol == Protocol::kV5) return {};
  if (o.max_packet_bytes > 0) {
    return "max_packet_bytes needs MQTT v5 (3.1.1 has no Maximum Packet Size)";
  }
  if (o.will && o.will->qos > 1) return "a QoS 2 will on MQTT 3.1.1 (QoS 0 or 1 only)";
  return {};
}

::mqtt::properties ToProperties(const Message& m) {
  ::mqtt::properties props;
  if (!m.response_topic.empty()) {
    props.add(::mqtt::property(::mqtt::property::RESPONSE_TOPIC, m.response_topic));
  }
  if (!m.correlation_data.empty()) {
    props.add(::mqtt::property(::mqtt::property::CORRELATION_DATA, m.correlation_data));
  }
  return props;
}

Message FromPaho(const ::mqtt::message& pm) {
  Message m;
  m.topic = pm.get_topic();
  m.payload = pm.get_payload_str();
  m.qos = pm.get_qos();
  m.retained = pm.is_retained();
  const ::mqtt::properties& props = pm.get_properties();
  if (props.contains(::mqtt::property::RESPONSE_TOPIC)) {
    m.response_topic = ::mqtt::get<std::string>(props, ::mqtt::property::RESPONSE_TOPIC);
  }
  if (props.contains(::mqtt::property::CORRELATION_DATA)) {
    m.correlation_data = ::mqtt::get<std::string>(props, ::mqtt::property::CORRELATION_DATA);
  }
  return m;
}

}  // namespace

const char* ProtocolName(Protocol protocol) {
  return protocol == Protocol::kV5 ? "mqtt5" : "mqtt3.1.1";
}

Status CheckPublish(const Message& m, Protocol protocol) {
  if (m.topic.empty()) return Status::Invalid("mqtt: empty topic");
  if (m.topic.find_first_of("+#") != std::string::npos) {
    return Status::Invalid("mqtt: wildcard in publish topic '" + m.topic + "'");
  }
  if (m.qos < 0 || m.qos > 2) return Status::Invalid("mqtt: bad qos " + std::to_string(m.qos));
  if (protocol == Protocol::kV3_1_1) {
    if (m.qos == 2) {
      return Status::Invalid("mqtt: QoS 2 publish on " + m.topic + " refused: MQTT 3.1.1 link " +
                             "(QoS 0 or 1 only)");
    }
    if (!m.response_topic.empty() || !m.correlation_data.empty()) {
      return Status::Invalid("mqtt: publish on " + m.topic + " refused: " +
                             (m.response_topic.empty() ? "correlation data" : "a response topic") +
                             " needs MQTT v5, the link speaks 3.1.1");
    }
  }
  return Status::Ok();
}

Status CheckSubscribe(const std::string& filter, int qos, Protocol protocol) {
  if (filter.empty()) return Status::Invalid("mqtt: empty topic filter");
  if (qos < 0 || qos > 2) return Status::Invalid("mqtt: bad qos " + std::to_string(qos));
  if (protocol == Protocol::kV3_1_1 && qos == 2) {
    return Status::Invalid("mqtt: QoS 2 subscription to " + filter +
                           " refused: MQTT 3.1.1 link (QoS 0 or 1 only)");
  }
  return Status::Ok();
}

std::vector<std::string> Servers(const Options& options) {
  std::vector<std::string> servers{options.uri};
  servers.insert(servers.end(), options.failover_uris.begin(), options.failover_uris.end());
  return servers;
}

Oversized DescribeOversized(std::string topic, std::string_view payload) {
  Oversized o;
  o.topic = std::move(topic);
  o.size = payload.size();
  o.sha256 = crypto::Sha256Of(payload);
  o.prefix.assign(payload.substr(0, kOversizedPrefixBytes));
  return o;
}

Connector PahoConnector() {
  return [](Options o) -> std::unique_ptr<Transport> { return Client::Create(std::move(o)); };
}

std::string NewClientId(std::string_view prefix) {
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  id += '-';
  for (int i = 60; i >= 0; i -= 4) id += kHex[(r >> i) & 0xf];
  return id;
}

struct Client::Impl {
  explicit Impl(Options o);
  ~Impl();

  // Runs f as a user callback unless Stop() has closed the gate (invariant 4).
  template <typename F>
  void Guarded(F&& f);

  void Run();  // the supervisor thread
  bool IssueConnect(uint64_t attempt);
  bool IssueSubscribe(uint64_t attempt, std::vector<std::pair<std::string, int>> subs);
  void SleepLocked(std::unique_lock<std::mutex>& lk, std::chrono::milliseconds d);
  std::chrono::milliseconds Jittered(std::chrono::milliseconds d);
  void Disconnect();

  void OnConnectResult(const ::mqtt::token& tok, bool ok);
  void OnSubscribeResult(const ::mqtt::token& tok, bool ok);
  void OnPublishResult(const ::mqtt::token& tok, bool ok);
  void OnLost(const std::string& cause);
  void OnPahoMessage(::mqtt::const_message_ptr pm);

  Status Publish(const Message& m, std::function<void(Status)> on_done);
  Status Subscribe(std::string filter, int qos);
  void Stop();

  const Options options_;
  const std::vector<std::string> servers_;  // Servers(options_)
  const std::string label_;                 // the servers, for log lines
  Status config_error_;                     // sticky: Paho refused the options
  ::mqtt::connect_options connect_options_;

  // Set before Start(), read-only afterwards.
  std::function<void(const Message&)> on_message_;
  std::function<void(const Oversized&)> on_oversized_;
  std::function<void()> on_connected_;
  std::function<void(const std::string&)> on_disconnected_;

  ActionListener connect_listener_{
      [this](const ::mqtt::token& t, bool ok) { OnConnectResult(t, ok); }};
  ActionListener subscribe_listener_{
      [this](const ::mqtt::token& t, bool ok) { OnSubscribeResult(t, ok); }};
  ActionListener publish_listener_{
      [this](const ::mqtt::token& t, bool ok) { OnPublishResult(t, ok); }};

  struct Pending {
    std::function<void(Status)> on_done;
    bool counted;  // QoS > 0: counts against max_inflight
  };

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stop_ = false;
  bool link_up_ = false;    // Paho has a connection (CONNACK seen, no loss yet)
  bool connected_ = false;  // link up and subscriptions restored
  uint64_t attempt_ = 0;
  std::optional<bool> connect_result_;
  std::string connect_error_;
  std::optional<bool> subscribe_result_;
  bool lost_ = false;
  std::string lost_cause_;
  size_t first_server_ = 0;  // where the next attempt starts in servers_
  std::string server_;       // of the link up (link_up_), as Paho names it
  std::vector<std::pair<std::string, int>> subscriptions_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_publish_id_ = 1;
  size_t inflight_ = 0;
  int callbacks_running_ = 0;
  bool callbacks_closed_ = false;
  std::minstd_rand rng_{std::random_device{}()};
  std::thread supervisor_;

  // Last: destroyed (explicitly, in ~Impl) while everything above is alive,
  // since Paho may still call the listeners while it shuts down.
  std::unique_ptr<::mqtt::async_client> cli_;
};

namespace {

std::string Label(const std::vector<std::string>& servers) {
  std::string label;
  for (const std::string& s : servers) label += (label.empty() ? "" : ",") + s;
  return label;
}

}  // namespace

Client::Impl::Impl(Options o)
    : options_(std::move(o)), servers_(Servers(options_)), label_(Label(servers_)) {
  std::string client_id = options_.client_id.empty() ? NewClientId("sn") : options_.client_id;
  if (std::string why = ProtocolProblem(options_); !why.empty()) {
    config_error_ = Status::Invalid("mqtt: bad options for " + label_ + ": " + why);
    spdlog::error("{}", config_error_.message());
    return;
  }
  const int version = PahoVersion(options_.protocol);
  try {
    ::mqtt::create_options create(version);
    // Paho counts commands not yet written to the socket against this limit
    // even while connected (default 100). Our inflight limit bounds QoS>0
    // publishes; the margin is for QoS 0 ones.
    create.set_max_buffered_messages(std::max(options_.max_inflight, 0) + 10000);
    create.set_send_while_disconnected(false);
    cli_ = std::make_unique<::mqtt::async_client>(options_.uri, client_id, create,
                                                  /*persistence=*/nullptr);

    ::mqtt::connect_options& c = connect_options_;
    c.set_mqtt_version(version);
    // Each version has its own flag and Paho rejects the other one's.
    c.set_clean_session(options_.protocol == Protocol::kV3_1_1);
    c.set_clean_start(options_.protocol == Protocol::kV5);
    c.set_keep_alive_interval(std::max(options_.keepalive_s, 1));
    c.set_connect_timeout(std::max(options_.keepalive_s, 1));
    c.set_max_inflight(std::max(options_.max_inflight, 1));
    if (options_.max_packet_bytes > 0) {
      c.set_properties(::mqtt::properties{
          ::mqtt::property(::mqtt::property::MAXIMUM_PACKET_SIZE, options_.max_packet_bytes)});
    }
    if (options_.will) {
      const Message& w = *options_.will;
      ::mqtt::will_options will(w.topic, ::mqtt::binary_ref(w.payload), w.qos, w.retained);
      c.set_will(std::move(will));
    }
    if (std::any_of(servers_.begin(), servers_.end(), IsTls)) {
      ::mqtt::ssl_options ssl;
      if (!options_.ca_file.empty()) ssl.set_trust_store(options_.ca_file);
      if (!options_.cert_file.empty()) ssl.set_key_store(options_.cert_file);
      if (!options_.key_file.empty()) ssl.set_private_key(options_.key_file);
      ssl.set_enable_server_cert_auth(true);
      ssl.set_verify(true);
      c.set_ssl(std::move(ssl));
    }

    cli_->set_message_callback(
        [this](::mqtt::const_message_ptr m) { OnPahoMessage(std::move(m)); });
    cli_->set_connection_lost_handler(
        [this](const std::string& cause) { OnLost(cause.empty() ? "connection lost" : cause); });
    cli_->set_disconnected_handler([this](const ::mqtt::properties&, ::mqtt::ReasonCode reason) {
      const char* r = ::MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(reason));
      OnLost(std::string("disconnected by broker: ") + (r ? r : std::to_string(int(reason))));
    });
  } catch (const std::exception& e) {
    config_error_ = Status::Invalid("mqtt: bad options for " + label_ + ": " + e.what());
    spdlog::error("{}", config_error_.message());
    cli_.reset();
  }
}

Client::Impl::~Impl() {
  Stop();
  cli_.reset();
}

template <typename F>
void Client::Impl::Guarded(F&& f) {
  {
    std::lock_guard lk(mu_);
    if (callbacks_closed_) return;
    ++callbacks_running_;
  }
  const void* outer = tls_callback_owner;
  tls_callback_owner = this;
  try {
    f();
  } catch (const std::exception& e) {
    // An exception must not unwind into Paho's C threads.
    spdlog::error("mqtt: callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("mqtt: callback threw");
  }
  tls_callback_owner = outer;
  {
    std::lock_guard lk(mu_);
    --callbacks_running_;
  }
  cv_.notify_all();
}

std::chrono::milliseconds Client::Impl::Jittered(std::chrono::milliseconds d) {
  // Spread reconnects of many tills after a broker restart: [d/2, d].
  std::uniform_int_distribution<int64_t> dist(d.count() / 2, std::max<int64_t>(d.count(), 1));
  return std::chrono::milliseconds(dist(rng_));
}

void Client::Impl::SleepLocked(std::unique_lock<std::mutex>& lk, std::chrono::milliseconds d) {
  cv_.wait_for(lk, d, [&] { return stop_; });
}

bool Client::Impl::IssueConnect(uint64_t attempt) {
  try {
    if (servers_.size() > 1) {
      std::string server;
      {
        std::lock_guard lk(mu_);
        server = servers_[first_server_];
      }
      connect_options_.set_servers(::mqtt::string_collection::create({server}));
    }
    cli_->connect(connect_options_, AsContext(attempt), connect_listener_);
    return true;
  } catch (const std::exception& e) {
    std::lock_guard lk(mu_);
    connect_error_ = e.what();
    return false;
  }
}

bool Client::Impl::IssueSubscribe(uint64_t attempt, std::vector<std::pair<std::string, int>> subs) {
  std::vector<std::string> filters;
  ::mqtt::iasync_client::qos_collection qos;
  for (auto& [filter, q] : subs) {
    filters.push_back(std::move(filter));
    qos.push_back(q);
  }
  try {
    cli_->subscribe(::mqtt::string_collection::create(std::move(filters)), qos, AsContext(attempt),
                    subscribe_listener_);
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("mqtt {}: subscribe failed: {}", label_, e.what());
    return false;
  }
}

void Client::Impl::Run() {
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds backoff = options_.min_backoff;
  auto next_backoff = [&] { backoff = std::min(backoff * 2, options_.max_backoff); };
  bool warned = false;  // log the first failure of a streak only
  const std::chrono::seconds connect_deadline(std::max(options_.keepalive_s, 1) + kConnectGraceS);

  std::unique_lock lk(mu_);
  while (!stop_) {
    const uint64_t attempt = ++attempt_;
    connect_result_.reset();
    lost_ = false;
    lost_cause_.clear();
    lk.unlock();
    bool issued = IssueConnect(attempt);
    lk.lock();
    if (issued &&
        !cv_.wait_for(lk, connect_deadline, [&] { return stop_ || connect_result_.has_value(); })) {
      // Invariant 7.
      connect_error_ =
          "no connect result from Paho within " + std::to_string(connect_deadline.count()) + " s";
      lk.unlock();
      Disconnect();
      lk.lock();
      ++attempt_;  // a late result of this attempt is ignored (invariant 3)
      connect_result_ = false;
    }
    if (stop_) break;
    if (!issued || !*connect_result_) {
      if (!warned) spdlog::warn("mqtt {}: connect failed: {}", label_, connect_error_);
      warned = true;
      first_server_ = (first_server_ + 1) % servers_.size();
      SleepLocked(lk, Jittered(backoff));
      next_backoff();
      continue;
    }
    warned = false;
    if (servers_.size() > 1) spdlog::info("mqtt {}: connected to {}", label_, server_);
    const auto up_since = Clock::now();

    // Restore subscriptions (invariant 5).
    size_t sent = 0;
    while (!stop_ && !lost_) {
      if (sent == subscriptions_.size()) {
        connected_ = true;
        break;
      }
      std::vector<std::pair<std::string, int>> batch(subscriptions_.begin() + sent,
                                                     subscriptions_.end());
      sent = subscriptions_.size();
      subscribe_result_.reset();
      lk.unlock();
      issued = IssueSubscribe(attempt, std::move(batch));
      lk.lock();
      if (issued) cv_.wait(lk, [&] { return stop_ || lost_ || subscribe_result_.has_value(); });
    }
    if (stop_) break;

    if (connected_) {
      lk.unlock();
      if (on_connected_) Guarded([&] { on_connected_(); });
      lk.lock();
      cv_.wait(lk, [&] { return stop_ || lost_; });
      if (stop_) break;
      std::string cause = lost_cause_;
      lk.unlock();
      if (on_disconnected_) Guarded([&] { on_disconnected_(cause); });
      lk.lock();
    }
    // The next attempt starts after the server just lost.
    auto at = std::find(servers_.begin(), servers_.end(), server_);
    if (at != servers_.end()) first_server_ = (size_t(at - servers_.begin()) + 1) % servers_.size();
    if (Clock::now() - up_since >= options_.max_backoff) backoff = options_.min_backoff;
    SleepLocked(lk, Jittered(backoff));
    next_backoff();
  }
  lk.unlock();
  Disconnect();
}

void Client::Impl::Disconnect() {
  // A normal disconnect (reason 0): the broker discards the will. Bounded, so
  // that a dead broker cannot hang Stop().
  try {
    if (!cli_->is_connected()) return;
    ::mqtt::token_ptr tok = cli_->disconnect(::mqtt::disconnect_options(0));
    tok->wait_for(std::chrono::seconds(2));
  } catch (const std::exception& e) {
    spdlog::debug("mqtt {}: disconnect: {}", label_, e.what());
  }
}

void Client::Impl::OnConnectResult(const ::mqtt::token& tok, bool ok) {
  std::string server = options_.uri;
  if (ok) {
    try {
      server = tok.get_connect_response().get_server_uri();
    } catch (const std::exception&) {
      // No response attached: a single server, the first.
    }
  }
  {
    std::lock_guard lk(mu_);
    if (ContextId(tok) != attempt_ || connect_result_) return;  // invariant 3
    connect_result_ = ok;
    if (ok) {
      link_up_ = true;
      server_ = std::move(server);
    } else {
      connect_error_ = DescribeFailure(tok);
    }
  }
  cv_.notify_all();
}

void Client::Impl::OnSubscribeResult(const ::mqtt::token& tok, bool ok) {
  if (!ok) {
    spdlog::warn("mqtt {}: subscribe failed: {}", label_, DescribeFailure(tok));
  } else {
    try {
      const ::mqtt::subscribe_response rsp = tok.get_subscribe_response();
      for (::mqtt::ReasonCode rc : rsp.get_reason_codes()) {
        if (static_cast<int>(rc) >= 0x80) {
          const char* r = ::MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(rc));
          spdlog::warn("mqtt {}: broker refused a subscription: {}", label_,
                       r ? r : std::to_string(int(rc)));
        }
      }
    } catch (const std::exception&) {
      // No v5 response attached; nothing to check.
    }
  }
  {
    std::lock_guard lk(mu_);
    if (ContextId(tok) != attempt_) return;
    subscribe_result_ = ok;
  }
  cv_.notify_all();
}

void Client::Impl::OnPublishResult(const ::mqtt::token& tok, bool ok) {
  std::function<void(Status)> done;
  {
    std::lock_guard lk(mu_);
    auto it = pending_.find(ContextId(tok));
    if (it == pending_.end()) return;  // already failed by OnLost (invariant 2)
    done = std::move(it->second.on_done);
    if (it->second.counted) --inflight_;
    pending_.erase(it);
  }
  if (!done) return;
  Status s =
      ok ? Status::Ok() : Status::Unavailable("mqtt: publish failed: " + DescribeFailure(tok));
  Guarded([&] { done(std::move(s)); });
}

void Client::Impl::OnLost(const std::string& cause) {
  std::map<uint64_t, Pending> failed;
  {
    std::lock_guard lk(mu_);
    // Paho may report one loss twice (DISCONNECT from the broker, then the
    // closed socket).
    if (!link_up_) return;
    link_up_ = false;
    connected_ = false;
    lost_ = true;
    lost_cause_ = cause;
    // Clean start: the broker forgets unacked messages; callers resend.
    failed.swap(pending_);
    inflight_ = 0;
  }
  cv_.notify_all();
  for (auto& [id, p] : failed) {
    if (p.on_done)
      Guarded([&] { p.on_done(Status::Unavailable("mqtt: connection lost: " + cause)); });
  }
}

void Client::Impl::OnPahoMessage(::mqtt::const_message_ptr pm) {
  if (!pm) return;
  const ::mqtt::binary_ref& payload = pm->get_payload_ref();
  if (options_.max_payload_bytes > 0 && payload.size() > options_.max_payload_bytes) {
    Oversized o =
        DescribeOversized(pm->get_topic(), std::string_view(payload.data(), payload.size()));
    if (on_oversized_) {
      Guarded([&] { on_oversized_(o); });
    } else {
      spdlog::warn("mqtt: dropped a message of {} bytes on {} (limit {})", o.size, o.topic,
                   options_.max_payload_bytes);
    }
    return;
  }
  if (!on_message_) return;
  Guarded([&] { on_message_(FromPaho(*pm)); });
}

Status Client::Impl::Publish(const Message& m, std::function<void(Status)> on_done) {
  SN_RETURN_IF_ERROR(config_error_);
  SN_RETURN_IF_ERROR(CheckPublish(m, options_.protocol));
  uint64_t id;
  {
    std::lock_guard lk(mu_);
    if (!connected_) return Status::Unavailable("mqtt: not connected to " + label_);
    const bool counted = m.qos > 0;
    if (counted && inflight_ >= static_cast<size_t>(std::max(options_.max_inflight, 1))) {
      return Status::Unavailable("mqtt: " + std::to_string(inflight_) + " publishes in flight");
    }
    id = next_publish_id_++;
    pending_.emplace(id, Pending{std::move(on_done), counted});
    if (counted) ++inflight_;
  }
  try {
    auto msg = ::mqtt::message::create(m.topic, m.payload.data(), m.payload.size(), m.qos,
                                       m.retained, ToProperties(m));
    cli_->publish(msg, AsContext(id), publish_listener_);
    return Status::Ok();
  } catch (const std::exception& e) {
    // Paho refused it, so no listener call will come: undo. If a loss got
    // there first it has already run on_done, so report success here to keep
    // "on_done runs exactly once iff Publish returned OK".
    std::lock_guard lk(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return Status::Ok();
    if (it->second.counted) --inflight_;
    pending_.erase(it);
    return Status::Unavailable(std::string("mqtt: publish refused: ") + e.what());
  }
}

Status Client::Impl::Subscribe(std::string filter, int qos) {
  SN_RETURN_IF_ERROR(config_error_);
  SN_RETURN_IF_ERROR(CheckSubscribe(filter, qos, options_.protocol));
  {
    std::lock_guard lk(mu_);
    for (const auto& [f, q] : subscriptions_) {
      if (f == filter && q == qos) return Status::Ok();
    }
    subscriptions_.emplace_back(filter, qos);
    if (!connected_) return Status::Ok();  // the supervisor sends it
  }
  try {
    cli_->subscribe(filter, qos);
  } catch (const std::exception& e) {
    // Remembered anyway: the next reconnect sends it.
    return Status::Unavailable(std::string("mqtt: subscribe: ") + e.what());
  }
  return Status::Ok();
}

void Client::Impl::Stop() {
  std::unique_lock lk(mu_);
  stop_ = true;
  connected_ = false;  // Publish() refuses from now on
  callbacks_closed_ = true;
  cv_.notify_all();
  const int self = tls_callback_owner == this ? 1 : 0;
  cv_.wait(lk, [&] { return callbacks_running_ <= self; });
  lk.unlock();
  if (supervisor_.joinable() && supervisor_.get_id() != std::this_thread::get_id()) {
    supervisor_.join();
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() = default;

std::unique_ptr<Client> Client::Create(Options options) {
  return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(std::move(options))));
}

void Client::OnMessage(std::function<void(const Message&)> f) { impl_->on_message_ = std::move(f); }
void Client::OnOversized(std::function<void(const Oversized&)> f) {
  impl_->on_oversized_ = std::move(f);
}

void Client::OnConnected(std::function<void()> f) { impl_->on_connected_ = std::move(f); }

void Client::OnDisconnected(std::function<void(const std::string&)> f) {
  impl_->on_disconnected_ = std::move(f);
}

Status Client::Subscribe(std::string filter, int qos) {
  return impl_->Subscribe(std::move(filter), qos);
}

void Client::Start() {
  Impl& d = *impl_;
  std::lock_guard lk(d.mu_);
  if (d.started_ || d.stop_) return;
  d.started_ = true;
  if (!d.config_error_.ok()) return;
  d.supervisor_ = std::thread([&d] { d.Run(); });
}

void Client::Stop() { impl_->Stop(); }

bool Client::connected() const {
  std::lock_guard lk(impl_->mu_);
  return impl_->connected_;
}

Status Client::Publish(const Message& m, std::function<void(Status)> on_done) {
  return impl_->Publish(m, std::move(on_done));
}

size_t Client::inflight() const {
  std::lock_guard lk(impl_->mu_);
  return impl_->inflight_;
}

std::string Client::server() const {
  std::lock_guard lk(impl_->mu_);
  return impl_->link_up_ ? impl_->server_ : std::string();
}

Status PublishAndWait(Transport& client, const Message& m, std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  SN_RETURN_IF_ERROR(client.Publish(m, [done](Status s) { done->set_value(std::move(s)); }));
  if (result.wait_for(timeout) != std::future_status::ready) {
    return Status::Unavailable("no ack from the broker within " + std::to_string(timeout.count()) +
                               " ms");
  }
  return result.get();
}

}  // namespace storenode::mqtt
