// The close-down: each business day's Z, its supplements, and the seal
// commands that wait for them. NOTES ON THE DESIGN are at the top of
// closedown.cc.
//
// Owns `closedowns`, `zreports` and the fog's signing key (fog.key, its
// public half fog.pub): closedown.cc alone writes them, and only its files
// name them (store.h, "Ownership"). The other stages read them through what
// is declared here: the forwarder through the LedgerOutbox interface, the
// reports and metrics through CloseDown's typed reads, and `storectl audit`
// (which opens fog.db itself) through ZsOf and ForEachZ.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "action_journal.h"
#include "histogram.h"
#include "ingest.h"
#include "settings.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/fog.pb.h"
#include "trust.h"

namespace storenode::fog {

// One stored Z or supplement. `z` holds its bytes, hash and signature (not
// the fog's public key).
struct StoredZ {
  uint64_t z_number = 0;
  v1::SignedZ z;
};

// Typed reads of a fog.db, each one query.
// The Zs of a business day, by part (the Z, then its supplements).
Result<std::vector<StoredZ>> ZsOf(sql::Db& db, const std::string& day);
// Zs 1 to `up_to` as stored, in Z order, one at a time to `visit` (stops at
// the first error it returns).
Status ForEachZ(sql::Db& db, uint64_t up_to, const std::function<Status(StoredZ&)>& visit);
// The highest Z number, 0 if none.
Result<uint64_t> LastZNumber(sql::Db& db);

// Loads data_dir/fog.key, or makes one for a new store (and writes fog.pub
// either way); refuses a missing key when fog.db already holds Zs or actions
// it signed.
Result<crypto::SigningKey> LoadFogKey(sql::Db& db, const std::string& data_dir);

// The ledger outbox (forwarder.h, invariant 1): the Zs after the highest one
// with a verified receipt. The forwarder sees the close-down only as this.
class LedgerOutbox {
 public:
  virtual ~LedgerOutbox() = default;
  // The lowest undelivered Z, if any.
  virtual Result<std::optional<StoredZ>> NextUndelivered() = 0;
  virtual Result<uint64_t> UndeliveredCount() = 0;
  virtual Result<uint64_t> LastZNumber() = 0;
  // The bytes of Z `z_number`, if stored.
  virtual Result<std::optional<std::string>> ZBytes(uint64_t z_number) = 0;
  // Recovery (forwarder.h, invariant 6): stores one of this fog's own Zs,
  // the next in number and chain, with what it covered.
  virtual Status Restore(const v1::SignedZ& z) = 0;
};

// The newest Z (part 0) with its close-down's first request time.
struct NewestCloseDown {
  std::string business_day;
  int64_t requested_us = 0;
  std::string z;  // its bytes
};

class CloseDown : public LedgerOutbox {
 public:
  // `recovering`: whether the forwarder still recovers the ledger's Zs
  // (forwarder.h, invariant 6); no Z or supplement is issued until it is
  // done.
  CloseDown(sql::Db& db, const Config& config, const Clock& clock, const crypto::SigningKey& key,
            Ingest& ingest, const Trust& trust, ActionJournal& actions,
            std::function<bool()> recovering);
  // Reads the open parts and waiting days, and tells ingest which part new
  // events of a day go to.
  Status Load();
  // The store's terms: its calendar says what today is, and every Z carries
  // its name, address, tax id, currency and zone (default: UTC, none).
  void SetSettings(const SettingsIssuer* settings) { settings_ = settings; }

  // A manager's close-down request: a Z now, or the day waits for seals.
  v1::FogResponse Request(const v1::FogRequest& request, const std::string& actor);
  // Closes waiting days whose tills have all sealed, and issues supplements.
  void Poll();
  // The Zs of `day` with the fog's public key.
  Result<std::vector<v1::SignedZ>> StoredZs(const std::string& day);
  Result<std::optional<NewestCloseDown>> Newest();
  // Close-downs closed since the fog started, from the first request for
  // the day to its Z (any thread).
  Histogram::Figures Durations() const { return durations_.Read(); }
  // Queues the seal commands `till` still owes, ascending: every waiting
  // day it has not sealed and the newest closed day it has not sealed
  // ("seal up to D" covers the earlier days it sold on).
  void SendOwedSeals(const std::string& till);
  // Queues every expected till's owed seals again (retained messages may
  // be lost by the broker).
  void ReassertSeals();
  // Seal commands to publish now.
  std::vector<mqtt::Message> TakeOutgoing() { return std::exchange(outgoing_, {}); }
  // The tills a close-down waits for (Trust::ExpectedTills).
  std::vector<std::string> ExpectedTills() const;

  // LedgerOutbox.
  Result<std::optional<StoredZ>> NextUndelivered() override;
  Result<uint64_t> UndeliveredCount() override;
  Result<uint64_t> LastZNumber() override { return fog::LastZNumber(db_); }
  Result<std::optional<std::string>> ZBytes(uint64_t z_number) override;
  Status Restore(const v1::SignedZ& z) override;

 private:
  // Checks every stored signature still pending before a close-down relies
  // on them (ingest.h, invariant 7), outside any transaction.
  Status CheckPendingSignatures() const;
  uint32_t PartOfDay(const std::string& day) const;
  Result<bool> TryClose(const std::string& day, const v1::CloseDownRequest& request,
                        const std::string& requested_by, v1::CloseDownResponse* response);
  Result<v1::SignedZ> BuildZ(const std::string& day, uint32_t part,
                             const v1::CloseDownRequest& request, const std::string& requested_by,
                             const std::vector<std::string>& missing);
  Result<std::set<std::string>> SealedTills(const std::string& day);
  // Observes the newest Z's close-down in durations_, after its commit.
  void ObserveClosed();
  void SendSealCommands(const std::string& day);
  Result<std::vector<std::string>> OwedSeals(const std::string& till);

  sql::Db& db_;
  Histogram durations_{kCloseDownBounds};
  const Config& config_;
  const Clock& clock_;
  const SettingsIssuer* settings_ = nullptr;
  std::string DayOfInstant(int64_t us) const {
    return settings_ ? settings_->calendar().BusinessDay(us) : DayOf(us);
  }
  const crypto::SigningKey& key_;
  Ingest& ingest_;
  const Trust& trust_;
  ActionJournal& actions_;
  std::function<bool()> recovering_;
  std::map<std::string, uint32_t> open_parts_;  // day -> part new events go to
  std::set<std::string> waiting_days_;          // close-downs waiting for tills to seal
  std::set<std::string> late_days_;             // closed days with late events
  std::vector<mqtt::Message> outgoing_;
};

}  // namespace storenode::fog
