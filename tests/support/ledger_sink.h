// The real ledger-sink binary for integration tests, with its own config,
// data dir and key, started on a given (cloud) broker.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storenode/schemas/ledger.pb.h"
#include "support/client.h"
#include "support/harness.h"

namespace storenode::testing {

class LedgerSinkProcess {
 public:
  // Creates `dir` if needed.
  LedgerSinkProcess(std::string dir, std::string broker_uri);

  std::string config_path() const { return dir_ + "/ledger-sink.toml"; }
  std::string db_path() const { return dir_ + "/data/ledger.db"; }
  std::string key_path() const { return dir_ + "/ledger.key"; }
  // TOML lines for the [broker] section (ca_file, cert_file, key_file) when
  // the broker uri is ssl://.
  std::string broker_tls;
  // The PostgreSQL backend's conninfo; empty: SQLite at db_path().
  std::string postgres;
  // The JetStream transport's servers (nats://...); empty: MQTT on the broker.
  std::vector<std::string> nats;
  // TOML lines for the [nats] section (ca_file, cert_file, key_file) when
  // the servers are tls://.
  std::string nats_tls;

  // Starts it and waits for its "ledger-sink ready" line (connected and
  // subscribed); REQUIREs it. With `crash_at`, STORENODE_CRASH_AT is set for
  // this run only (common/fault.h). Each start logs to a new file.
  void Start(const std::string& crash_at = "");
  int Wait();  // until it exits by itself; the exit code (-signal)
  // The exit code once it has exited, without waiting.
  std::optional<int> Exited();
  int Stop();  // SIGTERM, waits; the exit code
  std::string Log() const;

 private:
  std::string dir_, broker_uri_, log_path_;
  int starts_ = 0;
  std::optional<Process> process_;
  std::optional<int> exit_;  // of the current run, once reaped
};

// The public key of the signing key at `key_path`, in hex (a ledger key
// as fog.toml [ledger] public_key pins it).
std::string KeyHex(const std::string& key_path);

// Publishes `request` on the store's submit topic and waits for the answer
// with its request id (nullopt after `timeout`). `client` must subscribe to
// the store's answer topic.
std::optional<v1::LedgerAnswer> AskLedger(
    TestClient& client, const std::string& store, const v1::LedgerRequest& request,
    std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace storenode::testing
