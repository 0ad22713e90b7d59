// A whole store for integration tests: a real mosquitto, a real fogd and
// in-process simulated tills that sync over MQTT.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/common/crypto.h"
#include "storenode/edge.h"
#include "storenode/schemas/closedown.pb.h"
#include "support/fog.h"
#include "support/harness.h"

namespace storenode::testing {

// The system clock moved by a fixed offset: a till whose business days lie
// in the past.
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(int64_t offset_us) : offset_us_(offset_us) {}
  int64_t NowMicros() const override { return SystemClock::Default()->NowMicros() + offset_us_; }

 private:
  int64_t offset_us_;
};

struct SimTill {
  std::unique_ptr<ShiftedClock> clock;
  std::unique_ptr<edge::Journal> journal;
  std::unique_ptr<sim::TillSim> sim;
  std::unique_ptr<edge::SyncEngine> sync;
};

// The ZReport inside a SignedZ; REQUIREs that it parses.
v1::ZReport DecodeZ(const v1::SignedZ& s);

// The fx switch alone, so that the drawers are the tills' own (no cashier
// shifts) and the figures that move are foreign currency's.
sim::Mix FxOnlyMix();

class Store {
 public:
  explicit Store(int tills, std::string store_id = "store-1");
  ~Store();
  std::string dir;
  std::string store_id;
  Broker broker;
  std::unique_ptr<FogProcess> fog;
  std::vector<SimTill> tills;
  // The simulators' mix for tills opened from now on. Default: every kind
  // but vouchers, tips, card details and shifts (whose cashier drawers
  // would change the drawer rows the close-down tests count); tests of
  // those set it.
  sim::Mix mix = sim::Mix::WithoutTenderExtras();

  edge::SyncOptions SyncOptionsFor() const;
  // Opens till i's journal (index from 0) and, if `sync`, starts its engine.
  // A negative `day_offset_minutes` sets the till's clock back by as much,
  // which books its sales on earlier days, so a test can close several
  // business days today.
  void OpenTill(size_t i, bool sync = true, int day_offset_minutes = 0);
  // Opens till i's journal as `storectl provision till --settings` would
  // leave it: the fog's issued settings (data.dir/settings.pb), `clock`,
  // no sync engine.
  void OpenTillOnFogSettings(size_t i, const Clock* clock);
  // Opens till i on the fog's issued settings (OpenTillOnFogSettings, e.g.
  // after ImportRates), its simulator on `mix`, and starts its engine.
  void OpenSyncedTillOnFogSettings(size_t i);
  // Imports a rate sheet at the fog (`storectl rates import`); REQUIREs that
  // the fog took it.
  v1::RatesImportResponse ImportRates(const std::string& csv);
  void CloseTill(size_t i);
  void Sell(size_t i, uint64_t sales);
  // Asks for `day` until the answer holds at least `supplements`
  // supplementary close-downs; REQUIREs that within `timeout`.
  v1::CloseDownResponse WaitSupplements(const std::string& day, int supplements,
                                        std::chrono::seconds timeout = std::chrono::seconds(60));
  // Waits until the fog has checked every stored signature (its idle work,
  // which moves devices.verified_seq); REQUIREs it within 10 s.
  void WaitSignaturesChecked();
  // Waits until the fog acked every till's head; false on timeout.
  bool WaitSynced(std::chrono::seconds timeout = std::chrono::seconds(60));
  uint64_t FogAcked(const std::string& device) const;
  uint64_t FogEventCount(const std::string& device) const;
  int64_t FogQuarantined(const std::string& reason_fragment = "") const;
  // Asks the fog to close `day` until it is closed or `wait` passes; then,
  // with `force`, once more forcing it. REQUIREs that the fog answers.
  v1::CloseDownResponse CloseDay(const std::string& day, std::map<std::string, int64_t> counts = {},
                                 bool force = false,
                                 std::chrono::seconds wait = std::chrono::seconds(30));
};

// The whole day's figures from the tills' journal files alone.
v1::DayTotals DayFromJournals(const Store& store, const std::string& day);

// What a Z of `day` must hold, from the journal files alone: its figures,
// and the Merkle root over its events' hashes in (device, journal id, seq)
// order, as the Z promises. from_seq / to_seq limit a device's events to a
// seq range (a Z that covers part of a till, its supplement the rest).
struct Oracle {
  v1::DayTotals totals;
  crypto::Hash root{};
  uint64_t leaves = 0;
};
Oracle FromJournals(const std::vector<std::string>& paths, const std::string& day,
                    std::map<std::string, uint64_t> from_seq = {},
                    std::map<std::string, uint64_t> to_seq = {});

// REQUIREs (Catch2) that two DayTotals hold the same figures, whatever their
// store, device, day and sealed fields.
void RequireSameFigures(v1::DayTotals got, v1::DayTotals want);

// Every row of every table of a fog.db but the quarantine, as text: equal
// before and after a refused message when it changed nothing else.
std::string FogStateOutsideQuarantine(const std::string& db_path);

// Asserts (Catch2) that the fog's per-device, per-day totals equal the
// totals computed from each journal, and that the fog holds each journal's
// events exactly once.
void RequireFogMatchesJournals(const std::string& fog_db,
                               const std::vector<std::string>& journal_paths);

}  // namespace storenode::testing
