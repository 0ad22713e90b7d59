// Stock end to end with a real fog: a real mosquitto, a real fogd, tills
// that sell and sync over MQTT, and storectl as a manager runs it. Stock
// falls by exactly what the tills sold, the reorder job's suggestion is the
// documented arithmetic of what it shows, and a receive the fog is killed
// in the middle of is booked all or nothing, and exactly once after retry.
#include <google/protobuf/util/json_util.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "fog/src/reorder.h"
#include "storenode/common/clock.h"
#include "storenode/fog/client.h"
#include "support/harness.h"
#include "support/run.h"
#include "support/store.h"
#include "support/till.h"

namespace storenode::testing {
namespace {

constexpr const char* kCatalog =
    "sku,barcodes,name,price,tax_code,department,active,supplier,lead_time_days,pack_size,"
    "min_order\n"
    "SKU-A,2001,Apples,100,A,fruit,1,Fresh Farms,2,6,12\n"
    "SKU-B,2002,Bread,250,B,bakery,1,,,,\n";

std::vector<std::string> FogArgs(const Store& store, std::vector<std::string> args) {
  args.insert(args.end(), {"--broker", store.broker.uri(), "--insecure", "--store", store.store_id,
                           "--timeout", "30"});
  return args;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

v1::FogResponse Ask(Store& store, const v1::FogRequest& req) {
  auto r = store.fog->Ask(req);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

template <typename Message>
Message FromJson(const std::string& json) {
  Message m;
  auto s = google::protobuf::util::JsonStringToMessage(json, &m);
  INFO(json);
  REQUIRE(s.ok());
  return m;
}

v1::StockItem Shown(Store& store, const std::string& sku) {
  v1::FogRequest req;
  req.mutable_stock_show()->set_sku(sku);
  v1::FogResponse r = Ask(store, req);
  INFO(r.error());
  REQUIRE(r.ok());
  REQUIRE(r.stock_show().items_size() == 1);
  return r.stock_show().items(0);
}

void ImportCatalog(Store& store) {
  v1::FogRequest req;
  req.mutable_catalog_import()->set_csv(kCatalog);
  req.mutable_catalog_import()->set_file_name("items.csv");
  v1::FogResponse r = Ask(store, req);
  INFO(r.error());
  REQUIRE(r.ok());
}

}  // namespace

TEST_CASE(
    "stock e2e: tills sell, stock falls by exactly what they sold, and reorder suggests "
    "the arithmetic of what it shows",
    "[stock][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  ImportCatalog(store);
  WriteFile(store.dir + "/delivery.csv",
            "sku,quantity,cost,note\nSKU-A,40,\"0,60\",\nSKU-B,5,150,\n");
  Ran received = RunTool(store.dir, "storectl",
                         FogArgs(store, {"stock", "receive", store.dir + "/delivery.csv"}));
  INFO(received.err);
  REQUIRE(received.code == 0);
  CHECK(received.out.find("applied: 2 line(s)") != std::string::npos);

  // The tills' clocks a day back: their sales are yesterday's, the last
  // day of the history the reorder job reads.
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i, true, -24 * 60);
  int64_t sold_a = 0, sold_b = 0;
  for (int k = 0; k < 12; ++k) {
    const size_t till = static_cast<size_t>(k % 2);
    const int64_t qa = 1 + k % 3, qb = k % 4 == 0 ? 2 : 0;
    REQUIRE(store.tills[till].journal->RecordSale(SimpleSale("SKU-A", qa, 100)).ok());
    sold_a += qa;
    if (qb > 0) {
      REQUIRE(store.tills[till].journal->RecordSale(SimpleSale("SKU-B", qb, 250, "B")).ok());
      sold_b += qb;
    }
  }
  REQUIRE(store.WaitSynced());
  CHECK(sold_a == 24);
  CHECK(sold_b == 6);
  CHECK(Shown(store, "SKU-A").on_hand_milli() == (40 - sold_a) * 1000);
  CHECK(Shown(store, "SKU-B").on_hand_milli() == (5 - sold_b) * 1000);
  CHECK(Shown(store, "SKU-B").negative());

  Ran show = RunTool(store.dir, "storectl", FogArgs(store, {"stock", "show", "--format", "json"}));
  INFO(show.err);
  REQUIRE(show.code == 0);
  auto shown = FromJson<v1::StockShowResponse>(show.out);
  REQUIRE(shown.items_size() == 2);
  CHECK(shown.items(0).on_hand_milli() == 16'000);
  CHECK(shown.items(1).on_hand_milli() == -1'000);
  CHECK(shown.negative_items() == 1);
  Ran text = RunTool(store.dir, "storectl", FogArgs(store, {"stock", "show"}));
  CHECK(text.out.find("NEGATIVE") != std::string::npos);

  // A refresh, then its answer once the run is done.
  const int64_t asked_us = SystemClock::Default()->NowMicros();
  Ran refresh = RunTool(store.dir, "storectl", FogArgs(store, {"reorder", "--refresh"}));
  INFO(refresh.err);
  REQUIRE(refresh.code == 0);
  v1::FogRequest poll;
  poll.mutable_reorder()->set_all(true);
  REQUIRE(WaitFor(
      [&] {
        v1::FogResponse r = Ask(store, poll);
        return r.ok() && r.reorder().computed_us() >= asked_us && !r.reorder().refreshing();
      },
      std::chrono::seconds(60)));
  Ran json = RunTool(store.dir, "storectl",
                     FogArgs(store, {"reorder", "--sku", "SKU-A", "--format", "json"}));
  INFO(json.err);
  REQUIRE(json.code == 0);
  auto reorder = FromJson<v1::ReorderResponse>(json.out);
  REQUIRE(reorder.items_size() == 1);
  const v1::ReorderItem& a = reorder.items(0);
  CHECK(a.sku() == "SKU-A");
  CHECK(a.supplier() == "Fresh Farms");
  CHECK(a.on_hand_milli() == 16'000);
  CHECK(a.on_order_milli() == 0);
  CHECK(a.lead_time_days() == 2);
  CHECK(a.review_days() == 7);
  CHECK(a.pack_size() == 6);
  CHECK(a.min_order() == 12);
  CHECK(a.service_level() == 0.95);
  REQUIRE(a.history_qty_size() > 0);
  CHECK(a.history_qty(a.history_qty_size() - 1) == static_cast<double>(sold_a));
  CHECK_FALSE(a.history_censored(a.history_censored_size() - 1));
  CHECK(reorder.history_to() == AddDays(DayOf(SystemClock::Default()->NowMicros()), -1));
  CHECK(a.suggested() == fog::SuggestedOrder(a.order_up_to(), 16'000, 0, 6, 12));
  CHECK(a.suggested() % 6 == 0);
  CHECK(a.forecast_daily_mean_size() == 28);

  Ran csv = RunTool(store.dir, "storectl", FogArgs(store, {"reorder", "--all", "--format", "csv"}));
  REQUIRE(csv.code == 0);
  std::vector<std::string> lines = Lines(csv.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "sku,name,supplier,class,method,on_hand,on_order,forecast,order_up_to,suggested");
}

TEST_CASE(
    "stock e2e: a receive the fog is killed in is booked all or nothing, and exactly once "
    "after retry",
    "[stock][integration][crash]") {
  for (const char* point : {"stock-before-commit", "stock-after-commit"}) {
    DYNAMIC_SECTION(point) {
      Store store(1);
      REQUIRE(store.fog->Start().ok());
      ImportCatalog(store);
      REQUIRE(store.fog->Stop() == 0);
      store.fog->crash_at = point;
      REQUIRE(store.fog->Start().ok());
      v1::FogRequest req;
      auto* receive = req.mutable_stock_receive();
      receive->set_csv("sku,quantity,cost\nSKU-A,7,100\nSKU-B,3,100\n");
      receive->set_file_name("delivery.csv");
      receive->set_request_id("delivery-42");
      FogClientOptions quick = store.fog->client_options();
      quick.timeout = std::chrono::seconds(4);
      (void)AskFog(quick, req);  // the fog dies while booking it
      REQUIRE(store.fog->Wait() == -SIGKILL);
      const bool committed = std::string(point) == "stock-after-commit";
      CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM stock_moves") ==
            (committed ? 2 : 0));

      store.fog->crash_at.clear();
      REQUIRE(store.fog->Start().ok());
      v1::FogResponse again = Ask(store, req);  // storectl's retry: the same request_id
      INFO(again.error());
      REQUIRE(again.ok());
      CHECK(again.stock_change().repeated_request() == committed);
      CHECK(again.stock_change().moves_size() == 2);
      CHECK(Shown(store, "SKU-A").on_hand_milli() == 7'000);
      CHECK(Shown(store, "SKU-B").on_hand_milli() == 3'000);
      CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM stock_moves") == 2);
      CHECK(QueryInt(store.fog->db_path(),
                     "SELECT COUNT(*) FROM actions WHERE kind = 'stock-receive'") == 1);
    }
  }
}

TEST_CASE("stock e2e: a fog with [stock] reorder = false runs no reorder job and refuses a refresh",
          "[stock][integration]") {
  Store store(1);
  store.fog->extra_config = "[stock]\nreorder = false\n";
  REQUIRE(store.fog->Start().ok());
  ImportCatalog(store);
  Ran refresh = RunTool(store.dir, "storectl", FogArgs(store, {"reorder", "--refresh"}));
  CHECK(refresh.code != 0);
  CHECK(refresh.err.find("the reorder job is off in this fog ([stock] reorder = false in "
                         "fog.toml)") != std::string::npos);
  Ran list = RunTool(store.dir, "storectl", FogArgs(store, {"reorder", "--format", "json"}));
  INFO(list.err);
  REQUIRE(list.code == 0);
  auto listed = FromJson<v1::ReorderResponse>(list.out);
  CHECK(listed.items_size() == 0);
  CHECK_FALSE(listed.refreshing());
  // Nothing was ever computed, at start-up or since.
  CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM reorder_items") == 0);
  CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM reorder_state") == 0);
}

TEST_CASE("storectl stock adjust reads --qty in thousandths and refuses a malformed one unasked",
          "[stock]") {
  const std::string dir = MakeTempDir("stock-qty");
  // No fog listens on port 1: a refusal here never asked one.
  const std::vector<std::string> fog = {"--broker", "tcp://127.0.0.1:1", "--insecure", "--store",
                                        "s",        "--timeout",         "1"};
  for (const auto& [qty, why] : std::vector<std::pair<std::string, std::string>>{
           {"1.2345", "--qty '1.2345' has more than 3 decimals"},
           {"2kg", "--qty '2kg' is not a quantity"},
           {"-", "--qty '-' is not a quantity"}}) {
    std::vector<std::string> args = {"stock", "adjust", "--sku",    "CHEESE",
                                     "--qty", qty,      "--reason", "waste"};
    args.insert(args.end(), fog.begin(), fog.end());
    Ran r = RunTool(dir, "storectl", args);
    INFO(qty << ": " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(why) != std::string::npos);
  }
}

}  // namespace storenode::testing
