// bench MODE [options]: storenode latency benchmarks. Each mode lives in its
// own file and prints one JSON object on stdout (see bench.h).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "bench.h"

namespace storenode::bench {
namespace {

struct Mode {
  std::string_view name;
  std::string_view summary;  // empty: a mode that other modes start, not listed
  ModeFn run;
};

// One row per mode: a file <mode>_bench.cc, its Run<Mode>() in bench.h and a
// row here.
constexpr Mode kModes[] = {
    {"journal", "RecordSale() latency against a raw durable SQLite commit", RunJournal},
    {"sync", "drain of 10 tills' offline backlog against raw SQLite and MQTT limits", RunSync},
    {"closedown", "close-down of a 1,000,000-line day against a plain SQL GROUP BY", RunClosedown},
    {"catalog", "a 100,000-item catalog snapshot and a 1,000-item delta to 10 tills", RunCatalog},
    {"chain", "the chain's cloud (NATS, PostgreSQL, ledger workers) under 2,000 stores", RunChain},
    {"forecast", "forecasts and order-up-to levels of 100,000 items over a year of history",
     RunForecast},
    {"reorder", "the fog's reorder job over a fog.db of 10,000 items and a year of sales",
     RunReorder},
    {"sync-till", "", RunSyncTill},
    {"chain-stores", "", RunChainStores},
    {"catalog-till", "", RunCatalogTill},
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: bench MODE [options]   (bench MODE --help for the options)\nmodes:\n");
  for (const Mode& mode : kModes) {
    if (mode.summary.empty()) continue;
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(mode.name.size()), mode.name.data(),
                 static_cast<int>(mode.summary.size()), mode.summary.data());
  }
}

int Main(int argc, char** argv) {
  // stdout is the JSON: the log lines of the components a mode runs in this
  // process go to stderr, warnings and errors only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("bench"));
  spdlog::set_level(spdlog::level::warn);
  if (argc < 2) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Mode& mode : kModes) {
    if (mode.name == name) return mode.run(args);
  }
  std::string known;
  for (const Mode& mode : kModes) {
    if (!mode.summary.empty()) known += (known.empty() ? "" : ", ") + std::string(mode.name);
  }
  std::fprintf(stderr, "bench: unknown mode '%s' (modes: %s)\n", argv[1], known.c_str());
  return kExitUsage;
}

}  // namespace
}  // namespace storenode::bench

int main(int argc, char** argv) { return storenode::bench::Main(argc, argv); }
