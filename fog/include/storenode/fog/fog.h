// storenode fog: the store daemon's library. storenode-fogd is a thin main()
// around it; tests and tools embed it the same way.
//
// A Fog receives every till's journal over MQTT, verifies and stores it in
// fog.db exactly once in effect, keeps the read models, and answers manager
// requests on fog/req. All work on fog.db happens on one worker thread; the
// public methods are safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storenode/common/broker_link.h"
#include "storenode/common/clock.h"
#include "storenode/common/ledger.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/status.h"
#include "storenode/common/topics.h"
#include "storenode/fog/console.h"
#include "storenode/schemas/settings.pb.h"
#include "storenode/schemas/xreport.pb.h"

namespace storenode::fog {

// The link to the chain's cloud ledger: the [ledger] section of fog.toml.
// Without a uri nothing is forwarded; close-downs wait in the outbox.
struct LedgerLink {
  // The cloud broker, ssl://... (tcp:// only with insecure); client_id
  // default "{store}-fog-ledger". Empty uri: nothing is forwarded.
  BrokerLink link;
  // The ledger's Ed25519 public key, hex. Empty: the first receipt's key is
  // trusted and pinned in fog.db (with a warning).
  std::string public_key;
  // Resend an unanswered close-down after retry_min_ms, doubling up to
  // retry_max_ms, with jitter (ledger::ResendBackoff).
  int retry_min_ms = ledger::kRetryMinMs;
  int retry_max_ms = ledger::kRetryMaxMs;
};

// [head_office]: head office's releases over the [ledger] link
// (fog/src/head_office.h). Without a public_key releases are ignored.
struct HeadOfficeConfig {
  std::string public_key;           // Ed25519, 64 hex digits: pinned
  std::vector<std::string> groups;  // the groups this store is in
  int releases_per_minute = 10;     // applied per kind; more wait
};

// [broker] max_message_bytes: the range of the fog's message size limit;
// and kMaxPacketBytes, the largest packet the fog takes from the broker at
// all (its MQTT v5 Maximum Packet Size, whatever the limit). Paho holds about
// three copies of a packet as it arrives (a 64 MB payload took fogd from
// 15 MB to 202 MB VmHWM), so 3 x 48 MiB and the fog's own memory stay under
// 200 MB RSS. Between the limit and kMaxPacketBytes a message is seen and
// quarantined by its size, hash and prefix; above it the broker drops it
// for the fog (docs/DEPLOY.md, "Message size").
inline constexpr IntRange kMaxMessageBytesRange{16 * 1024, 32 * 1024 * 1024};
inline constexpr uint32_t kMaxPacketBytes = 48 * 1024 * 1024;

// [roles]: what each manager may ask the fog, by authenticated identity
// (fog/src/access.h). Role names: "supervisor", "manager", "none".
struct RolesConfig {
  std::vector<std::string> supervisors;  // roles.supervisor
  std::vector<std::string> managers;     // roles.manager
  std::string default_role = "manager";  // roles.default: anybody else
};

// [requests]: per-sender limits of the request topics (fog/src/access.h).
// Rates are per minute: fog.toml takes no floating-point values.
struct RequestLimits {
  int catalog_per_minute = 60;  // catalog fetches of one till
  int catalog_burst = 10;
  // The same answer (from version, to version) goes to a till at most once
  // in this many ms; the till asks again after catalog_fetch_timeout_ms
  // (10 s) when its chunks went missing, so keep this below that.
  int catalog_answer_interval_ms = 5000;
  int fog_req_per_minute = 600;  // fog/req requests of one identity
  int fog_req_burst = 50;
};

// [store] besides its id: who the store is and its terms, which the fog
// issues to the tills as the store settings (fog/src/settings.h).
struct StoreTerms {
  std::string name, address, tax_id;  // printed on every Z; name default: the id
  std::string time_zone;              // IANA, required
  int day_start_minutes = 0;          // day_start "04:00" -> 240
  std::string currency;               // ISO 4217, required
  int currency_decimals = 2;          // from the currency
  int64_t cash_rounding = 1;
  std::string locale = "en-GB";  // BCP 47, for the console's numbers
  // [store.tax.CODE]: name and rates, each resolved in time_zone
  // (common/store_settings.h rule 2), by code then time.
  std::vector<v1::TaxRateEntry> tax_rates;
  // [store.voucher.ID]: the voucher and gift card types, by id.
  std::vector<v1::VoucherType> voucher_types;
  // Weighed goods and corrections (settings.proto 14..17, docs/DEPLOY.md):
  // scale_labels = ["21 5 price 4 check", "28 5 measure 5"] (prefix, item
  // digits, what the value is, value digits, an optional price check digit);
  // no_receipt_refund_limit and no_receipt_supervisor_above in minor units;
  // price_override_reasons = ["damaged", "price match"].
  std::vector<v1::ScaleLabelLayout> scale_labels;
  int64_t no_receipt_refund_limit = 0;
  int64_t no_receipt_supervisor_above = 0;
  std::vector<std::string> price_override_reasons;
  // [store.fx]: the exchange commissions, "2% min 1.50 max 15.00" (home
  // money), and aml_threshold, the home amount from which an exchange needs
  // a customer reference ("" or absent: none). The rate sheet itself comes
  // from `storectl rates import` (SettingsIssuer::ImportRates).
  v1::FxCommission buy_commission, sell_commission;
  int64_t aml_threshold = 0;
};

// [stock]: the reorder policy (fog/src/reorder.h, docs/FORMATS.md "Stock").
struct StockConfig {
  int service_level_permille = 950;  // service_level_permille: S's quantile, 500..999
  int review_days = 7;               // review_days: days between two orders, 1..90
  int history_days = 364;            // history_days: the history forecasts see, 28..1092
  // reorder: false runs no reorder job at all (a store that orders from
  // another system); `storectl reorder` then lists what fog.db still holds.
  bool reorder = true;
  double service_level() const { return service_level_permille / 1000.0; }
};

struct Config {
  std::string source;  // the file it came from, for messages
  std::string store_id;
  StoreTerms store;
  // The store broker ([broker]); client_id default "storenode-fog",
  // plain TCP only with insecure (warns at start-up).
  BrokerLink broker{.client_id = "storenode-fog"};
  // [broker] max_message_bytes: a larger message is quarantined by its size,
  // SHA-256 and first bytes before anything parses or queues it.
  size_t max_message_bytes = topics::kDefaultMaxMessageBytes;
  std::string data_dir;  // fog.db lives here
  std::vector<std::string> expected_tills;
  bool trust_on_first_use = true;  // pin the key of an unknown till from its genesis
  std::string log_level = "info";
  int gap_hold_ms = 500;         // how long an out-of-order batch waits for the gap to fill
  int max_batch_events = 20000;  // events per ingest transaction
  // [sync] reassert_ms: how often the fog publishes again everything it
  // keeps retained (its status, owed seal commands, the catalog manifest),
  // besides after every (re)connect: a broker may lose retained messages.
  int reassert_ms = 30000;
  LedgerLink ledger;
  HeadOfficeConfig head_office;
  // Provisioned tills and managers (common/till_registry.h): pinned keys and
  // revocations. Re-read whenever the file changes; a missing file means no
  // till is provisioned. Default: data_dir + "/tills.toml".
  std::string tills_registry;
  ConsoleConfig console;  // the manager console (fog/src/console.h)
  HealthConfig health;    // [health]: what /healthz checks against
  RolesConfig roles;
  RequestLimits requests;
  StockConfig stock;
};

// Loads and checks a fog TOML config; the Status names file, key and reason.
Result<Config> LoadConfig(const std::string& path);

// The settings document that `terms` of `store_id` make, without version
// or issue time: what the fog issues from fog.toml (fog/src/settings.h) and
// what head office releases (`storectl chain release settings`).
v1::StoreSettings TermsDocument(const std::string& store_id, const StoreTerms& terms);
// The terms of a file holding only a [store] section in fog.toml's syntax,
// read by LoadConfig's own [store] reader: a head-office settings release.
// store.id is optional there ("": whichever store takes it); name, address
// and tax_id left out keep the store's own (fog/src/head_office.h).
Result<v1::StoreSettings> LoadStoreTermsFile(const std::string& path);

// What the fog runs on, as LevelDB's Env: the seams tests replace. The
// defaults are the real ones, resolved once in Open().
struct Env {
  const Clock* clock = nullptr;  // default: the system clock
  // The SQLite VFS fog.db is opened through; empty = SQLite's default.
  // Tests pass tests/support/fault_vfs.h's to fail commits or cut the power.
  std::string sqlite_vfs;
  // What connects to the store broker ([broker]) and to the ledger's
  // ([ledger]); default: Paho clients (mqtt::PahoConnector). Tests pass
  // tests/support/memory_broker.h's.
  mqtt::Connector store_broker{};
  mqtt::Connector ledger_broker{};
};

class Fog {
 public:
  static Result<std::unique_ptr<Fog>> Open(const Config& config, Env env = {});
  ~Fog();
  // Connects to the broker and starts the worker. Returns at once.
  Status Start();
  // Stops cleanly: drains the queue, publishes offline, disconnects.
  void Stop();

  struct Counters {
    uint64_t events_stored = 0;
    uint64_t duplicates = 0;
    uint64_t quarantined = 0;
    uint64_t batches = 0;
  };
  Counters counters() const;

  class Impl;

 private:
  explicit Fog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Every per-device, per-day totals row of a fog.db, for audits and tests
// (read-only; safe while the daemon runs).
Result<std::vector<v1::DayTotals>> ReadDayTotals(const std::string& fog_db_path);

}  // namespace storenode::fog
