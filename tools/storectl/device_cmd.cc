// storectl device: manage the store's tills at the fog.
//
//   storectl device accept --device D [--json] [--config FILE] [--broker URI ...]
//
// accept: a till that was replaced or wiped starts a new journal, which the
// fog holds back ("replacement pending") until a manager accepts it here.
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "sim/json.h"

namespace storenode::storectl {
namespace {

struct DeviceArgs {
  FogFlags fog;
  std::string device;
  bool json = false;
};

int Accept(const DeviceArgs& a) {
  v1::FogRequest request;
  request.mutable_device_accept()->set_device_id(a.device);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::DeviceAcceptResponse& accepted = response.device_accept();
  if (a.json) {
    std::cout << tools::JsonPretty(accepted);
  } else {
    std::cout << "accepted journal " << accepted.journal_id() << " of " << accepted.device_id()
              << "\nkey fingerprint " << accepted.key_fingerprint() << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddDeviceCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<DeviceArgs>();
  CLI::App* device = app.add_subcommand("device", "manage the store's tills at the fog");
  device->require_subcommand(1);

  CLI::App* accept = device->add_subcommand(
      "accept", "accept a replaced or wiped till's new journal (and its key) at the fog");
  accept->add_option("--device", args->device, "till id, e.g. till-3")->type_name("D")->required();
  accept->add_flag("--json", args->json, "print the DeviceAcceptResponse as JSON");
  AddFogOptions(accept, &args->fog);
  accept->callback([args, exit_code] { *exit_code = Accept(*args); });
}

}  // namespace storenode::storectl
