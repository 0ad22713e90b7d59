#include "sink.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>

#include "storenode/common/ledger.h"

namespace storenode::ledger {
namespace {

// Answers the worker could not publish because the client was busy (too many
// in flight). Bounded: a lost answer only costs the fog a resend, which gets
// the duplicate receipt.
constexpr size_t kMaxUnsent = 10000;

Result<crypto::SigningKey> LoadOrCreateKey(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) return crypto::SigningKey::Load(path);
  // Its directory may be new, like the data dir (ledger.key_file is checked
  // for that when the config is read).
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Io("cannot create the directory of " + path + ": " + ec.message());
  crypto::SigningKey key = crypto::SigningKey::Generate();
  SN_RETURN_IF_ERROR(key.Save(path));
  spdlog::info("made the ledger's signing key {}", path);
  return key;
}

}  // namespace

Result<std::unique_ptr<Sink>> Sink::Open(const SinkConfig& config) {
  SN_ASSIGN_OR_RETURN(crypto::SigningKey key, LoadOrCreateKey(config.ledger_key_file));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Status::Io("cannot create data dir " + config.data_dir + ": " + ec.message());
  LedgerOptions options;
  options.ledger_id = config.ledger_id;
  options.pinned_stores = config.pinned;
  options.accept_unknown_stores = config.accept_unknown;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger,
                      Ledger::Open(config.data_dir + "/ledger.db", key, std::move(options)));
  spdlog::info("ledger {} in {}/ledger.db: {} records, key {} ({})", config.ledger_id,
               config.data_dir, ledger->tree_size(), crypto::Fingerprint(key.public_key()),
               crypto::ToHex(key.public_key()));
  return std::unique_ptr<Sink>(new Sink(config, std::move(ledger)));
}

Sink::Sink(SinkConfig config, std::unique_ptr<Ledger> ledger)
    : config_(std::move(config)), ledger_(std::move(ledger)) {}

Sink::~Sink() { Stop(); }

Status Sink::Start() {
  if (config_.broker.uri.starts_with("tcp://")) {
    spdlog::warn(
        "broker connection is plain TCP (broker.insecure = true): Zs and receipts travel "
        "unencrypted");
  }
  client_ = mqtt::Client::Create(ToMqttOptions(config_.broker));
  client_->OnMessage([this](const mqtt::Message& m) { Enqueue(m); });
  client_->OnConnected([this] {
    spdlog::info("connected to broker {}", config_.broker.uri);
    // Tests and operators wait for this line: from here on, submits are heard.
    if (!ready_logged_.exchange(true)) {
      spdlog::info("ledger-sink ready, subscribed to {}", AllSubmitsTopic());
    }
  });
  client_->OnDisconnected(
      [](const std::string& cause) { spdlog::warn("broker connection lost: {}", cause); });
  SN_RETURN_IF_ERROR(client_->Subscribe(AllSubmitsTopic(), 1));
  worker_ = std::thread([this] { Run(); });
  client_->Start();
  return Status::Ok();
}

void Sink::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (worker_.joinable()) worker_.join();
  if (client_) client_->Stop();
}

void Sink::Enqueue(const mqtt::Message& m) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(m);
  }
  cv_.notify_one();
}

void Sink::Run() {
  while (true) {
    std::deque<mqtt::Message> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(50),
                   [&] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) break;
      batch.swap(queue_);
    }
    FlushUnsent();
    for (const mqtt::Message& m : batch) Answer(m);
    if (!ledger_->failed().ok()) failed_ = true;
  }
}

void Sink::Answer(const mqtt::Message& m) {
  const std::string store = StoreOfSubmit(m.topic);
  if (store.empty()) {
    spdlog::warn("ignored a message on {}: not a ledger submit topic", m.topic);
    return;
  }
  v1::LedgerRequest request;
  v1::LedgerAnswer answer;
  if (request.ParseFromString(m.payload)) {
    answer = ledger_->Handle(store, request);
  } else {
    spdlog::warn("store {}: rejected malformed: {} bytes that do not parse as a LedgerRequest",
                 store, m.payload.size());
    answer.set_store_id(store);
    answer.mutable_rejected()->set_code(kMalformed);
    answer.mutable_rejected()->set_reason("the request does not parse as a LedgerRequest");
  }
  mqtt::Message out;
  out.topic = AnswerTopic(store);
  out.payload = answer.SerializeAsString();
  out.qos = 1;
  Publish(std::move(out));
}

void Sink::Publish(mqtt::Message m) {
  // Keep the order of answers: nothing jumps the ones already waiting.
  if (unsent_.empty()) {
    Status s = client_->Publish(m);
    if (s.ok() || s.code() != Code::kUnavailable || !client_->connected()) return;
  }
  if (unsent_.size() < kMaxUnsent) unsent_.push_back(std::move(m));
}

void Sink::FlushUnsent() {
  while (!unsent_.empty()) {
    if (!client_->Publish(unsent_.front()).ok()) {
      // Offline: the fogs resend once it is back, and get their receipts then.
      if (!client_->connected()) unsent_.clear();
      return;
    }
    unsent_.pop_front();
  }
}

}  // namespace storenode::ledger
