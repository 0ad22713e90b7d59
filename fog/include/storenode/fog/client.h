// Request/reply with the fog over MQTT v5 (fog/req/{identity}), for
// storectl, tests and tools: one connection, one FogRequest, the FogResponse
// with the matching correlation data. Blocking; do not call it from an MQTT
// callback; calls on different threads are independent.
//
// Library sn_fog_client (fog/CMakeLists.txt): it speaks only the wire
// (schemas/fog.proto, common/'s MQTT client and topics) and links none of the
// daemon's internals, so a tool can ask a fog without carrying one.
//
// The fog acts in the name of the identity in the request topic, and the
// store broker lets a client publish only under the CN of its certificate
// (fog/src/access.h): with a certificate that CN is the identity.
#pragma once

#include <chrono>
#include <string>

#include "storenode/common/mqtt.h"
#include "storenode/common/status.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode {

struct FogClientOptions {
  std::string broker_uri{};
  std::string store_id{};
  std::string ca_file{}, cert_file{}, key_file{};
  // Without a certificate (a development broker, which authenticates
  // nobody): the name to ask as. With one it must be empty or its CN.
  std::string identity{};
  std::chrono::milliseconds timeout{10000};
  // What connects to the broker; default: a Paho client. Tests pass the
  // memory broker's.
  mqtt::Connector connect{};
};

// Sends `request` and waits for the answer. Unavailable when the broker or
// the fog does not answer in time; the fog's own refusals come back as a
// response with ok = false.
Result<v1::FogResponse> AskFog(const FogClientOptions& options, const v1::FogRequest& request);

}  // namespace storenode
