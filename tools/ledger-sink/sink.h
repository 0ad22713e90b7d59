// ledger-sink's daemon: submits in, one worker thread, answers out.
//
// The submits come from one of two transports (transport.h): the cloud
// broker over MQTT (mosquitto; the embedded setup, SQLite) or a JetStream
// stream on a NATS cluster through a durable pull consumer that every
// worker shares (the chain setup, PostgreSQL, any number of workers).
//
// The worker takes what arrived as one batch, stores it (Ledger::Accept, one
// transaction), acknowledges it to the transport only after that commit
// (a batch that could not be stored is left to be delivered again), then
// integrates (Ledger::Integrate) and publishes every answer. It integrates
// at least every 250 ms even with nothing new, so that a stored submit of a
// dead worker becomes a leaf, and a fresh head is signed every second.
// Start(), Stop() and failed() are called from one controlling thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ledger-sink/transport.h"
#include "ledger/ledger.h"
#include "storenode/common/broker_link.h"

namespace storenode::ledger {

struct SinkConfig {
  std::string source;  // the config file, for messages
  std::string ledger_id;
  std::string ledger_key_file;
  // MQTT transport (when nats.servers is empty).
  BrokerLink broker{.client_id = "storenode-ledger-sink"};
  // JetStream transport (when nats.servers is set).
  NatsLink nats;
  std::string data_dir;
  // PostgreSQL conninfo; empty: SQLite <data.dir>/ledger.db.
  std::string postgres;
  bool accept_unknown = true;
  std::map<std::string, crypto::PublicKey> pinned;
  std::string log_level = "info";
};

// Reads and checks the config file; every error is one line naming the file
// and the key.
Result<SinkConfig> LoadSinkConfig(const std::string& path);

class Sink {
 public:
  // Loads (or, on first start, creates) the signing key and opens the
  // ledger (PostgreSQL, or <data.dir>/ledger.db).
  static Result<std::unique_ptr<Sink>> Open(const SinkConfig& config);
  ~Sink();  // Stop()s
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Connects the transport and starts the worker; logs "ledger-sink ready"
  // once submits are heard.
  Status Start();
  // Answers what is queued, then disconnects. Idempotent.
  void Stop();
  // True once the ledger stopped after a failed write (Ledger::failed()):
  // the process should exit so that a restart reloads the stored truth.
  bool failed() const { return failed_; }

 private:
  Sink(SinkConfig config, std::unique_ptr<Ledger> ledger);
  void Run();
  // Parses, stores and acknowledges one batch; its immediate answers.
  std::vector<Outbound> Store(std::vector<Inbound>& batch);
  void Integrate(std::vector<Outbound>* out);

  const SinkConfig config_;
  std::unique_ptr<Ledger> ledger_;  // worker thread only
  std::unique_ptr<Transport> transport_;
  std::thread worker_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
};

}  // namespace storenode::ledger
