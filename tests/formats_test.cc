// docs/FORMATS.md read as a specification: what section 4, 7 and 8.1 say a
// forced Z, its supplement, the day_totals rows and the action journal hold,
// checked against a real mosquitto, a real fogd and real journals.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/totals.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::unique_ptr<sql::Db> OpenFogDb(const Store& store) {
  sql::OpenOptions ro;
  ro.read_only = true;
  auto db = sql::Db::Open(store.fog->db_path(), ro);
  REQUIRE(db.ok());
  return std::move(*db);
}

// Section 4: the devices that get a drawer row on `day`: a cash movement, or
// a sale or refund with a CASH tender.
std::set<std::string> DrawerDevices(const std::vector<std::string>& paths, const std::string& day,
                                    uint64_t from_seq = 0) {
  std::set<std::string> out;
  for (const std::string& path : paths) {
    for (const v1::JournalEvent& ev : edge::ReadJournalFile(path).value()) {
      DecodedEvent d;
      REQUIRE(DecodeEvent(ev, &d).ok());
      if (d.header.business_day() != day || d.header.seq() < from_seq) continue;
      bool cash = d.header.kind() == v1::CASH_MOVEMENT;
      static const google::protobuf::RepeatedPtrField<v1::Tender> kNone;
      const auto& tenders = d.header.kind() == v1::SALE     ? d.body.sale().tenders()
                            : d.header.kind() == v1::REFUND ? d.body.refund().tenders()
                                                            : kNone;
      for (const v1::Tender& t : tenders) cash = cash || t.type() == v1::CASH;
      if (cash) out.insert(d.header.device_id());
    }
  }
  return out;
}

std::vector<std::string> TenderNames(const v1::DayTotals& t) {
  std::vector<std::string> out;
  for (const auto& x : t.tenders()) out.push_back(x.type());
  return out;
}

}  // namespace

TEST_CASE("FORMATS section 8.1 holds for a forced Z and its supplement", "[formats][integration]") {
  Store store(3);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 3; ++i) store.Sell(i, 60);
  const std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());
  const uint64_t till3_at_close = store.tills[2].journal->head_seq();
  store.tills[2].sync.reset();  // till-3 goes offline and keeps selling
  store.Sell(2, 30);
  const std::vector<std::string> paths = {store.dir + "/till-1.db", store.dir + "/till-2.db",
                                          store.dir + "/till-3.db"};

  auto closed = store.CloseDay(day, {{"till-1", 12345}, {"till-3", 500}}, /*force=*/true,
                               std::chrono::seconds(5));
  REQUIRE(closed.closed());
  const v1::ZReport z = DecodeZ(closed.z());

  // The Z: forced, so totals.sealed is false although till-1 and till-2
  // sealed; merged totals name the store and no device.
  REQUIRE(z.kind() == "Z");
  REQUIRE(z.part() == 0);
  REQUIRE(z.forced());
  REQUIRE(std::vector<std::string>(z.missing_tills().begin(), z.missing_tills().end()) ==
          std::vector<std::string>{"till-3"});
  REQUIRE_FALSE(z.totals().sealed());
  REQUIRE(z.totals().store_id() == "store-1");
  REQUIRE(z.totals().device_id().empty());
  REQUIRE(z.totals().business_day() == day);
  REQUIRE(z.requested_by() == "test");
  REQUIRE(z.supplements_z_number() == 0);
  // Tenders sorted by name, bytewise (CARD before CASH), not by enum value.
  const std::vector<std::string> tenders = TenderNames(z.totals());
  REQUIRE(std::is_sorted(tenders.begin(), tenders.end()));
  REQUIRE(tenders.size() >= 2);
  REQUIRE(tenders[0] == "CARD");
  REQUIRE(tenders[1] == "CASH");
  // tills[]: one row per (device, journal), by device; till-3 has events
  // before it went offline, so it has a row, marked missing and not sealed.
  REQUIRE(z.tills_size() == 3);
  for (int i = 0; i < 3; ++i) {
    const v1::ZTill& t = z.tills(i);
    INFO(t.ShortDebugString());
    REQUIRE(t.device_id() == "till-" + std::to_string(i + 1));
    REQUIRE(t.missing() == (i == 2));
    REQUIRE(t.sealed() == (i != 2));
    REQUIRE(t.journal_id().size() == 32);
    REQUIRE(t.head_seq() == t.last_seq());
  }
  // Drawers: exactly the devices with cash; drawer_counts in the same order.
  std::set<std::string> drawers;
  for (const auto& d : z.totals().drawers()) drawers.insert(d.device_id());
  REQUIRE(drawers == DrawerDevices(paths, day));
  REQUIRE(z.drawer_counts_size() == z.totals().drawers_size());
  for (int i = 0; i < z.drawer_counts_size(); ++i) {
    const v1::DrawerCount& c = z.drawer_counts(i);
    const v1::DrawerTotal& d = z.totals().drawers(i);
    INFO(c.ShortDebugString());
    REQUIRE(c.device_id() == d.device_id());
    REQUIRE(c.expected_cash() == d.expected());
    REQUIRE(c.counted() == (c.device_id() != "till-2"));
    if (c.device_id() == "till-1") REQUIRE(c.over_short() == 12345 - d.expected());
    if (c.device_id() == "till-3") REQUIRE(c.over_short() == 500 - d.expected());
  }

  // till-3 returns: the retained seal, then its late events in a supplement.
  store.tills[2].sync = std::move(
      edge::SyncEngine::Start(store.tills[2].journal.get(), store.SyncOptionsFor()).value());
  v1::CloseDownResponse after;
  REQUIRE(WaitFor(
      [&] {
        after = store.CloseDay(day, {}, false, std::chrono::seconds(0));
        return after.supplements_size() == 1;
      },
      std::chrono::seconds(30)));
  const v1::ZReport sup = DecodeZ(after.supplements(0));
  REQUIRE(sup.kind() == "SUPPLEMENT");
  REQUIRE(sup.part() == 1);
  REQUIRE(sup.requested_by() == "fog");
  REQUIRE_FALSE(sup.forced());
  REQUIRE(sup.missing_tills_size() == 0);
  REQUIRE(sup.totals().sealed());
  REQUIRE(sup.supplements_z_number() == z.z_number());
  REQUIRE(sup.z_number() == z.z_number() + 1);
  REQUIRE(sup.tills_size() == 1);
  REQUIRE(sup.tills(0).device_id() == "till-3");
  REQUIRE(sup.tills(0).first_seq() == till3_at_close + 1);
  std::set<std::string> late_drawers;
  for (const auto& d : sup.totals().drawers()) late_drawers.insert(d.device_id());
  REQUIRE(late_drawers == DrawerDevices({paths[2]}, day, till3_at_close + 1));
  REQUIRE(sup.drawer_counts_size() == sup.totals().drawers_size());
  for (const v1::DrawerCount& c : sup.drawer_counts()) {
    REQUIRE_FALSE(c.counted());  // counts belong to the Z
    REQUIRE(c.over_short() == 0);
  }
  int64_t tax = 0;
  for (const auto& t : sup.totals().taxes()) tax += t.tax();
  REQUIRE(sup.grand_totals().net_sales() ==
          z.grand_totals().net_sales() + sup.totals().net_sales());
  REQUIRE(sup.grand_totals().tax() == z.grand_totals().tax() + tax);
  REQUIRE(sup.grand_totals().receipts() ==
          z.grand_totals().receipts() + sup.totals().receipt_count());

  auto db = OpenFogDb(store);
  {  // Section 7: day_totals rows carry device and day, and no store id.
    auto stmt = db->Prepare("SELECT business_day, part, device_id, totals FROM day_totals");
    REQUIRE(stmt.ok());
    int rows = 0;
    while (stmt->Step().value()) {
      v1::DayTotals t;
      REQUIRE(t.ParseFromString(stmt->Blob(3)));
      INFO(stmt->Text(2) << " part " << stmt->Int(1));
      REQUIRE(t.store_id().empty());
      REQUIRE(t.device_id() == stmt->Text(2));
      REQUIRE(t.business_day() == stmt->Text(0));
      ++rows;
    }
    REQUIRE(rows == 4);  // three tills in part 0, till-3 in part 1
  }
  {  // Section 8: the action journal, recomputed from its named columns.
    auto stmt = db->Prepare(
        "SELECT seq, at_us, manager, kind, detail, prev_hash, hash, signature FROM actions "
        "ORDER BY seq");
    REQUIRE(stmt.ok());
    auto pub = crypto::FromHex(ReadFile(store.fog->data_dir() + "/fog.pub").substr(0, 64));
    REQUIRE(pub.ok());
    crypto::PublicKey key{};
    std::memcpy(key.data(), pub->data(), 32);
    crypto::Hash prev = crypto::Sha256Of("storenode-actions-v1/store-1");
    std::vector<std::pair<std::string, std::string>> kinds;  // (manager, kind)
    while (stmt->Step().value()) {
      REQUIRE(stmt->Blob(5) == std::string(prev.begin(), prev.end()));
      crypto::Sha256 h;
      h.Update(crypto::Bytes(prev.data(), prev.size()));
      for (const std::string& f :
           {std::to_string(stmt->Int(1)), stmt->Text(2), stmt->Text(3), stmt->Text(4)}) {
        const uint8_t len[4] = {
            static_cast<uint8_t>(f.size() >> 24), static_cast<uint8_t>(f.size() >> 16),
            static_cast<uint8_t>(f.size() >> 8), static_cast<uint8_t>(f.size())};
        h.Update(crypto::Bytes(len, 4)).Update(f);
      }
      prev = h.Final();
      REQUIRE(stmt->Blob(6) == std::string(prev.begin(), prev.end()));
      REQUIRE(crypto::Verify(key, crypto::Bytes(prev.data(), prev.size()),
                             crypto::AsBytes(stmt->Blob(7))));
      kinds.emplace_back(stmt->Text(2), stmt->Text(3));
    }
    REQUIRE(kinds.size() >= 4);
    // The fog's first entry is its store settings version 1, from fog.toml.
    REQUIRE(kinds[0] == std::make_pair(std::string("fog.toml"), std::string("settings")));
    REQUIRE(kinds[1] == std::make_pair(std::string("test"), std::string("closedown-request")));
    REQUIRE(std::find(kinds.begin(), kinds.end(),
                      std::make_pair(std::string("test"), std::string("z-issued"))) != kinds.end());
    REQUIRE(kinds.back() == std::make_pair(std::string("fog"), std::string("supplement-issued")));
  }
  {  // Section 7: the columns of ledger_receipts, by name.
    auto stmt = db->Prepare("SELECT name FROM pragma_table_info('ledger_receipts') ORDER BY cid");
    REQUIRE(stmt.ok());
    std::vector<std::string> columns;
    while (stmt->Step().value()) columns.push_back(stmt->Text(0));
    REQUIRE(columns == std::vector<std::string>{"z_number", "leaf_index", "tree_size", "receipt",
                                                "received_us"});
  }
  REQUIRE(store.FogQuarantined() == 0);
}
