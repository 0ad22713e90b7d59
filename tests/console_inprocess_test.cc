// The console on its own, in process: a fake ConsoleBackend instead of the
// fog, and a ManualClock, so lockouts and idle sessions are tested by moving
// the clock, never by sleeping; no broker and no fogd.
#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <optional>

#include "fog/src/console.h"
#include "storenode/common/clock.h"
#include "storenode/fog/console.h"
#include "storenode/schemas/console.pb.h"
#include "support/harness.h"

namespace storenode::fog {
namespace {

constexpr char kRight[] = R"({"manager":"alice","password":"4711-pin"})";
constexpr char kWrong[] = R"({"manager":"alice","password":"guess"})";
constexpr int64_t kSecond = 1'000'000;

// Records what the console asked and answers what the test set.
class FakeBackend : public ConsoleBackend {
 public:
  Result<v1::FogResponse> Answer(const v1::FogRequest& request, const std::string& actor,
                                 std::chrono::milliseconds) override {
    std::lock_guard lock(mu);
    actors.push_back(actor);
    asked.push_back(request);
    v1::FogResponse r;
    r.set_ok(true);
    r.mutable_status()->set_store_id("store-1");
    return r;
  }
  Result<MetricsSample> Sample(std::chrono::milliseconds) override {
    std::lock_guard lock(mu);
    if (!sample_error.ok()) return sample_error;
    return sample;
  }
  Health CheckHealth(std::chrono::milliseconds) override {
    std::lock_guard lock(mu);
    return health;
  }
  Result<v1::StoreSettings> SettingsInForce(std::chrono::milliseconds) override {
    std::lock_guard lock(mu);
    if (!settings) return Status::Unavailable("no store settings");
    return *settings;
  }

  std::mutex mu;
  std::vector<std::string> actors;
  std::vector<v1::FogRequest> asked;
  MetricsSample sample;
  Status sample_error;
  std::optional<v1::StoreSettings> settings;
  Health health{Status::Ok(), Status::Ok(), Status::Ok(), true};
};

struct Fixture {
  explicit Fixture(int lockout_s = 600) {
    config.enabled = true;
    config.port = testing::FreePort();
    config.managers["alice"] = HashPassword("4711-pin");
    config.max_failed_logins = 3;
    config.max_failed_logins_per_account = 100;
    config.lockout_s = lockout_s;
    config.session_idle_s = 3600;
    console = std::make_unique<Console>(config, clock, backend);
    REQUIRE(console->Start().ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", config.port);
  }
  int Login(const char* body) {
    return client->Post("/api/login", body, "application/json")->status;
  }

  ConsoleConfig config;
  ManualClock clock{1'800'000'000 * kSecond};
  FakeBackend backend;
  std::unique_ptr<Console> console;
  std::unique_ptr<httplib::Client> client;
};

std::string SessionCookie(const httplib::Result& res) {
  const std::string set = res->get_header_value("Set-Cookie");
  return set.substr(0, set.find(';'));
}

}  // namespace

TEST_CASE("console in process: a lockout ends when the clock passes lockout_s, not before",
          "[inprocess][console]") {
  Fixture f(/*lockout_s=*/600);
  for (int i = 0; i < 3; ++i) REQUIRE(f.Login(kWrong) == 401);
  auto locked = f.client->Post("/api/login", kRight, "application/json");
  REQUIRE(locked->status == 429);
  REQUIRE(locked->get_header_value("Retry-After") == "600");
  REQUIRE(locked->body.find("too many failed logins from this computer") != std::string::npos);
  // One second before the first failure leaves the window: still locked.
  f.clock.Advance(599 * kSecond);
  REQUIRE(f.Login(kRight) == 429);
  // Past it: the right password is checked again, and works.
  f.clock.Advance(2 * kSecond);
  REQUIRE(f.Login(kRight) == 200);
  // A success forgets the client's failures: three more are needed again.
  for (int i = 0; i < 2; ++i) REQUIRE(f.Login(kWrong) == 401);
  REQUIRE(f.Login(kRight) == 200);
  // The backend was never asked anything: logins are the console's own.
  REQUIRE(f.backend.asked.empty());
}

TEST_CASE("console in process: a session idle longer than session_idle_s is logged out",
          "[inprocess][console]") {
  Fixture f;
  auto login = f.client->Post("/api/login", kRight, "application/json");
  REQUIRE(login->status == 200);
  const std::string cookie = SessionCookie(login);
  v1::ConsoleSession session;
  REQUIRE(google::protobuf::util::JsonStringToMessage(login->body, &session).ok());
  REQUIRE(session.manager() == "alice");
  const std::string csrf = session.csrf_token();
  REQUIRE(!csrf.empty());
  const httplib::Headers headers = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  // The actor is who logged in, whatever the body says.
  const char* request = R"({"status":{},"manager":"mallory"})";
  REQUIRE(f.client->Post("/api/request", headers, request, "application/json")->status == 200);
  REQUIRE(f.backend.actors == std::vector<std::string>{"alice"});
  // Used within the idle time, the session lives on from its last use.
  f.clock.Advance(3000 * kSecond);
  REQUIRE(f.client->Post("/api/request", headers, request, "application/json")->status == 200);
  f.clock.Advance(3599 * kSecond);
  REQUIRE(f.client->Post("/api/request", headers, request, "application/json")->status == 200);
  f.clock.Advance(3601 * kSecond);
  REQUIRE(f.client->Post("/api/request", headers, request, "application/json")->status == 401);
  REQUIRE(f.backend.actors.size() == 2 + 1);
}

TEST_CASE("console in process: a session shows the settings in force, else fog.toml's terms",
          "[inprocess][console]") {
  Fixture f;
  auto session_of = [&] {
    auto login = f.client->Post("/api/login", kRight, "application/json");
    REQUIRE(login->status == 200);
    v1::ConsoleSession s;
    REQUIRE(google::protobuf::util::JsonStringToMessage(login->body, &s).ok());
    return s;
  };
  // No settings from the backend: fog.toml's terms (the fixture's defaults).
  v1::ConsoleSession before = session_of();
  REQUIRE(before.locale() == "en-GB");
  REQUIRE(before.currency_decimals() == 2);
  // Foreign cash is shown in each currency's own decimals, from the fog's table.
  REQUIRE(before.decimals_by_currency().at("JPY") == 0);
  REQUIRE(before.decimals_by_currency().at("USD") == 2);
  REQUIRE(before.decimals_by_currency().at("KWD") == 3);
  {
    std::lock_guard lock(f.backend.mu);
    v1::StoreSettings now;
    now.set_name("Dublin Airport T2");
    now.set_locale("ga-IE");
    now.set_currency("EUR");
    now.set_currency_decimals(2);
    now.set_time_zone("Europe/Dublin");
    f.backend.settings = now;
  }
  v1::ConsoleSession after = session_of();
  REQUIRE(after.store_name() == "Dublin Airport T2");
  REQUIRE(after.locale() == "ga-IE");
  REQUIRE(after.currency() == "EUR");
  REQUIRE(after.time_zone() == "Europe/Dublin");
  REQUIRE(f.backend.asked.empty());
}

TEST_CASE("console in process: /healthz, /readyz and /metrics say what the backend says",
          "[inprocess][console]") {
  Fixture f;
  REQUIRE(f.client->Get("/healthz")->status == 200);
  REQUIRE(f.client->Get("/readyz")->status == 200);
  {
    std::lock_guard lock(f.backend.mu);
    f.backend.health = {Status::Io("disk I/O error"), Status::Ok(), Status::Ok(), true};
  }
  auto sick = f.client->Get("/healthz");
  REQUIRE(sick->status == 503);
  REQUIRE(sick->body == "write: disk I/O error\ndisk: ok\nworker: ok\n");
  REQUIRE(f.client->Get("/readyz")->status == 503);  // dead is not ready either
  {
    std::lock_guard lock(f.backend.mu);
    f.backend.health = {Status::Ok(), Status::Unavailable("3 MiB free"),
                        Status::Unavailable("no turn of its loop for 31 s"), true};
  }
  auto full = f.client->Get("/healthz");
  REQUIRE(full->status == 503);
  REQUIRE(full->body == "write: ok\ndisk: 3 MiB free\nworker: no turn of its loop for 31 s\n");
  {
    std::lock_guard lock(f.backend.mu);
    f.backend.health = {Status::Ok(), Status::Ok(), Status::Ok(), false};
  }
  auto alive = f.client->Get("/healthz");
  REQUIRE(alive->status == 200);
  REQUIRE(alive->body == "write: ok\ndisk: ok\nworker: ok\n");
  auto unready = f.client->Get("/readyz");
  REQUIRE(unready->status == 503);
  REQUIRE(unready->body == "write: ok\ndisk: ok\nworker: ok\nbroker: disconnected\n");

  // Two scrapes 10 s apart with 500 events stored between them: the
  // counter says so, and no rate is made of it (rate() does that).
  {
    std::lock_guard lock(f.backend.mu);
    f.backend.sample.now_us = f.clock.NowMicros();
    f.backend.sample.counters.events_stored = 1000;
  }
  auto first = f.client->Get("/metrics");
  REQUIRE(first->status == 200);
  REQUIRE(first->body.find("storenode_fog_events_stored_total 1000\n") != std::string::npos);
  REQUIRE(first->body.find("storenode_fog_ingest_events_per_second") == std::string::npos);
  {
    std::lock_guard lock(f.backend.mu);
    f.backend.sample.now_us += 10 * kSecond;
    f.backend.sample.counters.events_stored = 1500;
  }
  auto second = f.client->Get("/metrics");
  REQUIRE(second->body.find("storenode_fog_events_stored_total 1500\n") != std::string::npos);
  REQUIRE(second->body.find("storenode_fog_ingest_events_per_second") == std::string::npos);
  {
    std::lock_guard lock(f.backend.mu);
    f.backend.sample_error = Status::Unavailable("the fog is busy: no answer within 15000 ms");
  }
  auto busy = f.client->Get("/metrics");
  REQUIRE(busy->status == 503);
  REQUIRE(busy->body == "the fog is busy: no answer within 15000 ms\n");
}

}  // namespace storenode::fog
