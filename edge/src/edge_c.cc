// The C ABI (storenode/edge_c.h) over edge::Journal and edge::SyncEngine.
//
// NOTES ON THE DESIGN
//
// Promise: nothing the caller passes makes the library crash or throw, and
// every call says how it went in an sn_status and one line of text.
//
// Invariants that keep it:
//  1. Every exported function body runs inside Guard(): a C++ exception
//     becomes SN_INTERNAL with its what(), never an unwind into C.
//  2. A handle is never dereferenced: it encodes an id (never reused) and a
//     type tag, and is looked up in the table of open tills (Tills). A NULL,
//     closed or forged handle is not in the table: SN_BAD_HANDLE.
//  3. A call holds a shared_ptr to its till for its whole run, so a
//     concurrent sn_till_close only removes the till from the table; the
//     last running call closes it (sync engine first, then the journal).
//  4. Before the first call does anything, the process's default spdlog
//     logger (the one the edge code logs to) is replaced by one whose only
//     sink is the caller's callback (LogSink), off until one is set: the
//     library never writes to stdout or stderr by itself.
#include "storenode/edge_c.h"

#include <google/protobuf/util/json_util.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storenode/common/broker_link.h"
#include "storenode/common/files.h"
#include "storenode/edge.h"
#include "storenode/profile.h"

namespace storenode::edge {
namespace {

// ---- logging (invariant 4) -------------------------------------------------

class LogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Holds the sink's mutex, so after it returns the old callback is not
  // called any more.
  void Set(sn_log_fn fn, void* user) {
    std::lock_guard lock(mutex_);
    fn_ = fn;
    user_ = user;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (fn_ == nullptr) return;
    const std::string text(msg.payload.data(), msg.payload.size());
    fn_(user_, static_cast<sn_log_level>(msg.level), text.c_str());
  }
  void flush_() override {}

 private:
  sn_log_fn fn_ = nullptr;
  void* user_ = nullptr;
};

struct Logging {
  std::shared_ptr<LogSink> sink = std::make_shared<LogSink>();
  std::shared_ptr<spdlog::logger> logger;
};

Logging& TheLogging() {
  static Logging* logging = [] {
    auto* l = new Logging;  // never destroyed: the engines' threads may log at exit
    l->logger = std::make_shared<spdlog::logger>("storenode-edge", l->sink);
    l->logger->set_level(spdlog::level::off);
    spdlog::set_default_logger(l->logger);
    return l;
  }();
  return *logging;
}

// ---- statuses and errors (invariant 1) -------------------------------------

sn_status ToC(Code code) {
  switch (code) {
    case Code::kOk:
      return SN_OK;
    case Code::kInvalidArgument:
      return SN_INVALID_ARGUMENT;
    case Code::kNotFound:
      return SN_NOT_FOUND;
    case Code::kAlreadyExists:
      return SN_ALREADY_EXISTS;
    case Code::kCorruption:
      return SN_CORRUPTION;
    case Code::kIoError:
      return SN_IO_ERROR;
    case Code::kUnavailable:
      return SN_UNAVAILABLE;
    case Code::kFailedPrecondition:
      return SN_FAILED_PRECONDITION;
  }
  return SN_INTERNAL;
}

sn_status Fill(sn_error* err, sn_status code, std::string_view message) {
  if (err != nullptr) {
    err->code = code;
    const size_t n = std::min(message.size(), sizeof err->message - 1);
    std::memcpy(err->message, message.data(), n);
    err->message[n] = '\0';
  }
  return code;
}

// The outcome of a call: a Status, or a bad handle (which Status has no code for).
struct Outcome {
  Outcome(Status s) : status(std::move(s)) {}  // NOLINT: implicit on purpose
  static Outcome BadHandle(std::string why) {
    Outcome o{Status::Ok()};
    o.bad_handle = std::move(why);
    return o;
  }
  Status status;
  std::string bad_handle;
};

template <typename F>
sn_status Guard(sn_error* err, F&& body) {
  try {
    TheLogging();
    Outcome o = body();
    if (!o.bad_handle.empty()) return Fill(err, SN_BAD_HANDLE, o.bad_handle);
    return Fill(err, ToC(o.status.code()), o.status.message());
  } catch (const std::exception& e) {
    return Fill(err, SN_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return Fill(err, SN_INTERNAL, "internal error: unknown exception");
  }
}

// ---- handles (invariants 2 and 3) ------------------------------------------

constexpr uint32_t kTillMagic = 0x534e544c;  // "SNTL"
constexpr uintptr_t kTillTag = 0x5;
constexpr int kTagBits = 4;

struct Till {
  uint32_t magic = kTillMagic;
  // Declared so that the engine, which uses the journal, is destroyed first.
  std::unique_ptr<Journal> journal;
  std::unique_ptr<SyncEngine> sync;
};

class Tills {
 public:
  sn_till* Add(std::shared_ptr<Till> till) {
    std::lock_guard lock(mu_);
    const uint64_t id = next_id_++;
    open_[id] = std::move(till);
    return reinterpret_cast<sn_till*>((static_cast<uintptr_t>(id) << kTagBits) | kTillTag);
  }
  std::shared_ptr<Till> Find(const sn_till* handle) const {
    std::lock_guard lock(mu_);
    auto it = open_.find(IdOf(handle));
    return it == open_.end() || it->second->magic != kTillMagic ? nullptr : it->second;
  }
  std::shared_ptr<Till> Remove(const sn_till* handle) {
    std::lock_guard lock(mu_);
    auto it = open_.find(IdOf(handle));
    if (it == open_.end()) return nullptr;
    std::shared_ptr<Till> till = std::move(it->second);
    open_.erase(it);
    return till;
  }

 private:
  // 0 (never an id) for anything that is not a till handle.
  static uint64_t IdOf(const sn_till* handle) {
    const auto bits = reinterpret_cast<uintptr_t>(handle);
    if ((bits & ((uintptr_t{1} << kTagBits) - 1)) != kTillTag) return 0;
    return bits >> kTagBits;
  }

  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Till>> open_;
};

Tills& TheTills() {
  static Tills* tills = new Tills;  // never destroyed: calls may race with exit
  return *tills;
}

const char* const kBadHandle = "not an open till (NULL, closed, or not a till handle)";

// Runs `body(till)` on the open till behind `handle`.
template <typename F>
sn_status WithTill(sn_till* handle, sn_error* err, F&& body) {
  return Guard(err, [&]() -> Outcome {
    std::shared_ptr<Till> till = TheTills().Find(handle);
    if (till == nullptr) return Outcome::BadHandle(kBadHandle);
    return body(*till);
  });
}

// ---- messages in and out ---------------------------------------------------

Status Parse(sn_format format, const void* data, size_t size, google::protobuf::Message* m) {
  if (data == nullptr && size != 0) return Status::Invalid("data is NULL but size is not 0");
  const std::string_view bytes(static_cast<const char*>(data), data == nullptr ? 0 : size);
  const std::string name = m->GetDescriptor()->full_name();
  switch (format) {
    case SN_FORMAT_PROTOBUF:
      if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
        return Status::Invalid("a " + name + " of " + std::to_string(bytes.size()) +
                               " bytes is over protobuf's 2 GiB limit");
      }
      if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return Status::Invalid("not the protobuf bytes of a " + name);
      }
      return Status::Ok();
    case SN_FORMAT_JSON: {
      auto s = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(bytes.data(), bytes.size()), m);
      if (!s.ok()) {
        return Status::Invalid("not the JSON of a " + name + ": " + std::string(s.message()));
      }
      return Status::Ok();
    }
    case SN_FORMAT_TEXT:
      return Status::Invalid("a " + name + " goes in as protobuf bytes or JSON, not text");
  }
  return Status::Invalid("unknown format " + std::to_string(static_cast<int>(format)));
}

// `text` into a library-allocated, NUL-terminated buffer.
Status Give(const std::string& text, sn_buffer* out) {
  if (out == nullptr) return Status::Invalid("out is NULL");
  char* data = static_cast<char*>(std::malloc(text.size() + 1));
  if (data == nullptr) return Status::Io("out of memory");
  std::memcpy(data, text.data(), text.size());
  data[text.size()] = '\0';
  *out = {data, text.size()};
  return Status::Ok();
}

Status Emit(const google::protobuf::Message& m, sn_format format, sn_buffer* out) {
  if (out == nullptr) return Status::Invalid("out is NULL");
  std::string text;
  switch (format) {
    case SN_FORMAT_PROTOBUF:
      if (!m.SerializeToString(&text)) return Status::Io("cannot serialize the answer");
      break;
    case SN_FORMAT_JSON: {
      google::protobuf::util::JsonPrintOptions o;
      o.preserve_proto_field_names = true;
      o.always_print_primitive_fields = true;
      if (!google::protobuf::util::MessageToJsonString(m, &text, o).ok()) {
        return Status::Io("cannot print the answer as JSON");
      }
      break;
    }
    default:
      return Status::Invalid("unknown format " + std::to_string(static_cast<int>(format)));
  }
  return Give(text, out);
}

void Copy(const std::string& s, char* dst, size_t capacity) {
  const size_t n = std::min(s.size(), capacity - 1);
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

void ToC(const Recorded& r, sn_recorded* out) {
  if (out == nullptr) return;
  *out = {};
  out->seq = r.seq;
  out->receipt_no = r.receipt_no;
  out->total = r.total;
  Copy(r.business_day, out->business_day, sizeof out->business_day);
  std::memcpy(out->hash, r.hash.data(), sizeof out->hash);
}

template <typename M>
Result<M> ParseAs(sn_format format, const void* data, size_t size) {
  M m;
  SN_RETURN_IF_ERROR(Parse(format, data, size, &m));
  return m;
}

Result<Recorded> Record(Journal& j, sn_event_kind kind, sn_format f, const void* data,
                        size_t size) {
  switch (kind) {
    case SN_SALE: {
      SN_ASSIGN_OR_RETURN(v1::Sale m, ParseAs<v1::Sale>(f, data, size));
      return j.RecordSale(m);
    }
    case SN_REFUND: {
      SN_ASSIGN_OR_RETURN(v1::Refund m, ParseAs<v1::Refund>(f, data, size));
      return j.RecordRefund(m);
    }
    case SN_VOID: {
      SN_ASSIGN_OR_RETURN(v1::Void m, ParseAs<v1::Void>(f, data, size));
      return j.RecordVoid(m);
    }
    case SN_CASH_MOVEMENT: {
      SN_ASSIGN_OR_RETURN(v1::CashMovement m, ParseAs<v1::CashMovement>(f, data, size));
      return j.RecordCashMovement(m);
    }
    case SN_NO_SALE: {
      SN_ASSIGN_OR_RETURN(v1::NoSale m, ParseAs<v1::NoSale>(f, data, size));
      return j.RecordNoSale(m);
    }
    case SN_SIGN_ON: {
      SN_ASSIGN_OR_RETURN(v1::CashierShift m, ParseAs<v1::CashierShift>(f, data, size));
      return j.SignOn(m.cashier(), m.drawer(), m.drawer_id());
    }
    case SN_SIGN_OFF:
      return j.SignOff();  // the bytes are ignored: the open shift signs off
    case SN_EXCHANGE: {
      SN_ASSIGN_OR_RETURN(v1::Exchange m, ParseAs<v1::Exchange>(f, data, size));
      return j.RecordExchange(m);
    }
  }
  return Status::Invalid("unknown event kind " + std::to_string(static_cast<int>(kind)));
}

// ---- opening ---------------------------------------------------------------

std::string Str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

Result<Profile> ProfileOf(const sn_till_options& c) {
  if (c.struct_size < sizeof(sn_till_options)) {
    return Status::Invalid(
        "options.struct_size is " + std::to_string(c.struct_size) +
        ", want sizeof(sn_till_options) = " + std::to_string(sizeof(sn_till_options)));
  }
  Profile p;
  Options& j = p.journal;
  j.journal_path = Str(c.journal_path);
  j.key_path = Str(c.key_path);
  j.catalog_path = Str(c.catalog_path);
  j.store_id = Str(c.store_id);
  j.device_id = Str(c.device_id);
  if (j.journal_path.empty()) return Status::Invalid("options.journal_path is required");
  if (j.store_id.empty()) return Status::Invalid("options.store_id is required");
  if (j.device_id.empty()) return Status::Invalid("options.device_id is required");
  if (c.settings_file != nullptr) {
    SN_ASSIGN_OR_RETURN(j.settings, files::Read(c.settings_file));
  }
  if (c.settings_issuer_hex != nullptr) {
    auto key = crypto::FromHex(c.settings_issuer_hex);
    if (!key.ok() || key->size() != 32) {
      return Status::Invalid("options.settings_issuer_hex: want 64 hex digits");
    }
    j.settings_issuer = *key;
  }
  BrokerLink& b = p.sync.broker;
  b.uri = Str(c.broker_uri);
  b.insecure = c.broker_insecure != 0;
  b.ca_file = Str(c.ca_file);
  b.cert_file = Str(c.cert_file);
  b.key_file = Str(c.key_file);
  b.client_id = Str(c.client_id);
  if (!b.uri.empty()) SN_RETURN_IF_ERROR(CheckBrokerLink("sn_till_options", "broker", b));
  return p;
}

Status Open(const Profile& p, bool sync, sn_till** out) {
  if (out == nullptr) return Status::Invalid("out is NULL");
  *out = nullptr;
  auto till = std::make_shared<Till>();
  SN_ASSIGN_OR_RETURN(till->journal, Journal::Open(p.journal));
  if (sync) {
    SN_ASSIGN_OR_RETURN(till->sync, SyncEngine::Start(till->journal.get(), p.sync));
  }
  *out = TheTills().Add(std::move(till));
  return Status::Ok();
}

}  // namespace
}  // namespace storenode::edge

using namespace storenode;
using namespace storenode::edge;

extern "C" {

uint32_t sn_abi_version(void) { return SN_ABI_VERSION; }

const char* sn_version(void) { return STORENODE_VERSION; }

sn_status sn_set_log_callback(sn_log_fn fn, void* user, sn_log_level min_level, sn_error* err) {
  return Guard(err, [&]() -> Outcome {
    if (min_level < SN_LOG_TRACE || min_level > SN_LOG_CRITICAL) {
      return Status::Invalid("unknown log level " + std::to_string(static_cast<int>(min_level)));
    }
    Logging& l = TheLogging();
    l.sink->Set(fn, user);
    l.logger->set_level(fn == nullptr ? spdlog::level::off
                                      : static_cast<spdlog::level::level_enum>(min_level));
    return Status::Ok();
  });
}

sn_status sn_till_open_profile(const char* profile_path, int sync, sn_till** out, sn_error* err) {
  return Guard(err, [&]() -> Outcome {
    if (profile_path == nullptr) return Status::Invalid("profile_path is NULL");
    SN_ASSIGN_OR_RETURN(Profile p, LoadProfile(profile_path));
    return Open(p, sync != 0, out);
  });
}

sn_status sn_till_open(const sn_till_options* options, sn_till** out, sn_error* err) {
  return Guard(err, [&]() -> Outcome {
    if (options == nullptr) return Status::Invalid("options is NULL");
    SN_ASSIGN_OR_RETURN(Profile p, ProfileOf(*options));
    return Open(p, options->broker_uri != nullptr, out);
  });
}

sn_status sn_till_close(sn_till* handle, sn_error* err) {
  return Guard(err, [&]() -> Outcome {
    std::shared_ptr<Till> till = TheTills().Remove(handle);
    if (till == nullptr) return Outcome::BadHandle(kBadHandle);
    if (till->sync != nullptr) till->sync->Stop();
    return Status::Ok();  // the last call running on it destroys it (invariant 3)
  });
}

sn_status sn_till_record(sn_till* handle, sn_event_kind kind, sn_format format, const void* data,
                         size_t size, sn_recorded* out, sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    SN_ASSIGN_OR_RETURN(Recorded r, Record(*t.journal, kind, format, data, size));
    ToC(r, out);
    return Status::Ok();
  });
}

sn_status sn_till_price_sale(sn_till* handle, sn_format format, const void* data, size_t size,
                             sn_buffer* out, sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    SN_ASSIGN_OR_RETURN(v1::Sale sale, ParseAs<v1::Sale>(format, data, size));
    SN_RETURN_IF_ERROR(t.journal->PriceSale(&sale));
    return Emit(sale, format, out);
  });
}

sn_status sn_till_set_training(sn_till* handle, int on, sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    t.journal->SetTraining(on != 0);
    return Status::Ok();
  });
}

sn_status sn_till_seal_day(sn_till* handle, const char* day, const char* requested_by,
                           sn_recorded* out, sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    if (day == nullptr) return Status::Invalid("day is NULL");
    SN_ASSIGN_OR_RETURN(Recorded r, t.journal->SealDay(day, Str(requested_by)));
    ToC(r, out);
    return Status::Ok();
  });
}

sn_status sn_till_x_report(sn_till* handle, const char* day, sn_format format, sn_buffer* out,
                           sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    if (format == SN_FORMAT_TEXT) {
      SN_ASSIGN_OR_RETURN(std::string text, t.journal->XReportText(Str(day)));
      return Give(text, out);
    }
    SN_ASSIGN_OR_RETURN(v1::DayTotals x, t.journal->XReport(Str(day)));
    return Emit(x, format, out);
  });
}

sn_status sn_till_receipt(sn_till* handle, uint64_t receipt_no, sn_receipt_form form, int width,
                          sn_buffer* out, sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    Result<std::string> text =
        Status::Invalid("unknown receipt form " + std::to_string(static_cast<int>(form)));
    switch (form) {
      case SN_RECEIPT_TEXT:
        text = t.journal->ReceiptText(receipt_no, width == 0 ? 42 : width);
        break;
      case SN_RECEIPT_QR_PAYLOAD:
        text = t.journal->ReceiptQr(receipt_no);
        break;
      case SN_RECEIPT_QR_SVG:
        text = t.journal->ReceiptQrSvg(receipt_no);
        break;
    }
    SN_RETURN_IF_ERROR(text.status());
    return Give(*text, out);
  });
}

sn_status sn_till_business_day(sn_till* handle, char day[16], sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    if (day == nullptr) return Status::Invalid("day is NULL");
    Copy(t.journal->business_day(), day, 16);
    return Status::Ok();
  });
}

sn_status sn_till_sync_state(sn_till* handle, sn_sync_state* out, sn_error* err) {
  return WithTill(handle, err, [&](Till& t) -> Outcome {
    if (out == nullptr) return Status::Invalid("out is NULL");
    *out = {};
    if (t.sync == nullptr) {
      out->head_seq = t.journal->head_seq();
      out->acked_seq = t.journal->acked_seq();
      return Status::Ok();
    }
    const SyncState s = t.sync->state();
    out->syncing = 1;
    out->connected = s.connected ? 1 : 0;
    out->fog_online = s.fog_online ? 1 : 0;
    out->head_seq = s.head_seq;
    out->acked_seq = s.acked_seq;
    out->backlog = s.backlog;
    out->oldest_unacked_age_us = s.oldest_unacked_age_us;
    out->catalog_version = s.catalog_version;
    out->catalog_available = s.catalog_available;
    return Status::Ok();
  });
}

void sn_buffer_free(sn_buffer* buffer) {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  *buffer = {nullptr, 0};
}

}  // extern "C"
