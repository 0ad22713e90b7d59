// storectl stock and storectl reorder: stock at the fog and what to reorder.
//
//   storectl stock receive FILE.csv   delivery note: sku,quantity,cost[,note]
//   storectl stock count FILE.csv [--at TIME]   sku,counted
//   storectl stock adjust --sku S --qty -3|-0.75 --reason waste|shrink|damage|other [--note T]
//   storectl stock order FILE.csv     sku,qty now on order
//   storectl stock show [--sku S] [--moves N] [--format text|json|csv]
//   storectl reorder [--supplier S] [--sku S] [--all] [--refresh] [--format text|json|csv]
//
// Every change is applied by the fog whole or not at all, at most once (the
// request carries an id made here, which the client's resends repeat), and
// recorded in the fog's signed action journal with the actor. A refused
// file prints FILE:LINE: reason per bad line on stderr. Formats and
// formulas: docs/FORMATS.md, "Stock".
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/catalog.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/lines.h"
#include "storenode/common/money.h"

namespace storenode::storectl {
namespace {

struct StockArgs {
  FogFlags fog;
  std::string file;
  std::string delimiter;
  std::string at;
  std::string sku;
  std::string supplier;
  std::string reason;
  std::string note;
  std::string qty;  // adjust: units, thousandths for a measured item
  uint32_t moves = 20;
  bool all = false;
  bool refresh = false;
  std::string format = "text";
};

std::string RequestId() {
  uint8_t raw[16];
  crypto::RandomBytes(raw);
  return crypto::ToHex(raw);
}

// A CSV cell: quoted when it holds a delimiter, a quote or a line break.
std::string Cell(const std::string& s) {
  if (s.find_first_of(",;\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Fixed(double v, int decimals = 2) {
  char out[64];
  std::snprintf(out, sizeof out, "%.*f", decimals, v);
  return out;
}

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Sends a change and prints what it booked (or each bad line).
int Change(const StockArgs& a, v1::FogRequest request) {
  v1::FogResponse response;
  int code = AskFogOrFail(a.fog, std::move(request), &response);
  const v1::StockChangeResponse& r = response.stock_change();
  for (const v1::CatalogRowError& e : r.errors()) {
    std::cerr << (a.file.empty() ? "request" : a.file) << ":" << e.line() << ": " << e.reason()
              << "\n";
  }
  if (code != kExitOk) return code;
  if (a.format == "json") {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  std::cout << (r.repeated_request() ? "already applied: " : "applied: ") << r.moves_size()
            << " line(s)\n";
  for (const v1::StockMove& m : r.moves()) {
    std::cout << "  " << m.kind() << "  " << m.sku() << "  " << (m.qty_milli() > 0 ? "+" : "")
              << lines::FormatUnits(m.qty_milli());
    if (m.kind() == "count") {
      std::cout << "  (book " << lines::FormatUnits(m.book_milli()) << ", counted "
                << lines::FormatUnits(m.counted_milli()) << ")";
    }
    if (m.kind() == "receive") std::cout << "  at " << Money(m.unit_cost()).ToString();
    if (!m.reason().empty()) std::cout << "  " << m.reason();
    std::cout << "\n";
  }
  return kExitOk;
}

int FileChange(const StockArgs& a, const std::string& kind) {
  auto csv = ReadWhole(a.file);
  if (!csv.ok()) return Fail(kExitUsage, csv.status().message());
  v1::FogRequest request;
  if (kind == "receive") {
    auto* r = request.mutable_stock_receive();
    r->set_csv(*csv);
    r->set_file_name(a.file);
    r->set_delimiter(a.delimiter);
    r->set_request_id(RequestId());
  } else if (kind == "order") {
    auto* r = request.mutable_stock_order();
    r->set_csv(*csv);
    r->set_file_name(a.file);
    r->set_delimiter(a.delimiter);
    r->set_request_id(RequestId());
  } else {
    auto* r = request.mutable_stock_count();
    r->set_csv(*csv);
    r->set_file_name(a.file);
    r->set_delimiter(a.delimiter);
    r->set_request_id(RequestId());
    if (!a.at.empty()) {
      auto at = catalog::ParseTime(a.at);
      if (!at.ok()) return Fail(kExitUsage, "--at: " + at.status().message());
      r->set_at_us(*at);
    }
  }
  return Change(a, std::move(request));
}

int Adjust(const StockArgs& a) {
  v1::FogRequest request;
  auto* r = request.mutable_stock_adjust();
  r->set_sku(a.sku);
  // The fog refuses a fraction of an item sold by the piece.
  auto milli = lines::ParseMilli(a.qty, /*measured=*/true, 1'000'000'000);
  if (!milli.ok()) return Fail(kExitUsage, "--qty " + milli.status().message());
  r->set_qty_milli(*milli);
  r->set_reason(a.reason);
  r->set_note(a.note);
  r->set_request_id(RequestId());
  return Change(a, std::move(request));
}

int Show(const StockArgs& a) {
  v1::FogRequest request;
  request.mutable_stock_show()->set_sku(a.sku);
  request.mutable_stock_show()->set_moves(a.moves);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::StockShowResponse& r = response.stock_show();
  if (a.format == "json") {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  if (a.format == "csv") {
    std::cout << "sku,name,supplier,on_hand,on_order,negative,last_count,last_receive\n";
    for (const v1::StockItem& i : r.items()) {
      std::cout << Cell(i.sku()) << "," << Cell(i.name()) << "," << Cell(i.supplier()) << ","
                << lines::FormatUnits(i.on_hand_milli()) << ","
                << lines::FormatUnits(i.on_order_milli()) << "," << (i.negative() ? 1 : 0) << ","
                << (i.last_count_us() ? IsoTime(i.last_count_us()) : "") << ","
                << (i.last_receive_us() ? IsoTime(i.last_receive_us()) : "") << "\n";
    }
    return kExitOk;
  }
  std::cout << "stock as of " << IsoTime(r.as_of_us()) << ": " << r.items_size() << " items, "
            << r.negative_items() << " negative\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %-24s %-16s %10s %10s\n", "SKU", "NAME", "SUPPLIER",
                "ON HAND", "ON ORDER");
  std::cout << line;
  for (const v1::StockItem& i : r.items()) {
    std::snprintf(line, sizeof line, "%-16s %-24.24s %-16.16s %10s %10s%s\n", i.sku().c_str(),
                  i.name().c_str(), catalog::SupplierName(i.supplier()).c_str(),
                  lines::FormatUnits(i.on_hand_milli()).c_str(),
                  lines::FormatUnits(i.on_order_milli()).c_str(), i.negative() ? "  NEGATIVE" : "");
    std::cout << line;
    for (const v1::StockMove& m : i.moves()) {
      std::cout << "  " << IsoTime(m.at_us()) << "  " << m.kind() << "  "
                << (m.qty_milli() > 0 ? "+" : "") << lines::FormatUnits(m.qty_milli())
                << (m.reason().empty() ? "" : "  " + m.reason()) << "\n";
    }
  }
  return kExitOk;
}

int Reorder(const StockArgs& a) {
  v1::FogRequest request;
  auto* q = request.mutable_reorder();
  q->set_supplier(a.supplier);
  q->set_sku(a.sku);
  q->set_all(a.all);
  q->set_refresh(a.refresh);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::ReorderResponse& r = response.reorder();
  if (a.format == "json") {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  if (a.format == "csv") {
    std::cout << "sku,name,supplier,class,method,on_hand,on_order,forecast,order_up_to,"
                 "suggested\n";
    for (const v1::ReorderItem& i : r.items()) {
      std::cout << Cell(i.sku()) << "," << Cell(i.name()) << "," << Cell(i.supplier()) << ","
                << i.demand_class() << "," << i.method() << ","
                << lines::FormatUnits(i.on_hand_milli()) << ","
                << lines::FormatUnits(i.on_order_milli()) << "," << Fixed(i.forecast_mean()) << ","
                << Fixed(i.order_up_to(), 0) << "," << i.suggested() << "\n";
    }
    return kExitOk;
  }
  std::cout << "reorder suggestions "
            << (r.computed_us()
                    ? "computed " + IsoTime(r.computed_us()) + " from history to " + r.history_to()
                    : std::string("not computed yet"))
            << (r.refreshing() ? " (a refresh is running)" : "") << "; service level "
            << Fixed(r.service_level() * 100, 1) << "%, review every " << r.review_days()
            << " days\n";
  char line[320];
  std::snprintf(line, sizeof line, "%-14s %-20s %-14s %-12s %-10s %8s %8s %9s %6s %9s\n", "SKU",
                "NAME", "SUPPLIER", "CLASS", "METHOD", "ON HAND", "ON ORDER", "FORECAST", "S",
                "SUGGESTED");
  std::cout << line;
  for (const v1::ReorderItem& i : r.items()) {
    std::snprintf(line, sizeof line, "%-14s %-20.20s %-14.14s %-12s %-10s %8s %8s %9s %6s %9lld\n",
                  i.sku().c_str(), i.name().c_str(), catalog::SupplierName(i.supplier()).c_str(),
                  i.demand_class().c_str(), i.method().c_str(),
                  lines::FormatUnits(i.on_hand_milli()).c_str(),
                  lines::FormatUnits(i.on_order_milli()).c_str(), Fixed(i.forecast_mean()).c_str(),
                  Fixed(i.order_up_to(), 0).c_str(), static_cast<long long>(i.suggested()));
    std::cout << line;
  }
  if (r.truncated()) std::cout << "(more items: ask with --supplier or --sku)\n";
  return kExitOk;
}

std::string CheckDelimiter(const std::string& d) {
  return d == "," || d == ";" ? std::string() : "is ';' or ',', not '" + d + "'";
}

}  // namespace

void AddStockCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<StockArgs>();
  CLI::App* stock = app.add_subcommand("stock", "stock on hand and on order at the fog");
  stock->require_subcommand(1);
  auto file_command = [&](const char* name, const char* help, const char* columns) {
    CLI::App* cmd = stock->add_subcommand(name, help);
    cmd->add_option("file", args->file, columns)->required();
    cmd->add_option("--delimiter", args->delimiter, "';' or ','; default: the header line's")
        ->check(CheckDelimiter)
        ->type_name("';'|','");
    cmd->add_option("--format", args->format, "text or json (the StockChangeResponse)")
        ->check(CLI::IsMember({"text", "json"}));
    AddFogOptions(cmd, &args->fog);
    return cmd;
  };
  file_command("receive", "book a delivery note (all lines or none)",
               "CSV: sku,quantity,cost[,note]; cost per unit, as a catalog price")
      ->callback([args, exit_code] { *exit_code = FileChange(*args, "receive"); });
  CLI::App* count = file_command("count", "book a stock count: each line sets the item's level",
                                 "CSV: sku,counted");
  count->add_option("--at", args->at,
                    "when the count was made (default: now): YYYY-MM-DDTHH:MM[:SS] with Z or "
                    "+HH:MM, or without, UTC; sales made after it count against it");
  count->callback([args, exit_code] { *exit_code = FileChange(*args, "count"); });
  file_command("order", "put stock on order with the suppliers", "CSV: sku,qty")
      ->callback([args, exit_code] { *exit_code = FileChange(*args, "order"); });

  CLI::App* adjust = stock->add_subcommand("adjust", "book waste, shrink, damage or another loss");
  adjust->add_option("--sku", args->sku, "the item")->required();
  adjust
      ->add_option("--qty", args->qty,
                   "units, negative for a loss; up to 3 decimals for an item sold by weight "
                   "or measure (-0.75)")
      ->required();
  adjust->add_option("--reason", args->reason, "waste, shrink, damage or other")
      ->required()
      ->check(CLI::IsMember({"waste", "shrink", "damage", "other"}));
  adjust->add_option("--note", args->note, "one line, at most 200 bytes");
  adjust->add_option("--format", args->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  AddFogOptions(adjust, &args->fog);
  adjust->callback([args, exit_code] { *exit_code = Adjust(*args); });

  CLI::App* show = stock->add_subcommand("show", "on hand and on order, negative stock flagged");
  show->add_option("--sku", args->sku, "one item, with its last movements");
  show->add_option("--moves", args->moves, "with --sku: how many movements (default 20)")
      ->check(CLI::Range(1, 1000));
  show->add_option("--format", args->format, "text, json (StockShowResponse) or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  AddFogOptions(show, &args->fog);
  show->callback([args, exit_code] { *exit_code = Show(*args); });

  CLI::App* reorder =
      app.add_subcommand("reorder", "what to order now, per item, from the forecasts");
  reorder->add_option("--supplier", args->supplier, "only this supplier; '(none)': no supplier");
  reorder->add_option("--sku", args->sku, "only this item");
  reorder->add_flag("--all", args->all, "also items with nothing to order");
  reorder->add_flag("--refresh", args->refresh,
                    "compute the suggestions again now, in the "
                    "background (the answer is the last ones)");
  reorder->add_option("--format", args->format, "text, json (ReorderResponse) or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  AddFogOptions(reorder, &args->fog);
  reorder->callback([args, exit_code] { *exit_code = Reorder(*args); });
}

}  // namespace storenode::storectl
