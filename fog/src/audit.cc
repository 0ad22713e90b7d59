#include "storenode/fog/audit.h"

#include <fstream>
#include <functional>

#include "closedown.h"
#include "forwarder.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/ledger.h"
#include "storenode/common/merkle.h"

namespace storenode::fog {
namespace {

std::string Hex(std::string_view raw) { return crypto::ToHex(crypto::AsBytes(raw)); }
std::string Short(std::string_view raw) { return Hex(raw).substr(0, 16) + "..."; }

Result<crypto::PublicKey> KeyFromHex(const std::string& hex, const std::string& what) {
  auto raw = crypto::FromHex(hex);
  if (!raw.ok() || raw->size() != 32) {
    return Status::Invalid(what + " is not 64 hex digits: '" + hex + "'");
  }
  return crypto::HashFromBytes(*raw);
}

// One stored event with where it sits.
struct StoredEvent {
  std::string journal_id;  // raw
  uint64_t seq = 0;
  std::string business_day;
  v1::JournalEvent event;
};

// Event `seq` of (device, journal), or nullopt.
Result<std::optional<StoredEvent>> LoadEvent(sql::Db& db, const std::string& device,
                                             const std::string& journal, uint64_t seq) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("SELECT business_day, header, body, prev_hash, hash, signature "
                                 "FROM events WHERE device_id = ? AND journal_id = ? AND seq = ?"));
  stmt.Bind(1, device).BindBlob(2, journal).Bind(3, static_cast<int64_t>(seq));
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<StoredEvent>();
  StoredEvent e{journal, seq, stmt.Text(0), {}};
  e.event.set_header(stmt.Blob(1));
  e.event.set_body(stmt.Blob(2));
  e.event.set_prev_hash(stmt.Blob(3));
  e.event.set_hash(stmt.Blob(4));
  e.event.set_signature(stmt.Blob(5));
  return std::optional<StoredEvent>(std::move(e));
}

// The sale with `receipt_no` of `device`, in its current journal if it has
// one there, else in the first journal that has it.
Result<StoredEvent> FindSale(sql::Db& db, const std::string& device, uint64_t receipt_no) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("SELECT e.journal_id, e.seq FROM events e LEFT JOIN devices d "
                                 "ON d.device_id = e.device_id AND d.journal_id = e.journal_id "
                                 "WHERE e.device_id = ? AND e.receipt_no = ? AND e.kind = ? "
                                 "ORDER BY d.device_id IS NULL, e.journal_id LIMIT 1"));
  stmt.Bind(1, device).Bind(2, static_cast<int64_t>(receipt_no)).Bind(3, int64_t{v1::SALE});
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return Status::NotFound("fog.db has no sale with receipt " + std::to_string(receipt_no) +
                            " of " + device);
  }
  SN_ASSIGN_OR_RETURN(std::optional<StoredEvent> e,
                      LoadEvent(db, device, stmt.Blob(0), static_cast<uint64_t>(stmt.Int(1))));
  return std::move(*e);
}

// Step 1: the event's hash, signature and links to seq-1 and seq+1.
Status CheckEvent(sql::Db& db, const ReceiptQuery& q, const StoredEvent& e, std::string* detail) {
  SN_ASSIGN_OR_RETURN(sql::Stmt key, db.Prepare("SELECT public_key FROM journals WHERE "
                                                "device_id = ? AND journal_id = ?"));
  key.Bind(1, q.device_id).BindBlob(2, e.journal_id);
  SN_ASSIGN_OR_RETURN(bool has_key, key.Step());
  if (!has_key) return Status::Corruption("the fog holds no key for this journal");
  SN_ASSIGN_OR_RETURN(crypto::PublicKey device_key, crypto::HashFromBytes(key.BlobView(0)));
  if (e.seq < 2) return Status::Corruption("a sale cannot be the genesis event");
  SN_ASSIGN_OR_RETURN(std::optional<StoredEvent> prev,
                      LoadEvent(db, q.device_id, e.journal_id, e.seq - 1));
  if (!prev) return Status::Corruption("seq " + std::to_string(e.seq - 1) + " is not stored");
  SN_ASSIGN_OR_RETURN(crypto::Hash prev_hash, crypto::HashFromBytes(prev->event.hash()));
  // Checks seq, prev_hash, the hash over the stored bytes and the signature.
  ChainVerifier chain(e.seq - 1, prev_hash, device_key);
  DecodedEvent decoded;
  SN_RETURN_IF_ERROR(chain.Next(e.event, &decoded));
  if (decoded.header.device_id() != q.device_id || decoded.header.receipt_no() != q.receipt_no ||
      decoded.header.kind() != v1::SALE) {
    return Status::Corruption("the stored header is not sale " + std::to_string(q.receipt_no) +
                              " of " + q.device_id);
  }
  SN_ASSIGN_OR_RETURN(std::optional<StoredEvent> next,
                      LoadEvent(db, q.device_id, e.journal_id, e.seq + 1));
  if (next && next->event.prev_hash() != e.event.hash()) {
    return Status::Corruption("seq " + std::to_string(e.seq + 1) + " does not link to it");
  }
  *detail = q.device_id + " journal " + Short(e.journal_id) + " seq " + std::to_string(e.seq) +
            " (" + e.business_day + "): hash " + Short(e.event.hash()) + ", signed by " +
            crypto::Fingerprint(device_key) + ", linked to seq " + std::to_string(e.seq - 1) +
            (next ? " and " + std::to_string(e.seq + 1) : " (head of the chain)");
  return Status::Ok();
}

// Step 2: finds the close-down that covers the event and proves the event's
// leaf in its Merkle root. Sets `z_number`.
Status CheckInZ(sql::Db& db, const ReceiptQuery& q, const StoredEvent& e, uint64_t* z_number,
                std::string* detail) {
  SN_ASSIGN_OR_RETURN(std::vector<StoredZ> zs, ZsOf(db, e.business_day));
  const std::string journal_hex = Hex(e.journal_id);
  v1::ZReport z;
  bool found = false;
  for (size_t i = 0; i < zs.size() && !found; ++i) {
    if (!z.ParseFromString(zs[i].z.z())) {
      return Status::Corruption("Z " + std::to_string(zs[i].z_number) + " does not parse");
    }
    for (const v1::ZTill& t : z.tills()) {
      found = found || (t.device_id() == q.device_id && t.journal_id() == journal_hex &&
                        t.first_seq() <= e.seq && e.seq <= t.last_seq());
    }
  }
  if (!found) {
    return Status::NotFound("no close-down of " + e.business_day +
                            " covers it (not closed yet, or a supplement is pending)");
  }
  *z_number = z.z_number();
  SN_ASSIGN_OR_RETURN(std::vector<crypto::Hash> leaves, ZLeafHashes(db, z, true));
  SN_ASSIGN_OR_RETURN(crypto::Hash event_hash, crypto::HashFromBytes(e.event.hash()));
  const crypto::Hash leaf = merkle::LeafHash(crypto::Bytes(event_hash.data(), event_hash.size()));
  auto at = std::find(leaves.begin(), leaves.end(), leaf);
  if (at == leaves.end()) return Status::Corruption("the event is not among the Z's leaves");
  const uint64_t index = static_cast<uint64_t>(at - leaves.begin());
  std::vector<crypto::Hash> proof = merkle::InclusionProof(leaves, index);
  SN_ASSIGN_OR_RETURN(crypto::Hash root, crypto::HashFromBytes(z.merkle_root()));
  if (leaves.size() != z.leaf_count()) {
    return Status::Corruption("Z " + std::to_string(z.z_number()) + " counts " +
                              std::to_string(z.leaf_count()) + " leaves, the events give " +
                              std::to_string(leaves.size()));
  }
  Status s = merkle::VerifyInclusion(index, leaves.size(), leaf, proof, root);
  if (!s.ok()) {
    return Status::Corruption("Z " + std::to_string(z.z_number()) +
                              "'s events do not give its Merkle root: " + s.message());
  }
  *detail = "leaf " + std::to_string(index) + " of " + std::to_string(leaves.size()) + " in " +
            z.kind() + " " + std::to_string(z.z_number()) + " of " + z.business_day() + ", root " +
            Short(z.merkle_root()) + ", proof of " + std::to_string(proof.size()) + " hashes";
  return Status::Ok();
}

// Step 3: every Z from 1 to `z_number`: hash, signature, number and link.
// Sets `z_bytes` to Z `z_number`'s.
Status CheckZChain(sql::Db& db, const crypto::PublicKey& fog_key, uint64_t z_number,
                   std::string* z_bytes, std::string* detail) {
  std::string prev_hash(32, '\0');
  uint64_t expected = 1;
  SN_RETURN_IF_ERROR(ForEachZ(db, z_number, [&](StoredZ& stored) -> Status {
    const std::string n = "Z " + std::to_string(expected);
    std::string z = std::move(*stored.z.mutable_z()), hash = stored.z.hash(),
                sig = stored.z.signature();
    crypto::Hash computed = crypto::Sha256Of(z);
    v1::ZReport parsed;
    if (stored.z_number != expected) return Status::Corruption(n + " is missing");
    if (hash != std::string_view(reinterpret_cast<const char*>(computed.data()), 32)) {
      return Status::Corruption(n + ": its bytes do not hash to its stored hash (altered)");
    }
    if (!crypto::Verify(fog_key, crypto::AsBytes(hash), crypto::AsBytes(sig))) {
      return Status::Corruption(n + ": signature does not verify with fog key " +
                                crypto::Fingerprint(fog_key));
    }
    if (!parsed.ParseFromString(z) || parsed.z_number() != expected) {
      return Status::Corruption(n + ": does not parse or carries another number");
    }
    if (parsed.prev_z_hash() != prev_hash) {
      return Status::Corruption(n + ": does not link to the previous Z's hash");
    }
    prev_hash = hash;
    *z_bytes = std::move(z);
    ++expected;
    return Status::Ok();
  }));
  if (expected != z_number + 1) {
    return Status::Corruption("Z " + std::to_string(z_number) + " is not stored");
  }
  *detail = "Z " + std::to_string(z_number) + ": hash " + Short(prev_hash) + ", signed by fog " +
            crypto::Fingerprint(fog_key) + "; chain Z 1.." + std::to_string(z_number) + " unbroken";
  return Status::Ok();
}

}  // namespace

Result<std::vector<crypto::Hash>> ZLeafHashes(sql::Db& fog_db, const v1::ZReport& z, bool rehash) {
  // The close-down reads the stored hashes only: the event bytes are the
  // bulk of each row, and it stored them verified.
  const std::string columns = rehash ? "seq, hash, prev_hash, header, body" : "seq, hash";
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      fog_db.Prepare("SELECT " + columns +
                                     " FROM events WHERE device_id = ? AND journal_id = ? AND seq "
                                     "BETWEEN ? AND ? AND business_day = ? ORDER BY seq"));
  std::vector<crypto::Hash> leaves;
  leaves.reserve(static_cast<size_t>(z.leaf_count()));
  for (const v1::ZTill& till : z.tills()) {
    if (till.journal_id().empty()) continue;  // a missing till without events
    SN_ASSIGN_OR_RETURN(std::string journal, crypto::FromHex(till.journal_id()));
    stmt.Bind(1, till.device_id()).BindBlob(2, journal);
    stmt.Bind(3, static_cast<int64_t>(till.first_seq()));
    stmt.Bind(4, static_cast<int64_t>(till.last_seq())).Bind(5, z.business_day());
    uint64_t n = 0;
    while (true) {
      SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      SN_ASSIGN_OR_RETURN(crypto::Hash hash, crypto::HashFromBytes(stmt.BlobView(1)));
      if (rehash) {
        SN_ASSIGN_OR_RETURN(crypto::Hash prev, crypto::HashFromBytes(stmt.BlobView(2)));
        if (EventHash(prev, stmt.BlobView(3), stmt.BlobView(4)) != hash) {
          return Status::Corruption(till.device_id() + " seq " + std::to_string(stmt.Int(0)) +
                                    ": its stored bytes do not give its hash (altered)");
        }
      }
      leaves.push_back(merkle::LeafHash(crypto::Bytes(hash.data(), hash.size())));
      ++n;
    }
    stmt.Reset();
    if (n != till.event_count()) {
      return Status::Corruption(till.device_id() + " " + z.business_day() + ": the Z counts " +
                                std::to_string(till.event_count()) + " events, fog.db has " +
                                std::to_string(n));
    }
  }
  return leaves;
}

Result<std::vector<ProofStep>> ProveReceipt(const ReceiptQuery& q) {
  sql::OpenOptions options;
  options.create = false;
  options.read_only = true;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, sql::Db::Open(q.data_dir + "/fog.db", options));
  std::string fog_hex = q.fog_key;
  if (fog_hex.empty()) {
    std::ifstream in(q.data_dir + "/fog.pub");
    if (!(in >> fog_hex)) return Status::NotFound("cannot read " + q.data_dir + "/fog.pub");
  }
  SN_ASSIGN_OR_RETURN(crypto::PublicKey fog_key, KeyFromHex(fog_hex, "the fog key"));
  std::optional<crypto::PublicKey> ledger_key;
  if (!q.ledger_key.empty()) {
    SN_ASSIGN_OR_RETURN(ledger_key, KeyFromHex(q.ledger_key, "the ledger key"));
  } else {
    SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                        db->Prepare("SELECT ledger_public_key FROM ledger_state WHERE id = 1"));
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      SN_ASSIGN_OR_RETURN(ledger_key, crypto::HashFromBytes(stmt.BlobView(0)));
    }
  }
  SN_ASSIGN_OR_RETURN(StoredEvent sale, FindSale(*db, q.device_id, q.receipt_no));

  std::vector<ProofStep> steps;
  for (const char* name : {"event", "z-merkle", "z-signature", "ledger-inclusion", "tree-head"}) {
    ProofStep& step = steps.emplace_back();
    step.number = static_cast<int>(steps.size());
    step.name = name;
  }
  uint64_t z_number = 0;
  std::string z_bytes;
  v1::LedgerReceipt receipt;
  const std::vector<std::function<Status(std::string*)>> checks = {
      [&](std::string* d) { return CheckEvent(*db, q, sale, d); },
      [&](std::string* d) { return CheckInZ(*db, q, sale, &z_number, d); },
      [&](std::string* d) { return CheckZChain(*db, fog_key, z_number, &z_bytes, d); },
      [&](std::string* d) -> Status {
        SN_ASSIGN_OR_RETURN(receipt, StoredReceipt(*db, z_number));
        SN_RETURN_IF_ERROR(ledger::VerifyZInclusion(receipt, z_bytes));
        *d = "leaf " + std::to_string(receipt.leaf_index()) + " of " +
             std::to_string(receipt.tree_size()) + ", root " + Short(receipt.root());
        return Status::Ok();
      },
      [&](std::string* d) -> Status {
        if (!ledger_key) return Status::NotFound("no trusted ledger key (pass --ledger-key)");
        SN_ASSIGN_OR_RETURN(v1::TreeHead head, ledger::VerifyReceiptHead(receipt, *ledger_key));
        *d = "tree head of " + std::to_string(head.tree_size()) + " leaves by ledger '" +
             head.ledger_id() + "', signed by " + crypto::Fingerprint(*ledger_key);
        return Status::Ok();
      }};
  for (size_t i = 0; i < steps.size(); ++i) {
    Status s = checks[i](&steps[i].detail);
    steps[i].checked = true;
    steps[i].ok = s.ok();
    if (!s.ok()) {
      steps[i].detail = s.message();
      break;
    }
  }
  return steps;
}

}  // namespace storenode::fog
