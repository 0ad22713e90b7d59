// bench catalog: a catalog snapshot and a delta from the fog to N tills.
//
// The broker, storenode-fogd and every till (`bench catalog-till`, an
// edge::Journal with its SyncEngine) are processes of their own. Each till
// writes DIR/D.vN with the CLOCK_MONOTONIC time it had catalog version N
// applied; the bench times from the import's answer to the last such file.
// See CatalogBenchResult in schemas/bench.proto for every figure.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench.h"
#include "host.h"
#include "sim/sim.h"
#include "storenode/common/catalog.h"
#include "storenode/edge.h"
#include "storenode/fog/client.h"
#include "storenode/schemas/bench.pb.h"
#include "storenode/schemas/fog.pb.h"
#include "sync_bench.h"

namespace storenode::bench {
namespace {

constexpr std::string_view kUsage =
    "usage: bench catalog [--items N] [--tills N] [--delta N]\n"
    "  imports N items (default 100000) at a fresh fog, times until N tills (default 10)\n"
    "  have applied the snapshot, then a delta of --delta price changes (default 1000)\n";
constexpr std::string_view kTillUsage =
    "usage: bench catalog-till --dir DIR --store S --device D --broker URI --versions N\n";

constexpr double kTargetSnapshotS = 5, kTargetDeltaS = 0.3, kTargetTillRssMb = 40;
constexpr std::string_view kStore = "bench";

struct Config {
  uint32_t items = 100000, tills = 10, delta = 1000;
};

std::string Csv(uint32_t from, uint32_t to, int64_t base) {
  std::string out = "sku,barcodes,name,price,tax_code,department,active\n";
  char line[160];
  for (uint32_t i = from; i < to; ++i) {
    std::snprintf(line, sizeof line, "SKU-%07u,40%011u,Item number %u,%lld,%c,dept-%u,1\n", i, i, i,
                  static_cast<long long>(base + i), "ABC"[i % 3], i % 20);
    out += line;
  }
  return out;
}

// DIR/D.vN: when till D had version N applied; DIR/D.mN: when it first saw
// the manifest of version N. Both CLOCK_MONOTONIC nanoseconds.
std::string Marker(const std::string& dir, uint32_t till, uint64_t version, char kind = 'v') {
  return dir + "/" + sim::SimDeviceId(static_cast<int>(till)) + "." + kind +
         std::to_string(version);
}

void WriteMarker(const std::string& path) {
  std::ofstream(path + ".tmp") << MonotonicNanos() << "\n";
  std::filesystem::rename(path + ".tmp", path);
}

int64_t ReadMarker(const std::string& path) {
  std::ifstream in(path);
  int64_t at = 0;
  in >> at;
  return at;
}

// Waits until every till applied `version`; the time from the first
// manifest seen to the last apply, in seconds.
Result<double> WaitApplied(const std::string& dir, const Config& c, uint64_t version,
                           std::vector<Process>& tills) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int64_t last = 0;
  for (uint32_t i = 1; i <= c.tills; ++i) {
    while (!std::filesystem::exists(Marker(dir, i, version))) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Unavailable("till " + std::to_string(i) + " did not apply version " +
                                   std::to_string(version));
      }
      if (auto e = tills[i - 1].Poll()) {
        return Status::Unavailable("till " + std::to_string(i) + " exited with " +
                                   std::to_string(e->code));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    last = std::max(last, ReadMarker(Marker(dir, i, version)));
  }
  int64_t first = last;
  for (uint32_t i = 1; i <= c.tills; ++i) {
    if (std::filesystem::exists(Marker(dir, i, version, 'm'))) {
      first = std::min(first, ReadMarker(Marker(dir, i, version, 'm')));
    }
  }
  return (last - first) / 1e9;
}

Result<v1::CatalogImportResponse> Import(const FogClientOptions& o, const std::string& csv) {
  v1::FogRequest req;
  req.mutable_catalog_import()->set_csv(csv);
  req.mutable_catalog_import()->set_file_name("bench.csv");
  SN_ASSIGN_OR_RETURN(v1::FogResponse r, AskFog(o, req));
  if (!r.ok()) return Status::Unavailable("import refused: " + r.error());
  return r.catalog_import();
}

Status Run(const Config& c, v1::CatalogBenchResult* out) {
  out->set_items(c.items);
  out->set_tills(c.tills);
  out->set_delta_items(c.delta);
  out->set_cores(HostCores());
  out->set_date(NowIso());
  out->set_kernel(HostKernel());
  SN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("sn-bench-catalog"));
  const std::string d = dir.path();
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Broker> broker, StartBroker(d));
  SN_ASSIGN_OR_RETURN(std::string self, SelfExe());
  SN_ASSIGN_OR_RETURN(const std::string fogd, FogdBesideSelf());
  SN_RETURN_IF_ERROR(WriteFogConfig(d + "/fog.toml", kStore, broker->uri(), d + "/fog"));
  SN_ASSIGN_OR_RETURN(Process fog, Process::Spawn({fogd, "--config", d + "/fog.toml"},
                                                  d + "/fogd.log", d + "/fogd.log"));
  FogClientOptions o;
  o.broker_uri = broker->uri();
  o.store_id = std::string(kStore);
  o.identity = "bench";  // a supervisor (WriteFogConfig)
  o.timeout = std::chrono::seconds(60);
  v1::FogRequest ping;
  ping.mutable_status();
  SN_RETURN_IF_ERROR(AskFog(o, ping).status());

  std::vector<Process> tills;
  for (uint32_t i = 1; i <= c.tills; ++i) {
    SN_ASSIGN_OR_RETURN(
        Process t, Process::Spawn({self, "catalog-till", "--dir", d, "--store", std::string(kStore),
                                   "--device", sim::SimDeviceId(static_cast<int>(i)), "--broker",
                                   broker->uri(), "--versions", "2"},
                                  d + "/tills.log", d + "/tills.log"));
    tills.push_back(std::move(t));
  }
  // Every till connected (its status reached the fog) before timing.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    auto s = AskFog(o, ping);
    uint32_t online = 0;
    if (s.ok()) {
      for (const auto& t : s->status().tills()) online += t.online();
    }
    if (online == c.tills) break;
    if (std::chrono::steady_clock::now() > deadline) return Status::Unavailable("tills offline");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  std::string snapshot = Csv(0, c.items, 100);
  int64_t t0 = MonotonicNanos();
  SN_ASSIGN_OR_RETURN(v1::CatalogImportResponse v1r, Import(o, snapshot));
  out->set_import_s((MonotonicNanos() - t0) / 1e9);
  SN_ASSIGN_OR_RETURN(double snapshot_s, WaitApplied(d, c, v1r.version(), tills));
  out->set_snapshot_s(snapshot_s);

  std::string delta = Csv(c.items / 3, c.items / 3 + c.delta, 555);
  t0 = MonotonicNanos();
  SN_ASSIGN_OR_RETURN(v1::CatalogImportResponse v2r, Import(o, delta));
  out->set_import_delta_s((MonotonicNanos() - t0) / 1e9);
  SN_ASSIGN_OR_RETURN(double delta_s, WaitApplied(d, c, v2r.version(), tills));
  out->set_delta_s(delta_s);

  double till_rss = 0;
  for (Process& t : tills) {
    Process::Exit e = t.Wait();
    if (e.code != 0) return Status::Unavailable("a till exited with " + std::to_string(e.code));
    till_rss = std::max(till_rss, e.peak_rss_mb);
  }
  out->set_till_peak_rss_mb(till_rss);
  if (auto u = ReadProcUsage(fog.pid()); u.ok()) out->set_fog_peak_rss_mb(u->peak_rss_mb);

  // The raw limit: the snapshot's chunks through the same broker.
  uint32_t chunks = 0;
  {
    // The snapshot's size: its items' wire form as the fog holds them.
    v1::FogRequest show;
    show.mutable_catalog_show();
    SN_ASSIGN_OR_RETURN(v1::FogResponse all, AskFog(o, show));
    size_t bytes = 0;
    for (const auto& item : all.catalog_show().items()) bytes += item.ByteSizeLong() + 4;
    chunks = static_cast<uint32_t>((bytes + catalog::kChunkBytes - 1) / catalog::kChunkBytes);
    out->set_snapshot_bytes(static_cast<uint32_t>(bytes));
    out->set_snapshot_chunks(chunks);
  }
  std::vector<std::string> payloads(4, std::string(catalog::kChunkBytes, 'x'));
  for (size_t i = 0; i < payloads.size(); ++i) payloads[i][0] = static_cast<char>(i);
  SN_ASSIGN_OR_RETURN(
      double rate,
      RawMqttMessagesPerSecond(broker->uri(), payloads, std::max<uint32_t>(chunks * 2, 50), 10));
  out->set_raw_chunk_msgs_per_s(rate);
  out->set_raw_snapshot_transfer_s(chunks * c.tills / rate);
  fog.Kill(SIGTERM);
  fog.Wait();

  auto miss = [&](const std::string& m) { out->add_missed_targets(m); };
  if (out->snapshot_s() >= kTargetSnapshotS) miss("snapshot_s above 5");
  if (out->delta_s() >= kTargetDeltaS) miss("delta_s above 0.3");
  if (out->till_peak_rss_mb() > kTargetTillRssMb) miss("till_peak_rss_mb above 40");
  out->set_target_met(out->missed_targets_size() == 0);
  return Status::Ok();
}

struct TillConfig {
  std::string dir, store, device, broker;
  uint32_t versions = 2;
};

Status RunTill(const TillConfig& c) {
  SN_ASSIGN_OR_RETURN(SimTill till, StartSimTill(c.dir, c.store, c.device, c.broker));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  uint64_t applied = till.journal->catalog().version(), announced = 0;
  const std::string prefix = c.dir + "/" + c.device;
  while (applied < c.versions) {
    if (std::chrono::steady_clock::now() > deadline) return Status::Unavailable("timeout");
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    edge::SyncState st = till.engine->state();
    if (st.catalog_available != announced) {
      announced = st.catalog_available;
      WriteMarker(prefix + ".m" + std::to_string(announced));
    }
    if (st.catalog_version != applied) {
      applied = st.catalog_version;
      WriteMarker(prefix + ".v" + std::to_string(applied));
    }
  }
  till.engine->Stop();
  return Status::Ok();
}

}  // namespace

int RunCatalog(const std::vector<std::string>& args) {
  Config c;
  const Flag flags[] = {{"items", &c.items}, {"tills", &c.tills}, {"delta", &c.delta}};
  return RunMode<v1::CatalogBenchResult>(
      "catalog", kUsage, args, flags,
      [&] {
        if (c.items == 0 || c.tills == 0 || c.delta == 0 || c.delta > c.items) {
          return Status::Invalid("items, tills and delta must be positive, delta <= items");
        }
        return Status::Ok();
      },
      [&](v1::CatalogBenchResult* r) { return Run(c, r); });
}

int RunCatalogTill(const std::vector<std::string>& args) {
  TillConfig c;
  const Flag flags[] = {{"dir", &c.dir},
                        {"store", &c.store},
                        {"device", &c.device},
                        {"broker", &c.broker},
                        {"versions", &c.versions}};
  Status s = ParseFlags(args, flags);
  if (!s.ok()) {
    std::fprintf(stderr, "bench catalog-till: %s\n%.*s", s.message().c_str(),
                 static_cast<int>(kTillUsage.size()), kTillUsage.data());
    return kExitUsage;
  }
  s = RunTill(c);
  if (!s.ok()) {
    std::fprintf(stderr, "bench catalog-till %s: %s\n", c.device.c_str(), s.ToString().c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace storenode::bench
