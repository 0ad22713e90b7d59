// The manager console's settings and its password hashes (the [console]
// section of fog.toml). The console itself is an HTTP server inside the fog
// (fog/src/console.h); storectl uses HashPassword() to make the strings that
// go into [console.managers]. Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>

#include "storenode/common/status.h"

namespace storenode::fog {

struct ConsoleConfig {
  bool enabled = false;  // a [console] section is present
  std::string bind = "127.0.0.1";
  int port = 8080;
  // Manager name -> "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX".
  std::map<std::string, std::string> managers;
  int max_failed_logins = 5;  // per client address within lockout_s, then refused
  int lockout_s = 60;
  int session_idle_s = 8 * 3600;  // a session unused this long is logged out
};

// The iterations HashPassword() uses: PBKDF2-HMAC-SHA256 at the OWASP 2023
// recommendation, ~0.5 s on a back-office PC, which also slows guessing.
inline constexpr int kPasswordIterations = 600000;

// A fresh random salt and "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX".
std::string HashPassword(const std::string& password, int iterations = kPasswordIterations);

// Whether the string is a hash HashPassword() could have made; a one-line
// reason if not.
Status CheckPasswordHash(const std::string& hash);

// Whether `password` matches `hash` (constant time in the hash comparison).
bool VerifyPassword(const std::string& password, const std::string& hash);

}  // namespace storenode::fog
