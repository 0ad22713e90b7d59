// The bench's own mosquitto (process.h): the same settings as the tests'
// broker, with a deeper queue, since a drain bursts far more than a test.
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "process.h"

namespace storenode::bench {
namespace {

constexpr char kMosquitto[] = "/usr/sbin/mosquitto";
constexpr auto kStartTimeout = std::chrono::seconds(5);

Status WriteConfig(const std::string& path, const std::string& log_path, int port) {
  std::ofstream out(path, std::ios::trunc);
  // A config that names a listener makes mosquitto ignore -p, so the port is
  // only here.
  out << "listener " << port << " 127.0.0.1\n"
      << "allow_anonymous true\n"
      << "persistence false\n"
      // The default (1000) silently drops the rest of a burst: a drain queues
      // up to a window of every till for the fog.
      << "max_queued_messages 1000000\n"
      << "max_inflight_messages 100\n"
      << "set_tcp_nodelay true\n"
      << "log_dest file " << log_path << "\n"
      << "log_type error\nlog_type warning\nlog_type notice\n";
  // As root, mosquitto would switch to the "mosquitto" user, which cannot
  // write the log in our directory: run as ourselves.
  if (::geteuid() == 0) {
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
      out << "user " << pw->pw_name << "\n";
    }
  }
  out.close();
  if (!out) return Status::Io("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Broker>> Broker::Start(const std::string& dir) {
  const std::string conf = dir + "/mosquitto.conf";
  const std::string log = dir + "/mosquitto.log";
  Status last = Status::Io("no free port");
  // Another process may take the port between FreePort() and mosquitto's
  // bind: then try another one.
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = FreePort();
    if (port <= 0) continue;
    SN_RETURN_IF_ERROR(WriteConfig(conf, log, port));
    SN_ASSIGN_OR_RETURN(Child child,
                        Child::Spawn({kMosquitto, "-c", conf}, dir + "/mosquitto.out"));
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline && !child.Poll()) {
      if (PortAccepts(port)) return std::unique_ptr<Broker>(new Broker(std::move(child), port));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    last = Status::Unavailable("mosquitto did not listen on port " + std::to_string(port) +
                               " (see " + log + ")");
  }
  return last;
}

Broker::~Broker() = default;  // ~Child kills it

std::string Broker::uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

}  // namespace storenode::bench
