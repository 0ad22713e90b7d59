// storectl verify receipt: the proof of one sale, end to end, offline.
//
//   storectl verify receipt --device D --receipt N [--data DIR]
//                           [--fog-key HEX] [--ledger-key HEX]
//
// Reads the fog's data directory (fog.db, fog.pub) and walks the five steps
// of fog/audit.h, printing each. Exit 0 only when all five hold; 1 when one
// fails (the later ones are not checked); 2 when the question cannot be
// asked (no data, no such receipt, a malformed key).
#include <iostream>
#include <memory>

#include "commands.h"
#include "storenode/fog/audit.h"

namespace storenode::storectl {
namespace {

int VerifyReceipt(const fog::ReceiptQuery& q) {
  auto steps = fog::ProveReceipt(q);
  if (!steps.ok()) return Fail(kExitUsage, steps.status().message());
  std::cout << "Receipt " << q.receipt_no << " of " << q.device_id << "\n";
  bool all = true;
  for (const fog::ProofStep& s : *steps) {
    const char* mark = !s.checked ? "SKIP" : s.ok ? " OK " : "FAIL";
    std::cout << "[" << mark << "] " << s.number << ". " << s.name;
    if (s.checked) std::cout << ": " << s.detail;
    std::cout << "\n";
    all = all && s.ok;
  }
  std::cout << (all ? "receipt verified from the till's signature to the ledger's tree head\n"
                    : "receipt NOT verified\n");
  return all ? kExitOk : kExitFailed;
}

}  // namespace

void AddVerifyReceiptCommand(CLI::App* verify, int* exit_code) {
  auto q = std::make_shared<fog::ReceiptQuery>();
  q->data_dir = "/var/lib/storenode/fog";
  CLI::App* cmd = verify->add_subcommand(
      "receipt",
      "prove one sale offline: its event, its Z's Merkle root, the Z's signature and chain, "
      "the Z in the ledger tree, the ledger's signed tree head");
  cmd->add_option("--device", q->device_id, "till id")->type_name("D")->required();
  cmd->add_option("--receipt", q->receipt_no, "receipt number")->type_name("N")->required();
  cmd->add_option("--data", q->data_dir, "the fog's data directory (fog.db, fog.pub)")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--fog-key", q->fog_key, "trusted fog public key (default: DIR/fog.pub)")
      ->type_name("HEX");
  cmd->add_option("--ledger-key", q->ledger_key,
                  "trusted ledger public key (default: the key pinned in fog.db)")
      ->type_name("HEX");
  cmd->callback([q, exit_code] { *exit_code = VerifyReceipt(*q); });
}

}  // namespace storenode::storectl
