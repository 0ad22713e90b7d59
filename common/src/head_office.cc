#include "storenode/common/head_office.h"

#include <algorithm>

namespace storenode::head_office {
namespace {

constexpr const char* kPrefix = "sn/v1/chain/release/";

std::string SignedMessage(const std::string& release) {
  return "storenode head-office release v1\n" + release;
}

}  // namespace

std::string KindName(v1::ReleaseKind kind) {
  switch (kind) {
    case v1::RELEASE_CATALOG:
      return "catalog";
    case v1::RELEASE_SETTINGS:
      return "settings";
    default:
      return "";
  }
}

std::vector<std::string> ReleaseTopics(const v1::HeadOfficeRelease& release) {
  const std::string base = kPrefix + KindName(release.kind()) + "/";
  std::vector<std::string> out;
  if (release.target().all()) out.push_back(base + "all");
  for (const std::string& g : release.target().groups()) out.push_back(base + "group/" + g);
  for (const std::string& s : release.target().stores()) out.push_back(base + "store/" + s);
  return out;
}

std::vector<std::string> SubscriptionsFor(const std::string& store,
                                          const std::vector<std::string>& groups) {
  std::vector<std::string> out;
  for (const char* kind : {"catalog", "settings"}) {
    const std::string base = kPrefix + std::string(kind) + "/";
    out.push_back(base + "all");
    for (const std::string& g : groups) out.push_back(base + "group/" + g);
    out.push_back(base + "store/" + store);
  }
  return out;
}

bool IsReleaseTopic(const std::string& topic) { return topic.starts_with(kPrefix); }

v1::SignedHeadOfficeRelease Sign(const v1::HeadOfficeRelease& release,
                                 const crypto::SigningKey& key) {
  v1::SignedHeadOfficeRelease out;
  out.set_release(release.SerializeAsString());
  crypto::Signature sig = key.Sign(crypto::AsBytes(SignedMessage(out.release())));
  out.set_signature(sig.data(), sig.size());
  out.set_head_office_public_key(key.public_key().data(), key.public_key().size());
  return out;
}

Result<v1::HeadOfficeRelease> Open(const std::string& signed_bytes,
                                   const crypto::PublicKey& pinned) {
  if (signed_bytes.size() > kMaxCatalogReleaseBytes) {
    return Status::Invalid("too large: " + std::to_string(signed_bytes.size()) +
                           " bytes, a release takes at most " +
                           std::to_string(kMaxCatalogReleaseBytes));
  }
  v1::SignedHeadOfficeRelease s;
  if (!s.ParseFromString(signed_bytes)) {
    return Status::Invalid("malformed: not a SignedHeadOfficeRelease");
  }
  auto key = crypto::HashFromBytes(s.head_office_public_key());
  if (!key.ok()) return Status::Invalid("malformed: no 32-byte head-office key");
  if (*key != pinned) {
    return Status::Invalid("unknown key: signed by " + crypto::Fingerprint(*key) +
                           ", head_office.public_key is " + crypto::Fingerprint(pinned));
  }
  if (!crypto::Verify(pinned, crypto::AsBytes(SignedMessage(s.release())),
                      crypto::AsBytes(s.signature()))) {
    return Status::Invalid("bad signature: not head office's signature over the release");
  }
  v1::HeadOfficeRelease r;
  if (!r.ParseFromString(s.release()))
    return Status::Invalid("malformed: the release does not parse");
  if (r.release_id() == 0) return Status::Invalid("malformed: release id 0");
  if (KindName(r.kind()).empty()) return Status::Invalid("malformed: no kind");
  if (r.kind() == v1::RELEASE_SETTINGS && signed_bytes.size() > kMaxSettingsReleaseBytes) {
    return Status::Invalid("too large: settings release of " + std::to_string(signed_bytes.size()) +
                           " bytes, at most " + std::to_string(kMaxSettingsReleaseBytes));
  }
  return r;
}

bool Targets(const v1::ReleaseTarget& target, const std::string& store,
             const std::vector<std::string>& groups) {
  if (target.all()) return true;
  if (std::find(target.stores().begin(), target.stores().end(), store) != target.stores().end()) {
    return true;
  }
  return std::any_of(target.groups().begin(), target.groups().end(), [&](const std::string& g) {
    return std::find(groups.begin(), groups.end(), g) != groups.end();
  });
}

}  // namespace storenode::head_office
