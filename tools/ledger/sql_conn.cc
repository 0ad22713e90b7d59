#include "ledger/sql_conn.h"

#include <endian.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "storenode/common/sqlite.h"

namespace storenode::ledger {
namespace {

const std::string kEmpty;

class SqliteConn final : public SqlConn {
 public:
  explicit SqliteConn(std::unique_ptr<sql::Db> db) : db_(std::move(db)) {}
  ~SqliteConn() override {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
  }

  Status Script(std::string_view sql) override { return db_->Exec(sql); }

  Status Run(std::string_view sql, std::span<const SqlValue> args,
             const std::function<void(const SqlRow&)>& on_row) override {
    sqlite3_stmt* st = nullptr;
    auto it = stmts_.find(std::string(sql));
    if (it != stmts_.end()) {
      st = it->second;
    } else {
      if (sqlite3_prepare_v3(db_->raw(), sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
        return db_->Error("prepare");
      }
      stmts_.emplace(std::string(sql), st);
    }
    return Exec(st, args, on_row);
  }

  Status RunOnce(std::string_view sql, std::span<const SqlValue> args,
                 const std::function<void(const SqlRow&)>& on_row) override {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_->raw(), sql.data(), static_cast<int>(sql.size()), &st, nullptr) !=
        SQLITE_OK) {
      return db_->Error("prepare");
    }
    Status s = Exec(st, args, on_row);
    sqlite3_finalize(st);
    return s;
  }

  Status Begin() override { return db_->Exec("BEGIN IMMEDIATE"); }
  Status Commit() override {
    Status s = db_->Exec("COMMIT");
    if (!s.ok()) Rollback();
    return s;
  }
  void Rollback() override {
    if (!sqlite3_get_autocommit(db_->raw())) (void)db_->Exec("ROLLBACK");
  }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  std::string name() const override { return db_->path(); }

 private:
  Status Exec(sqlite3_stmt* st, std::span<const SqlValue> args,
              const std::function<void(const SqlRow&)>& on_row) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < args.size(); ++i) {
      const int n = static_cast<int>(i + 1);
      const SqlValue& v = args[i];
      if (auto* x = std::get_if<int64_t>(&v)) {
        sqlite3_bind_int64(st, n, *x);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        sqlite3_bind_text(st, n, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else if (auto* b = std::get_if<SqlBlob>(&v)) {
        sqlite3_bind_blob(st, n, b->bytes.data(), static_cast<int>(b->bytes.size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_null(st, n);
      }
    }
    std::vector<SqlValue> row;
    while (true) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status s = db_->Error("step");
        sqlite3_reset(st);
        return s;
      }
      if (!on_row) continue;
      const int cols = sqlite3_column_count(st);
      row.assign(cols, SqlNull{});
      for (int c = 0; c < cols; ++c) {
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_INTEGER:
            row[c] = static_cast<int64_t>(sqlite3_column_int64(st, c));
            break;
          case SQLITE_NULL:
            break;
          default: {
            const void* p = sqlite3_column_blob(st, c);
            const int len = sqlite3_column_bytes(st, c);
            std::string bytes(p ? static_cast<const char*>(p) : "", len);
            if (sqlite3_column_type(st, c) == SQLITE_BLOB) {
              row[c] = SqlBlob{std::move(bytes)};
            } else {
              row[c] = std::move(bytes);
            }
          }
        }
      }
      on_row(SqlRow(row));
    }
    sqlite3_reset(st);
    return Status::Ok();
  }

  std::unique_ptr<sql::Db> db_;
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;
};

// PostgreSQL type oids the ledger reads (pg_type.h).
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
              kTextOid = 25;

// SQLSTATEs that mean "try again": the connection (class 08), the server
// shutting down (57P01..3), serialization and deadlock (40001, 40P01), a lock
// not available (55P03), an idle transaction ended (25P03), and a unique
// key another transaction committed meanwhile (23505: two workers storing a
// new store's first Z at once; the batch is stored again and then finds it).
bool Transient(const char* state) {
  if (state == nullptr) return true;  // no result at all: the connection is gone
  const std::string_view s(state);
  return s.starts_with("08") || s.starts_with("57P") || s == "40001" || s == "40P01" ||
         s == "55P03" || s == "25P03" || s == "23505";
}

class PgConn final : public SqlConn {
 public:
  PgConn(std::string conninfo, int idle_ms) : conninfo_(std::move(conninfo)), idle_ms_(idle_ms) {}
  ~PgConn() override {
    if (pg_) PQfinish(pg_);
  }

  Status Connect() {
    if (pg_) PQfinish(pg_);
    stmts_.clear();
    in_txn_ = false;
    pg_ = PQconnectdb(conninfo_.c_str());
    if (PQstatus(pg_) != CONNECTION_OK) {
      std::string why = PQerrorMessage(pg_);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      return Status::Unavailable("postgresql: " + OneLine(why));
    }
    const std::string set =
        "SET idle_in_transaction_session_timeout = " + std::to_string(idle_ms_) +
        "; SET client_min_messages = warning";
    return Script(set);
  }

  Status Script(std::string_view sql) override {
    SN_RETURN_IF_ERROR(Ready());
    PGresult* r = PQexec(pg_, std::string(sql).c_str());
    Status s = Check(r, "script");
    PQclear(r);
    return s;
  }

  Status Run(std::string_view sql, std::span<const SqlValue> args,
             const std::function<void(const SqlRow&)>& on_row) override {
    return Exec(sql, args, on_row, true);
  }
  Status RunOnce(std::string_view sql, std::span<const SqlValue> args,
                 const std::function<void(const SqlRow&)>& on_row) override {
    return Exec(sql, args, on_row, false);
  }

  Status Begin() override {
    Status s = Script("BEGIN");
    in_txn_ = s.ok();
    return s;
  }
  Status Commit() override {
    Status s = Script("COMMIT");
    in_txn_ = false;
    return s;
  }
  void Rollback() override {
    in_txn_ = false;
    if (pg_ && PQstatus(pg_) == CONNECTION_OK) PQclear(PQexec(pg_, "ROLLBACK"));
  }
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  std::string name() const override {
    if (!pg_) return "postgresql";
    return std::string("postgresql ") + PQhost(pg_) + ":" + PQport(pg_) + "/" + PQdb(pg_);
  }

 private:
  // `prepare`: once per connection (PQprepare), else parsed with this run
  // (PQexecParams).
  Status Exec(std::string_view sql, std::span<const SqlValue> args,
              const std::function<void(const SqlRow&)>& on_row, bool prepare) {
    SN_RETURN_IF_ERROR(Ready());
    std::vector<const char*> values(args.size());
    std::vector<int> lengths(args.size()), formats(args.size());
    std::vector<std::string> ints(args.size());
    std::vector<Oid> types(args.size(), 0);
    for (size_t i = 0; i < args.size(); ++i) {
      const SqlValue& v = args[i];
      if (auto* x = std::get_if<int64_t>(&v)) {
        ints[i] = std::to_string(*x);
        values[i] = ints[i].c_str();
        types[i] = kInt8Oid;
      } else if (auto* s = std::get_if<std::string>(&v)) {
        values[i] = s->c_str();
        types[i] = kTextOid;
      } else if (auto* b = std::get_if<SqlBlob>(&v)) {
        values[i] = b->bytes.data();
        lengths[i] = static_cast<int>(b->bytes.size());
        formats[i] = 1;
        types[i] = kByteaOid;
      }
    }
    PGresult* r = nullptr;
    if (prepare) {
      auto it = stmts_.find(std::string(sql));
      if (it == stmts_.end()) {
        const std::string name = "s" + std::to_string(stmts_.size() + 1);
        PGresult* p = PQprepare(pg_, name.c_str(), Numbered(sql).c_str(),
                                static_cast<int>(args.size()), types.data());
        Status s = Check(p, "prepare");
        PQclear(p);
        SN_RETURN_IF_ERROR(s);
        it = stmts_.emplace(std::string(sql), name).first;
      }
      r = PQexecPrepared(pg_, it->second.c_str(), static_cast<int>(args.size()), values.data(),
                         lengths.data(), formats.data(), 1);
    } else {
      r = PQexecParams(pg_, Numbered(sql).c_str(), static_cast<int>(args.size()), types.data(),
                       values.data(), lengths.data(), formats.data(), 1);
    }
    Status s = Check(r, "query");
    if (s.ok() && on_row) {
      const int rows = PQntuples(r), cols = PQnfields(r);
      std::vector<SqlValue> row(cols);
      for (int i = 0; i < rows; ++i) {
        for (int c = 0; c < cols; ++c) row[c] = Decode(r, i, c);
        on_row(SqlRow(row));
      }
    }
    PQclear(r);
    return s;
  }

  static std::string OneLine(std::string s) {
    for (char& c : s) {
      if (c == '\n') c = ' ';
    }
    return s;
  }

  // A lost connection is made again, outside a transaction only: inside
  // one, the transaction is gone and the caller must start over.
  Status Ready() {
    if (pg_ && PQstatus(pg_) == CONNECTION_OK) return Status::Ok();
    if (in_txn_) return Status::Unavailable("postgresql: the connection was lost");
    return Connect();
  }

  Status Check(PGresult* r, const char* what) {
    const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(pg_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    msg = "postgresql " + std::string(what) + ": " + OneLine(msg);
    if (Transient(state) || PQstatus(pg_) != CONNECTION_OK) {
      if (PQstatus(pg_) != CONNECTION_OK) stmts_.clear();
      return Status::Unavailable(msg);
    }
    return Status::Invalid(msg);
  }

  // `?` -> $1, $2 ... (the ledger's SQL has no `?` in literals).
  static std::string Numbered(std::string_view sql) {
    std::string out;
    int n = 0;
    for (char c : sql) {
      if (c == '?') {
        out += "$" + std::to_string(++n);
      } else {
        out += c;
      }
    }
    return out;
  }

  static SqlValue Decode(PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col)) return SqlNull{};
    const char* p = PQgetvalue(r, row, col);
    const int len = PQgetlength(r, row, col);
    switch (PQftype(r, col)) {
      case kInt8Oid: {
        uint64_t v;
        std::memcpy(&v, p, 8);
        return static_cast<int64_t>(be64toh(v));
      }
      case kInt4Oid: {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return static_cast<int64_t>(static_cast<int32_t>(be32toh(v)));
      }
      case kInt2Oid: {
        uint16_t v;
        std::memcpy(&v, p, 2);
        return static_cast<int64_t>(static_cast<int16_t>(be16toh(v)));
      }
      case kBoolOid:
        return static_cast<int64_t>(p[0] != 0);
      case kByteaOid:
        return SqlBlob{std::string(p, len)};
      default:  // text, varchar: binary is the text itself
        return std::string(p, len);
    }
  }

  const std::string conninfo_;
  const int idle_ms_;
  PGconn* pg_ = nullptr;
  bool in_txn_ = false;
  std::unordered_map<std::string, std::string> stmts_;  // SQL -> prepared name
};

}  // namespace

std::string Placeholders(size_t rows, size_t width) {
  std::string group = width == 1 ? "?" : "(?";
  for (size_t c = 1; c < width; ++c) group += ", ?";
  if (width != 1) group += ")";
  std::string out;
  out.reserve(rows * (group.size() + 2));
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) out += ", ";
    out += group;
  }
  return out;
}

void SqlRows::Add(std::string key, std::span<const SqlValue> row) {
  values.insert(values.end(), row.begin(), row.end());
  keys.push_back(std::move(key));
}

Status RunRows(SqlConn& db, std::string_view head, const SqlRows& rows, std::string_view tail) {
  // Under SQLite's default limit of 32766 parameters (PostgreSQL's is 65535).
  constexpr size_t kMaxParams = 30000;
  const size_t per_statement = std::max<size_t>(1, kMaxParams / rows.width);
  // Round k holds the (k+1)-th row of each key.
  std::vector<std::vector<size_t>> rounds;
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t k = seen[rows.keys[i]]++;
    if (k == rounds.size()) rounds.emplace_back();
    rounds[k].push_back(i);
  }
  std::vector<SqlValue> args;
  for (const std::vector<size_t>& round : rounds) {
    for (size_t from = 0; from < round.size(); from += per_statement) {
      const size_t n = std::min(per_statement, round.size() - from);
      args.clear();
      for (size_t j = from; j < from + n; ++j) {
        const auto row = rows.values.begin() + static_cast<ptrdiff_t>(round[j] * rows.width);
        args.insert(args.end(), row, row + static_cast<ptrdiff_t>(rows.width));
      }
      const std::string sql = std::string(head) + " " + Placeholders(n, rows.width) +
                              (tail.empty() ? "" : " ") + std::string(tail);
      SN_RETURN_IF_ERROR(db.RunOnce(sql, args));
    }
  }
  return Status::Ok();
}

int64_t SqlRow::Int(int col) const {
  const SqlValue& v = cols_[col];
  if (auto* x = std::get_if<int64_t>(&v)) return *x;
  return 0;
}

const std::string& SqlRow::Str(int col) const {
  const SqlValue& v = cols_[col];
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<SqlBlob>(&v)) return b->bytes;
  return kEmpty;
}

Result<int64_t> SqlConn::QueryInt(std::string_view sql, std::span<const SqlValue> args,
                                  int64_t fallback) {
  int64_t out = fallback;
  bool first = true;
  SN_RETURN_IF_ERROR(Run(sql, args, [&](const SqlRow& r) {
    if (first && !r.IsNull(0)) out = r.Int(0);
    first = false;
  }));
  return out;
}

Result<std::unique_ptr<SqlConn>> OpenSqlite(const std::string& path, SqliteConnOptions options) {
  sql::OpenOptions o;
  o.wal = true;
  o.sync = sql::Sync::kFull;
  o.create = !options.read_only;
  o.read_only = options.read_only;
  o.vfs = options.vfs;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, sql::Db::Open(path, o));
  return std::unique_ptr<SqlConn>(new SqliteConn(std::move(db)));
}

Result<std::unique_ptr<SqlConn>> OpenPostgres(const std::string& conninfo,
                                              int idle_txn_timeout_ms) {
  auto conn = std::make_unique<PgConn>(conninfo, idle_txn_timeout_ms);
  SN_RETURN_IF_ERROR(conn->Connect());
  return std::unique_ptr<SqlConn>(std::move(conn));
}

bool IsPostgres(std::string_view target) {
  return target.starts_with("postgresql://") || target.starts_with("postgres://") ||
         target.find("dbname=") != std::string_view::npos ||
         target.find("host=") != std::string_view::npos;
}

}  // namespace storenode::ledger
