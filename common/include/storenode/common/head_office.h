// Head office's signed releases to the stores (schemas/chain_release.proto):
// signing, checking and the cloud broker's topics, shared by `storectl chain
// release` (which builds them) and the fog (which applies them).
//
// A release is published retained once per target, on its own topic
// (ReleaseTopics), so that a store that was offline finds the newest release
// for each of its targets when it reconnects; one topic for all would keep
// only the last release whatever its target. The topic is not authenticated:
// the fog applies only what the signed target names.
#pragma once

#include <string>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/status.h"
#include "storenode/schemas/chain_release.pb.h"

namespace storenode::head_office {

// Largest signed release a fog takes: a catalog of ~100k items in CSV is
// ~6 MiB, and a fog takes 16 MiB messages by default; settings are a
// till's document (topics::kMaxSettingsBytes).
inline constexpr size_t kMaxCatalogReleaseBytes = size_t{8} << 20;
inline constexpr size_t kMaxSettingsReleaseBytes = size_t{64} << 10;

inline constexpr const char* kActor = "head-office";

// "catalog" or "settings"; "" for anything else.
std::string KindName(v1::ReleaseKind kind);

// Every topic `release` goes to: sn/v1/chain/release/{kind}/all,
// .../group/{g} for each group, .../store/{s} for each store.
std::vector<std::string> ReleaseTopics(const v1::HeadOfficeRelease& release);
// What a fog of `store` in `groups` subscribes to (both kinds).
std::vector<std::string> SubscriptionsFor(const std::string& store,
                                          const std::vector<std::string>& groups);
// True when `topic` is a release topic.
bool IsReleaseTopic(const std::string& topic);

v1::SignedHeadOfficeRelease Sign(const v1::HeadOfficeRelease& release,
                                 const crypto::SigningKey& key);

// Parses and checks a signed release against the pinned key: size (by its
// kind), signature, shape. Invalid with a one-line reason.
Result<v1::HeadOfficeRelease> Open(const std::string& signed_bytes,
                                   const crypto::PublicKey& pinned);

// True when `target` names the store or one of its groups.
bool Targets(const v1::ReleaseTarget& target, const std::string& store,
             const std::vector<std::string>& groups);

}  // namespace storenode::head_office
