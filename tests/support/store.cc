#include "support/store.h"

#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <thread>

#include "storenode/common/files.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/merkle.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/totals.h"
#include "storenode/fog/fog.h"

namespace storenode::testing {

v1::ZReport DecodeZ(const v1::SignedZ& s) {
  v1::ZReport z;
  REQUIRE(z.ParseFromString(s.z()));
  return z;
}

sim::Mix FxOnlyMix() {
  sim::Mix m = sim::Mix::Classic();
  m.fx = true;
  return m;
}

Store::Store(int n, std::string store)
    : dir(MakeTempDir("store")), store_id(std::move(store)), broker(dir) {
  REQUIRE(broker.Start().ok());
  std::vector<std::string> expected;
  for (int i = 1; i <= n; ++i) expected.push_back(sim::SimDeviceId(i));
  fog = std::make_unique<FogProcess>(dir + "/fog", store_id, broker.uri(), expected);
  std::filesystem::create_directories(dir + "/fog");
  tills.resize(n);
}

Store::~Store() {
  for (size_t i = 0; i < tills.size(); ++i) CloseTill(i);
}

edge::SyncOptions Store::SyncOptionsFor() const {
  edge::SyncOptions o;
  o.broker.uri = broker.uri();
  o.broker.insecure = true;
  o.ack_timeout_ms = 1500;
  o.status_interval_ms = 500;
  return o;
}

void Store::OpenTill(size_t i, bool sync, int day_offset_minutes) {
  SimTill& t = tills[i];
  edge::Options options =
      sim::SimTillOptions(dir, store_id, sim::SimDeviceId(static_cast<int>(i + 1)));
  t.clock = std::make_unique<ShiftedClock>(int64_t{day_offset_minutes} * 60'000'000);
  options.clock = t.clock.get();
  auto journal = edge::Journal::Open(options);
  INFO(journal.status().ToString());
  REQUIRE(journal.ok());
  t.journal = std::move(*journal);
  t.sim = std::make_unique<sim::TillSim>(t.journal.get(), 7, static_cast<int>(i + 1), mix);
  if (sync) {
    auto engine = edge::SyncEngine::Start(t.journal.get(), SyncOptionsFor());
    REQUIRE(engine.ok());
    t.sync = std::move(*engine);
  }
}

void Store::OpenTillOnFogSettings(size_t i, const Clock* clock) {
  auto doc = files::Read(fog->data_dir() + "/settings.pb");
  REQUIRE(doc.ok());
  edge::Options o = sim::SimTillOptions(dir, store_id, sim::SimDeviceId(static_cast<int>(i + 1)));
  o.settings = *doc;
  o.clock = clock;
  auto journal = edge::Journal::Open(o);
  INFO(journal.status().ToString());
  REQUIRE(journal.ok());
  tills[i].journal = std::move(*journal);
}

void Store::OpenSyncedTillOnFogSettings(size_t i) {
  SimTill& t = tills[i];
  t.clock = std::make_unique<ShiftedClock>(0);
  OpenTillOnFogSettings(i, t.clock.get());
  t.sim = std::make_unique<sim::TillSim>(t.journal.get(), 23, static_cast<int>(i + 1), mix);
  auto engine = edge::SyncEngine::Start(t.journal.get(), SyncOptionsFor());
  REQUIRE(engine.ok());
  t.sync = std::move(*engine);
}

v1::RatesImportResponse Store::ImportRates(const std::string& csv) {
  v1::FogRequest import;
  import.mutable_rates_import()->set_csv(csv);
  import.mutable_rates_import()->set_file_name("rates.csv");
  auto imported = fog->Ask(import);
  REQUIRE(imported.ok());
  INFO(imported->error());
  REQUIRE(imported->ok());
  return imported->rates_import();
}

void Store::CloseTill(size_t i) {
  SimTill& t = tills[i];
  t.sync.reset();
  t.sim.reset();
  t.journal.reset();
}

void Store::Sell(size_t i, uint64_t sales) {
  Status s = tills[i].sim->RunSales(sales);
  INFO(s.ToString());
  REQUIRE(s.ok());
}

namespace {

int64_t QueryFog(const std::string& db_path, const std::string& sql, const std::string& arg) {
  sql::OpenOptions o;
  o.read_only = true;
  auto db = sql::Db::Open(db_path, o);
  if (!db.ok()) return -1;
  auto stmt = (*db)->Prepare(sql);
  if (!stmt.ok()) return -1;  // e.g. schema not created yet
  stmt->Bind(1, arg);
  auto row = stmt->Step();
  return row.ok() && *row ? stmt->Int(0) : 0;
}

}  // namespace

uint64_t Store::FogAcked(const std::string& device) const {
  int64_t v = QueryFog(fog->db_path(), "SELECT acked_seq FROM devices WHERE device_id = ?", device);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

uint64_t Store::FogEventCount(const std::string& device) const {
  int64_t v = QueryFog(fog->db_path(), "SELECT COUNT(*) FROM events WHERE device_id = ?", device);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

int64_t Store::FogQuarantined(const std::string& fragment) const {
  return QueryFog(fog->db_path(), "SELECT COUNT(*) FROM quarantine WHERE instr(reason, ?) > 0",
                  fragment);
}

// Every row of every table of fog.db but the quarantine, as text.
std::string FogStateOutsideQuarantine(const std::string& db_path) {
  sql::OpenOptions ro;
  ro.read_only = true;
  auto db = sql::Db::Open(db_path, ro).value();
  auto tables = db->Prepare(
                      "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> "
                      "'quarantine' ORDER BY name")
                    .value();
  std::string out;
  while (tables.Step().value()) {
    std::string name = tables.Text(0);
    auto columns = db->Prepare("SELECT name FROM pragma_table_info('" + name + "')").value();
    std::string row_text;
    while (columns.Step().value()) {
      row_text +=
          (row_text.empty() ? "" : " || '|' || ") + std::string("quote(") + columns.Text(0) + ")";
    }
    auto rows = db->Prepare("SELECT " + row_text + " FROM " + name + " ORDER BY 1").value();
    out += "[" + name + "]\n";
    while (rows.Step().value()) out += rows.Text(0) + "\n";
  }
  return out;
}

v1::CloseDownResponse Store::CloseDay(const std::string& day, std::map<std::string, int64_t> counts,
                                      bool force, std::chrono::seconds wait) {
  v1::FogRequest req;
  req.mutable_closedown()->set_business_day(day);
  for (const auto& [d, c] : counts) (*req.mutable_closedown()->mutable_counted_cash())[d] = c;
  v1::CloseDownResponse out;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto r = fog->Ask(req);
    REQUIRE(r.ok());
    INFO(r->error());
    REQUIRE(r->ok());
    out = r->closedown();
    if (out.closed() || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  if (!out.closed() && force) {
    req.mutable_closedown()->set_force(true);
    auto r = fog->Ask(req);
    REQUIRE(r.ok());
    REQUIRE(r->ok());
    out = r->closedown();
  }
  return out;
}

v1::CloseDownResponse Store::WaitSupplements(const std::string& day, int supplements,
                                             std::chrono::seconds timeout) {
  v1::CloseDownResponse answer;
  REQUIRE(WaitFor(
      [&] {
        answer = CloseDay(day, {}, false, std::chrono::seconds(0));
        return answer.supplements_size() >= supplements;
      },
      timeout));
  return answer;
}

void Store::WaitSignaturesChecked() {
  REQUIRE(WaitFor(
      [&] {
        auto status = fog->GetStatus();
        return status.ok() && status->unverified_signatures() == 0;
      },
      std::chrono::seconds(10)));
}

bool Store::WaitSynced(std::chrono::seconds timeout) {
  return WaitFor(
      [&] {
        for (size_t i = 0; i < tills.size(); ++i) {
          if (!tills[i].journal) continue;
          if (FogAcked(sim::SimDeviceId(static_cast<int>(i + 1))) != tills[i].journal->head_seq()) {
            return false;
          }
        }
        return true;
      },
      timeout);
}

void RequireFogMatchesJournals(const std::string& fog_db,
                               const std::vector<std::string>& journal_paths) {
  auto fog_totals = fog::ReadDayTotals(fog_db);
  REQUIRE(fog_totals.ok());
  std::map<std::pair<std::string, std::string>, v1::DayTotals> at_fog;
  for (auto& t : *fog_totals) at_fog[{t.device_id(), t.business_day()}] = t;
  size_t oracle_rows = 0;
  for (const std::string& path : journal_paths) {
    auto days = edge::TotalsFromFile(path);
    REQUIRE(days.ok());
    for (v1::DayTotals& want : *days) {
      ++oracle_rows;
      INFO(path << " day " << want.business_day());
      auto it = at_fog.find({want.device_id(), want.business_day()});
      REQUIRE(it != at_fog.end());
      v1::DayTotals got = it->second;
      got.clear_store_id();
      want.clear_store_id();
      INFO("fog:    " << got.ShortDebugString());
      INFO("oracle: " << want.ShortDebugString());
      REQUIRE(google::protobuf::util::MessageDifferencer::Equals(got, want));
    }
    auto events = edge::ReadJournalFile(path);
    REQUIRE(events.ok());
    v1::EventHeader h;
    REQUIRE(h.ParseFromString(events->back().header()));
    sql::OpenOptions o;
    o.read_only = true;
    auto db = sql::Db::Open(fog_db, o).value();
    auto stmt = db->Prepare(
                      "SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM events WHERE "
                      "device_id = ? AND journal_id = ?")
                    .value();
    stmt.Bind(1, h.device_id()).BindBlob(2, h.journal_id());
    REQUIRE(stmt.Step().value());
    // Every kept event, once (a pruned journal keeps genesis and what follows its anchor).
    REQUIRE(static_cast<size_t>(stmt.Int(0)) == events->size());
    REQUIRE(stmt.Int(1) == stmt.Int(0));
    REQUIRE(static_cast<uint64_t>(stmt.Int(2)) == h.seq());
  }
  REQUIRE(oracle_rows == at_fog.size());
}

v1::DayTotals DayFromJournals(const Store& store, const std::string& day) {
  v1::DayTotals t;
  for (const auto& till : store.tills) {
    for (const v1::JournalEvent& ev :
         edge::ReadJournalFile(till.journal->options().journal_path).value()) {
      DecodedEvent d;
      REQUIRE(DecodeEvent(ev, &d).ok());
      if (d.header.business_day() == day) AddToTotals(d, &t);
    }
  }
  FinishTotals(&t);
  return t;
}

Oracle FromJournals(const std::vector<std::string>& paths, const std::string& day,
                    std::map<std::string, uint64_t> from_seq,
                    std::map<std::string, uint64_t> to_seq) {
  Oracle o;
  // (device, journal id, seq) order, as the Z promises.
  std::map<std::pair<std::string, std::string>, std::vector<crypto::Hash>> by_journal;
  for (const std::string& path : paths) {
    for (const v1::JournalEvent& ev : edge::ReadJournalFile(path).value()) {
      DecodedEvent d;
      REQUIRE(DecodeEvent(ev, &d).ok());
      const auto& h = d.header;
      if (h.business_day() != day) continue;
      if (from_seq.count(h.device_id()) && h.seq() < from_seq[h.device_id()]) continue;
      if (to_seq.count(h.device_id()) && h.seq() > to_seq[h.device_id()]) continue;
      AddToTotals(d, &o.totals);
      by_journal[{h.device_id(), h.journal_id()}].push_back(
          merkle::LeafHash(crypto::AsBytes(ev.hash())));
    }
  }
  std::vector<crypto::Hash> leaves;
  for (auto& [k, v] : by_journal) leaves.insert(leaves.end(), v.begin(), v.end());
  o.root = merkle::Root(leaves);
  o.leaves = leaves.size();
  FinishTotals(&o.totals);
  return o;
}

void RequireSameFigures(v1::DayTotals got, v1::DayTotals want) {
  for (auto* t : {&got, &want}) {
    t->clear_store_id();
    t->clear_device_id();
    t->clear_business_day();
    t->clear_sealed();
  }
  INFO("Z:      " << got.ShortDebugString());
  INFO("oracle: " << want.ShortDebugString());
  REQUIRE(google::protobuf::util::MessageDifferencer::Equals(got, want));
}

}  // namespace storenode::testing
