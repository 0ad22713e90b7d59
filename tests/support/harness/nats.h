// A real NATS cluster on 127.0.0.1 (Debian's nats-server 2.9): N nodes, each
// with JetStream (its own store_dir) and an MQTT 3.1.1 listener, routed to
// each other, for the chain's integration tests and benches
// (tests/support/harness/, library sn_harness).
//
// Promise: Start() returns only once every node accepts NATS and MQTT
// connections and reports JetStream healthy (its /healthz), or with the
// reason it does not; the destructor kills every node, so none outlives
// its object. A node killed or paused keeps its ports and store_dir, so
// Restart(i) brings the same node back with what it had stored.
//
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "harness/process.h"
#include "storenode/common/status.h"

namespace storenode::harness {

class NatsCluster {
 public:
  // dir holds one folder per node (nats.conf, nats.log, js/).
  explicit NatsCluster(std::string dir, int nodes = 3);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // TLS for every listener and route, set before Start(): node i uses
  // cert_files[i] / key_files[i] (certificates of `storectl provision
  // chain`), clients are verified against ca_file and mapped to the users
  // of `authorization_file` (included by every node). Then nats_url() is
  // tls:// and mqtt_uri() ssl://.
  struct Tls {
    std::string ca_file, authorization_file;
    std::vector<std::string> cert_files, key_files;
  };
  std::optional<Tls> tls;

  // Picks free ports, writes the configs, starts every node and waits until
  // the cluster is healthy (up to `timeout`).
  Status Start(std::chrono::seconds timeout = std::chrono::seconds(30));
  // SIGKILL node i and reap it.
  void Kill(int i);
  // Starts node i again on its ports and store_dir; waits until it serves
  // NATS, MQTT and JetStream.
  Status Restart(int i, std::chrono::seconds timeout = std::chrono::seconds(30));
  // SIGSTOP / SIGCONT node i: it keeps its sockets but answers nothing,
  // which is how a partitioned node looks to the others.
  void Pause(int i);
  void Resume(int i);

  int nodes() const { return static_cast<int>(nodes_.size()); }
  // "nats://127.0.0.1:PORT" of node i (for natsOptions_SetServers).
  std::string nats_url(int i) const;
  // "tcp://127.0.0.1:PORT" of node i's MQTT listener (ssl:// with tls).
  std::string mqtt_uri(int i) const;
  pid_t pid(int i) const;
  // Node i's server_name ("n1" for node 0), as JetStream names leaders.
  const std::string& name(int i) const { return nodes_[i].name; }
  const std::string& log_path(int i) const { return nodes_[i].log_path; }

 private:
  struct Node {
    std::string name, dir, conf_path, log_path;
    int client_port = -1, cluster_port = -1, mqtt_port = -1, http_port = -1;
    std::optional<Process> process;
  };
  Status WriteConfig(const Node& n) const;
  Status Launch(Node& n);
  // Waits until node i's /healthz says ok: `fully`, every stream and
  // consumer current (a fresh cluster); otherwise JetStream up (a node
  // back after a kill, whose stale MQTT consumers catch up later).
  Status WaitHealthy(int i, std::chrono::seconds timeout, bool fully);

  std::string dir_;
  std::vector<Node> nodes_;
};

// The body of an HTTP/1.0 GET of http://127.0.0.1:port/path; Unavailable
// when nothing answers.
Result<std::string> HttpGet(int port, const std::string& path);

}  // namespace storenode::harness
