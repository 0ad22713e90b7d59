// One SQL connection the ledger's storage runs on, over either backend:
// SQLite (the embedded default, one worker) or PostgreSQL 15 through libpq
// (the chain backend, any number of workers). The ledger writes its SQL
// once, with `?` placeholders; each backend binds them its way (PostgreSQL
// numbers them $1..$n) and prepares every statement once per connection.
//
// Values are integers, text or bytes (BLOB / BYTEA), or NULL. A row is read
// through a callback, valid only during the call.
//
// A SqlConn is one connection, used by one thread at a time. Begin() opens a
// transaction: BEGIN IMMEDIATE on SQLite (the whole file is locked, so the
// row locks PostgreSQL needs are implied), BEGIN on PostgreSQL. lock_suffix()
// is " FOR UPDATE" on PostgreSQL and "" on SQLite, for the ledger's row locks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::ledger {

struct SqlNull {};
struct SqlBlob {
  std::string bytes;
};
// NULL, an integer, TEXT or bytes.
using SqlValue = std::variant<SqlNull, int64_t, std::string, SqlBlob>;

inline SqlValue Blob(std::string_view bytes) { return SqlBlob{std::string(bytes)}; }
inline SqlValue Int(uint64_t v) { return static_cast<int64_t>(v); }

// One result row: columns by 0-based index.
class SqlRow {
 public:
  explicit SqlRow(std::span<const SqlValue> cols) : cols_(cols) {}
  int64_t Int(int col) const;
  // TEXT or bytes (as stored); empty for NULL.
  const std::string& Str(int col) const;
  bool IsNull(int col) const { return std::holds_alternative<SqlNull>(cols_[col]); }
  size_t size() const { return cols_.size(); }

 private:
  std::span<const SqlValue> cols_;
};

enum class SqlDialect { kSqlite, kPostgres };

class SqlConn {
 public:
  virtual ~SqlConn() = default;
  // Runs statements without parameters or results (the schema).
  virtual Status Script(std::string_view sql) = 0;
  // Runs one statement; `on_row` gets each result row (may be empty).
  virtual Status Run(std::string_view sql, std::span<const SqlValue> args,
                     const std::function<void(const SqlRow&)>& on_row = nullptr) = 0;
  // Run, without keeping the prepared statement: for multi-row statements,
  // whose text varies with their number of rows.
  virtual Status RunOnce(std::string_view sql, std::span<const SqlValue> args,
                         const std::function<void(const SqlRow&)>& on_row = nullptr) = 0;
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  virtual SqlDialect dialect() const = 0;
  // For messages: the file, or the PostgreSQL host/port/db.
  virtual std::string name() const = 0;

  const char* lock_suffix() const {
    return dialect() == SqlDialect::kPostgres ? " FOR UPDATE" : "";
  }
  // The first row's first column as an integer, `fallback` if no row or NULL.
  Result<int64_t> QueryInt(std::string_view sql, std::span<const SqlValue> args,
                           int64_t fallback = 0);
};

// Multi-row statements: one statement (a round trip, a plan) for a batch's
// rows instead of one per row.
//
// "(?, ?), (?, ?)": `rows` groups of `width` placeholders (width 1: "?, ?").
std::string Placeholders(size_t rows, size_t width);
// Rows of `width` values (row-major) for RunRows; `keys` names each row's
// conflict key.
struct SqlRows {
  explicit SqlRows(size_t w) : width(w) {}
  // `row` has `width` values.
  void Add(std::string key, std::span<const SqlValue> row);
  size_t size() const { return keys.size(); }
  size_t width;
  std::vector<SqlValue> values;
  std::vector<std::string> keys;
};
// Runs `head` VALUES (...), (...) `tail` over `rows` (head ends with
// "VALUES", tail is e.g. an ON CONFLICT clause). Rows of one key go into
// different statements, in their order: PostgreSQL refuses an upsert that
// would change a row twice, and the outcome is that of one statement per
// row. Statements stay under both backends' parameter limits.
Status RunRows(SqlConn& db, std::string_view head, const SqlRows& rows, std::string_view tail = "");

// Rolls back on destruction unless committed: every multi-statement write.
class SqlTxn {
 public:
  explicit SqlTxn(SqlConn& conn) : conn_(conn), begin_(conn.Begin()) {}
  ~SqlTxn() {
    if (begin_.ok() && !done_) conn_.Rollback();
  }
  SqlTxn(const SqlTxn&) = delete;
  SqlTxn& operator=(const SqlTxn&) = delete;
  const Status& begin_status() const { return begin_; }
  Status Commit() {
    Status s = conn_.Commit();
    done_ = true;  // a failed COMMIT has ended the transaction too
    return s;
  }

 private:
  SqlConn& conn_;
  Status begin_;
  bool done_ = false;
};

struct SqliteConnOptions {
  bool read_only = false;
  std::string vfs = "";  // sql::OpenOptions::vfs: the fault tests' seam
};
// A SQLite file in WAL mode with synchronous FULL (created unless read_only).
Result<std::unique_ptr<SqlConn>> OpenSqlite(const std::string& path, SqliteConnOptions options);

// A PostgreSQL connection from a libpq conninfo ("host=... port=... dbname=..."
// or a postgresql:// URI). The session gets idle_in_transaction_session_timeout
// = `idle_txn_timeout_ms`, so a frozen or partitioned worker cannot keep a
// lock (the sequencer's among them) for longer than that.
Result<std::unique_ptr<SqlConn>> OpenPostgres(const std::string& conninfo,
                                              int idle_txn_timeout_ms = 2000);

// "postgresql://..." or "host=..." / "dbname=..." (a conninfo): PostgreSQL;
// anything else is a SQLite path.
bool IsPostgres(std::string_view target);

}  // namespace storenode::ledger
