// docs/DEPLOY.md, followed literally by tools/deploy-rehearsal on this
// machine (as root): the packages from this build tree (cpack, as
// tests/packages_test.cc makes them), every installer's ```sh block run as
// written, the checks of what each section promises, then everything
// undone. The figures asserted are the rehearsal's own: 25 receipts sold by
// till-1, the X report agreeing with them, the v0 fixture's 91 events kept
// through the upgrade's migrations to this software's schema version.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "fog/src/store.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode::testing;

TEST_CASE("DEPLOY.md followed literally installs, runs and removes a store", "[deploy][packages]") {
  if (geteuid() != 0) {
    WARN("not root: DEPLOY.md installs packages and users; rehearsal not run");
    return;
  }
  const std::string dir = MakeTempDir("deploy");
  const std::string build = std::filesystem::path(SN_BIN_DIR).parent_path().string();
  Ran r =
      RunArgv(dir, {std::string(SN_SOURCE_DIR) + "/tools/deploy-rehearsal", "--build-dir", build});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("section 1: the build: 5 packages by cpack"));
  CHECK_THAT(r.out, Catch::Contains("checked    section 3: storenode-mosquitto and "
                                    "storenode-fogd running as storenode and storenode-broker"));
  CHECK_THAT(r.out, Catch::Contains("section 3: by hand: broker and fog as their users, the fog "
                                    "connected over TLS; stopped, units started again"));
  CHECK_THAT(r.out, Catch::Contains("sold 25 receipts over TLS"));
  CHECK_THAT(r.out, Catch::Contains("the fog acked and stored all"));
  CHECK_THAT(r.out, Catch::Contains("as anna: 25 receipts, gross"));
  CHECK_THAT(r.out, Catch::Contains("section 6: storectl status as anna shows till-3: revoked"));
  CHECK_THAT(r.out, Catch::Contains("the broker takes till-2's certificate and refuses till-3's"));
  CHECK_THAT(r.out, Catch::Contains("section 7: fog.toml ends with provision chain's [ledger]") &&
                        Catch::Contains("check-config: storenode-fogd: config "
                                        "/etc/storenode/fog.toml is good (store store-042)"));
  CHECK_THAT(r.out, Catch::Contains("holds fog.db fog.key fog.pub fog.toml tills.toml"));
  CHECK_THAT(r.out, Catch::Contains("tests/fixtures/v0's fog.db (schema version 0, 91 events)"));
  CHECK_THAT(r.out,
             Catch::Contains("after the restart fog.db has schema version " +
                             std::to_string(storenode::fog::kFogVersion) + ", 91 events kept"));
  CHECK_THAT(r.out, Catch::Contains("storenode-ledger-sink.service's ExecStartPre as "
                                    "storenode-ledger: ledger-sink: config"));
  CHECK_THAT(r.out, Catch::Contains("cleanup    units stopped, storenode-fogd storenode-tools "
                                    "storenode-ledger purged, users and files removed"));
  CHECK_FALSE(std::filesystem::exists("/etc/storenode"));
  CHECK_FALSE(std::filesystem::exists("/var/lib/storenode"));
}
