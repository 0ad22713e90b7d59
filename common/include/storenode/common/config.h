// ConfigReader: typed, strict access to a TOML config file.
//
// Keys are dotted paths ("store.id", "broker.uri"). Each getter marks its key
// as known. A missing required key or a value of the wrong type records an
// error (the first one wins) and the getter returns a default, so a caller
// reads every setting it needs and then checks Finish() once; Finish() also
// rejects keys that no getter asked for, which catches typos. Every message
// is one line: "<file>:<line>: key '<dotted.key>': <reason>".
// Floating-point values are deliberately not readable (money never floats).
//
// Every integer is read with the range it may take (IntRange), stated where
// the key is read, so a value can never wrap when the caller narrows it to
// int or size_t: out of range is an error like "<file>:<line>: key
// 'ingest.max_batch_events': 4294967297 is out of range 1..1000000". There is
// no unranged integer getter.
//
// Paths are read with Path(), which checks at read time that the path can be
// used as the program will use it (PathUse), so a data dir under a regular
// file or a key file that cannot be opened is a config error naming the key,
// the path and the reason, before anything starts. It creates nothing.
//
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

// The values an integer key may take, both ends included.
struct IntRange {
  int64_t min = 0;
  int64_t max = 0;
};

// How a path from a config is going to be used; Path() checks that it can be.
// "Could be created" means: the nearest part of the path that exists is a
// directory (writable, for what the program creates).
enum class PathUse {
  kReadFile,       // an existing file, opened for reading (CA, certificate, key)
  kFileIfPresent,  // read when it exists (a registry); else it could be created
  kCreateFile,     // read when it exists, else created with its directories (a key
                   // made on first start): then it could be created, writably
  kDirectory,      // a writable directory, or one that could be created, writably
};

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
  // An integer within `range`; the fallback is not checked.
  int64_t Int(std::string_view key, IntRange range);  // required
  int64_t Int(std::string_view key, int64_t fallback, IntRange range);
  // A path, checked for `use` when it is read. An empty value or fallback is
  // not checked (the caller decides whether empty is allowed).
  std::string Path(std::string_view key, PathUse use);  // required
  std::string Path(std::string_view key, PathUse use, std::string fallback);
  bool Bool(std::string_view key, bool fallback);
  // An array whose elements must all be strings.
  std::vector<std::string> StringList(std::string_view key, std::vector<std::string> fallback = {});
  // Every key of a table whose values must all be integers within `range`,
  // e.g. `[tax_rates] A = 2000`; marks them known. Empty if the table is
  // missing.
  std::map<std::string, int64_t> IntTable(std::string_view key, IntRange range);
  // The key names of a table with free-form keys (e.g. one section per
  // device), sorted; empty if missing. Marks nothing: the caller reads the
  // entries with the getters above.
  std::vector<std::string> TableKeys(std::string_view key);
  bool Has(std::string_view key) const;
  // Records `reason` as the error at `key`'s line ("<file>:<line>: key
  // '<key>': <reason>"; the first error wins), for a rule the caller checks
  // across keys while reading, e.g. two keys that exclude each other.
  void Reject(std::string_view key, std::string_view reason);

  // The first recorded error, else the first key in the file (by position)
  // that no getter asked for, else OK. Errors are kInvalidArgument.
  Status Finish() const;
  // The first recorded error so far (Finish() without the unknown keys), for
  // a reader of one section that checks its values before the file is done.
  Status status() const;
  const std::string& source() const;

 private:
  struct Impl;
  explicit ConfigReader(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace storenode
