// A throwaway PostgreSQL 15 cluster on 127.0.0.1 (Debian's postgresql-15),
// for the chain's integration tests and benches (tests/support/harness/,
// library sn_harness): initdb in a temp dir, run as user `postgres` when
// we are root (PostgreSQL refuses to run as root), on a free port, with
// trust authentication for loopback only.
//
// Promise: Start() returns only once the server accepts connections
// (pg_ctl start -w), or with the reason it does not; the destructor stops
// it fast and then kills what is left, so no server outlives its object.
// Stop/Start keep the data directory and the port.
//
// Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::harness {

class PgCluster {
 public:
  // dir holds data/ (the cluster), the socket and pg.log; made if missing.
  explicit PgCluster(std::string dir);
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // initdb on the first call, then pg_ctl start -w on a free port (the
  // same port on later calls).
  Status Start();
  // pg_ctl stop -m fast: clients are disconnected, the server checkpoints.
  Status StopFast();
  // SIGKILL the postmaster (a crash: the next Start() recovers from WAL).
  void Kill();

  int port() const { return port_; }
  // A libpq connection string for the superuser's `postgres` database.
  std::string conninfo(const std::string& dbname = "postgres") const;
  const std::string& log_path() const { return log_path_; }

 private:
  // Runs a PostgreSQL binary as the server's user; its output goes to the log.
  Status RunAsServerUser(std::vector<std::string> argv) const;

  std::string dir_, data_dir_, log_path_;
  int port_ = -1;
  bool running_ = false;
};

}  // namespace storenode::harness
