// Audits of a fog's data, offline: the proof of one receipt from the till's
// signed event to the cloud ledger's signed tree head (storectl verify
// receipt), and the leaves of a Z's Merkle tree, which the close-down uses
// to build the Z and the audit to check it.
//
// Functions here only read; they are safe while the daemon runs (SQLite WAL
// readers do not block the writer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/status.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::fog {

// The leaf hashes of `z`'s Merkle tree: for each of its tills in the Z's
// order, the events of journal `journal_id` with seq in first_seq..last_seq
// booked on the Z's business day, by seq. Each till must give exactly its
// event_count events. With `rehash`, every event's hash is recomputed from
// its stored bytes and must equal the stored hash (an audit); without it the
// stored hash is taken (the close-down, which stored them verified).
Result<std::vector<crypto::Hash>> ZLeafHashes(sql::Db& fog_db, const v1::ZReport& z, bool rehash);

struct ReceiptQuery {
  std::string data_dir;  // the fog's: fog.db, fog.pub
  std::string device_id;
  uint64_t receipt_no = 0;
  // Trusted keys, hex. Empty: the fog's from data_dir/fog.pub, the ledger's
  // as pinned in fog.db. An auditor passes the keys she holds.
  std::string fog_key;
  std::string ledger_key;
};

struct ProofStep {
  int number = 0;    // 1..5
  std::string name;  // "event", "z-merkle", "z-signature", "ledger-inclusion", "tree-head"
  bool ok = false;
  bool checked = false;  // false: not reached because an earlier step failed
  std::string detail;    // what was checked, or why it failed; one line
};

// The five steps of docs/ARCHITECTURE.md "Cloud ledger", in order, stopping at the
// first that fails:
//   1. the event's own hash and signature, and its links to its neighbours;
//   2. its inclusion in its Z's Merkle root (every event of the Z rehashed);
//   3. the Z's hash and fog signature, and the Z chain from Z 1 to it;
//   4. the Z's inclusion in the ledger tree of its receipt;
//   5. that tree's head, signed by the ledger's key.
// A Status only when the question cannot be asked (no fog.db, no such
// receipt, a malformed key).
Result<std::vector<ProofStep>> ProveReceipt(const ReceiptQuery& query);

}  // namespace storenode::fog
