#include "support/fog.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace storenode::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

FogProcess::FogProcess(std::string dir, std::string store, std::string broker_uri,
                       std::vector<std::string> expected_tills)
    : dir_(std::move(dir)),
      store_(std::move(store)),
      broker_uri_(std::move(broker_uri)),
      expected_(std::move(expected_tills)) {
  std::filesystem::create_directories(dir_);
}

Status FogProcess::Start() {
  std::ofstream out(config_path(), std::ios::trunc);
  out << "[store]\nid = \"" << store_ << "\"\n"
      << store_config << "\n[broker]\nuri = \"" << broker_uri_ << "\"\n";
  if (tls) {
    out << "ca_file = \"" << tls->ca_file << "\"\ncert_file = \"" << tls->cert_file
        << "\"\nkey_file = \"" << tls->key_file << "\"\n";
  } else {
    out << "insecure = true\n";
  }
  out << broker_config;
  out << "\n[data]\ndir = \"" << data_dir() << "\"\n\n[tills]\nexpected = [";
  for (size_t i = 0; i < expected_.size(); ++i)
    out << (i ? ", " : "") << '"' << expected_[i] << '"';
  out << "]\n"
      << tills_config << "\n\n[roles]\n"
      << roles_config << "\n[log]\nlevel = \"info\"\n"
      << extra_config << "\n";
  out.close();
  if (!crash_at.empty()) env["STORENODE_CRASH_AT"] = crash_at;
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  auto p = Process::Spawn({std::string(SN_BIN_DIR) + "/storenode-fogd", "--config", config_path()},
                          log_path(), log_path());
  for (const auto& [name, value] : env) unsetenv(name.c_str());
  env.clear();
  if (!p.ok()) return p.status();
  process_.emplace(std::move(*p));
  if (!crash_at.empty() || !wait_ready) {
    crash_at.clear();
    return Status::Ok();
  }
  // Ready once it answers: then it is subscribed and will see what follows.
  auto ready = GetStatus();
  if (!ready.ok()) return ready.status();
  return Status::Ok();
}

void FogProcess::Kill() {
  if (process_) {
    process_->Kill(SIGKILL);
    process_->Wait();
    process_.reset();
  }
}

int FogProcess::Wait() {
  if (!process_) return -1;
  int code = process_->Wait().code;
  process_.reset();
  return code;
}

int FogProcess::Stop() {
  if (!process_) return -1;
  process_->Kill(SIGTERM);
  int code = process_->Wait().code;
  process_.reset();
  return code;
}

bool FogProcess::Running() { return process_ && process_->Running(); }

FogClientOptions FogProcess::client_options() const {
  FogClientOptions o;
  o.broker_uri = broker_uri_;
  o.store_id = store_;
  // A 100,000-item catalog import takes ~20 s under ThreadSanitizer.
  o.timeout = std::chrono::seconds(60);
  if (tls) {
    o.ca_file = tls->ca_file;
    o.cert_file = tls->manager_cert;
    o.key_file = tls->manager_key;
  } else {
    o.identity = identity;
  }
  return o;
}

Result<v1::FogResponse> FogProcess::Ask(const v1::FogRequest& request) {
  return AskFog(client_options(), request);
}

Result<v1::StoreStatus> FogProcess::GetStatus() {
  v1::FogRequest r;
  r.mutable_status();
  SN_ASSIGN_OR_RETURN(v1::FogResponse response, Ask(r));
  if (!response.ok()) return storenode::Status::Io(response.error());
  return response.status();
}

std::string FogProcess::Log() const { return ReadFile(log_path()); }

fog::StoreTerms SimStoreTerms() {
  const v1::StoreSettings s = sim::SimStoreSettings("");
  fog::StoreTerms t;
  t.name = s.name();
  t.time_zone = s.time_zone();
  t.currency = s.currency();
  t.currency_decimals = s.currency_decimals();
  t.cash_rounding = s.cash_rounding();
  t.tax_rates.assign(s.tax_rates().begin(), s.tax_rates().end());
  t.scale_labels.assign(s.scale_labels().begin(), s.scale_labels().end());
  t.no_receipt_refund_limit = s.no_receipt_refund_limit();
  t.no_receipt_supervisor_above = s.no_receipt_supervisor_above();
  t.price_override_reasons.assign(s.price_override_reasons().begin(),
                                  s.price_override_reasons().end());
  return t;
}

std::string BerlinStoreConfig(const std::string& name, const std::string& day_start) {
  return "name = \"" + name + "\"\ntime_zone = \"Europe/Berlin\"\nday_start = \"" + day_start +
         "\"\ncurrency = \"EUR\"\n\n[store.tax.A]\nname = \"Standard\"\n"
         "rates = [\"2000-01-01T00:00 19%\"]\n\n[store.tax.B]\nname = \"Reduced\"\n"
         "rates = [\"2000-01-01T00:00 7%\"]\n";
}

}  // namespace storenode::testing
