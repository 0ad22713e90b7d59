// storectl rates: the store's foreign-currency rate sheet at the fog.
//
//   storectl rates import FILE.csv [--json]
//
// import sends the file as it is; the fog validates every row (the format is
// in common/include/storenode/common/fx.h and docs/FORMATS.md "Rate sheet")
// and issues it, all or nothing, as the next store settings version with the
// next rate sheet version; the tills apply it offline like any settings.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/money.h"

namespace storenode::storectl {
namespace {

struct RatesArgs {
  FogFlags fog;
  std::string file;
  bool json = false;
};

int Import(const RatesArgs& a) {
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return Fail(kExitUsage, "cannot read " + a.file);
  std::stringstream csv;
  csv << in.rdbuf();
  v1::FogRequest request;
  request.mutable_rates_import()->set_csv(csv.str());
  request.mutable_rates_import()->set_file_name(a.file);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::RatesImportResponse& r = response.rates_import();
  if (a.json) {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  std::cout << "rate sheet " << r.rate_sheet_version() << " in store settings version "
            << r.settings_version() << ": " << r.rates_size() << " rates\n";
  for (const v1::FxRateEntry& e : r.rates()) {
    std::cout << "  " << e.currency() << " from " << e.effective_from() << "  buy "
              << Money(e.buy_rate_e9()).ToString(9) << "  sell "
              << Money(e.sell_rate_e9()).ToString(9) << "  mid "
              << Money(e.mid_rate_e9()).ToString(9) << " (home minor per foreign minor)\n";
  }
  return kExitOk;
}

}  // namespace

void AddRatesCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RatesArgs>();
  CLI::App* rates = app.add_subcommand("rates", "the store's foreign-currency rate sheet");
  rates->require_subcommand(1);
  CLI::App* import = rates->add_subcommand(
      "import", "validate a rate sheet CSV and issue it to the tills (all rows or none)");
  import
      ->add_option("file", args->file,
                   "CSV: currency,buy,sell,mid,effective_from (home units per foreign unit, "
                   "local time); docs/FORMATS.md \"Rate sheet\"")
      ->required();
  import->add_flag("--json", args->json, "print the RatesImportResponse as JSON");
  AddFogOptions(import, &args->fog);
  import->callback([args, exit_code] { *exit_code = Import(*args);
});
}  // namespace storenode::storectl

}  // namespace storenode::storectl
