// pos-sim: deterministic simulated tills.
//
// Each till (device till-K, journal DIR/till-K.db) runs in its own thread and
// records a realistic mix of events (tools/sim/sim.h) into its own journal.
// At the end pos-sim prints, as JSON, every till's exact totals per business
// day, computed back from its journal file. Rerunning with the same DIR
// continues the existing journals.
//
// With --broker every till also runs an edge::SyncEngine on its journal, as a
// real till would: the engines connect in the background before selling
// starts and replicate while the tills sell. --wait-synced then waits until
// the fog has acked every event; --linger keeps the tills connected (syncing,
// and carrying out fog commands such as seal-day) for a while after selling.
// The JSON adds each till's final sync state.
//
// SIGTERM and SIGINT end selling and lingering early, and the run ends as
// usual (engines stopped cleanly, so the tills report offline; JSON printed).
//
// `pos-sim demand --items N --days D --seed S --out FILE.csv [--start DAY]`
// writes long daily demand histories instead (tools/sim/demand.h) and
// prints {"items":N,"days":D,"rows":R,"seconds":T} on stdout.
//
// Exit codes: 0 done, 1 a till failed or did not sync in time, 2 bad
// arguments or configuration.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/broker_flags.h"
#include "sim/demand.h"
#include "sim/json.h"
#include "sim/sim.h"
#include "storenode/common/files.h"
#include "storenode/common/log.h"
#include "storenode/edge.h"

namespace storenode {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Args {
  int tills = 1;
  int first_till = 1;  // tills first_till..first_till+tills-1, so several runs make one store
  uint64_t sales = 0;  // per till; 0 = until --duration
  uint64_t seed = 1;
  std::string data;
  std::string store = "store-1";
  std::string settings;     // a store settings file (the fog's settings.pb)
  std::string mix = "all";  // sim::ParseMix
  bool sim_rates = false;   // settings sim::SimFxSettings (a rate sheet) instead of SimSettings
  double rate = 0;          // sales per second per till; 0 = as fast as possible
  double duration = 0;      // seconds; 0 = until --sales
  tools::BrokerFlags broker;
  double wait_synced = -1;  // seconds; < 0 = do not wait
  double linger = 0;        // seconds
};

SteadyClock::duration ToDuration(double seconds) {
  return std::chrono::duration_cast<SteadyClock::duration>(Seconds(seconds));
}

// One simulated till: its journal, the simulator driving it and, with
// --broker, the sync engine replicating the journal (started after the
// journal opens, stopped before it closes).
struct Till {
  std::unique_ptr<edge::Journal> journal;
  std::unique_ptr<sim::TillSim> sim;
  std::unique_ptr<edge::SyncEngine> sync;
  SteadyClock::time_point done;  // when it stopped selling
};

// The first failure of any till; the others stop when it is set.
class FirstError {
 public:
  void Set(const Status& s) {
    std::lock_guard lock(mu_);
    if (status_.ok()) status_ = s;
    failed_ = true;
  }
  bool failed() const { return failed_; }
  Status status() const {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  mutable std::mutex mu_;
  Status status_;
  std::atomic<bool> failed_{false};
};

// SIGTERM and SIGINT, blocked in every thread (construct it before starting
// any) so that the main thread can wait for them with a timeout and end the
// run cleanly instead of dying with the journals and engines open.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // Waits up to `timeout` for a stop signal; true once one has arrived.
  bool Wait(SteadyClock::duration timeout) {
    if (received_) return true;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::max(timeout, SteadyClock::duration::zero()))
                        .count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    if (sigtimedwait(&set_, nullptr, &ts) > 0) received_ = true;
    return received_;
  }
  // Waits until `deadline` or a stop signal; true if the signal came.
  bool WaitUntil(SteadyClock::time_point deadline) {
    while (!received_ && SteadyClock::now() < deadline) {
      Wait(std::min<SteadyClock::duration>(deadline - SteadyClock::now(),
                                           std::chrono::milliseconds(100)));
    }
    return received_;
  }
  bool received() const { return received_; }

 private:
  sigset_t set_;
  bool received_ = false;
};

// Steps `sim` until it has made args.sales sales, args.duration passed or
// `stop` is set, keeping to args.rate sales per second.
Status Drive(sim::TillSim& sim, const Args& args, SteadyClock::time_point start,
             const std::atomic<bool>& stop) {
  if (args.sales == 0 && args.duration == 0) return Status::Ok();  // --linger only
  const auto deadline = start + ToDuration(args.duration > 0 ? args.duration : 1e9);
  while (args.sales == 0 || sim.sales() < args.sales) {
    if (stop || SteadyClock::now() >= deadline) break;
    if (args.rate > 0) {
      const auto due =
          std::min(start + ToDuration(static_cast<double>(sim.sales()) / args.rate), deadline);
      // Short naps, so that a stop is noticed even at a slow rate.
      while (!stop && SteadyClock::now() < due) {
        std::this_thread::sleep_for(std::min<SteadyClock::duration>(due - SteadyClock::now(),
                                                                    std::chrono::milliseconds(50)));
      }
      if (stop || SteadyClock::now() >= deadline) break;
    }
    SN_RETURN_IF_ERROR(sim.Step());
  }
  // The cashier's shift ends with the run, as the till closes.
  return sim.EndShift();
}

int Fail(int code, const std::string& message) {
  std::cerr << "pos-sim: " << message << "\n";
  return code;
}

edge::SyncOptions SyncOptionsFor(const tools::BrokerFlags& broker) {
  edge::SyncOptions o;
  o.broker = {.uri = broker.uri,
              .insecure = broker.insecure,
              .ca_file = broker.ca_file,
              .cert_file = broker.cert_file,
              .key_file = broker.key_file};
  return o;
}

// "" when every till's engine has nothing left for the fog to ack, else the
// tills still behind, e.g. "till-2 (backlog 120, not connected)".
std::string TillsBehind(const std::vector<Till>& tills) {
  std::string behind;
  for (const Till& till : tills) {
    const edge::SyncState st = till.sync->state();
    if (st.backlog == 0) continue;
    if (!behind.empty()) behind += ", ";
    behind += till.journal->options().device_id + " (backlog " + std::to_string(st.backlog);
    if (!st.connected) {
      behind += ", not connected";
    } else if (!st.fog_online) {
      behind += ", fog offline";
    }
    behind += ")";
  }
  return behind;
}

// Sells on every till at once; the main thread meanwhile watches for a stop
// signal. Returns the first till's failure, if any.
Status Sell(std::vector<Till>& tills, const Args& args, SteadyClock::time_point start,
            StopSignals& signals) {
  FirstError error;
  std::atomic<bool> stop{false};
  std::atomic<size_t> running{tills.size()};
  std::vector<std::thread> threads;
  for (Till& till : tills) {
    threads.emplace_back([&till, &args, start, &error, &stop, &running] {
      Status s = Drive(*till.sim, args, start, stop);
      till.done = SteadyClock::now();
      if (!s.ok()) {
        error.Set(s);
        stop = true;
      }
      --running;
    });
  }
  while (running > 0) {
    if (signals.Wait(std::chrono::milliseconds(20))) stop = true;
  }
  for (std::thread& t : threads) t.join();
  return error.status();
}

int Run(const Args& args) {
  StopSignals signals;
  const bool syncing = !args.broker.uri.empty();
  std::error_code ec;
  std::filesystem::create_directories(args.data, ec);
  if (ec) return Fail(kExitUsage, "cannot create " + args.data + ": " + ec.message());

  // Open every journal first, so that a configuration error (a DIR made for
  // another store) stops the run before anything is recorded.
  auto parsed_mix = sim::ParseMix(args.mix);
  if (!parsed_mix.ok()) return Fail(kExitUsage, parsed_mix.status().message());
  const sim::Mix mix = *parsed_mix;
  std::vector<Till> tills(static_cast<size_t>(args.tills));
  for (int i = 0; i < args.tills; ++i) {
    const int k = args.first_till + i;
    Till& till = tills[static_cast<size_t>(i)];
    edge::Options options = sim::SimTillOptions(args.data, args.store, sim::SimDeviceId(k));
    if (args.sim_rates) options.settings = sim::SimFxSettings(args.store);
    if (!args.settings.empty()) {
      auto doc = files::Read(args.settings);
      if (!doc.ok()) return Fail(kExitUsage, doc.status().ToString());
      options.settings = *doc;
    }
    auto journal = edge::Journal::Open(options);
    if (!journal.ok()) return Fail(kExitUsage, journal.status().ToString());
    till.journal = std::move(*journal);
    till.sim = std::make_unique<sim::TillSim>(till.journal.get(), args.seed, k, mix);
  }
  // The engines connect in the background (each Paho client after the first
  // can take seconds), so start them all before selling rather than waiting.
  if (syncing) {
    for (Till& till : tills) {
      auto engine = edge::SyncEngine::Start(till.journal.get(), SyncOptionsFor(args.broker));
      if (!engine.ok()) return Fail(kExitUsage, engine.status().ToString());
      till.sync = std::move(*engine);
    }
  }

  const auto start = SteadyClock::now();
  if (Status s = Sell(tills, args, start, signals); !s.ok()) {
    return Fail(kExitFailed, s.ToString());
  }
  SteadyClock::time_point end = start;
  for (const Till& till : tills) end = std::max(end, till.done);
  const double seconds = Seconds(end - start).count();

  if (syncing && args.wait_synced >= 0) {
    const auto deadline = SteadyClock::now() + ToDuration(args.wait_synced);
    std::string behind = TillsBehind(tills);
    while (!behind.empty() && SteadyClock::now() < deadline && !signals.received()) {
      signals.Wait(std::chrono::milliseconds(50));
      behind = TillsBehind(tills);
    }
    if (!behind.empty()) {
      return Fail(kExitFailed, std::string(signals.received() ? "stopped" : "timed out") +
                                   " before the fog acked every event; still behind: " + behind);
    }
  }
  if (syncing && args.linger > 0) {
    // Scripts and tests wait for this line: selling and syncing are done.
    std::cerr << "pos-sim: lingering on line for " << args.linger << " s\n" << std::flush;
    signals.WaitUntil(SteadyClock::now() + ToDuration(args.linger));
  }

  std::vector<v1::SimTill> summaries;
  for (Till& till : tills) {
    v1::SimTill summary = till.sim->Summary();
    if (till.sync) {
      const edge::SyncState st = till.sync->state();
      till.sync->Stop();  // says offline and records the acked seq
      v1::SimSync* out = summary.mutable_sync();
      out->set_connected(st.connected);
      out->set_fog_online(st.fog_online);
      out->set_acked_seq(st.acked_seq);
      out->set_backlog(st.backlog);
    }
    summaries.push_back(std::move(summary));
  }
  tills.clear();  // close the journals before reading them back
  auto report = sim::Report(args.store, std::move(summaries), seconds);
  if (!report.ok()) return Fail(kExitFailed, report.status().ToString());
  std::cout << tools::JsonPretty(*report);
  return 0;
}

int RunDemand(const sim::demand::Options& options, const std::string& out) {
  if (Status s = sim::demand::Check(options); !s.ok()) return Fail(kExitUsage, s.message());
  const auto started = SteadyClock::now();
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!file) return Fail(kExitUsage, "cannot write " + out);
  if (Status s = sim::demand::WriteCsv(options, file); !s.ok()) {
    return Fail(kExitFailed, out + ": " + s.message());
  }
  file.close();
  if (!file) return Fail(kExitFailed, "cannot write " + out);
  std::printf("{\"items\":%d,\"days\":%d,\"rows\":%lld,\"seconds\":%.3f}\n", options.items,
              options.days, static_cast<long long>(options.items) * options.days,
              Seconds(SteadyClock::now() - started).count());
  return 0;
}

}  // namespace
}  // namespace storenode

int main(int argc, char** argv) {
  storenode::Args args;
  CLI::App app{
      "Deterministic simulated tills recording into their own journals, offline or "
      "syncing to the store's fog (--broker).",
      "pos-sim"};
  app.set_version_flag("--version", std::string("pos-sim ") + STORENODE_VERSION);
  app.add_option("--tills", args.tills, "number of tills (till-1..till-N)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--first-till", args.first_till,
                 "number of the first till: --first-till 3 --tills 2 runs till-3 and till-4")
      ->check(CLI::Range(1, 1000));
  app.add_option("--sales", args.sales, "sale receipts per till (other events come on top)");
  app.add_option("--seed", args.seed, "seed of the simulation");
  app.add_option("--data", args.data, "directory of the journals (DIR/till-K.db); required");
  app.add_option("--store", args.store, "store id")->capture_default_str();
  app.add_option("--settings", args.settings,
                 "the store settings the tills date and price by: the fog's data dir "
                 "settings.pb (default: the simulated store's, UTC, sim::SimSettings)")
      ->type_name("FILE");
  app.add_option("--mix", args.mix,
                 "the event mix: all (every kind) or classic (round 1's kinds only: the "
                 "stream a seed gave before issue 17); foreign currency needs settings with "
                 "a rate sheet")
      ->capture_default_str();
  app.add_flag("--sim-rates", args.sim_rates,
               "date and price by the simulated store's settings with its rate sheet "
               "(USD, GBP, JPY, CHF; sim::SimFxSettings), for a run without a fog");
  app.add_option("--rate", args.rate, "sales per second per till, 0 = as fast as possible")
      ->type_name("R")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", args.duration, "stop selling after this many seconds")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber);
  storenode::tools::AddBrokerOptions(&app, &args.broker);
  app.add_option("--wait-synced", args.wait_synced,
                 "after selling, wait up to SECONDS until the fog acked every event "
                 "(exit 1 if not)")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber)
      ->group("Broker");
  app.add_option("--linger", args.linger,
                 "after selling, stay connected for SECONDS (syncing, obeying the fog's "
                 "commands); SIGTERM/SIGINT end it")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber)
      ->group("Broker");
  storenode::sim::demand::Options demand;
  std::string demand_out;
  CLI::App* demand_cmd = app.add_subcommand(
      "demand", "write daily demand histories (date,sku,qty,on_hand,price) instead of tills");
  demand_cmd->add_option("--items", demand.items, "items")->capture_default_str();
  demand_cmd->add_option("--days", demand.days, "days")->capture_default_str();
  demand_cmd->add_option("--seed", demand.seed, "seed")->capture_default_str();
  demand_cmd->add_option("--start", demand.start, "first day")->capture_default_str();
  demand_cmd->add_option("--out", demand_out, "the CSV file to write")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "pos-sim: " << e.what() << "\n";
    return storenode::kExitUsage;
  }
  auto usage = [](const std::string& message) {
    std::cerr << "pos-sim: " << message << "\n";
    return storenode::kExitUsage;
  };
  if (demand_cmd->parsed()) return storenode::RunDemand(demand, demand_out);
  if (args.data.empty()) return usage("--data DIR is required");
  // With --linger, selling nothing is fine: the tills only stay on line.
  if (args.sales == 0 && args.duration == 0 && args.linger == 0) {
    return usage("give --sales M and/or --duration SECONDS (or --linger SECONDS)");
  }
  if (args.store.empty()) return usage("--store must not be empty");
  if (args.broker.uri.empty()) {
    if (app.count("--wait-synced") + app.count("--linger") + app.count("--insecure") +
            app.count("--ca") + app.count("--cert") + app.count("--key") >
        0) {
      return usage("--wait-synced, --linger and the TLS flags need --broker URI");
    }
  } else if (auto s = storenode::tools::CheckBrokerFlags(args.broker); !s.ok()) {
    return usage(s.message());
  }
  // Library logs (sync, MQTT) go to stderr; stdout is for the JSON.
  (void)storenode::log::Init("pos-sim", "warn");
  return storenode::Run(args);
}
