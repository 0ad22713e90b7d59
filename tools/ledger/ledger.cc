// NOTES ON THE DESIGN
//
// The ledger promises the fog that a receipt, once sent, proves its Z is in
// the log for good, and promises an auditor that the file alone proves every
// receipt it ever sent. The invariants that keep those promises:
//
//  1. Append only. Leaf i is row idx = i of `leaves`; rows are only ever
//     inserted, at idx = the current size. A rejected record is written
//     nowhere.
//  2. One transaction per record: the leaf, its store's row (last Z number
//     and hash) and the signed tree head of the new size commit together
//     (Append). So for every size 1..n there is exactly one signed head, and
//     a receipt names a head that stays in the file (tree_heads).
//  3. Answer after commit: Handle() builds the receipt only once the commit
//     returned. A crash before it loses the record and the answer (the fog
//     resends); a crash after it loses at most the answer, and the resend
//     gets the same leaf back as a duplicate. CrashPoint "ledger-before-commit"
//     and "ledger-after-commit" let tests kill the process at both moments.
//  4. Memory follows the file: the leaf hashes, the stores and the latest
//     head in Impl change only after a commit. If a write fails the ledger
//     cannot know what the file holds, so it stops (failed(), sticky) instead
//     of guessing; reopening reloads the truth.
//  5. One key per store for the life of the file: the key of its first
//     record, or the one pinned in the options, which must then agree with
//     the records already accepted (Open checks).
#include "ledger/ledger.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <span>
#include <vector>

#include "storenode/common/fault.h"
#include "storenode/common/ledger.h"
#include "storenode/common/merkle.h"
#include "storenode/common/sqlite.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::ledger {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS leaves(
  idx INTEGER PRIMARY KEY,
  store_id TEXT NOT NULL,
  z_number INTEGER NOT NULL,
  z BLOB NOT NULL,
  z_hash BLOB NOT NULL,
  signature BLOB NOT NULL,
  fog_public_key BLOB NOT NULL,
  leaf_hash BLOB NOT NULL,
  appended_us INTEGER NOT NULL,
  UNIQUE(store_id, z_number));
CREATE TABLE IF NOT EXISTS stores(
  store_id TEXT PRIMARY KEY,
  fog_public_key BLOB NOT NULL,
  pinned_by TEXT NOT NULL CHECK(pinned_by IN ('first record', 'config')),
  last_z_number INTEGER NOT NULL,
  last_z_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tree_heads(
  tree_size INTEGER PRIMARY KEY,
  head BLOB NOT NULL,
  signature BLOB NOT NULL,
  ledger_public_key BLOB NOT NULL);
)sql";
// Its schema versions, oldest first (sqlite.h, "Schema versions"): version
// 1 is the schema above, which also adopts files made before versions
// existed. A change is one more entry, e.g. {2, "ALTER TABLE ..."}.
constexpr sql::Migration kMigrations[] = {{1, kSchema}};

std::string_view View(const crypto::Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

struct StoreRow {
  crypto::PublicKey key{};
  std::string pinned_by;
  uint64_t last_z_number = 0;
  std::string last_z_hash;
};

Result<crypto::PublicKey> KeyFromBytes(std::string_view raw) {
  SN_ASSIGN_OR_RETURN(crypto::Hash h, crypto::HashFromBytes(raw));
  return crypto::PublicKey(h);
}

Result<std::map<std::string, StoreRow>> LoadStores(sql::Db& db) {
  std::map<std::string, StoreRow> stores;
  SN_ASSIGN_OR_RETURN(sql::Stmt q, db.Prepare("SELECT store_id, fog_public_key, pinned_by, "
                                              "last_z_number, last_z_hash FROM stores"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    StoreRow s;
    auto key = KeyFromBytes(q.BlobView(1));
    if (!key.ok()) return Status::Corruption("store " + q.Text(0) + ": fog key is not 32 bytes");
    s.key = *key;
    s.pinned_by = q.Text(2);
    s.last_z_number = static_cast<uint64_t>(q.Int(3));
    s.last_z_hash = q.Blob(4);
    stores.emplace(q.Text(0), std::move(s));
  }
  return stores;
}

// The meta row `key`, empty if absent.
Result<std::string> Meta(sql::Db& db, std::string_view key) {
  SN_ASSIGN_OR_RETURN(sql::Stmt q, db.Prepare("SELECT value FROM meta WHERE key = ?"));
  q.Bind(1, key);
  SN_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Blob(0) : std::string();
}

// A stored head as it travels.
v1::SignedTreeHead HeadFromRow(const sql::Stmt& q, int first_col) {
  v1::SignedTreeHead sth;
  sth.set_head(q.Blob(first_col));
  sth.set_signature(q.Blob(first_col + 1));
  sth.set_ledger_public_key(q.Blob(first_col + 2));
  return sth;
}

// Why a submit is refused: a Rejected code and a one-line reason.
struct Refusal {
  const char* code;
  std::string reason;
};

}  // namespace

struct Ledger::Impl {
  LedgerOptions options;
  crypto::SigningKey key;
  std::unique_ptr<sql::Db> db;
  std::vector<crypto::Hash> leaves;  // leaf hashes, for proofs
  merkle::CompactRange frontier;     // of `leaves`: the root after each append in O(log n)
  std::map<std::string, StoreRow> stores;
  v1::SignedTreeHead head;  // of the current size; empty while the log is
  Status failed;

  Status Load();
  void Submit(const std::string& store, const v1::LedgerSubmit& submit, v1::LedgerAnswer* answer);
  // The checks of a submit, in order; nullopt when it may be appended.
  // Sets *duplicate_of to the leaf of an identical record already in the log.
  std::optional<Refusal> Check(const std::string& store, const v1::SignedZ& signed_z,
                               const v1::ZReport& z, std::optional<uint64_t>* duplicate_of);
  Status Append(const std::string& store, const v1::SignedZ& signed_z, const v1::ZReport& z,
                int64_t now_us);
  Result<v1::LedgerReceipt> Receipt(uint64_t index);
  // A store's records from Z number `from`, at most kHistoryPage.
  Status History(const std::string& store, uint64_t from, v1::LedgerAnswer::History* out);
  Result<v1::ConsistencyProof> Consistency(uint64_t from, uint64_t to);
  Result<v1::SignedTreeHead> HeadOfSize(uint64_t size);
};

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& db_path,
                                             const crypto::SigningKey& key, LedgerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->key = key;
  if (impl->options.ledger_id.empty()) return Status::Invalid("ledger id must not be empty");
  sql::OpenOptions o;
  o.wal = true;
  o.sync = sql::Sync::kFull;
  o.vfs = impl->options.sqlite_vfs;
  SN_ASSIGN_OR_RETURN(impl->db, sql::Db::Open(db_path, o));
  SN_RETURN_IF_ERROR(sql::Migrate(*impl->db, "ledger.db", kMigrations).status());
  SN_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ledger::~Ledger() = default;

uint64_t Ledger::tree_size() const { return impl_->leaves.size(); }
const crypto::PublicKey& Ledger::public_key() const { return impl_->key.public_key(); }
const Status& Ledger::failed() const { return impl_->failed; }

Status Ledger::Impl::Load() {
  const std::string pub(View(key.public_key()));
  {
    sql::Transaction txn(*db);
    SN_RETURN_IF_ERROR(txn.begin_status());
    SN_ASSIGN_OR_RETURN(std::string id, Meta(*db, "ledger_id"));
    SN_ASSIGN_OR_RETURN(std::string stored_key, Meta(*db, "ledger_public_key"));
    if (id.empty()) {
      SN_ASSIGN_OR_RETURN(sql::Stmt ins, db->Prepare("INSERT INTO meta(key, value) VALUES (?, ?)"));
      ins.Bind(1, "ledger_id").BindBlob(2, options.ledger_id);
      SN_RETURN_IF_ERROR(ins.Run());
      ins.Reset();
      ins.Bind(1, "ledger_public_key").BindBlob(2, pub);
      SN_RETURN_IF_ERROR(ins.Run());
      SN_RETURN_IF_ERROR(txn.Commit());
    } else if (id != options.ledger_id) {
      return Status::Precondition(db->path() + " is the ledger '" + id + "', not '" +
                                  options.ledger_id + "'");
    } else if (stored_key != pub) {
      auto k = KeyFromBytes(stored_key);
      return Status::Precondition(db->path() + " was signed with ledger key " +
                                  (k.ok() ? crypto::Fingerprint(*k) : "?") + ", not " +
                                  crypto::Fingerprint(key.public_key()));
    }
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt q, db->Prepare("SELECT idx, leaf_hash FROM leaves ORDER BY idx"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    auto h = crypto::HashFromBytes(q.BlobView(1));
    if (q.Int(0) != static_cast<int64_t>(leaves.size()) || !h.ok()) {
      return Status::Corruption("leaf " + std::to_string(leaves.size()) +
                                ": missing or without a leaf hash (run storectl verify ledger)");
    }
    leaves.push_back(*h);
    frontier.Append(*h);
  }
  SN_ASSIGN_OR_RETURN(stores, LoadStores(*db));
  for (const auto& [store, pinned] : options.pinned_stores) {
    auto it = stores.find(store);
    if (it != stores.end() && it->second.key != pinned) {
      return Status::Precondition("store " + store + ": pinned key " + crypto::Fingerprint(pinned) +
                                  " differs from key " + crypto::Fingerprint(it->second.key) +
                                  " its records were accepted under");
    }
  }
  if (leaves.empty()) return Status::Ok();
  SN_ASSIGN_OR_RETURN(head, HeadOfSize(leaves.size()));
  auto verified = VerifyTreeHead(head, key.public_key());
  if (!verified.ok() || verified->root() != View(frontier.Root())) {
    return Status::Corruption("tree head of size " + std::to_string(leaves.size()) +
                              " does not match the leaves (run storectl verify ledger)");
  }
  return Status::Ok();
}

Result<v1::SignedTreeHead> Ledger::Impl::HeadOfSize(uint64_t size) {
  SN_ASSIGN_OR_RETURN(sql::Stmt q,
                      db->Prepare("SELECT head, signature, ledger_public_key FROM tree_heads "
                                  "WHERE tree_size = ?"));
  q.Bind(1, static_cast<int64_t>(size));
  SN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Corruption("no tree head of size " + std::to_string(size));
  return HeadFromRow(q, 0);
}

v1::LedgerAnswer Ledger::Handle(const std::string& topic_store, const v1::LedgerRequest& request) {
  Impl& l = *impl_;
  v1::LedgerAnswer answer;
  answer.set_request_id(request.request_id());
  answer.set_store_id(topic_store);
  auto reject = [&](const char* code, const std::string& reason) {
    answer.mutable_rejected()->set_code(code);
    answer.mutable_rejected()->set_reason(reason);
  };
  if (!l.failed.ok()) {
    reject(kUnavailable, "the ledger stopped after a write failed: " + l.failed.message());
  } else if (request.has_submit()) {
    l.Submit(topic_store, request.submit(), &answer);
  } else if (request.has_consistency()) {
    auto proof = l.Consistency(request.consistency().from_size(), request.consistency().to_size());
    if (proof.ok()) {
      *answer.mutable_consistency() = std::move(*proof);
    } else {
      reject(kBadRequest, proof.status().message());
    }
  } else if (request.has_history()) {
    answer.set_z_number(request.history().from_z_number());
    Status s = l.History(topic_store, request.history().from_z_number(), answer.mutable_history());
    if (!s.ok()) {
      answer.clear_history();
      reject(kUnavailable, s.message());
    }
  } else {
    reject(kBadRequest, "the request is neither a submit, a consistency nor a history request");
  }
  if (answer.has_rejected()) {
    // One line per refusal, naming what an operator looks for: store and Z.
    const std::string what = request.has_submit()
                                 ? "Z " + std::to_string(answer.z_number())
                                 : "request " + std::to_string(request.request_id());
    spdlog::warn("store {} {}: rejected {}: {}", topic_store, what, answer.rejected().code(),
                 answer.rejected().reason());
  }
  return answer;
}

void Ledger::Impl::Submit(const std::string& store, const v1::LedgerSubmit& submit,
                          v1::LedgerAnswer* answer) {
  auto refuse = [&](const char* code, std::string reason) {
    answer->mutable_rejected()->set_code(code);
    answer->mutable_rejected()->set_reason(std::move(reason));
  };
  const v1::SignedZ& signed_z = submit.z();
  v1::ZReport z;
  if (!z.ParseFromString(signed_z.z())) return refuse(kMalformed, "the Z bytes do not parse");
  answer->set_z_number(z.z_number());
  std::optional<uint64_t> index;
  if (auto refusal = Check(store, signed_z, z, &index)) {
    return refuse(refusal->code, std::move(refusal->reason));
  }
  const bool duplicate = index.has_value();
  if (!duplicate) {
    Status s = Append(store, signed_z, z, options.clock->NowMicros());
    if (!s.ok()) {
      failed = s;
      spdlog::error("ledger stops answering: append of store {} Z {} failed: {}", store,
                    z.z_number(), s.ToString());
      return refuse(kUnavailable, "the ledger could not append the record: " + s.message());
    }
    index = leaves.size() - 1;
    spdlog::info("store {} Z {}: appended as leaf {}", store, z.z_number(), *index);
  } else {
    spdlog::info("store {} Z {}: already leaf {}, answered again", store, z.z_number(), *index);
  }
  auto receipt = Receipt(*index);
  std::optional<v1::ConsistencyProof> consistency;
  const uint64_t known = submit.known_tree_size();
  // A known size beyond the log gets no proof: the fog trusts a head this
  // ledger never signed, and finds out when it checks the answer's head.
  if (receipt.ok() && known > 0 && known <= leaves.size()) {
    auto proof = Consistency(known, 0);
    if (proof.ok()) {
      consistency = std::move(*proof);
    } else {
      receipt = proof.status();
    }
  }
  if (!receipt.ok()) {
    failed = receipt.status();
    spdlog::error("ledger stops answering: {}", receipt.status().ToString());
    return refuse(kUnavailable, "the ledger could not read its file: " + failed.message());
  }
  v1::LedgerAnswer::Accepted* accepted = answer->mutable_accepted();
  *accepted->mutable_receipt() = std::move(*receipt);
  accepted->set_duplicate(duplicate);
  if (consistency) *accepted->mutable_consistency() = std::move(*consistency);
}

std::optional<Refusal> Ledger::Impl::Check(const std::string& store, const v1::SignedZ& signed_z,
                                           const v1::ZReport& z,
                                           std::optional<uint64_t>* duplicate_of) {
  const std::string n = std::to_string(z.z_number());
  if (z.store_id() != store) {
    return Refusal{kMalformed, "Z " + n + " is of store '" + z.store_id() +
                                   "', submitted on the topic of store '" + store + "'"};
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
  const auto row = stores.find(store);
  std::optional<crypto::PublicKey> expected;
  if (auto pin = options.pinned_stores.find(store); pin != options.pinned_stores.end()) {
    expected = pin->second;
  } else if (row != stores.end()) {
    expected = row->second.key;
  } else if (!options.accept_unknown_stores) {
    return Refusal{kUnknownKey, "store " + store +
                                    " has no pinned key and unknown stores are "
                                    "not accepted"};
  }
  if (expected && *expected != *fog_key) {
    return Refusal{kUnknownKey, "signed by fog key " + crypto::Fingerprint(*fog_key) +
                                    ", the store's key is " + crypto::Fingerprint(*expected)};
  }
  const uint64_t last = row == stores.end() ? 0 : row->second.last_z_number;
  if (z.z_number() >= 1 && z.z_number() <= last) {
    auto q = db->Prepare("SELECT idx, z_hash FROM leaves WHERE store_id = ? AND z_number = ?");
    Result<bool> found = q.ok()
                             ? q->Bind(1, store).Bind(2, static_cast<int64_t>(z.z_number())).Step()
                             : Result<bool>(q.status());
    if (!found.ok() || !*found) {
      return Refusal{kUnavailable, "cannot read Z " + n + " of the log: " +
                                       (found.ok() ? "missing" : found.status().message())};
    }
    if (q->BlobView(1) != signed_z.hash()) {
      return Refusal{kFork, "Z " + n + " is already in the log with another hash"};
    }
    *duplicate_of = static_cast<uint64_t>(q->Int(0));
    return std::nullopt;
  }
  if (z.z_number() != last + 1) {
    return Refusal{kGap, last == 0 ? "the first Z of a store must be Z 1, got Z " + n
                                   : "Z " + n + " after Z " + std::to_string(last)};
  }
  const std::string prev = last == 0 ? std::string(32, '\0') : row->second.last_z_hash;
  if (z.prev_z_hash() != prev) {
    return Refusal{kChain, last == 0 ? "Z 1 must have 32 zero bytes as prev_z_hash"
                                     : "prev_z_hash is not the hash of Z " + std::to_string(last)};
  }
  return std::nullopt;
}

Status Ledger::Impl::Append(const std::string& store, const v1::SignedZ& signed_z,
                            const v1::ZReport& z, int64_t now_us) {
  const uint64_t index = leaves.size();
  const crypto::Hash leaf = ZLeafHash(signed_z.z());
  merkle::CompactRange next = frontier;
  next.Append(leaf);
  v1::TreeHead th;
  th.set_ledger_id(options.ledger_id);
  th.set_tree_size(index + 1);
  const crypto::Hash root = next.Root();
  th.set_root(root.data(), root.size());
  th.set_timestamp_us(now_us);
  v1::SignedTreeHead sth = SignTreeHead(key, th);
  const bool pinned = options.pinned_stores.contains(store);

  sql::Transaction txn(*db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt leaf_ins,
                      db->Prepare("INSERT INTO leaves(idx, store_id, z_number, z, z_hash, "
                                  "signature, fog_public_key, leaf_hash, appended_us) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  leaf_ins.Bind(1, static_cast<int64_t>(index))
      .Bind(2, store)
      .Bind(3, static_cast<int64_t>(z.z_number()))
      .BindBlob(4, signed_z.z())
      .BindBlob(5, signed_z.hash())
      .BindBlob(6, signed_z.signature())
      .BindBlob(7, signed_z.fog_public_key())
      .BindBlob(8, View(leaf))
      .Bind(9, now_us);
  SN_RETURN_IF_ERROR(leaf_ins.Run());
  SN_ASSIGN_OR_RETURN(
      sql::Stmt store_up,
      db->Prepare("INSERT INTO stores(store_id, fog_public_key, pinned_by, last_z_number, "
                  "last_z_hash) VALUES (?, ?, ?, ?, ?) ON CONFLICT(store_id) DO UPDATE SET "
                  "last_z_number = excluded.last_z_number, last_z_hash = excluded.last_z_hash"));
  store_up.Bind(1, store)
      .BindBlob(2, signed_z.fog_public_key())
      .Bind(3, pinned ? "config" : "first record")
      .Bind(4, static_cast<int64_t>(z.z_number()))
      .BindBlob(5, signed_z.hash());
  SN_RETURN_IF_ERROR(store_up.Run());
  SN_ASSIGN_OR_RETURN(sql::Stmt head_ins,
                      db->Prepare("INSERT INTO tree_heads(tree_size, head, signature, "
                                  "ledger_public_key) VALUES (?, ?, ?, ?)"));
  head_ins.Bind(1, static_cast<int64_t>(index + 1))
      .BindBlob(2, sth.head())
      .BindBlob(3, sth.signature())
      .BindBlob(4, sth.ledger_public_key());
  SN_RETURN_IF_ERROR(head_ins.Run());
  CrashPoint("ledger-before-commit");
  SN_RETURN_IF_ERROR(txn.Commit());
  CrashPoint("ledger-after-commit");

  leaves.push_back(leaf);
  frontier = std::move(next);
  StoreRow& row = stores[store];
  if (row.pinned_by.empty()) {
    row.key = *KeyFromBytes(signed_z.fog_public_key());
    row.pinned_by = pinned ? "config" : "first record";
  }
  row.last_z_number = z.z_number();
  row.last_z_hash = signed_z.hash();
  head = std::move(sth);
  return Status::Ok();
}

Status Ledger::Impl::History(const std::string& store, uint64_t from,
                             v1::LedgerAnswer::History* out) {
  SN_ASSIGN_OR_RETURN(sql::Stmt q, db->Prepare("SELECT z, z_hash, signature, fog_public_key FROM "
                                               "leaves WHERE store_id = ? AND z_number >= ? "
                                               "ORDER BY z_number LIMIT ?"));
  q.Bind(1, store).Bind(2, static_cast<int64_t>(std::max<uint64_t>(from, 1)));
  q.Bind(3, int64_t{kHistoryPage} + 1);
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (out->records_size() == kHistoryPage) {
      out->set_more(true);
      break;
    }
    v1::SignedZ* z = out->add_records();
    z->set_z(q.Blob(0));
    z->set_hash(q.Blob(1));
    z->set_signature(q.Blob(2));
    z->set_fog_public_key(q.Blob(3));
  }
  return Status::Ok();
}

Result<v1::LedgerReceipt> Ledger::Impl::Receipt(uint64_t index) {
  SN_ASSIGN_OR_RETURN(sql::Stmt q, db->Prepare("SELECT store_id, z_number, z_hash, appended_us "
                                               "FROM leaves WHERE idx = ?"));
  q.Bind(1, static_cast<int64_t>(index));
  SN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Corruption("leaf " + std::to_string(index) + " is missing");
  v1::LedgerReceipt r;
  r.set_store_id(q.Text(0));
  r.set_z_number(static_cast<uint64_t>(q.Int(1)));
  r.set_z_hash(q.Blob(2));
  r.set_appended_us(q.Int(3));
  r.set_leaf_index(index);
  r.set_tree_size(leaves.size());
  const crypto::Hash root = frontier.Root();
  r.set_root(root.data(), root.size());
  *r.mutable_tree_head() = head;
  ProofToWire(merkle::InclusionProof(leaves, index), r.mutable_inclusion_proof());
  return r;
}

Result<v1::ConsistencyProof> Ledger::Impl::Consistency(uint64_t from, uint64_t to) {
  const uint64_t size = leaves.size();
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
    *proof.mutable_to_head() = head;
  } else {
    SN_ASSIGN_OR_RETURN(*proof.mutable_to_head(), HeadOfSize(to));
  }
  ProofToWire(merkle::ConsistencyProof(std::span(leaves).first(to), from), proof.mutable_proof());
  return proof;
}

Result<v1::LedgerAudit> VerifyLedgerDb(const std::string& path) {
  sql::OpenOptions o;
  o.create = false;
  o.read_only = true;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, sql::Db::Open(path, o));
  SN_ASSIGN_OR_RETURN(std::string ledger_id, Meta(*db, "ledger_id"));
  SN_ASSIGN_OR_RETURN(std::string key_bytes, Meta(*db, "ledger_public_key"));
  auto ledger_key = KeyFromBytes(key_bytes);
  if (ledger_id.empty() || !ledger_key.ok()) {
    return Status::Invalid(path + " has no ledger id or ledger key: not a ledger file");
  }
  SN_ASSIGN_OR_RETURN(auto stores, LoadStores(*db));

  // Per store, what the next record must be, as the leaves so far say.
  struct Chain {
    uint64_t last = 0;
    std::string last_hash = std::string(32, '\0');
  };
  std::map<std::string, Chain> chains;
  std::vector<crypto::Hash> roots;  // roots[k] = root of the first k + 1 leaves
  merkle::CompactRange frontier;
  SN_ASSIGN_OR_RETURN(sql::Stmt q, db->Prepare("SELECT idx, store_id, z_number, z, z_hash, "
                                               "signature, fog_public_key, leaf_hash "
                                               "FROM leaves ORDER BY idx"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const uint64_t i = roots.size();
    auto bad = [&](const std::string& why) {
      return Status::Corruption("leaf " + std::to_string(i) + ": " + why);
    };
    if (q.Int(0) != static_cast<int64_t>(i)) {
      return bad("missing (the next stored leaf is " + std::to_string(q.Int(0)) + ")");
    }
    const std::string store = q.Text(1);
    const uint64_t number = static_cast<uint64_t>(q.Int(2));
    const std::string_view z_bytes = q.BlobView(3);
    const crypto::Hash leaf = ZLeafHash(z_bytes);
    if (q.BlobView(7) != View(leaf)) return bad("leaf_hash is not SHA-256(0x00 || z)");
    if (q.BlobView(4) != View(crypto::Sha256Of(z_bytes))) return bad("z_hash is not SHA-256(z)");
    v1::ZReport z;
    if (!z.ParseFromString(std::string(z_bytes))) return bad("z does not parse as a ZReport");
    if (z.store_id() != store || z.z_number() != number) {
      return bad("z is Z " + std::to_string(z.z_number()) + " of store '" + z.store_id() +
                 "', the row says Z " + std::to_string(number) + " of '" + store + "'");
    }
    const auto pinned = stores.find(store);
    if (pinned == stores.end()) return bad("store " + store + " has no row in stores");
    if (q.BlobView(6) != View(pinned->second.key)) {
      return bad("signed by another fog key than store " + store + "'s " +
                 crypto::Fingerprint(pinned->second.key));
    }
    if (!crypto::Verify(pinned->second.key, crypto::AsBytes(q.BlobView(4)),
                        crypto::AsBytes(q.BlobView(5)))) {
      return bad("the fog signature does not verify");
    }
    Chain& chain = chains[store];
    if (number != chain.last + 1) {
      return bad("store " + store + " Z " + std::to_string(number) + " follows Z " +
                 std::to_string(chain.last));
    }
    if (z.prev_z_hash() != chain.last_hash) {
      return bad("store " + store + " Z " + std::to_string(number) +
                 ": prev_z_hash is not the hash of the store's previous Z");
    }
    chain.last = number;
    chain.last_hash = q.Blob(4);
    frontier.Append(leaf);
    roots.push_back(frontier.Root());
  }
  for (const auto& [store, row] : stores) {
    const Chain& chain = chains[store];
    if (chain.last == 0) return Status::Corruption("store " + store + ": a row without records");
    if (row.last_z_number != chain.last || row.last_z_hash != chain.last_hash) {
      return Status::Corruption("store " + store + ": its row says last Z " +
                                std::to_string(row.last_z_number) + ", the leaves end at Z " +
                                std::to_string(chain.last) + " (or its hash differs)");
    }
    if (row.pinned_by != "first record" && row.pinned_by != "config") {
      return Status::Corruption("store " + store + ": pinned_by '" + row.pinned_by + "'");
    }
  }

  SN_ASSIGN_OR_RETURN(sql::Stmt h, db->Prepare("SELECT tree_size, head, signature, "
                                               "ledger_public_key FROM tree_heads "
                                               "ORDER BY tree_size"));
  uint64_t heads = 0;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, h.Step());
    if (!row) break;
    const uint64_t size = heads + 1;
    auto bad = [&](const std::string& why) {
      return Status::Corruption("tree head of size " + std::to_string(size) + ": " + why);
    };
    if (h.Int(0) != static_cast<int64_t>(size)) {
      return bad("missing (the next stored head is of size " + std::to_string(h.Int(0)) + ")");
    }
    if (size > roots.size()) return bad("the log has only " + std::to_string(roots.size()));
    const v1::SignedTreeHead sth = HeadFromRow(h, 1);
    if (sth.ledger_public_key() != key_bytes) return bad("carries another ledger key");
    auto th = VerifyTreeHead(sth, *ledger_key);
    if (!th.ok()) return bad(th.status().message());
    if (th->tree_size() != size || th->ledger_id() != ledger_id) {
      return bad("signed for size " + std::to_string(th->tree_size()) + " of ledger '" +
                 th->ledger_id() + "'");
    }
    if (th->root() != View(roots[size - 1])) return bad("root is not the root of its leaves");
    ++heads;
  }
  if (heads != roots.size()) {
    return Status::Corruption("tree head of size " + std::to_string(heads + 1) + ": missing");
  }

  v1::LedgerAudit audit;
  audit.set_ledger_id(ledger_id);
  audit.set_ledger_public_key(crypto::ToHex(*ledger_key));
  audit.set_ledger_key_fingerprint(crypto::Fingerprint(*ledger_key));
  audit.set_records(roots.size());
  audit.set_stores(stores.size());
  audit.set_tree_heads(heads);
  audit.set_tree_size(roots.size());
  audit.set_root(crypto::ToHex(frontier.Root()));
  return audit;
}

}  // namespace storenode::ledger
