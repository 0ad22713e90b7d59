// The manager console's HTTP API against a real storenode-fogd, mosquitto
// and synced tills: login and sessions, CSRF, login rate limiting, every
// action (status, close-down, reports, device accept), bad input, /metrics,
// /healthz and /readyz (tests/metrics_test.cc checks them further).
#include "support/console.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/console.pb.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;
using google::protobuf::util::JsonStringToMessage;
using google::protobuf::util::MessageToJsonString;

namespace {

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  REQUIRE(MessageToJsonString(m, &out).ok());
  return out;
}

// POSTs `request` to /api/request; the HTTP status and the FogResponse.
std::pair<int, v1::FogResponse> Ask(httplib::Client& c, const ConsoleSession& s,
                                    const v1::FogRequest& request) {
  auto r = c.Post("/api/request", s.Headers(), Json(request), "application/json");
  REQUIRE(r);
  v1::FogResponse response;
  INFO(r->body);
  REQUIRE(JsonStringToMessage(r->body, &response).ok());
  return {r->status, response};
}

v1::FogRequest StatusRequest() {
  v1::FogRequest r;
  r.mutable_status();
  return r;
}

v1::FogRequest ReportRequest(const std::string& kind, const std::string& day) {
  v1::FogRequest r;
  r.mutable_report()->set_kind(kind);
  r.mutable_report()->set_business_day(day);
  return r;
}

v1::FogRequest CloseDownRequest(const std::string& day, std::map<std::string, int64_t> counts) {
  v1::FogRequest r;
  r.mutable_closedown()->set_business_day(day);
  for (const auto& [d, c] : counts) (*r.mutable_closedown()->mutable_counted_cash())[d] = c;
  return r;
}

std::string Today() { return DayOf(SystemClock::Default()->NowMicros()); }

}  // namespace

TEST_CASE("console: pages are embedded, the API needs a login and a CSRF token", "[console]") {
  ConsoleStore cs(3);
  auto c = cs.Client();

  auto page = c->Get("/");
  REQUIRE(page);
  REQUIRE(page->status == 200);
  REQUIRE(page->get_header_value("Content-Type").find("text/html") == 0);
  REQUIRE(page->body.find("<script src=\"/app.js\"") != std::string::npos);
  REQUIRE(page->get_header_value("Content-Security-Policy").find("default-src 'self'") == 0);
  for (const char* asset : {"/app.js", "/style.css"}) {
    auto a = c->Get(asset);
    REQUIRE(a);
    REQUIRE(a->status == 200);
    REQUIRE(a->body.size() > 100);
  }

  // Nothing of the store without a session.
  REQUIRE(c->Get("/api/session")->status == 401);
  auto anon = c->Post("/api/request", Json(StatusRequest()), "application/json");
  REQUIRE(anon->status == 401);
  REQUIRE(anon->body.find("not logged in") != std::string::npos);
  auto forged = c->Post("/api/request", {{"Cookie", "sn_session=00ff"}, {"X-CSRF-Token", "x"}},
                        Json(StatusRequest()), "application/json");
  REQUIRE(forged->status == 401);

  // A wrong password, an unknown manager, a body that is not a login.
  auto wrong =
      c->Post("/api/login", R"({"manager":"alice","password":"1234"})", "application/json");
  REQUIRE(wrong->status == 401);
  REQUIRE(wrong->get_header_value("Set-Cookie").empty());
  REQUIRE(
      c->Post("/api/login", R"({"manager":"mallory","password":"4711-pin"})", "application/json")
          ->status == 401);

  auto elsewhere = c->Post("/api/login", {{"Origin", "http://evil.example"}},
                           R"({"manager":"alice","password":"4711-pin"})", "application/json");
  REQUIRE(elsewhere->status == 403);
  ConsoleSession s = ConsoleLogin(*c);
  auto login =
      c->Post("/api/login", R"({"manager":"alice","password":"4711-pin"})", "application/json");
  const std::string cookie = login->get_header_value("Set-Cookie");
  INFO(cookie);
  REQUIRE(cookie.find("HttpOnly") != std::string::npos);
  REQUIRE(cookie.find("SameSite=Strict") != std::string::npos);

  // The session answers with the same CSRF token the login gave.
  auto session = c->Get("/api/session", {{"Cookie", s.cookie}});
  REQUIRE(session->status == 200);
  REQUIRE(session->body.find(s.csrf) != std::string::npos);
  // With the store's terms, for the pages' Intl.NumberFormat (fog.toml [store]).
  v1::ConsoleSession terms;
  REQUIRE(JsonStringToMessage(session->body, &terms).ok());
  CHECK(terms.store_name() == "Simulated store");
  CHECK(terms.currency() == "EUR");
  CHECK(terms.currency_decimals() == 2);
  CHECK(terms.locale() == "en-GB");

  // An action without the token, with a wrong one, or from another origin.
  auto no_csrf =
      c->Post("/api/request", {{"Cookie", s.cookie}}, Json(StatusRequest()), "application/json");
  REQUIRE(no_csrf->status == 403);
  REQUIRE(no_csrf->body.find("CSRF") != std::string::npos);
  auto bad_csrf = c->Post("/api/request", {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf + "0"}},
                          Json(StatusRequest()), "application/json");
  REQUIRE(bad_csrf->status == 403);
  httplib::Headers cross = s.Headers();
  cross.emplace("Origin", "http://evil.example");
  REQUIRE(c->Post("/api/request", cross, Json(StatusRequest()), "application/json")->status == 403);

  // With both: the same answer storectl gets over fog/req.
  auto [code, response] = Ask(*c, s, StatusRequest());
  REQUIRE(code == 200);
  REQUIRE(response.ok());
  REQUIRE(response.status().store_id() == cs.store.store_id);
  REQUIRE(response.status().tills_size() == 3);

  // A body that is not a FogRequest.
  auto junk = c->Post("/api/request", s.Headers(), "{\"nonsense\": 1}", "application/json");
  REQUIRE(junk->status == 400);

  // Logging out ends the session (and needs the token too).
  REQUIRE(c->Post("/api/logout", {{"Cookie", s.cookie}}, "{}", "application/json")->status == 403);
  REQUIRE(c->Post("/api/logout", s.Headers(), "{}", "application/json")->status == 200);
  REQUIRE(c->Post("/api/request", s.Headers(), Json(StatusRequest()), "application/json")->status ==
          401);
}

TEST_CASE("console: failed logins are rate-limited per client", "[console]") {
  ConsoleStore cs(1, "max_failed_logins = 3\nlockout_s = 2\n");
  auto c = cs.Client();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(c->Post("/api/login", R"({"manager":"alice","password":"guess"})", "application/json")
                ->status == 401);
  }
  // Locked out: even the right password is refused, without being checked.
  auto locked =
      c->Post("/api/login", R"({"manager":"alice","password":"4711-pin"})", "application/json");
  REQUIRE(locked->status == 429);
  REQUIRE(locked->get_header_value("Retry-After") == "2");
  REQUIRE(locked->body.find("too many failed logins") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ConsoleLogin(*c);
  REQUIRE(cs.store.fog->Log().find("failed login as 'alice'") != std::string::npos);
}

TEST_CASE("console: every action, and bad input refused with the fog's reason", "[console]") {
  ConsoleStore cs(3);
  for (size_t i = 0; i < 3; ++i) {
    cs.store.OpenTill(i);
    cs.store.Sell(i, 20);
  }
  REQUIRE(cs.store.WaitSynced());
  auto c = cs.Client();
  ConsoleSession s = ConsoleLogin(*c);
  const std::string today = Today();

  REQUIRE(WaitFor(
      [&] {
        auto [code, r] = Ask(*c, s, StatusRequest());
        int online = 0;
        for (const auto& t : r.status().tills()) online += t.online();
        return code == 200 && online == 3;
      },
      std::chrono::seconds(10)));

  SECTION("close-down: a negative count, a day in the future, an unknown till") {
    auto [neg_code, neg] = Ask(*c, s, CloseDownRequest(today, {{"till-1", -5}}));
    REQUIRE(neg_code == 422);
    REQUIRE(!neg.ok());
    REQUIRE(neg.error().find("negative") != std::string::npos);
    auto [fut_code, fut] = Ask(*c, s, CloseDownRequest("2999-01-01", {}));
    REQUIRE(fut_code == 422);
    REQUIRE(fut.error().find("in the future") != std::string::npos);
    auto [bad_code, bad] = Ask(*c, s, CloseDownRequest("yesterday", {}));
    REQUIRE(bad_code == 422);
    REQUIRE(bad.error().find("YYYY-MM-DD") != std::string::npos);
    auto [who_code, who] = Ask(*c, s, CloseDownRequest(today, {{"till-9", 100}}));
    REQUIRE(who_code == 422);
    REQUIRE(who.error().find("unknown till") != std::string::npos);
  }

  SECTION("close-down with counted cash, then the Z, X and hourly reports") {
    auto [code, first] = Ask(*c, s, CloseDownRequest(today, {{"till-1", 12345}, {"till-2", 0}}));
    REQUIRE(code == 200);
    v1::CloseDownResponse done = first.closedown();
    REQUIRE(WaitFor(
        [&] {
          auto [again_code, again] = Ask(*c, s, CloseDownRequest(today, {}));
          done = again.closedown();
          return again_code == 200 && done.closed();
        },
        std::chrono::seconds(30)));
    REQUIRE(done.sealed_tills_size() == 3);

    auto [z_code, z] = Ask(*c, s, ReportRequest("z", today));
    REQUIRE(z_code == 200);
    REQUIRE(z.report().z_decoded_size() == 1);
    const v1::ZReport& zr = z.report().z_decoded(0);
    REQUIRE(zr.requested_by() == kConsoleManager);
    std::map<std::string, v1::DrawerCount> drawers;
    for (const auto& d : zr.drawer_counts()) drawers[d.device_id()] = d;
    REQUIRE(drawers["till-1"].counted());
    REQUIRE(drawers["till-1"].over_short() == 12345 - drawers["till-1"].expected_cash());
    REQUIRE(drawers["till-2"].over_short() == -drawers["till-2"].expected_cash());
    REQUIRE(!drawers["till-3"].counted());

    // The printable Z is storectl's text.
    auto text = c->Post("/api/request?format=text", s.Headers(), Json(ReportRequest("z", today)),
                        "application/json");
    REQUIRE(text->status == 200);
    REQUIRE(text->get_header_value("Content-Type").find("text/plain") == 0);
    REQUIRE(text->body.find("Z-REPORT") != std::string::npos);

    auto [x_code, x] = Ask(*c, s, ReportRequest("x", today));
    REQUIRE(x_code == 200);
    REQUIRE(x.report().x().receipt_count() > 0);
    auto [h_code, hourly] = Ask(*c, s, ReportRequest("hourly", today));
    REQUIRE(h_code == 200);
    REQUIRE(hourly.report().hours_size() > 0);
    auto [k_code, unknown] = Ask(*c, s, ReportRequest("weekly", today));
    REQUIRE(k_code == 422);
    REQUIRE(!unknown.error().empty());
  }

  SECTION("every report downloads as a CSV file whose money columns name the currency") {
    auto [st_code, st] = Ask(*c, s, StatusRequest());
    REQUIRE(st_code == 200);
    const std::string day = st.status().business_day();  // the store's, not the browser's
    REQUIRE(IsValidDay(day));
    const std::map<std::string, std::string> headers = {
        {"x", "section,key,value"},
        {"hourly", "hour,start,receipts,sales_EUR,refunds_EUR,net_EUR"},
        {"items", "sku,name,qty,revenue_EUR,refund_qty,refund_amount_EUR"},
        {"departments",
         "department,items,qty,lines,gross_EUR,refund_qty,refunds_EUR,net_EUR,tax_EUR"},
        {"cashiers",
         "cashier,receipts,sales_EUR,refund_count,refunds_EUR,void_count,voids_EUR,"
         "no_sale_count"},
        {"tenders", "type,count,sales_EUR,refunds_EUR,net_EUR"},
    };
    for (const auto& [kind, header] : headers) {
      INFO(kind);
      auto csv = c->Post("/api/request?format=csv", s.Headers(), Json(ReportRequest(kind, day)),
                         "application/json");
      REQUIRE(csv);
      REQUIRE(csv->status == 200);
      CHECK(csv->get_header_value("Content-Type") == "text/csv; charset=utf-8");
      CHECK(csv->get_header_value("Content-Disposition") ==
            "attachment; filename=\"" + cs.store.store_id + "-" + kind + "-" + day + ".csv\"");
      CHECK(csv->body.substr(0, csv->body.find('\n')) == header);
      CHECK(csv->body.find('\n') + 1 < csv->body.size());  // rows after the header
    }
    auto x = c->Post("/api/request?format=csv", s.Headers(), Json(ReportRequest("x", day)),
                     "application/json");
    CHECK(x->body.find("\nheader,currency,EUR\n") != std::string::npos);
    // A range names both days in the file name.
    v1::FogRequest range = ReportRequest("departments", "");
    range.mutable_report()->set_from_day(AddDays(day, -2));
    range.mutable_report()->set_to_day(day);
    auto ranged = c->Post("/api/request?format=csv", s.Headers(), Json(range), "application/json");
    REQUIRE(ranged->status == 200);
    CHECK(ranged->get_header_value("Content-Disposition") ==
          "attachment; filename=\"" + cs.store.store_id + "-departments-" + AddDays(day, -2) + "_" +
              day + ".csv\"");
    // Refused the same way as JSON: the fog's reason, and no file.
    range.mutable_report()->set_from_day(AddDays(day, 1));
    auto late = c->Post("/api/request?format=csv", s.Headers(), Json(range), "application/json");
    REQUIRE(late->status == 422);
    CHECK(late->body.find("is after to_day") != std::string::npos);
    CHECK(late->get_header_value("Content-Disposition").empty());
    // A file is an action like any other: without the CSRF token, none.
    auto no_csrf = c->Post("/api/request?format=csv", {{"Cookie", s.cookie}},
                           Json(ReportRequest("items", day)), "application/json");
    REQUIRE(no_csrf->status == 403);
    CHECK(no_csrf->get_header_value("Content-Disposition").empty());
  }

  SECTION("device accept of a till without a replacement journal is refused") {
    v1::FogRequest r;
    r.mutable_device_accept()->set_device_id("till-1");
    auto [code, response] = Ask(*c, s, r);
    REQUIRE(code == 422);
    REQUIRE(!response.error().empty());
  }
}

TEST_CASE(
    "console: /readyz follows the broker link and /healthz does not, /metrics reports the store",
    "[console]") {
  ConsoleStore cs(2);
  cs.store.OpenTill(0);
  cs.store.Sell(0, 10);
  REQUIRE(cs.store.WaitSynced());
  auto c = cs.Client();
  auto health = c->Get("/healthz");
  REQUIRE(health->status == 200);
  REQUIRE(health->body == "write: ok\ndisk: ok\nworker: ok\n");
  auto ready = c->Get("/readyz");
  REQUIRE(ready->status == 200);
  REQUIRE(ready->body == "write: ok\ndisk: ok\nworker: ok\nbroker: ok\n");

  std::string metrics;
  REQUIRE(WaitFor(
      [&] {
        metrics = c->Get("/metrics")->body;
        return metrics.find("storenode_fog_till_online{device=\"till-1\"} 1") != std::string::npos;
      },
      std::chrono::seconds(10)));
  INFO(metrics);
  REQUIRE(c->Get("/metrics")->get_header_value("Content-Type").find("text/plain; version=0.0.4") ==
          0);
  for (const char* line :
       {"storenode_fog_broker_connected 1", "storenode_fog_till_online{device=\"till-2\"} 0",
        "storenode_fog_till_backlog_events{device=\"till-1\"} ",
        "storenode_fog_till_last_seen_age_seconds{device=\"till-1\"}",
        "storenode_fog_quarantined_batches 0", "storenode_fog_ledger_backlog 0",
        "# TYPE storenode_fog_events_stored_total counter"}) {
    REQUIRE(metrics.find(line) != std::string::npos);
  }
  // No rate between scrapes, on the second either: rate() over _total does that.
  REQUIRE(c->Get("/metrics")->body.find("storenode_fog_ingest_events_per_second") ==
          std::string::npos);

  cs.store.CloseTill(0);
  cs.store.broker.Kill();
  REQUIRE(WaitFor([&] { return c->Get("/readyz")->status == 503; }, std::chrono::seconds(10)));
  REQUIRE(c->Get("/readyz")->body == "write: ok\ndisk: ok\nworker: ok\nbroker: disconnected\n");
  // Unready, not dead: restarting the fog would not bring the broker back.
  REQUIRE(c->Get("/healthz")->status == 200);
  REQUIRE(c->Get("/healthz")->body == "write: ok\ndisk: ok\nworker: ok\n");
  REQUIRE(c->Get("/metrics")->body.find("storenode_fog_broker_connected 0") != std::string::npos);
}

TEST_CASE("console: config keys are checked, storectl makes the hash", "[console]") {
  const std::string dir = MakeTempDir("console-config");
  auto load = [&](const std::string& console) {
    std::ofstream(dir + "/fog.toml", std::ios::trunc)
        << "[store]\nid = \"s\"\n"
        << sim::SimStoreConfig() << "\n[broker]\nuri = \"tcp://127.0.0.1:1\"\ninsecure = true\n"
        << "[data]\ndir = \"" << dir << "/data\"\n"
        << console;
    return fog::LoadConfig(dir + "/fog.toml");
  };
  auto none = load("");
  REQUIRE(none.ok());
  REQUIRE(!none->console.enabled);

  Ran hashed = RunArgv(
      dir, {"/bin/sh", "-c",
            "echo 's3cret-pin' | " + std::string(SN_BIN_DIR) + "/storectl console hash-password"});
  INFO(hashed.err);
  REQUIRE(hashed.code == 0);
  const std::string hash = Lines(hashed.out).at(0);
  REQUIRE(hash.rfind("$argon2id$", 0) == 0);
  REQUIRE(fog::VerifyPassword("s3cret-pin", hash));
  REQUIRE(!fog::VerifyPassword("s3cret-pio", hash));

  auto ok = load("[console]\nport = 9000\n[console.managers]\nbob = \"" + hash + "\"\n");
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());
  REQUIRE(ok->console.enabled);
  REQUIRE(ok->console.bind == "127.0.0.1");
  REQUIRE(ok->console.port == 9000);

  struct Bad {
    std::string text, key;
  };
  for (const Bad& b : std::vector<Bad>{
           {"[console]\nport = 0\n[console.managers]\nbob = \"" + hash + "\"\n", "console.port"},
           {"[console]\n", "console.managers"},
           {"[console.managers]\nbob = \"1234\"\n", "console.managers.bob"},
           {"[console]\nprot = 1\n[console.managers]\nbob = \"" + hash + "\"\n", "console.prot"},
       }) {
    auto r = load(b.text);
    INFO(b.text);
    REQUIRE(!r.ok());
    REQUIRE(r.status().message().find("'" + b.key + "'") != std::string::npos);
  }
  REQUIRE(
      RunArgv(dir, {"/bin/sh", "-c",
                    "echo '12' | " + std::string(SN_BIN_DIR) + "/storectl console hash-password"})
          .code == 2);
}

TEST_CASE("console: a port that is taken stops the fog at start-up", "[console]") {
  httplib::Server squatter;
  const int port = squatter.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  fog::Config config;
  config.store_id = "s";
  config.store = SimStoreTerms();
  config.broker.uri = "tcp://127.0.0.1:1";  // never reached: the console fails first
  config.broker.insecure = true;
  config.data_dir = MakeTempDir("console-port") + "/data";
  config.console.enabled = true;
  config.console.port = port;
  config.console.managers["bob"] = fog::HashPassword("1234");
  auto f = fog::Fog::Open(config);
  REQUIRE(f.ok());
  Status s = (*f)->Start();
  INFO(s.ToString());
  REQUIRE(!s.ok());
  REQUIRE(s.message().find("console.port") != std::string::npos);
}
