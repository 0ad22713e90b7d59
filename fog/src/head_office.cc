#include "head_office.h"

#include <spdlog/spdlog.h>

#include "storenode/common/fault.h"
#include "storenode/common/head_office.h"

namespace storenode::fog {

HeadOffice::HeadOffice(sql::Db& db, const Config& config, const Clock& clock, Catalog& catalog,
                       SettingsIssuer& settings)
    : db_(db), config_(config), clock_(clock), catalog_(catalog), settings_(settings) {}

Status HeadOffice::Load() {
  SN_RETURN_IF_ERROR(db_.Exec(kHeadOfficeSchema));
  if (!config_.head_office.public_key.empty()) {
    // LoadConfig checked it.
    key_ = crypto::HashFromBytes(*crypto::FromHex(config_.head_office.public_key)).value();
  }
  return Status::Ok();
}

bool HeadOffice::IsRelease(const mqtt::Message& m) { return head_office::IsReleaseTopic(m.topic); }

Result<uint64_t> HeadOffice::LastApplied(v1::ReleaseKind kind) {
  SN_ASSIGN_OR_RETURN(sql::Stmt q, db_.Prepare("SELECT IFNULL(MAX(release_id), 0) FROM "
                                               "head_office_releases WHERE kind = ?"));
  q.Bind(1, head_office::KindName(kind));
  SN_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<uint64_t>(q.Int(0)) : 0;
}

void HeadOffice::Refuse(const std::string& topic, uint64_t release_id, const std::string& payload,
                        const std::string& reason) {
  spdlog::error("head-office release {} on {} refused: {}", release_id, topic, reason);
  // A refused release stays retained and comes again on every reconnect:
  // one row per distinct message and topic, not one per delivery.
  crypto::Hash sha = crypto::Sha256Of(payload);
  auto seen = db_.Prepare("SELECT COUNT(*) FROM head_office_alerts WHERE sha256 = ? AND topic = ?");
  if (!seen.ok()) return;
  seen->BindBlob(1, sha.data(), sha.size()).Bind(2, topic);
  auto row = seen->Step();
  if (row.ok() && *row && seen->Int(0) > 0) return;
  auto ins = db_.Prepare(
      "INSERT INTO head_office_alerts(at_us, topic, release_id, reason, sha256) "
      "VALUES(?,?,?,?,?)");
  if (!ins.ok()) return;
  ins->Bind(1, clock_.NowMicros()).Bind(2, topic).Bind(3, static_cast<int64_t>(release_id));
  ins->Bind(4, reason).BindBlob(5, sha.data(), sha.size());
  if (Status s = ins->Run(); !s.ok()) spdlog::error("head_office_alerts: {}", s.ToString());
}

void HeadOffice::OnRelease(const mqtt::Message& m) {
  if (m.payload.empty()) return;  // a cleared retained message
  if (!key_) {
    spdlog::info("ignored a head-office release on {}: no head_office.public_key in {}", m.topic,
                 config_.source);
    return;
  }
  auto release = head_office::Open(m.payload, *key_);
  if (!release.ok()) {
    Refuse(m.topic, 0, m.payload, release.status().message());
    return;
  }
  const uint64_t id = release->release_id();
  if (!head_office::Targets(release->target(), config_.store_id, config_.head_office.groups)) {
    Refuse(m.topic, id, m.payload,
           "not for this store: its target names neither store " + config_.store_id +
               " nor one of its groups");
    return;
  }
  auto last = LastApplied(release->kind());
  if (!last.ok()) {
    spdlog::error("head-office release {}: {}", id, last.status().ToString());
    return;
  }
  const std::string kind = head_office::KindName(release->kind());
  if (id <= *last) {
    ++ignored_;
    spdlog::info("ignored head-office {} release {}: release {} is applied already", kind, id,
                 *last);
    return;
  }
  const int64_t now = clock_.NowMicros();
  auto& times = applied_us_[release->kind()];
  while (!times.empty() && now - times.front() >= 60'000'000) times.pop_front();
  if (times.size() >= static_cast<size_t>(config_.head_office.releases_per_minute)) {
    auto it = waiting_.find(release->kind());
    if (it == waiting_.end() || it->second.release.release_id() < id) {
      spdlog::warn("head-office {} release {} waits: {} applied in the last minute (limit {})",
                   kind, id, times.size(), config_.head_office.releases_per_minute);
      waiting_[release->kind()] = Waiting{m.topic, m.payload, *release};
    }
    return;
  }
  Apply(m.topic, *release, m.payload);
}

Status HeadOffice::Record(v1::ReleaseKind kind, uint64_t release_id, uint64_t version) {
  SN_ASSIGN_OR_RETURN(sql::Stmt ins,
                      db_.Prepare("INSERT INTO head_office_releases(kind, release_id, "
                                  "applied_us, version) VALUES(?,?,?,?)"));
  ins.Bind(1, head_office::KindName(kind)).Bind(2, static_cast<int64_t>(release_id));
  ins.Bind(3, clock_.NowMicros()).Bind(4, static_cast<int64_t>(version));
  SN_RETURN_IF_ERROR(ins.Run());
  // The catalog's crash point keeps its name from before settings releases.
  CrashPoint(kind == v1::RELEASE_CATALOG ? "release-before-commit"
                                         : "settings-release-before-commit");
  return Status::Ok();
}

void HeadOffice::Apply(const std::string& topic, const v1::HeadOfficeRelease& release,
                       const std::string& payload) {
  const bool applied = release.kind() == v1::RELEASE_CATALOG
                           ? ApplyCatalog(topic, release, payload)
                           : ApplySettings(topic, release, payload);
  if (!applied) return;
  CrashPoint(release.kind() == v1::RELEASE_CATALOG ? "release-after-commit"
                                                   : "settings-release-after-commit");
  applied_us_[release.kind()].push_back(clock_.NowMicros());
}

bool HeadOffice::ApplyCatalog(const std::string& topic, const v1::HeadOfficeRelease& release,
                              const std::string& payload) {
  const uint64_t id = release.release_id();
  v1::CatalogImportRequest request = release.catalog();
  request.set_file_name("head-office release " + std::to_string(id) +
                        (request.file_name().empty() ? "" : " (" + request.file_name() + ")"));
  auto applied = catalog_.ApplyRelease(
      request, head_office::kActor, "catalog-release",
      [&](uint64_t version) { return Record(v1::RELEASE_CATALOG, id, version); });
  if (!applied.ok()) {
    Refuse(topic, id, payload, "catalog not applied: " + applied.status().message());
    return false;
  }
  if (!applied->applied()) {
    const auto& e = applied->errors(0);
    Refuse(topic, id, payload,
           "catalog not applied: " + std::to_string(applied->errors_size()) +
               " bad row(s); first: line " + std::to_string(e.line()) + ": " + e.reason());
    return false;
  }
  if (auto manifest = catalog_.Manifest()) outgoing_.push_back(std::move(*manifest));
  spdlog::info("head-office catalog release {} applied as catalog version {} ({} items changed)",
               id, applied->version(), applied->items_changed());
  return true;
}

bool HeadOffice::ApplySettings(const std::string& topic, const v1::HeadOfficeRelease& release,
                               const std::string& payload) {
  const uint64_t id = release.release_id();
  auto version = settings_.IssueRelease(
      release.settings(), id, [&](uint64_t v) { return Record(v1::RELEASE_SETTINGS, id, v); });
  if (!version.ok()) {
    Refuse(topic, id, payload, "settings not applied: " + version.status().message());
    return false;
  }
  outgoing_.push_back(settings_.Retained());
  spdlog::info("head-office settings release {} applied as store settings version {}", id,
               *version);
  return true;
}

void HeadOffice::Poll() {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto& times = applied_us_[it->first];
    const int64_t now = clock_.NowMicros();
    while (!times.empty() && now - times.front() >= 60'000'000) times.pop_front();
    if (times.size() >= static_cast<size_t>(config_.head_office.releases_per_minute)) {
      ++it;
      continue;
    }
    Waiting w = std::move(it->second);
    it = waiting_.erase(it);
    mqtt::Message m;
    m.topic = w.topic;
    m.payload = w.payload;
    OnRelease(m);  // checked again: a newer one may have been applied meanwhile
  }
}

}  // namespace storenode::fog
