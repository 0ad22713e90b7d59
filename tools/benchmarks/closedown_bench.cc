// bench closedown: how long the fog takes from the last till's seal to the
// stored, signed Z of a large business day, against plain SQL over the same
// line rows.
//
//   1. record   --tills journals (sim::TillSim, one thread per till) until
//               the day holds --lines sale lines, spread evenly over the
//               tills; not timed. The tills' clocks are manual: yesterday
//               (UTC) from 07:00, two seconds per event, so the run never
//               straddles midnight and the day can be closed at once.
//   2. baseline the day's sale and refund lines and tenders, decoded from the
//               journals, in a plain SQLite table each (closedown_baseline.cc);
//               not timed.
//   3. ingest   a fresh mosquitto; the tills run in this process, each with
//               an edge::SyncEngine; storenode-fogd starts and stores every
//               event. Then the fog is stopped and its data directory
//               copied, so that the close-down can be measured twice on the
//               same data; each measurement starts a fog on one of the two.
//   4. waiting  (closedown_s) a close-down request comes first: the fog sends
//               seal commands, each till seals the day on its own and the fog
//               builds the Z once the last seal is stored. A bench thread
//               polls every millisecond: the tills' journal heads (the seal
//               recorded), their engines' acked watermarks (the fog stored
//               the seal) and fog.db's zreports (the Z committed).
//   5. request  (closedown_request_s) on the copy: the tills send their seals
//               again, the fog stores them; then a close-down request finds
//               every till sealed and builds the Z while the request waits.
//               Timed through an MQTT client that is already connected.
//   6. the baseline's GROUP BYs, --runs times, once nothing else runs.
//
// Targets (from the issue): closedown_s < 1 s and <= 2 x baseline_groupby_s.
#include "closedown_bench.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "bench.h"
#include "host.h"
#include "sim/json.h"
#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/common/log.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/topics.h"
#include "storenode/edge.h"
#include "storenode/schemas/bench.pb.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::bench {
namespace {

constexpr std::string_view kStore = "bench";
// Who the bench asks the fog as (no certificates: the name in the topic).
constexpr std::string_view kBenchIdentity = "bench";

constexpr std::string_view kUsage =
    "usage: bench closedown [--tills N] [--lines N] [--runs N] [--keep DIR] [--fogd PATH]\n"
    "  --tills N    tills (default 20)\n"
    "  --lines N    sale lines of the business day, spread over the tills (default 1000000)\n"
    "  --runs N     runs of the baseline queries; each figure is the median (default 5)\n"
    "  --keep DIR   work in DIR (journals, fog data, baseline.db, logs) and keep it\n"
    "               (default: a fresh directory under /tmp, removed at the end)\n"
    "  --fogd PATH  the fog daemon (default: storenode-fogd beside this bench)\n";

constexpr double kTargetSeconds = 1.0;
constexpr double kTargetRatio = 2.0;

// The tills' manual clocks: the recording runs from 07:00 of the business
// day, kEventStep per event and till, never past 22:00; the seals are
// recorded at 23:00.
constexpr int64_t kHourUs = 3'600'000'000;
constexpr int64_t kEventStepUs = 2'000'000;

constexpr auto kPollInterval = std::chrono::milliseconds(1);
// Paho sets no TCP_NODELAY: a request published while the client's PUBACK
// of the previous answer is not yet acked by the broker waits for the
// broker's delayed ACK (about 40 ms). A pause before each timed request
// keeps that wait out of the figures.
constexpr auto kQuietBeforeRequest = std::chrono::milliseconds(200);
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kIngestTimeout = std::chrono::minutes(10);
constexpr auto kCloseDownTimeout = std::chrono::seconds(120);

constexpr char kInterval[] =
    "last till's DAY_SEALED recorded in its journal (seen by the bench) .. the signed Z "
    "committed in fog.db (seen by a read-only poll); both polled every 1 ms";

struct Config {
  uint32_t tills = 20;
  uint32_t lines = 1000000;
  uint32_t runs = 5;
  std::string keep;
  std::string fogd;
};

// The directories and files of a run.
struct Paths {
  std::string dir;
  std::string tills() const { return dir + "/tills"; }
  std::string journal(int index) const { return tills() + "/" + sim::SimDeviceId(index) + ".db"; }
  // The fog of the waiting close-down and, copied after the ingest, the
  // fog of the request close-down.
  std::string fog_dir() const { return dir + "/fog"; }
  std::string fog_copy_dir() const { return dir + "/fog-copy"; }
  std::string fog_config() const { return dir + "/fog.toml"; }
  std::string fog_copy_config() const { return dir + "/fog-copy.toml"; }
  std::string fog_log() const { return dir + "/fogd.log"; }
  std::string baseline_db() const { return dir + "/baseline.db"; }
};

using SteadyClock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// ---------------------------------------------------------------------------
// 1. Recording.

// Sale lines of the event at the journal's head, 0 if it is not a sale.
Result<uint64_t> HeadSaleLines(const edge::Journal& journal) {
  SN_ASSIGN_OR_RETURN(std::vector<v1::JournalEvent> events,
                      journal.ReadEvents(journal.head_seq(), 1));
  if (events.empty()) return Status::Corruption("the journal has no head event");
  v1::EventBody body;
  if (!body.ParseFromString(events[0].body())) return Status::Corruption("a body does not parse");
  return body.has_sale() ? static_cast<uint64_t>(body.sale().lines_size()) : 0;
}

// Records the day of till `index` until it holds `lines` sale lines.
Status RecordTill(const Paths& paths, int index, uint64_t lines, int64_t start_us, int64_t end_us,
                  std::atomic<uint64_t>* recorded) {
  ManualClock clock(start_us);  // outlives the journal
  edge::Options options =
      sim::SimTillOptions(paths.tills(), std::string(kStore), sim::SimDeviceId(index));
  options.clock = &clock;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<edge::Journal> journal, edge::Journal::Open(options));
  if (journal->head_seq() != 1) {
    return Status::Precondition(options.journal_path + " is not a fresh journal");
  }
  sim::TillSim sim(journal.get(), /*seed=*/1, index);
  uint64_t done = 0;
  while (done < lines) {
    clock.Set(std::min(clock.NowMicros() + kEventStepUs, end_us));
    const uint64_t head = journal->head_seq();
    SN_RETURN_IF_ERROR(sim.Step());
    if (journal->head_seq() == head || sim.last_kind() != v1::SALE) continue;
    SN_ASSIGN_OR_RETURN(uint64_t n, HeadSaleLines(*journal));
    done += n;
    *recorded += n;
  }
  return Status::Ok();
}

// The day's lines spread over the tills: the first lines % tills take one
// line more.
Status RecordJournals(const Config& config, const Paths& paths, const std::string& day) {
  const int64_t day_start = DayStartMicros(day);
  return RecordTills("closedown", paths.tills(), config.tills, config.lines, "sale lines",
                     [&](int till, std::atomic<uint64_t>* recorded) {
                       const uint32_t i = static_cast<uint32_t>(till) - 1;
                       const uint64_t share =
                           config.lines / config.tills + (i < config.lines % config.tills ? 1 : 0);
                       return RecordTill(paths, till, share, day_start + 7 * kHourUs,
                                         day_start + 22 * kHourUs, recorded);
                     });
}

// ---------------------------------------------------------------------------
// 3. The tills online, the fog, and requests to it.

// A till during the close-down: its journal and its sync engine, in this
// process. The engine is declared last: it goes before the journal.
struct Till {
  std::unique_ptr<edge::Journal> journal;
  std::unique_ptr<edge::SyncEngine> engine;
};

Result<std::vector<Till>> StartTills(const Config& config, const Paths& paths,
                                     const std::string& broker_uri, const Clock* clock) {
  std::vector<Till> tills;
  for (uint32_t i = 1; i <= config.tills; ++i) {
    edge::Options options = sim::SimTillOptions(paths.tills(), std::string(kStore),
                                                sim::SimDeviceId(static_cast<int>(i)));
    options.clock = clock;
    Till till;
    SN_ASSIGN_OR_RETURN(till.journal, edge::Journal::Open(options));
    edge::SyncOptions sync;
    sync.broker.uri = broker_uri;
    sync.broker.insecure = true;
    SN_ASSIGN_OR_RETURN(till.engine, edge::SyncEngine::Start(till.journal.get(), sync));
    tills.push_back(std::move(till));
  }
  return tills;
}

uint64_t HeadsTotal(const std::vector<Till>& tills) {
  uint64_t total = 0;
  for (const Till& t : tills) total += t.journal->head_seq();
  return total;
}

// A read-only connection to a fog.db that a running fog writes.
Result<std::unique_ptr<sql::Db>> OpenFogDb(const std::string& dir) {
  sql::OpenOptions options;
  options.read_only = true;
  options.create = false;
  return sql::Db::Open(dir + "/fog.db", options);
}

Result<Process> StartFog(const Config& config, const Paths& paths, const std::string& fog_config) {
  return Process::Spawn({config.fogd, "--config", fog_config}, paths.fog_log(), paths.fog_log());
}

Status StopFog(Process& fog, const Paths& paths) {
  fog.Kill(SIGTERM);
  Process::Exit e = fog.Wait();
  if (e.code != 0) {
    return Status::Unavailable("the fog exited with code " + std::to_string(e.code) +
                               " on SIGTERM (see " + paths.fog_log() + ")");
  }
  return Status::Ok();
}

// Requests to the fog through one MQTT client that stays connected, so that
// a request's time is the fog's answer and not a connection's set-up.
class FogAsker {
 public:
  struct Answer {
    v1::FogResponse response;
    int64_t sent_ns = 0;      // first publish (MonotonicNanos)
    int64_t received_ns = 0;  // the answer arrived (taken on the client's thread)
    double seconds() const { return SecondsBetween(sent_ns, received_ns); }
  };

  static Result<std::unique_ptr<FogAsker>> Connect(const std::string& uri) {
    std::unique_ptr<FogAsker> asker(new FogAsker);
    mqtt::Options options;
    options.uri = uri;
    options.client_id = mqtt::NewClientId("bench-ask");
    asker->reply_topic_ = topics::Reply(kStore, kBenchIdentity, options.client_id);
    asker->client_ = mqtt::Client::Create(options);
    FogAsker* self = asker.get();
    asker->client_->OnConnected([self] {
      std::lock_guard lock(self->mu_);
      self->connected_ = true;
      self->cv_.notify_all();
    });
    asker->client_->OnMessage([self](const mqtt::Message& m) {
      const int64_t now = MonotonicNanos();
      if (m.topic != self->reply_topic_) return;
      std::lock_guard lock(self->mu_);
      self->answers_[m.correlation_data] = {m.payload, now};
      self->cv_.notify_all();
    });
    SN_RETURN_IF_ERROR(asker->client_->Subscribe(asker->reply_topic_, 1));
    asker->client_->Start();
    std::unique_lock lock(asker->mu_);
    if (!asker->cv_.wait_for(lock, kStartTimeout, [&] { return asker->connected_; })) {
      return Status::Unavailable("cannot reach the broker at " + uri);
    }
    return asker;
  }

  ~FogAsker() { client_->Stop(); }

  // Sends `request` (again every second: a fog that is still subscribing
  // misses the first copy) and waits up to `timeout` for the answer.
  Result<Answer> Ask(const v1::FogRequest& request, std::chrono::milliseconds timeout) {
    mqtt::Message m;
    m.topic = topics::FogRequest(kStore, kBenchIdentity);
    m.payload = request.SerializeAsString();
    m.response_topic = reply_topic_;
    m.correlation_data = std::to_string(++next_id_);
    Answer out;
    out.sent_ns = MonotonicNanos();
    const auto deadline = SteadyClock::now() + timeout;
    std::unique_lock lock(mu_);
    while (answers_.count(m.correlation_data) == 0) {
      lock.unlock();
      (void)client_->Publish(m);
      lock.lock();
      const auto next = std::min(deadline, SteadyClock::now() + std::chrono::seconds(1));
      cv_.wait_until(lock, next, [&] { return answers_.count(m.correlation_data) > 0; });
      if (answers_.count(m.correlation_data) == 0 && SteadyClock::now() >= deadline) {
        return Status::Unavailable("the fog did not answer");
      }
    }
    auto [payload, received_ns] = answers_[m.correlation_data];
    answers_.erase(m.correlation_data);
    out.received_ns = received_ns;
    if (!out.response.ParseFromString(payload)) {
      return Status::Corruption("the fog's answer does not parse");
    }
    return out;
  }

 private:
  FogAsker() = default;

  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;
  std::map<std::string, std::pair<std::string, int64_t>> answers_;  // by correlation
  uint64_t next_id_ = 0;
  std::string reply_topic_;
  std::unique_ptr<mqtt::Client> client_;  // last: stopped before the rest goes
};

Result<FogAsker::Answer> AskStatus(FogAsker& asker, std::chrono::milliseconds timeout) {
  v1::FogRequest request;
  request.mutable_status();
  SN_ASSIGN_OR_RETURN(FogAsker::Answer answer, asker.Ask(request, timeout));
  if (!answer.response.ok()) return Status::Unavailable("status: " + answer.response.error());
  return answer;
}

Result<FogAsker::Answer> AskCloseDown(FogAsker& asker, const std::string& day) {
  v1::FogRequest request;
  request.mutable_closedown()->set_business_day(day);
  SN_ASSIGN_OR_RETURN(
      FogAsker::Answer answer,
      asker.Ask(request, std::chrono::duration_cast<std::chrono::milliseconds>(kCloseDownTimeout)));
  if (!answer.response.ok()) {
    return Status::Unavailable("close-down of " + day + ": " + answer.response.error());
  }
  return answer;
}

// Waits until the fog at `fog_dir` has stored and acked every event the
// tills hold, seals included: its devices' watermarks add up to the heads.
Status WaitFogHolds(const std::string& fog_dir, const std::vector<Till>& tills,
                    std::chrono::seconds timeout, const char* what) {
  const int64_t heads = static_cast<int64_t>(HeadsTotal(tills));
  const auto deadline = SteadyClock::now() + timeout;
  auto next_progress = SteadyClock::now() + std::chrono::seconds(5);
  std::unique_ptr<sql::Db> db;
  while (true) {
    if (!db) {
      auto opened = OpenFogDb(fog_dir);
      if (opened.ok()) db = std::move(*opened);
    }
    int64_t acked = -1;
    if (db) {
      auto sum = db->QueryInt("SELECT COALESCE(SUM(acked_seq), 0) FROM devices", -1);
      if (sum.ok()) acked = *sum;
    }
    if (acked == heads) return Status::Ok();
    if (SteadyClock::now() > deadline) {
      return Status::Unavailable(std::string(what) + ": the fog acked " + std::to_string(acked) +
                                 " of " + std::to_string(heads) + " events");
    }
    if (SteadyClock::now() >= next_progress) {
      next_progress += std::chrono::seconds(5);
      std::fprintf(stderr, "bench closedown: %s: fog acked %lld/%lld events\n", what,
                   static_cast<long long>(acked), static_cast<long long>(heads));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The stored Z of `day` (part 0) and the fog's time of its z-issued action.
struct StoredZ {
  v1::ZReport z;
  int64_t issued_us = 0;
};

Result<StoredZ> ReadStoredZ(sql::Db& db, const std::string& day) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare("SELECT z FROM zreports WHERE business_day = ? "
                                                 "AND part = 0"));
  stmt.Bind(1, day);
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no Z of " + day + " in fog.db");
  StoredZ out;
  if (!out.z.ParseFromString(stmt.Blob(0))) return Status::Corruption("the Z does not parse");
  SN_ASSIGN_OR_RETURN(out.issued_us,
                      db.QueryInt("SELECT at_us FROM actions WHERE kind = 'z-issued' ORDER BY "
                                  "seq DESC LIMIT 1",
                                  -1));
  if (out.issued_us < 0) return Status::NotFound("no z-issued action in fog.db");
  return out;
}

// ---------------------------------------------------------------------------
// 4. The waiting close-down.

// What the watcher saw, on the monotonic clock; 0 until seen.
struct Watch {
  std::vector<int64_t> sealed_ns;  // per till: its journal head moved (the seal)
  std::vector<int64_t> acked_ns;   // per till: its engine saw the seal acked
  int64_t z_ns = 0;                // the Z of the day is in zreports
  Status status;
};

// Polls every kPollInterval until the Z is committed (or the timeout), then
// on until every till has seen its seal acked: on a small day the Z can be
// committed before the last ack has reached its till.
void WatchCloseDown(const std::vector<Till>& tills, const std::vector<uint64_t>& heads_before,
                    sql::Db& fog_db, const std::string& day, Watch* watch) {
  watch->sealed_ns.assign(tills.size(), 0);
  watch->acked_ns.assign(tills.size(), 0);
  std::vector<uint64_t> seal_seq(tills.size(), 0);
  auto zreports = fog_db.Prepare("SELECT COUNT(*) FROM zreports WHERE business_day = ?");
  if (!zreports.ok()) {
    watch->status = zreports.status();
    return;
  }
  auto deadline = SteadyClock::now() + kCloseDownTimeout;
  while (true) {
    bool all_acked = true;
    for (size_t i = 0; i < tills.size(); ++i) {
      if (watch->sealed_ns[i] == 0) {
        const uint64_t head = tills[i].journal->head_seq();
        if (head == heads_before[i]) {
          all_acked = false;
          continue;
        }
        watch->sealed_ns[i] = MonotonicNanos();
        seal_seq[i] = head;
      }
      if (watch->acked_ns[i] == 0 && tills[i].engine->state().acked_seq >= seal_seq[i]) {
        watch->acked_ns[i] = MonotonicNanos();
      }
      all_acked = all_acked && watch->acked_ns[i] != 0;
    }
    if (watch->z_ns == 0) {
      zreports->Bind(1, day);
      Result<bool> row = zreports->Step();
      const bool stored = row.ok() && *row && zreports->Int(0) > 0;
      zreports->Reset();
      if (!row.ok()) {
        watch->status = row.status();
        return;
      }
      if (stored) {
        watch->z_ns = MonotonicNanos();
        deadline = SteadyClock::now() + std::chrono::seconds(5);
      }
    }
    if (watch->z_ns != 0 && all_acked) return;
    if (SteadyClock::now() > deadline) {
      watch->status =
          Status::Unavailable(watch->z_ns == 0 ? "no Z of " + day + " within the timeout"
                                               : "a till did not see its seal acked");
      return;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

struct Waiting {
  double closedown_s = 0;
  double after_ack_s = 0;
  double total_s = 0;
  double z_build_s = 0;
  double fog_cpu_s = 0;
  double host_load_1m = 0;
  StoredZ z;
};

Result<Waiting> RunWaitingCloseDown(const Config& config, const Paths& paths, FogAsker& asker,
                                    const std::vector<Till>& tills, const std::string& day) {
  SN_ASSIGN_OR_RETURN(Process fog, StartFog(config, paths, paths.fog_config()));
  SN_RETURN_IF_ERROR(AskStatus(asker, std::chrono::seconds(30)).status());
  SN_RETURN_IF_ERROR(WaitFogHolds(paths.fog_dir(), tills, kStartTimeout, "restart"));
  // The tills have seen the restarted fog's watermarks: nothing is in flight.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> fog_db, OpenFogDb(paths.fog_dir()));
  std::vector<uint64_t> heads_before;
  for (const Till& t : tills) heads_before.push_back(t.journal->head_seq());

  Waiting out;
  out.host_load_1m = HostLoad1m();
  SN_ASSIGN_OR_RETURN(ProcUsage cpu_before, ReadProcUsage(fog.pid()));
  Watch watch;
  std::thread watcher([&] { WatchCloseDown(tills, heads_before, *fog_db, day, &watch); });
  Result<FogAsker::Answer> asked = AskCloseDown(asker, day);
  watcher.join();
  SN_RETURN_IF_ERROR(asked.status());
  SN_RETURN_IF_ERROR(watch.status);
  SN_ASSIGN_OR_RETURN(ProcUsage cpu_after, ReadProcUsage(fog.pid()));
  const v1::CloseDownResponse& response = asked->response.closedown();
  if (response.closed() || response.waiting_for_size() != static_cast<int>(tills.size())) {
    return Status::Precondition("the close-down request found " +
                                std::to_string(response.sealed_tills_size()) +
                                " tills sealed; expected none");
  }
  int64_t last_sealed = 0, last_acked = 0;
  for (size_t i = 0; i < tills.size(); ++i) {
    if (watch.sealed_ns[i] == 0 || watch.acked_ns[i] == 0) {
      return Status::Corruption(tills[i].journal->options().device_id +
                                ": the Z came without the bench seeing its seal acked");
    }
    last_sealed = std::max(last_sealed, watch.sealed_ns[i]);
    last_acked = std::max(last_acked, watch.acked_ns[i]);
  }
  out.closedown_s = SecondsBetween(last_sealed, watch.z_ns);
  out.after_ack_s = SecondsBetween(last_acked, watch.z_ns);
  out.total_s = SecondsBetween(asked->sent_ns, watch.z_ns);
  out.fog_cpu_s = cpu_after.cpu_seconds - cpu_before.cpu_seconds;
  SN_ASSIGN_OR_RETURN(out.z, ReadStoredZ(*fog_db, day));
  out.z_build_s = static_cast<double>(out.z.issued_us - out.z.z.created_us()) / 1e6;
  fog_db.reset();
  SN_RETURN_IF_ERROR(StopFog(fog, paths));
  return out;
}

// ---------------------------------------------------------------------------
// 5. The request close-down.

struct Requested {
  double closedown_request_s = 0;
  double z_build_s = 0;
  double status_request_s = 0;
  v1::ZReport z;
};

Result<Requested> RunRequestCloseDown(const Config& config, const Paths& paths, FogAsker& asker,
                                      const std::vector<Till>& tills, const std::string& day) {
  SN_ASSIGN_OR_RETURN(Process fog, StartFog(config, paths, paths.fog_copy_config()));
  SN_RETURN_IF_ERROR(AskStatus(asker, std::chrono::seconds(30)).status());
  // The copy predates the seals: the tills send them again.
  SN_RETURN_IF_ERROR(WaitFogHolds(paths.fog_copy_dir(), tills, kStartTimeout, "seals"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Requested out;
  std::vector<double> status_s;
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(kQuietBeforeRequest);
    SN_ASSIGN_OR_RETURN(FogAsker::Answer a, AskStatus(asker, std::chrono::seconds(10)));
    status_s.push_back(a.seconds());
  }
  out.status_request_s = Median(status_s);
  std::this_thread::sleep_for(kQuietBeforeRequest);
  SN_ASSIGN_OR_RETURN(FogAsker::Answer asked, AskCloseDown(asker, day));
  out.closedown_request_s = asked.seconds();
  const v1::CloseDownResponse& response = asked.response.closedown();
  if (!response.closed()) {
    return Status::Precondition("the close-down request did not close the day (" +
                                std::to_string(response.waiting_for_size()) + " tills not sealed)");
  }
  if (!out.z.ParseFromString(response.z().z())) {
    return Status::Corruption("the answered Z does not parse");
  }
  {
    SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> fog_db, OpenFogDb(paths.fog_copy_dir()));
    SN_ASSIGN_OR_RETURN(StoredZ stored, ReadStoredZ(*fog_db, day));
    out.z_build_s = static_cast<double>(stored.issued_us - stored.z.created_us()) / 1e6;
  }
  SN_RETURN_IF_ERROR(StopFog(fog, paths));
  return out;
}

// ---------------------------------------------------------------------------

double FileMb(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<double>(size) / (1024.0 * 1024.0);
}

void CheckTargets(v1::ClosedownBenchResult* r) {
  auto text = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    return std::string(buf);
  };
  if (r->closedown_s() >= kTargetSeconds) {
    r->add_missed_targets("closedown_s " + text(r->closedown_s()) + " not below " +
                          text(kTargetSeconds));
  }
  if (r->ratio() > kTargetRatio) {
    r->add_missed_targets("ratio " + text(r->ratio()) + " above " + text(kTargetRatio));
  }
  if (!r->z_matches_baseline()) r->add_missed_targets("the Z's figures differ from the baseline");
  if (!r->merkle_roots_equal()) r->add_missed_targets("the two Zs have different Merkle roots");
  r->set_target_met(r->missed_targets_size() == 0);
}

Status Run(const Config& config, v1::ClosedownBenchResult* result) {
  result->set_date(NowIso());
  std::optional<TempDir> temp;
  Paths paths;
  SN_ASSIGN_OR_RETURN(paths.dir, PrepareRunDir("closedown", config.keep, &temp));
  // Yesterday (UTC): closable now, and the recording cannot cross midnight.
  const std::string day = DayOf(SystemClock::Default()->NowMicros() - 24 * kHourUs);

  // 1. Record.
  std::fprintf(stderr, "bench closedown: recording %u sale lines of %s on %u tills in %s\n",
               config.lines, day.c_str(), config.tills, paths.dir.c_str());
  const int64_t record_start = MonotonicNanos();
  SN_RETURN_IF_ERROR(RecordJournals(config, paths, day));
  result->set_record_seconds(Round(SecondsBetween(record_start, MonotonicNanos()), 1));

  // 2. The baseline tables.
  std::vector<std::string> journals;
  for (uint32_t i = 1; i <= config.tills; ++i)
    journals.push_back(paths.journal(static_cast<int>(i)));
  std::fprintf(stderr, "bench closedown: writing the baseline tables\n");
  SN_ASSIGN_OR_RETURN(DayContent content, WriteBaselineTables(paths.baseline_db(), journals, day));
  std::fprintf(stderr,
               "bench closedown: %llu sale lines in %llu receipts, %llu events; baseline %llu "
               "line rows, %llu tender rows\n",
               static_cast<unsigned long long>(content.sale_lines),
               static_cast<unsigned long long>(content.receipts),
               static_cast<unsigned long long>(content.events),
               static_cast<unsigned long long>(content.line_rows),
               static_cast<unsigned long long>(content.tender_rows));

  // 3. Ingest. Declared in this order: the tills stop before the broker
  // goes, the broker before the directory.
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Broker> broker, StartBroker(paths.dir));
  SN_RETURN_IF_ERROR(WriteFogConfig(paths.fog_config(), kStore, broker->uri(), paths.fog_dir()));
  SN_RETURN_IF_ERROR(
      WriteFogConfig(paths.fog_copy_config(), kStore, broker->uri(), paths.fog_copy_dir()));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<FogAsker> asker, FogAsker::Connect(broker->uri()));
  ManualClock evening(DayStartMicros(day) + 23 * kHourUs);  // when the tills seal
  SN_ASSIGN_OR_RETURN(std::vector<Till> tills, StartTills(config, paths, broker->uri(), &evening));
  std::fprintf(stderr, "bench closedown: broker at %s; the fog ingests %llu events\n",
               broker->uri().c_str(), static_cast<unsigned long long>(HeadsTotal(tills)));
  {
    const int64_t start = MonotonicNanos();
    SN_ASSIGN_OR_RETURN(Process fog, StartFog(config, paths, paths.fog_config()));
    SN_RETURN_IF_ERROR(
        WaitFogHolds(paths.fog_dir(), tills,
                     std::chrono::duration_cast<std::chrono::seconds>(kIngestTimeout), "ingest"));
    const int64_t acked = MonotonicNanos();
    result->set_ingest_seconds(Round(SecondsBetween(start, acked), 2));
    // A close-down checks any signature still unchecked first; let the fog's
    // idle checks finish here, so that both close-downs below start from a
    // checked day, and report how long they took.
    const auto verify_deadline = SteadyClock::now() + kIngestTimeout;
    while (true) {
      SN_ASSIGN_OR_RETURN(FogAsker::Answer status, AskStatus(*asker, std::chrono::seconds(30)));
      if (status.response.status().unverified_signatures() == 0) break;
      if (SteadyClock::now() > verify_deadline) {
        return Status::Unavailable("the fog did not check every signature within the timeout");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const double verify_s = SecondsBetween(acked, MonotonicNanos());
    result->set_verify_seconds(Round(verify_s, 2));
    result->set_verify_per_second(
        Round(static_cast<double>(HeadsTotal(tills)) / std::max(verify_s, 1e-3), 0));
    SN_RETURN_IF_ERROR(StopFog(fog, paths));
  }
  std::error_code ec;
  std::filesystem::copy(paths.fog_dir(), paths.fog_copy_dir(),
                        std::filesystem::copy_options::recursive, ec);
  if (ec) return Status::Io("cannot copy " + paths.fog_dir() + ": " + ec.message());

  // 4. The waiting close-down.
  std::fprintf(stderr, "bench closedown: close-down of %s, requested before the seals\n",
               day.c_str());
  SN_ASSIGN_OR_RETURN(Waiting waiting, RunWaitingCloseDown(config, paths, *asker, tills, day));
  std::fprintf(stderr, "bench closedown: last seal .. Z in %.3f s\n", waiting.closedown_s);

  // 5. The request close-down.
  std::fprintf(stderr, "bench closedown: close-down of %s requested after the seals\n",
               day.c_str());
  SN_ASSIGN_OR_RETURN(Requested requested, RunRequestCloseDown(config, paths, *asker, tills, day));
  std::fprintf(stderr, "bench closedown: request .. Z in %.3f s\n", requested.closedown_request_s);
  const uint64_t events = HeadsTotal(tills);
  for (Till& t : tills) t.engine->Stop();
  tills.clear();
  asker.reset();
  broker.reset();

  // 6. The baseline.
  std::fprintf(stderr, "bench closedown: baseline, %u runs\n", config.runs);
  BaselineFigures figures;
  SN_ASSIGN_OR_RETURN(BaselineTiming baseline,
                      RunBaseline(paths.baseline_db(), day, config.runs, &figures));
  const std::string difference = CompareZWithBaseline(waiting.z.z, figures);
  if (!difference.empty()) {
    std::fprintf(stderr, "bench closedown: the Z differs from the baseline: %s\n",
                 difference.c_str());
  }

  result->set_tills(config.tills);
  result->set_lines(static_cast<uint32_t>(content.sale_lines));
  result->set_receipts(static_cast<uint32_t>(content.receipts));
  result->set_events(static_cast<uint32_t>(events));
  result->set_business_day(day);
  result->set_closedown_s(Round(waiting.closedown_s, 4));
  result->set_closedown_after_ack_s(Round(waiting.after_ack_s, 4));
  result->set_closedown_total_s(Round(waiting.total_s, 4));
  result->set_z_build_s(Round(waiting.z_build_s, 4));
  result->set_closedown_interval(kInterval);
  result->set_fog_closedown_cpu_s(Round(waiting.fog_cpu_s, 2));
  result->set_closedown_request_s(Round(requested.closedown_request_s, 4));
  result->set_request_z_build_s(Round(requested.z_build_s, 4));
  result->set_status_request_s(Round(requested.status_request_s, 4));
  result->set_baseline_groupby_s(Round(baseline.total_s, 4));
  result->set_baseline_tax_s(Round(baseline.tax_s, 4));
  result->set_baseline_till_s(Round(baseline.till_s, 4));
  result->set_baseline_tender_s(Round(baseline.tender_s, 4));
  result->set_baseline_runs(std::max(config.runs, 1u));
  result->set_baseline_line_rows(static_cast<uint32_t>(content.line_rows));
  result->set_baseline_tender_rows(static_cast<uint32_t>(content.tender_rows));
  for (const std::string& q : baseline.queries) result->add_baseline_queries(q);
  result->set_ratio(baseline.total_s > 0 ? Round(waiting.closedown_s / baseline.total_s, 2) : 0);
  result->set_z_matches_baseline(difference.empty());
  result->set_merkle_roots_equal(waiting.z.z.merkle_root() == requested.z.merkle_root() &&
                                 waiting.z.z.leaf_count() == requested.z.leaf_count());
  result->set_z_leaf_count(static_cast<uint32_t>(waiting.z.z.leaf_count()));
  result->set_fog_db_mb(
      Round(FileMb(paths.fog_dir() + "/fog.db") + FileMb(paths.fog_dir() + "/fog.db-wal"), 1));
  result->set_host_load_1m(Round(waiting.host_load_1m, 2));
  CheckTargets(result);
  SetRunFacts(paths.dir, result);
  return Status::Ok();
}

}  // namespace

int RunClosedown(const std::vector<std::string>& args) {
  Config config;
  const Flag flags[] = {{"tills", &config.tills},
                        {"lines", &config.lines},
                        {"runs", &config.runs},
                        {"keep", &config.keep},
                        {"fogd", &config.fogd}};
  return RunMode<v1::ClosedownBenchResult>(
      "closedown", kUsage, args, flags,
      [&]() -> Status {
        if (config.tills == 0 || config.lines < config.tills || config.runs == 0) {
          return Status::Invalid("--tills and --runs must be at least 1, --lines at least --tills");
        }
        if (config.fogd.empty()) {
          SN_ASSIGN_OR_RETURN(config.fogd, FogdBesideSelf());
        }
        // The engines log through spdlog: to stderr, errors only, so that
        // stdout holds the JSON alone.
        return log::Init("bench", "error");
      },
      [&](v1::ClosedownBenchResult* r) { return Run(config, r); });
}

}  // namespace storenode::bench
