#include "storenode/fog/client.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "storenode/common/crypto.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/topics.h"
#include "storenode/common/x509.h"

namespace storenode {

Result<v1::FogResponse> AskFog(const FogClientOptions& options, const v1::FogRequest& request) {
  mqtt::Options o;
  o.uri = options.broker_uri;
  o.client_id = mqtt::NewClientId("storectl-");
  o.ca_file = options.ca_file;
  o.cert_file = options.cert_file;
  o.key_file = options.key_file;
  // The broker's ACL lets a manager write requests and read replies only
  // under its own name, the CN of its certificate.
  std::string identity = options.identity;
  if (!options.cert_file.empty()) {
    SN_ASSIGN_OR_RETURN(std::string cn, x509::CommonNameOfFile(options.cert_file));
    if (!identity.empty() && identity != cn) {
      return Status::Invalid("the certificate " + options.cert_file + " is " + cn + "'s, not " +
                             identity + "'s: the fog records the certificate's name");
    }
    identity = cn;
  }
  if (!topics::ValidId(identity)) {
    return Status::Invalid("no identity to ask the fog as (a client certificate, or a name)");
  }
  const std::string reply_topic = topics::Reply(options.store_id, identity, o.client_id);
  std::string correlation(16, '\0');
  crypto::RandomBytes({reinterpret_cast<uint8_t*>(correlation.data()), correlation.size()});

  // Declared before the client so that they outlive its callbacks.
  std::mutex mu;
  std::condition_variable cv;
  bool connected = false;
  std::optional<std::string> answer;
  auto client = (options.connect ? options.connect : mqtt::PahoConnector())(o);
  client->OnConnected([&] {
    std::lock_guard lock(mu);
    connected = true;
    cv.notify_all();
  });
  client->OnMessage([&](const mqtt::Message& m) {
    if (m.topic != reply_topic || m.correlation_data != correlation) return;
    std::lock_guard lock(mu);
    answer = m.payload;
    cv.notify_all();
  });
  SN_RETURN_IF_ERROR(client->Subscribe(reply_topic, 1));
  client->Start();

  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  {
    std::unique_lock lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return connected; })) {
      return Status::Unavailable("cannot reach the broker at " + options.broker_uri);
    }
  }
  mqtt::Message m;
  m.topic = topics::FogRequest(options.store_id, identity);
  m.payload = request.SerializeAsString();
  m.response_topic = reply_topic;
  m.correlation_data = correlation;
  // Resent every second until answered: a fog that is still subscribing
  // misses the first copy. The fog treats requests as idempotent reads or
  // as actions keyed by what they ask (a close-down of a day), so a second
  // copy does no harm.
  std::unique_lock lock(mu);
  while (!answer) {
    lock.unlock();
    (void)client->Publish(m);
    lock.lock();
    auto next = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    cv.wait_until(lock, next, [&] { return answer.has_value(); });
    if (!answer && std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("the fog of store " + options.store_id +
                                 " did not answer (is storenode-fogd running?)");
    }
  }
  v1::FogResponse response;
  if (!response.ParseFromString(*answer)) return Status::Corruption("fog answer does not parse");
  return response;
}

}  // namespace storenode
