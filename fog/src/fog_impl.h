// The fog daemon's internals, shared by the files that implement it:
// daemon.cc (MQTT wiring and the worker loop) and requests.cc (fog/req and
// catalog fetches).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "access.h"
#include "catalog.h"
#include "console.h"
#include "forwarder.h"
#include "ingest.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/sync.pb.h"

namespace storenode::fog {

class Fog::Impl {
 public:
  Impl(const Config& c, const Env& env)
      : config(c),
        clock(env.clock ? *env.clock : *SystemClock::Default()),
        connect_store(env.store_broker ? env.store_broker : mqtt::PahoConnector()),
        connect_ledger(env.ledger_broker ? env.ledger_broker : mqtt::PahoConnector()),
        gate(config.requests) {}

  Config config;
  const Clock& clock;
  const mqtt::Connector connect_store, connect_ledger;  // Env, resolved
  std::unique_ptr<sql::Db> db;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<mqtt::Transport> client;
  std::unique_ptr<Forwarder> forwarder;  // to the cloud ledger
  std::unique_ptr<Catalog> catalog;      // the catalog master (catalog.h)

  // Messages from the MQTT thread to the worker.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<mqtt::Message> queue;
  std::deque<mqtt::Oversized> oversized;  // over config.max_message_bytes
  bool stopping = false;
  std::thread worker;
  std::atomic<bool> just_connected{false};
  // Work from other threads (the console) for the worker, under mu.
  std::deque<std::function<void()>> tasks;
  std::unique_ptr<Console> console;

  // Worker thread only.
  struct TillSeen {
    v1::DeviceStatus status;
    int64_t received_us = 0;
  };
  std::map<std::string, TillSeen> tills;
  std::deque<mqtt::Message> unsent;  // publishes refused while the client was busy
  int64_t last_reassert_us = 0;
  std::set<std::string> greeted;  // tills sent their owed seal commands since they connected
  RequestGate gate;               // rate limits and refusal counts of the request topics

  mutable std::mutex counters_mu;
  Fog::Counters counters;

  void Enqueue(const mqtt::Message& m);
  // Runs `task` on the worker, which owns fog.db, and waits up to `timeout`
  // for it. Unavailable if the fog stops first or the wait runs out; the
  // task may then still run later, so it must own what it touches.
  Status RunOnWorker(std::function<void()> task, std::chrono::milliseconds timeout);
  void Run();
  void ProcessJournals(std::vector<mqtt::Message>& journals);
  // Quarantines messages too large to receive, in one transaction.
  void QuarantineOversized(const std::vector<mqtt::Oversized>& messages);
  void Publish(mqtt::Message m);
  void FlushUnsent();
  // fog/req/{identity} (requests.cc): through the gate, answered on the
  // requester's reply topic.
  void HandleRequest(const mqtt::Message& m);
  // Catalog fetches (device, payload), after the journals that came with
  // them: only known tills, within their rate, coalesced (access.h).
  void ServeCatalogFetches(const std::vector<std::pair<std::string, std::string>>& fetches);
  // Runs `request` for `actor`, the authenticated identity (access.h,
  // invariant 1), if its role allows; a refusal is logged with the actor.
  v1::FogResponse Answer(const v1::FogRequest& request, const std::string& actor);
  v1::FogResponse Dispatch(const v1::FogRequest& request, const std::string& actor);
  // The store's status; an error (not an exception) if fog.db fails.
  Result<v1::StoreStatus> BuildStatus();
  mqtt::Message FogStatusMessage(bool online) const;

  // Close-down (closedown.cc).
  crypto::SigningKey fog_key;
  std::map<std::string, uint32_t> open_parts;  // day -> part new events go to
  std::set<std::string> waiting_days;          // close-downs waiting for tills to seal
  std::set<std::string> late_days;             // closed days with late events
  // Loads fog.key, or makes one for a new store; refuses a missing key when
  // fog.db already holds what it signed.
  Status LoadFogKey();
  Status LoadCloseDowns();
  // Checks every stored signature still pending before a close-down relies
  // on them (ingest.h, invariant 7), outside any transaction.
  Status CheckPendingSignatures();
  // Recovery from the ledger (forwarder.h, invariant 6): stores one of this
  // fog's own Zs, the next in number and chain, with what it covered.
  Status RestoreZ(const v1::SignedZ& z);
  uint32_t PartOfDay(const std::string& day) const;
  std::vector<std::string> ExpectedTills() const;
  v1::FogResponse CloseDown(const v1::FogRequest& request, const std::string& actor);
  // Closes waiting days whose tills have all sealed, and issues supplements.
  void PollCloseDowns();
  Result<bool> TryClose(const std::string& day, const v1::CloseDownRequest& request,
                        const std::string& requested_by, v1::CloseDownResponse* response);
  Result<v1::SignedZ> BuildZ(const std::string& day, uint32_t part,
                             const v1::CloseDownRequest& request, const std::string& requested_by,
                             const std::vector<std::string>& missing);
  Result<std::set<std::string>> SealedTills(const std::string& day);
  Result<std::vector<v1::SignedZ>> StoredZs(const std::string& day);
  Status AppendAction(const std::string& manager, const std::string& kind,
                      const std::string& detail);
  void SendSealCommands(const std::string& day);
  // The seal commands `till` still owes, ascending: every waiting day it has
  // not sealed and the newest closed day it has not sealed ("seal up to D"
  // covers the earlier days it sold on).
  Result<std::vector<std::string>> OwedSeals(const std::string& till);
  void SendOwedSeals(const std::string& till);
  // Publishes again everything the fog keeps retained on the broker.
  void Reassert();

  // Metrics (metrics.cc), worker thread.
  Result<MetricsSample> SampleMetrics();

  // Reports (reports.cc).
  v1::FogResponse Report(const v1::ReportRequest& request);
};

}  // namespace storenode::fog
