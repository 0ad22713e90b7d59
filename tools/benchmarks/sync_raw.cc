// The raw limits of `bench sync` (sync_bench.h): what the host's disk and
// broker do with the drain's bytes when nothing else is in the way.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "sync_bench.h"

namespace storenode::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kMqttTimeout = std::chrono::minutes(5);
constexpr char kRawTopic[] = "bench/raw/journal";

std::string RandomBytes(size_t n, uint32_t seed) {
  std::string bytes(n, '\0');
  std::mt19937 rng(seed);
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

double Elapsed(SteadyClock::time_point start, SteadyClock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

// Waits until `client` is connected with its subscriptions restored.
Status WaitConnected(const mqtt::Client& client, const std::string& uri) {
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  while (!client.connected()) {
    if (SteadyClock::now() > deadline) return Status::Unavailable("cannot connect to " + uri);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Ok();
}

}  // namespace

Result<double> RawSqliteRowsPerSecond(const std::string& path, uint32_t rows, uint32_t row_bytes,
                                      uint32_t rows_per_txn, uint32_t devices, uint32_t batch) {
  if (rows == 0 || rows_per_txn == 0 || devices == 0 || batch == 0) {
    return Status::Invalid("raw sqlite: rows, rows per transaction, devices and batch must be > 0");
  }
  sql::OpenOptions options;
  options.wal = true;
  options.sync = sql::Sync::kFull;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, sql::Db::Open(path, options));
  SN_RETURN_IF_ERROR(
      db->Exec("CREATE TABLE events(device_id TEXT NOT NULL, journal_id BLOB NOT NULL, "
               "seq INTEGER NOT NULL, payload BLOB NOT NULL, "
               "PRIMARY KEY(device_id, journal_id, seq)) WITHOUT ROWID"));
  SN_ASSIGN_OR_RETURN(
      sql::Stmt insert,
      db->Prepare("INSERT INTO events(device_id, journal_id, seq, payload) VALUES(?, ?, ?, ?)"));
  // Incompressible, like the hashes and signature of an event.
  const std::string payload = RandomBytes(row_bytes, 7);
  std::vector<std::string> device_ids, journal_ids;
  for (uint32_t d = 0; d < devices; ++d) {
    device_ids.push_back("till-" + std::to_string(d + 1));
    journal_ids.push_back(RandomBytes(16, 100 + d));
  }
  std::vector<int64_t> next_seq(devices, 1);

  const auto start = SteadyClock::now();
  uint32_t done = 0;
  while (done < rows) {
    sql::Transaction txn(*db);
    SN_RETURN_IF_ERROR(txn.begin_status());
    for (uint32_t i = 0; i < rows_per_txn && done < rows; ++i, ++done) {
      // Run `done / batch` of `batch` rows goes to device run % devices.
      uint32_t device = (done / batch) % devices;
      insert.Bind(1, device_ids[device]).BindBlob(2, journal_ids[device]);
      insert.Bind(3, next_seq[device]++).BindBlob(4, payload);
      SN_RETURN_IF_ERROR(insert.Run());
    }
    SN_RETURN_IF_ERROR(txn.Commit());
  }
  return rows / Elapsed(start, SteadyClock::now());
}

Result<double> RawMqttMessagesPerSecond(const std::string& uri,
                                        const std::vector<std::string>& payloads, uint32_t messages,
                                        int max_inflight) {
  if (payloads.empty() || messages == 0 || max_inflight < 1) {
    return Status::Invalid("raw mqtt: payloads, messages and max_inflight must not be 0");
  }
  std::mutex mu;
  std::condition_variable cv;
  uint32_t received = 0;
  int inflight = 0;
  Status publish_error;
  SteadyClock::time_point last_received;

  mqtt::Options sub_options;
  sub_options.uri = uri;
  sub_options.client_id = mqtt::NewClientId("bench-raw-sub");
  // Both clients are declared after the state their callbacks use: they are
  // destroyed, which stops them, first.
  std::unique_ptr<mqtt::Client> sub = mqtt::Client::Create(sub_options);
  sub->OnMessage([&](const mqtt::Message&) {
    std::lock_guard lock(mu);
    if (++received == messages) {
      last_received = SteadyClock::now();
      cv.notify_all();
    }
  });
  SN_RETURN_IF_ERROR(sub->Subscribe(kRawTopic, 1));
  sub->Start();
  SN_RETURN_IF_ERROR(WaitConnected(*sub, uri));

  mqtt::Options pub_options;
  pub_options.uri = uri;
  pub_options.client_id = mqtt::NewClientId("bench-raw-pub");
  pub_options.max_inflight = max_inflight;
  std::unique_ptr<mqtt::Client> pub = mqtt::Client::Create(pub_options);
  pub->Start();
  SN_RETURN_IF_ERROR(WaitConnected(*pub, uri));

  mqtt::Message m;
  m.topic = kRawTopic;
  m.qos = 1;
  const auto start = SteadyClock::now();
  const auto deadline = start + kMqttTimeout;
  for (uint32_t i = 0; i < messages; ++i) {
    m.payload = payloads[i % payloads.size()];
    {
      std::unique_lock lock(mu);
      if (!cv.wait_until(lock, deadline,
                         [&] { return inflight < max_inflight || !publish_error.ok(); })) {
        return Status::Unavailable("raw mqtt: no publish acked for too long");
      }
      SN_RETURN_IF_ERROR(publish_error);
      ++inflight;
    }
    Status s = pub->Publish(m, [&](Status done) {
      std::lock_guard lock(mu);
      --inflight;
      if (!done.ok() && publish_error.ok()) publish_error = done;
      cv.notify_all();
    });
    if (!s.ok()) {
      std::lock_guard lock(mu);
      --inflight;
      return s;
    }
  }
  double seconds = 0;
  {
    std::unique_lock lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return received == messages; })) {
      return Status::Unavailable("raw mqtt: the subscriber received " + std::to_string(received) +
                                 " of " + std::to_string(messages) + " messages");
    }
    seconds = Elapsed(start, last_received);
  }
  return messages / seconds;
}

}  // namespace storenode::bench
