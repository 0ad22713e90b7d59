#include "ledger-sink/sink.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>

#include "storenode/common/ledger.h"
#include "storenode/common/service.h"

namespace storenode::ledger {
namespace {

// Submits taken as one batch (one transaction), and the longest wait for
// the first of them before the worker integrates anyway.
constexpr size_t kBatch = 256;
constexpr auto kRound = std::chrono::milliseconds(250);

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
  options.max_batch = kBatch;
  const std::string target =
      config.postgres.empty() ? config.data_dir + "/ledger.db" : config.postgres;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger,
                      Ledger::Open(target, key, std::move(options)));
  spdlog::info("ledger {} in {}: {} records, key {} ({})", config.ledger_id,
               config.postgres.empty() ? target : "PostgreSQL", ledger->tree_size(),
               crypto::Fingerprint(key.public_key()), crypto::ToHex(key.public_key()));
  return std::unique_ptr<Sink>(new Sink(config, std::move(ledger)));
}

Sink::Sink(SinkConfig config, std::unique_ptr<Ledger> ledger)
    : config_(std::move(config)), ledger_(std::move(ledger)) {}

Sink::~Sink() { Stop(); }

Status Sink::Start() {
  if (config_.nats.servers.empty()) {
    transport_ = MqttTransport(config_.broker);
  } else {
    transport_ = NatsTransport(config_.nats);
  }
  // What an earlier worker stored and did not integrate becomes leaves first;
  // their fogs resend and get the receipts as duplicates.
  std::vector<Outbound> dropped;
  Integrate(&dropped);
  SN_RETURN_IF_ERROR(transport_->Start([name = transport_->name()] {
    // Tests and operators wait for this line: from here on, submits are heard.
    spdlog::info("ledger-sink ready, subscribed to {} on {}", AllSubmitsTopic(), name);
    service::NotifyReady("subscribed to " + AllSubmitsTopic() + " on " + name);
  }));
  worker_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Sink::Stop() {
  if (stopping_.exchange(true)) return;
  service::NotifyStopping();
  if (worker_.joinable()) worker_.join();
  if (transport_) transport_->Stop();
}

void Sink::Run() {
  auto next_round = std::chrono::steady_clock::now();
  while (true) {
    service::FeedWatchdog();  // a wedged worker stops feeding it
    const bool stopping = stopping_;
    std::vector<Inbound> batch = transport_->Next(
        kBatch, stopping ? std::chrono::milliseconds(0) : std::chrono::milliseconds(50));
    if (stopping && batch.empty()) break;
    std::vector<Outbound> out = Store(batch);
    if (!batch.empty() || std::chrono::steady_clock::now() >= next_round) {
      Integrate(&out);
      next_round = std::chrono::steady_clock::now() + kRound;
    }
    transport_->Publish(std::move(out));
    if (!ledger_->failed().ok()) failed_ = true;
  }
}

std::vector<Outbound> Sink::Store(std::vector<Inbound>& batch) {
  std::vector<Outbound> out;
  std::vector<LedgerRequestIn> requests;
  for (const Inbound& m : batch) {
    const std::string store = StoreOfSubmit(m.topic);
    if (store.empty()) {
      spdlog::warn("ignored a message on {}: not a ledger submit topic", m.topic);
      continue;
    }
    LedgerRequestIn in{store, {}};
    if (!in.request.ParseFromString(m.payload)) {
      spdlog::warn("store {}: rejected malformed: {} bytes that do not parse as a LedgerRequest",
                   store, m.payload.size());
      v1::LedgerAnswer answer;
      answer.set_store_id(store);
      answer.mutable_rejected()->set_code(kMalformed);
      answer.mutable_rejected()->set_reason("the request does not parse as a LedgerRequest");
      out.push_back({AnswerTopic(store), answer.SerializeAsString()});
      continue;
    }
    requests.push_back(std::move(in));
  }
  auto answers = requests.empty()
                     ? Result<std::vector<v1::LedgerAnswer>>(std::vector<v1::LedgerAnswer>())
                     : ledger_->Accept(std::move(requests));
  // Invariant of transport.h: acknowledged only once stored.
  for (Inbound& m : batch) {
    auto& done = answers.ok() ? m.ack : m.nak;
    if (done) {
      if (Status s = done(); !s.ok()) spdlog::warn("acknowledging a submit: {}", s.ToString());
    }
  }
  if (!answers.ok()) {
    spdlog::warn("{} submits not stored, to be delivered again: {}", batch.size(),
                 answers.status().ToString());
    return out;
  }
  for (const v1::LedgerAnswer& a : *answers) {
    out.push_back({AnswerTopic(a.store_id()), a.SerializeAsString()});
  }
  return out;
}

void Sink::Integrate(std::vector<Outbound>* out) {
  while (true) {
    auto answers = ledger_->Integrate();
    if (!answers.ok()) {
      spdlog::warn("integration: {}", answers.status().ToString());
      return;
    }
    for (const v1::LedgerAnswer& a : *answers) {
      out->push_back({AnswerTopic(a.store_id()), a.SerializeAsString()});
    }
    if (answers->size() < kBatch) return;
  }
}

}  // namespace storenode::ledger
