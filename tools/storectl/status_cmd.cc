// storectl status: the fog's view of the store, one row per till.
//
//   storectl status [--json] [--config FILE] [--store S] [--broker URI ...]
//
// Every figure comes from the fog's answer (FogRequest.status); ages are
// measured against the fog's clock (StoreStatus.time_us). The table fits 80
// columns: a till's key fingerprint and state go on a second line.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/clock.h"

namespace storenode::storectl {
namespace {

struct StatusArgs {
  FogFlags fog;
  bool json = false;
};

constexpr size_t kMinIdWidth = 4;
constexpr size_t kMaxIdWidth = 16;  // the other columns take 63 of the 80

// "42s", "17m", "5h", "3d": a span of microseconds, coarse enough to read at
// a glance. Negative spans (clocks apart) count as 0.
std::string Span(int64_t us) {
  const int64_t s = std::max<int64_t>(us, 0) / 1'000'000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 60 * 60) return std::to_string(s / 60) + "m";
  if (s < 48 * 60 * 60) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string Left(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string Right(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// The columns after the till id, header or figures.
std::string Columns(const std::string& status, const std::string& seen, const std::string& acked,
                    const std::string& head, const std::string& backlog,
                    const std::string& unsynced, const std::string& quarantined) {
  return Left(status, 7) + "  " + Left(seen, 8) + " " + Right(acked, 9) + " " + Right(head, 9) +
         " " + Right(backlog, 8) + " " + Right(unsynced, 8) + " " + Right(quarantined, 5);
}

// "Ledger: connected to URI, backlog 0. Last receipt: Z 3, leaf 41 of 42, 5m ago."
std::string FormatLedger(const v1::LedgerStatus& l, int64_t now_us) {
  std::string out = "Ledger: ";
  if (!l.enabled()) {
    out += "not configured";
  } else {
    out += (l.connected() ? "connected to " : "offline, ") + l.uri();
  }
  out += ", backlog " + std::to_string(l.backlog());
  if (l.backlog() > 0) out += " (next Z " + std::to_string(l.next_z_number()) + ")";
  out += ".";
  if (l.last_z_number() > 0) {
    out += " Last receipt: Z " + std::to_string(l.last_z_number()) + ", leaf " +
           std::to_string(l.last_leaf_index()) + " of " + std::to_string(l.last_tree_size()) +
           ", " + Span(now_us - l.last_receipt_us()) + " ago.";
  }
  out += "\n";
  if (!l.last_error().empty()) out += "Ledger error: " + l.last_error() + "\n";
  if (l.alerts() > 0) out += "Ledger alerts: " + std::to_string(l.alerts()) + "\n";
  return out;
}

// "Catalog: version 7 at the fog, 2 of 3 tills current; behind: till-3 (v5)."
// `of` is the version a till reports of the same document.
std::string FormatVersions(const std::string& what, uint64_t fog_version, const v1::StoreStatus& s,
                           uint64_t (v1::TillStatus::*of)() const) {
  if (fog_version == 0) return what + ": none imported yet.\n";
  std::string behind;
  int current = 0;
  for (const v1::TillStatus& t : s.tills()) {
    if ((t.*of)() == fog_version) {
      ++current;
    } else {
      behind +=
          (behind.empty() ? "" : ", ") + t.device_id() + " (v" + std::to_string((t.*of)()) + ")";
    }
  }
  return what + ": version " + std::to_string(fog_version) + " at the fog, " +
         std::to_string(current) + " of " + std::to_string(s.tills_size()) + " tills current" +
         (behind.empty() ? "" : "; behind: " + behind) + ".\n";
}

std::string FormatStatus(const v1::StoreStatus& s) {
  size_t id_width = kMinIdWidth;
  size_t online = 0;
  for (const v1::TillStatus& t : s.tills()) {
    id_width = std::clamp(t.device_id().size(), id_width, kMaxIdWidth);
    if (t.online()) ++online;
  }
  std::string out = "Store " + s.store_id() + " at " + IsoTime(s.time_us()) + " (fog " +
                    s.software_version() + "): " + std::to_string(s.tills_size()) + " tills, " +
                    std::to_string(online) + " online\n";
  out += Left("TILL", id_width) + "  " +
         Columns("STATUS", "SEEN", "ACKED", "HEAD", "BACKLOG", "UNSYNCED", "QUAR") + "\n";
  for (const v1::TillStatus& t : s.tills()) {
    // An id too long for its column gets a line of its own.
    if (t.device_id().size() > id_width) out += t.device_id() + "\n";
    const std::string id = t.device_id().size() > id_width ? "" : t.device_id();
    const std::string seen =
        t.last_seen_us() > 0 ? Span(s.time_us() - t.last_seen_us()) + " ago" : "never";
    const std::string unsynced = t.backlog() > 0 && t.oldest_unacked_us() > 0
                                     ? Span(s.time_us() - t.oldest_unacked_us())
                                     : "-";
    out += Left(id, id_width) + "  " +
           Columns(t.online() ? "online" : "offline", seen, std::to_string(t.acked_seq()),
                   std::to_string(t.head_seq()), std::to_string(t.backlog()), unsynced,
                   std::to_string(t.quarantined())) +
           "\n";
    std::string detail = t.state();
    if (!t.key_fingerprint().empty()) detail += ", key " + t.key_fingerprint();
    if (s.catalog_version() > 0) {
      detail += ", catalog v" + std::to_string(t.catalog_version());
      if (t.catalog_version() != s.catalog_version()) detail += " (behind)";
    }
    out += std::string(id_width + 2, ' ') + detail + "\n";
  }
  out += FormatVersions("Settings", s.settings_version(), s, &v1::TillStatus::settings_version);
  out += FormatVersions("Catalog", s.catalog_version(), s, &v1::TillStatus::catalog_version);
  out += "Quarantine: " + std::to_string(s.quarantine_count()) +
         " entries. Events stored: " + std::to_string(s.events_stored()) + ".\n";
  return out + FormatLedger(s.ledger(), s.time_us());
}

int ShowStatus(const StatusArgs& a) {
  v1::FogRequest request;
  request.mutable_status();
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  if (a.json) {
    std::cout << tools::JsonPretty(response.status());
  } else {
    std::cout << FormatStatus(response.status());
  }
  return kExitOk;
}

}  // namespace

void AddStatusCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* status = app.add_subcommand(
      "status",
      "ask the fog how the store's tills are doing: online, last seen, acked and head seq, "
      "backlog, age of the oldest unsynced event (UNSYNCED), key, state, quarantined entries, "
      "catalog version and which tills are behind");
  AddFogOptions(status, &args->fog);
  status->add_flag("--json", args->json, "print the fog's StoreStatus as JSON");
  status->callback([args, exit_code] { *exit_code = ShowStatus(*args); });
}

}  // namespace storenode::storectl
