// Requests to the fog: a manager's FogRequest on fog/req/{identity}, one
// FogResponse out on the requester's reply topic with its correlation data;
// and the tills' catalog fetches. Both pass the RequestGate first, and a
// request runs only within its actor's role (access.h says why that holds).
#include <spdlog/spdlog.h>

#include "fog_impl.h"
#include "storenode/common/topics.h"

namespace storenode::fog {

void Fog::Impl::ServeCatalogFetches(
    const std::vector<std::pair<std::string, std::string>>& fetches) {
  if (fetches.empty()) return;
  ingest->RefreshRegistry();  // a revocation counts from the next fetch on
  const int64_t now = clock.NowMicros();
  for (const auto& [device, payload] : fetches) {
    const Ingest::Standing standing = ingest->StandingOf(device);
    if (standing != Ingest::Standing::kKnown) {
      gate.Refuse(kCatalogReq,
                  standing == Ingest::Standing::kRevoked ? "revoked" : "unknown_device", device,
                  now);
      continue;
    }
    if (!gate.Admit(kCatalogReq, device, now)) continue;
    Catalog::FetchAnswer answer = catalog->OnFetch(device, payload);
    if (answer.coalesced) gate.Count(kCatalogReq, "coalesced");
    for (mqtt::Message& chunk : answer.chunks) Publish(std::move(chunk));
  }
}

void Fog::Impl::HandleRequest(const mqtt::Message& m) {
  const int64_t now = clock.NowMicros();
  // The topic names the actor; the broker's ACL vouches for it.
  const std::optional<std::string> actor = topics::ParseFogRequest(config.store_id, m.topic);
  if (!actor) return;
  if (!gate.Admit(kFogReq, *actor, now)) return;
  // Answers go only under the actor's own reply/ topics: a requester must
  // not make the fog publish on a till's cmd or ack topic (the broker lets
  // the fog publish there), nor on another manager's replies.
  const std::string replies = topics::Reply(config.store_id, *actor, "");
  if (!m.response_topic.empty() && !m.response_topic.starts_with(replies)) {
    gate.Count(kFogReq, "reply_topic");
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
  Publish(std::move(reply));
}

v1::FogResponse Fog::Impl::Answer(const v1::FogRequest& request, const std::string& actor) {
  v1::FogResponse r;
  if (std::string why = Refusal(config.roles, actor, request); !why.empty()) {
    r.set_error(why);
  } else {
    r = Dispatch(request, actor);
  }
  if (!r.ok()) spdlog::warn("request of {} refused: {}", actor, r.error());
  return r;
}

v1::FogResponse Fog::Impl::Dispatch(const v1::FogRequest& request, const std::string& actor) {
  // Status and close-down list the registry's tills: show the current one
  // even when no journal arrived since it changed.
  ingest->RefreshRegistry();
  v1::FogResponse r;
  switch (request.request_case()) {
    case v1::FogRequest::kStatus: {
      auto status = BuildStatus();
      if (!status.ok()) {
        r.set_error("cannot read the store's status: " + status.status().message());
        break;
      }
      *r.mutable_status() = std::move(*status);
      r.set_ok(true);
      break;
    }
    case v1::FogRequest::kDeviceAccept: {
      const std::string& device = request.device_accept().device_id();
      Device accepted;
      sql::Transaction txn(*db);
      Status s = txn.begin_status();
      if (s.ok()) s = ingest->AcceptReplacement(device, &accepted);
      if (s.ok()) s = ingest->Flush();
      if (s.ok()) s = txn.Commit();
      if (!s.ok()) {
        ingest->Aborted();
        r.set_error(s.message());
        break;
      }
      ingest->Committed();
      spdlog::info("{} accepted the replacement journal {} of {}", actor,
                   crypto::ToHex(crypto::AsBytes(accepted.journal_id)), device);
      auto* a = r.mutable_device_accept();
      a->set_device_id(device);
      a->set_journal_id(crypto::ToHex(crypto::AsBytes(accepted.journal_id)));
      a->set_key_fingerprint(crypto::Fingerprint(accepted.key));
      r.set_ok(true);
      break;
    }
    case v1::FogRequest::kClosedown:
      r = CloseDown(request, actor);
      break;
    case v1::FogRequest::kReport:
      r = Report(request.report());
      break;
    case v1::FogRequest::kCatalogImport:
      r = catalog->Import(
          request.catalog_import(), actor,
          [this](const std::string& manager, const std::string& kind, const std::string& detail) {
            return AppendAction(manager, kind, detail);
          });
      if (r.ok()) {
        if (auto manifest = catalog->Manifest()) Publish(std::move(*manifest));
      }
      break;
    case v1::FogRequest::kCatalogShow:
      r = catalog->Show(request.catalog_show());
      break;
    case v1::FogRequest::kCatalogVersions:
      r = catalog->Versions();
      break;
    default:
      r.set_error("unknown request kind");
  }
  return r;
}

Result<v1::StoreStatus> Fog::Impl::BuildStatus() {
  v1::StoreStatus s;
  s.set_store_id(config.store_id);
  s.set_software_version(STORENODE_VERSION);
  s.set_time_us(clock.NowMicros());
  std::map<std::string, uint64_t> quarantined;
  {
    SN_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT device_id, COUNT(*) FROM quarantine GROUP BY device_id"));
    while (true) {
      SN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      quarantined[q.Text(0)] = static_cast<uint64_t>(q.Int(1));
      s.set_quarantine_count(s.quarantine_count() + static_cast<uint64_t>(q.Int(1)));
    }
  }
  s.set_events_stored(ingest->events_total());
  s.set_unverified_signatures(ingest->unverified());
  std::map<std::string, v1::TillStatus> rows;
  for (const std::string& id : ExpectedTills()) rows[id].set_state("expected, never seen");
  for (const auto& [id, d] : ingest->devices()) {
    v1::TillStatus& t = rows[id];
    t.set_acked_seq(d.acked_seq);
    t.set_key_fingerprint(crypto::Fingerprint(d.key));
    t.set_journal_id(crypto::ToHex(crypto::AsBytes(d.journal_id)));
    t.set_state(ingest->Revoked(id)            ? "revoked"
                : d.pending_journal_id.empty() ? "active"
                                               : "replacement pending");
    t.set_last_seen_us(d.last_event_us);
  }
  for (const auto& [id, seen] : tills) {
    v1::TillStatus& t = rows[id];
    t.set_online(seen.status.online());
    t.set_head_seq(seen.status.head_seq());
    t.set_backlog(seen.status.backlog());
    t.set_oldest_unacked_us(seen.status.oldest_unacked_us());
    t.set_catalog_version(seen.status.catalog_version());
    t.set_last_seen_us(std::max(t.last_seen_us(), seen.received_us));
    if (t.state().empty()) t.set_state("online, no journal received yet");
  }
  *s.mutable_ledger() = forwarder->GetStatus();
  s.set_catalog_version(catalog->version());
  for (auto& [id, t] : rows) {
    t.set_device_id(id);
    t.set_quarantined(quarantined[id]);
    *s.add_tills() = t;
  }
  return s;
}

}  // namespace storenode::fog
