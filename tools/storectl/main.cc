// storectl: the store manager's and administrator's command line.
//
// main() only dispatches; each command group lives in its own file and is
// registered here (commands.h).
#include <iostream>

#include "commands.h"

namespace storenode::storectl {

int Fail(int code, const std::string& message) {
  std::cerr << "storectl: " << message << "\n";
  return code;
}

}  // namespace storenode::storectl

int main(int argc, char** argv) {
  namespace sc = storenode::storectl;
  CLI::App app{"storectl: manage a storenode store and inspect its journals.", "storectl"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("storectl ") + STORENODE_VERSION);
  int exit_code = sc::kExitOk;
  sc::AddJournalCommands(app, &exit_code);
  sc::AddStatusCommand(app, &exit_code);
  sc::AddDeviceCommands(app, &exit_code);
  sc::AddCloseDownCommand(app, &exit_code);
  sc::AddReportCommand(app, &exit_code);
  sc::AddCatalogCommands(app, &exit_code);
  sc::AddRatesCommands(app, &exit_code);
  sc::AddStockCommands(app, &exit_code);
  sc::AddVoucherCommands(app, &exit_code);
  CLI::App* verify =
      app.add_subcommand("verify", "offline proofs: a receipt end to end, a whole ledger");
  verify->require_subcommand(1);
  sc::AddVerifyReceiptCommand(verify, &exit_code);
  sc::AddVerifyLedgerCommand(verify, &exit_code);
  sc::AddProvisionCommands(app, &exit_code);
  sc::AddConsoleCommands(app, &exit_code);
  sc::AddBackupCommand(app, &exit_code);
  sc::AddChainCommands(app, &exit_code);
  sc::AddForecastCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    return sc::Fail(sc::kExitUsage, std::string(e.what()) + " (see --help)");
  }
  return exit_code;
}
