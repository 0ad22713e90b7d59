// storectl's command groups. main.cc only dispatches: each group registers
// its subcommands on the app and, when one of them runs, stores its exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "sim/broker_flags.h"
#include "storenode/fog/client.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::storectl {

// Exit codes of every storectl command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and the answer is "no" (e.g. tampered)
inline constexpr int kExitUsage = 2;   // bad arguments, missing files, bad configuration

// Prints "storectl: message" on stderr and returns `code`.
int Fail(int code, const std::string& message);

// How a command reaches the store's fog: --store, the broker flags
// (tools::BrokerFlags), --timeout and --manager, and --config FILE, a small
// TOML file that saves typing them:
//
//   [store]
//   id = "store-042"
//   [broker]
//   uri = "ssl://fog.store-042.lan:8883"
//   insecure = false       # true to allow tcp://
//   ca_file = "/etc/storenode/ca.pem"
//   cert_file = "/etc/storenode/manager.pem"
//   key_file = "/etc/storenode/manager.key"
//
// Flags given on the command line override the file. Every command that
// talks to the fog takes these, through AddFogOptions() and AskFogOrFail().
struct FogFlags {
  std::string config;
  std::string store;
  tools::BrokerFlags broker;
  double timeout_s = 10;
  // --manager: the name to ask as without a certificate (default $USER);
  // with one the fog records its CN, and a different name is an error.
  std::string manager;
};

// Adds the options above to `cmd`.
void AddFogOptions(CLI::App* cmd, FogFlags* flags);

// Sends `request` as the flags' identity and stores the fog's
// answer in `response` (also when the fog refuses, so the caller can print
// the details). Returns kExitOk, or what Fail() returned: kExitUsage
// for bad flags or config, kExitFailed when the broker or the fog does not
// answer or the fog refuses (its error, one line).
int AskFogOrFail(const FogFlags& flags, v1::FogRequest request, v1::FogResponse* response);

// storectl journal verify|dump|xreport: offline checks of a till journal file.
void AddJournalCommands(CLI::App& app, int* exit_code);

// storectl status: the fog's view of the store and its tills.
void AddStatusCommand(CLI::App& app, int* exit_code);

// storectl device accept: manage the store's tills at the fog.
void AddDeviceCommands(CLI::App& app, int* exit_code);

// storectl closedown: close a business day at the fog and print its Z.
void AddCloseDownCommand(CLI::App& app, int* exit_code);

// storectl report KIND: the fog's reports of one business day.
void AddReportCommand(CLI::App& app, int* exit_code);

// storectl verify receipt: one sale proven offline, up to the ledger.
void AddVerifyReceiptCommand(CLI::App* verify, int* exit_code);

// storectl verify ledger: an offline audit of a cloud ledger file, added to
// the `verify` group that main() creates.
void AddVerifyLedgerCommand(CLI::App* verify, int* exit_code);

// storectl console hash-password: a manager's hashed PIN for fog.toml.
void AddConsoleCommands(CLI::App& app, int* exit_code);

// storectl catalog import|show|versions: the store's master catalog at the fog.
void AddCatalogCommands(CLI::App& app, int* exit_code);
// storectl rates import: the foreign-currency rate sheet at the fog.
void AddRatesCommands(CLI::App& app, int* exit_code);

// storectl stock receive|count|adjust|order|show and storectl reorder:
// stock at the fog and the reorder suggestions.
void AddStockCommands(CLI::App& app, int* exit_code);

// storectl vouchers show: voucher and gift card balances and overdraft alerts.
void AddVoucherCommands(CLI::App& app, int* exit_code);

// storectl provision store|till|manager|revoke: the store PKI, broker configs, till registry.
void AddProvisionCommands(CLI::App& app, int* exit_code);

// storectl chain report|watch: head office's chain-wide read models in the
// cloud ledger.
void AddChainCommands(CLI::App& app, int* exit_code);
// storectl chain keygen|release: head office's releases to the stores.
void AddChainReleaseCommands(CLI::App* chain, int* exit_code);

// storectl backup: an online copy of fog.db, the keys, registry and config.
void AddBackupCommand(CLI::App& app, int* exit_code);

// storectl forecast backtest: the demand forecasts judged on a daily history.
void AddForecastCommands(CLI::App& app, int* exit_code);

}  // namespace storenode::storectl
