// Journal replication through a real mosquitto and a real storenode-fogd.
#include <catch2/catch.hpp>

#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::vector<std::string> JournalPaths(const Store& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tills) {
    if (t.journal) out.push_back(t.journal->options().journal_path);
  }
  return out;
}

}  // namespace

TEST_CASE("3 tills x 2000 sales reach the fog exactly once", "[sync][integration]") {
  Store store(3);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 3; ++i) store.Sell(i, 2000);
  INFO(store.fog->Log());
  REQUIRE(store.WaitSynced());
  RequireFogMatchesJournals(store.fog->db_path(), JournalPaths(store));
  REQUIRE(store.FogQuarantined() == 0);
  auto st = store.tills[0].sync->state();
  REQUIRE(st.connected);
  REQUIRE(st.backlog == 0);
}
