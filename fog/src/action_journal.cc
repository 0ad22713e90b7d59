#include "action_journal.h"

#include <spdlog/spdlog.h>

#include "storenode/common/journal_format.h"

namespace storenode::fog {

Status ActionJournal::Append(const std::string& manager, const std::string& kind,
                             const std::string& detail) {
  SN_ASSIGN_OR_RETURN(sql::Stmt last,
                      db_.Prepare("SELECT hash FROM actions ORDER BY seq DESC LIMIT 1"));
  SN_ASSIGN_OR_RETURN(bool any, last.Step());
  crypto::Hash prev = any ? crypto::HashFromBytes(last.BlobView(0)).value()
                          : crypto::Sha256Of("storenode-actions-v1/" + store_id_);
  int64_t at = clock_.NowMicros();
  crypto::Sha256 h;
  h.Update(crypto::Bytes(prev.data(), prev.size()));
  for (const std::string& field : {std::to_string(at), manager, kind, detail}) {
    PutLengthPrefixed(h, field);
  }
  crypto::Hash hash = h.Final();
  crypto::Signature sig = key_.Sign(crypto::Bytes(hash.data(), hash.size()));
  SN_ASSIGN_OR_RETURN(sql::Stmt ins, db_.Prepare("INSERT INTO actions(at_us, manager, kind, "
                                                 "detail, prev_hash, hash, signature) "
                                                 "VALUES(?,?,?,?,?,?,?)"));
  ins.Bind(1, at).Bind(2, manager).Bind(3, kind).Bind(4, detail);
  ins.BindBlob(5, prev.data(), 32).BindBlob(6, hash.data(), 32).BindBlob(7, sig.data(), 64);
  spdlog::info("action by {}: {} {}", manager, kind, detail);
  return ins.Run();
}

Result<int64_t> ActionJournal::Count(sql::Db& db) {
  return db.QueryInt("SELECT COUNT(*) FROM actions");
}

}  // namespace storenode::fog
