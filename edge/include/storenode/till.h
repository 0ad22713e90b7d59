// storenode::Till: the till runtime for a C++ POS, in one small header.
//
// A Till is a journal, its catalog replica and the sync engine that
// replicates the journal to the store's fog, opened together from one till
// profile (firmware-configs/till.toml, written by `storectl provision till`):
//
//   auto till = storenode::Till::Open("/etc/storenode/till.toml");
//   if (!till.ok()) { log(till.error()); return; }
//   auto rec = till->RecordJson(SN_SALE, R"({"lines":[{"sku":"4006381333931","qty":2,
//       "unit_price":250,"tax_code":"A"}],"tenders":[{"type":"CARD","amount":500}]})");
//   if (rec.ok()) print(till->Receipt(rec->receipt_no).value());  // rec->seq, rec->total
//
// It is header-only over the C ABI (storenode/edge_c.h, libstorenode-edge.so.1)
// and needs nothing else: no protobuf, no storenode internals, so the POS
// links `storenode::edge` (CMake) or `storenode-edge` (pkg-config) and keeps
// its own versions of every other library. Every promise of edge_c.h holds
// here: a record call that succeeds is on disk, one that fails wrote nothing;
// every method may be called from any thread; no exception is thrown (each
// result says why it failed, in one line).
//
// Events go in as the proto3 JSON (or the protobuf bytes) of the schemas/
// messages Sale, Refund, Void, CashMovement, NoSale and Exchange (SN_EXCHANGE,
// e.g. {"direction":"SELL_FOREIGN","currency":"USD","foreignAmount":"20000",
// "tenders":[{"type":"CARD","amount":"18600"}]}). Money is int64 minor
// units, prices tax inclusive.
//
// Cash rounding depends on the tender: a sale with a cash tender is rounded
// to the store's cash rounding, a sale paid otherwise is not. To show the
// amount due, pass the sale with the tender type the customer chose (amounts
// may be 0) to PriceSaleJson: its "total" is what RecordJson will take, and
// "rounding" says by how much it was rounded. Then set the tender amounts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "storenode/edge_c.h"

namespace storenode {

// A value or the reason there is none.
template <typename T>
class TillResult {
 public:
  TillResult(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like std::optional
  TillResult(sn_status code, std::string error) : code_(code), error_(std::move(error)) {}
  bool ok() const { return code_ == SN_OK; }
  sn_status code() const { return code_; }
  const std::string& error() const { return error_; }  // one line, empty when ok
  T& value() { return value_; }
  const T& value() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() { return value_; }

 private:
  sn_status code_ = SN_OK;
  std::string error_;
  T value_{};
};

class Till {
 public:
  // The till of `profile_path`, with its sync engine unless `sync` is false.
  static TillResult<Till> Open(const std::string& profile_path, bool sync = true) {
    sn_error err{};
    sn_till* handle = nullptr;
    if (sn_till_open_profile(profile_path.c_str(), sync ? 1 : 0, &handle, &err) != SN_OK) {
      return {err.code, err.message};
    }
    return Till(handle);
  }
  // A till from explicit options (edge_c.h, sn_till_options).
  static TillResult<Till> Open(const sn_till_options& options) {
    sn_error err{};
    sn_till* handle = nullptr;
    if (sn_till_open(&options, &handle, &err) != SN_OK) return {err.code, err.message};
    return Till(handle);
  }

  Till() = default;
  Till(Till&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Till& operator=(Till&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Till(const Till&) = delete;
  Till& operator=(const Till&) = delete;
  ~Till() { Close(); }

  // Records an event of `kind` given as proto3 JSON or protobuf bytes.
  TillResult<sn_recorded> RecordJson(sn_event_kind kind, std::string_view json) {
    return Record(kind, SN_FORMAT_JSON, json);
  }
  TillResult<sn_recorded> RecordBytes(sn_event_kind kind, std::string_view bytes) {
    return Record(kind, SN_FORMAT_PROTOBUF, bytes);
  }
  // The sale priced as RecordJson would price it, as JSON; records nothing.
  TillResult<std::string> PriceSaleJson(std::string_view json) {
    return Text([&](sn_buffer* b, sn_error* e) {
      return sn_till_price_sale(handle_, SN_FORMAT_JSON, json.data(), json.size(), b, e);
    });
  }
  // Training mode on or off (edge.h, Journal::SetTraining).
  TillResult<bool> SetTraining(bool on) {
    sn_error err{};
    if (sn_till_set_training(handle_, on ? 1 : 0, &err) != SN_OK) return {err.code, err.message};
    return on;
  }
  // Closes business day `day` ("YYYY-MM-DD") on this till.
  TillResult<sn_recorded> SealDay(const std::string& day, const std::string& requested_by) {
    sn_error err{};
    sn_recorded out{};
    if (sn_till_seal_day(handle_, day.c_str(), requested_by.c_str(), &out, &err) != SN_OK) {
      return {err.code, err.message};
    }
    return out;
  }
  // The X-report of `day` ("" for today) as JSON (DayTotals), protobuf
  // bytes, or the text the till's printer prints (SN_FORMAT_TEXT).
  TillResult<std::string> XReport(sn_format format = SN_FORMAT_JSON, const std::string& day = "") {
    return Text([&](sn_buffer* b, sn_error* e) {
      return sn_till_x_report(handle_, day.c_str(), format, b, e);
    });
  }
  // Receipt `receipt_no` as printed text (`width` columns, 0 for 42), its
  // QR code payload, or that QR code as SVG.
  TillResult<std::string> Receipt(uint64_t receipt_no, sn_receipt_form form = SN_RECEIPT_TEXT,
                                  int width = 0) {
    return Text([&](sn_buffer* b, sn_error* e) {
      return sn_till_receipt(handle_, receipt_no, form, width, b, e);
    });
  }
  TillResult<std::string> BusinessDay() {
    sn_error err{};
    char day[16] = {0};
    if (sn_till_business_day(handle_, day, &err) != SN_OK) return {err.code, err.message};
    return std::string(day);
  }
  TillResult<sn_sync_state> SyncState() {
    sn_error err{};
    sn_sync_state out{};
    if (sn_till_sync_state(handle_, &out, &err) != SN_OK) return {err.code, err.message};
    return out;
  }
  // Stops sync (publishing the till offline) and closes the journal; the
  // destructor does it too. Idempotent.
  void Close() {
    if (handle_ != nullptr) sn_till_close(std::exchange(handle_, nullptr), nullptr);
  }

 private:
  explicit Till(sn_till* handle) : handle_(handle) {}

  TillResult<sn_recorded> Record(sn_event_kind kind, sn_format format, std::string_view data) {
    sn_error err{};
    sn_recorded out{};
    if (sn_till_record(handle_, kind, format, data.data(), data.size(), &out, &err) != SN_OK) {
      return {err.code, err.message};
    }
    return out;
  }
  // What `call` puts in a library buffer, as a string.
  template <typename Call>
  TillResult<std::string> Text(Call call) {
    sn_error err{};
    sn_buffer buffer{};
    if (call(&buffer, &err) != SN_OK) return {err.code, err.message};
    std::string text(buffer.data, buffer.size);
    sn_buffer_free(&buffer);
    return text;
  }

  sn_till* handle_ = nullptr;
};

}  // namespace storenode
