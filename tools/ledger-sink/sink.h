// ledger-sink's daemon: the cloud broker in, one worker thread, answers out.
//
// The MQTT callback only parks messages on a queue (callbacks must not
// block); one worker thread owns the Ledger, answers each submit after its
// commit and publishes the answer at QoS 1. Start(), Stop() and failed() are
// called from one controlling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ledger/ledger.h"
#include "storenode/common/broker_link.h"
#include "storenode/common/mqtt.h"

namespace storenode::ledger {

struct SinkConfig {
  std::string source;  // the config file, for messages
  std::string ledger_id;
  std::string ledger_key_file;
  BrokerLink broker{.client_id = "storenode-ledger-sink"};
  std::string data_dir;
  bool accept_unknown = true;
  std::map<std::string, crypto::PublicKey> pinned;
  std::string log_level = "info";
};

// Reads and checks the config file; every error is one line naming the file
// and the key.
Result<SinkConfig> LoadSinkConfig(const std::string& path);

class Sink {
 public:
  // Loads (or, on first start, creates) the signing key and opens
  // <data.dir>/ledger.db.
  static Result<std::unique_ptr<Sink>> Open(const SinkConfig& config);
  ~Sink();  // Stop()s
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Subscribes and starts the worker; logs "ledger-sink ready" once the
  // first connection's subscription is acked.
  Status Start();
  // Answers what is queued, then disconnects. Idempotent.
  void Stop();
  // True once the ledger stopped after a failed write (Ledger::failed()):
  // the process should exit so that a restart reloads the file.
  bool failed() const { return failed_; }

 private:
  Sink(SinkConfig config, std::unique_ptr<Ledger> ledger);
  void Enqueue(const mqtt::Message& m);
  void Run();
  void Answer(const mqtt::Message& m);
  void Publish(mqtt::Message m);
  void FlushUnsent();

  const SinkConfig config_;
  std::unique_ptr<Ledger> ledger_;  // worker thread only
  std::unique_ptr<mqtt::Client> client_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<mqtt::Message> queue_;   // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::deque<mqtt::Message> unsent_;  // worker thread only
  std::atomic<bool> ready_logged_{false};
  std::atomic<bool> failed_{false};
};

}  // namespace storenode::ledger
