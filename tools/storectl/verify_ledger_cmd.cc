// storectl verify ledger: an offline audit of a whole cloud ledger file.
//
//   storectl verify ledger --db LEDGER.db|CONNINFO [--json]
//
// Re-derives every record, store and signed tree head from the stored bytes
// (ledger::VerifyLedgerDb, read-only). Exit 0 "ledger OK", 1 with the first
// problem (naming the leaf or tree size), 2 when the file cannot be read as
// a ledger.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "ledger/ledger.h"
#include "ledger/sql_conn.h"
#include "sim/json.h"

namespace storenode::storectl {
namespace {

struct VerifyLedgerArgs {
  std::string db;
  bool json = false;
};

int VerifyLedger(const VerifyLedgerArgs& a) {
  std::error_code ec;
  // SQLite would quietly open nothing; say the file is missing instead.
  if (!ledger::IsPostgres(a.db) && !std::filesystem::is_regular_file(a.db, ec)) {
    return Fail(kExitUsage, "no ledger file at " + a.db);
  }
  auto audit = ledger::VerifyLedgerDb(a.db);
  if (!audit.ok()) {
    const Status& s = audit.status();
    if (s.code() == Code::kCorruption) return Fail(kExitFailed, a.db + ": " + s.message());
    return Fail(kExitUsage, "cannot read " + a.db + " as a ledger: " + s.message());
  }
  if (a.json) {
    std::cout << tools::JsonPretty(*audit);
    return kExitOk;
  }
  std::cout << "ledger " << audit->ledger_id() << ", key " << audit->ledger_key_fingerprint()
            << "\n"
            << "records " << audit->records() << ", stores " << audit->stores() << ", tree heads "
            << audit->tree_heads() << ", stored not yet leaves " << audit->stored() << ", tiles "
            << audit->tiles() << "\n"
            << "size " << audit->tree_size() << ", root " << audit->root() << "\n"
            << "ledger OK\n";
  return kExitOk;
}

}  // namespace

void AddVerifyLedgerCommand(CLI::App* verify, int* exit_code) {
  auto args = std::make_shared<VerifyLedgerArgs>();
  CLI::App* cmd = verify->add_subcommand(
      "ledger", "check a whole ledger file: every record, store chain and signed tree head");
  cmd->add_option("--db", args->db,
                  "the ledger: its SQLite file (ledger.db) or a PostgreSQL conninfo")
      ->type_name("PATH")
      ->required();
  cmd->add_flag("--json", args->json, "print the audit's figures as JSON");
  cmd->callback([args, exit_code] { *exit_code = VerifyLedger(*args); });
}

}  // namespace storenode::storectl
