// fog.db: the schema and the device registry.
//
// Tables:
//   devices      one row per till: the journal the fog follows, its pinned
//                key, the acked watermark (highest contiguous seq stored) and
//                the chain head hash at that watermark; plus a pending
//                journal when a till was replaced and waits for acceptance.
//   journals     every journal ever accepted per device (old chains stay).
//   events       every event, verbatim, keyed by (device, journal, seq).
//   day_totals   read model: DayTotals per (device, business day).
//   quarantine   rejected input with device, topic, reason and raw bytes.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "storenode/common/crypto.h"
#include "storenode/common/sqlite.h"

namespace storenode::fog {

inline constexpr const char* kFogSchema = R"sql(
CREATE TABLE IF NOT EXISTS devices(
  device_id TEXT PRIMARY KEY,
  journal_id BLOB NOT NULL,
  public_key BLOB NOT NULL,
  key_source TEXT NOT NULL,
  acked_seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  pending_journal_id BLOB,
  pending_public_key BLOB,
  first_seen_us INTEGER NOT NULL,
  last_event_us INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS journals(
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  public_key BLOB NOT NULL,
  accepted_us INTEGER NOT NULL,
  PRIMARY KEY(device_id, journal_id));
CREATE TABLE IF NOT EXISTS events(
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  business_day TEXT NOT NULL,
  kind INTEGER NOT NULL,
  receipt_no INTEGER NOT NULL,
  header BLOB NOT NULL,
  body BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY(device_id, journal_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day_totals(
  device_id TEXT NOT NULL,
  business_day TEXT NOT NULL,
  totals BLOB NOT NULL,
  PRIMARY KEY(device_id, business_day));
CREATE TABLE IF NOT EXISTS quarantine(
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  reason TEXT NOT NULL,
  payload BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS quarantine_by_device ON quarantine(device_id);
)sql";

// A till as the fog knows it.
struct Device {
  std::string device_id;
  std::string journal_id;
  crypto::PublicKey key{};
  std::string key_source;  // "genesis (trust on first use)", "provisioned"
  uint64_t acked_seq = 0;
  crypto::Hash head_hash{};
  std::string pending_journal_id;  // a replacement journal awaiting acceptance
  std::string pending_key;
  int64_t first_seen_us = 0;
  int64_t last_event_us = 0;
};

// Loads every device row.
Result<std::map<std::string, Device>> LoadDevices(sql::Db& db);
// Inserts or replaces the row of `d`.
Status SaveDevice(sql::Db& db, const Device& d);

}  // namespace storenode::fog
