#include "requests.h"

#include <spdlog/spdlog.h>

#include "storenode/common/topics.h"
#include "vouchers.h"

namespace storenode::fog {

void Requests::ServeCatalogFetches(
    const std::vector<std::pair<std::string, std::string>>& fetches) {
  if (fetches.empty()) return;
  c_.trust.Refresh();  // a revocation counts from the next fetch on
  const int64_t now = clock_.NowMicros();
  for (const auto& [device, payload] : fetches) {
    const Ingest::Standing standing = c_.ingest.StandingOf(device);
    if (standing != Ingest::Standing::kKnown) {
      gate_.Refuse(kCatalogReq,
                   standing == Ingest::Standing::kRevoked ? "revoked" : "unknown_device", device,
                   now);
      continue;
    }
    if (!gate_.Admit(kCatalogReq, device, now)) continue;
    Catalog::FetchAnswer answer = c_.catalog.OnFetch(device, payload);
    if (answer.coalesced) gate_.Count(kCatalogReq, "coalesced");
    for (mqtt::Message& chunk : answer.chunks) outgoing_.push_back(std::move(chunk));
  }
}

void Requests::Handle(const mqtt::Message& m) {
  const int64_t now = clock_.NowMicros();
  // The topic names the actor; the broker's ACL vouches for it.
  const std::optional<std::string> actor = topics::ParseFogRequest(config_.store_id, m.topic);
  if (!actor) return;
  if (!gate_.Admit(kFogReq, *actor, now)) return;
  // Answers go only under the actor's own reply/ topics: a requester must
  // not make the fog publish on a till's cmd or ack topic (the broker lets
  // the fog publish there), nor on another manager's replies.
  const std::string replies = topics::Reply(config_.store_id, *actor, "");
  if (!m.response_topic.empty() && !m.response_topic.starts_with(replies)) {
    gate_.Count(kFogReq, "reply_topic");
    spdlog::warn("request of {} refused: response topic '{}' is not under {}", *actor,
                 m.response_topic, replies);
    return;
  }
  v1::FogRequest request;
  v1::FogResponse response;
  if (!request.ParseFromString(m.payload)) {
    response.set_error("request does not parse as a FogRequest");
    spdlog::warn("request of {} refused: {}", *actor, response.error());
  } else {
    response = Answer(request, *actor);
  }
  if (m.response_topic.empty()) {
    spdlog::warn("request of {} without a response topic: done, but nobody to answer", *actor);
    return;
  }
  mqtt::Message reply;
  reply.topic = m.response_topic;
  reply.correlation_data = m.correlation_data;
  reply.payload = response.SerializeAsString();
  outgoing_.push_back(std::move(reply));
}

v1::FogResponse Requests::Answer(const v1::FogRequest& request, const std::string& actor) {
  v1::FogResponse r;
  if (std::string why = Refusal(config_.roles, actor, request); !why.empty()) {
    r.set_error(why);
  } else {
    r = Dispatch(request, actor);
  }
  if (!r.ok()) spdlog::warn("request of {} refused: {}", actor, r.error());
  return r;
}

v1::FogResponse Requests::Dispatch(const v1::FogRequest& request, const std::string& actor) {
  // Status and close-down list the registry's tills: show the current one
  // even when no journal arrived since it changed.
  c_.trust.Refresh();
  v1::FogResponse r;
  switch (request.request_case()) {
    case v1::FogRequest::kStatus: {
      auto status = StoreStatus();
      if (!status.ok()) {
        r.set_error("cannot read the store's status: " + status.status().message());
        break;
      }
      *r.mutable_status() = std::move(*status);
      r.set_ok(true);
      break;
    }
    case v1::FogRequest::kDeviceAccept:
      r = AcceptDevice(request.device_accept().device_id(), actor);
      break;
    case v1::FogRequest::kClosedown:
      r = c_.closedown.Request(request, actor);
      break;
    case v1::FogRequest::kReport:
      r = c_.reports.Report(request.report());
      break;
    case v1::FogRequest::kCatalogImport:
      r = c_.catalog.Import(request.catalog_import(), actor);
      if (r.ok()) {
        if (auto manifest = c_.catalog.Manifest()) outgoing_.push_back(std::move(*manifest));
      }
      break;
    case v1::FogRequest::kCatalogShow:
      r = c_.catalog.Show(request.catalog_show());
      break;
    case v1::FogRequest::kCatalogVersions:
      r = c_.catalog.Versions();
      break;
    case v1::FogRequest::kStockReceive:
      r = c_.stock.Receive(request.stock_receive(), actor);
      break;
    case v1::FogRequest::kStockCount:
      r = c_.stock.Count(request.stock_count(), actor);
      break;
    case v1::FogRequest::kStockAdjust:
      r = c_.stock.Adjust(request.stock_adjust(), actor);
      break;
    case v1::FogRequest::kStockOrder:
      r = c_.stock.Order(request.stock_order(), actor);
      break;
    case v1::FogRequest::kStockShow:
      r = c_.stock.Show(request.stock_show());
      break;
    case v1::FogRequest::kReorder:
      r = Reorder(request.reorder());
      break;
    case v1::FogRequest::kVoucherShow:
      r = VoucherShow(request.voucher_show());
      break;
    case v1::FogRequest::kRatesImport:
      r = c_.settings.ImportRates(request.rates_import(), actor);
      if (r.ok()) outgoing_.push_back(c_.settings.Retained());
      break;
    default:
      r.set_error("unknown request kind");
  }
  return r;
}

v1::FogResponse Requests::VoucherShow(const v1::VoucherShowRequest& request) {
  v1::FogResponse r;
  if (request.card_id().size() > 32 || request.limit() > 100000) {
    r.set_error("card id over 32 characters or limit over 100000");
    return r;
  }
  auto shown = ShowVouchers(c_.db, request.card_id(), request.limit());
  if (!shown.ok()) {
    r.set_error(shown.status().message());
    return r;
  }
  if (!request.card_id().empty() && shown->cards_size() == 0) {
    r.set_error("no voucher card " + request.card_id() + " at this store");
    return r;
  }
  *r.mutable_voucher_show() = std::move(*shown);
  r.set_ok(true);
  return r;
}

v1::FogResponse Requests::Reorder(const v1::ReorderRequest& request) {
  v1::FogResponse r;
  if (request.supplier().size() > catalog::kMaxSupplierBytes || request.sku().size() > 256) {
    r.set_error("supplier or sku is too long");
    return r;
  }
  if (request.refresh() && c_.reorder == nullptr) {
    r.set_error("the reorder job is off in this fog ([stock] reorder = false in fog.toml)");
    return r;
  }
  if (request.refresh()) c_.reorder->Trigger();
  auto read = ReadReorder(c_.db, request.supplier(), request.sku(), request.all());
  if (!read.ok()) {
    r.set_error("cannot read the reorder suggestions: " + read.status().message());
    return r;
  }
  *r.mutable_reorder() = std::move(*read);
  r.mutable_reorder()->set_refreshing(c_.reorder != nullptr &&
                                      (request.refresh() || c_.reorder->running()));
  r.mutable_reorder()->set_service_level(config_.stock.service_level());
  r.mutable_reorder()->set_review_days(static_cast<uint32_t>(config_.stock.review_days));
  r.set_ok(true);
  return r;
}

v1::FogResponse Requests::AcceptDevice(const std::string& device, const std::string& actor) {
  v1::FogResponse r;
  Device accepted;
  sql::Transaction txn(c_.db);
  Status s = txn.begin_status();
  if (s.ok()) s = c_.ingest.AcceptReplacement(device, &accepted);
  if (s.ok()) s = c_.ingest.Flush();
  if (s.ok()) s = txn.Commit();
  if (!s.ok()) {
    c_.ingest.Aborted();
    r.set_error(s.message());
    return r;
  }
  c_.ingest.Committed();
  spdlog::info("{} accepted the replacement journal {} of {}", actor,
               crypto::ToHex(crypto::AsBytes(accepted.journal_id)), device);
  auto* a = r.mutable_device_accept();
  a->set_device_id(device);
  a->set_journal_id(crypto::ToHex(crypto::AsBytes(accepted.journal_id)));
  a->set_key_fingerprint(crypto::Fingerprint(accepted.key));
  r.set_ok(true);
  return r;
}

void Requests::OnTillStatus(const std::string& device, const v1::DeviceStatus& status) {
  tills_[device] = TillSeen{status, clock_.NowMicros()};
}

Result<v1::StoreStatus> Requests::StoreStatus() {
  v1::StoreStatus s;
  s.set_store_id(config_.store_id);
  s.set_software_version(STORENODE_VERSION);
  s.set_time_us(clock_.NowMicros());
  s.set_business_day(c_.reports.Today());
  SN_ASSIGN_OR_RETURN(auto quarantined, c_.ingest.QuarantinedByDevice());
  for (const auto& [device, n] : quarantined) s.set_quarantine_count(s.quarantine_count() + n);
  s.set_events_stored(c_.ingest.events_total());
  s.set_unverified_signatures(c_.ingest.unverified());
  std::map<std::string, v1::TillStatus> rows;
  for (const std::string& id : c_.closedown.ExpectedTills())
    rows[id].set_state(c_.trust.Revoked(id) ? "revoked" : "expected, never seen");
  for (const auto& [id, d] : c_.ingest.devices()) {
    v1::TillStatus& t = rows[id];
    t.set_acked_seq(d.acked_seq);
    t.set_key_fingerprint(crypto::Fingerprint(d.key));
    t.set_journal_id(crypto::ToHex(crypto::AsBytes(d.journal_id)));
    t.set_state(c_.trust.Revoked(id)           ? "revoked"
                : d.pending_journal_id.empty() ? "active"
                                               : "replacement pending");
    t.set_last_seen_us(d.last_event_us);
  }
  for (const auto& [id, seen] : tills_) {
    v1::TillStatus& t = rows[id];
    t.set_online(seen.status.online());
    t.set_head_seq(seen.status.head_seq());
    t.set_backlog(seen.status.backlog());
    t.set_oldest_unacked_us(seen.status.oldest_unacked_us());
    t.set_catalog_version(seen.status.catalog_version());
    t.set_settings_version(seen.status.settings_version());
    t.set_last_seen_us(std::max(t.last_seen_us(), seen.received_us));
    if (t.state().empty()) t.set_state("online, no journal received yet");
  }
  *s.mutable_ledger() = c_.forwarder.GetStatus();
  uint64_t overdrafts = 0;
  SN_ASSIGN_OR_RETURN(auto alerts, VoucherAlerts(c_.db, 10, &overdrafts));
  s.set_voucher_overdrafts(overdrafts);
  for (auto& a : alerts) *s.add_voucher_alerts() = std::move(a);
  s.set_catalog_version(c_.catalog.version());
  s.set_settings_version(c_.settings.current().version());
  *s.mutable_settings() = c_.settings.current();
  for (auto& [id, t] : rows) {
    t.set_device_id(id);
    t.set_quarantined(quarantined[id]);
    *s.add_tills() = t;
  }
  return s;
}

}  // namespace storenode::fog
