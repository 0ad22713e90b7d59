#include "storenode/common/config.h"

#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <tuple>
#include <type_traits>
#include <utility>

namespace storenode {
namespace {

// How a value's type reads in "got <type>".
const char* TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "floating-point";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

template <typename T>
constexpr const char* ExpectedName() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "a string";
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return "an integer";
  } else {
    static_assert(std::is_same_v<T, bool>);
    return "a boolean";
  }
}

// The result of walking a dotted path: the node, or, when an intermediate
// segment is not a table, that segment (so the error can point at it).
struct Lookup {
  const toml::node* node = nullptr;
  const toml::node* not_table = nullptr;
  std::string_view not_table_path;
};

Lookup Resolve(const toml::table& root, std::string_view key) {
  const toml::table* table = &root;
  size_t start = 0;
  while (true) {
    const size_t dot = key.find('.', start);
    const std::string_view segment = key.substr(start, dot - start);
    const toml::node* node = table->get(segment);
    if (node == nullptr || dot == std::string_view::npos) return {node, nullptr, {}};
    table = node->as_table();
    if (table == nullptr) return {nullptr, node, key.substr(0, dot)};
    start = dot + 1;
  }
}

std::string RangeError(int64_t value, IntRange range) {
  return std::to_string(value) + " is out of range " + std::to_string(range.min) + ".." +
         std::to_string(range.max);
}

// Why a missing `path` could not be created (with its missing parents):
// the nearest part of it that exists must be a directory, and writable when
// `write`. Empty when it could.
std::string CannotReach(const std::filesystem::path& path, bool write) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path at = path.has_parent_path() ? path.parent_path() : fs::path(".");
  while (!fs::exists(at, ec) && at.has_parent_path() && at != at.parent_path()) {
    at = at.parent_path();
  }
  if (!fs::is_directory(at, ec)) return at.string() + " is not a directory";
  if (write && ::access(at.c_str(), W_OK | X_OK) != 0) {
    return at.string() + ": " + std::strerror(errno);
  }
  return {};
}

// Why `path` cannot be used as `use` says, or empty when it can. Nothing is
// created: the program does that when it starts.
std::string PathProblem(const std::string& path, PathUse use) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (use == PathUse::kDirectory) {
    if (!exists) {
      std::string why = CannotReach(path, /*write=*/true);
      return why.empty() ? why : "cannot create directory " + path + ": " + why;
    }
    if (!fs::is_directory(path, ec)) return "cannot use directory " + path + ": not a directory";
    if (::access(path.c_str(), W_OK | X_OK) != 0) {
      return "cannot write in directory " + path + ": " + std::strerror(errno);
    }
    return {};
  }
  if (!exists && use != PathUse::kReadFile) {
    std::string why = CannotReach(path, /*write=*/use == PathUse::kCreateFile);
    if (why.empty()) return why;
    return std::string(use == PathUse::kCreateFile ? "cannot create " : "cannot open ") + path +
           ": " + why;
  }
  if (fs::is_directory(path, ec)) return "cannot open " + path + ": it is a directory";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
  ::close(fd);
  return {};
}

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

struct ConfigReader::Impl {
  toml::table root;
  std::string source;
  std::set<std::string, std::less<>> known;
  Status error;

  // "<source>:<line>: key '<key>': <reason>"; line 0 (no position) is left out.
  Status Error(uint32_t line, std::string_view key, std::string_view reason) const {
    std::string where = source;
    if (line != 0) where += ":" + std::to_string(line);
    return Status::Invalid(where + ": key '" + std::string(key) + "': " + std::string(reason));
  }

  // Records an error at `at` unless one is already recorded: the first error
  // is the one the user must fix first.
  void Fail(const toml::node* at, std::string_view key, const std::string& reason) {
    if (!error.ok()) return;
    error = Error(at != nullptr ? at->source().begin.line : 0, key, reason);
  }

  void FailType(const toml::node& at, std::string_view key, const char* expected) {
    Fail(&at, key, std::string("expected ") + expected + ", got " + TypeName(at));
  }

  // Marks `key` known and returns Locate(key, required).
  const toml::node* Find(std::string_view key, bool required) {
    known.emplace(key);
    return Locate(key, required);
  }

  // Returns the node at `key`, or nullptr if it is absent (recording an error
  // if it is required or one of its parents is not a table).
  const toml::node* Locate(std::string_view key, bool required) {
    const Lookup found = Resolve(root, key);
    if (found.not_table != nullptr) {
      Fail(found.not_table, key,
           "expected '" + std::string(found.not_table_path) + "' to be a table, got " +
               TypeName(*found.not_table));
      return nullptr;
    }
    if (found.node == nullptr && required) Fail(nullptr, key, "required key is missing");
    return found.node;
  }

  template <typename T>
  std::optional<T> Value(std::string_view key, bool required) {
    const toml::node* node = Find(key, required);
    if (node == nullptr) return std::nullopt;
    std::optional<T> value = node->value_exact<T>();
    if (!value) FailType(*node, key, ExpectedName<T>());
    return value;
  }

  // An integer at `key` within `range`; out of range records an error at
  // the value's line and returns nothing.
  std::optional<int64_t> Ranged(std::string_view key, bool required, IntRange range) {
    std::optional<int64_t> value = Value<int64_t>(key, required);
    if (value && (*value < range.min || *value > range.max)) {
      Fail(Find(key, false), key, RangeError(*value, range));
      return std::nullopt;
    }
    return value;
  }

  // Checks `path` (the value at `key`, or the caller's fallback) for `use`
  // and records the reason at the key's line when it cannot be used. An
  // empty path is not checked.
  std::string CheckedPath(std::string_view key, PathUse use, std::string path) {
    if (path.empty()) return path;
    if (std::string why = PathProblem(path, use); !why.empty()) Fail(Find(key, false), key, why);
    return path;
  }

  // Collects, into `unknown`, every value under `table` whose dotted path no
  // getter asked for, with its position. A table counts as asked for when its
  // own path was (IntTable, or a getter that found a table). Empty tables
  // carry no setting and are not reported.
  void CollectUnknown(const toml::table& table, const std::string& prefix,
                      std::vector<std::tuple<uint32_t, uint32_t, std::string>>& unknown) const {
    for (auto&& [name, node] : table) {
      std::string path = prefix.empty() ? std::string() : prefix + ".";
      path += name.str();
      if (known.find(path) != known.end()) continue;
      if (const toml::table* child = node.as_table()) {
        CollectUnknown(*child, path, unknown);
        continue;
      }
      // The key's own position is where the reader should look; fall back to
      // the value's if the key has none.
      toml::source_position pos = name.source().begin;
      if (pos.line == 0) pos = node.source().begin;
      unknown.emplace_back(pos.line, pos.column, std::move(path));
    }
  }
};

ConfigReader::ConfigReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigReader::ConfigReader(ConfigReader&&) noexcept = default;
ConfigReader& ConfigReader::operator=(ConfigReader&&) noexcept = default;
ConfigReader::~ConfigReader() = default;

Result<ConfigReader> ConfigReader::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    std::string message = path + ": cannot open: " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(std::move(message)) : Status::Io(std::move(message));
  }
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (failed) return Status::Io(path + ": cannot read: " + std::strerror(err));
  return FromString(text, path);
}

Result<ConfigReader> ConfigReader::FromString(std::string_view text, std::string source_name) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const toml::source_position& pos = e.source().begin;
    return Status::Invalid(source_name + ":" + std::to_string(pos.line) + ":" +
                           std::to_string(pos.column) + ": " +
                           OneLine(std::string(e.description())));
  }
  impl->source = std::move(source_name);
  return ConfigReader(std::move(impl));
}

std::string ConfigReader::String(std::string_view key) {
  return impl_->Value<std::string>(key, /*required=*/true).value_or(std::string());
}

std::string ConfigReader::String(std::string_view key, std::string fallback) {
  return impl_->Value<std::string>(key, /*required=*/false).value_or(std::move(fallback));
}

int64_t ConfigReader::Int(std::string_view key, IntRange range) {
  return impl_->Ranged(key, /*required=*/true, range).value_or(range.min);
}

int64_t ConfigReader::Int(std::string_view key, int64_t fallback, IntRange range) {
  return impl_->Ranged(key, /*required=*/false, range).value_or(fallback);
}

std::string ConfigReader::Path(std::string_view key, PathUse use) {
  return impl_->CheckedPath(
      key, use, impl_->Value<std::string>(key, /*required=*/true).value_or(std::string()));
}

std::string ConfigReader::Path(std::string_view key, PathUse use, std::string fallback) {
  return impl_->CheckedPath(
      key, use, impl_->Value<std::string>(key, /*required=*/false).value_or(std::move(fallback)));
}

bool ConfigReader::Bool(std::string_view key, bool fallback) {
  return impl_->Value<bool>(key, /*required=*/false).value_or(fallback);
}

std::vector<std::string> ConfigReader::StringList(std::string_view key,
                                                  std::vector<std::string> fallback) {
  const toml::node* node = impl_->Find(key, /*required=*/false);
  if (node == nullptr) return fallback;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    impl_->FailType(*node, key, "an array of strings");
    return fallback;
  }
  std::vector<std::string> out;
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = (*array)[i];
    std::optional<std::string> value = element.value_exact<std::string>();
    if (!value) {
      impl_->FailType(element, std::string(key) + "[" + std::to_string(i) + "]", "a string");
      return fallback;
    }
    out.push_back(std::move(*value));
  }
  return out;
}

std::map<std::string, int64_t> ConfigReader::IntTable(std::string_view key, IntRange range) {
  const toml::node* node = impl_->Find(key, /*required=*/false);
  if (node == nullptr) return {};
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    impl_->FailType(*node, key, "a table");
    return {};
  }
  std::map<std::string, int64_t> out;
  for (auto&& [name, value] : *table) {
    std::optional<int64_t> number = value.value_exact<int64_t>();
    if (!number) {
      impl_->FailType(value, std::string(key) + "." + std::string(name.str()), "an integer");
      return {};
    }
    if (*number < range.min || *number > range.max) {
      impl_->Fail(&value, std::string(key) + "." + std::string(name.str()),
                  RangeError(*number, range));
      return {};
    }
    out.emplace(name.str(), *number);
  }
  return out;
}

std::vector<std::string> ConfigReader::TableKeys(std::string_view key) {
  const toml::node* node = impl_->Locate(key, /*required=*/false);
  if (node == nullptr) return {};
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    impl_->FailType(*node, key, "a table");
    return {};
  }
  std::vector<std::string> names;
  for (auto&& [name, value] : *table) names.emplace_back(name.str());
  return names;
}

bool ConfigReader::Has(std::string_view key) const {
  return Resolve(impl_->root, key).node != nullptr;
}

void ConfigReader::Reject(std::string_view key, std::string_view reason) {
  impl_->Fail(impl_->Locate(key, /*required=*/false), key, std::string(reason));
}

Status ConfigReader::Finish() const {
  if (!impl_->error.ok()) return impl_->error;
  std::vector<std::tuple<uint32_t, uint32_t, std::string>> unknown;
  impl_->CollectUnknown(impl_->root, "", unknown);
  if (unknown.empty()) return Status::Ok();
  const auto& [line, column, path] = *std::min_element(unknown.begin(), unknown.end());
  return impl_->Error(line, path, "unknown key");
}

Status ConfigReader::status() const { return impl_->error; }

const std::string& ConfigReader::source() const { return impl_->source; }

}  // namespace storenode
