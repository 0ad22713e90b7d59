#include "support/stock.h"

#include <catch2/catch.hpp>

#include "fog/src/read_models.h"
#include "fog/src/store.h"
#include "support/fog.h"

namespace storenode::testing {

StockFixture::StockFixture() : clock(At("2026-12-01", 8)) {
  config.store_id = "store-1";
  config.store = SimStoreTerms();
  config.data_dir = dir;
  db = sql::Db::Open(dir + "/fog.db").value();
  REQUIRE(sql::Migrate(*db, "fog.db", fog::kFogMigrations).ok());
  actions = std::make_unique<fog::ActionJournal>(*db, clock, config.store_id, key);
  settings = std::make_unique<fog::SettingsIssuer>(*db, config, clock, *actions, key);
  REQUIRE(settings->Load().ok());
  catalog = std::make_unique<fog::Catalog>(*db, config, clock, *actions, *settings);
  REQUIRE(catalog->Load().ok());
  stock = std::make_unique<fog::Stock>(*db, clock, *actions, *settings);
}

int64_t StockFixture::At(const std::string& day, int hour, int minute) {
  return DayStartMicros(day) + (int64_t{hour} * 60 + minute) * 60'000'000;
}

void StockFixture::ImportCatalog(const std::string& csv) {
  v1::CatalogImportRequest req;
  req.set_csv(csv);
  req.set_file_name("items.csv");
  v1::FogResponse r = catalog->Import(req, "alice");
  INFO(r.error());
  REQUIRE(r.ok());
}

void StockFixture::Ingest(const std::string& sku, int64_t qty, int64_t at_us, bool refund) {
  v1::SaleLine line;
  line.set_sku(sku);
  line.set_qty(qty);
  line.set_unit_price(100);
  line.set_gross(100 * qty);
  line.set_name(sku);
  IngestLines({line}, at_us, refund);
}

void StockFixture::IngestLines(const std::vector<v1::SaleLine>& lines, int64_t at_us, bool refund,
                               bool training) {
  DecodedEvent e;
  e.header.set_device_id("till-1");
  e.header.set_journal_id("journal-1");
  e.header.set_seq(++seq);
  e.header.set_business_day(DayOf(at_us));
  e.header.set_wall_time_us(at_us);
  e.header.set_training(training);
  for (const v1::SaleLine& line : lines) {
    *(refund ? e.body.mutable_refund()->add_lines() : e.body.mutable_sale()->add_lines()) = line;
  }
  e.header.set_kind(refund ? v1::REFUND : v1::SALE);
  fog::ReadModels models;
  models.Add(e, 0);
  sql::Transaction txn(*db);
  REQUIRE(txn.begin_status().ok());
  // Stored as ingest stores it (the readers of stored events only parse
  // them: hashes and signature are placeholders).
  auto put = db->Prepare(
      "INSERT INTO events(device_id, journal_id, seq, business_day, kind, receipt_no, header, "
      "body, prev_hash, hash, signature) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  REQUIRE(put.ok());
  put->Bind(1, e.header.device_id()).BindBlob(2, e.header.journal_id());
  put->Bind(3, static_cast<int64_t>(seq)).Bind(4, e.header.business_day());
  put->Bind(5, int64_t{e.header.kind()}).Bind(6, static_cast<int64_t>(seq));
  put->BindBlob(7, e.header.SerializeAsString()).BindBlob(8, e.body.SerializeAsString());
  put->BindBlob(9, std::string(32, '\0')).BindBlob(10, std::string(32, '\0'));
  put->BindBlob(11, std::string(64, '\0'));
  REQUIRE(put->Run().ok());
  REQUIRE(models.Flush(*db).ok());
  REQUIRE(txn.Commit().ok());
}

v1::FogResponse StockFixture::Receive(const std::string& csv, const std::string& id) {
  v1::StockReceiveRequest req;
  req.set_csv(csv);
  req.set_file_name("delivery.csv");
  req.set_request_id(id.empty() ? "r" + std::to_string(++requests) : id);
  return stock->Receive(req, "alice");
}

v1::FogResponse StockFixture::Count(const std::string& csv, int64_t at_us) {
  v1::StockCountRequest req;
  req.set_csv(csv);
  req.set_file_name("count.csv");
  req.set_request_id("c" + std::to_string(++requests));
  req.set_at_us(at_us);
  return stock->Count(req, "bob");
}

v1::FogResponse StockFixture::Adjust(const std::string& sku, int64_t units,
                                     const std::string& reason) {
  v1::StockAdjustRequest req;
  req.set_sku(sku);
  req.set_qty_milli(units * 1000);
  req.set_reason(reason);
  req.set_request_id("a" + std::to_string(++requests));
  return stock->Adjust(req, "alice");
}

fog::Level StockFixture::LevelOf(const std::string& sku) {
  auto levels = fog::StockLevels(*db);
  REQUIRE(levels.ok());
  return (*levels)[sku];
}

int64_t StockFixture::Rows(const std::string& sql) {
  auto s = db->Prepare(sql);
  REQUIRE(s.ok());
  auto row = s->Step();
  REQUIRE(row.ok());
  return *row ? s->Int(0) : -1;
}

const char* const kItems =
    "sku,barcodes,name,price,tax_code,department,active,supplier,lead_time_days,pack_size,"
    "min_order\n"
    "SKU-A,1001,Apples,100,A,fruit,1,Fresh Farms,2,6,12\n"
    "SKU-B,1002,Bread,250,B,bakery,1,,,,\n"
    "SKU-C,1003,Cheese,500,A,dairy,1,Dairy Co,,4,\n";

}  // namespace storenode::testing
