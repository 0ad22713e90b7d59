#include "support/ledger_sink.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "storenode/common/ledger.h"
#include "support/fog.h"

namespace storenode::testing {

LedgerSinkProcess::LedgerSinkProcess(std::string dir, std::string broker_uri)
    : dir_(std::move(dir)), broker_uri_(std::move(broker_uri)) {
  std::filesystem::create_directories(dir_);
}

void LedgerSinkProcess::Start(const std::string& crash_at) {
  std::ofstream config(config_path(), std::ios::trunc);
  config << "[ledger]\nid = \"chain-test\"\nkey_file = \"" << key_path() << "\"\n\n";
  if (nats.empty()) {
    config << "[broker]\nuri = \"" << broker_uri_ << "\"\nclient_id = \"ledger-sink-"
           << std::filesystem::path(dir_).filename().string() << "\"\n"
           << (broker_uri_.starts_with("tcp://") ? "insecure = true\n" : broker_tls);
  } else {
    config << "[nats]\nservers = [";
    for (size_t i = 0; i < nats.size(); ++i) config << (i ? ", \"" : "\"") << nats[i] << "\"";
    config << "]\n" << nats_tls;
  }
  if (!postgres.empty()) config << "\n[storage]\npostgres = \"" << postgres << "\"\n";
  config << "\n[data]\ndir = \"" << dir_ << "/data\"\n\n[log]\nlevel = \"info\"\n";
  config.close();
  log_path_ = dir_ + "/sink" + std::to_string(++starts_) + ".log";
  if (!crash_at.empty()) setenv("STORENODE_CRASH_AT", crash_at.c_str(), 1);
  auto p = Process::Spawn({std::string(SN_BIN_DIR) + "/ledger-sink", "--config", config_path()},
                          log_path_, log_path_);
  unsetenv("STORENODE_CRASH_AT");
  REQUIRE(p.ok());
  process_.emplace(std::move(*p));
  exit_.reset();
  const bool ready =
      WaitFor([&] { return ReadFile(log_path_).find("ledger-sink ready") != std::string::npos; },
              std::chrono::seconds(20));
  INFO(ReadFile(log_path_));
  REQUIRE(ready);
}

int LedgerSinkProcess::Wait() {
  if (!exit_) exit_ = process_->Wait().code;
  return *exit_;
}

std::optional<int> LedgerSinkProcess::Exited() {
  if (!exit_) {
    if (auto e = process_->Poll()) exit_ = e->code;
  }
  return exit_;
}

int LedgerSinkProcess::Stop() {
  if (!exit_) process_->Kill(SIGTERM);
  return Wait();
}

std::string LedgerSinkProcess::Log() const { return ReadFile(log_path_); }

std::string KeyHex(const std::string& key_path) {
  return crypto::ToHex(crypto::SigningKey::Load(key_path).value().public_key());
}

std::optional<v1::LedgerAnswer> AskLedger(TestClient& client, const std::string& store,
                                          const v1::LedgerRequest& request,
                                          std::chrono::milliseconds timeout) {
  client.Publish(ledger::SubmitTopic(store), request.SerializeAsString());
  std::optional<v1::LedgerAnswer> found;
  WaitFor(
      [&] {
        for (const mqtt::Message& m : client.Received(ledger::AnswerTopic(store))) {
          v1::LedgerAnswer a;
          if (a.ParseFromString(m.payload) && a.request_id() == request.request_id()) found = a;
        }
        return found.has_value();
      },
      timeout);
  return found;
}

}  // namespace storenode::testing
