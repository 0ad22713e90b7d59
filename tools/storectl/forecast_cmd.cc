// storectl forecast: judge the demand forecasts on a history.
//
//   storectl forecast backtest --history FILE.csv [--origins 6] [--horizon 28]
//                   [--method M ...] [--lead 3] [--review 7] [--service 0.95]
//                   [--format text|json]
//
// The file is `date,sku,qty[,on_hand][,price]` (fog/src/backtest.h,
// docs/FORECAST.md); it is checked whole, and the first bad row ends the
// command with FILE: line N: reason. The backtest runs here, offline.
// --history is required for now: the fog does not yet answer with the
// store's own daily history (backtest::Run takes it from any source, so the
// fog's read models can feed it the same way once they do).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "fog/src/backtest.h"
#include "sim/json.h"
#include "storenode/common/files.h"

namespace storenode::storectl {
namespace {

struct ForecastArgs {
  std::string history;
  fog::backtest::Options options;
  std::vector<std::string> methods;
  std::string format = "text";
};

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
  if (a.history.empty()) {
    return Fail(kExitUsage,
                "give --history FILE.csv: the fog does not serve the store's daily history to "
                "storectl yet");
  }
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
  Result<bt::History> history = bt::ParseHistoryCsv(*text, limits);
  if (!history.ok()) return Fail(kExitUsage, a.history + ": " + history.status().message());
  Result<v1::BacktestReport> report = bt::Run(*history, options);
  if (!report.ok()) return Fail(kExitUsage, a.history + ": " + report.status().message());
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
                  "date,sku,qty[,on_hand][,price] with a header row (required for now)")
      ->type_name("FILE.csv");
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
