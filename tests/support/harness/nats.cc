#include "harness/nats.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

namespace storenode::harness {

NatsCluster::NatsCluster(std::string dir, int nodes) : dir_(std::move(dir)) {
  for (int i = 0; i < nodes; ++i) {
    Node n;
    n.name = "n" + std::to_string(i + 1);
    n.dir = dir_ + "/" + n.name;
    n.conf_path = n.dir + "/nats.conf";
    n.log_path = n.dir + "/nats.log";
    nodes_.push_back(std::move(n));
  }
}

NatsCluster::~NatsCluster() {
  for (int i = 0; i < nodes(); ++i) {
    Resume(i);
    Kill(i);
  }
}

Status NatsCluster::WriteConfig(const Node& n) const {
  std::error_code ec;
  std::filesystem::create_directories(n.dir + "/js", ec);
  if (ec) return Status::Io("cannot make " + n.dir + ": " + ec.message());
  std::ofstream out(n.conf_path, std::ios::trunc);
  std::string tls_block, route_tls;
  if (tls) {
    const size_t i = size_t(&n - nodes_.data());
    const std::string files = "cert_file: \"" + tls->cert_files.at(i) + "\", key_file: \"" +
                              tls->key_files.at(i) + "\", ca_file: \"" + tls->ca_file + "\"";
    tls_block = "  tls { " + files + ", verify_and_map: true }\n";
    route_tls = "  tls { " + files + ", verify: true }\n";
    // nats-server resolves an include relative to the config's directory
    // only: the users go next to it.
    std::filesystem::copy_file(tls->authorization_file, n.dir + "/authorization.conf",
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return Status::Io("cannot copy " + tls->authorization_file + ": " + ec.message());
    out << "include \"authorization.conf\"\n";
  }
  out << "server_name: " << n.name << "\n"
      << "listen: 127.0.0.1:" << n.client_port << "\n"
      << "http: 127.0.0.1:" << n.http_port << "\n"
      << tls_block << "jetstream {\n  store_dir: \"" << n.dir << "/js\"\n"
      << "  max_memory_store: 256MB\n  max_file_store: 4GB\n}\n"
      // MQTT's own session and retained streams at R3 on a 3-node cluster
      // (it picks fewer when it starts before all nodes are routed, and an
      // R2 sessions stream that loses a node refuses every connect).
      << "mqtt {\n  listen: 127.0.0.1:" << n.mqtt_port
      << "\n  stream_replicas: " << std::min<size_t>(3, nodes_.size()) << "\n"
      << tls_block << "}\n"
      << "cluster {\n  name: storenode\n  listen: 127.0.0.1:" << n.cluster_port << "\n"
      << route_tls << "  routes: [\n";
  for (const Node& other : nodes_) {
    if (other.name != n.name) out << "    nats-route://127.0.0.1:" << other.cluster_port << "\n";
  }
  out << "  ]\n}\n";
  out.close();
  if (!out) return Status::Io("cannot write " + n.conf_path);
  return Status::Ok();
}

Status NatsCluster::Launch(Node& n) {
  auto spawned =
      Process::Spawn({"/usr/sbin/nats-server", "-c", n.conf_path}, n.log_path, n.log_path);
  if (!spawned.ok()) return spawned.status();
  n.process.emplace(std::move(*spawned));
  return Status::Ok();
}

namespace {

// A TCP connection to 127.0.0.1:port whose reads time out after 2 s; -1 if
// nothing listens.
int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether an MQTT 3.1.1 CONNECT (clean session) on plain TCP gets CONNACK 0:
// a node may accept TCP and answer /healthz while its MQTT session stream
// still elects a leader, and refuse MQTT clients meanwhile.
bool MqttAccepts(int port) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return false;
  bool accepted = false;
  static constexpr char kId[] = "sn-harness-probe";
  std::string connect = {
      '\x10', static_cast<char>(10 + 2 + sizeof kId - 1), 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60,
      0,      static_cast<char>(sizeof kId - 1)};
  connect += kId;
  unsigned char ack[4] = {};
  if (::send(fd, connect.data(), connect.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(connect.size()) &&
      ::recv(fd, ack, sizeof ack, MSG_WAITALL) == 4) {
    accepted = ack[0] == 0x20 && ack[3] == 0;
    const char disconnect[] = {'\xe0', 0};
    (void)::send(fd, disconnect, sizeof disconnect, MSG_NOSIGNAL);
  }
  ::close(fd);
  return accepted;
}

}  // namespace

Status NatsCluster::WaitHealthy(int i, std::chrono::seconds timeout, bool fully) {
  Node& n = nodes_[i];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!n.process || !n.process->Running()) {
      return Status::Unavailable("nats-server " + n.name + " exited (see " + n.log_path + ")");
    }
    auto body = HttpGet(n.http_port, fully ? "/healthz" : "/healthz?js-enabled-only=true");
    if (body.ok()) {
      // Plain TCP clusters also take an MQTT client (TLS ones: the port).
      if (body->find("\"ok\"") != std::string::npos &&
          (tls ? PortAccepts(n.mqtt_port) : MqttAccepts(n.mqtt_port))) {
        return Status::Ok();
      }
      last = *body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable("nats-server " + n.name + " not healthy: " + last);
}

Status NatsCluster::Start(std::chrono::seconds timeout) {
  Status last;
  // A port taken between FreePort() and the bind: new ports for all, again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    for (int i = 0; i < nodes(); ++i) Kill(i);
    for (Node& n : nodes_) {
      n.client_port = FreePort();
      n.cluster_port = FreePort();
      n.mqtt_port = FreePort();
      n.http_port = FreePort();
      if (n.client_port <= 0 || n.cluster_port <= 0 || n.mqtt_port <= 0 || n.http_port <= 0) {
        return Status::Io("no free port");
      }
    }
    last = Status::Ok();
    for (Node& n : nodes_) {
      if (last.ok()) last = WriteConfig(n);
      if (last.ok()) last = Launch(n);
    }
    for (int i = 0; i < nodes() && last.ok(); ++i) last = WaitHealthy(i, timeout, true);
    if (last.ok()) return last;
  }
  return last;
}

void NatsCluster::Kill(int i) {
  Node& n = nodes_[i];
  if (!n.process) return;
  n.process->Kill(SIGKILL);
  n.process->Wait();
  n.process.reset();
}

Status NatsCluster::Restart(int i, std::chrono::seconds timeout) {
  Kill(i);
  SN_RETURN_IF_ERROR(Launch(nodes_[i]));
  return WaitHealthy(i, timeout, false);
}

void NatsCluster::Pause(int i) {
  if (nodes_[i].process) nodes_[i].process->Kill(SIGSTOP);
}

void NatsCluster::Resume(int i) {
  if (nodes_[i].process) nodes_[i].process->Kill(SIGCONT);
}

std::string NatsCluster::nats_url(int i) const {
  return (tls ? "tls" : "nats") + std::string("://127.0.0.1:") +
         std::to_string(nodes_[i].client_port);
}

std::string NatsCluster::mqtt_uri(int i) const {
  return (tls ? "ssl" : "tcp") + std::string("://127.0.0.1:") + std::to_string(nodes_[i].mqtt_port);
}

pid_t NatsCluster::pid(int i) const { return nodes_[i].process ? nodes_[i].process->pid() : -1; }

Result<std::string> HttpGet(int port, const std::string& path) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return Status::Unavailable("nothing listens on port " + std::to_string(port));
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return Status::Unavailable("send failed");
  }
  std::string response;
  char buf[4096];
  for (ssize_t got; (got = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, size_t(got));
  ::close(fd);
  size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return Status::Unavailable("no HTTP answer");
  return response.substr(body + 4);
}

}  // namespace storenode::harness
