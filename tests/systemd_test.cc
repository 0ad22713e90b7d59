// The daemons under systemd (common/service.h, common/log.h), with the
// real storenode-fogd and ledger-sink: --check-config answers like
// `nginx -t`; READY reaches the notify socket only once fog.db is open and
// the store broker connected, the watchdog is fed while the worker runs,
// STOPPING on SIGTERM; and when stderr is the journal every line carries its
// syslog priority and no timestamp of its own.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;
using namespace std::chrono_literals;

namespace {

// A notify socket as systemd makes one: datagrams, one message each.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::copy(path.begin(), path.end(), addr.sun_path);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }

  // Every message received within `for_how_long`.
  std::vector<std::string> Drain(std::chrono::milliseconds for_how_long) {
    std::vector<std::string> out;
    const auto until = std::chrono::steady_clock::now() + for_how_long;
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) out.emplace_back(buf, size_t(n));
    }
    return out;
  }
  // Waits up to `timeout` for a message containing `what`; all seen meanwhile.
  std::vector<std::string> Until(const std::string& what, std::chrono::seconds timeout) {
    std::vector<std::string> seen;
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      for (std::string& m : Drain(100ms)) {
        const bool found = m.find(what) != std::string::npos;
        seen.push_back(std::move(m));
        if (found) return seen;
      }
    }
    return seen;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

size_t CountWith(const std::vector<std::string>& messages, const std::string& what) {
  size_t n = 0;
  for (const std::string& m : messages) n += m.find(what) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("the daemons check a config with one line, exit 0 or 2, and start nothing", "[systemd]") {
  const std::string dir = MakeTempDir("checkcfg");
  Broker broker(dir);
  REQUIRE(broker.Start().ok());
  FogProcess fog(dir + "/fog", "store-1", broker.uri());
  fog.wait_ready = false;
  fog.extra_config = "";
  REQUIRE(fog.Start().ok());  // writes fog.toml
  fog.Stop();
  Ran good = RunTool(dir, "storenode-fogd", {"--config", fog.config_path(), "--check-config"});
  CHECK(good.code == 0);
  CHECK(good.out == "storenode-fogd: config " + fog.config_path() + " is good (store store-1)\n");

  {
    std::ofstream bad(dir + "/bad.toml");
    bad << "[store]\nid = \"store-1\"\n[brokr]\nuri = \"tcp://x:1\"\n";
  }
  Ran refused = RunTool(dir, "storenode-fogd", {"--config", dir + "/bad.toml", "--check-config"});
  CHECK(refused.code == 2);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::StartsWith("storenode-fogd: bad config: " + dir + "/bad.toml"));
  CHECK(Lines(refused.err).size() == 1);

  {
    std::ofstream sink(dir + "/sink.toml");
    sink << "[ledger]\nid = \"l\"\nkey_file = \"" << dir << "/l.key\"\n[nats]\nservers = "
         << "[\"nats://127.0.0.1:1\"]\n[data]\ndir = \"" << dir << "\"\n";
  }
  Ran sink = RunTool(dir, "ledger-sink", {"--config", dir + "/sink.toml", "--check-config"});
  CHECK(sink.code == 0);
  CHECK(sink.out ==
        "ledger-sink: config " + dir + "/sink.toml is good (ledger l, NATS JetStream)\n");
  CHECK_FALSE(std::filesystem::exists(dir + "/l.key"));  // nothing was started
  Ran version = RunTool(dir, "ledger-sink", {"--version"});
  CHECK(version.out == std::string("ledger-sink ") + STORENODE_VERSION + "\n");
}

TEST_CASE("the fog is READY only once connected, feeds the watchdog, and says STOPPING",
          "[systemd][integration]") {
  const std::string dir = MakeTempDir("notify");
  Broker broker(dir);
  REQUIRE(broker.Start().ok());
  broker.Kill();  // the port stays the broker's: started again below
  NotifySocket notify(dir + "/notify.sock");
  FogProcess fog(dir + "/fog", "store-1", broker.uri());
  fog.wait_ready = false;
  fog.env = {{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "400000"}};
  REQUIRE(fog.Start().ok());

  // fog.db open, the worker running, no broker: fed, but not ready.
  const std::vector<std::string> before = notify.Drain(2500ms);
  CHECK(CountWith(before, "READY=1") == 0);
  CHECK(CountWith(before, "WATCHDOG=1") >= 8);  // every 200 ms, half of 400 ms
  REQUIRE(fog.Running());

  REQUIRE(broker.Restart().ok());
  const std::vector<std::string> after = notify.Until("READY=1", 30s);
  REQUIRE(CountWith(after, "READY=1") == 1);
  CHECK(CountWith(after, "STATUS=store store-1: connected to " + broker.uri()) == 1);
  REQUIRE(fog.GetStatus().ok());

  CHECK(fog.Stop() == 0);
  const std::vector<std::string> stopping = notify.Drain(500ms);
  CHECK(CountWith(stopping, "STOPPING=1") == 1);
  CHECK(CountWith(stopping, "READY=1") == 0);
}

TEST_CASE("with stderr as the journal, lines carry their priority and no timestamp",
          "[systemd][integration]") {
  const std::string dir = MakeTempDir("journal");
  Broker broker(dir);
  REQUIRE(broker.Start().ok());
  FogProcess fog(dir + "/fog", "store-1", broker.uri());
  std::filesystem::create_directories(dir + "/fog");
  { std::ofstream touch(fog.log_path()); }
  struct stat st {};
  REQUIRE(::stat(fog.log_path().c_str(), &st) == 0);
  fog.env = {{"JOURNAL_STREAM", std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)}};
  REQUIRE(fog.Start().ok());
  CHECK(fog.Stop() == 0);
  const std::vector<std::string> lines = Lines(fog.Log());
  REQUIRE(lines.size() >= 3);
  size_t infos = 0, warnings = 0;
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(std::regex_match(line, std::regex("<[2-7]>fogd (info|warning|error|debug): .+")));
    infos += line.starts_with("<6>fogd info: ");
    warnings += line.starts_with("<4>fogd warning: ");
  }
  CHECK(infos >= 2);
  // The plain-TCP warning of this test's broker link.
  CHECK(warnings >= 1);

  // Without JOURNAL_STREAM (or with another file's), lines are stamped.
  FogProcess plain(dir + "/plain", "store-1", broker.uri());
  plain.env = {{"JOURNAL_STREAM", "1:1"}};
  REQUIRE(plain.Start().ok());
  CHECK(plain.Stop() == 0);
  const std::vector<std::string> stamped = Lines(plain.Log());
  REQUIRE_FALSE(stamped.empty());
  CHECK(std::regex_search(
      stamped[0], std::regex("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z fogd info: ")));
}
