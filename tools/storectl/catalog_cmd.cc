// storectl catalog: the store's master catalog at the fog.
//
//   storectl catalog import FILE.csv [--delimiter ';'] [--json]
//   storectl catalog show [--sku S] [--json]
//   storectl catalog versions [--json]
//   storectl promotions import FILE.csv [--delimiter ';'] [--json]
//   storectl promotions show [--id ID] [--json]
//
// import sends the file as it is; the fog validates every row (the format is
// in common/include/storenode/common/catalog.h and docs/FORMATS.md) and
// applies all of it as a new version or nothing. Each bad row is printed as
// FILE:LINE: reason on stderr.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/money.h"

namespace storenode::storectl {
namespace {

struct CatalogArgs {
  FogFlags fog;
  std::string file;
  std::string sku;
  std::string delimiter;  // empty: the fog detects it from the header line
  bool json = false;
  bool promotions = false;  // a promotions file (docs/FORMATS.md 10.6)
};

std::string ShortHash(const std::string& raw) {
  return crypto::ToHex(crypto::AsBytes(raw)).substr(0, 16);
}

// A CLI11 check: the empty string when `d` may be a delimiter.
std::string CheckDelimiter(const std::string& d) {
  return d == "," || d == ";" ? std::string() : "is ';' or ',', not '" + d + "'";
}

int Import(const CatalogArgs& a) {
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return Fail(kExitUsage, "cannot read " + a.file);
  std::stringstream csv;
  csv << in.rdbuf();
  v1::FogRequest request;
  request.mutable_catalog_import()->set_csv(csv.str());
  request.mutable_catalog_import()->set_file_name(a.file);
  request.mutable_catalog_import()->set_delimiter(a.delimiter);
  request.mutable_catalog_import()->set_promotions(a.promotions);
  v1::FogResponse response;
  int code = AskFogOrFail(a.fog, request, &response);
  const v1::CatalogImportResponse& r = response.catalog_import();
  for (const v1::CatalogRowError& e : r.errors()) {
    std::cerr << a.file << ":" << e.line() << ": " << e.reason() << "\n";
  }
  if (code != kExitOk) return code;
  if (a.json) {
    std::cout << tools::JsonPretty(r);
  } else if (a.promotions) {
    std::cout << "catalog version " << r.version() << ": " << r.promotions_changed()
              << " promotions changed, " << r.promotion_count() << " promotions, content "
              << ShortHash(r.content_hash()) << "\n";
  } else {
    std::cout << "catalog version " << r.version() << ": " << r.rows() << " rows, "
              << r.items_changed() << " items changed, " << r.item_count() << " items, content "
              << ShortHash(r.content_hash()) << "\n";
  }
  return kExitOk;
}

int Show(const CatalogArgs& a) {
  v1::FogRequest request;
  request.mutable_catalog_show()->set_sku(a.sku);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::CatalogShowResponse& r = response.catalog_show();
  if (a.json) {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  std::cout << "catalog version " << r.version() << ", " << r.items_size() << " items\n";
  for (const v1::CatalogItem& item : r.items()) {
    std::string codes;
    for (const std::string& b : item.barcodes()) codes += (codes.empty() ? "" : ";") + b;
    std::cout << item.sku() << "  [" << codes << "]  (version " << item.version() << ")\n";
    for (const v1::CatalogEntry& e : item.entries()) {
      std::cout << "  "
                << (e.effective_from_us() ? "from " + IsoTime(e.effective_from_us()) : "always")
                << "  " << Money(e.price()).ToString() << "  tax " << e.tax_code() << "  "
                << e.name() << "  dept " << e.department() << (e.active() ? "" : "  INACTIVE")
                << "\n";
    }
  }
  return kExitOk;
}

int ShowPromotions(const CatalogArgs& a) {
  v1::FogRequest request;
  request.mutable_catalog_show()->set_promotions(true);
  request.mutable_catalog_show()->set_sku(a.sku);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::CatalogShowResponse& r = response.catalog_show();
  if (a.json) {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  std::cout << "catalog version " << r.version() << ", " << r.promotions_size() << " promotions\n";
  for (const v1::Promotion& p : r.promotions()) {
    std::cout << p.id() << "  " << v1::PromotionType_Name(p.type()) << "  " << p.name()
              << "  (version " << p.version() << ")" << (p.active() ? "" : "  INACTIVE") << "\n";
  }
  return kExitOk;
}

int Versions(const CatalogArgs& a) {
  v1::FogRequest request;
  request.mutable_catalog_versions();
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::CatalogVersionsResponse& r = response.catalog_versions();
  if (a.json) {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  std::cout << "VERSION  CREATED               ROWS   CHANGED    ITEMS  CONTENT           BY\n";
  for (const v1::CatalogVersion& v : r.versions()) {
    char line[256];
    std::snprintf(line, sizeof line, "%7llu  %s %6llu %9llu %8llu  %s  %s (%s)\n",
                  static_cast<unsigned long long>(v.version()), IsoTime(v.created_us()).c_str(),
                  static_cast<unsigned long long>(v.rows()),
                  static_cast<unsigned long long>(v.items_changed()),
                  static_cast<unsigned long long>(v.item_count()),
                  ShortHash(v.content_hash()).c_str(), v.manager().c_str(), v.file_name().c_str());
    std::cout << line;
  }
  return kExitOk;
}

}  // namespace

void AddCatalogCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CatalogArgs>();
  CLI::App* catalog = app.add_subcommand("catalog", "the store's master catalog at the fog");
  catalog->require_subcommand(1);

  CLI::App* import = catalog->add_subcommand(
      "import", "validate a CSV file and make it the next catalog version (all rows or none)");
  import
      ->add_option("file", args->file,
                   "CSV (',' or ';'): sku,barcodes,name,price|price_<currency>,tax_code,"
                   "department,active[,effective_from]; docs/FORMATS.md 10.1")
      ->required();
  import
      ->add_option("--delimiter", args->delimiter,
                   "';' or ','; default: the one the header line uses. Barcodes are "
                   "separated by the other one: ';' in a ','-file, ',' in a ';'-file")
      ->check(CheckDelimiter)
      ->type_name("';'|','");
  import->add_flag("--json", args->json, "print the CatalogImportResponse as JSON");
  AddFogOptions(import, &args->fog);
  import->callback([args, exit_code] { *exit_code = Import(*args);
});

CLI::App* show = catalog->add_subcommand("show", "the current items, or one by sku or barcode");
show->add_option("--sku", args->sku, "a sku or a barcode")->type_name("S");
show->add_flag("--json", args->json, "print the CatalogShowResponse as JSON");
AddFogOptions(show, &args->fog);
show->callback([args, exit_code] { *exit_code = Show(*args); });

CLI::App* versions = catalog->add_subcommand("versions", "every catalog version, oldest first");
versions->add_flag("--json", args->json, "print the CatalogVersionsResponse as JSON");
AddFogOptions(versions, &args->fog);
versions->callback([args, exit_code] { *exit_code = Versions(*args); });

auto promo = std::make_shared<CatalogArgs>();
promo->promotions = true;
CLI::App* promotions =
    app.add_subcommand("promotions", "the catalog's promotions at the fog (FORMATS 10.6)");
promotions->require_subcommand(1);
CLI::App* pimport = promotions->add_subcommand(
    "import", "validate a promotions CSV and make it the next catalog version (all rows or none)");
pimport
    ->add_option("file", promo->file,
                 "CSV (',' or ';'): id,name,type[,skus,departments,qty,get_qty,price,percent,"
                 "amount,threshold,starts,ends,days,hours,active]; docs/FORMATS.md 10.6")
    ->required();
pimport->add_option("--delimiter", promo->delimiter, "';' or ','; default: the header line's")
    ->check(CheckDelimiter)
    ->type_name("';'|','");
pimport->add_flag("--json", promo->json, "print the CatalogImportResponse as JSON");
AddFogOptions(pimport, &promo->fog);
pimport->callback([promo, exit_code] { *exit_code = Import(*promo); });
CLI::App* pshow = promotions->add_subcommand("show", "every promotion, or one by id");
pshow->add_option("--id", promo->sku, "a promotion id")->type_name("ID");
pshow->add_flag("--json", promo->json, "print the CatalogShowResponse as JSON");
AddFogOptions(pshow, &promo->fog);
pshow->callback([promo, exit_code] { *exit_code = ShowPromotions(*promo); });
}  // namespace storenode::storectl

}  // namespace storenode::storectl
