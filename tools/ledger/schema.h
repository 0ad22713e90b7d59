// The ledger's tables, the same on SQLite and PostgreSQL (docs/FORMATS.md
// section 9):
//   meta        ledger_id and ledger_public_key, fixed for the ledger's life
//   leaves      leaf idx -> the verbatim Z and how it was submitted
//   pending     submits stored and not yet leaves (Ledger::Accept)
//   stores      per store: its fog key and its last stored Z (leaves or pending)
//   tree_heads  the signed head of each size a batch ended at
//   tree_state  one row: the current size and newest head (the sequencer's lock)
//   tiles       the tree in tiles of 256 hashes (tiles.h)
//   chain_*     head office's read models (chain_models.h)
//
// Versions: 1 is the SQLite file of before issue 15 (meta, leaves, stores,
// tree_heads, one head per size); 2 adds pending, tree_state and tiles, and
// AdoptLeaves builds the tiles of a version-1 file's leaves once.
#pragma once

#include "ledger/sql_conn.h"
#include "storenode/common/status.h"

namespace storenode::ledger {

// Brings the tables up to date. On PostgreSQL several workers may call it at
// once: a transaction-level advisory lock serializes them.
Status MigrateLedger(SqlConn& db);

// Makes tree_state and the tiles when they are missing: from the leaves a
// version-1 file holds, or empty.
Status AdoptLeaves(SqlConn& db);

}  // namespace storenode::ledger
