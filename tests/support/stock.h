// Stock at the fog without a daemon: a real fog.db with its migrations, the
// action journal, store settings, catalog and Stock as the worker holds
// them, and sales booked through the read models as ingest books them
// (tests/stock_test.cc, tests/reorder_test.cc).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fog/src/action_journal.h"
#include "fog/src/catalog.h"
#include "fog/src/settings.h"
#include "fog/src/stock.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/sqlite.h"
#include "support/harness.h"

namespace storenode::testing {

// Reorder columns for three items: SKU-A (Fresh Farms, lead 2, pack 6,
// min 12), SKU-B (defaults), SKU-C (Dairy Co, pack 4).
extern const char* const kItems;

struct StockFixture {
  StockFixture();
  // UTC micros of `day` at hour:minute (the simulated store is on UTC).
  static int64_t At(const std::string& day, int hour, int minute = 0);
  void ImportCatalog(const std::string& csv);
  // A sale (or refund) of qty x sku at at_us by till-1, booked as ingest
  // books a stored event: read models and stock in one transaction.
  void Ingest(const std::string& sku, int64_t qty, int64_t at_us, bool refund = false);
  // The same for an event of `lines` (a training-mode one if `training`).
  void IngestLines(const std::vector<v1::SaleLine>& lines, int64_t at_us, bool refund = false,
                   bool training = false);
  v1::FogResponse Receive(const std::string& csv, const std::string& request_id = "");
  v1::FogResponse Count(const std::string& csv, int64_t at_us);
  v1::FogResponse Adjust(const std::string& sku, int64_t units, const std::string& reason);
  fog::Level LevelOf(const std::string& sku);
  // The first column of the first row of `sql` (-1: no row).
  int64_t Rows(const std::string& sql);

  std::string dir = MakeTempDir("stock");
  ManualClock clock;
  fog::Config config;
  crypto::SigningKey key = crypto::SigningKey::Generate();
  std::unique_ptr<sql::Db> db;
  std::unique_ptr<fog::ActionJournal> actions;
  std::unique_ptr<fog::SettingsIssuer> settings;
  std::unique_ptr<fog::Catalog> catalog;
  std::unique_ptr<fog::Stock> stock;
  uint64_t seq = 0;
  int requests = 0;
};

}  // namespace storenode::testing
