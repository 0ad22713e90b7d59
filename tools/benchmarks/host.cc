// The bench's host facts and its children's set-up (host.h).
#include "host.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "sim/sim.h"

namespace storenode::bench {

Result<std::unique_ptr<Broker>> StartBroker(const std::string& dir) {
  auto broker = std::make_unique<Broker>(
      dir, harness::BrokerOptions{.max_queued_messages = 1000000, .log_information = false});
  SN_RETURN_IF_ERROR(broker->Start());
  return broker;
}

Result<double> HostBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  // cpu user nice system idle iowait irq softirq steal ...
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu") {
    return Status::Io("cannot parse /proc/stat");
  }
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

double HostLoad1m() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  in >> load;
  return load;
}

Result<std::string> SelfExe() {
  std::string path(4096, '\0');
  ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size());
  if (n <= 0) return Status::Io(std::string("cannot read /proc/self/exe: ") + std::strerror(errno));
  path.resize(static_cast<size_t>(n));
  return path;
}

Result<std::string> FogdBesideSelf() {
  SN_ASSIGN_OR_RETURN(std::string self, SelfExe());
  return (std::filesystem::path(self).parent_path() / "storenode-fogd").string();
}

Status WriteFogConfig(const std::string& path, std::string_view store,
                      const std::string& broker_uri, const std::string& data_dir) {
  std::ofstream out(path, std::ios::trunc);
  out << "[store]\nid = \"" << store << "\"\n"
      << sim::SimStoreConfig() << "\n"
      << "[broker]\nuri = \"" << broker_uri << "\"\ninsecure = true\n\n"
      << "[data]\ndir = \"" << data_dir
      << "\"\n\n"
      // The benches ask as "bench", which imports catalogs.
      << "[roles]\nsupervisor = [\"bench\"]\n\n"
      << "[log]\nlevel = \"warn\"\n";
  out.close();
  if (!out) return Status::Io("cannot write " + path);
  return Status::Ok();
}

int64_t MonotonicNanos() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
}

}  // namespace storenode::bench
