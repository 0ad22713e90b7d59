// NOTES ON THE DESIGN
//
// The ledger promises the fog that a receipt, once sent, proves its Z is in
// the log for good, and promises an auditor that the stored ledger alone
// proves every receipt it ever sent. The invariants that keep those promises:
//
//  1. Two phases. Accept stores a checked submit in `pending` (and moves its
//     store's row on); Integrate makes stored submits leaves. A rejected
//     record is written nowhere. A submit is keyed by (store, Z number),
//     which covers its part: a resend finds its row, in `pending` or in
//     `leaves`, and is a duplicate (same hash) or a fork (another hash).
//  2. Append only. Leaf i is row idx = i of `leaves`; rows are only ever
//     inserted, at idx = the current size, by the sequencer.
//  3. One sequencer. Integrate runs in a transaction that holds the row lock
//     on `tree_state` (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so a
//     second worker skips instead of waiting; SQLite: the file lock). It moves
//     at most max_batch submits, in `pending` id order, into `leaves`, writes
//     the tiles they change (tiles.h), one signed head of the new size in
//     `tree_heads` and the same head in `tree_state`, and commits them
//     together. So every head names a prefix of `leaves` whose tiles are
//     stored. A worker that dies loses its connection and with it the lock
//     (idle_in_transaction_session_timeout also ends a frozen one), so
//     another takes over at its next Integrate, within one 250 ms round.
//  4. Per-store order. A store's row is locked (FOR UPDATE) while its next
//     Z is checked and stored, so Z n+1 is stored only after Z n committed,
//     or in the same multi-row INSERT after it, with a larger pending id; the
//     sequencer therefore appends each store's Zs in their order, and the
//     chain checks of the audit hold in leaf order. A batch locks the rows
//     of all its stores in one statement, ORDER BY store_id, and writes its
//     rows in (store, Z number) order, so two workers never deadlock.
//  5. Answer after commit. Receipts are built only after the commit that
//     makes their leaves returned. A crash before it loses the batch and its
//     answers (the fog resends; the stream redelivers); a crash after it
//     loses at most the answers, and the resend gets the same leaf back as a
//     duplicate. Crash points: "ledger-before-commit", "ledger-after-commit"
//     (Accept), "sequencer-before-commit", "sequencer-after-commit".
//  6. Nothing is cached but full tiles, which never change; every check
//     reads the stored state in its transaction. A failed write that is not
//     "try again" stops the Ledger (failed(), sticky); reopening reloads.
//  7. One key per store for the life of the ledger: the key of its first
//     record, or the one pinned in the options, which must then agree with
//     the records already accepted (Open checks).
//  8. Batches cost statements, not rows. Accept reads the batch's store rows
//     (one statement) and what the log holds of its resent Zs (one, over
//     leaves and pending: one snapshot), then checks every submit in
//     memory, each seeing the ones before it in the batch as stored, and
//     writes pending, stores and the read models as multi-row statements
//     (RunRows, sql_conn.h). Integrate moves its batch with one INSERT ...
//     SELECT and one DELETE and builds the receipts from what it wrote. The
//     answers are those of the same submits one at a time
//     (tests/ledger_batch_test.cc).
//  9. A store's first Z. A store without a row in `stores` has no row to
//     lock, and two workers could both find it new: the second's INSERT
//     into pending no longer conflicts once the sequencer moved the first's
//     row to leaves, and Z 1 would be stored twice. So on PostgreSQL Accept
//     takes a transaction-scoped advisory lock (6962, hashtext(store_id))
//     for each store it found without a row, in key order, and reads those
//     rows again: the second worker then sees the first's commit and answers
//     a duplicate. (SQLite has one writer.) A wait in a circle with another
//     worker's row locks, possible only while a third one creates the same
//     store, is a deadlock PostgreSQL ends (40P01, "try again"): that batch
//     is delivered again.
#include "ledger/ledger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "ledger/chain_models.h"
#include "ledger/schema.h"
#include "ledger/sql_conn.h"
#include "ledger/tiles.h"
#include "storenode/common/fault.h"
#include "storenode/common/ledger.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::ledger {
namespace {

std::string_view View(const crypto::Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

Result<crypto::PublicKey> KeyFromBytes(std::string_view raw) {
  SN_ASSIGN_OR_RETURN(crypto::Hash h, crypto::HashFromBytes(raw));
  return crypto::PublicKey(h);
}

// Why a submit is refused: a Rejected code and a one-line reason.
struct Refusal {
  const char* code;
  std::string reason;
};

struct StoreRow {
  crypto::PublicKey key{};
  uint64_t last_z_number = 0;
  std::string last_z_hash;
};

// The tree as tree_state says: its size and newest head.
struct TreeState {
  uint64_t size = 0;
  v1::SignedTreeHead head;
};

// A submit stored and not yet a leaf.
struct Pending {
  int64_t id = 0;
  std::string store;
  uint64_t z_number = 0;
  std::string z_hash;
  crypto::Hash leaf{};
  uint64_t request_id = 0;
  uint64_t known_tree_size = 0;
};

// A leaf a receipt is built for, as its row in `leaves` says.
struct LeafRef {
  uint64_t index = 0;
  std::string store;
  uint64_t z_number = 0;
  std::string z_hash;
  int64_t appended_us = 0;
};

// A request of an Accept batch, with its Z parsed.
struct Item {
  LedgerRequestIn* in;
  v1::ZReport z;
  bool parsed = false;
};

v1::SignedTreeHead HeadOf(const SqlRow& r, int first_col) {
  v1::SignedTreeHead sth;
  sth.set_head(r.Str(first_col));
  sth.set_signature(r.Str(first_col + 1));
  sth.set_ledger_public_key(r.Str(first_col + 2));
  return sth;
}

}  // namespace

struct Ledger::Impl {
  LedgerOptions options;
  crypto::SigningKey key;
  std::unique_ptr<SqlConn> db;
  FullTileCache tiles;
  Status failed;

  Status Load();
  TileLoader Loader() {
    return [this](const TileId& id) -> Result<std::string> {
      std::string bytes;
      SN_RETURN_IF_ERROR(db->Run("SELECT hashes FROM tiles WHERE level = ? AND idx = ?",
                                 std::vector<SqlValue>{Int(id.level), Int(id.index)},
                                 [&](const SqlRow& r) { bytes = r.Str(0); }));
      return bytes;
    };
  }
  Result<TreeState> State(bool lock_skip);
  // The checks and the writes of a batch's submits (`submits`: indices into
  // `items`, in (store, Z number) order), inside Accept's transaction.
  // Refusals go into `out`; `later[i]` is set for a submit stored now or
  // before and not yet a leaf (the sequencer answers it), `dups` gets the
  // duplicates of leaves. Returns the number of Zs stored.
  Result<size_t> StoreBatch(std::vector<Item>& items, const std::vector<size_t>& submits,
                            std::vector<v1::LedgerAnswer>& out, std::vector<bool>& later,
                            std::vector<std::pair<size_t, LeafRef>>* dups);
  std::optional<Refusal> CheckSignature(const std::string& store, const v1::SignedZ& signed_z,
                                        const v1::ZReport& z);
  Result<v1::LedgerReceipt> Receipt(TileTree& tree, const TreeState& state, const LeafRef& leaf);
  Status ReceiptAnswer(TileTree& tree, const TreeState& state, const LeafRef& leaf, uint64_t known,
                       bool duplicate, v1::LedgerAnswer* answer);
  Status History(const std::string& store, uint64_t from, v1::LedgerAnswer::History* out);
  Result<v1::ConsistencyProof> Consistency(uint64_t from, uint64_t to);
  Result<v1::SignedTreeHead> HeadOfSize(uint64_t size);
  void Fail(const Status& s, const std::string& what) {
    if (s.code() == Code::kUnavailable) return;
    failed = s;
    spdlog::error("ledger stops answering: {}: {}", what, s.ToString());
  }
};

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& target,
                                             const crypto::SigningKey& key, LedgerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->key = key;
  if (impl->options.ledger_id.empty()) return Status::Invalid("ledger id must not be empty");
  if (IsPostgres(target)) {
    SN_ASSIGN_OR_RETURN(impl->db, OpenPostgres(target));
  } else {
    SN_ASSIGN_OR_RETURN(impl->db, OpenSqlite(target, {.vfs = impl->options.sqlite_vfs}));
  }
  SN_RETURN_IF_ERROR(MigrateLedger(*impl->db));
  SN_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ledger::~Ledger() = default;

uint64_t Ledger::tree_size() const {
  auto n = impl_->db->QueryInt("SELECT tree_size FROM tree_state WHERE id = 1", {});
  return n.ok() ? static_cast<uint64_t>(*n) : 0;
}
const crypto::PublicKey& Ledger::public_key() const { return impl_->key.public_key(); }
const Status& Ledger::failed() const { return impl_->failed; }

Status Ledger::Impl::Load() {
  const std::string pub(View(key.public_key()));
  SqlConn& c = *db;
  // Every worker may start at once: the first one's meta rows win, the
  // others compare against them.
  const char* ins = c.dialect() == SqlDialect::kPostgres
                        ? "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
                        : "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)";
  SN_RETURN_IF_ERROR(
      c.Run(ins, std::vector<SqlValue>{std::string("ledger_id"), Blob(options.ledger_id)}));
  SN_RETURN_IF_ERROR(
      c.Run(ins, std::vector<SqlValue>{std::string("ledger_public_key"), Blob(pub)}));
  std::map<std::string, std::string> meta;
  SN_RETURN_IF_ERROR(c.Run("SELECT key, value FROM meta", {},
                           [&](const SqlRow& r) { meta[r.Str(0)] = r.Str(1); }));
  if (meta["ledger_id"] != options.ledger_id) {
    return Status::Precondition(c.name() + " is the ledger '" + meta["ledger_id"] + "', not '" +
                                options.ledger_id + "'");
  }
  if (meta["ledger_public_key"] != pub) {
    auto k = KeyFromBytes(meta["ledger_public_key"]);
    return Status::Precondition(c.name() + " was signed with ledger key " +
                                (k.ok() ? crypto::Fingerprint(*k) : "?") + ", not " +
                                crypto::Fingerprint(key.public_key()));
  }
  for (const auto& [store, pinned] : options.pinned_stores) {
    std::string stored;
    SN_RETURN_IF_ERROR(c.Run("SELECT fog_public_key FROM stores WHERE store_id = ?",
                             std::vector<SqlValue>{store},
                             [&](const SqlRow& r) { stored = r.Str(0); }));
    if (!stored.empty() && stored != View(pinned)) {
      auto k = KeyFromBytes(stored);
      return Status::Precondition("store " + store + ": pinned key " + crypto::Fingerprint(pinned) +
                                  " differs from key " + (k.ok() ? crypto::Fingerprint(*k) : "?") +
                                  " its records were accepted under");
    }
  }
  SN_ASSIGN_OR_RETURN(TreeState state, State(false));
  if (state.size == 0) return Status::Ok();
  TileTree tree(state.size, Loader(), &tiles);
  auto root = tree.Root(state.size);
  auto verified = VerifyTreeHead(state.head, key.public_key());
  if (!root.ok() || !verified.ok() || verified->tree_size() != state.size ||
      verified->root() != View(*root)) {
    return Status::Corruption("tree head of size " + std::to_string(state.size) +
                              " does not match the leaves (run storectl verify ledger)");
  }
  return Status::Ok();
}

Result<TreeState> Ledger::Impl::State(bool lock_skip) {
  std::string sql =
      "SELECT tree_size, head, signature, ledger_public_key FROM tree_state WHERE id = 1";
  if (lock_skip && db->dialect() == SqlDialect::kPostgres) sql += " FOR UPDATE SKIP LOCKED";
  std::optional<TreeState> state;
  SN_RETURN_IF_ERROR(db->Run(sql, {}, [&](const SqlRow& r) {
    state = TreeState{static_cast<uint64_t>(r.Int(0)), HeadOf(r, 1)};
  }));
  if (!state) return Status::Unavailable("the sequencer's lock is held by another worker");
  return *state;
}

Result<v1::SignedTreeHead> Ledger::Impl::HeadOfSize(uint64_t size) {
  std::optional<v1::SignedTreeHead> sth;
  SN_RETURN_IF_ERROR(
      db->Run("SELECT head, signature, ledger_public_key FROM tree_heads WHERE tree_size = ?",
              std::vector<SqlValue>{Int(size)}, [&](const SqlRow& r) { sth = HeadOf(r, 0); }));
  if (!sth) return Status::Invalid("no tree head of size " + std::to_string(size));
  return *sth;
}

Result<std::vector<v1::LedgerAnswer>> Ledger::Accept(std::vector<LedgerRequestIn> batch) {
  Impl& l = *impl_;
  std::vector<v1::LedgerAnswer> answers;
  auto reject = [](v1::LedgerAnswer* a, const char* code, const std::string& reason) {
    a->mutable_rejected()->set_code(code);
    a->mutable_rejected()->set_reason(reason);
  };
  if (!l.failed.ok()) {
    for (const LedgerRequestIn& in : batch) {
      v1::LedgerAnswer& a = answers.emplace_back();
      a.set_request_id(in.request.request_id());
      a.set_store_id(in.store);
      reject(&a, kUnavailable, "the ledger stopped after a write failed: " + l.failed.message());
    }
    return answers;
  }
  // Invariant 4: submits in (store, Z number) order, the lock order.
  std::vector<Item> items;
  for (LedgerRequestIn& in : batch) {
    Item& it = items.emplace_back(Item{&in, {}, false});
    if (in.request.has_submit()) it.parsed = it.z.ParseFromString(in.request.submit().z().z());
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::pair(a.in->store, a.z.z_number()) < std::pair(b.in->store, b.z.z_number());
  });
  // Duplicates of leaves get their receipt after the commit.
  std::vector<std::pair<size_t, LeafRef>> receipts;  // answer index, leaf
  std::vector<v1::LedgerAnswer> out(items.size());
  std::vector<bool> later(items.size(), false);
  size_t stored = 0;
  {
    SqlTxn txn(*l.db);
    SN_RETURN_IF_ERROR(txn.begin_status());
    std::vector<size_t> submits;
    for (size_t i = 0; i < items.size(); ++i) {
      const LedgerRequestIn& in = *items[i].in;
      v1::LedgerAnswer& a = out[i];
      a.set_request_id(in.request.request_id());
      a.set_store_id(in.store);
      if (!in.request.has_submit()) continue;  // answered after the commit
      if (!items[i].parsed) {
        reject(&a, kMalformed, "the Z bytes do not parse");
        continue;
      }
      submits.push_back(i);
    }
    auto n = l.StoreBatch(items, submits, out, later, &receipts);
    if (!n.ok()) {
      l.Fail(n.status(), "store of " + std::to_string(submits.size()) + " submits");
      return n.status();
    }
    stored = *n;
    const bool wrote = std::find(later.begin(), later.end(), true) != later.end();
    if (wrote) CrashPoint("ledger-before-commit");
    if (Status s = txn.Commit(); !s.ok()) {
      l.Fail(s, "commit");
      return s;
    }
    if (wrote) CrashPoint("ledger-after-commit");
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (later[i]) out[i].Clear();  // the sequencer answers
  }
  // One line per batch, not per Z: at the chain's peak that is thousands a second.
  const size_t resent = static_cast<size_t>(std::count(later.begin(), later.end(), true)) - stored;
  if (stored + resent + receipts.size() > 0) {
    spdlog::info("stored {} Zs; {} resends of Zs already stored, {} of leaves answered again",
                 stored, resent, receipts.size());
  }
  std::optional<TreeState> state;
  std::optional<TileTree> tree;
  for (const auto& [i, leaf] : receipts) {
    if (!state) {
      SN_ASSIGN_OR_RETURN(state, l.State(false));
      tree.emplace(state->size, l.Loader(), &l.tiles);
    }
    const uint64_t known = items[i].in->request.submit().known_tree_size();
    if (Status s = l.ReceiptAnswer(*tree, *state, leaf, known, true, &out[i]); !s.ok()) {
      out[i].clear_accepted();
      reject(&out[i], kUnavailable, "the ledger could not read its storage: " + s.message());
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const v1::LedgerRequest& request = items[i].in->request;
    v1::LedgerAnswer& a = out[i];
    if (request.has_consistency()) {
      auto proof =
          l.Consistency(request.consistency().from_size(), request.consistency().to_size());
      if (proof.ok()) {
        *a.mutable_consistency() = std::move(*proof);
      } else {
        reject(&a, proof.status().code() == Code::kInvalidArgument ? kBadRequest : kUnavailable,
               proof.status().message());
      }
    } else if (request.has_history()) {
      a.set_z_number(request.history().from_z_number());
      Status s = l.History(a.store_id(), request.history().from_z_number(), a.mutable_history());
      if (!s.ok()) {
        a.clear_history();
        reject(&a, kUnavailable, s.message());
      }
    } else if (!request.has_submit()) {
      reject(&a, kBadRequest,
             "the request is neither a submit, a consistency nor a history request");
    }
    if (a.has_rejected()) {
      // One line per refusal, naming what an operator looks for: store and Z.
      const std::string what = request.has_submit()
                                   ? "Z " + std::to_string(a.z_number())
                                   : "request " + std::to_string(request.request_id());
      spdlog::warn("store {} {}: rejected {}: {}", a.store_id(), what, a.rejected().code(),
                   a.rejected().reason());
    }
    if (a.answer_case() != v1::LedgerAnswer::ANSWER_NOT_SET) answers.push_back(std::move(a));
  }
  return answers;
}

std::optional<Refusal> Ledger::Impl::CheckSignature(const std::string& store,
                                                    const v1::SignedZ& signed_z,
                                                    const v1::ZReport& z) {
  if (z.store_id() != store) {
    return Refusal{kMalformed, "Z " + std::to_string(z.z_number()) + " is of store '" +
                                   z.store_id() + "', submitted on the topic of store '" + store +
                                   "'"};
  }
  if (signed_z.hash() != View(crypto::Sha256Of(signed_z.z()))) {
    return Refusal{kBadHash, "hash is not SHA-256 of the Z bytes"};
  }
  auto fog_key = KeyFromBytes(signed_z.fog_public_key());
  if (!fog_key.ok()) return Refusal{kMalformed, "fog_public_key is not 32 bytes"};
  if (!crypto::Verify(*fog_key, crypto::AsBytes(signed_z.hash()),
                      crypto::AsBytes(signed_z.signature()))) {
    return Refusal{kBadSignature, "signature does not verify with the Z's fog key " +
                                      crypto::Fingerprint(*fog_key)};
  }
  return std::nullopt;
}

Result<size_t> Ledger::Impl::StoreBatch(std::vector<Item>& items,
                                        const std::vector<size_t>& submits,
                                        std::vector<v1::LedgerAnswer>& out,
                                        std::vector<bool>& later,
                                        std::vector<std::pair<size_t, LeafRef>>* dups) {
  auto refuse = [&](size_t i, Refusal r) {
    out[i].mutable_rejected()->set_code(r.code);
    out[i].mutable_rejected()->set_reason(std::move(r.reason));
  };
  // The checks that need no storage.
  std::vector<size_t> checked;
  std::vector<SqlValue> stores;  // distinct, in order
  for (size_t i : submits) {
    const std::string& store = items[i].in->store;
    out[i].set_z_number(items[i].z.z_number());
    if (auto refusal = CheckSignature(store, items[i].in->request.submit().z(), items[i].z)) {
      refuse(i, std::move(*refusal));
      continue;
    }
    checked.push_back(i);
    if (stores.empty() || std::get<std::string>(stores.back()) != store) stores.push_back(store);
  }
  if (checked.empty()) return size_t{0};

  // The stores' rows, locked in store order (invariant 4), in one statement.
  std::map<std::string, StoreRow> rows;
  auto read_rows = [&](const std::vector<SqlValue>& names) {
    return db->RunOnce(
        "SELECT store_id, fog_public_key, last_z_number, last_z_hash FROM stores WHERE store_id "
        "IN (" +
            Placeholders(names.size(), 1) + ") ORDER BY store_id" + db->lock_suffix(),
        names, [&](const SqlRow& r) {
          auto k = KeyFromBytes(r.Str(1));
          rows[r.Str(0)] = StoreRow{k.ok() ? *k : crypto::PublicKey{},
                                    static_cast<uint64_t>(r.Int(2)), r.Str(3)};
        });
  };
  SN_RETURN_IF_ERROR(read_rows(stores));
  // A store without a row yet has no row to lock (invariant 9).
  if (db->dialect() == SqlDialect::kPostgres) {
    std::vector<SqlValue> unlocked;
    for (const SqlValue& v : stores) {
      if (!rows.contains(std::get<std::string>(v))) unlocked.push_back(v);
    }
    if (!unlocked.empty()) {
      std::string values;
      for (size_t k = 0; k < unlocked.size(); ++k) values += k ? ", (?)" : "(?)";
      // Taken in key order (OFFSET 0 keeps the sort below the locks), so
      // two workers never wait for each other in a circle.
      SN_RETURN_IF_ERROR(db->RunOnce(
          "SELECT pg_advisory_xact_lock(6962, k) FROM (SELECT hashtext(s) AS k FROM (VALUES " +
              values + ") AS v(s) ORDER BY k OFFSET 0) AS t",
          unlocked));
      SN_RETURN_IF_ERROR(read_rows(unlocked));
    }
  }

  // What the log already holds of the Zs numbered at or below their store's
  // last: one statement, one snapshot (the sequencer moves rows from pending
  // to leaves in one transaction, so two statements could miss a row in both).
  struct Held {
    int64_t idx;  // -1: pending
    std::string hash;
    int64_t appended_us;
  };
  std::map<std::pair<std::string, uint64_t>, Held> held;
  std::vector<SqlValue> keys;
  for (size_t i : checked) {
    const auto row = rows.find(items[i].in->store);
    const uint64_t n = items[i].z.z_number();
    if (row != rows.end() && n >= 1 && n <= row->second.last_z_number) {
      keys.push_back(items[i].in->store);
      keys.push_back(Int(n));
    }
  }
  if (!keys.empty()) {
    const std::string in = Placeholders(keys.size() / 2, 2);
    std::vector<SqlValue> args = keys;
    args.insert(args.end(), keys.begin(), keys.end());
    SN_RETURN_IF_ERROR(db->RunOnce(
        "SELECT store_id, z_number, idx, z_hash, appended_us FROM leaves WHERE (store_id, "
        "z_number) IN (" +
            in +
            ") UNION ALL SELECT store_id, z_number, -1, z_hash, 0 FROM pending WHERE (store_id, "
            "z_number) IN (" +
            in + ")",
        args, [&](const SqlRow& r) {
          held[{r.Str(0), static_cast<uint64_t>(r.Int(1))}] = Held{r.Int(2), r.Str(3), r.Int(4)};
        }));
  }

  // Each submit against its store's row, which moves on with each Z stored.
  SqlRows pending(11), moved(5);
  std::map<std::string, std::pair<const v1::SignedZ*, bool>> last_stored;  // store -> Z, pinned
  std::vector<ChainRows> chain;
  const int64_t now = options.clock->NowMicros();
  for (size_t i : checked) {
    const std::string& store = items[i].in->store;
    const v1::LedgerRequest& request = items[i].in->request;
    const v1::SignedZ& signed_z = request.submit().z();
    const v1::ZReport& z = items[i].z;
    const crypto::PublicKey fog_key = *KeyFromBytes(signed_z.fog_public_key());
    auto row = rows.find(store);
    std::optional<crypto::PublicKey> expected;
    const auto pin = options.pinned_stores.find(store);
    if (pin != options.pinned_stores.end()) {
      expected = pin->second;
    } else if (row != rows.end()) {
      expected = row->second.key;
    } else if (!options.accept_unknown_stores) {
      refuse(i, {kUnknownKey,
                 "store " + store + " has no pinned key and unknown stores are not accepted"});
      continue;
    }
    if (expected && *expected != fog_key) {
      refuse(i, {kUnknownKey, "signed by fog key " + crypto::Fingerprint(fog_key) +
                                  ", the store's key is " + crypto::Fingerprint(*expected)});
      continue;
    }
    const std::string n = std::to_string(z.z_number());
    const uint64_t last = row != rows.end() ? row->second.last_z_number : 0;
    if (z.z_number() >= 1 && z.z_number() <= last) {
      const auto found = held.find({store, z.z_number()});
      if (found == held.end())
        return Status::Corruption("store " + store + " Z " + n + " is neither a leaf nor stored");
      if (found->second.hash != signed_z.hash()) {
        refuse(i, {kFork, "Z " + n + " is already in the log with another hash"});
        continue;
      }
      if (found->second.idx < 0) {
        spdlog::debug("store {} Z {}: already stored, its receipt follows its integration", store,
                      n);
        later[i] = true;
        continue;
      }
      spdlog::debug("store {} Z {}: already leaf {}, answered again", store, n, found->second.idx);
      dups->emplace_back(i, LeafRef{static_cast<uint64_t>(found->second.idx), store, z.z_number(),
                                    found->second.hash, found->second.appended_us});
      continue;
    }
    if (z.z_number() != last + 1) {
      refuse(i, {kGap, last == 0 ? "the first Z of a store must be Z 1, got Z " + n
                                 : "Z " + n + " after Z " + std::to_string(last)});
      continue;
    }
    const std::string prev = last == 0 ? std::string(32, '\0') : row->second.last_z_hash;
    if (z.prev_z_hash() != prev) {
      refuse(i, {kChain, last == 0 ? "Z 1 must have 32 zero bytes as prev_z_hash"
                                   : "prev_z_hash is not the hash of Z " + std::to_string(last)});
      continue;
    }
    const crypto::Hash leaf = ZLeafHash(signed_z.z());
    const SqlValue values[] = {store,
                               Int(z.z_number()),
                               Int(z.part()),
                               Blob(signed_z.z()),
                               Blob(signed_z.hash()),
                               Blob(signed_z.signature()),
                               Blob(signed_z.fog_public_key()),
                               Blob(View(leaf)),
                               now,
                               Int(request.request_id()),
                               Int(request.submit().known_tree_size())};
    pending.Add(store + '\0' + n, values);
    // Later submits of the batch see this one: a resend finds it held here,
    // Z n+1 finds its predecessor.
    rows[store] = StoreRow{fog_key, z.z_number(), signed_z.hash()};
    held[{store, z.z_number()}] = Held{-1, signed_z.hash(), 0};
    last_stored[store] = {&signed_z, pin != options.pinned_stores.end()};
    // Head office's read models, in the transaction that first stores the Z.
    chain.push_back(RowsOf(z));
    later[i] = true;
    spdlog::debug("store {} Z {}: stored", store, n);
  }
  if (pending.size() == 0) return size_t{0};
  SN_RETURN_IF_ERROR(RunRows(*db,
                             "INSERT INTO pending(store_id, z_number, part, z, z_hash, signature, "
                             "fog_public_key, leaf_hash, received_us, request_id, "
                             "known_tree_size) VALUES",
                             pending));
  for (const auto& [store, last_z] : last_stored) {
    const auto& [signed_z, pinned] = last_z;
    const SqlValue values[] = {store, Blob(signed_z->fog_public_key()),
                               std::string(pinned ? "config" : "first record"),
                               Int(rows[store].last_z_number), Blob(signed_z->hash())};
    moved.Add(store, values);
  }
  SN_RETURN_IF_ERROR(RunRows(*db,
                             "INSERT INTO stores(store_id, fog_public_key, pinned_by, "
                             "last_z_number, last_z_hash) VALUES",
                             moved,
                             "ON CONFLICT(store_id) DO UPDATE SET last_z_number = "
                             "excluded.last_z_number, last_z_hash = excluded.last_z_hash"));
  SN_RETURN_IF_ERROR(ApplyChainRows(chain, *db));
  return pending.size();
}

Result<std::vector<v1::LedgerAnswer>> Ledger::Integrate() {
  Impl& l = *impl_;
  std::vector<v1::LedgerAnswer> answers;
  if (!l.failed.ok()) return answers;
  SqlTxn txn(*l.db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  auto state = l.State(true);
  if (!state.ok()) {
    if (state.status().code() == Code::kUnavailable &&
        state.status().message().find("another worker") != std::string::npos) {
      return answers;  // another worker is the sequencer
    }
    return state.status();
  }
  std::vector<Pending> batch;
  SN_RETURN_IF_ERROR(l.db->Run(
      "SELECT id, store_id, z_number, z_hash, leaf_hash, request_id, known_tree_size FROM pending "
      "ORDER BY id LIMIT ?",
      std::vector<SqlValue>{Int(l.options.max_batch)}, [&](const SqlRow& r) {
        Pending p{r.Int(0), r.Str(1), static_cast<uint64_t>(r.Int(2)), r.Str(3)};
        auto h = crypto::HashFromBytes(r.Str(4));
        if (h.ok()) p.leaf = *h;
        p.request_id = static_cast<uint64_t>(r.Int(5));
        p.known_tree_size = static_cast<uint64_t>(r.Int(6));
        batch.push_back(std::move(p));
      }));
  const int64_t now = l.options.clock->NowMicros();
  auto sign = [&](uint64_t size, const crypto::Hash& root) {
    v1::TreeHead th;
    th.set_ledger_id(l.options.ledger_id);
    th.set_tree_size(size);
    th.set_root(root.data(), root.size());
    th.set_timestamp_us(now);
    return SignTreeHead(l.key, th);
  };
  auto put_state = [&](uint64_t size, const v1::SignedTreeHead& sth) {
    return l.db->Run(
        "UPDATE tree_state SET tree_size = ?, head = ?, signature = ?, ledger_public_key = ? "
        "WHERE id = 1",
        std::vector<SqlValue>{Int(size), Blob(sth.head()), Blob(sth.signature()),
                              Blob(sth.ledger_public_key())});
  };
  TileTree tree(state->size, l.Loader(), &l.tiles);
  if (batch.empty()) {
    // Invariant 3's "at least once a second": the same size, a fresh time.
    v1::TreeHead last;
    if (state->size == 0 || !last.ParseFromString(state->head.head()) ||
        now - last.timestamp_us() < l.options.head_interval_us) {
      return answers;
    }
    SN_ASSIGN_OR_RETURN(crypto::Hash root, tree.Root(state->size));
    SN_RETURN_IF_ERROR(put_state(state->size, sign(state->size, root)));
    SN_RETURN_IF_ERROR(txn.Commit());
    return answers;
  }
  std::vector<crypto::Hash> hashes;
  for (const Pending& p : batch) hashes.push_back(p.leaf);
  auto fail = [&](const Status& s) {
    l.Fail(s, "integration of " + std::to_string(batch.size()) + " leaves");
    return s;
  };
  if (Status s = tree.Append(hashes); !s.ok()) return fail(s);
  const uint64_t size = tree.size();
  auto root = tree.Root(size);
  if (!root.ok()) return fail(root.status());
  const v1::SignedTreeHead sth = sign(size, *root);
  // The batch moves in two statements: leaf size + k is the k-th pending
  // row in id order, the order of `hashes`. Only the sequencer deletes from
  // pending, so every id of the batch is still there.
  std::vector<SqlValue> ids;
  for (const Pending& p : batch) ids.push_back(p.id);
  const std::string in = Placeholders(ids.size(), 1);
  std::vector<SqlValue> move{Int(state->size), now, Int(size)};
  move.insert(move.end(), ids.begin(), ids.end());
  Status s = l.db->RunOnce(
      "INSERT INTO leaves(idx, store_id, z_number, z, z_hash, signature, fog_public_key, "
      "leaf_hash, appended_us, head_size) SELECT ? + ROW_NUMBER() OVER (ORDER BY id) - 1, "
      "store_id, z_number, z, z_hash, signature, fog_public_key, leaf_hash, ?, ? FROM pending "
      "WHERE id IN (" +
          in + ")",
      move);
  if (s.ok()) s = l.db->RunOnce("DELETE FROM pending WHERE id IN (" + in + ")", ids);
  if (!s.ok()) return fail(s);
  SqlRows tiles(3);
  for (const auto& [id, bytes] : tree.Dirty()) {
    const SqlValue values[] = {Int(id.level), Int(id.index), Blob(bytes)};
    tiles.Add(std::to_string(id.level) + "/" + std::to_string(id.index), values);
  }
  s = RunRows(*l.db, "INSERT INTO tiles(level, idx, hashes) VALUES", tiles,
              "ON CONFLICT(level, idx) DO UPDATE SET hashes = excluded.hashes");
  if (!s.ok()) return fail(s);
  s = l.db->Run(
      "INSERT INTO tree_heads(tree_size, head, signature, ledger_public_key) VALUES (?, ?, ?, ?)",
      std::vector<SqlValue>{Int(size), Blob(sth.head()), Blob(sth.signature()),
                            Blob(sth.ledger_public_key())});
  if (s.ok()) s = put_state(size, sth);
  if (!s.ok()) return fail(s);
  CrashPoint("sequencer-before-commit");
  if (s = txn.Commit(); !s.ok()) return fail(s);
  CrashPoint("sequencer-after-commit");
  spdlog::info("leaves {}..{} appended, tree head of size {} signed", state->size, size - 1, size);

  const TreeState next{size, sth};
  for (size_t k = 0; k < batch.size(); ++k) {
    const Pending& p = batch[k];
    v1::LedgerAnswer& a = answers.emplace_back();
    a.set_request_id(p.request_id);
    a.set_store_id(p.store);
    a.set_z_number(p.z_number);
    const LeafRef leaf{state->size + k, p.store, p.z_number, p.z_hash, now};
    if (Status r = l.ReceiptAnswer(tree, next, leaf, p.known_tree_size, false, &a); !r.ok()) {
      a.clear_accepted();
      a.mutable_rejected()->set_code(kUnavailable);
      a.mutable_rejected()->set_reason("the ledger could not build the receipt: " + r.message());
    }
  }
  return answers;
}

v1::LedgerAnswer Ledger::Handle(const std::string& topic_store, const v1::LedgerRequest& request) {
  auto unavailable = [&](const std::string& why) {
    v1::LedgerAnswer a;
    a.set_request_id(request.request_id());
    a.set_store_id(topic_store);
    a.mutable_rejected()->set_code(kUnavailable);
    a.mutable_rejected()->set_reason(why);
    spdlog::warn("store {} request {}: rejected {}: {}", topic_store, request.request_id(),
                 kUnavailable, why);
    return a;
  };
  auto accepted = Accept({LedgerRequestIn{topic_store, request}});
  if (!accepted.ok())
    return unavailable("the ledger could not store the record: " + accepted.status().message());
  if (!accepted->empty()) return std::move(accepted->front());
  v1::ZReport z;  // parsed by Accept, which stored it
  z.ParseFromString(request.submit().z().z());
  // Stored: integrate until it is a leaf (one worker: at most a few rounds).
  for (int round = 0; round < 1000; ++round) {
    auto integrated = Integrate();
    if (!integrated.ok()) {
      return unavailable("the ledger could not append the record: " +
                         integrated.status().message());
    }
    if (integrated->empty()) break;
    for (v1::LedgerAnswer& a : *integrated) {
      if (a.store_id() == topic_store && a.z_number() == z.z_number()) {
        a.set_request_id(request.request_id());
        return std::move(a);
      }
    }
  }
  return unavailable("the record is stored; its receipt follows its integration");
}

Status Ledger::Impl::ReceiptAnswer(TileTree& tree, const TreeState& state, const LeafRef& leaf,
                                   uint64_t known, bool duplicate, v1::LedgerAnswer* answer) {
  SN_ASSIGN_OR_RETURN(v1::LedgerReceipt receipt, Receipt(tree, state, leaf));
  v1::LedgerAnswer::Accepted* accepted = answer->mutable_accepted();
  answer->set_z_number(receipt.z_number());
  // A known size beyond the log gets no proof: the fog trusts a head this
  // ledger never signed, and finds out when it checks the answer's head.
  if (known > 0 && known <= state.size) {
    SN_ASSIGN_OR_RETURN(std::vector<crypto::Hash> proof, tree.Consistency(known, state.size));
    v1::ConsistencyProof* c = accepted->mutable_consistency();
    c->set_from_size(known);
    c->set_to_size(state.size);
    *c->mutable_to_head() = state.head;
    ProofToWire(proof, c->mutable_proof());
  }
  *accepted->mutable_receipt() = std::move(receipt);
  accepted->set_duplicate(duplicate);
  return Status::Ok();
}

Result<v1::LedgerReceipt> Ledger::Impl::Receipt(TileTree& tree, const TreeState& state,
                                                const LeafRef& leaf) {
  v1::LedgerReceipt r;
  r.set_store_id(leaf.store);
  r.set_z_number(leaf.z_number);
  r.set_z_hash(leaf.z_hash);
  r.set_appended_us(leaf.appended_us);
  const uint64_t index = leaf.index;
  r.set_leaf_index(index);
  r.set_tree_size(state.size);
  SN_ASSIGN_OR_RETURN(crypto::Hash root, tree.Root(state.size));
  r.set_root(root.data(), root.size());
  *r.mutable_tree_head() = state.head;
  SN_ASSIGN_OR_RETURN(std::vector<crypto::Hash> proof, tree.Inclusion(index, state.size));
  ProofToWire(proof, r.mutable_inclusion_proof());
  return r;
}

Status Ledger::Impl::History(const std::string& store, uint64_t from,
                             v1::LedgerAnswer::History* out) {
  // Stored submits count: a fog rebuilt from an empty disk must not number a
  // Z the ledger already holds.
  std::vector<v1::SignedZ> records;
  const std::vector<SqlValue> args{store, Int(std::max<uint64_t>(from, 1)), Int(kHistoryPage + 1)};
  for (const char* table : {"leaves", "pending"}) {
    SN_RETURN_IF_ERROR(
        db->Run(std::string("SELECT z, z_hash, signature, fog_public_key, z_number "
                            "FROM ") +
                    table + " WHERE store_id = ? AND z_number >= ? ORDER BY z_number LIMIT ?",
                args, [&](const SqlRow& r) {
                  v1::SignedZ& z = records.emplace_back();
                  z.set_z(r.Str(0));
                  z.set_hash(r.Str(1));
                  z.set_signature(r.Str(2));
                  z.set_fog_public_key(r.Str(3));
                }));
  }
  // Leaves come first and pending after them: Z numbers stay in order.
  for (v1::SignedZ& z : records) {
    if (out->records_size() == kHistoryPage) {
      out->set_more(true);
      break;
    }
    *out->add_records() = std::move(z);
  }
  return Status::Ok();
}

Result<v1::ConsistencyProof> Ledger::Impl::Consistency(uint64_t from, uint64_t to) {
  SN_ASSIGN_OR_RETURN(TreeState state, State(false));
  const uint64_t size = state.size;
  if (to == 0) to = size;
  if (to == 0) return Status::Invalid("the log is empty: no tree head to prove against");
  if (to > size || from > to) {
    return Status::Invalid("no consistency proof from size " + std::to_string(from) + " to " +
                           std::to_string(to) + ": the log has " + std::to_string(size) +
                           " leaves");
  }
  v1::ConsistencyProof proof;
  proof.set_from_size(from);
  proof.set_to_size(to);
  if (to == size) {
    *proof.mutable_to_head() = state.head;
  } else {
    SN_ASSIGN_OR_RETURN(*proof.mutable_to_head(), HeadOfSize(to));
  }
  TileTree tree(size, Loader(), &tiles);
  SN_ASSIGN_OR_RETURN(std::vector<crypto::Hash> p, tree.Consistency(from, to));
  ProofToWire(p, proof.mutable_proof());
  return proof;
}

}  // namespace storenode::ledger
