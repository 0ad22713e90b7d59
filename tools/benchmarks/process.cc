// Child processes, /proc figures and ports for the bench (process.h).
#include "process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace storenode::bench {
namespace {

double Seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

std::string ProcPath(pid_t pid, const char* leaf) {
  return "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/" + leaf;
}

}  // namespace

Result<Child> Child::Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) return Status::Invalid("spawn: empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (std::string& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::Io("cannot start " + argv[0] + ": " + std::strerror(rc));
  return Child(pid);
}

Child::Child(Child&& other) noexcept : pid_(other.pid_), exit_(other.exit_) { other.pid_ = -1; }

Child::~Child() {
  if (pid_ > 0 && !exit_) {
    Signal(SIGKILL);
    Wait();
  }
}

void Child::Signal(int sig) {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

std::optional<Child::Exit> Child::Reap(bool block) {
  if (exit_ || pid_ <= 0) return exit_;
  int status = 0;
  rusage usage{};
  pid_t r;
  do {
    r = ::wait4(pid_, &status, block ? 0 : WNOHANG, &usage);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;  // still running
  Exit e;
  if (r == pid_) {
    e.code = DecodeStatus(status);
    e.cpu_seconds = Seconds(usage.ru_utime) + Seconds(usage.ru_stime);
    e.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
  }
  exit_ = e;
  return exit_;
}

std::optional<Child::Exit> Child::Poll() { return Reap(/*block=*/false); }

Child::Exit Child::Wait() {
  std::optional<Exit> e = Reap(/*block=*/true);
  return e ? *e : Exit{};
}

Result<ProcUsage> ReadProcUsage(pid_t pid) {
  ProcUsage usage;
  std::ifstream status(ProcPath(pid, "status"));
  std::string line;
  bool found = false;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      usage.peak_rss_mb = std::stod(line.substr(6)) / 1024.0;  // "VmHWM:   12345 kB"
      found = true;
      break;
    }
  }
  if (!found) return Status::Io("no VmHWM in " + ProcPath(pid, "status"));
  std::ifstream stat_file(ProcPath(pid, "stat"));
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; fields 14 and 15 (utime,
  // stime, in clock ticks) are counted from the ')' that closes it.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return Status::Io("cannot parse " + ProcPath(pid, "stat"));
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  usage.cpu_seconds =
      static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return usage;
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

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

Status WriteFogConfig(const std::string& path, std::string_view store,
                      const std::string& broker_uri, const std::string& data_dir) {
  std::ofstream out(path, std::ios::trunc);
  out << "[store]\nid = \"" << store << "\"\n\n"
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
