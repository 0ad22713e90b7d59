// The harness's mosquitto (broker.h): written config, start, restart, pause, reload.
#include "harness/broker.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace storenode::harness {
namespace {

constexpr char kMosquitto[] = "/usr/sbin/mosquitto";
constexpr auto kStartTimeout = std::chrono::seconds(5);

}  // namespace

Broker::Broker(std::string dir, BrokerOptions options)
    : dir_(std::move(dir)),
      options_(options),
      conf_path_(dir_ + "/mosquitto.conf"),
      log_path_(dir_ + "/mosquitto.log") {
  std::filesystem::create_directories(dir_);
}

Broker::~Broker() { Kill(); }

Status Broker::WriteConfig() const {
  std::ofstream out(conf_path_, std::ios::trunc);
  // A config that names a listener makes mosquitto ignore -p, so the port is
  // only here. Run as ourselves: as root, mosquitto would otherwise switch to
  // the "mosquitto" user, which cannot write the log in dir_.
  const passwd* pw = ::getpwuid(::geteuid());
  out << "listener " << port_ << " 127.0.0.1\n"
      << "allow_anonymous true\n"
      << "persistence false\n"
      << "max_queued_messages " << options_.max_queued_messages << "\n"
      << "max_inflight_messages 100\n"
      << "set_tcp_nodelay true\n"
      << "log_dest file " << log_path_ << "\n"
      << "log_type error\nlog_type warning\nlog_type notice\n"
      << "connection_messages true\n"
      << "log_timestamp_format %H:%M:%S\n";
  if (options_.log_information) out << "log_type information\n";
  if (pw != nullptr) out << "user " << pw->pw_name << "\n";
  out.close();
  if (!out) return Status::Io("cannot write " + conf_path_);
  return Status::Ok();
}

Status Broker::Launch() {
  if (given_config_.empty()) {
    SN_RETURN_IF_ERROR(WriteConfig());
  } else {
    std::ifstream in(given_config_);
    std::ofstream out(conf_path_, std::ios::trunc);
    out << in.rdbuf();
    const passwd* pw = ::getpwuid(::geteuid());
    if (::geteuid() == 0 && pw != nullptr) out << "\nuser " << pw->pw_name << "\n";
    out.close();
    if (!in || !out) return Status::Io("cannot copy " + given_config_ + " to " + conf_path_);
  }
  auto spawned =
      Process::Spawn({kMosquitto, "-c", conf_path_}, dir_ + "/stdout.log", dir_ + "/stderr.log");
  if (!spawned.ok()) return spawned.status();
  process_.emplace(std::move(spawned).value());
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      process_.reset();
      return Status::Unavailable("mosquitto exited at start on port " + std::to_string(port_) +
                                 " (see " + log_path_ + ")");
    }
    if (PortAccepts(port_)) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  process_.reset();
  return Status::Unavailable("mosquitto did not listen on port " + std::to_string(port_));
}

Status Broker::Start() {
  Kill();
  Status last;
  // Another process may take the port between FreePort() and mosquitto's
  // bind; port 0 is not an option (mosquitto rejects it).
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    if (port_ <= 0) return Status::Io("no free port");
    last = Launch();
    if (last.ok()) return last;
  }
  return last;
}

Status Broker::StartWithConfig(const std::string& config_path, int port) {
  Kill();
  given_config_ = config_path;
  port_ = port;
  log_path_ = dir_ + "/stderr.log";
  return Launch();
}

void Broker::Reload() {
  if (process_) process_->Kill(SIGHUP);
}

void Broker::Kill() {
  if (!process_) return;
  process_->Kill(SIGKILL);
  process_->Wait();
  process_.reset();
}

void Broker::Pause() {
  if (process_) process_->Kill(SIGSTOP);
}

void Broker::Resume() {
  if (process_) process_->Kill(SIGCONT);
}

Status Broker::Restart() {
  if (port_ <= 0) return Status::Precondition("broker never started");
  Kill();
  Status last;
  // The port was ours a moment ago; retry briefly in case the kernel has not
  // released it yet.
  for (int attempt = 0; attempt < 20; ++attempt) {
    last = Launch();
    if (last.ok()) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

std::string Broker::uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

}  // namespace storenode::harness
