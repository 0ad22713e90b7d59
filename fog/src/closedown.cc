// The end-of-day close-down: NOTES ON THE DESIGN
//
// Promise: each business day gets exactly one Z, numbered gaplessly per
// store, hash-chained to the previous Z and signed by the fog, whatever
// crashes; late events of a closed day never change its Z but produce a
// supplementary close-down (same numbering, same chain) once their till
// has sealed the day.
//
// Invariants:
//  1. A Z is written in one transaction with its close-down row's state and
//     the action journal entry; the Z number is MAX + 1 inside it. A crash
//     before COMMIT leaves the close-down waiting and the next poll (after
//     restart) builds it again; a crash after leaves it closed.
//  2. Figures come from the read models of (day, part): part 0 is what the
//     Z covers; once the Z is committed, ingest books the day's late events
//     on part 1, then 2... so no event is in two close-downs and none is
//     left out (read_models.h).
//  3. A till is sealed for day D when its DAY_SEALED event for D is stored;
//     ingest stores events only in chain order, so everything before the
//     seal is stored too.
//  4. Seal commands are retained per till, so a till offline now obeys when
//     it returns; "seal up to D" also covers earlier unsealed days. The fog
//     never relies on the broker keeping them: after every (re)connect, every
//     config_.reassert_ms, and when a till connects (its online status or its
//     first journal), it publishes again every seal a till still owes
//     (OwedSeals: derived from closedowns and the stored DAY_SEALED events,
//     read_models.h; nothing else to lose).
#include "closedown.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>

#include "action_journal.h"
#include "read_models.h"
#include "storenode/common/fault.h"
#include "storenode/common/files.h"
#include "storenode/common/fx.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/merkle.h"
#include "storenode/common/money.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/topics.h"
#include "storenode/common/totals.h"
#include "storenode/fog/audit.h"

namespace storenode::fog {
namespace {

std::string Hex(std::string_view raw) { return crypto::ToHex(crypto::AsBytes(raw)); }

// A row of "SELECT z_number, z, hash, signature FROM zreports".
StoredZ ZOfRow(const sql::Stmt& row) {
  StoredZ z;
  z.z_number = static_cast<uint64_t>(row.Int(0));
  z.z.set_z(row.Blob(1));
  z.z.set_hash(row.Blob(2));
  z.z.set_signature(row.Blob(3));
  return z;
}

// Foreign drawer counts (common/fx.h): each a till of the store, a known
// foreign currency, 0..fx::kMaxForeignMinor, each (till, currency) once.
std::string CheckForeignCounts(const v1::CloseDownRequest& req,
                               const std::vector<std::string>& expected, const std::string& home) {
  constexpr int kMaxCounts = 1000;
  if (req.counted_foreign_size() > kMaxCounts) {
    return "more than " + std::to_string(kMaxCounts) + " foreign counts";
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const v1::ForeignCount& c : req.counted_foreign()) {
    const std::string at =
        "foreign count " + c.device_id().substr(0, 64) + " " + c.currency().substr(0, 8) + ": ";
    if (std::find(expected.begin(), expected.end(), c.device_id()) == expected.end()) {
      return at + "unknown till";
    }
    if (settings::CurrencyDecimals(c.currency()) < 0 || c.currency() == home) {
      return at + "not a foreign ISO 4217 currency";
    }
    if (c.counted() < 0 || c.counted() > fx::kMaxForeignMinor) return at + "out of range";
    if (!seen.insert({c.device_id(), c.currency()}).second) return at + "given twice";
  }
  return "";
}

// A repeated request replaces the counts it names.
void MergeForeignCounts(const v1::CloseDownRequest& req, v1::CloseDownRequest* merged) {
  for (const v1::ForeignCount& c : req.counted_foreign()) {
    bool replaced = false;
    for (v1::ForeignCount& m : *merged->mutable_counted_foreign()) {
      if (m.device_id() == c.device_id() && m.currency() == c.currency()) {
        m.set_counted(c.counted());
        replaced = true;
      }
    }
    if (!replaced) *merged->add_counted_foreign() = c;
  }
}

// Every foreign drawer of the day and every counted one; counts on the Z
// only (part 0), as for the home drawers.
void AddForeignCounts(const v1::DayTotals& all, const v1::CloseDownRequest& request, uint32_t part,
                      v1::ZReport* z) {
  std::map<std::pair<std::string, std::string>, v1::ForeignDrawerCount> rows;
  for (const v1::ForeignDrawer& d : all.foreign_drawers()) {
    v1::ForeignDrawerCount& c = rows[{d.device_id(), d.currency()}];
    c.set_expected_cash(d.expected());
  }
  if (part == 0) {
    for (const v1::ForeignCount& n : request.counted_foreign()) {
      v1::ForeignDrawerCount& c = rows[{n.device_id(), n.currency()}];
      c.set_counted(true);
      c.set_counted_cash(n.counted());
    }
  }
  for (auto& [key, c] : rows) {
    c.set_device_id(key.first);
    c.set_currency(key.second);
    if (c.counted()) c.set_over_short(c.counted_cash() - c.expected_cash());
    *z->add_foreign_counts() = c;
  }
}

}  // namespace

Result<std::vector<StoredZ>> ZsOf(sql::Db& db, const std::string& day) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare("SELECT z_number, z, hash, signature FROM "
                                                 "zreports WHERE business_day = ? ORDER BY part"));
  stmt.Bind(1, day);
  return sql::Rows(stmt, ZOfRow);
}

Status ForEachZ(sql::Db& db, uint64_t up_to, const std::function<Status(StoredZ&)>& visit) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare("SELECT z_number, z, hash, signature FROM "
                                                 "zreports WHERE z_number <= ? ORDER BY z_number"));
  stmt.Bind(1, static_cast<int64_t>(up_to));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    StoredZ z = ZOfRow(stmt);
    SN_RETURN_IF_ERROR(visit(z));
  }
  return Status::Ok();
}

Result<uint64_t> LastZNumber(sql::Db& db) {
  SN_ASSIGN_OR_RETURN(int64_t last, db.QueryInt("SELECT IFNULL(MAX(z_number), 0) FROM zreports"));
  return static_cast<uint64_t>(last);
}

Result<std::optional<std::string>> CloseDown::ZBytes(uint64_t z_number) {
  SN_ASSIGN_OR_RETURN(sql::Stmt z, db_.Prepare("SELECT z FROM zreports WHERE z_number = ?"));
  z.Bind(1, static_cast<int64_t>(z_number));
  SN_ASSIGN_OR_RETURN(bool row, z.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(z.Blob(0));
}

void CloseDown::ObserveClosed() {
  auto newest = Newest();
  v1::ZReport z;
  if (newest.ok() && *newest && z.ParseFromString((*newest)->z)) {
    durations_.Observe(static_cast<double>(z.created_us() - (*newest)->requested_us) / 1e6);
  }
}

Result<std::optional<NewestCloseDown>> CloseDown::Newest() {
  SN_ASSIGN_OR_RETURN(
      sql::Stmt q,
      db_.Prepare("SELECT c.business_day, c.requested_us, z.z FROM closedowns c JOIN zreports z "
                  "ON z.business_day = c.business_day AND z.part = 0 ORDER BY z.z_number DESC "
                  "LIMIT 1"));
  SN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<NewestCloseDown>();
  NewestCloseDown out;
  out.business_day = q.Text(0);
  out.requested_us = q.Int(1);
  out.z = q.Blob(2);
  return std::optional<NewestCloseDown>(std::move(out));
}

// These two read the forwarder's ledger_receipts (closedown.h).
Result<std::optional<StoredZ>> CloseDown::NextUndelivered() {
  SN_ASSIGN_OR_RETURN(sql::Stmt next,
                      db_.Prepare("SELECT z_number, z, hash, signature FROM zreports WHERE "
                                  "z_number = (SELECT IFNULL(MAX(z_number), 0) + 1 FROM "
                                  "ledger_receipts)"));
  SN_ASSIGN_OR_RETURN(bool row, next.Step());
  if (!row) return std::optional<StoredZ>();
  return std::optional<StoredZ>(ZOfRow(next));
}

Result<uint64_t> CloseDown::UndeliveredCount() {
  SN_ASSIGN_OR_RETURN(int64_t n,
                      db_.QueryInt("SELECT COUNT(*) FROM zreports WHERE z_number > "
                                   "(SELECT IFNULL(MAX(z_number), 0) FROM ledger_receipts)"));
  return static_cast<uint64_t>(n);
}

Result<crypto::SigningKey> LoadFogKey(sql::Db& db, const std::string& data_dir) {
  const std::string key_path = data_dir + "/fog.key";
  crypto::SigningKey key;
  struct stat st {};
  if (stat(key_path.c_str(), &st) != 0) {
    // A new key is only right for a new store: a fog.db that already signed
    // Zs or actions would continue its chain under a key no auditor pinned,
    // so the operator must restore the key instead (docs/DEPLOY.md).
    SN_ASSIGN_OR_RETURN(uint64_t zs, LastZNumber(db));
    SN_ASSIGN_OR_RETURN(int64_t actions, ActionJournal::Count(db));
    const int64_t signed_rows = static_cast<int64_t>(zs) + actions;
    if (signed_rows > 0) {
      return Status::Precondition(
          key_path + " is missing but " + data_dir + "/fog.db holds " +
          std::to_string(signed_rows) +
          " Zs and actions signed with it: restore fog.key from the backup "
          "(storectl backup, docs/DEPLOY.md) instead of starting with a new key");
    }
    key = crypto::SigningKey::Generate();
    SN_RETURN_IF_ERROR(key.Save(key_path));
    spdlog::info("made the fog's signing key {}: {}", key_path,
                 crypto::Fingerprint(key.public_key()));
  } else {
    SN_ASSIGN_OR_RETURN(key, crypto::SigningKey::Load(key_path));
  }
  // The public half, for auditors and `storectl verify receipt`.
  SN_RETURN_IF_ERROR(
      files::WriteAtomic(data_dir + "/fog.pub", crypto::ToHex(key.public_key()) + "\n", 0644));
  return key;
}

CloseDown::CloseDown(sql::Db& db, const Config& config, const Clock& clock,
                     const crypto::SigningKey& key, Ingest& ingest, const Trust& trust,
                     ActionJournal& actions, std::function<bool()> recovering)
    : db_(db),
      config_(config),
      clock_(clock),
      key_(key),
      ingest_(ingest),
      trust_(trust),
      actions_(actions),
      recovering_(std::move(recovering)) {}

Status CloseDown::Load() {
  SN_ASSIGN_OR_RETURN(sql::Stmt parts, db_.Prepare("SELECT business_day, MAX(part) + 1 FROM "
                                                   "zreports GROUP BY business_day"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, parts.Step());
    if (!row) break;
    open_parts_[parts.Text(0)] = static_cast<uint32_t>(parts.Int(1));
    late_days_.insert(parts.Text(0));  // re-checked once at start
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt waiting,
                      db_.Prepare("SELECT business_day FROM closedowns WHERE state = 'waiting'"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, waiting.Step());
    if (!row) break;
    waiting_days_.insert(waiting.Text(0));
  }
  ingest_.SetPartOfDay([this](const std::string& day) { return PartOfDay(day); });
  return Status::Ok();
}

uint32_t CloseDown::PartOfDay(const std::string& day) const {
  auto it = open_parts_.find(day);
  return it == open_parts_.end() ? 0 : it->second;
}

std::vector<std::string> CloseDown::ExpectedTills() const {
  return trust_.ExpectedTills(ingest_.devices());
}

Result<std::set<std::string>> CloseDown::SealedTills(const std::string& day) {
  return SealedDevices(db_, day);
}

Result<std::vector<v1::SignedZ>> CloseDown::StoredZs(const std::string& day) {
  SN_ASSIGN_OR_RETURN(std::vector<StoredZ> stored, ZsOf(db_, day));
  std::vector<v1::SignedZ> out;
  for (StoredZ& s : stored) {
    v1::SignedZ& z = out.emplace_back(std::move(s.z));
    z.set_fog_public_key(key_.public_key().data(), 32);
  }
  return out;
}

void CloseDown::SendSealCommands(const std::string& day) {
  v1::DeviceCommand cmd;
  cmd.mutable_seal_day()->set_day(day);
  for (const std::string& till : ExpectedTills()) {
    mqtt::Message m;
    m.topic = topics::Cmd(config_.store_id, till);
    m.payload = cmd.SerializeAsString();
    m.retained = true;  // a till that is offline gets it when it returns
    outgoing_.push_back(std::move(m));
  }
}

Result<std::vector<std::string>> CloseDown::OwedSeals(const std::string& till) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("SELECT business_day, state FROM closedowns "
                                                  "ORDER BY business_day"));
  // Days the till has sealed are not owed (read_models.h).
  SN_ASSIGN_OR_RETURN(std::set<std::string> sealed_days, DaysSealedBy(db_, till));
  // A till first seen after a closed day never sold on it.
  auto d = ingest_.devices().find(till);
  std::string first_day = d == ingest_.devices().end() ? "" : DayOfInstant(d->second.first_seen_us);
  std::vector<std::string> owed;
  std::string newest_closed;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string day = stmt.Text(0);
    if (sealed_days.count(day)) continue;
    if (stmt.Text(1) == "waiting") {
      owed.push_back(day);
    } else if (day >= first_day) {
      newest_closed = day;
    }
  }
  if (!newest_closed.empty()) owed.push_back(newest_closed);
  std::sort(owed.begin(), owed.end());
  return owed;
}

void CloseDown::SendOwedSeals(const std::string& till) {
  auto owed = OwedSeals(till);
  if (!owed.ok()) {
    spdlog::error("owed seal commands of {}: {}", till, owed.status().ToString());
    return;
  }
  for (const std::string& day : *owed) {
    v1::DeviceCommand cmd;
    cmd.mutable_seal_day()->set_day(day);
    mqtt::Message m;
    m.topic = topics::Cmd(config_.store_id, till);
    m.payload = cmd.SerializeAsString();
    m.retained = true;  // the newest one stays for when the till returns
    outgoing_.push_back(std::move(m));
  }
}

void CloseDown::ReassertSeals() {
  for (const std::string& till : ExpectedTills()) SendOwedSeals(till);
}

Result<v1::SignedZ> CloseDown::BuildZ(const std::string& day, uint32_t part,
                                      const v1::CloseDownRequest& request,
                                      const std::string& requested_by,
                                      const std::vector<std::string>& missing) {
  v1::ZReport z;
  z.set_store_id(config_.store_id);
  z.set_business_day(day);
  z.set_part(part);
  z.set_kind(part == 0 ? "Z" : "SUPPLEMENT");
  z.set_software_version(STORENODE_VERSION);
  z.set_created_us(clock_.NowMicros());
  z.set_requested_by(requested_by);
  if (settings_ != nullptr) {
    const v1::StoreSettings& s = settings_->current();
    z.set_settings_version(s.version());
    z.set_store_name(s.name());
    z.set_store_address(s.address());
    z.set_store_tax_id(s.tax_id());
    z.set_currency(s.currency());
    z.set_currency_decimals(s.currency_decimals());
    z.set_time_zone(s.time_zone());
  }
  z.set_forced(!missing.empty());
  for (const std::string& m : missing) z.add_missing_tills(m);

  // The previous Z: number, hash, grand totals.
  SN_ASSIGN_OR_RETURN(sql::Stmt prev, db_.Prepare("SELECT z_number, hash, z FROM zreports "
                                                  "ORDER BY z_number DESC LIMIT 1"));
  SN_ASSIGN_OR_RETURN(bool has_prev, prev.Step());
  v1::GrandTotals grand;
  if (has_prev) {
    v1::ZReport p;
    if (!p.ParseFromString(prev.Blob(2))) return Status::Corruption("stored Z does not parse");
    grand = p.grand_totals();
    z.set_z_number(static_cast<uint64_t>(prev.Int(0)) + 1);
    z.set_prev_z_hash(prev.Blob(1));
  } else {
    z.set_z_number(1);
    z.set_prev_z_hash(std::string(32, '\0'));
  }
  if (part > 0) {
    SN_ASSIGN_OR_RETURN(int64_t original,
                        db_.QueryInt("SELECT z_number FROM zreports WHERE business_day = '" + day +
                                     "' AND part = 0"));
    z.set_supplements_z_number(static_cast<uint64_t>(original));
  }

  // Figures: the read models of (day, part), per till and merged.
  std::map<std::string, v1::DayTotals> per_till;
  SN_ASSIGN_OR_RETURN(auto totals, DayTotalsOf(db_, day, part));
  v1::DayTotals& all = *z.mutable_totals();
  for (auto& [device, t] : totals) {
    MergeTotals(t, &all);
    per_till[device] = std::move(t);
  }
  all.set_store_id(config_.store_id);
  all.set_business_day(day);
  // A counted drawer without cash activity still gets a row.
  for (const auto& [device, counted] : request.counted_cash()) {
    (void)counted;
    bool found = false;
    for (const auto& d : all.drawers()) found = found || d.device_id() == device;
    if (!found) all.add_drawers()->set_device_id(device);
  }
  FinishTotals(&all);
  all.set_sealed(missing.empty());
  z.set_period_start_us(all.first_event_time_us());
  z.set_period_end_us(all.last_event_time_us());

  // Tills and the Merkle tree over the covered event hashes.
  std::set<std::string> sealed;
  SN_ASSIGN_OR_RETURN(sealed, SealedTills(day));
  SN_ASSIGN_OR_RETURN(std::vector<DayRange> ranges, DayRangesOf(db_, day, part));
  std::set<std::string> listed;
  for (const DayRange& range : ranges) {
    const std::string &device = range.device_id, &journal = range.journal_id;
    v1::ZTill* till = z.add_tills();
    till->set_device_id(device);
    till->set_journal_id(Hex(journal));
    till->set_first_seq(range.first_seq);
    till->set_last_seq(range.last_seq);
    till->set_event_count(range.event_count);
    till->set_sealed(sealed.count(device) > 0);
    const v1::DayTotals& t = per_till[device];
    till->set_first_receipt_no(t.first_receipt_no());
    till->set_last_receipt_no(t.last_receipt_no());
    till->set_receipt_count(t.receipt_count());
    auto d = ingest_.devices().find(device);
    if (d != ingest_.devices().end() && d->second.journal_id == journal) {
      till->set_head_seq(d->second.acked_seq);
      till->set_head_hash(d->second.head_hash.data(), 32);
    }
    listed.insert(device);
  }
  for (const std::string& m : missing) {
    if (listed.count(m) == 0) {
      v1::ZTill* till = z.add_tills();
      till->set_device_id(m);
    }
  }
  for (auto& till : *z.mutable_tills()) {
    till.set_missing(std::find(missing.begin(), missing.end(), till.device_id()) != missing.end());
  }
  z.set_leaf_count(all.event_count());  // a capacity hint for ZLeafHashes
  SN_ASSIGN_OR_RETURN(std::vector<crypto::Hash> leaves, ZLeafHashes(db_, z, false));
  crypto::Hash root = merkle::Root(leaves);
  z.set_merkle_root(root.data(), root.size());
  z.set_leaf_count(leaves.size());

  // Drawers: counted cash and over/short (the Z only; supplements carry none).
  for (const v1::DrawerTotal& d : all.drawers()) {
    v1::DrawerCount* c = z.add_drawer_counts();
    c->set_device_id(d.device_id());
    c->set_expected_cash(d.expected());
    auto counted = request.counted_cash().find(d.device_id());
    if (part == 0 && counted != request.counted_cash().end()) {
      c->set_counted(true);
      c->set_counted_cash(counted->second);
      c->set_over_short(counted->second - d.expected());
    }
  }
  AddForeignCounts(all, request, part, &z);

  int64_t tax = 0;
  for (const auto& t : all.taxes()) tax += t.tax();
  grand.set_gross_sales(grand.gross_sales() + all.gross_sales());
  grand.set_discounts(grand.discounts() + all.discounts());
  grand.set_refunds(grand.refunds() + all.refunds());
  grand.set_voids(grand.voids() + all.voids());
  grand.set_net_sales(grand.net_sales() + all.net_sales());
  grand.set_tax(grand.tax() + tax);
  grand.set_receipts(grand.receipts() + all.receipt_count());
  *z.mutable_grand_totals() = grand;

  v1::SignedZ signed_z;
  z.SerializeToString(signed_z.mutable_z());
  crypto::Hash hash = crypto::Sha256Of(signed_z.z());
  crypto::Signature sig = key_.Sign(crypto::Bytes(hash.data(), hash.size()));
  signed_z.set_hash(hash.data(), hash.size());
  signed_z.set_signature(sig.data(), sig.size());
  signed_z.set_fog_public_key(key_.public_key().data(), 32);
  SN_ASSIGN_OR_RETURN(sql::Stmt ins, db_.Prepare("INSERT INTO zreports(z_number, business_day, "
                                                 "part, z, hash, signature) VALUES(?,?,?,?,?,?)"));
  ins.Bind(1, static_cast<int64_t>(z.z_number())).Bind(2, day).Bind(3, int64_t{part});
  ins.BindBlob(4, signed_z.z()).BindBlob(5, signed_z.hash()).BindBlob(6, signed_z.signature());
  SN_RETURN_IF_ERROR(ins.Run());
  SN_RETURN_IF_ERROR(actions_.Append(
      requested_by, part == 0 ? "z-issued" : "supplement-issued",
      day + " Z " + std::to_string(z.z_number()) + " net " + Money(all.net_sales()).ToString() +
          (missing.empty() ? "" : " forced, missing " + std::to_string(missing.size()))));
  return signed_z;
}

Status CloseDown::Restore(const v1::SignedZ& signed_z) {
  // Only this fog's own next Z: its key, its signature, its store, the next
  // number, chained to the Z before.
  if (signed_z.fog_public_key() !=
      std::string(reinterpret_cast<const char*>(key_.public_key().data()), 32)) {
    return Status::Corruption("signed by another fog key");
  }
  const crypto::Hash hash = crypto::Sha256Of(signed_z.z());
  if (signed_z.hash() != std::string(reinterpret_cast<const char*>(hash.data()), 32) ||
      !crypto::Verify(key_.public_key(), crypto::Bytes(hash.data(), 32),
                      crypto::AsBytes(signed_z.signature()))) {
    return Status::Corruption("hash or signature does not verify under this fog's key");
  }
  v1::ZReport z;
  if (!z.ParseFromString(signed_z.z())) return Status::Corruption("the Z does not parse");
  if (z.store_id() != config_.store_id) return Status::Corruption("a Z of store " + z.store_id());
  sql::Transaction txn(db_);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt prev, db_.Prepare("SELECT z_number, hash FROM zreports ORDER BY "
                                                  "z_number DESC LIMIT 1"));
  SN_ASSIGN_OR_RETURN(bool has_prev, prev.Step());
  const uint64_t want = has_prev ? static_cast<uint64_t>(prev.Int(0)) + 1 : 1;
  const std::string want_prev = has_prev ? prev.Blob(1) : std::string(32, '\0');
  prev.Reset();
  if (z.z_number() != want || z.prev_z_hash() != want_prev) {
    return Status::Corruption("Z " + std::to_string(z.z_number()) + " is not the next (" +
                              std::to_string(want) + ", chained to the one before)");
  }
  const std::string& day = z.business_day();
  SN_ASSIGN_OR_RETURN(sql::Stmt ins, db_.Prepare("INSERT INTO zreports(z_number, business_day, "
                                                 "part, z, hash, signature) VALUES(?,?,?,?,?,?)"));
  ins.Bind(1, static_cast<int64_t>(z.z_number())).Bind(2, day).Bind(3, int64_t{z.part()});
  ins.BindBlob(4, signed_z.z()).BindBlob(5, signed_z.hash()).BindBlob(6, signed_z.signature());
  SN_RETURN_IF_ERROR(ins.Run());
  v1::CloseDownRequest request;
  request.set_business_day(day);
  SN_ASSIGN_OR_RETURN(sql::Stmt closed, db_.Prepare("INSERT INTO closedowns("
                                                    "business_day, state, request, requested_by, "
                                                    "requested_us) VALUES(?, 'closed', ?, ?, ?) "
                                                    "ON CONFLICT DO UPDATE SET state = 'closed'"));
  closed.Bind(1, day).BindBlob(2, request.SerializeAsString()).Bind(3, z.requested_by());
  closed.Bind(4, z.created_us());
  SN_RETURN_IF_ERROR(closed.Run());
  // What the Z covered, so the tills' resent events are not counted again.
  std::vector<CoveredRange> covered;
  for (const v1::ZTill& t : z.tills()) {
    if (t.event_count() == 0) continue;
    SN_ASSIGN_OR_RETURN(std::string journal, crypto::FromHex(t.journal_id()));
    covered.push_back({t.device_id(), journal, day, t.first_seq(), t.last_seq()});
  }
  SN_RETURN_IF_ERROR(ingest_.AddCovered(covered));
  SN_RETURN_IF_ERROR(actions_.Append(
      "fog", "z-recovered", day + " Z " + std::to_string(z.z_number()) + " from the cloud ledger"));
  SN_RETURN_IF_ERROR(txn.Commit());
  CrashPoint("recovery-after-restore");  // tests: a recovery cut short
  ingest_.CoveredCommitted(covered);
  open_parts_[day] = std::max(open_parts_[day], z.part() + 1);
  waiting_days_.erase(day);
  return Status::Ok();
}

// Inside a transaction: closes `day` if every expected till sealed it (or the
// request forces it). Fills `response` either way.
Result<bool> CloseDown::TryClose(const std::string& day, const v1::CloseDownRequest& request,
                                 const std::string& requested_by, v1::CloseDownResponse* response) {
  if (recovering_()) {
    // forwarder.h, invariant 6: a Z numbered before the ledger's history is
    // known would fork it.
    if (request.force()) {
      return Status::Unavailable(
          "fog.db holds no Z and the cloud ledger has not yet answered with this store's Zs; "
          "no Z is issued before it does (ledger " +
          config_.ledger.link.uri + ")");
    }
    return false;
  }
  SN_ASSIGN_OR_RETURN(std::set<std::string> sealed, SealedTills(day));
  // Nothing a Z covers may fail a signature check (ingest.h, invariant 7):
  // a till with an event awaiting its repaired signature is not done, and
  // not even a forced Z may cover that event. (CheckPendingSignatures ran
  // before this transaction.)
  std::map<std::string, std::string> unproven = ingest_.Unproven(day);
  if (!unproven.empty() && request.force()) {
    std::string which;
    for (const auto& [till, what] : unproven) which += (which.empty() ? "" : ", ") + what;
    return Status::Precondition("the stored signature of " + which +
                                " does not verify; the fog has asked the till to send the event "
                                "again, so bring it online (no Z may cover an unproven event)");
  }
  for (const auto& [till, what] : unproven) sealed.erase(till);
  std::vector<std::string> missing;
  for (const std::string& till : ExpectedTills()) {
    if (sealed.count(till)) {
      response->add_sealed_tills(till);
    } else {
      response->add_waiting_for(till);
      missing.push_back(till);
    }
  }
  if (!missing.empty() && !request.force()) return false;
  SN_ASSIGN_OR_RETURN(v1::SignedZ z, BuildZ(day, 0, request, requested_by, missing));
  SN_ASSIGN_OR_RETURN(sql::Stmt upd, db_.Prepare("UPDATE closedowns SET state = 'closed' "
                                                 "WHERE business_day = ?"));
  upd.Bind(1, day);
  SN_RETURN_IF_ERROR(upd.Run());
  *response->mutable_z() = z;
  response->set_closed(true);
  return true;
}

v1::FogResponse CloseDown::Request(const v1::FogRequest& fog_request, const std::string& manager) {
  v1::FogResponse r;
  const v1::CloseDownRequest& req = fog_request.closedown();
  const std::string& day = req.business_day();
  if (!IsValidDay(day)) {
    r.set_error("'" + day + "' is not a business day (want YYYY-MM-DD)");
    return r;
  }
  std::string today = DayOfInstant(clock_.NowMicros());
  if (day > today) {
    r.set_error("business day " + day + " is in the future (today is " + today + ")");
    return r;
  }
  std::vector<std::string> expected = ExpectedTills();
  for (const auto& [device, amount] : req.counted_cash()) {
    if (std::find(expected.begin(), expected.end(), device) == expected.end()) {
      r.set_error("counted cash for unknown till '" + device + "'");
      return r;
    }
    if (amount < 0) {
      r.set_error("counted cash for " + device + " is negative (" + Money(amount).ToString() + ")");
      return r;
    }
  }
  const std::string home = settings_ != nullptr ? settings_->current().currency() : "";
  if (std::string bad = CheckForeignCounts(req, expected, home); !bad.empty()) {
    r.set_error(bad);
    return r;
  }
  v1::CloseDownResponse* out = r.mutable_closedown();
  out->set_business_day(day);
  if (Status checked = CheckPendingSignatures(); !checked.ok()) {
    r.clear_closedown();
    r.set_error("close-down of " + day + " failed: " + checked.message());
    return r;
  }
  bool closed_now = false;
  Status s = [&]() -> Status {
    sql::Transaction txn(db_);
    SN_RETURN_IF_ERROR(txn.begin_status());
    SN_ASSIGN_OR_RETURN(std::vector<v1::SignedZ> zs, StoredZs(day));
    if (!zs.empty()) {  // asked again: the same Z
      out->set_closed(true);
      *out->mutable_z() = zs[0];
      for (size_t i = 1; i < zs.size(); ++i) *out->add_supplements() = zs[i];
      SN_ASSIGN_OR_RETURN(std::set<std::string> sealed, SealedTills(day));
      for (const std::string& t : sealed) out->add_sealed_tills(t);
      return Status::Ok();
    }
    // The first request is kept; a repeat may add counts or force.
    SN_ASSIGN_OR_RETURN(sql::Stmt prev, db_.Prepare("SELECT request FROM closedowns WHERE "
                                                    "business_day = ?"));
    prev.Bind(1, day);
    SN_ASSIGN_OR_RETURN(bool exists, prev.Step());
    v1::CloseDownRequest merged;
    if (exists) merged.ParseFromString(prev.Blob(0));
    for (const auto& [device, amount] : req.counted_cash()) {
      (*merged.mutable_counted_cash())[device] = amount;
    }
    MergeForeignCounts(req, &merged);
    merged.set_business_day(day);
    merged.set_force(req.force());
    v1::CloseDownRequest stored = merged;
    stored.set_force(false);
    SN_ASSIGN_OR_RETURN(sql::Stmt put, db_.Prepare("INSERT INTO closedowns(business_day, state, "
                                                   "request, requested_by, requested_us) "
                                                   "VALUES(?, 'waiting', ?, ?, ?) ON CONFLICT DO "
                                                   "UPDATE SET request = excluded.request"));
    put.Bind(1, day).BindBlob(2, stored.SerializeAsString()).Bind(3, manager);
    put.Bind(4, clock_.NowMicros());
    SN_RETURN_IF_ERROR(put.Run());
    if (!exists || req.counted_cash_size() > 0 || req.counted_foreign_size() > 0 || req.force()) {
      std::string detail = day;
      for (const auto& [device, amount] : req.counted_cash()) {
        detail += " count " + device + "=" + Money(amount).ToString();
      }
      for (const v1::ForeignCount& c : req.counted_foreign()) {
        detail += " count " + c.device_id() + "=" +
                  settings::FormatMoney(c.counted(), settings::CurrencyDecimals(c.currency()),
                                        c.currency());
      }
      if (req.force()) detail += " force";
      SN_RETURN_IF_ERROR(
          actions_.Append(manager, exists ? "closedown-update" : "closedown-request", detail));
    }
    CrashPoint("closedown-after-request");
    SN_ASSIGN_OR_RETURN(closed_now, TryClose(day, merged, manager, out));
    CrashPoint("closedown-before-commit");
    return txn.Commit();
  }();
  if (!s.ok()) {
    r.clear_closedown();
    r.set_error("close-down of " + day + " failed: " + s.message());
    return r;
  }
  if (closed_now) {
    open_parts_[day] = 1;
    waiting_days_.erase(day);
    CrashPoint("closedown-after-commit");
    ObserveClosed();
  } else if (!out->closed()) {
    waiting_days_.insert(day);
    SendSealCommands(day);
  }
  r.set_ok(true);
  return r;
}

Status CloseDown::CheckPendingSignatures() const {
  // Outside any transaction: a signature that fails is quarantined for good
  // even when the close-down that found it does not commit (it waits).
  return ingest_.VerifyAll();
}

void CloseDown::Poll() {
  for (const std::string& d : ingest_.TakeLateDays()) late_days_.insert(d);
  if (waiting_days_.empty() && late_days_.empty()) return;
  if (Status s = CheckPendingSignatures(); !s.ok()) {
    spdlog::error("close-downs wait: checking stored signatures: {}", s.ToString());
    return;
  }
  std::vector<std::string> waiting(waiting_days_.begin(), waiting_days_.end());
  for (const std::string& day : waiting) {
    v1::CloseDownResponse response;
    bool closed = false;
    Status s = [&]() -> Status {
      sql::Transaction txn(db_);
      SN_RETURN_IF_ERROR(txn.begin_status());
      SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("SELECT request, requested_by FROM "
                                                      "closedowns WHERE business_day = ?"));
      stmt.Bind(1, day);
      SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return Status::NotFound("close-down row of " + day);
      v1::CloseDownRequest req;
      req.ParseFromString(stmt.Blob(0));
      req.set_force(false);
      SN_ASSIGN_OR_RETURN(closed, TryClose(day, req, stmt.Text(1), &response));
      if (!closed) return Status::Ok();
      CrashPoint("closedown-before-commit");
      return txn.Commit();
    }();
    if (!s.ok()) {
      spdlog::error("close-down of {}: {}", day, s.ToString());
    } else if (closed) {
      open_parts_[day] = 1;
      waiting_days_.erase(day);
      ObserveClosed();
      spdlog::info("business day {} closed: every till sealed", day);
    }
  }
  // Supplements: a closed day's open part is complete once every till that
  // has events in it has sealed the day.
  // No supplement either before the ledger's Zs are recovered (forwarder.h,
  // invariant 6): the ledger may hold this very supplement already.
  if (recovering_()) return;
  std::vector<std::string> late(late_days_.begin(), late_days_.end());
  late_days_.clear();
  for (const std::string& day : late) {
    uint32_t part = PartOfDay(day);
    if (part == 0) continue;
    bool issued = false;
    Status s = [&]() -> Status {
      sql::Transaction txn(db_);
      SN_RETURN_IF_ERROR(txn.begin_status());
      SN_ASSIGN_OR_RETURN(std::vector<std::string> devices, DevicesWithEvents(db_, day, part));
      if (devices.empty()) return Status::Ok();
      SN_ASSIGN_OR_RETURN(std::set<std::string> sealed, SealedTills(day));
      for (const auto& [till, what] : ingest_.Unproven(day)) sealed.erase(till);
      for (const std::string& d : devices) {
        if (!sealed.count(d)) {
          late_days_.insert(day);  // look again when more arrives
          return Status::Ok();
        }
      }
      v1::CloseDownRequest none;
      SN_ASSIGN_OR_RETURN(v1::SignedZ z, BuildZ(day, part, none, "fog", {}));
      (void)z;
      issued = true;
      return txn.Commit();
    }();
    if (!s.ok()) {
      spdlog::error("supplement of {}: {}", day, s.ToString());
      late_days_.insert(day);
    } else if (issued) {
      open_parts_[day] = part + 1;
      spdlog::info("supplementary close-down of {} issued (part {})", day, part);
    }
  }
}

}  // namespace storenode::fog
