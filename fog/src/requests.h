// Requests: what managers and tills ask the fog. A manager's FogRequest
// arrives on fog/req/{identity} (or from the console, access.h invariant 1)
// and one FogResponse goes out on the requester's reply topic with its
// correlation data; a till's catalog fetch is answered with chunks.
//
// Promise: every request passes the RequestGate (rate per sender) and runs
// only within its actor's role (access.h says why that holds); the answer
// is computed across the components that own the data (ingest, close-down,
// reports, catalog, forwarder, stock, reorder), never from tables of its own. Requests are
// answered after the journals that arrived before them, so a status answer
// never lags behind an ack already sent (the daemon's ordering).
//
// Not thread-safe: the fog's worker thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "access.h"
#include "catalog.h"
#include "closedown.h"
#include "forwarder.h"
#include "ingest.h"
#include "reorder.h"
#include "reports.h"
#include "settings.h"
#include "stock.h"
#include "storenode/common/mqtt.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/sync.pb.h"
#include "trust.h"

namespace storenode::fog {

class Requests {
 public:
  // What the fog's other components offer a request.
  struct Components {
    sql::Db& db;  // for the transaction of a device accept
    Trust& trust;
    Ingest& ingest;
    CloseDown& closedown;
    Reports& reports;
    Catalog& catalog;
    Forwarder& forwarder;
    SettingsIssuer& settings;
    Stock& stock;
    ReorderJob* reorder = nullptr;  // none: suggestions are read, never refreshed
  };
  Requests(const Config& config, const Clock& clock, Components c)
      : config_(config), clock_(clock), c_(c), gate_(config.requests) {}

  // A fog/req message: through the gate, answered on its reply topic.
  void Handle(const mqtt::Message& m);
  // Catalog fetches (device, payload): only known tills, within their
  // rate, coalesced (access.h).
  void ServeCatalogFetches(const std::vector<std::pair<std::string, std::string>>& fetches);
  // Runs `request` for `actor`, the authenticated identity, if its role
  // allows; a refusal is logged with the actor.
  v1::FogResponse Answer(const v1::FogRequest& request, const std::string& actor);

  // A till's own status message, for the store's status.
  void OnTillStatus(const std::string& device, const v1::DeviceStatus& status);
  struct TillSeen {
    v1::DeviceStatus status;
    int64_t received_us = 0;
  };
  const std::map<std::string, TillSeen>& tills() const { return tills_; }

  // The store's status; an error (not an exception) if fog.db fails.
  Result<v1::StoreStatus> StoreStatus();
  // Requests refused before any work, by (topic, reason).
  std::map<std::pair<std::string, std::string>, uint64_t> refused() const {
    return gate_.refused();
  }
  // Answers, chunks and the catalog manifest to publish now.
  std::vector<mqtt::Message> TakeOutgoing() { return std::exchange(outgoing_, {}); }

 private:
  v1::FogResponse Dispatch(const v1::FogRequest& request, const std::string& actor);
  v1::FogResponse VoucherShow(const v1::VoucherShowRequest& request);
  v1::FogResponse Reorder(const v1::ReorderRequest& request);
  v1::FogResponse AcceptDevice(const std::string& device, const std::string& actor);

  const Config& config_;
  const Clock& clock_;
  Components c_;
  RequestGate gate_;
  std::map<std::string, TillSeen> tills_;
  std::vector<mqtt::Message> outgoing_;
};

}  // namespace storenode::fog
