#include "harness/postgres.h"

#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "harness/process.h"

namespace storenode::harness {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

}  // namespace

PgCluster::PgCluster(std::string dir)
    : dir_(std::move(dir)), data_dir_(dir_ + "/data"), log_path_(dir_ + "/pg.log") {}

PgCluster::~PgCluster() {
  if (running_ && !StopFast().ok()) Kill();
}

Status PgCluster::RunAsServerUser(std::vector<std::string> argv) const {
  if (::geteuid() == 0) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  auto p = Process::Spawn(argv, log_path_, log_path_);
  if (!p.ok()) return p.status();
  Process::Exit e = p->Wait();
  if (e.code != 0) {
    return Status::Unavailable(argv[argv.size() > 4 && ::geteuid() == 0 ? 4 : 0] + " exited " +
                               std::to_string(e.code) + " (see " + log_path_ + ")");
  }
  return Status::Ok();
}

Status PgCluster::Start() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Status::Io("cannot make " + dir_ + ": " + ec.message());
  if (::geteuid() == 0) {
    // The server's user must own its directory and be able to reach it.
    const passwd* pg = ::getpwnam("postgres");
    if (pg == nullptr) return Status::Unavailable("no user 'postgres' (install postgresql-15)");
    if (::chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
      return Status::Io("cannot chown " + dir_ + " to postgres");
    }
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                    ec);
    for (fs::path p = fs::path(dir_).parent_path(); p != p.root_path(); p = p.parent_path()) {
      if (p == "/tmp") break;  // sticky and world-reachable already
      fs::permissions(p, fs::perms::others_exec, fs::perm_options::add, ec);
    }
    std::ofstream(log_path_, std::ios::app).close();
    if (::chown(log_path_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
      return Status::Io("cannot chown " + log_path_);
    }
  }
  if (!fs::exists(data_dir_ + "/PG_VERSION")) {
    SN_RETURN_IF_ERROR(RunAsServerUser({std::string(kBin) + "initdb", "-D", data_dir_, "-U",
                                        "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"}));
  }
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (port_ <= 0 || attempt > 0) port_ = FreePort();
    if (port_ <= 0) return Status::Io("no free port");
    last = RunAsServerUser({std::string(kBin) + "pg_ctl", "-D", data_dir_, "-l", log_path_, "-w",
                            "-t", "60", "-o",
                            "-p " + std::to_string(port_) + " -c listen_addresses=127.0.0.1 -k " +
                                dir_ + " -c max_connections=200",
                            "start"});
    if (last.ok()) {
      running_ = true;
      return last;
    }
  }
  return last;
}

Status PgCluster::StopFast() {
  if (!running_) return Status::Ok();
  running_ = false;
  return RunAsServerUser(
      {std::string(kBin) + "pg_ctl", "-D", data_dir_, "-m", "fast", "-w", "-t", "60", "stop"});
}

void PgCluster::Kill() {
  std::ifstream pidfile(data_dir_ + "/postmaster.pid");
  pid_t pid = 0;
  if (pidfile >> pid && pid > 0) ::kill(pid, SIGKILL);
  running_ = false;
  // Until it is reaped (by init: pg_ctl daemonized it) its pid still
  // exists, and a new postmaster would take the lock file for its own.
  for (int i = 0; i < 1000 && pid > 0 && ::kill(pid, 0) == 0; ++i) ::usleep(10000);
}

std::string PgCluster::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname +
         " user=postgres connect_timeout=5";
}

}  // namespace storenode::harness
