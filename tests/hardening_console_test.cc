// Issue 12, items 7 and 10: the manager console against DNS rebinding and
// password guessing, its password hashes, and a database error on a status
// request, each against a real storenode-fogd and mosquitto.
#include <catch2/catch.hpp>
#include <string>

#include "storenode/common/sqlite.h"
#include "storenode/fog/console.h"
#include "support/console.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

constexpr char kWrong[] = R"({"manager":"alice","password":"wrong-pin"})";
constexpr char kRight[] = R"({"manager":"alice","password":"4711-pin"})";

// A login sent by the TLS proxy (the peer, 127.0.0.1) for `client`.
int LoginVia(httplib::Client& c, const std::string& client, const char* body) {
  auto r = c.Post("/api/login", {{"X-Forwarded-For", client}}, body, "application/json");
  REQUIRE(r);
  return r->status;
}

}  // namespace

TEST_CASE(
    "a page of another domain that resolves to the console gets 421 on every path and cannot "
    "log in",
    "[hardening-console]") {
  ConsoleStore cs(1);
  auto c = cs.Client();
  const std::string evil = "evil.example:" + std::to_string(cs.port);
  const httplib::Headers rebound = {{"Host", evil}, {"Origin", "http://" + evil}};

  auto login = c->Post("/api/login", rebound, kRight, "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 421);
  REQUIRE(login->get_header_value("Set-Cookie").empty());
  for (const char* path : {"/", "/app.js", "/metrics", "/healthz", "/readyz", "/api/session"}) {
    auto r = c->Get(path, rebound);
    REQUIRE(r);
    INFO(path);
    REQUIRE(r->status == 421);
    REQUIRE(r->body.find("127.0.0.1") == std::string::npos);
  }
  // A cookie got by the right name does not help the rebound page either.
  ConsoleSession s = ConsoleLogin(*c);
  httplib::Headers acting = s.Headers();
  acting.emplace("Host", evil);
  acting.emplace("Origin", "http://" + evil);
  auto act = c->Post("/api/request", acting, R"({"status":{}})", "application/json");
  REQUIRE(act->status == 421);
  REQUIRE(cs.store.fog->Log().find("refused Host 'evil.example:") != std::string::npos);

  // The defaults: the bind address and localhost, any port, any case.
  const std::string port = std::to_string(cs.port);
  REQUIRE(c->Get("/healthz", {{"Host", "LOCALHOST:" + port}})->status == 200);
  REQUIRE(c->Get("/healthz", {{"Host", "127.0.0.1:" + port}})->status == 200);
  REQUIRE(c->Get("/healthz", {{"Host", "127.0.0.1.evil.example:" + port}})->status == 421);
}

TEST_CASE("console.allowed_hosts replaces the default host names", "[hardening-console]") {
  ConsoleStore cs(1, "allowed_hosts = [\"fog.store-1.lan\"]\n");
  auto c = cs.Client();
  const std::string port = std::to_string(cs.port);
  REQUIRE(c->Get("/healthz", {{"Host", "fog.store-1.lan:" + port}})->status == 200);
  REQUIRE(c->Get("/healthz", {{"Host", "fog.store-1.lan"}})->status == 200);
  REQUIRE(c->Get("/healthz", {{"Host", "localhost:" + port}})->status == 421);
}

TEST_CASE(
    "behind a trusted proxy one colleague's failed logins lock out that colleague and not the "
    "store",
    "[hardening-console]") {
  ConsoleStore cs(1,
                  "trusted_proxies = [\"127.0.0.1\"]\nmax_failed_logins = 3\n"
                  "max_failed_logins_per_account = 5\nlockout_s = 600\n");
  auto c = cs.Client();
  for (int i = 0; i < 3; ++i) REQUIRE(LoginVia(*c, "10.0.0.7", kWrong) == 401);
  // That colleague is locked out, even with the right PIN ...
  REQUIRE(LoginVia(*c, "10.0.0.7", kRight) == 429);
  // ... and a forged left part of the header does not change who they are.
  REQUIRE(LoginVia(*c, "10.0.0.99, 10.0.0.7", kRight) == 429);
  // Everyone else behind the same proxy still logs in.
  REQUIRE(LoginVia(*c, "10.0.0.8", kRight) == 200);

  // Guesses at one account from many addresses lock that account.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(LoginVia(*c, "10.0.1." + std::to_string(i), kWrong) == 401);
  }
  auto locked =
      c->Post("/api/login", {{"X-Forwarded-For", "10.0.2.1"}}, kRight, "application/json");
  REQUIRE(locked->status == 429);
  REQUIRE(locked->get_header_value("Retry-After") == "600");
  REQUIRE(locked->body.find("too many failed logins for this manager") != std::string::npos);
  const std::string log = cs.store.fog->Log();
  REQUIRE(log.find("failed login as 'alice' from 10.0.0.7") != std::string::npos);
  REQUIRE(log.find("login as 'alice' from 10.0.2.1 refused") != std::string::npos);
}

TEST_CASE("without a trusted proxy X-Forwarded-For is ignored by the login lockout",
          "[hardening-console]") {
  ConsoleStore cs(1, "max_failed_logins = 3\nlockout_s = 600\n");
  auto c = cs.Client();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(LoginVia(*c, "10.0.0." + std::to_string(i), kWrong) == 401);
  }
  auto r = c->Post("/api/login", {{"X-Forwarded-For", "10.0.0.200"}}, kRight, "application/json");
  REQUIRE(r->status == 429);
  REQUIRE(r->body.find("too many failed logins from this computer") != std::string::npos);
  REQUIRE(cs.store.fog->Log().find("failed login as 'alice' from 127.0.0.1") != std::string::npos);
}

TEST_CASE("new console hashes are Argon2id and PBKDF2 hashes made before still verify",
          "[hardening-console]") {
  const std::string dir = MakeTempDir("hardening-hash");
  // `storectl console hash-password [flags]` reading `pin` on stdin.
  auto hash_password = [&](const std::string& pin, const std::string& flags = "") {
    std::string command = "echo '";
    command.append(pin).append("' | ").append(SN_BIN_DIR).append("/storectl console hash-password");
    command.append(flags);
    return RunArgv(dir, {"/bin/sh", "-c", command});
  };
  Ran made = hash_password("271828");
  INFO(made.err);
  REQUIRE(made.code == 0);
  const std::string hash = Lines(made.out).at(0);
  REQUIRE(hash.rfind("$argon2id$v=19$", 0) == 0);
  REQUIRE(fog::CheckPasswordHash(hash).ok());
  REQUIRE(fog::VerifyPassword("271828", hash));
  REQUIRE(!fog::VerifyPassword("271829", hash));
  // Two hashes of one PIN differ (a fresh salt each).
  REQUIRE(fog::HashPassword("271828") != fog::HashPassword("271828"));

  const std::string old = fog::HashPasswordPbkdf2("4711-pin", 1000);
  REQUIRE(old.rfind("pbkdf2-sha256$1000$", 0) == 0);
  REQUIRE(fog::CheckPasswordHash(old).ok());
  REQUIRE(fog::VerifyPassword("4711-pin", old));
  REQUIRE(!fog::VerifyPassword("4711-pim", old));
  REQUIRE(!fog::CheckPasswordHash("$argon2id$v=19$m=65536,t=2,p=1$bad").ok());

  // Minimum length: 6 by default, --min-length to change it.
  Ran short_pin = hash_password("12345");
  REQUIRE(short_pin.code == 2);
  REQUIRE(short_pin.err.find("at least 6 characters") != std::string::npos);
  REQUIRE(hash_password("12345678", " --min-length 10").code == 2);
  REQUIRE(hash_password("1234", " --min-length 4").code == 0);
}

TEST_CASE("a database error on a status request is an error answer and the fog keeps running",
          "[hardening-console]") {
  ConsoleStore cs(1);
  cs.store.OpenTill(0);
  cs.store.Sell(0, 5);
  REQUIRE(cs.store.WaitSynced());
  auto before = cs.store.fog->GetStatus();
  REQUIRE(before.ok());
  REQUIRE(before->events_stored() > 5);
  auto db = sql::Db::Open(cs.store.fog->db_path());
  REQUIRE(db.ok());
  // The status reads the quarantine table (the event count is kept in a row).
  REQUIRE((*db)->Exec("ALTER TABLE quarantine RENAME TO quarantine_hidden").ok());

  v1::FogRequest status;
  status.mutable_status();
  auto refused = cs.store.fog->Ask(status);
  REQUIRE(refused.ok());
  REQUIRE(!refused->ok());
  REQUIRE(refused->error().find("cannot read the store's status") != std::string::npos);
  auto c = cs.Client();
  REQUIRE(c->Get("/metrics")->status == 503);
  REQUIRE(cs.store.fog->Running());

  REQUIRE((*db)->Exec("ALTER TABLE quarantine_hidden RENAME TO quarantine").ok());
  auto again = cs.store.fog->GetStatus();
  REQUIRE(again.ok());
  REQUIRE(again->events_stored() == before->events_stored());
}
