#include "ledger/chain_pg.h"

#include <libpq-fe.h>

#include <charconv>
#include <vector>

namespace storenode::ledger {
namespace {

// Column types from pg_type.h (catalog OIDs, fixed across versions).
constexpr Oid kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kNumeric = 1700;

struct ClearResult {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ClearResult>;

// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running..."); a Status is one line.
std::string OneLine(const char* message) {
  std::string out;
  for (const char* p = message == nullptr ? "" : message; *p != '\0'; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : *p;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string PgPlaceholders(std::string_view sql) {
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

Result<std::unique_ptr<PgChainConnection>> PgChainConnection::Connect(const std::string& conninfo,
                                                                      bool read_only) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    Status s = Status::Unavailable("PostgreSQL: " + OneLine(PQerrorMessage(conn)));
    PQfinish(conn);
    return s;
  }
  // Notices ("relation ... already exists, skipping") are not errors and
  // must not reach a report's stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgChainConnection> c(new PgChainConnection(conn));
  if (read_only) SN_RETURN_IF_ERROR(c->Script("SET default_transaction_read_only = on"));
  return c;
}

PgChainConnection::~PgChainConnection() { PQfinish(conn_); }

Status PgChainConnection::Script(std::string_view sql) {
  PgResult r(PQexec(conn_, std::string(sql).c_str()));
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return Status::Io("PostgreSQL: " + OneLine(PQresultErrorMessage(r.get())));
  }
  return Status::Ok();
}

Status PgChainConnection::Run(std::string_view sql, std::span<const SqlArg> args,
                              const std::function<void(std::span<const SqlArg>)>* on_row) {
  std::vector<std::string> texts(args.size());
  std::vector<const char*> values(args.size());
  std::vector<int> lengths(args.size()), formats(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    if (const int64_t* n = std::get_if<int64_t>(&args[i].v)) {
      texts[i] = std::to_string(*n);
    } else {
      texts[i] = std::get<std::string>(args[i].v);
    }
    values[i] = texts[i].c_str();
    lengths[i] = static_cast<int>(texts[i].size());
    formats[i] = args[i].blob ? 1 : 0;
  }
  const std::string text = PgPlaceholders(sql);
  PgResult r(PQexecParams(conn_, text.c_str(), static_cast<int>(args.size()), nullptr,
                          values.data(), lengths.data(), formats.data(), 0));
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return Status::Io("PostgreSQL: " + OneLine(PQresultErrorMessage(r.get())));
  }
  if (on_row == nullptr) return Status::Ok();
  const int cols = PQnfields(r.get());
  std::vector<SqlArg> row(cols);
  for (int t = 0; t < PQntuples(r.get()); ++t) {
    for (int c = 0; c < cols; ++c) {
      const char* v = PQgetvalue(r.get(), t, c);
      const Oid type = PQftype(r.get(), c);
      row[c] = SqlArg{};
      if (type == kInt8 || type == kInt4 || type == kInt2 || type == kNumeric) {
        int64_t n = 0;
        std::from_chars(v, v + PQgetlength(r.get(), t, c), n);
        row[c].v = n;
      } else if (type == kBytea) {
        size_t size = 0;
        unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &size);
        row[c].v = std::string(reinterpret_cast<const char*>(bytes), size);
        row[c].blob = true;
        PQfreemem(bytes);
      } else {
        row[c].v = std::string(v, PQgetlength(r.get(), t, c));
      }
    }
    (*on_row)(row);
  }
  return Status::Ok();
}

SqlExec PgChainConnection::Exec() {
  return [this](std::string_view sql, std::span<const SqlArg> args) {
    return Run(sql, args, nullptr);
  };
}

SqlQuery PgChainConnection::Query() {
  return [this](std::string_view sql, std::span<const SqlArg> args,
                const std::function<void(std::span<const SqlArg>)>& on_row) {
    return Run(sql, args, &on_row);
  };
}

}  // namespace storenode::ledger
