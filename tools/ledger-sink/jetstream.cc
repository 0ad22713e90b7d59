// The JetStream client over libnats; libnats's types stay in this file.
#include "jetstream.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <utility>

namespace storenode::ledger {
namespace {

// "<what>: <status text> (JetStream error N; <libnats's last error>)".
std::string Describe(const std::string& what, natsStatus s, jsErrCode jerr = jsErrCode(0)) {
  std::string out = what + ": " + natsStatus_GetText(s);
  std::string detail;
  if (jerr != 0) detail = "JetStream error " + std::to_string(int(jerr));
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && last[0] != '\0') {
    detail += (detail.empty() ? "" : "; ") + std::string(last);
  }
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::vector<std::string> SubjectsOf(const jsStreamConfig& c) {
  return std::vector<std::string>(c.Subjects, c.Subjects + c.SubjectsLen);
}

// Errors that a later call may not see: the cluster is electing a leader,
// a node is away, the server was too slow.
bool Transient(natsStatus s, jsErrCode jerr) {
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_NO_SERVER ||
         s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED ||
         s == NATS_NOT_YET_CONNECTED || jerr == JSClusterNotAvailErr ||
         jerr == JSClusterNoPeersErr || jerr == JSStreamOfflineErr ||
         jerr == JSConsumerOfflineErr || jerr == JSInsufficientResourcesErr ||
         (s == NATS_ERR && jerr == 0);
}

}  // namespace

struct JetStream::Impl {
  Impl() = default;
  ~Impl() {
    natsSubscription_Destroy(sub);  // not Unsubscribe: the durable stays
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // Runs `call` (a JetStream API call) until it succeeds, fails for good or
  // `deadline` passes.
  template <typename Call>
  Status Retry(const std::string& what, std::chrono::steady_clock::time_point deadline,
               Call&& call);
  Status EnsureStream(std::chrono::steady_clock::time_point deadline);
  Status EnsureConsumer(std::chrono::steady_clock::time_point deadline);
  jsOptions ApiOptions() const {
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = options.api_timeout.count();
    return o;
  }

  JetStreamOptions options;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
};

template <typename Call>
Status JetStream::Impl::Retry(const std::string& what,
                              std::chrono::steady_clock::time_point deadline, Call&& call) {
  while (true) {
    jsErrCode jerr = jsErrCode(0);
    natsStatus s = call(&jerr);
    if (s == NATS_OK) return Status::Ok();
    Status failed = Status::Unavailable(Describe(what, s, jerr));
    if (!Transient(s, jerr)) return Status::Precondition(failed.message());
    if (std::chrono::steady_clock::now() >= deadline) return failed;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Status JetStream::Impl::EnsureStream(std::chrono::steady_clock::time_point deadline) {
  const JetStreamOptions& o = options;
  std::vector<const char*> subjects;
  for (const std::string& s : o.subjects) subjects.push_back(s.c_str());
  jsStreamConfig want;
  jsStreamConfig_Init(&want);
  want.Name = o.stream.c_str();
  want.Subjects = subjects.data();
  want.SubjectsLen = int(subjects.size());
  want.Storage = js_FileStorage;
  want.Retention = js_LimitsPolicy;
  want.Replicas = o.replicas;
  want.MaxMsgSize = int32_t(std::min<int64_t>(o.max_msg_bytes, INT32_MAX));
  want.MaxAge = Nanos(o.keep);
  jsOptions api = ApiOptions();

  jsStreamInfo* info = nullptr;
  bool missing = false;
  Status looked = Retry("jetstream: stream " + o.stream, deadline, [&](jsErrCode* jerr) {
    jsStreamInfo_Destroy(info);
    info = nullptr;
    natsStatus s = js_GetStreamInfo(&info, js, o.stream.c_str(), &api, jerr);
    missing = s == NATS_NOT_FOUND;
    return missing ? NATS_OK : s;
  });
  if (!looked.ok()) return looked;
  if (missing) {
    Status added =
        Retry("jetstream: cannot create stream " + o.stream, deadline, [&](jsErrCode* jerr) {
          jsStreamInfo* made = nullptr;
          natsStatus s = js_AddStream(&made, js, &want, &api, jerr);
          jsStreamInfo_Destroy(made);
          return s;
        });
    if (added.ok()) spdlog::info("jetstream: created stream {} (R{})", o.stream, o.replicas);
    return added;
  }
  const jsStreamConfig& have = *info->Config;
  std::string refusal;
  if (have.Storage != js_FileStorage) refusal = "it has memory storage, not file storage";
  if (have.Retention != js_LimitsPolicy) refusal = "its retention is not limits";
  const bool differs = SubjectsOf(have) != o.subjects || have.Replicas != o.replicas ||
                       have.MaxMsgSize != want.MaxMsgSize || have.MaxAge != want.MaxAge;
  jsStreamInfo_Destroy(info);
  if (!refusal.empty()) {
    return Status::Precondition("jetstream: stream " + o.stream + " exists and " + refusal);
  }
  if (!differs) return Status::Ok();
  Status updated =
      Retry("jetstream: cannot update stream " + o.stream, deadline, [&](jsErrCode* jerr) {
        jsStreamInfo* made = nullptr;
        natsStatus s = js_UpdateStream(&made, js, &want, &api, jerr);
        jsStreamInfo_Destroy(made);
        return s;
      });
  if (updated.ok()) {
    spdlog::warn("jetstream: stream {} updated to the configured subjects, R{}, size cap and age",
                 o.stream, o.replicas);
  }
  return updated;
}

Status JetStream::Impl::EnsureConsumer(std::chrono::steady_clock::time_point deadline) {
  const JetStreamOptions& o = options;
  jsConsumerConfig want;
  jsConsumerConfig_Init(&want);
  want.Durable = o.durable.c_str();
  want.AckPolicy = js_AckExplicit;
  want.DeliverPolicy = js_DeliverAll;
  want.AckWait = Nanos(o.ack_wait);
  want.MaxAckPending = o.max_ack_pending;
  jsOptions api = ApiOptions();

  jsConsumerInfo* info = nullptr;
  bool missing = false;
  Status looked = Retry("jetstream: consumer " + o.durable, deadline, [&](jsErrCode* jerr) {
    jsConsumerInfo_Destroy(info);
    info = nullptr;
    natsStatus s = js_GetConsumerInfo(&info, js, o.stream.c_str(), o.durable.c_str(), &api, jerr);
    missing = s == NATS_NOT_FOUND;
    return missing ? NATS_OK : s;
  });
  if (!looked.ok()) return looked;
  bool differs = false;
  if (!missing) {
    const jsConsumerConfig& have = *info->Config;
    if (have.AckPolicy != js_AckExplicit || have.DeliverSubject != nullptr) {
      jsConsumerInfo_Destroy(info);
      return Status::Precondition("jetstream: consumer " + o.durable + " of " + o.stream +
                                  " exists and is not an explicit-ack pull consumer");
    }
    differs = have.AckWait != want.AckWait || have.MaxAckPending != want.MaxAckPending;
  }
  jsConsumerInfo_Destroy(info);
  if (missing || differs) {
    Status made =
        Retry("jetstream: cannot make consumer " + o.durable, deadline, [&](jsErrCode* jerr) {
          jsConsumerInfo* ci = nullptr;
          natsStatus s = missing ? js_AddConsumer(&ci, js, o.stream.c_str(), &want, &api, jerr)
                                 : js_UpdateConsumer(&ci, js, o.stream.c_str(), &want, &api, jerr);
          jsConsumerInfo_Destroy(ci);
          return s;
        });
    if (!made.ok()) return made;
  }
  // Bound to the durable: destroying the subscription leaves it in place.
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.stream.c_str();
  so.Consumer = o.durable.c_str();
  return Retry("jetstream: cannot bind to consumer " + o.durable, deadline, [&](jsErrCode* jerr) {
    return js_PullSubscribe(&sub, js, o.subjects.front().c_str(), o.durable.c_str(), &api, &so,
                            jerr);
  });
}

// libnats starts threads of its own (timers, garbage collector, async
// callbacks) and keeps them until nats_Close: a process that exits while
// they run races exit-time cleanup against them (ledger-sink died now and
// then on SIGTERM with a SIGSEGV in a libnats thread's pthread_mutex_trylock).
// Closing the library when the last JetStream went and opening it again on
// the next Connect corrupted the heap in a process that does both (the
// tests: "malloc(): invalid size"), so the library is closed once, by the
// program, at its end.
void JetStream::CloseLibrary() {
  if (natsStatus s = nats_CloseAndWait(5000); s != NATS_OK) {
    spdlog::warn("{}", Describe("nats: closing the library", s));
  }
}

Result<std::unique_ptr<JetStream>> JetStream::Connect(const JetStreamOptions& options) {
  if (options.servers.empty()) return Status::Invalid("jetstream: no servers");
  if (options.subjects.empty()) return Status::Invalid("jetstream: no subjects");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;

  natsOptions* opts = nullptr;
  if (natsStatus s = natsOptions_Create(&opts); s != NATS_OK) {
    return Status::Io(Describe("jetstream: options", s));
  }
  std::vector<const char*> servers;
  for (const std::string& s : options.servers) servers.push_back(s.c_str());
  natsStatus s = natsOptions_SetServers(opts, servers.data(), int(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  // Connect is retried below with a deadline, not by libnats (which would
  // block forever with an unlimited reconnect count).
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, false, nullptr, nullptr);
  if (s == NATS_OK && !options.ca_file.empty()) {
    s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(opts, options.ca_file.c_str());
    if (s == NATS_OK && !options.cert_file.empty()) {
      s = natsOptions_LoadCertificatesChain(opts, options.cert_file.c_str(),
                                            options.key_file.c_str());
    }
  }
  if (s != NATS_OK) {
    natsOptions_Destroy(opts);
    return Status::Invalid(Describe("jetstream: options", s));
  }
  std::string last;
  while (true) {
    s = natsConnection_Connect(&impl->nc, opts);
    if (s == NATS_OK) break;
    last = Describe("jetstream: cannot connect", s);
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return Status::Unavailable(last);

  jsOptions api = impl->ApiOptions();
  if (s = natsConnection_JetStream(&impl->js, impl->nc, &api); s != NATS_OK) {
    return Status::Io(Describe("jetstream: context", s));
  }
  SN_RETURN_IF_ERROR(impl->EnsureStream(deadline));
  SN_RETURN_IF_ERROR(impl->EnsureConsumer(deadline));
  return std::unique_ptr<JetStream>(new JetStream(std::move(impl)));
}

JetStream::JetStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStream::~JetStream() = default;

JetStream::Msg::Msg(natsMsg* msg) : msg_(msg), subject_(natsMsg_GetSubject(msg)) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    stream_seq_ = meta->Sequence.Stream;
    delivered_ = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
  }
}

JetStream::Msg::Msg(Msg&& other) noexcept
    : msg_(std::exchange(other.msg_, nullptr)),
      subject_(std::move(other.subject_)),
      stream_seq_(other.stream_seq_),
      delivered_(other.delivered_) {}

JetStream::Msg& JetStream::Msg::operator=(Msg&& other) noexcept {
  if (this != &other) {
    natsMsg_Destroy(msg_);
    msg_ = std::exchange(other.msg_, nullptr);
    subject_ = std::move(other.subject_);
    stream_seq_ = other.stream_seq_;
    delivered_ = other.delivered_;
  }
  return *this;
}

JetStream::Msg::~Msg() { natsMsg_Destroy(msg_); }

std::string_view JetStream::Msg::data() const {
  if (msg_ == nullptr) return {};
  return {natsMsg_GetData(msg_), size_t(natsMsg_GetDataLength(msg_))};
}

Result<std::vector<JetStream::Msg>> JetStream::Fetch(int max, std::chrono::milliseconds wait) {
  if (max <= 0) return Status::Invalid("jetstream: fetch of " + std::to_string(max) + " messages");
  // libnats 3.4.1 (Debian 12) overflows its batch array when more than half
  // a batch is already pending in the subscription (left by an earlier pull
  // that timed out): it compares the running count with the batch it has
  // already reduced by the pending ones (fixed upstream after 3.6.1). With
  // anything pending, a batch of one is safe, and the pending are local.
  int pending = 0;
  if (natsSubscription_GetPending(impl_->sub, &pending, nullptr) == NATS_OK && pending > 0) {
    max = 1;
  }
  natsMsgList list{};
  jsErrCode jerr = jsErrCode(0);
  natsStatus s =
      natsSubscription_Fetch(&list, impl_->sub, max, std::max<int64_t>(wait.count(), 1), &jerr);
  std::vector<Msg> out;
  out.reserve(size_t(std::max(list.Count, 0)));
  for (int i = 0; i < list.Count; ++i) {
    out.push_back(Msg(std::exchange(list.Msgs[i], nullptr)));
  }
  natsMsgList_Destroy(&list);
  // A timeout is an empty fetch; whatever came before it is kept.
  if (s == NATS_OK || s == NATS_TIMEOUT || !out.empty()) return out;
  return Status::Unavailable(Describe(
      "jetstream: fetch from " + impl_->options.stream + "/" + impl_->options.durable, s, jerr));
}

Status JetStream::Ack(Msg& m) {
  if (m.msg_ == nullptr) return Status::Invalid("jetstream: ack of an empty message");
  natsStatus s = natsMsg_Ack(m.msg_, nullptr);
  if (s != NATS_OK) {
    return Status::Unavailable(
        Describe("jetstream: ack of stream seq " + std::to_string(m.stream_seq()), s));
  }
  return Status::Ok();
}

Status JetStream::Nak(Msg& m, std::chrono::milliseconds delay) {
  if (m.msg_ == nullptr) return Status::Invalid("jetstream: nak of an empty message");
  natsStatus s = natsMsg_NakWithDelay(m.msg_, delay.count(), nullptr);
  if (s != NATS_OK) {
    return Status::Unavailable(
        Describe("jetstream: nak of stream seq " + std::to_string(m.stream_seq()), s));
  }
  return Status::Ok();
}

Status JetStream::Publish(const std::string& subject, std::string_view data) {
  natsStatus s = natsConnection_Publish(impl_->nc, subject.c_str(), data.data(), int(data.size()));
  if (s != NATS_OK) return Status::Unavailable(Describe("nats: publish on " + subject, s));
  return Status::Ok();
}

Status JetStream::Flush(std::chrono::milliseconds timeout) {
  natsStatus s = natsConnection_FlushTimeout(impl_->nc, timeout.count());
  if (s != NATS_OK) return Status::Unavailable(Describe("nats: flush", s));
  return Status::Ok();
}

Status JetStream::JsPublish(const std::string& subject, std::string_view data) {
  jsPubAck* ack = nullptr;
  jsErrCode jerr = jsErrCode(0);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = impl_->options.api_timeout.count();
  natsStatus s =
      js_Publish(&ack, impl_->js, subject.c_str(), data.data(), int(data.size()), &po, &jerr);
  jsPubAck_Destroy(ack);
  if (s != NATS_OK) {
    std::string why = Describe("jetstream: publish on " + subject, s, jerr);
    if (jerr == JSStreamMessageExceedsMaximumErr) return Status::Invalid(why);
    return Status::Unavailable(why);
  }
  return Status::Ok();
}

bool JetStream::connected() const {
  return natsConnection_Status(impl_->nc) == NATS_CONN_STATUS_CONNECTED;
}

Result<std::string> JetStream::ConsumerLeader() {
  jsOptions api = impl_->ApiOptions();
  jsConsumerInfo* info = nullptr;
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_GetConsumerInfo(&info, impl_->js, impl_->options.stream.c_str(),
                                    impl_->options.durable.c_str(), &api, &jerr);
  if (s != NATS_OK) {
    return Status::Unavailable(Describe("jetstream: consumer " + impl_->options.durable, s, jerr));
  }
  std::string leader;
  if (info->Cluster != nullptr && info->Cluster->Leader != nullptr) leader = info->Cluster->Leader;
  jsConsumerInfo_Destroy(info);
  if (leader.empty()) {
    return Status::Unavailable("jetstream: consumer " + impl_->options.durable + " has no leader");
  }
  return leader;
}

}  // namespace storenode::ledger
