// pos-sim: deterministic simulated tills.
//
// Each till (device till-K, journal DIR/till-K.db) runs in its own thread and
// records a realistic mix of events (tools/sim/sim.h) offline, into its own
// journal. At the end pos-sim prints, as JSON, every till's exact totals per
// business day, computed back from its journal file. Rerunning with the same
// DIR continues the existing journals.
//
// Exit codes: 0 done, 1 a till failed, 2 bad arguments or configuration.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/json.h"
#include "sim/sim.h"
#include "storenode/edge.h"

namespace storenode {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Args {
  int tills = 1;
  uint64_t sales = 0;  // per till; 0 = until --duration
  uint64_t seed = 1;
  std::string data;
  std::string store = "store-1";
  double rate = 0;      // sales per second per till; 0 = as fast as possible
  double duration = 0;  // seconds; 0 = until --sales
};

// One simulated till: its journal and the simulator driving it. A sync
// engine (edge::SyncEngine) would live here too, started after the journal
// opens and stopped before it closes.
struct Till {
  std::unique_ptr<edge::Journal> journal;
  std::unique_ptr<sim::TillSim> sim;
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

// Steps `sim` until it has made args.sales sales or args.duration passed,
// keeping to args.rate sales per second.
Status Drive(sim::TillSim& sim, const Args& args, SteadyClock::time_point start,
             const FirstError& error) {
  using Seconds = std::chrono::duration<double>;
  const auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                                    Seconds(args.duration > 0 ? args.duration : 1e9));
  while (args.sales == 0 || sim.sales() < args.sales) {
    if (error.failed() || SteadyClock::now() >= deadline) break;
    if (args.rate > 0) {
      auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                             Seconds(static_cast<double>(sim.sales()) / args.rate));
      std::this_thread::sleep_until(std::min(due, deadline));
      if (SteadyClock::now() >= deadline) break;
    }
    SN_RETURN_IF_ERROR(sim.Step());
  }
  return Status::Ok();
}

int Fail(int code, const std::string& message) {
  std::cerr << "pos-sim: " << message << "\n";
  return code;
}

int Run(const Args& args) {
  std::error_code ec;
  std::filesystem::create_directories(args.data, ec);
  if (ec) return Fail(kExitUsage, "cannot create " + args.data + ": " + ec.message());

  // Open every journal first, so that a configuration error (a DIR made for
  // another store) stops the run before anything is recorded.
  std::vector<Till> tills(static_cast<size_t>(args.tills));
  for (int k = 1; k <= args.tills; ++k) {
    Till& till = tills[static_cast<size_t>(k - 1)];
    auto journal =
        edge::Journal::Open(sim::SimTillOptions(args.data, args.store, sim::SimDeviceId(k)));
    if (!journal.ok()) return Fail(kExitUsage, journal.status().ToString());
    till.journal = std::move(*journal);
    till.sim = std::make_unique<sim::TillSim>(till.journal.get(), args.seed, k);
  }

  FirstError error;
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (Till& till : tills) {
    threads.emplace_back([&till, &args, start, &error] {
      Status s = Drive(*till.sim, args, start, error);
      if (!s.ok()) error.Set(s);
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (error.failed()) return Fail(kExitFailed, error.status().ToString());

  std::vector<v1::SimTill> summaries;
  for (const Till& till : tills) summaries.push_back(till.sim->Summary());
  tills.clear();  // close the journals before reading them back
  auto report = sim::Report(args.store, std::move(summaries), seconds);
  if (!report.ok()) return Fail(kExitFailed, report.status().ToString());
  std::cout << tools::JsonPretty(*report);
  return 0;
}

}  // namespace
}  // namespace storenode

int main(int argc, char** argv) {
  storenode::Args args;
  CLI::App app{"Deterministic simulated tills recording into their own journals, offline.",
               "pos-sim"};
  app.add_option("--tills", args.tills, "number of tills (till-1..till-N)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--sales", args.sales, "sale receipts per till (other events come on top)");
  app.add_option("--seed", args.seed, "seed of the simulation");
  app.add_option("--data", args.data, "directory of the journals (DIR/till-K.db)")->required();
  app.add_option("--store", args.store, "store id")->capture_default_str();
  app.add_option("--rate", args.rate, "sales per second per till, 0 = as fast as possible")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", args.duration, "stop after this many seconds")
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "pos-sim: " << e.what() << "\n";
    return storenode::kExitUsage;
  }
  if (args.sales == 0 && args.duration == 0) {
    std::cerr << "pos-sim: give --sales M and/or --duration SECONDS\n";
    return storenode::kExitUsage;
  }
  if (args.store.empty()) {
    std::cerr << "pos-sim: --store must not be empty\n";
    return storenode::kExitUsage;
  }
  return storenode::Run(args);
}
