#include "trust.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace storenode::fog {
namespace {

// Identifies one version of a file without reading it: a rename (how
// storectl writes the registry) gives a new inode, an edit in place a new
// mtime or size.
std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + "/" + std::to_string(st.st_size) + "/" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

Trust::Trust(const Config& config)
    : config_(config),
      path_(config.tills_registry.empty() ? config.data_dir + "/tills.toml"
                                          : config.tills_registry) {}

Status Trust::Load() { return Read(); }

Status Trust::Read() {
  stamp_ = FileStamp(path_);
  auto loaded = TillRegistry::Load(path_);
  if (loaded.status().code() == Code::kNotFound) {
    registry_ = TillRegistry{};
    return Status::Ok();
  }
  SN_RETURN_IF_ERROR(loaded.status());
  if (loaded->store_id != config_.store_id) {
    return Status::Invalid(path_ + ": registry of store '" + loaded->store_id +
                           "', this fog serves '" + config_.store_id + "'");
  }
  registry_ = std::move(*loaded);
  size_t revoked = 0;
  for (const auto& [id, t] : registry_.tills) revoked += t.revoked ? 1 : 0;
  spdlog::info("till registry {}: {} tills ({} revoked)", path_, registry_.tills.size(), revoked);
  return Status::Ok();
}

void Trust::Refresh() {
  if (FileStamp(path_) == stamp_) return;
  TillRegistry previous = registry_;
  if (Status s = Read(); !s.ok()) {
    registry_ = std::move(previous);
    spdlog::error("till registry not reloaded, the previous one stays in force: {}", s.message());
  }
}

bool Trust::Revoked(const std::string& device_id) const {
  const RegisteredIdentity* t = registry_.Till(device_id);
  return t != nullptr && t->revoked;
}

std::vector<std::string> Trust::RegisteredTills() const {
  std::vector<std::string> out;
  for (const auto& [id, t] : registry_.tills) {
    if (!t.revoked) out.push_back(id);
  }
  return out;
}

bool Trust::Known(const std::string& device_id) const {
  const auto& expected = config_.expected_tills;
  return registry_.Till(device_id) != nullptr ||
         std::find(expected.begin(), expected.end(), device_id) != expected.end();
}

const crypto::PublicKey* Trust::ProvisionedKey(const std::string& device_id) const {
  const RegisteredIdentity* t = registry_.Till(device_id);
  return t != nullptr && t->public_key ? &*t->public_key : nullptr;
}

Result<std::string> Trust::PinSource(const std::string& device_id,
                                     const std::string& genesis_key) const {
  if (const crypto::PublicKey* provisioned = ProvisionedKey(device_id)) {
    if (genesis_key.size() != 32 || std::memcmp(genesis_key.data(), provisioned->data(), 32) != 0) {
      return Status::Precondition("key does not match the provisioned key (" +
                                  crypto::Fingerprint(*provisioned) + ")");
    }
    return std::string("provisioned");
  }
  if (registry_.Till(device_id) != nullptr) {
    return std::string("genesis of a provisioned till (no key registered)");
  }
  if (!config_.trust_on_first_use) {
    return Status::Precondition("unknown till and trust_on_first_use is off (provision it first)");
  }
  return std::string("genesis (trust on first use)");
}

std::vector<std::string> Trust::ExpectedTills(const std::map<std::string, Device>& seen) const {
  std::set<std::string> out(config_.expected_tills.begin(), config_.expected_tills.end());
  for (const std::string& id : RegisteredTills()) out.insert(id);
  if (config_.expected_tills.empty()) {
    for (const auto& [id, d] : seen) out.insert(id);
  }
  return {out.begin(), out.end()};
}

}  // namespace storenode::fog
