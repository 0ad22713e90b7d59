// The store settings: the fog issues the store's terms from fog.toml
// [store] (name, zone, day start, currency, tax table) to its tills as a
// versioned, signed document (schemas/settings.proto), and checks every
// till's events against the version they name.
//
// NOTES ON THE DESIGN
//  1. At start the document made from the config is compared with the newest
//     issued one, all but version and issue time. When it differs it is
//     issued as the next version, in one transaction with its action
//     journal entry, provided it only adds tax entries
//     (settings::CheckOnlyAdds): a config that edits or removes an entry
//     stops the fog with the reason, and nothing is issued.
//  2. The newest version is retained on sn/v1/{store}/settings (published
//     after every (re)connect and reassert) and written to
//     data.dir/settings.pb, which `storectl provision till --settings` copies
//     for a new till. Tills apply it offline at their own clock.
//  3. Every version stays: CheckEvent judges an event by the version it
//     names. A sale's or void's line must carry the rate in force at the
//     event's wall time, a refund's one of the code's rates in force by then
//     (the rate of the sale it refunds), and each line the code's name.
//     Events of version 0 (journals from before settings) are not checked.
//
// Owns settings_versions. Worker thread only.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "action_journal.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {

class SettingsIssuer {
 public:
  SettingsIssuer(sql::Db& db, const Config& config, const Clock& clock, ActionJournal& actions,
                 const crypto::SigningKey& key)
      : db_(db), config_(config), clock_(clock), actions_(actions), key_(key) {}
  // Loads every issued version and issues the config's terms when they
  // changed (invariant 1).
  Status Load();

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
  v1::StoreSettings FromConfig() const;

  sql::Db& db_;
  const Config& config_;
  const Clock& clock_;
  ActionJournal& actions_;
  const crypto::SigningKey& key_;
  std::map<uint64_t, Issued> versions_;
  std::optional<settings::Calendar> calendar_;
};

}  // namespace storenode::fog
