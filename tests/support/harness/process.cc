// Child processes, /proc figures, scratch directories and ports (process.h).
#include "harness/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace storenode::harness {
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

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

Result<Process> Process::Spawn(std::vector<std::string> argv, std::string stdout_path,
                               std::string stderr_path) {
  if (argv.empty()) return Status::Invalid("spawn: empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // No O_CLOEXEC: the opened fd becomes the child's stdout/stderr and must survive exec.
  const int flags = O_WRONLY | O_CREAT | O_APPEND;
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(), flags, 0644);
  }
  if (!stderr_path.empty() && stderr_path == stdout_path) {
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  } else if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), flags, 0644);
  }
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::Io("cannot start " + argv[0] + ": " + std::strerror(rc));
  return Process(pid);
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), exit_(other.exit_) {
  other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Reset();
    pid_ = other.pid_;
    exit_ = other.exit_;
    other.pid_ = -1;
  }
  return *this;
}

Process::~Process() { Reset(); }

void Process::Reset() {
  if (pid_ > 0 && !exit_) {
    Kill(SIGKILL);
    Wait();
  }
  pid_ = -1;
  exit_.reset();
}

void Process::Kill(int sig) {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

std::optional<Process::Exit> Process::Reap(bool block) {
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

std::optional<Process::Exit> Process::Poll() { return Reap(/*block=*/false); }

Process::Exit Process::Wait() {
  std::optional<Exit> e = Reap(/*block=*/true);
  return e ? *e : Exit{};
}

Result<ProcUsage> ReadProcUsage(pid_t pid) {
  ProcUsage usage;
  std::ifstream status(ProcPath(pid, "status"));
  std::string line;
  bool found = false;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) {
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

Result<std::string> MakeTempDir(std::string_view prefix) {
  std::string tmpl = "/tmp/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::Io("cannot create a directory " + tmpl + ": " + std::strerror(errno));
  }
  return tmpl;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr = Loopback(0);
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
  sockaddr_in addr = Loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace storenode::harness
