// storectl forecast: judge the demand forecasts on a history.
//
//   storectl forecast backtest [--history FILE.csv | --data DIR] [--origins 6]
//                   [--horizon 28] [--method M ...] [--lead 3] [--review 7]
//                   [--service 0.95] [--format text|json]
//
// By default the history is the store's own: the daily demand of every item
// (fog/src/stock.h DemandHistory: censored days where the shelf was empty)
// over the last 364 business days, read from DIR/fog.db read-only, as
// `storectl verify receipt` reads it (WAL: a running fog is not held up).
// With --history the file is `date,sku,qty[,on_hand][,price]`
// (fog/src/backtest.h, docs/FORECAST.md), checked whole: the first bad row
// ends the command with FILE: line N: reason. The backtest runs here.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "fog/src/backtest.h"
#include "fog/src/stock.h"
#include "sim/json.h"
#include "storenode/common/files.h"
#include "storenode/common/sqlite.h"

namespace storenode::storectl {
namespace {

struct ForecastArgs {
  std::string history;
  std::string data_dir = "/var/lib/storenode/fog";
  fog::backtest::Options options;
  std::vector<std::string> methods;
  std::string format = "text";
};

// The store's own history (the top of this file). Prices in minor units:
// WRMSSE's weights are shares, so the unit cancels.
Result<fog::backtest::History> StoreHistory(const std::string& data_dir) {
  constexpr int kHistoryDays = 364;
  const std::string path = data_dir + "/fog.db";
  if (!std::filesystem::exists(path)) return Status::NotFound(path + " does not exist");
  SN_ASSIGN_OR_RETURN(auto db, sql::Db::Open(path, {.read_only = true}));
  fog::backtest::History history;
  SN_ASSIGN_OR_RETURN(history.series, fog::DemandHistory(*db, kHistoryDays));
  if (history.series.empty()) return Status::NotFound(path + ": no item has sold yet");
  history.first_date = history.series.front().first_day;
  return history;
}

int Backtest(const ForecastArgs& a) {
  namespace bt = fog::backtest;
  bt::Options options = a.options;
  for (const std::string& name : a.methods) {
    const std::optional<fog::forecast::Method> m = fog::forecast::ParseMethod(name);
    if (!m) {
      return Fail(kExitUsage, "--method '" + name +
                                  "' is none of naive, snaive, ma28, ses-weekly, croston, sba, "
                                  "tsb, combo");
    }
    options.methods.push_back(*m);
  }
  if (Status s = bt::Check(options); !s.ok()) return Fail(kExitUsage, s.message());
  const std::string source = a.history.empty() ? a.data_dir + "/fog.db" : a.history;
  Result<bt::History> history = Status::Unavailable("no history");
  if (a.history.empty()) {
    history = StoreHistory(a.data_dir);
    if (!history.ok()) return Fail(kExitUsage, history.status().message());
  } else {
    const bt::CsvLimits limits;
    std::error_code ec;
    const auto size = std::filesystem::file_size(a.history, ec);
    if (ec) return Fail(kExitUsage, "cannot read " + a.history + ": " + ec.message());
    if (size > limits.max_bytes) {
      return Fail(kExitUsage,
                  a.history + ": larger than " + std::to_string(limits.max_bytes >> 20) + " MiB");
    }
    Result<std::string> text = files::Read(a.history);
    if (!text.ok()) return Fail(kExitUsage, text.status().message());
    history = bt::ParseHistoryCsv(*text, limits);
    if (!history.ok()) return Fail(kExitUsage, a.history + ": " + history.status().message());
  }
  Result<v1::BacktestReport> report = bt::Run(*history, options);
  if (!report.ok()) return Fail(kExitUsage, source + ": " + report.status().message());
  std::cout << (a.format == "json" ? tools::JsonPretty(*report) : bt::Text(*report));
  return kExitOk;
}

}  // namespace

void AddForecastCommands(CLI::App& app, int* exit_code) {
  CLI::App* forecast = app.add_subcommand("forecast", "demand forecasts: backtest them");
  forecast->require_subcommand(1);
  auto args = std::make_shared<ForecastArgs>();
  CLI::App* cmd = forecast->add_subcommand(
      "backtest",
      "rolling-origin backtest of every forecast method on a daily history: RMSSE, WRMSSE, bias, "
      "pinball loss, and fill rate and stock of the reorder policy, overall and per demand class");
  cmd->add_option("--history", args->history,
                  "date,sku,qty[,on_hand][,price] with a header row (default: the store's own "
                  "history in DIR/fog.db)")
      ->type_name("FILE.csv");
  cmd->add_option("--data", args->data_dir, "the fog's data directory (fog.db), read-only")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--origins", args->options.origins, "rolling origins, spaced by the horizon")
      ->capture_default_str();
  cmd->add_option("--horizon", args->options.horizon, "days forecast from each origin")
      ->capture_default_str();
  cmd->add_option("--method", args->methods,
                  "methods to compare (default all): naive snaive ma28 ses-weekly croston sba "
                  "tsb combo")
      ->type_name("M");
  cmd->add_option("--lead", args->options.lead_days, "reorder simulation: lead time in days")
      ->capture_default_str();
  cmd->add_option("--review", args->options.review_days, "reorder simulation: days between orders")
      ->capture_default_str();
  cmd->add_option("--service", args->options.service_level,
                  "reorder simulation: the order-up-to level's quantile")
      ->capture_default_str();
  cmd->add_option("--format", args->format, "text (a table) or json (the BacktestReport)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([args, exit_code] { *exit_code = Backtest(*args); });
}

}  // namespace storenode::storectl
