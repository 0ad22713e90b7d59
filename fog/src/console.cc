// The manager console's HTTP side: sessions, CSRF, login rate limiting, the
// embedded pages, the JSON API (console.h says how requests reach fog.db),
// /metrics and the health checks.
#include "console.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>

#include "storenode/common/crypto.h"
#include "storenode/common/report_text.h"
#include "storenode/common/store_settings.h"
#include "storenode/schemas/console.pb.h"

namespace storenode::fog {
namespace {

using google::protobuf::util::JsonStringToMessage;

constexpr char kCookieName[] = "sn_session";
constexpr char kCsrfHeader[] = "X-CSRF-Token";
// A close-down answer needs one worker pass; a fog busy with a big ingest
// transaction can take seconds, never this long.
constexpr auto kAnswerTimeout = std::chrono::seconds(15);
constexpr auto kHealthTimeout = std::chrono::seconds(2);

std::string RandomToken() {
  std::array<uint8_t, 32> bytes{};
  crypto::RandomBytes(bytes);
  return crypto::ToHex(bytes);
}

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  // The pages read every field, zeros and false included.
  o.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

// Every error of the API is a FogResponse with ok false, as fog/req answers.
void Fail(httplib::Response& res, int http_status, const std::string& error) {
  v1::FogResponse r;
  r.set_error(error);
  res.status = http_status;
  res.set_content(ToJson(r), "application/json");
}

std::string CookieValue(const httplib::Request& req, const std::string& name) {
  const std::string cookies = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    std::string item = cookies.substr(pos, end - pos);
    const size_t first = item.find_first_not_of(' ');
    item = first == std::string::npos ? "" : item.substr(first);
    if (item.rfind(name + "=", 0) == 0) return item.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

// Browsers send Origin on every cross-site POST: a page of another site must
// not act with this manager's cookie, nor log a browser into its own account
// (login CSRF), even if SameSite were ignored.
bool SameOrigin(const httplib::Request& req) {
  const std::string origin = req.get_header_value("Origin");
  return origin.empty() || origin == "http://" + req.get_header_value("Host");
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "name:port", "name", "[::1]:port" -> the name, lower case.
std::string HostName(const std::string& host) {
  if (host.starts_with("[")) return Lower(host.substr(0, host.find(']') + 1));
  const size_t colon = host.find(':');
  if (colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
    return Lower(host.substr(0, colon));
  }
  return Lower(host);
}

std::string Trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool SameToken(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// "store-1-departments-2026-11-30_2026-12-06.csv": only characters that
// need no quoting in a header (a store id is the operator's text).
std::string CsvFileName(const v1::Report& r) {
  std::string name = r.store_id() + "-" + r.kind() + "-" + r.from_day();
  if (r.to_day() != r.from_day()) name += "_" + r.to_day();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return name + ".csv";
}

}  // namespace

Console::Console(const ConsoleConfig& config, const Clock& clock, ConsoleBackend& backend,
                 StoreTerms store)
    : backend_(backend), config_(config), clock_(clock), store_(std::move(store)) {
  std::vector<std::string> hosts = config_.allowed_hosts;
  if (hosts.empty()) hosts = {config_.bind, "localhost"};
  for (const std::string& h : hosts) allowed_hosts_.push_back(HostName(h));
}

Console::~Console() { Stop(); }

Status Console::Start() {
  server_ = std::make_unique<httplib::Server>();
  server_->set_payload_max_length(64 * 1024);
  // httplib's default also sets SO_REUSEPORT, which lets a second fogd bind
  // the same port and silently take half the connections. SO_REUSEADDR
  // alone still allows a quick restart.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Pages and scripts come only from the fog itself: no CDN, no inline
  // script, no framing (clickjacking), no caching of figures.
  server_->set_default_headers({
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
  });
  // Before any route, /metrics, /healthz and /readyz included: a browser that was
  // sent here by a rebound DNS name still says that name in Host.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (HostAllowed(req)) return httplib::Server::HandlerResponse::Unhandled;
    spdlog::warn("console: refused Host '{}' from {} (console.allowed_hosts)",
                 req.get_header_value("Host"), req.remote_addr);
    Fail(res, 421, "this console does not answer to that host name (console.allowed_hosts)");
    return httplib::Server::HandlerResponse::Handled;
  });
  Route();
  if (!server_->bind_to_port(config_.bind, config_.port)) {
    server_.reset();  // nothing to stop
    return Status::Unavailable("console: cannot listen on " + config_.bind + ":" +
                               std::to_string(config_.port) + " (key 'console.port')");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  spdlog::info("manager console on http://{}:{}/", config_.bind, config_.port);
  return Status::Ok();
}

void Console::Stop() {
  if (!server_) return;
  // stop() only ends a loop that has started: give the thread a moment.
  for (int i = 0; i < 200 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

void Console::Route() {
  for (size_t i = 0; i < kConsoleAssetCount; ++i) {
    const ConsoleAsset& a = kConsoleAssets[i];
    auto serve = [&a](const httplib::Request&, httplib::Response& res) {
      res.set_content(reinterpret_cast<const char*>(a.data), a.size, a.content_type);
    };
    server_->Get(a.path, serve);
    if (std::string(a.path) == "/index.html") server_->Get("/", serve);
  }
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server_->Post("/api/login", [this](Req req, Res res) { Login(req, res); });
  server_->Post("/api/logout", [this](Req req, Res res) { Logout(req, res); });
  server_->Get("/api/session", [this](Req req, Res res) { GetSession(req, res); });
  server_->Post("/api/request", [this](Req req, Res res) { Request(req, res); });
  server_->Get("/metrics", [this](Req, Res res) { Metrics(res); });
  server_->Get("/healthz", [this](Req, Res res) { Health(false, res); });
  server_->Get("/readyz", [this](Req, Res res) { Health(true, res); });
}

bool Console::HostAllowed(const httplib::Request& req) const {
  return Contains(allowed_hosts_, HostName(req.get_header_value("Host")));
}

std::string Console::ClientOf(const httplib::Request& req) const {
  if (!Contains(config_.trusted_proxies, req.remote_addr)) return req.remote_addr;
  // Each proxy appends the address it got the request from: the rightmost
  // entry that is not one of our proxies is the client. Entries left of it
  // are whatever the client wrote, and a client could write anything.
  std::string xff = req.get_header_value("X-Forwarded-For");
  while (!xff.empty()) {
    const size_t comma = xff.rfind(',');
    const std::string hop = Trim(comma == std::string::npos ? xff : xff.substr(comma + 1));
    if (!hop.empty() && !Contains(config_.trusted_proxies, hop)) return hop;
    if (comma == std::string::npos) break;
    xff.resize(comma);
  }
  return req.remote_addr;
}

bool Console::Idle(const Session& s, int64_t now_us) const {
  return now_us - s.last_used_us > int64_t{config_.session_idle_s} * 1'000'000;
}

bool Console::LockedOut(const std::string& key, int limit, int64_t now_us) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return false;
  auto& times = it->second;
  const int64_t window_us = int64_t{config_.lockout_s} * 1'000'000;
  while (!times.empty() && now_us - times.front() > window_us) times.pop_front();
  return times.size() >= static_cast<size_t>(limit);
}

void Console::Login(const httplib::Request& req, httplib::Response& res) {
  const int64_t now_us = clock_.NowMicros();
  const std::string client = ClientOf(req);
  if (!SameOrigin(req)) {
    Fail(res, 403, "cross-origin request refused");
    return;
  }
  v1::ConsoleLogin login;
  if (!JsonStringToMessage(req.body, &login).ok()) {
    Fail(res, 400, "the body must be JSON {\"manager\": ..., \"password\": ...}");
    return;
  }
  auto it = config_.managers.find(login.manager());
  const bool known = it != config_.managers.end();
  const std::string client_key = "client " + client;
  // Only existing accounts get a key: made-up names must not grow the table.
  const std::string account_key = known ? "account " + login.manager() : "";
  {
    std::lock_guard lock(mu_);
    const char* locked = nullptr;
    if (LockedOut(client_key, config_.max_failed_logins, now_us)) {
      locked = "too many failed logins from this computer";
    } else if (known && LockedOut(account_key, config_.max_failed_logins_per_account, now_us)) {
      locked = "too many failed logins for this manager";
    }
    if (locked != nullptr) {
      spdlog::warn("console: login as '{}' from {} refused: {}", login.manager(), client, locked);
      res.set_header("Retry-After", std::to_string(config_.lockout_s));
      Fail(
          res, 429,
          std::string(locked) + ": try again in " + std::to_string(config_.lockout_s) + " seconds");
      return;
    }
    // Counted as failed until it succeeds, so parallel guesses cannot all
    // slip past the check above while the hashes are computed.
    if (failures_.size() > 4096) {
      std::erase_if(failures_, [&](auto& f) {
        return !LockedOut(f.first, 1, now_us);  // nothing within the window
      });
    }
    failures_[client_key].push_back(now_us);
    if (known) failures_[account_key].push_back(now_us);
  }
  // An unknown name costs a hash too (any manager's), so the time taken does
  // not tell which names exist.
  const std::string& hash = known ? it->second : config_.managers.begin()->second;
  bool ok = false;
  {
    std::lock_guard verify(verify_mu_);
    ok = VerifyPassword(login.password(), hash) && known;
  }
  if (!ok) {
    spdlog::warn("console: failed login as '{}' from {}", login.manager(), client);
    Fail(res, 401, "wrong manager name or password");
    return;
  }
  Session session{login.manager(), RandomToken(), now_us};
  const std::string id = RandomToken();
  {
    std::lock_guard lock(mu_);
    failures_.erase(client_key);
    // The account keeps the other guesses at it; only this try is undone.
    auto& account = failures_[account_key];
    if (auto f = std::find(account.rbegin(), account.rend(), now_us); f != account.rend()) {
      account.erase(std::next(f).base());
    }
    std::erase_if(sessions_, [&](const auto& s) { return Idle(s.second, now_us); });
    sessions_[id] = session;
  }
  spdlog::info("console: {} logged in from {}", login.manager(), client);
  // HttpOnly: page scripts never see the session id. SameSite=Strict: no
  // other site's page can send it. (No Secure flag: the console is plain
  // HTTP on the back-office host; see fog/README.md.)
  res.set_header("Set-Cookie",
                 std::string(kCookieName) + "=" + id + "; Path=/; HttpOnly; SameSite=Strict");
  res.set_content(SessionJson(session), "application/json");
}

std::string Console::SessionJson(const Session& s) const {
  v1::ConsoleSession answer;
  answer.set_manager(s.manager);
  answer.set_csrf_token(s.csrf_token);
  answer.set_store_name(store_.name);
  answer.set_locale(store_.locale);
  answer.set_currency(store_.currency);
  answer.set_currency_decimals(store_.currency_decimals);
  answer.set_time_zone(store_.time_zone);
  for (const auto& [code, decimals] : settings::CurrencyDecimalsTable()) {
    (*answer.mutable_decimals_by_currency())[std::string(code)] = decimals;
  }
  if (auto now = backend_.SettingsInForce(kAnswerTimeout); now.ok()) {
    answer.set_store_name(now->name());
    answer.set_locale(now->locale());
    answer.set_currency(now->currency());
    answer.set_currency_decimals(now->currency_decimals());
    answer.set_time_zone(now->time_zone());
  }
  return ToJson(answer);
}

std::optional<Console::Session> Console::Authenticate(const httplib::Request& req,
                                                      httplib::Response& res) {
  const std::string id = CookieValue(req, kCookieName);
  const int64_t now_us = clock_.NowMicros();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (id.empty() || it == sessions_.end() || Idle(it->second, now_us)) {
    if (it != sessions_.end()) sessions_.erase(it);
    Fail(res, 401, "not logged in");
    return std::nullopt;
  }
  it->second.last_used_us = now_us;
  return it->second;
}

std::optional<Console::Session> Console::AuthenticateAction(const httplib::Request& req,
                                                            httplib::Response& res) {
  auto session = Authenticate(req, res);
  if (!session) return std::nullopt;
  if (!SameOrigin(req)) {
    Fail(res, 403, "cross-origin request refused");
    return std::nullopt;
  }
  if (!SameToken(req.get_header_value(kCsrfHeader), session->csrf_token)) {
    Fail(res, 403, "missing or wrong CSRF token: reload the page");
    return std::nullopt;
  }
  return session;
}

void Console::Logout(const httplib::Request& req, httplib::Response& res) {
  if (!AuthenticateAction(req, res)) return;
  {
    std::lock_guard lock(mu_);
    sessions_.erase(CookieValue(req, kCookieName));
  }
  res.set_header("Set-Cookie",
                 std::string(kCookieName) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  v1::FogResponse r;
  r.set_ok(true);
  res.set_content(ToJson(r), "application/json");
}

void Console::GetSession(const httplib::Request& req, httplib::Response& res) {
  auto session = Authenticate(req, res);
  if (!session) return;
  res.set_content(SessionJson(*session), "application/json");
}

void Console::Request(const httplib::Request& req, httplib::Response& res) {
  auto session = AuthenticateAction(req, res);
  if (!session) return;
  v1::FogRequest request;
  if (auto s = JsonStringToMessage(req.body, &request); !s.ok()) {
    Fail(res, 400, "the body does not parse as a FogRequest: " + s.ToString());
    return;
  }
  // The actor is who logged in, whatever the body says (access.h).
  auto response = backend_.Answer(request, session->manager, kAnswerTimeout);
  if (!response.ok()) {
    Fail(res, 503, response.status().message());
    return;
  }
  // ?format=text or csv: a report as storectl prints it (common/report_text.h),
  // so the printed Z reads the same from either; csv as a file to save.
  const std::string format = req.get_param_value("format");
  if ((format == "text" || format == "csv") && response->ok() && response->has_report()) {
    const v1::Report& report = response->report();
    auto printed = format == "csv" ? FormatReportCsv(report) : FormatReportText(report);
    if (!printed.ok()) {
      Fail(res, 400, printed.status().message());
      return;
    }
    if (format == "csv") {
      res.set_header("Content-Disposition", "attachment; filename=\"" + CsvFileName(report) + "\"");
      res.set_content(*printed, "text/csv; charset=utf-8");
    } else {
      res.set_content(*printed, "text/plain; charset=utf-8");
    }
    return;
  }
  // 422: the fog understood and refused (e.g. a day in the future); the
  // page shows response.error as it is.
  res.status = response->ok() ? 200 : 422;
  res.set_content(ToJson(*response), "application/json");
}

void Console::Metrics(httplib::Response& res) {
  auto sample = backend_.Sample(kAnswerTimeout);
  if (!sample.ok()) {
    res.status = 503;
    res.set_content(sample.status().message() + "\n", "text/plain");
    return;
  }
  res.set_content(FormatMetrics(*sample), "text/plain; version=0.0.4; charset=utf-8");
}

void Console::Health(bool ready, httplib::Response& res) {
  const ConsoleBackend::Health h = backend_.CheckHealth(kHealthTimeout);
  std::string body;
  for (const auto& [name, s] :
       {std::pair{"write", &h.write}, {"disk", &h.disk}, {"worker", &h.worker}}) {
    body += std::string(name) + ": " + (s->ok() ? "ok" : s->message()) + "\n";
  }
  bool ok = h.live();
  if (ready) {
    body += std::string("broker: ") + (h.broker_connected ? "ok" : "disconnected") + "\n";
    ok = ok && h.broker_connected;
  }
  res.status = ok ? 200 : 503;
  res.set_content(body, "text/plain");
}

Status ReadHealthConfig(ConfigReader& r, HealthConfig* c) {
  c->min_free_mib = r.Int("health.min_free_mib", c->min_free_mib, {0, int64_t{1} << 40});
  c->worker_stall_s =
      static_cast<int>(r.Int("health.worker_stall_s", c->worker_stall_s, {1, 24 * 3600}));
  return r.status();
}

Status ReadConsoleConfig(ConfigReader& r, ConsoleConfig* c) {
  c->enabled = r.Has("console");
  c->bind = r.String("console.bind", c->bind);
  constexpr int64_t kDayS = 24 * 3600;
  c->port = static_cast<int>(r.Int("console.port", c->port, {1, 65535}));
  c->max_failed_logins =
      static_cast<int>(r.Int("console.max_failed_logins", c->max_failed_logins, {1, 1000}));
  c->max_failed_logins_per_account = static_cast<int>(
      r.Int("console.max_failed_logins_per_account", c->max_failed_logins_per_account, {1, 1000}));
  c->lockout_s = static_cast<int>(r.Int("console.lockout_s", c->lockout_s, {1, kDayS}));
  c->allowed_hosts = r.StringList("console.allowed_hosts", c->allowed_hosts);
  c->trusted_proxies = r.StringList("console.trusted_proxies", c->trusted_proxies);
  c->session_idle_s =
      static_cast<int>(r.Int("console.session_idle_s", c->session_idle_s, {60, 7 * kDayS}));
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(r.source() + ": key '" + key + "': " + why);
  };
  for (const std::string& name : r.TableKeys("console.managers")) {
    // Names go into dotted config keys, logs and the action journal.
    if (name.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos) {
      return bad("console.managers." + name, "a manager name is letters, digits, '_' and '-'");
    }
    c->managers[name] = r.String("console.managers." + name);
  }
  // A value out of range or of the wrong type comes first.
  SN_RETURN_IF_ERROR(r.status());
  if (!c->enabled) return Status::Ok();
  if (c->bind.empty()) return bad("console.bind", "must not be empty");
  if (c->managers.empty()) {
    return bad("console.managers", "name at least one manager (storectl console hash-password)");
  }
  for (const auto& [name, hash] : c->managers) {
    if (Status s = CheckPasswordHash(hash); !s.ok()) {
      return bad("console.managers." + name, s.message());
    }
  }
  return Status::Ok();
}

}  // namespace storenode::fog
