#include "storenode/common/till_registry.h"

#include <cstring>
#include <sstream>

#include "storenode/common/config.h"
#include "storenode/common/files.h"

namespace storenode {
namespace {

// Seconds since the epoch, up to the end of year 9999.
constexpr IntRange kUnixSeconds{0, 253402300799};

// Reads the entries of table `table` ("tills" or "managers").
Status ReadEntries(ConfigReader& r, const std::string& table, bool with_key,
                   std::map<std::string, RegisteredIdentity>* out) {
  for (const std::string& id : r.TableKeys(table)) {
    const std::string at = table + "." + id + ".";
    if (!ValidIdentity(id)) {
      return Status::Invalid(r.source() + ": " + table + " entry '" + id +
                             "' is not a valid identity ([A-Za-z0-9_-], 1-64 characters)");
    }
    RegisteredIdentity e;
    e.cert_serial = r.String(at + "cert_serial", "");
    e.revoked = r.Bool(at + "revoked", false);
    e.revoked_at_s = r.Int(at + "revoked_at", 0, kUnixSeconds);
    if (with_key) {
      const std::string hex = r.String(at + "public_key", "");
      if (!hex.empty()) {
        auto raw = crypto::FromHex(hex);
        if (!raw.ok() || raw->size() != 32) {
          return Status::Invalid(r.source() + ": key '" + at +
                                 "public_key': want 64 hex digits (an Ed25519 public key)");
        }
        crypto::PublicKey k{};
        std::memcpy(k.data(), raw->data(), 32);
        e.public_key = k;
      }
    }
    (*out)[id] = std::move(e);
  }
  return Status::Ok();
}

void WriteEntry(std::ostringstream& out, const std::string& table, const std::string& id,
                const RegisteredIdentity& e) {
  out << "\n[" << table << "." << id << "]\n";
  if (e.public_key) out << "public_key = \"" << crypto::ToHex(*e.public_key) << "\"\n";
  if (!e.cert_serial.empty()) out << "cert_serial = \"" << e.cert_serial << "\"\n";
  out << "revoked = " << (e.revoked ? "true" : "false") << "\n";
  if (e.revoked) out << "revoked_at = " << e.revoked_at_s << "\n";
}

}  // namespace

bool ValidIdentity(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<TillRegistry> TillRegistry::Load(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  TillRegistry reg;
  reg.store_id = r.String("store.id");
  SN_RETURN_IF_ERROR(ReadEntries(r, "tills", /*with_key=*/true, &reg.tills));
  SN_RETURN_IF_ERROR(ReadEntries(r, "managers", /*with_key=*/false, &reg.managers));
  reg.revoked_certs = r.IntTable("revoked_certs", kUnixSeconds);
  SN_RETURN_IF_ERROR(r.Finish());
  return reg;
}

Status TillRegistry::Save(const std::string& path) const {
  std::ostringstream out;
  out << "# The store's provisioned tills and managers (common/include/storenode/common/"
         "till_registry.h).\n"
      << "# Written by `storectl provision`; the fog re-reads it when it changes.\n"
      << "\n[store]\nid = \"" << store_id << "\"\n";
  for (const auto& [id, e] : tills) WriteEntry(out, "tills", id, e);
  for (const auto& [id, e] : managers) WriteEntry(out, "managers", id, e);
  if (!revoked_certs.empty()) {
    out << "\n[revoked_certs]\n";
    for (const auto& [serial, at] : revoked_certs) out << serial << " = " << at << "\n";
  }
  return files::WriteAtomic(path, out.str(), 0644);
}

const RegisteredIdentity* TillRegistry::Till(const std::string& device_id) const {
  auto it = tills.find(device_id);
  return it == tills.end() ? nullptr : &it->second;
}

}  // namespace storenode
