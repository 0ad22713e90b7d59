// The catalog import file as spreadsheets write it (docs/FORMATS.md 10.1):
// files that LibreOffice Calc wrote for a German and an English locale
// (tests/fixtures/csv/), each dialect rule with its exact error and line,
// and the German file through storectl into a real fog and on to a till
// that prices from it, while a bad file is refused whole.
#include <catch2/catch.hpp>

#include "storenode/common/catalog.h"
#include "storenode/common/clock.h"
#include "storenode/common/files.h"
#include "storenode/common/store_settings.h"
#include "support/run.h"
#include "support/store.h"

namespace storenode::testing {
namespace {

const std::string kFixtures = std::string(SN_SOURCE_DIR) + "/tests/fixtures/csv/";

std::string Fixture(const std::string& name) { return ReadFile(kFixtures + name); }

// UTC micros of a UTC wall time "YYYY-MM-DDTHH:MM[:SS]".
int64_t Utc(const std::string& text) { return settings::ParseLocalTime(text).value(); }

settings::Zone ZoneOf(const std::string& name) { return settings::Zone::Find(name).value(); }

catalog::CsvOptions Options(std::set<std::string> tax_codes, std::string currency,
                            const std::string& zone = "UTC") {
  catalog::CsvOptions o;
  o.tax_codes = std::move(tax_codes);
  o.currency = std::move(currency);
  o.zone = ZoneOf(zone);
  return o;
}

catalog::CsvOptions Berlin() { return Options({"A", "B"}, "EUR", "Europe/Berlin"); }
catalog::CsvOptions London() { return Options({"A", "B"}, "GBP", "Europe/London"); }

std::string Errors(const catalog::ParsedCsv& p) {
  std::string out;
  for (const auto& e : p.errors) out += std::to_string(e.line()) + ": " + e.reason() + "\n";
  return out;
}

// The rows of a file that must parse, REQUIREd without errors.
std::vector<catalog::Row> Good(std::string_view csv, const catalog::CsvOptions& options) {
  catalog::ParsedCsv p = catalog::ParseCsv(csv, options);
  INFO(Errors(p));
  REQUIRE(p.errors.empty());
  return p.rows;
}

// The errors of a file, as "LINE: reason" lines.
std::string Refused(std::string_view csv, const catalog::CsvOptions& options) {
  return Errors(catalog::ParseCsv(csv, options));
}

// One row's price in a file with the given header price column.
std::string PriceError(const std::string& column, const std::string& price,
                       const std::string& currency = "EUR") {
  catalog::CsvOptions o = Options({"A"}, currency);
  return Refused(
      "sku;barcodes;name;" + column + ";tax_code;department;active\nS-1;;N;" + price + ";A;d;1\n",
      o);
}

int64_t Price(const std::string& column, const std::string& price,
              const std::string& currency = "EUR") {
  catalog::CsvOptions o = Options({"A"}, currency);
  auto rows = Good(
      "sku;barcodes;name;" + column + ";tax_code;department;active\nS-1;;N;" + price + ";A;d;1\n",
      o);
  REQUIRE(rows.size() == 1);
  return rows[0].entry.price();
}

bool SameRows(const std::vector<catalog::Row>& a, const std::vector<catalog::Row>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].line != b[i].line || a[i].sku != b[i].sku || a[i].barcodes != b[i].barcodes ||
        a[i].entry.SerializeAsString() != b[i].entry.SerializeAsString()) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("catalog csv: Calc's German file reads with semicolons, decimal commas and local times",
          "[catalog][csv]") {
  const std::vector<catalog::Row> rows = Good(Fixture("calc-de.csv"), Berlin());
  REQUIRE(rows.size() == 6);
  // Each row names the physical line its record starts on: BREZEL-3's name
  // holds a line break, so SEKT-4 starts on line 7.
  const std::vector<uint32_t> lines = {2, 3, 4, 5, 7, 8};
  const std::vector<int64_t> prices = {249, 229, 450, 85, 799, 0};
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].line == lines[i]);
    CHECK(rows[i].entry.price() == prices[i]);
  }
  CHECK(rows[0].sku == "KAESE-1");
  CHECK(rows[0].barcodes == std::vector<std::string>{"4001234567890", "4001234567906"});
  CHECK(rows[0].entry.name() == "Käse „Bergkäse“ 200 g");
  CHECK(rows[0].entry.tax_code() == "B");
  CHECK(rows[0].entry.department() == "Molkerei");
  CHECK(rows[0].entry.effective_from_us() == 0);
  CHECK(rows[1].barcodes.empty());
  // 06:00 in Berlin in December is 05:00 UTC.
  CHECK(rows[1].entry.effective_from_us() == Utc("2026-12-01T05:00"));
  CHECK(rows[2].entry.name() == "Gouda \"jung\"; 400 g");
  CHECK(rows[2].barcodes == std::vector<std::string>{"4001234567913"});
  CHECK(rows[3].entry.name() == "Brezel\nfrisch gebacken");
  CHECK(rows[3].entry.department() == "Bäckerei");
  CHECK(rows[4].entry.name() == "Sekt trocken; 0,75 l");
  CHECK(rows[4].entry.tax_code() == "A");
  CHECK(rows[5].sku == "TUETE-5");
  CHECK(!rows[5].entry.active());

  // The same file with a byte order mark, and with ';' given, reads the same.
  CHECK(SameRows(Good(Fixture("calc-de-bom.csv"), Berlin()), rows));
  catalog::CsvOptions semicolon = Berlin();
  semicolon.delimiter = ';';
  CHECK(SameRows(Good(Fixture("calc-de.csv"), semicolon), rows));
}

TEST_CASE("catalog csv: Calc's English file reads with ',', price_GBP and CRLF", "[catalog][csv]") {
  const std::vector<catalog::Row> rows = Good(Fixture("calc-en.csv"), London());
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].sku == "CHED-1");
  CHECK(rows[0].barcodes == std::vector<std::string>{"5000000000011", "5000000000028"});
  CHECK(rows[0].entry.name() == "Cheddar, mature, 400g");
  // price_GBP: major units, so Calc's General "2" is 2.00.
  CHECK(rows[0].entry.price() == 350);
  CHECK(rows[1].entry.name() == "Tea \"English Breakfast\", 80 bags");
  CHECK(rows[1].entry.price() == 200);
  CHECK(rows[2].entry.price() == 225);
  CHECK(rows[2].entry.effective_from_us() == Utc("2026-12-01T06:00"));
  CHECK(rows[3].line == 5);
  CHECK(rows[3].entry.name() == "Red wine\n75cl");
  CHECK(rows[3].entry.price() == 99);
  // 01:30 on 2026-03-29 does not exist in London: the clocks jump from
  // 01:00 GMT to 02:00 BST, and the time is the instant of the jump.
  CHECK(rows[3].entry.effective_from_us() == Utc("2026-03-29T01:00"));

  // The same with CRLF line ends (also inside the quoted name) reads the same.
  CHECK(SameRows(Good(Fixture("calc-en-crlf.csv"), London()), rows));
}

TEST_CASE("catalog csv: Calc's bad files are refused naming the physical line", "[catalog][csv]") {
  CHECK(Refused(Fixture("calc-de-bad-decimals.csv"), Berlin()) ==
        "5: price '2,499' has 3 decimals, EUR has 2\n");
  CHECK(Refused(Fixture("calc-de-bad-thousands.csv"), Berlin()) ==
        "5: price '1.234,50' has a thousands separator\n");
  CHECK(Refused(Fixture("bad-unterminated-quote.csv"), Berlin()) ==
        "5: unterminated quoted field\n");
}

TEST_CASE("catalog csv: the delimiter comes from the header line or is given", "[catalog][csv]") {
  catalog::CsvOptions o = Options({"A"}, "EUR");
  // ';' file: barcodes separated by ','.
  auto semi =
      Good("sku;barcodes;name;price;tax_code;department;active\nS-1;111,222;N;5;A;d;1\n", o);
  REQUIRE(semi.size() == 1);
  CHECK(semi[0].barcodes == std::vector<std::string>{"111", "222"});
  // ',' file: barcodes separated by ';', as always.
  auto comma =
      Good("sku,barcodes,name,price,tax_code,department,active\nS-1,111;222,N,5,A,d,1\n", o);
  REQUIRE(comma.size() == 1);
  CHECK(comma[0].barcodes == std::vector<std::string>{"111", "222"});
  // A header cell may hold the other separator inside quotes.
  auto quoted = Good(
      "\"sku\";\"barcodes\";\"name\";\"price\";\"tax_code\";\"department\";"
      "\"active\"\nS-1;;\"a, b, c\";5;A;d;1\n",
      o);
  REQUIRE(quoted.size() == 1);
  CHECK(quoted[0].entry.name() == "a, b, c");
  // A delimiter given that the file does not use: the header is one column.
  o.delimiter = ';';
  CHECK(Refused("sku,barcodes,name,price,tax_code,department,active\nS-1,,N,5,A,d,1\n", o)
            .rfind("1: unknown column 'sku,barcodes,name,price,tax_code,department,active'\n"
                   "1: missing column 'sku'\n",
                   0) == 0);
  CHECK(catalog::DelimiterOf("").value() == '\0');
  CHECK(catalog::DelimiterOf(",").value() == ',');
  CHECK(catalog::DelimiterOf(";").value() == ';');
  CHECK(catalog::DelimiterOf("\t").status().message() == "delimiter '\t' is neither ',' nor ';'");
}

TEST_CASE("catalog csv: quoted fields hold delimiters, quotes and line breaks", "[catalog][csv]") {
  catalog::CsvOptions o = Options({"A"}, "EUR");
  const std::string csv =
      "sku;barcodes;name;price;tax_code;department;active\r\n"
      "S-1;;\"one;\r\ntwo \"\"2\"\"\r\nthree\";1;A;d;1\r\n"  // lines 2-4
      "\r\n"                                                 // line 5, blank
      ";;;;;;\r\n"                                           // line 6, an empty row
      "S-2;;  \"padded\"  ;2;A;d;1\r\n"                      // line 7
      "S-3;;\"x\"y;3;A;d;1\r\n"                              // line 8
      "S-4;;N;-4;A;d;1\r\n";                                 // line 9
  catalog::ParsedCsv p = catalog::ParseCsv(csv, o);
  CHECK(Errors(p) ==
        "8: text after a quoted field\n"
        "9: negative price -4\n");
  REQUIRE(p.rows.size() == 2);
  CHECK(p.rows[0].line == 2);
  CHECK(p.rows[0].entry.name() == "one;\ntwo \"2\"\nthree");
  CHECK(p.rows[1].line == 7);
  CHECK(p.rows[1].entry.name() == "padded");
  // A field count that differs names the record's first line.
  CHECK(Refused("sku;barcodes;name;price;tax_code;department;active\n"
                "S-1;;\"two\nlines\";1;A;d\n",
                o) == "2: has 6 fields, the header 7\n");
}

TEST_CASE("catalog csv: a price column reads whole minor units or decimal major units",
          "[catalog][csv]") {
  // `price`: whole numbers are minor units, as always...
  CHECK(Price("price", "249") == 249);
  CHECK(Price("price", "0") == 0);
  // ...and a decimal separator, '.' or ',', marks major units.
  CHECK(Price("price", "2.49") == 249);
  CHECK(Price("price", "2,49") == 249);
  CHECK(Price("price", "2,5") == 250);
  CHECK(Price("price", "0,05") == 5);
  CHECK(Price("price", "249", "JPY") == 249);
  CHECK(Price("price", "1.250", "KWD") == 1250);
  CHECK(Price("price", "1,2", "KWD") == 1200);
  // A decimal comma in a ',' file is quoted.
  catalog::CsvOptions eur = Options({"A"}, "EUR");
  auto quoted =
      Good("sku,barcodes,name,price,tax_code,department,active\nS-1,,N,\"2,49\",A,d,1\n", eur);
  REQUIRE(quoted.size() == 1);
  CHECK(quoted[0].entry.price() == 249);

  // price_<currency>: every number is major units.
  CHECK(Price("price_EUR", "2") == 200);
  CHECK(Price("price_eur", "2,49") == 249);
  CHECK(Price("price_JPY", "249", "JPY") == 249);
  CHECK(Price("price_KWD", "2", "KWD") == 2000);
  CHECK(PriceError("price_USD", "2") ==
        "1: column 'price_USD' is in USD, the store's currency is EUR\n");
  CHECK(Refused("sku;barcodes;name;price;price_EUR;tax_code;department;active\n", eur) ==
        "1: column 'price_EUR' repeats column 4 ('price')\n");

  // Not more decimals than the currency has.
  CHECK(PriceError("price", "2.499") == "2: price '2.499' has 3 decimals, EUR has 2\n");
  CHECK(PriceError("price_EUR", "2,499") == "2: price '2,499' has 3 decimals, EUR has 2\n");
  CHECK(PriceError("price", "2,5", "JPY") == "2: price '2,5' has 1 decimal, JPY has 0\n");
  CHECK(PriceError("price", "1,2345", "KWD") == "2: price '1,2345' has 4 decimals, KWD has 3\n");
  CHECK(PriceError("price", "2.49", "") ==
        "2: price '2.49' has decimals, and the store's currency is unknown\n");
  // No thousands separators, whichever the locale.
  for (const char* grouped : {"1.234,50", "1,234.50", "1.234.567", "1 234,50", "1'234.50",
                              "1\xC2\xA0"
                              "234,50"}) {
    INFO(grouped);
    CHECK(PriceError("price", grouped) ==
          "2: price '" + std::string(grouped) + "' has a thousands separator\n");
  }
  CHECK(PriceError("price", "abc") == "2: price 'abc' is not a number\n");
  CHECK(PriceError("price", "2,49 \xE2\x82\xAC") ==
        "2: price '2,49 \xE2\x82\xAC' is not a number\n");
  CHECK(PriceError("price",
                   "\xC2\xA3"
                   "2.49") ==
        "2: price '\xC2\xA3"
        "2.49' is not a number\n");
  CHECK(PriceError("price", "2,") == "2: price '2,' is not a number\n");
  CHECK(PriceError("price", ",5") == "2: price ',5' is not a number\n");
  CHECK(PriceError("price", "") == "2: price is empty\n");
  CHECK(PriceError("price", "-2,49") == "2: negative price -2,49\n");
  CHECK(PriceError("price", "12345678901234567,00") ==
        "2: price '12345678901234567,00' is too large\n");
}

TEST_CASE("catalog csv: a whole price beside decimal ones is refused, not guessed",
          "[catalog][csv]") {
  catalog::CsvOptions eur = Options({"A"}, "EUR");
  // "3" next to "2,49" would be 3 cents to the parser and 3.00 to its author.
  catalog::ParsedCsv p = catalog::ParseCsv(
      "sku;barcodes;name;price;tax_code;department;active\n"
      "S-1;;N;3;A;d;1\n"
      "S-2;;N;2,49;A;d;1\n"
      "S-3;;N;0;A;d;1\n"
      "S-4;;N;12;A;d;1\n",
      eur);
  CHECK(Errors(p) ==
        "2: price '3' has no decimals, but line 3's '2,49' has: write every price with decimals, "
        "or every price in minor units\n"
        "5: price '12' has no decimals, but line 3's '2,49' has: write every price with "
        "decimals, or every price in minor units\n");
  REQUIRE(p.rows.size() == 2);  // S-2 and S-3 (0 is 0 either way)
  CHECK(p.rows[0].sku == "S-2");
  CHECK(p.rows[1].sku == "S-3");
}

TEST_CASE("catalog csv: effective_from without an offset is the store's local time",
          "[catalog][csv]") {
  const settings::Zone berlin = ZoneOf("Europe/Berlin");
  // A bare date is the start of that local day.
  CHECK(catalog::ParseTime("2026-12-01", berlin).value() == Utc("2026-11-30T23:00"));
  CHECK(catalog::ParseTime("2026-07-01", berlin).value() == Utc("2026-06-30T22:00"));
  CHECK(catalog::ParseTime("2026-12-01").value() == Utc("2026-12-01T00:00"));  // UTC
  CHECK(catalog::ParseTime("2026-12-01 06:00", berlin).value() == Utc("2026-12-01T05:00"));
  CHECK(catalog::ParseTime("2026-12-01T06:00", berlin).value() == Utc("2026-12-01T05:00"));
  CHECK(catalog::ParseTime("2026-12-01T06:00:30", berlin).value() == Utc("2026-12-01T05:00:30"));
  CHECK(catalog::ParseTime("2026-07-01 06:00", berlin).value() == Utc("2026-07-01T04:00"));
  // Spring: 02:30 does not exist; it is the instant of the jump, 03:00 CEST.
  CHECK(catalog::ParseTime("2026-03-29 02:30", berlin).value() == Utc("2026-03-29T01:00"));
  CHECK(catalog::ParseTime("2026-03-29 03:00", berlin).value() == Utc("2026-03-29T01:00"));
  // Autumn: 02:30 exists twice; it is the first, 02:30 CEST.
  CHECK(catalog::ParseTime("2026-10-25 02:30", berlin).value() == Utc("2026-10-25T00:30"));
  CHECK(catalog::ParseTime("2026-10-25 03:00", berlin).value() == Utc("2026-10-25T02:00"));
  // With Z or an offset the time is absolute, whatever the zone.
  CHECK(catalog::ParseTime("2026-12-01T06:00:00Z", berlin).value() == Utc("2026-12-01T06:00"));
  CHECK(catalog::ParseTime("2026-12-01T06:00Z", berlin).value() == Utc("2026-12-01T06:00"));
  CHECK(catalog::ParseTime("2026-12-01T07:00+01:00", berlin).value() == Utc("2026-12-01T06:00"));
  CHECK(catalog::ParseTime("2026-12-01T01:00:00-05:00", berlin).value() == Utc("2026-12-01T06:00"));
  CHECK(catalog::ParseTime("2026-12-01T11:30+05:30", berlin).value() == Utc("2026-12-01T06:00"));
  for (const char* bad : {"tomorrow", "2026-12-01Z", "2026-13-01T00:00:00Z",
                          "2026-12-01T06:00+24:00", "2026-12-01T25:00", "01.12.2026 06:00"}) {
    INFO(bad);
    CHECK(catalog::ParseTime(bad, berlin).status().message() ==
          "bad time '" + std::string(bad) +
              "' (want YYYY-MM-DD[ HH:MM[:SS]] in the store's time zone, or "
              "YYYY-MM-DDTHH:MM[:SS] with Z or +HH:MM)");
  }
  // In a file, through the options' zone.
  catalog::CsvOptions o = Berlin();
  auto rows = Good(
      "sku;barcodes;name;price;tax_code;department;active;effective_from\n"
      "S-1;;N;1;A;d;1;2026-10-25 02:30\n",
      o);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].entry.effective_from_us() == Utc("2026-10-25T00:30"));
}

namespace {

Ran ImportWithStorectl(Store& store, const std::string& file, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"catalog",  "import",           kFixtures + file,
                                   "--broker", store.broker.uri(), "--insecure",
                                   "--store",  store.store_id};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunTool(store.dir, "storectl", args);
}

}  // namespace

TEST_CASE(
    "catalog csv: Calc's German file goes through storectl into a real fog and prices a sale on "
    "a till, a bad file is refused whole",
    "[catalog][csv][integration]") {
  Store store(1);
  store.fog->store_config = BerlinStoreConfig("Käseladen");  // the fixture's codes
  REQUIRE(store.fog->Start().ok());

  Ran r = ImportWithStorectl(store, "calc-de.csv");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("catalog version 1: 6 rows, 5 items changed, 5 items, content ", 0) == 0);

  // A till of the store, at its own clock, the evening before the change.
  ManualClock clock(Utc("2026-11-30T18:00"));
  store.OpenTillOnFogSettings(0, &clock);
  SimTill& till = store.tills[0];
  till.sync = edge::SyncEngine::Start(till.journal.get(), store.SyncOptionsFor()).value();
  REQUIRE(
      WaitFor([&] { return till.journal->catalog().version() == 1; }, std::chrono::seconds(30)));
  CHECK(till.journal->catalog().item_count() == 5);

  // 2,49 is 249 cents, by either barcode of the Käse; 0,85 the Brezel.
  auto sale = till.journal->SaleFromCatalog({{"4001234567906", 2}, {"4001234567920", 1}});
  INFO(sale.status().ToString());
  REQUIRE(sale.ok());
  REQUIRE(sale->lines_size() == 2);
  CHECK(sale->lines(0).sku() == "KAESE-1");
  CHECK(sale->lines(0).name() == "Käse „Bergkäse“ 200 g");
  CHECK(sale->lines(0).unit_price() == 249);
  CHECK(sale->lines(1).name() == "Brezel\nfrisch gebacken");
  CHECK(sale->lines(1).unit_price() == 85);
  CHECK(sale->total() == 2 * 249 + 85);
  CHECK(till.journal->LookupItem("4001234567937").value().price == 799);
  // "2026-12-01 06:00" is Berlin time: 05:00 UTC.
  clock.Set(Utc("2026-12-01T05:00") - 1);
  CHECK(till.journal->LookupItem("4001234567890").value().price == 249);
  clock.Set(Utc("2026-12-01T05:00"));
  CHECK(till.journal->LookupItem("4001234567890").value().price == 229);

  // One bad row: refused whole with its line, nothing applied.
  for (const auto& [file, line] : std::vector<std::pair<std::string, std::string>>{
           {"calc-de-bad-thousands.csv", ":5: price '1.234,50' has a thousands separator"},
           {"calc-de-bad-decimals.csv", ":5: price '2,499' has 3 decimals, EUR has 2"},
           {"bad-unterminated-quote.csv", ":5: unterminated quoted field"}}) {
    INFO(file);
    Ran bad = ImportWithStorectl(store, file);
    INFO(bad.err);
    CHECK(bad.code == 1);
    CHECK(bad.err.find(kFixtures + file + line + "\n") != std::string::npos);
    CHECK(bad.err.find("1 bad row(s), nothing applied") != std::string::npos);
  }
  // --delimiter reaches the fog: ';' does not split the English file's
  // header (detected, ',' would, and refuse its price_GBP column).
  Ran forced = ImportWithStorectl(store, "calc-en.csv", {"--delimiter", ";"});
  INFO(forced.err);
  CHECK(forced.code == 1);
  CHECK(forced.err.find(kFixtures +
                        "calc-en.csv:1: text after a quoted field in the header line\n") !=
        std::string::npos);
  Ran detected = ImportWithStorectl(store, "calc-en.csv");
  INFO(detected.err);
  CHECK(detected.code == 1);
  CHECK(detected.err.find(kFixtures +
                          "calc-en.csv:1: column 'price_GBP' is in GBP, the store's currency "
                          "is EUR\n") != std::string::npos);
  Ran wrong = ImportWithStorectl(store, "calc-de.csv", {"--delimiter", "|"});
  CHECK(wrong.code != 0);
  CHECK(wrong.err.find("--delimiter") != std::string::npos);

  v1::FogRequest versions;
  versions.mutable_catalog_versions();
  auto v = store.fog->Ask(versions);
  REQUIRE(v.ok());
  CHECK(v->catalog_versions().versions_size() == 1);
  CHECK(store.fog->GetStatus().value().catalog_version() == 1);
  CHECK(till.journal->catalog().version() == 1);
  CHECK(till.journal->LookupItem("4001234567890").value().price == 229);
}

}  // namespace storenode::testing
