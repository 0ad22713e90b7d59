// ConfigReader: typed, strict access to a TOML config file.
//
// Keys are dotted paths ("store.id", "broker.uri"). Each getter marks its key
// as known. A missing required key or a value of the wrong type records an
// error (the first one wins) and the getter returns a default, so a caller
// reads every setting it needs and then checks Finish() once; Finish() also
// rejects keys that no getter asked for, which catches typos. Every message
// is one line: "<file>:<line>: key '<dotted.key>': <reason>".
// Floating-point values are deliberately not readable (money never floats).
// A ConfigReader is not safe for concurrent use; it is meant for start-up.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

namespace storenode {

class ConfigReader {
 public:
  // A missing file is kNotFound, an unreadable one kIoError, a TOML syntax
  // error kInvalidArgument with "path:line:col: reason".
  static Result<ConfigReader> Open(const std::string& path);
  // `source_name` stands for the file name in messages.
  static Result<ConfigReader> FromString(std::string_view text, std::string source_name);

  ConfigReader(ConfigReader&&) noexcept;
  ConfigReader& operator=(ConfigReader&&) noexcept;
  ~ConfigReader();

  std::string String(std::string_view key);  // required
  std::string String(std::string_view key, std::string fallback);
  int64_t Int(std::string_view key);  // required
  int64_t Int(std::string_view key, int64_t fallback);
  bool Bool(std::string_view key, bool fallback);
  // An array whose elements must all be strings.
  std::vector<std::string> StringList(std::string_view key, std::vector<std::string> fallback = {});
  // Every key of a table whose values must all be integers, e.g.
  // `[tax_rates] A = 2000`; marks them known. Empty if the table is missing.
  std::map<std::string, int64_t> IntTable(std::string_view key);
  // The key names of a table with free-form keys (e.g. one section per
  // device), sorted; empty if missing. Marks nothing: the caller reads the
  // entries with the getters above.
  std::vector<std::string> TableKeys(std::string_view key);
  bool Has(std::string_view key) const;

  // The first recorded error, else the first key in the file (by position)
  // that no getter asked for, else OK. Errors are kInvalidArgument.
  Status Finish() const;
  const std::string& source() const;

 private:
  struct Impl;
  explicit ConfigReader(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace storenode
