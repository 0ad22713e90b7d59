// Small file helpers for configs and keys that must never be seen half
// written.
#pragma once

#include <sys/types.h>

#include <string>

#include "storenode/common/status.h"

namespace storenode::files {

// Writes `contents` to a temporary file beside `path` with `mode`, fsyncs
// it, renames it over `path` and fsyncs the directory: readers see the old
// file or the new one, never a mix, even after a power cut.
Status WriteAtomic(const std::string& path, const std::string& contents, mode_t mode);

// The whole file; NotFound if it does not exist.
Result<std::string> Read(const std::string& path);

bool Exists(const std::string& path);

}  // namespace storenode::files
