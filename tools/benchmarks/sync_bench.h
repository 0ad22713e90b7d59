// Internals of `bench sync` shared by its files: sync_bench.cc runs the
// drain, sync_till.cc is the till process it starts (the hidden mode
// `bench sync-till`), sync_raw.cc measures the two raw limits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::bench {

// The store every till of the bench belongs to.
inline constexpr std::string_view kSyncStore = "bench";

// Rows per second of a bulk insert into a fresh SQLite file at `path` with
// the fog's settings (WAL, synchronous=FULL): `rows` rows of `row_bytes`
// incompressible bytes, keyed like the fog's events table (device, journal,
// seq; WITHOUT ROWID), `rows_per_txn` per transaction. Rows arrive as the
// fog receives them: runs of `batch` consecutive seqs, round robin over
// `devices` devices.
Result<double> RawSqliteRowsPerSecond(const std::string& path, uint32_t rows, uint32_t row_bytes,
                                      uint32_t rows_per_txn, uint32_t devices, uint32_t batch);

// Messages per second of QoS 1 publishes through the broker at `uri`: one
// client publishes `messages` messages, cycling through `payloads`, with at
// most `max_inflight` unacked, and one subscriber receives them (QoS 1).
// Timed from the first publish to the last message received.
Result<double> RawMqttMessagesPerSecond(const std::string& uri,
                                        const std::vector<std::string>& payloads, uint32_t messages,
                                        int max_inflight);

}  // namespace storenode::bench
