// A thin RAII layer over SQLite: a connection, prepared statements and
// transactions. Errors come back as Status values carrying SQLite's message.
//
// A Db is one connection and, like sqlite3 itself in multi-thread mode, must
// be used by one thread at a time. storenode keeps one writer connection per
// file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::sql {

enum class Sync { kNormal, kFull };

struct OpenOptions {
  bool create = true;
  bool read_only = false;
  bool wal = true;
  Sync sync = Sync::kFull;
  int busy_timeout_ms = 5000;
  int page_size = 0;       // bytes, for a new file; 0 = SQLite's default
  int cache_size_kib = 0;  // 0 = SQLite's default
  // A registered SQLite VFS to open the file through; empty = the default.
  // The seam under the disk: tests pass tests/support/fault_vfs.h's name to
  // fail writes and syncs or cut the power.
  std::string vfs = "";  // (an initializer: designated OpenOptions{...} may omit it)
};

class Stmt;

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path, OpenOptions options = {});
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results (schema, pragmas).
  Status Exec(std::string_view sql);
  // Prepares a statement; the statement must not outlive the Db.
  Result<Stmt> Prepare(std::string_view sql);
  // Runs a query whose first row's first column is an integer; `fallback` if no row.
  Result<int64_t> QueryInt(std::string_view sql, int64_t fallback = 0);

  int64_t LastInsertRowid() const;
  int Changes() const;
  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }
  Status Error(std::string_view what) const;  // Status with SQLite's current message

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// A prepared statement. Bind parameters by 1-based index, Step(), read columns
// by 0-based index. Reset() makes it reusable; the bindings are cleared.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_), db_(other.db_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  ~Stmt();

  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, std::string_view text);  // TEXT
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindBlob(int index, const void* data, size_t size);
  Stmt& BindNull(int index);
  // Without a copy: the bytes must stay valid until the statement is stepped
  // and reset (the fog's hot insert path).
  Stmt& BindBlobRef(int index, std::string_view bytes);
  Stmt& BindTextRef(int index, std::string_view text);

  // true when a row is available, false when done.
  Result<bool> Step();
  // Steps once and expects SQLITE_DONE (INSERT/UPDATE/DELETE).
  Status Run();
  void Reset();

  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::string Blob(int col) const;
  std::string_view BlobView(int col) const;  // valid until the next Step/Reset
  bool IsNull(int col) const;

 private:
  friend class Db;
  Stmt(sqlite3_stmt* stmt, Db* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_;
  Db* db_;
};

// Steps `stmt` to its end and returns `read(stmt)` of every row, in order:
// the one loop of every typed reader.
template <typename Read>
auto Rows(Stmt& stmt, Read read) -> Result<std::vector<std::invoke_result_t<Read, Stmt&>>> {
  std::vector<std::invoke_result_t<Read, Stmt&>> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back(read(stmt));
  }
}

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit()
// succeeded. Use it for every multi-statement write.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const Status& begin_status() const { return begin_; }
  Status Commit();

 private:
  Db& db_;
  Status begin_;
  bool done_ = false;
};

// Schema versions: NOTES ON THE DESIGN
//
// Every storenode SQLite file carries its schema version in
// `PRAGMA user_version`, and one ordered list of steps per kind of file
// brings an older file up to date. Invariants:
//  1. Step i (1-based) makes version i; steps run in order, each in one
//     transaction together with the user_version it makes, so a crash leaves
//     the file at the old version or the new one, never between.
//  2. Step 1 is the schema as it was when versions were introduced, written
//     with IF NOT EXISTS: files made before then say user_version 0 and
//     already hold those tables, so step 1 adopts them as version 1 without
//     touching a row (and creates them in a new file).
//  3. A file whose version is newer than the last step is refused
//     (kFailedPrecondition) before anything is written: older software must
//     not write a format it does not know.
// Adding a change is one entry at the end of the list, e.g.
//   {2, "ALTER TABLE quarantine ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"}
// Never edit or reorder a step that has shipped.
struct Migration {
  int version;           // the version this step makes: 1, 2, 3... in order
  std::string_view sql;  // one or more statements
};

// An online, consistent copy of `src` in a new file `dest_path` (SQLite's
// backup API, all pages in one step: one read transaction, so in WAL mode
// writers go on meanwhile and the copy is the database as of one commit).
// The copy is fsynced; `dest_path` must not exist.
Status BackupTo(Db& src, const std::string& dest_path);

// The file's schema version (PRAGMA user_version).
Result<int> SchemaVersion(Db& db);
// Brings `db` to the last version of `steps`; `name` ("till journal",
// "fog.db") goes into errors. Returns the version the file now has.
Result<int> Migrate(Db& db, std::string_view name, std::span<const Migration> steps);

}  // namespace storenode::sql
