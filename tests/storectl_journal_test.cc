// storectl journal verify|dump|xreport|catalog, run as a real process on a journal
// that pos-sim (also a real process) recorded.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edge/src/sync_access.h"
#include "storenode/common/crypto.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/money.h"
#include "storenode/common/sqlite.h"
#include "storenode/edge.h"
#include "storenode/schemas/tools.pb.h"
#include "support/catalog_payload.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode;
using google::protobuf::util::JsonStringToMessage;
using google::protobuf::util::MessageDifferencer;
using storenode::testing::Lines;
using storenode::testing::Ran;
using storenode::testing::RunTool;

namespace {

// Runs tools/<tool> with `args`, waits, and returns its exit code and output.

// Flips one bit of the stored body of event `seq`, behind the journal's back.
void TamperBody(const std::string& path, uint64_t seq) {
  sql::OpenOptions existing;
  existing.create = false;
  auto db = sql::Db::Open(path, existing);
  REQUIRE(db.ok());
  auto get = (*db)->Prepare("SELECT body FROM events WHERE seq = ?");
  REQUIRE(get.ok());
  get->Bind(1, static_cast<int64_t>(seq));
  auto row = get->Step();
  REQUIRE(row.ok());
  REQUIRE(*row);
  std::string body = get->Blob(0);
  REQUIRE(body.size() > 8);
  body[body.size() / 2] ^= 0x01;
  auto put = (*db)->Prepare("UPDATE events SET body = ? WHERE seq = ?");
  REQUIRE(put.ok());
  put->BindBlob(1, body).Bind(2, static_cast<int64_t>(seq));
  REQUIRE(put->Run().ok());
}

}  // namespace

TEST_CASE("storectl journal checks, dumps and reports a pos-sim journal", "[storectl]") {
  const std::string dir = testing::MakeTempDir("storectl");
  const std::string data = dir + "/data";
  Ran sim =
      RunTool(dir, "pos-sim", {"--tills", "1", "--sales", "80", "--seed", "5", "--data", data});
  INFO(sim.err);
  REQUIRE(sim.code == 0);
  v1::SimReport report;
  REQUIRE(JsonStringToMessage(sim.out, &report).ok());
  REQUIRE(report.tills_size() == 1);
  CHECK(report.tills(0).sales() == 80);
  const std::string db = report.tills(0).journal_path();
  CHECK(db == data + "/till-1.db");
  const uint64_t head = report.tills(0).head_seq();
  REQUIRE(head > 80);

  SECTION("verify says ok with the event count and seq range") {
    Ran r = RunTool(dir, "storectl", {"journal", "verify", "--db", db});
    CHECK(r.code == 0);
    CHECK(r.out ==
          "ok: " + std::to_string(head) + " events, seq 1.." + std::to_string(head) + "\n");
  }

  SECTION("verify names the first tampered seq and exits 1") {
    TamperBody(db, 17);
    Ran r = RunTool(dir, "storectl", {"journal", "verify", "--db", db});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("first bad seq 17: ") != std::string::npos);
    CHECK(Lines(r.err).size() == 1);
  }

  SECTION("dump --json prints one parseable event per line") {
    Ran r = RunTool(dir, "storectl", {"journal", "dump", "--db", db, "--json"});
    REQUIRE(r.code == 0);
    const std::vector<std::string> lines = Lines(r.out);
    auto events = edge::ReadJournalFile(db);
    REQUIRE(events.ok());
    REQUIRE(lines.size() == head);
    REQUIRE(events->size() == head);
    for (size_t i = 0; i < lines.size(); ++i) {
      INFO(lines[i]);
      v1::DumpedEvent dumped;
      REQUIRE(JsonStringToMessage(lines[i], &dumped).ok());
      DecodedEvent expected;
      REQUIRE(DecodeEvent((*events)[i], &expected).ok());
      CHECK(dumped.seq() == i + 1);
      CHECK(dumped.problem().empty());
      CHECK(MessageDifferencer::Equals(dumped.header(), expected.header));
      CHECK(MessageDifferencer::Equals(dumped.body(), expected.body));
      CHECK(dumped.hash() == crypto::ToHex(expected.hash));
      CHECK(dumped.prev_hash() == crypto::ToHex(crypto::AsBytes((*events)[i].prev_hash())));
      CHECK(dumped.signature().size() == 128);
    }
  }

  SECTION("dump --json shows a tampered event with its problem") {
    TamperBody(db, 17);
    Ran r = RunTool(dir, "storectl", {"journal", "dump", "--db", db, "--json"});
    REQUIRE(r.code == 0);
    const std::vector<std::string> lines = Lines(r.out);
    REQUIRE(lines.size() == head);
    v1::DumpedEvent dumped;
    REQUIRE(JsonStringToMessage(lines[16], &dumped).ok());
    CHECK(dumped.seq() == 17);
    CHECK_FALSE(dumped.problem().empty());
  }

  SECTION("catalog shows the till's replica version and prices a sku or barcode") {
    Ran empty = RunTool(dir, "storectl", {"journal", "catalog", "--db", db, "--sku", "SKU-000003"});
    CHECK(empty.code == 1);
    CHECK(empty.out == "till catalog version 0, 0 items\nSKU-000003  unknown item 'SKU-000003'\n");
    {
      auto replica = edge::CatalogReplica::Open(db + ".catalog");
      REQUIRE(replica.ok());
      auto [payload, hash] = testing::MakePayload(0, 4, 10, 1200);
      REQUIRE(edge::SyncAccess::Apply(**replica, payload).ok());
    }
    Ran r = RunTool(
        dir, "storectl",
        {"journal", "catalog", "--db", db, "--sku", "SKU-000003", "--sku", testing::Barcode(7)});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out ==
          "till catalog version 4, 10 items\n"
          "SKU-000003  12.03  tax A  Item  (version 4)\n"
          "SKU-000007  12.07  tax A  Item  (version 4)\n");
    Ran missing = RunTool(dir, "storectl", {"journal", "catalog", "--db", dir + "/nope.db"});
    CHECK(missing.code == 2);
    CHECK(missing.err.find("no journal file at " + dir + "/nope.db") != std::string::npos);
  }

  SECTION("xreport --json equals the journal's own totals") {
    Ran r = RunTool(dir, "storectl", {"journal", "xreport", "--db", db, "--json"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    v1::DayTotals printed;
    REQUIRE(JsonStringToMessage(r.out, &printed).ok());
    auto days = edge::TotalsFromFile(db);
    REQUIRE(days.ok());
    REQUIRE_FALSE(days->empty());
    CHECK(MessageDifferencer::Equals(printed, days->back()));
    CHECK(printed.receipt_count() == 80);

    Ran same_day =
        RunTool(dir, "storectl",
                {"journal", "xreport", "--db", db, "--json", "--day", days->back().business_day()});
    REQUIRE(same_day.code == 0);
    CHECK(same_day.out == r.out);
  }

  SECTION("xreport text fits 80 columns and shows the figures") {
    Ran r = RunTool(dir, "storectl", {"journal", "xreport", "--db", db});
    REQUIRE(r.code == 0);
    auto days = edge::TotalsFromFile(db);
    REQUIRE(days.ok());
    const v1::DayTotals& t = days->back();
    for (const std::string& line : Lines(r.out)) CHECK(line.size() <= 80);
    CHECK(r.out.find("X-REPORT") != std::string::npos);
    CHECK(r.out.find(t.business_day()) != std::string::npos);
    const std::string net = Money(t.net_sales()).ToString();
    bool found = false;
    for (const std::string& line : Lines(r.out)) {
      if (line.starts_with("  Net sales")) {
        found = true;
        CHECK(line.size() == 80);
        CHECK(line.ends_with(" " + net));
      }
    }
    CHECK(found);
  }

  SECTION("usage errors exit 2 with one line on stderr") {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"journal", "verify"},
             {"journal", "verify", "--db", dir + "/missing.db"},
             {"journal", "xreport", "--db", db, "--day", "yesterday"},
             {"journal", "xreport", "--db", db, "--day", "1999-01-01"},
             {"journal", "frobnicate"},
         }) {
      Ran r = RunTool(dir, "storectl", args);
      INFO(args[1] << " " << r.err);
      CHECK(r.code == 2);
      CHECK(Lines(r.err).size() == 1);
    }
  }
}

TEST_CASE("pos-sim rejects bad arguments with exit 2", "[storectl]") {
  const std::string dir = testing::MakeTempDir("possim");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--tills", "0", "--sales", "1", "--data", dir},
           {"--tills", "1", "--data", dir},
           {"--tills", "1", "--sales", "1"},
           {"--tills", "x", "--sales", "1", "--data", dir},
       }) {
    Ran r = RunTool(dir, "pos-sim", args);
    CHECK(r.code == 2);
    CHECK(Lines(r.err).size() == 1);
  }
  // A journal made for another store is a configuration error too.
  REQUIRE(RunTool(dir, "pos-sim", {"--sales", "1", "--data", dir + "/d"}).code == 0);
  Ran r = RunTool(dir, "pos-sim", {"--sales", "1", "--data", dir + "/d", "--store", "other"});
  CHECK(r.code == 2);
  CHECK(r.err.find("belongs to store") != std::string::npos);
}
