// The fog daemon's internals, shared by the files that implement it:
// daemon.cc (MQTT wiring and the worker loop) and requests.cc (fog/req).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "ingest.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/sync.pb.h"

namespace storenode::fog {

class Fog::Impl {
 public:
  explicit Impl(const Config& c) : config(c) {}

  Config config;
  const Clock& clock = *SystemClock::Default();
  std::unique_ptr<sql::Db> db;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<mqtt::Client> client;

  // Messages from the MQTT thread to the worker.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<mqtt::Message> queue;
  bool stopping = false;
  std::thread worker;
  std::atomic<bool> just_connected{false};

  // Worker thread only.
  struct TillSeen {
    v1::DeviceStatus status;
    int64_t received_us = 0;
  };
  std::map<std::string, TillSeen> tills;
  std::deque<mqtt::Message> unsent;  // publishes refused while the client was busy

  mutable std::mutex counters_mu;
  Fog::Counters counters;

  void Enqueue(const mqtt::Message& m);
  void Run();
  void ProcessJournals(std::vector<mqtt::Message>& journals);
  void Publish(mqtt::Message m);
  void FlushUnsent();
  void HandleRequest(const mqtt::Message& m);
  v1::FogResponse Answer(const v1::FogRequest& request);
  v1::StoreStatus BuildStatus();
  mqtt::Message FogStatusMessage(bool online) const;
};

}  // namespace storenode::fog
