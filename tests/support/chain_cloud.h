// The chain's cloud for integration tests: three NATS nodes (JetStream R3,
// MQTT 3.1.1), a throwaway PostgreSQL and two ledger-sink workers on them,
// sharing one ledger key, all started (REQUIREd) by the constructor.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/nats.h"
#include "harness/postgres.h"
#include "support/ledger_sink.h"

namespace storenode::testing {

struct ChainCloud {
  explicit ChainCloud(const std::string& dir)
      : nats(dir + "/nats"), pg(dir + "/pg"), a(dir + "/worker-a", ""), b(dir + "/worker-b", "") {
    const Status n = nats.Start();
    INFO(n.ToString());
    REQUIRE(n.ok());
    const Status p = pg.Start();
    INFO(p.ToString());
    REQUIRE(p.ok());
    for (int i = 0; i < nats.nodes(); ++i) servers.push_back(nats.nats_url(i));
    a.nats = b.nats = servers;
    a.postgres = b.postgres = pg.conninfo();
    a.Start();
    std::filesystem::copy_file(a.key_path(), b.key_path());
    b.Start();
  }

  harness::NatsCluster nats;
  harness::PgCluster pg;
  std::vector<std::string> servers;  // nats:// of every node
  LedgerSinkProcess a, b;            // the workers
};

}  // namespace storenode::testing
