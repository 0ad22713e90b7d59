// The manager console: an HTTP server inside the fog (cpp-httplib) that
// serves the pages embedded from fog/console/ and a JSON API, /metrics,
// /healthz and /readyz.
//
// Health. /healthz says whether the fog is alive, /readyz whether it can
// serve the store; each answers 200 or 503 and one line per check, "NAME:
// ok" or "NAME: REASON":
//   write   a row written to fog.db and committed (fsync'd) on the worker,
//           at most once a second however often it is asked; while the
//           worker is busy the last result stands (the worker line says
//           when it is more than busy)
//   disk    free space in data.dir at least [health] min_free_mib
//   worker  the worker turned its loop within [health] worker_stall_s
//   broker  (/readyz only) connected to the store broker
// /healthz is 200 when write, disk and worker are; /readyz when those and
// the broker are. So a broker outage makes the fog unready but not dead
// (restarting it would not bring the broker back), while a disk that fails
// or fills, or a wedged worker, make it unhealthy. Both, like /metrics,
// need no login and count against no login limit: they sit outside the
// session check, and the write check's once a second keeps a tight probe
// loop from turning into fsyncs.
//
// The API is fog/req over HTTP: POST /api/request takes a FogRequest as JSON
// and answers its FogResponse. The console sees the fog only as a
// ConsoleBackend (answer, sample, health): the daemon implements it by
// running the work on its worker thread, the only one that touches fog.db,
// while the HTTP thread waits; tests implement it with a fake. Failed logins
// and idle sessions are timed by the Clock it is given.
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

#include "metrics.h"
#include "storenode/common/clock.h"
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
// Reads the [health] section (keys health.*) the same way.
Status ReadHealthConfig(ConfigReader& r, HealthConfig* out);

// What the console asks of the fog. Each call may block up to `timeout`
// and then fails with Unavailable; called from the HTTP threads.
class ConsoleBackend {
 public:
  virtual ~ConsoleBackend() = default;
  // The fog's answer to `request` made by `actor` (the session's manager).
  virtual Result<v1::FogResponse> Answer(const v1::FogRequest& request, const std::string& actor,
                                         std::chrono::milliseconds timeout) = 0;
  virtual Result<MetricsSample> Sample(std::chrono::milliseconds timeout) = 0;
  // The checks of /healthz and /readyz (the top of this file).
  struct Health {
    Status write, disk, worker;
    bool broker_connected = false;
    bool live() const { return write.ok() && disk.ok() && worker.ok(); }
  };
  virtual Health CheckHealth(std::chrono::milliseconds timeout) = 0;
  // The store settings in force, which win over fog.toml's terms in a
  // session (a head-office release may rename the store or move its zone).
  // A backend without settings leaves fog.toml's terms standing.
  virtual Result<v1::StoreSettings> SettingsInForce(std::chrono::milliseconds) {
    return Status::Unavailable("no store settings");
  }
};

class Console {
 public:
  // `config` and `backend` must outlive the console; `store` (fog.toml
  // [store]) tells the pages how to print amounts.
  Console(const ConsoleConfig& config, const Clock& clock, ConsoleBackend& backend,
          StoreTerms store = {});
  ~Console();
  // Binds config.console.bind:port (an error if it cannot) and serves.
  Status Start();
  void Stop();

 private:
  struct Session {
    std::string manager;
    std::string csrf_token;
    int64_t last_used_us = 0;
  };
  void Route();
  void Login(const httplib::Request& req, httplib::Response& res);
  void Logout(const httplib::Request& req, httplib::Response& res);
  void GetSession(const httplib::Request& req, httplib::Response& res);
  void Request(const httplib::Request& req, httplib::Response& res);
  void Metrics(httplib::Response& res);
  // /healthz (`ready` false) or /readyz.
  void Health(bool ready, httplib::Response& res);
  // The caller's session, refreshed; nullopt (and `res` set to 401) if none.
  std::optional<Session> Authenticate(const httplib::Request& req, httplib::Response& res);
  // An action also needs its CSRF token and a same-origin Origin header.
  std::optional<Session> AuthenticateAction(const httplib::Request& req, httplib::Response& res);
  bool Idle(const Session& s, int64_t now_us) const;
  // What login and GET /api/session answer: the session and the store's terms.
  std::string SessionJson(const Session& s) const;
  // Whether `key` ("client ADDR" or "account NAME") has `limit` failed
  // logins within lockout_s before `now_us`; drops the older ones. Under mu_.
  bool LockedOut(const std::string& key, int limit, int64_t now_us);
  // The address failed logins count against: the peer, or with a trusted
  // proxy as the peer, the client its X-Forwarded-For names.
  std::string ClientOf(const httplib::Request& req) const;
  // Whether the Host header names this console (allowed_hosts).
  bool HostAllowed(const httplib::Request& req) const;

  ConsoleBackend& backend_;
  const ConsoleConfig& config_;
  const Clock& clock_;
  const StoreTerms store_;
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
};

}  // namespace storenode::fog
