// Journal replication through a real mosquitto and a real storenode-fogd.
#include <catch2/catch.hpp>
#include <thread>

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

TEST_CASE("sync survives SIGKILL of the broker mid-stream", "[sync][integration][crash]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
  Status sold;  // Catch2 assertions are for the main thread only
  std::thread seller([&] {
    for (size_t i = 0; i < 2 && sold.ok(); ++i) sold = store.tills[i].sim->RunSales(600);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  store.broker.Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  REQUIRE(store.broker.Restart().ok());
  seller.join();
  REQUIRE(sold.ok());
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 200);
  INFO(store.fog->Log());
  REQUIRE(store.WaitSynced());
  RequireFogMatchesJournals(store.fog->db_path(), JournalPaths(store));
  REQUIRE(store.FogQuarantined() == 0);
}

TEST_CASE("the fog is SIGKILLed mid-ingest and restarted", "[sync][integration][crash]") {
  Store store(3);
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 3; ++i) store.Sell(i, 3000);  // backlog while the fog is down
  REQUIRE(store.fog->Start().ok());
  REQUIRE(WaitFor([&] { return store.FogAcked("till-1") + store.FogAcked("till-2") > 500; },
                  std::chrono::seconds(30)));
  store.fog->Kill();
  uint64_t partial = store.FogAcked("till-1") + store.FogAcked("till-2") + store.FogAcked("till-3");
  uint64_t total = 0;
  for (auto& t : store.tills) total += t.journal->head_seq();
  INFO("acked before the kill: " << partial << " of " << total);
  REQUIRE(store.fog->Start().ok());
  INFO(store.fog->Log());
  REQUIRE(store.WaitSynced());
  RequireFogMatchesJournals(store.fog->db_path(), JournalPaths(store));
  REQUIRE(store.FogQuarantined() == 0);
}

TEST_CASE("a fog that is down all day drains the backlog when it starts", "[sync][integration]") {
  Store store(3);
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 3; ++i) store.Sell(i, 1500);
  auto st = store.tills[0].sync->state();
  REQUIRE(st.backlog == store.tills[0].journal->head_seq());
  REQUIRE_FALSE(st.fog_online);
  REQUIRE(st.oldest_unacked_age_us > 0);
  REQUIRE(store.fog->Start().ok());
  INFO(store.fog->Log());
  REQUIRE(store.WaitSynced());
  RequireFogMatchesJournals(store.fog->db_path(), JournalPaths(store));
  REQUIRE(
      WaitFor([&] { return store.tills[0].sync->state().backlog == 0; }, std::chrono::seconds(10)));
}
