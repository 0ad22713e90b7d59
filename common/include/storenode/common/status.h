// Status and Result: how expected failures come back from storenode calls.
//
// A Status is either OK or carries a code and a one-line reason meant for a
// log line or stderr. Result<T> holds either a value or a non-OK Status.
// Both are plain values; they are safe to copy and to pass between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace storenode {

enum class Code {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong; nothing was written
  kNotFound,
  kAlreadyExists,
  kCorruption,   // stored or received data fails verification
  kIoError,      // the disk, the database or the network failed
  kUnavailable,  // try again later (e.g. broker down)
  kFailedPrecondition,
};

const char* CodeName(Code code);

class Status;
// Writes "storenode: <what> on an error result: <status>" to stderr and
// aborts: reading the value of a failed Result is a bug, and its reason is
// what the person debugging it needs (a bad_variant_access would lose it).
[[noreturn]] void DieOnErrorResult(const Status& status, const char* what);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Io(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Precondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corruption: seq 12: hash mismatch"
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return *Checked("value()"); }
  const T& value() const& { return *Checked("value()"); }
  // By value, so `for (x : F().value())` does not dangle.
  T value() && { return std::move(*Checked("value()")); }
  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }
  T* operator->() { return Checked("operator->"); }
  const T* operator->() const { return Checked("operator->"); }
  T& operator*() { return *Checked("operator*"); }

 private:
  T* Checked(const char* what) {
    if (T* p = std::get_if<T>(&v_)) return p;
    DieOnErrorResult(std::get<Status>(v_), what);
  }
  const T* Checked(const char* what) const {
    if (const T* p = std::get_if<T>(&v_)) return p;
    DieOnErrorResult(std::get<Status>(v_), what);
  }

  std::variant<T, Status> v_;
};

}  // namespace storenode

// Returns early from the enclosing function when `expr` is not OK.
#define SN_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::storenode::Status sn_status_ = (expr); \
    if (!sn_status_.ok()) return sn_status_; \
  } while (0)

#define SN_CONCAT_INNER(a, b) a##b
#define SN_CONCAT(a, b) SN_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, returning its Status early on failure.
#define SN_ASSIGN_OR_RETURN(lhs, expr) \
  SN_ASSIGN_OR_RETURN_IMPL(SN_CONCAT(sn_result_, __LINE__), lhs, expr)
#define SN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
