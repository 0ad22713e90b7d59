#include "store.h"

#include <cstring>

namespace storenode::fog {

Result<std::map<std::string, Device>> LoadDevices(sql::Db& db) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("SELECT device_id, journal_id, public_key, key_source, acked_seq, "
                                 "head_hash, pending_journal_id, pending_public_key, "
                                 "first_seen_us, last_event_us, verified_seq FROM devices"));
  std::map<std::string, Device> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    Device d;
    d.device_id = stmt.Text(0);
    d.journal_id = stmt.Blob(1);
    std::string key = stmt.Blob(2);
    if (key.size() != 32) return Status::Corruption("device " + d.device_id + ": bad key size");
    std::memcpy(d.key.data(), key.data(), 32);
    d.key_source = stmt.Text(3);
    d.acked_seq = static_cast<uint64_t>(stmt.Int(4));
    SN_ASSIGN_OR_RETURN(d.head_hash, crypto::HashFromBytes(stmt.BlobView(5)));
    d.pending_journal_id = stmt.Blob(6);
    d.pending_key = stmt.Blob(7);
    d.first_seen_us = stmt.Int(8);
    d.last_event_us = stmt.Int(9);
    d.verified_seq = static_cast<uint64_t>(stmt.Int(10));
    out[d.device_id] = std::move(d);
  }
  return out;
}

Status SaveDevice(sql::Db& db, const Device& d) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("INSERT OR REPLACE INTO devices(device_id, journal_id, "
                                 "public_key, key_source, acked_seq, head_hash, "
                                 "pending_journal_id, pending_public_key, first_seen_us, "
                                 "last_event_us, verified_seq) VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
  stmt.Bind(1, d.device_id).BindBlob(2, d.journal_id).BindBlob(3, d.key.data(), d.key.size());
  stmt.Bind(4, d.key_source).Bind(5, static_cast<int64_t>(d.acked_seq));
  stmt.BindBlob(6, d.head_hash.data(), d.head_hash.size());
  if (d.pending_journal_id.empty()) {
    stmt.BindNull(7).BindNull(8);
  } else {
    stmt.BindBlob(7, d.pending_journal_id).BindBlob(8, d.pending_key);
  }
  stmt.Bind(9, d.first_seen_us).Bind(10, d.last_event_us);
  stmt.Bind(11, static_cast<int64_t>(d.verified_seq));
  SN_RETURN_IF_ERROR(stmt.Run());
  SN_ASSIGN_OR_RETURN(sql::Stmt journal,
                      db.Prepare("INSERT OR IGNORE INTO journals(device_id, journal_id, "
                                 "public_key, accepted_us) VALUES(?,?,?,?)"));
  journal.Bind(1, d.device_id).BindBlob(2, d.journal_id).BindBlob(3, d.key.data(), d.key.size());
  journal.Bind(4, d.first_seen_us);
  return journal.Run();
}

}  // namespace storenode::fog
