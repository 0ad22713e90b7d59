// The store settings: the fog issues the store's terms (name, zone, day
// start, currency, tax table) to its tills as a versioned, signed document
// (schemas/settings.proto), and checks every till's events against the
// version they name. The terms come from fog.toml [store] or from head
// office (a settings release, head_office.h).
//
// NOTES ON THE DESIGN
//  1. Every version, whoever made it, is checked by settings::Check and
//     settings::CheckNext against the one before (the same store, the same
//     currency, tax entries only added) and issued in one transaction with
//     its action-journal entry; a refused one changes nothing.
//  2. Which wins, fog.toml or head office: the newest version, whoever made
//     it. fog.toml is issued only when its [store] changed since the fog
//     last issued from it: settings_fog_toml keeps the SHA-256 of those
//     terms (the document without version and issue time), written in the
//     transaction that issues them. So a release after a fog.toml change
//     stays across restarts, and a fog.toml change after a release is the
//     next version. (A fog.db without that row is from before releases:
//     its newest version is fog.toml's, and the terms are compared with it.)
//     A fog.toml change that drops or edits an entry the newest version has,
//     head office's included, stops the fog with the reason (exit 2).
//  3. The newest version is retained on sn/v1/{store}/settings (published
//     after every (re)connect and reassert, and after a release) and written
//     to data.dir/settings.pb, which `storectl provision till --settings`
//     copies for a new till. Tills apply it offline at their own clock.
//  4. Every version stays: CheckEvent judges an event by the version it
//     names. A sale's or void's line must carry the rate in force at the
//     event's wall time, a refund's one of the code's rates in force by then
//     (the rate of the sale it refunds), and each line the code's name.
//     Events of version 0 (journals from before settings) are not checked.
//  5. The rate sheet (foreign currency, common/fx.h) is not part of
//     fog.toml's terms: it comes from `storectl rates import` and every
//     later version, from fog.toml or head office, carries the sheet in
//     force unless it brings its own. CheckEvent checks foreign-cash
//     tenders, exchanges and foreign drawer movements by the same rules as
//     the till (fx::CheckForeignTender, CheckExchange,
//     CheckMovementCurrency); a version-0 event may have none of them.
//
// Owns settings_versions and settings_fog_toml. Worker thread only.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "action_journal.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

class SettingsIssuer {
 public:
  SettingsIssuer(sql::Db& db, const Config& config, const Clock& clock, ActionJournal& actions,
                 const crypto::SigningKey& key)
      : db_(db), config_(config), clock_(clock), actions_(actions), key_(key) {}
  // Loads every issued version and issues fog.toml's terms when they
  // changed (invariant 2).
  Status Load();
  // Issues head office's `terms` as the next version, `in_transaction(version)`
  // running in its transaction before the commit. Empty store_id, name,
  // address or tax_id are the current version's. Invalid, with the reason
  // naming the field or entry, when invariant 1 refuses them.
  Result<uint64_t> IssueRelease(v1::StoreSettings terms, uint64_t release_id,
                                const std::function<Status(uint64_t version)>& in_transaction);

  // `storectl rates import`: the sheet of the request (fx.h ParseRateSheet)
  // replaces the one in force, as the next version with the next
  // rate_sheet_version; an error (the line and the reason) changes nothing.
  v1::FogResponse ImportRates(const v1::RatesImportRequest& request, const std::string& actor);
  const v1::StoreSettings& current() const { return versions_.rbegin()->second.settings; }
  const settings::Calendar& calendar() const { return *calendar_; }
  // The retained document (invariant 2).
  mqtt::Message Retained() const;
  // Why `event` does not agree with its settings version; empty when it does.
  std::string CheckEvent(const DecodedEvent& event) const;

 private:
  struct Issued {
    v1::StoreSettings settings;
    std::string signed_bytes;
  };
  // The newest version in force: its calendar and data.dir/settings.pb.
  Status TakeNewest();
  // Invariant 1: checks `next`, numbers, signs and commits it, journaled
  // as "store settings version N from `from`".
  Result<uint64_t> Issue(v1::StoreSettings next, const std::string& actor,
                         const std::string& action, const std::string& from,
                         const std::function<Status(uint64_t version)>& in_transaction);

  sql::Db& db_;
  const Config& config_;
  const Clock& clock_;
  ActionJournal& actions_;
  const crypto::SigningKey& key_;
  std::map<uint64_t, Issued> versions_;
  std::optional<settings::Calendar> calendar_;
};

}  // namespace storenode::fog
