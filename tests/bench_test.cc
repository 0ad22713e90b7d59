// The benches that run the reorder job, run small: their own checks (every
// event stored once, every item planned) must pass, and their JSON must say
// what ran. Speed is not asserted here: that is what `tools/bench` is for.
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>

#include "storenode/schemas/bench.pb.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

template <typename Msg>
Msg ParseResult(const Ran& r) {
  INFO(r.err);
  REQUIRE(r.code == 0);
  Msg m;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.out, &m).ok());
  return m;
}

}  // namespace

TEST_CASE("bench sync drains the backlog again with and without the reorder job, every event once",
          "[bench][reorder]") {
  const std::string dir = MakeTempDir("bench-sync");
  const auto r = ParseResult<v1::SyncBenchResult>(
      RunTool(dir, "bench",
              {"sync", "--tills", "2", "--events", "1000", "--reorder-items", "600",
               "--reorder-days", "56", "--reorder-rounds", "1", "--keep", dir + "/run"}));
  CHECK(r.events_total() == 2 * 1001);  // each till's genesis and its 1,000 events
  CHECK(r.reorder_items() == 600);
  CHECK(r.reorder_days() == 56);
  CHECK(r.reorder_sale_lines() > 600);  // 600 items x 56 days, most of which sell
  CHECK(r.reorder_off_events_per_s_size() == 1);
  CHECK(r.reorder_on_events_per_s_size() == 1);
  CHECK(r.reorder_events_per_s() > 0);
  CHECK(r.reorder_job_s() > 0);
  CHECK(r.reorder_items_at_drain_end() <= 600);
  // Every fog holds every event once; the one with the job planned every
  // item from the seeded history, the one without planned none.
  for (const char* fog : {"fog", "fog-job-off", "fog-job-on"}) {
    INFO(fog);
    const std::string db = dir + "/run/" + fog + "/fog.db";
    CHECK(QueryInt(db, "SELECT COUNT(*) FROM events") == 2002);
    CHECK(QueryInt(db, "SELECT COUNT(*) FROM quarantine") == 0);
  }
  const std::string on = dir + "/run/fog-job-on/fog.db", off = dir + "/run/fog-job-off/fog.db";
  CHECK(QueryInt(on, "SELECT COUNT(*) FROM reorder_items") == 600);
  CHECK(QueryInt(on, "SELECT COUNT(*) FROM reorder_state") == 1);
  CHECK(QueryInt(off, "SELECT COUNT(*) FROM reorder_items") == 0);
  CHECK(QueryInt(off, "SELECT COUNT(*) FROM catalog_items") == 600);
}

TEST_CASE("bench reorder plans every item of its fog.db", "[bench][reorder]") {
  const std::string dir = MakeTempDir("bench-reorder");
  const auto r = ParseResult<v1::ReorderBenchResult>(
      RunTool(dir, "bench", {"reorder", "--items", "300", "--days", "56"}));
  CHECK(r.items() == 300);
  CHECK(r.sale_lines() > 0);
  CHECK(r.items_to_order() > 0);
  CHECK(r.items_to_order() <= 300);
  CHECK(r.suggested_units() > 0);
}
