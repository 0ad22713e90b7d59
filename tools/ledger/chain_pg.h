// The chain read models' seams (chain_models.h SqlExec, SqlQuery) over one
// PostgreSQL connection (libpq), for `storectl chain --pg` and the tests. The
// ledger's own PostgreSQL backend may keep its connection and plug the same
// kind of functions in; PgPlaceholders() is the one rewrite both need.
//
// Parameters go as text (blobs as binary), results come back as text and
// are typed by their column: int2/int4/int8/numeric as int64, bytea as a
// blob, the rest as text. A PgChainConnection is one PGconn: one thread at a
// time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ledger/chain_models.h"
#include "storenode/common/status.h"

struct pg_conn;

namespace storenode::ledger {

// `?` -> $1, $2, ... in order. The chain's SQL has no `?` inside literals
// (chain_models.h, note 4), so every `?` is a placeholder.
std::string PgPlaceholders(std::string_view sql);

class PgChainConnection {
 public:
  // Connects; with `read_only` every transaction of the session is read-only
  // (default_transaction_read_only), as a report must be.
  static Result<std::unique_ptr<PgChainConnection>> Connect(const std::string& conninfo,
                                                            bool read_only);
  ~PgChainConnection();
  PgChainConnection(const PgChainConnection&) = delete;
  PgChainConnection& operator=(const PgChainConnection&) = delete;

  // Statements without parameters, several at once (kChainSchemaPg, BEGIN, COMMIT).
  Status Script(std::string_view sql);
  // The seams; they must not outlive this connection.
  SqlExec Exec();
  SqlQuery Query();

 private:
  explicit PgChainConnection(pg_conn* conn) : conn_(conn) {}
  Status Run(std::string_view sql, std::span<const SqlArg> args,
             const std::function<void(std::span<const SqlArg>)>* on_row);

  pg_conn* conn_;
};

}  // namespace storenode::ledger
