// The catalog import file as spreadsheets write it (docs/FORMATS.md 10.1):
// ',' or ';' between fields, a byte order mark, quoted fields that hold
// delimiters, doubled quotes and line breaks, decimal prices in the store's
// currency, and effective_from in the store's local time.
//
// The file is tokenized whole, not line by line, because a quoted field may
// hold a line break; every row keeps the physical line its record starts on,
// which is the line an error names.
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <utility>

#include "storenode/common/catalog.h"
#include "storenode/common/clock.h"

namespace storenode::catalog {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && Blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && (Blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The records of a file, one at a time (RFC 4180 quoting). A record runs
// from the start of a physical line to the first line break outside
// quotes. Inside quotes a delimiter, a doubled quote ("") and a line break
// belong to the field; a CRLF there is kept as LF, so a name reads the same
// from a Windows and a Unix file. Unquoted fields are trimmed of blanks.
class Records {
 public:
  Records(std::string_view text, char delimiter) : text_(text), delimiter_(delimiter) {}
  bool done() const { return pos_ >= text_.size(); }
  // The 1-based line the next record starts on.
  uint32_t line() const { return line_; }
  // The next record's fields, or why it is malformed. After "text after a
  // quoted field" reading goes on at the next line; an unterminated quote
  // takes the rest of the file.
  Result<std::vector<std::string>> Next();

 private:
  bool At(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool AtFieldEnd() const { return pos_ >= text_.size() || At(delimiter_) || At('\n'); }
  void SkipLine();

  std::string_view text_;
  char delimiter_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
};

Result<std::vector<std::string>> Records::Next() {
  std::vector<std::string> fields;
  while (true) {
    while (pos_ < text_.size() && Blank(text_[pos_])) ++pos_;
    std::string field;
    if (At('"')) {
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) return Status::Invalid("unterminated quoted field");
        const char c = text_[pos_++];
        if (c == '"') {
          if (!At('"')) break;
          ++pos_;
        } else if (c == '\r' && At('\n')) {
          continue;
        } else if (c == '\n') {
          ++line_;
        }
        field += c;
      }
      for (; !AtFieldEnd(); ++pos_) {
        if (!Blank(text_[pos_]) && text_[pos_] != '\r') {
          SkipLine();
          return Status::Invalid("text after a quoted field");
        }
      }
    } else {
      const size_t start = pos_;
      while (!AtFieldEnd()) ++pos_;
      field = std::string(Trim(text_.substr(start, pos_ - start)));
    }
    fields.push_back(std::move(field));
    if (pos_ >= text_.size()) return fields;
    if (text_[pos_++] == '\n') {
      ++line_;
      return fields;
    }
  }
}

void Records::SkipLine() {
  const size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) {
    pos_ = text_.size();
  } else {
    pos_ = end + 1;
    ++line_;
  }
}

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

struct Price {
  int64_t minor = 0;
  bool decimal = false;  // written with a decimal separator
};

// A price field in minor units of `currency`, which has `decimals` of them
// (-1: unknown). `major`: the column is in major units (price_EUR), so "2"
// is 2.00 EUR; otherwise a whole number is minor units, as it always was,
// and only a value with a decimal separator is in major units.
Result<Price> ParsePrice(const std::string& text, bool major, const std::string& currency,
                         int decimals) {
  const std::string quoted = "price '" + text + "'";
  if (text.empty()) return Status::Invalid("price is empty");
  const bool negative = text.front() == '-';
  std::string_view body = std::string_view(text).substr(negative ? 1 : 0);
  // A blank, an apostrophe or a (narrow) no-break space between digits, or
  // a second separator, groups thousands: "1.234,50", "1,234.50", "1 234".
  // ("2,49 €" is not a number: its blank is not between digits.)
  auto digit = [&](size_t i) { return i < body.size() && body[i] >= '0' && body[i] <= '9'; };
  for (std::string_view group : {" ", "'", "\xC2\xA0", "\xE2\x80\xAF"}) {
    for (size_t at = body.find(group); at != std::string_view::npos;
         at = body.find(group, at + 1)) {
      if (at > 0 && digit(at - 1) && digit(at + group.size())) {
        return Status::Invalid(quoted + " has a thousands separator");
      }
    }
  }
  const size_t separators =
      std::count(body.begin(), body.end(), '.') + std::count(body.begin(), body.end(), ',');
  if (separators > 1) return Status::Invalid(quoted + " has a thousands separator");
  const size_t sep = body.find_first_of(".,");
  std::string_view whole = body.substr(0, sep);
  std::string_view fraction = sep == std::string_view::npos ? "" : body.substr(sep + 1);
  if (!Digits(whole) || (sep != std::string_view::npos && !Digits(fraction))) {
    return Status::Invalid(quoted + " is not a number");
  }
  Price p;
  p.decimal = sep != std::string_view::npos;
  int scale = 0;  // the power of ten that makes `whole` minor units
  if (p.decimal || major) {
    if (decimals < 0) {
      return Status::Invalid(quoted + " has decimals, and the store's currency is unknown");
    }
    if (fraction.size() > static_cast<size_t>(decimals)) {
      return Status::Invalid(quoted + " has " + std::to_string(fraction.size()) +
                             (fraction.size() == 1 ? " decimal, " : " decimals, ") + currency +
                             " has " + std::to_string(decimals));
    }
    scale = decimals;
  }
  // At most 18 digits of minor units: no int64 overflow.
  if (whole.size() + scale > 18) return Status::Invalid(quoted + " is too large");
  int64_t w = 0, f = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), w);
  if (!fraction.empty()) std::from_chars(fraction.data(), fraction.data() + fraction.size(), f);
  p.minor = w * Pow10(scale) + f * Pow10(scale - static_cast<int>(fraction.size()));
  if (negative) return Status::Invalid("negative price " + text);
  return p;
}

bool PlainCode(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return c > ' ' && c != ',' && c != ';' && c != '"' && c < 0x7f;
  });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// The columns up to kEffective are required; the rest are optional.
enum Column {
  kSku,
  kBarcodes,
  kName,
  kPrice,
  kTaxCode,
  kDepartment,
  kActive,
  kEffective,
  kSupplier,
  kLeadTime,
  kPackSize,
  kMinOrder,
  kUnit,
  kCount
};
constexpr const char* kColumnNames[kCount] = {
    "sku",    "barcodes",       "name",     "price",          "tax_code",  "department",
    "active", "effective_from", "supplier", "lead_time_days", "pack_size", "min_order",
    "unit"};

// The unit column: pc (or empty), kg, l, m.
bool ParseUnit(std::string_view text, v1::UnitOfMeasure* unit) {
  constexpr std::pair<std::string_view, v1::UnitOfMeasure> kUnits[] = {{"", v1::UNIT_PIECE},
                                                                       {"pc", v1::UNIT_PIECE},
                                                                       {"kg", v1::UNIT_KG},
                                                                       {"l", v1::UNIT_LITRE},
                                                                       {"m", v1::UNIT_METRE}};
  for (const auto& [name, value] : kUnits) {
    if (text == name) {
      *unit = value;
      return true;
    }
  }
  return false;
}

// A whole number in [min, max], or why not; `what` names the column.
Result<uint32_t> ParseCount(const std::string& text, const char* what, uint32_t min, uint32_t max) {
  const std::string quoted = std::string(what) + " '" + text + "'";
  if (!Digits(text) || text.size() > 9) return Status::Invalid(quoted + " is not a whole number");
  uint32_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  if (v < min || v > max) {
    return Status::Invalid(quoted + " is not between " + std::to_string(min) + " and " +
                           std::to_string(max));
  }
  return v;
}

}  // namespace

char DetectDelimiter(std::string_view text) {
  size_t commas = 0, semicolons = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
    } else if (quoted) {
      continue;
    } else if (c == ',') {
      ++commas;
    } else if (c == ';') {
      ++semicolons;
    } else if (c == '\n' && commas + semicolons > 0) {
      break;
    }
  }
  return semicolons > commas ? ';' : ',';
}

bool ParseBool(std::string_view s, bool* out) {
  std::string v(s);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v.empty() || v == "1" || v == "true" || v == "yes") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "no") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

std::vector<CsvRecord> ReadCsvRecords(std::string_view csv, char delimiter) {
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);
  Records records(csv, delimiter ? delimiter : DetectDelimiter(csv));
  std::vector<CsvRecord> out;
  while (!records.done()) {
    CsvRecord r;
    r.line = records.line();
    auto fields = records.Next();
    if (!fields.ok()) {
      r.error = fields.status().message();
    } else if (std::all_of(fields->begin(), fields->end(),
                           [](const auto& f) { return f.empty(); })) {
      continue;
    } else {
      r.fields = std::move(*fields);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<int64_t> ParseAmount(std::string_view text, const std::string& currency) {
  SN_ASSIGN_OR_RETURN(Price p, ParsePrice(std::string(text), false, currency,
                                          settings::CurrencyDecimals(currency)));
  return p.minor;
}

Result<char> DelimiterOf(std::string_view text) {
  if (text.empty()) return '\0';
  if (text == "," || text == ";") return text[0];
  return Status::Invalid("delimiter '" + std::string(text) + "' is neither ',' nor ';'");
}

Result<int64_t> ParseTime(std::string_view text, const settings::Zone& zone) {
  const std::string t(Trim(text));
  auto bad = Status::Invalid("bad time '" + t +
                             "' (want YYYY-MM-DD[ HH:MM[:SS]] in the store's time zone, or "
                             "YYYY-MM-DDTHH:MM[:SS] with Z or +HH:MM)");
  std::string_view local = t;
  std::optional<int64_t> offset_us;  // set: an absolute time
  if (local.size() > 10 && local.back() == 'Z') {
    offset_us = 0;
    local.remove_suffix(1);
  } else if (local.size() > 16 &&
             (local[local.size() - 6] == '+' || local[local.size() - 6] == '-')) {
    auto minutes = settings::ParseClockTime(local.substr(local.size() - 5));
    if (!minutes.ok()) return bad;
    offset_us = int64_t{*minutes} * 60'000'000 * (local[local.size() - 6] == '-' ? -1 : 1);
    local.remove_suffix(6);
  }
  auto wall = settings::ParseLocalTime(local);
  if (!wall.ok() || (offset_us && local.size() == 10)) return bad;
  return offset_us ? *wall - *offset_us : zone.FromLocal(*wall);
}

ParsedCsv ParseCsv(std::string_view csv, const CsvOptions& options) {
  ParsedCsv out;
  auto error = [&](uint32_t line, std::string reason) {
    v1::CatalogRowError& e = out.errors.emplace_back();
    e.set_line(line);
    e.set_reason(std::move(reason));
  };
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);  // a byte order mark
  const char delimiter = options.delimiter ? options.delimiter : DetectDelimiter(csv);
  // Barcodes are separated by whichever of ';' and ',' is not the delimiter.
  const char barcode_separator = delimiter == ';' ? ',' : ';';
  const int decimals = settings::CurrencyDecimals(options.currency);
  int index[kCount];
  std::fill(std::begin(index), std::end(index), -1);
  bool major = false;  // the price column is price_<currency>
  size_t columns = 0;
  bool header = false;
  // (sku, effective_from) -> line; barcode -> (sku, line)
  std::map<std::pair<std::string, int64_t>, uint32_t> skus;
  std::map<std::string, std::pair<std::string, uint32_t>> barcodes;
  // In a `price` column, a whole price beside decimal ones is ambiguous.
  std::optional<std::pair<uint32_t, std::string>> first_decimal;
  std::vector<std::pair<uint32_t, std::string>> whole_prices;
  Records records(csv, delimiter);
  while (!records.done()) {
    const uint32_t line_no = records.line();
    auto fields = records.Next();
    if (!fields.ok() && !header) {
      // Without columns no row can be read.
      error(line_no, fields.status().message() + " in the header line");
      return out;
    }
    if (!fields.ok()) {
      error(line_no, fields.status().message());
      continue;
    }
    if (std::all_of(fields->begin(), fields->end(), [](const auto& f) { return f.empty(); })) {
      continue;  // a blank line, or a spreadsheet's empty row (";;;;;;")
    }
    if (!header) {
      header = true;
      columns = fields->size();
      for (size_t i = 0; i < fields->size(); ++i) {
        const std::string& raw = (*fields)[i];
        std::string name = Lower(raw);
        if (name == "barcode") name = "barcodes";
        if (name == "tax") name = "tax_code";
        if (name.rfind("price_", 0) == 0) {
          const std::string currency = Upper(name.substr(6));
          if (options.currency.empty()) {
            error(line_no, "column '" + raw + "': the store's currency is unknown");
          } else if (currency != options.currency) {
            error(line_no, "column '" + raw + "' is in " + currency + ", the store's currency is " +
                               options.currency);
          }
          name = "price";
          major = true;
        }
        auto known = std::find(std::begin(kColumnNames), std::end(kColumnNames), name);
        if (known == std::end(kColumnNames)) {
          error(line_no, "unknown column '" + raw + "'");
          continue;
        }
        int& at = index[known - std::begin(kColumnNames)];
        if (at >= 0) {
          error(line_no, "column '" + raw + "' repeats column " + std::to_string(at + 1) + " ('" +
                             (*fields)[at] + "')");
        }
        at = static_cast<int>(i);
      }
      for (int c = 0; c < kEffective; ++c) {
        if (index[c] < 0) error(line_no, std::string("missing column '") + kColumnNames[c] + "'");
      }
      if (!out.errors.empty()) return out;
      continue;
    }
    if (fields->size() != columns) {
      error(line_no, "has " + std::to_string(fields->size()) + " fields, the header " +
                         std::to_string(columns));
      continue;
    }
    auto field = [&](Column c) -> const std::string& {
      static const std::string kEmpty;
      return index[c] < 0 ? kEmpty : (*fields)[index[c]];
    };
    size_t errors_before = out.errors.size();
    Row row;
    row.line = line_no;
    row.sku = field(kSku);
    if (!PlainCode(row.sku)) error(line_no, "sku '" + row.sku + "' is empty or has blanks");
    v1::CatalogEntry& e = row.entry;
    auto price = ParsePrice(field(kPrice), major, options.currency, decimals);
    if (price.ok()) {
      e.set_price(price->minor);
      if (!major && price->decimal && !first_decimal) first_decimal.emplace(line_no, field(kPrice));
      if (!major && !price->decimal && price->minor != 0) {
        whole_prices.emplace_back(line_no, field(kPrice));
      }
    } else {
      error(line_no, price.status().message());
    }
    e.set_name(field(kName));
    if (e.name().empty()) error(line_no, "name is empty");
    e.set_tax_code(field(kTaxCode));
    if (!options.tax_codes.count(e.tax_code())) {
      error(line_no, "unknown tax code '" + e.tax_code() + "'");
    }
    e.set_department(field(kDepartment));
    bool active = true;
    if (!ParseBool(field(kActive), &active)) {
      error(line_no, "active '" + field(kActive) + "' is not 1/0/true/false/yes/no");
    }
    e.set_active(active);
    v1::UnitOfMeasure unit = v1::UNIT_PIECE;
    if (!ParseUnit(field(kUnit), &unit)) {
      error(line_no, "unit '" + field(kUnit).substr(0, 16) + "' is not pc, kg, l or m");
    }
    e.set_unit(unit);
    if (!field(kEffective).empty()) {
      auto t = ParseTime(field(kEffective), options.zone);
      if (t.ok()) {
        e.set_effective_from_us(*t);
      } else {
        error(line_no, t.status().message());
      }
    }
    if (index[kSupplier] >= 0 && !field(kSupplier).empty()) {
      const std::string& supplier = field(kSupplier);
      if (supplier.size() > kMaxSupplierBytes ||
          std::any_of(supplier.begin(), supplier.end(),
                      [](unsigned char c) { return c < ' ' || c == 0x7f; })) {
        error(line_no, "supplier '" + supplier.substr(0, kMaxSupplierBytes) + "' is longer than " +
                           std::to_string(kMaxSupplierBytes) + " bytes or has control characters");
      }
      row.has_supplier = true;
      row.reorder.set_supplier(supplier);
    }
    struct Optional {
      Column column;
      uint32_t min, max;
      void (v1::ReorderTerms::*set)(uint32_t);
    };
    for (const Optional& o :
         {Optional{kLeadTime, 0, kMaxLeadTimeDays, &v1::ReorderTerms::set_lead_time_days},
          Optional{kPackSize, 1, kMaxPackSize, &v1::ReorderTerms::set_pack_size},
          Optional{kMinOrder, 0, kMaxMinOrder, &v1::ReorderTerms::set_min_order}}) {
      if (field(o.column).empty()) continue;
      auto v = ParseCount(field(o.column), kColumnNames[o.column], o.min, o.max);
      if (v.ok()) {
        (row.reorder.*o.set)(*v);
      } else {
        error(line_no, v.status().message());
      }
    }
    std::string_view codes = field(kBarcodes);
    while (!codes.empty()) {
      size_t end = codes.find(barcode_separator);
      std::string_view code = Trim(codes.substr(0, end));
      codes = end == std::string_view::npos ? std::string_view() : codes.substr(end + 1);
      if (code.empty()) continue;
      if (!PlainCode(code)) {
        error(line_no, "barcode '" + std::string(code) + "' has blanks or separators");
        continue;
      }
      row.barcodes.emplace_back(code);
    }
    if (out.errors.size() > errors_before) continue;
    auto [it, fresh] = skus.emplace(std::make_pair(row.sku, e.effective_from_us()), line_no);
    if (!fresh) {
      error(line_no, "duplicate sku " + row.sku + " (also on line " + std::to_string(it->second) +
                         (e.effective_from_us() ? " with the same effective_from)" : ")"));
      continue;
    }
    bool dup = false;
    for (const std::string& code : row.barcodes) {
      auto [b, added] = barcodes.emplace(code, std::make_pair(row.sku, line_no));
      if (!added && b->second.first != row.sku) {
        error(line_no, "duplicate barcode " + code + " (also on line " +
                           std::to_string(b->second.second) + ", sku " + b->second.first + ")");
        dup = true;
      }
    }
    if (!dup) out.rows.push_back(std::move(row));
  }
  if (!header) error(1, "the file is empty (want a header line: sku,barcodes,name,...)");
  if (first_decimal && !whole_prices.empty()) {
    // "2" beside "2,49" is 2 cents to this parser and most likely 2.00 to
    // whoever wrote it: refused rather than guessed.
    for (const auto& [line, text] : whole_prices) {
      error(line, "price '" + text + "' has no decimals, but line " +
                      std::to_string(first_decimal->first) + "'s '" + first_decimal->second +
                      "' has: write every price with decimals, or every price in minor units");
      std::erase_if(out.rows, [line = line](const Row& r) { return r.line == line; });
    }
    std::stable_sort(out.errors.begin(), out.errors.end(),
                     [](const auto& a, const auto& b) { return a.line() < b.line(); });
  }
  return out;
}

}  // namespace storenode::catalog
