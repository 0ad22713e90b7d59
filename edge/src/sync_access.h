// The journal's and the catalog replica's sync-only calls, for the sync
// engine (sync.cc) and the tests that play its part; private in edge.h, so a
// POS cannot move the acked watermark or prune by mistake. What each call
// does is said where it is declared (edge.h, the private sections).
#pragma once

#include "storenode/common/catalog.h"
#include "storenode/edge.h"

namespace storenode::edge {

class SyncAccess {
 public:
  static Status SetAckedSeq(Journal& j, uint64_t seq) { return j.SetAckedSeq(seq); }
  static Result<uint64_t> Prune(Journal& j, int retention_days) { return j.Prune(retention_days); }
  static uint64_t AnchorSeq(const Journal& j) { return j.anchor_seq(); }
  static crypto::Hash AnchorHash(const Journal& j) { return j.anchor_hash(); }
  static int64_t WallTimeOf(const Journal& j, uint64_t seq) { return j.WallTimeOf(seq); }
  static Status Apply(CatalogReplica& replica, const catalog::Assembler& payload) {
    return replica.Apply(payload);
  }
};

}  // namespace storenode::edge
