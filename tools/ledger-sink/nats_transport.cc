// Placeholder until the JetStream client lands (issue 15).
#include "ledger-sink/transport.h"

namespace storenode::ledger {
namespace {
class Nats final : public Transport {
 public:
  Status Start(std::function<void()>) override {
    return Status::Unavailable("this ledger-sink was built without the JetStream client");
  }
  std::vector<Inbound> Next(size_t, std::chrono::milliseconds) override { return {}; }
  void Publish(std::vector<Outbound>) override {}
  void Stop() override {}
  std::string name() const override { return "NATS"; }
};
}  // namespace
std::unique_ptr<Transport> NatsTransport(const NatsLink&) { return std::make_unique<Nats>(); }
}  // namespace storenode::ledger
