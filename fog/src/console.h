// The manager console: an HTTP server inside the fog (cpp-httplib) that
// serves the pages embedded from fog/console/ and a JSON API, /metrics and
// /healthz.
//
// The API is fog/req over HTTP: POST /api/request takes a FogRequest as JSON
// and answers its FogResponse, computed by Fog::Impl::Answer on the worker
// thread, the only one that touches fog.db. The HTTP threads never do; they
// hand work over with Fog::Impl::RunOnWorker and wait.
//
// Thread-safety: Start() and Stop() from the thread that owns the Fog; the
// handlers run on httplib's pool and share only the mutex-guarded state here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storenode/common/config.h"
#include "storenode/common/status.h"
#include "storenode/fog/console.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace storenode::fog {

// One static file of fog/console/, compiled into the binary by CMake
// (fog/console/embed.cmake) so an installed fogd needs no data files.
struct ConsoleAsset {
  const char* path;  // "/app.js"
  const char* content_type;
  const unsigned char* data;
  size_t size;
};
extern const ConsoleAsset kConsoleAssets[];
extern const size_t kConsoleAssetCount;

// Reads the [console] section (keys console.*) into `out`; a one-line
// reason naming the key if a value is wrong.
Status ReadConsoleConfig(ConfigReader& r, ConsoleConfig* out);

// What /metrics reports, sampled on the worker thread (metrics.cc).
struct MetricsSample {
  v1::StoreStatus status;
  Fog::Counters counters;
  int64_t now_us = 0;
  std::optional<double> last_closedown_s;  // request to Z of the newest closed day
  std::string last_closedown_day;
  bool broker_connected = false;
  // (topic, reason) -> requests refused since the fog started (access.h).
  std::map<std::pair<std::string, std::string>, uint64_t> requests_refused;
};

// Prometheus text format (version 0.0.4) of `now`; with `prev` (the sample
// of the previous scrape) the ingest rate in events per second too.
std::string FormatMetrics(const MetricsSample& now, const MetricsSample* prev);

class Console {
 public:
  explicit Console(Fog::Impl& fog);
  ~Console();
  // Binds config.console.bind:port (an error if it cannot) and serves.
  Status Start();
  void Stop();

 private:
  struct Session {
    std::string manager;
    std::string csrf_token;
    std::chrono::steady_clock::time_point last_used;
  };
  void Route();
  void Login(const httplib::Request& req, httplib::Response& res);
  void Logout(const httplib::Request& req, httplib::Response& res);
  void GetSession(const httplib::Request& req, httplib::Response& res);
  void Request(const httplib::Request& req, httplib::Response& res);
  void Metrics(httplib::Response& res);
  void Health(httplib::Response& res);
  // The caller's session, refreshed; nullopt (and `res` set to 401) if none.
  std::optional<Session> Authenticate(const httplib::Request& req, httplib::Response& res);
  // An action also needs its CSRF token and a same-origin Origin header.
  std::optional<Session> AuthenticateAction(const httplib::Request& req, httplib::Response& res);
  // Whether `key` ("client ADDR" or "account NAME") has `limit` failed
  // logins within lockout_s before `now_us`; drops the older ones. Under mu_.
  bool LockedOut(const std::string& key, int limit, int64_t now_us);
  // The address failed logins count against: the peer, or with a trusted
  // proxy as the peer, the client its X-Forwarded-For names.
  std::string ClientOf(const httplib::Request& req) const;
  // Whether the Host header names this console (allowed_hosts).
  bool HostAllowed(const httplib::Request& req) const;

  Fog::Impl& fog_;
  const ConsoleConfig& config_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;

  std::mutex mu_;
  std::map<std::string, Session> sessions_;  // by session id (the cookie)
  // Failed logins by key (LockedOut), times from the fog's Clock.
  std::map<std::string, std::deque<int64_t>> failures_;
  std::vector<std::string> allowed_hosts_;  // lower case
  // One password check at a time: an Argon2id check holds 64 MiB, and
  // parallel logins must not add up to more.
  std::mutex verify_mu_;
  std::optional<MetricsSample> last_sample_;
};

}  // namespace storenode::fog
