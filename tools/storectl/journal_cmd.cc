// storectl journal: offline checks of one till journal file.
//
//   storectl journal verify  --db PATH
//   storectl journal dump    --db PATH [--json]
//   storectl journal xreport --db PATH [--day YYYY-MM-DD] [--json | --csv]
//   storectl journal catalog --db PATH [--sku S]...
//
// All of them read the file and need no key: the public key travels in the
// journal's genesis event. catalog reads the till's catalog replica next to
// the journal (PATH.catalog): its version and item count, and each --sku
// (or barcode) priced at this machine's clock, as the till would sell it.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/clock.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/money.h"
#include "storenode/common/report_text.h"
#include "storenode/edge.h"
#include "storenode/schemas/tools.pb.h"

namespace storenode::storectl {
namespace {

struct JournalArgs {
  std::string db;
  std::string day;
  std::vector<std::string> skus;
  bool json = false;
  bool csv = false;
};

// SQLite would quietly create a missing file; say it is missing instead.
bool JournalExists(const std::string& path, int* code) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return true;
  *code = Fail(kExitUsage, "no journal file at " + path);
  return false;
}

// Data that does not check out is a failed answer; anything else (cannot
// open, not a journal) is the caller's problem.
int CodeFor(const Status& s) { return s.code() == Code::kCorruption ? kExitFailed : kExitUsage; }

int Verify(const JournalArgs& a) {
  int code = kExitOk;
  if (!JournalExists(a.db, &code)) return code;
  const edge::VerifyReport r = edge::VerifyJournalFile(a.db);
  if (r.ok) {
    std::cout << "ok: " << r.events_checked << " events, seq " << r.first_seq << ".." << r.head_seq
              << "\n";
    return kExitOk;
  }
  if (r.first_bad_seq == 0) return Fail(kExitFailed, "cannot verify " + a.db + ": " + r.reason);
  // The chain's reasons already start with "seq N: "; say it once.
  std::string_view reason = r.reason;
  const std::string prefix = "seq " + std::to_string(r.first_bad_seq) + ": ";
  if (reason.starts_with(prefix)) reason.remove_prefix(prefix.size());
  return Fail(kExitFailed,
              "first bad seq " + std::to_string(r.first_bad_seq) + ": " + std::string(reason));
}

v1::DumpedEvent Dumped(const v1::JournalEvent& ev) {
  v1::DumpedEvent d;
  // Parse what is there even when it does not check out: a dump is for
  // looking at broken journals too.
  const bool parsed = d.mutable_header()->ParseFromString(ev.header()) &&
                      d.mutable_body()->ParseFromString(ev.body());
  d.set_seq(d.header().seq());
  d.set_prev_hash(crypto::ToHex(crypto::AsBytes(ev.prev_hash())));
  d.set_hash(crypto::ToHex(crypto::AsBytes(ev.hash())));
  d.set_signature(crypto::ToHex(crypto::AsBytes(ev.signature())));
  DecodedEvent decoded;
  Status s = DecodeEvent(ev, &decoded);
  if (!s.ok()) {
    d.set_problem(s.message());
  } else if (!parsed) {
    d.set_problem("header or body does not parse");
  }
  return d;
}

int Dump(const JournalArgs& a) {
  int code = kExitOk;
  if (!JournalExists(a.db, &code)) return code;
  auto events = edge::ReadJournalFile(a.db);
  if (!events.ok()) return Fail(CodeFor(events.status()), events.status().ToString());
  for (const v1::JournalEvent& ev : *events) {
    const v1::DumpedEvent d = Dumped(ev);
    if (a.json) {
      std::cout << tools::JsonLine(d) << "\n";
      continue;
    }
    const v1::EventHeader& h = d.header();
    std::cout << "seq " << h.seq() << "  " << h.business_day() << "  " << IsoTime(h.wall_time_us())
              << "  " << KindName(h.kind());
    if (h.receipt_no() != 0) std::cout << "  receipt " << h.receipt_no();
    std::cout << "  hash " << d.hash().substr(0, 16);
    if (!d.problem().empty()) std::cout << "  PROBLEM: " << d.problem();
    std::cout << "\n";
  }
  return kExitOk;
}

int XReport(const JournalArgs& a) {
  int code = kExitOk;
  if (!a.day.empty() && !IsValidDay(a.day)) {
    return Fail(kExitUsage, "--day '" + a.day + "' is not a day (want YYYY-MM-DD)");
  }
  if (!JournalExists(a.db, &code)) return code;
  auto days = edge::TotalsFromFile(a.db);
  if (!days.ok()) return Fail(CodeFor(days.status()), days.status().ToString());
  if (days->empty()) return Fail(kExitFailed, a.db + " has no events");
  const v1::DayTotals* totals = &days->back();  // the journal's last business day
  if (!a.day.empty()) {
    totals = nullptr;
    for (const v1::DayTotals& d : *days) {
      if (d.business_day() == a.day) totals = &d;
    }
    if (totals == nullptr) {
      return Fail(kExitUsage, a.db + " has no events on " + a.day + " (it covers " +
                                  days->front().business_day() + " .. " +
                                  days->back().business_day() + ")");
    }
  }
  if (a.json) {
    std::cout << tools::JsonPretty(*totals);
  } else if (a.csv) {
    std::cout << FormatDayTotalsCsv(*totals);
  } else {
    std::cout << FormatDayTotalsText(*totals, "X-REPORT");
  }
  return kExitOk;
}

int Catalog(const JournalArgs& a) {
  int code = kExitOk;
  const std::string path = a.db + ".catalog";
  if (!JournalExists(a.db, &code)) return code;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Fail(kExitFailed, "no catalog replica at " + path + " (the till never took one)");
  }
  auto replica = edge::CatalogReplica::Open(path);
  if (!replica.ok()) return Fail(kExitUsage, replica.status().ToString());
  std::cout << "till catalog version " << (*replica)->version() << ", " << (*replica)->item_count()
            << " items\n";
  for (const std::string& sku : a.skus) {
    auto item = (*replica)->Lookup(sku);
    if (!item.ok()) {
      std::cout << sku << "  " << item.status().message() << "\n";
      code = kExitFailed;
      continue;
    }
    std::cout << item->sku << "  " << Money(item->price).ToString() << "  tax " << item->tax_code
              << "  " << item->name << "  (version " << item->catalog_version << ")\n";
  }
  return code;
}

}  // namespace

void AddJournalCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<JournalArgs>();
  CLI::App* journal = app.add_subcommand("journal", "inspect a till journal file (offline)");
  journal->require_subcommand(1);

  CLI::App* verify =
      journal->add_subcommand("verify", "check every seq, hash and signature of a journal");
  verify->add_option("--db", args->db, "journal file")->required();
  verify->callback([args, exit_code] { *exit_code = Verify(*args); });

  CLI::App* dump = journal->add_subcommand("dump", "print every event of a journal");
  dump->add_option("--db", args->db, "journal file")->required();
  dump->add_flag("--json", args->json, "one JSON object per line per event");
  dump->callback([args, exit_code] { *exit_code = Dump(*args); });

  CLI::App* xreport =
      journal->add_subcommand("xreport", "totals of one business day, from the journal");
  xreport->add_option("--db", args->db, "journal file")->required();
  xreport->add_option("--day", args->day, "business day YYYY-MM-DD (default: the last one)");
  CLI::Option* json = xreport->add_flag("--json", args->json, "print DayTotals as JSON");
  xreport->add_flag("--csv", args->csv, "print section,key,value rows")->excludes(json);
  xreport->callback([args, exit_code] { *exit_code = XReport(*args); });

  CLI::App* catalog =
      journal->add_subcommand("catalog", "the till's catalog replica: version, and items' prices");
  catalog->add_option("--db", args->db, "journal file (the replica is FILE.catalog)")->required();
  catalog->add_option("--sku", args->skus, "a sku or barcode to price (repeatable)");
  catalog->callback([args, exit_code] { *exit_code = Catalog(*args); });
}

}  // namespace storenode::storectl
