#include "storenode/common/sqlite.h"

namespace storenode::sql {

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, OpenOptions options) {
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
  flags |= SQLITE_OPEN_NOMUTEX;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags,
                           options.vfs.empty() ? nullptr : options.vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return Status::Io("cannot open " + path + ": " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  if (options.page_size > 0) {
    SN_RETURN_IF_ERROR(db->Exec("PRAGMA page_size=" + std::to_string(options.page_size)));
  }
  if (options.cache_size_kib > 0) {
    SN_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-" + std::to_string(options.cache_size_kib)));
  }
  if (!options.read_only) {
    if (options.wal) SN_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
    SN_RETURN_IF_ERROR(db->Exec(options.sync == Sync::kFull ? "PRAGMA synchronous=FULL"
                                                            : "PRAGMA synchronous=NORMAL"));
  }
  SN_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::Error(std::string_view what) const {
  return Status::Io(std::string(what) + ": " + sqlite3_errmsg(db_) + " (" + path_ + ")");
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Io("sqlite: " + msg + " in: " + s.substr(0, 80) + " (" + path_ + ")");
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return Error("prepare '" + std::string(sql.substr(0, 60)) + "'");
  }
  return Stmt(stmt, this);
}

Result<int64_t> Db::QueryInt(std::string_view sql, int64_t fallback) {
  SN_ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql));
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row || stmt.IsNull(0)) return fallback;
  return stmt.Int(0);
}

int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::Changes() const { return sqlite3_changes(db_); }

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Stmt& Stmt::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  return BindBlob(index, bytes.data(), bytes.size());
}
Stmt& Stmt::BindBlob(int index, const void* data, size_t size) {
  // A zero-length blob must still be a blob, not NULL.
  static const char kEmpty = 0;
  sqlite3_bind_blob(stmt_, index, size ? data : &kEmpty, static_cast<int>(size), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindBlobRef(int index, std::string_view bytes) {
  static const char kEmpty = 0;
  sqlite3_bind_blob(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(),
                    static_cast<int>(bytes.size()), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::BindTextRef(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error("step '" + std::string(sqlite3_sql(stmt_)).substr(0, 60) + "'");
}

Status Stmt::Run() {
  Result<bool> step = Step();
  Reset();
  if (!step.ok()) return step.status();
  if (*step) return Status::Io("statement returned a row where none was expected");
  return Status::Ok();
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string Stmt::Text(int col) const {
  auto p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : "";
}
std::string Stmt::Blob(int col) const { return std::string(BlobView(col)); }
std::string_view Stmt::BlobView(int col) const {
  auto p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view();
}
bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Transaction::Transaction(Db& db) : db_(db), begin_(db.Exec("BEGIN IMMEDIATE")) {
  done_ = !begin_.ok();
}

Transaction::~Transaction() {
  if (!done_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  if (done_) return begin_.ok() ? Status::Precondition("transaction already ended") : begin_;
  Status s = db_.Exec("COMMIT");
  if (!s.ok()) {
    // A failed COMMIT may leave the transaction open; end it so the Db stays usable.
    (void)db_.Exec("ROLLBACK");
  }
  done_ = true;
  return s;
}

Status BackupTo(Db& src, const std::string& dest_path) {
  OpenOptions o;
  o.wal = false;  // the copy takes the source's journal mode from its pages
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Db> dest, Db::Open(dest_path, o));
  SN_ASSIGN_OR_RETURN(int64_t pages, dest->QueryInt("PRAGMA page_count"));
  if (pages != 0) return Status::Invalid("backup target " + dest_path + " is not empty");
  sqlite3_backup* b = sqlite3_backup_init(dest->raw(), "main", src.raw(), "main");
  if (!b) return dest->Error("backup of " + src.path());
  // -1: every page in one step. Steps of a few pages would restart whenever
  // another connection writes, which under steady ingest may be forever.
  int rc = sqlite3_backup_step(b, -1);
  int finish = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE || finish != SQLITE_OK) {
    return Status::Io("backup of " + src.path() + " to " + dest_path + ": " +
                      sqlite3_errstr(rc != SQLITE_DONE ? rc : finish));
  }
  SN_ASSIGN_OR_RETURN(Stmt check, dest->Prepare("PRAGMA quick_check"));
  SN_ASSIGN_OR_RETURN(bool row, check.Step());
  if (!row || check.Text(0) != "ok") {
    return Status::Corruption("backup " + dest_path + " fails its check: " +
                              (row ? check.Text(0) : std::string("no answer")));
  }
  return Status::Ok();
}

Result<int> SchemaVersion(Db& db) {
  SN_ASSIGN_OR_RETURN(int64_t v, db.QueryInt("PRAGMA user_version"));
  return static_cast<int>(v);
}

Result<int> Migrate(Db& db, std::string_view name, std::span<const Migration> steps) {
  const int newest = steps.empty() ? 0 : steps.back().version;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1) {
      return Status::Invalid(std::string(name) + ": migration " + std::to_string(i + 1) +
                             " is numbered " + std::to_string(steps[i].version));
    }
  }
  auto too_new = [&](int v) {
    return Status::Precondition(std::string(name) + " " + db.path() + " has schema version " +
                                std::to_string(v) + ", newer than this software's " +
                                std::to_string(newest) +
                                ": run the software that wrote it, or restore a backup");
  };
  SN_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  // Checked before any write: a read of a newer file must not lock or touch it.
  if (version > newest) return too_new(version);
  while (version < newest) {
    sql::Transaction txn(db);
    SN_RETURN_IF_ERROR(txn.begin_status());
    // Re-read under the write lock: another process may have migrated meanwhile.
    SN_ASSIGN_OR_RETURN(version, SchemaVersion(db));
    if (version > newest) return too_new(version);
    if (version == newest) break;
    const Migration& step = steps[static_cast<size_t>(version)];
    if (Status s = db.Exec(step.sql); !s.ok()) {
      return Status::Io(std::string(name) + ": migration to schema version " +
                        std::to_string(step.version) + " failed: " + s.message());
    }
    SN_RETURN_IF_ERROR(db.Exec("PRAGMA user_version=" + std::to_string(step.version)));
    SN_RETURN_IF_ERROR(txn.Commit());
    version = step.version;
  }
  return version;
}

}  // namespace storenode::sql
