// The manager console's settings and its password hashes (the [console]
// section of fog.toml), and what its /healthz calls unhealthy ([health]).
// The console itself is an HTTP server inside the fog (fog/src/console.h);
// storectl uses HashPassword() to make the strings that go into
// [console.managers]. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::fog {

struct ConsoleConfig {
  bool enabled = false;  // a [console] section is present
  std::string bind = "127.0.0.1";
  int port = 8080;
  // Manager name -> "$argon2id$..." (or a "pbkdf2-sha256$..." made before).
  std::map<std::string, std::string> managers;
  // Host names (without port) the console answers to; any other Host header
  // gets 421, so a page of another domain that resolves to this address (DNS
  // rebinding) cannot reach it. Empty: the bind address and "localhost".
  std::vector<std::string> allowed_hosts;
  // Peer addresses whose X-Forwarded-For names the real client (the TLS
  // proxy of docs/DEPLOY.md). From anyone else the header is ignored.
  std::vector<std::string> trusted_proxies;
  // Failed logins within lockout_s after which a client address is refused
  // for lockout_s; and the same for one manager account, whatever address
  // the guesses come from (higher, so one colleague's typos lock out neither
  // the store nor, at once, the account).
  int max_failed_logins = 5;
  int max_failed_logins_per_account = 20;
  int lockout_s = 60;
  int session_idle_s = 8 * 3600;  // a session unused this long is logged out
};

// [health]: when /healthz calls the fog unhealthy (fog/src/console.h).
struct HealthConfig {
  // Free space in data.dir under this is a full disk: a Z, or the next
  // till's batch, would fail to commit.
  int64_t min_free_mib = 256;
  // The worker has not turned its loop (at least every 50 ms when well) for
  // this long: it is wedged.
  int worker_stall_s = 30;
};

// The shortest PIN `storectl console hash-password` accepts by default.
inline constexpr int kMinPasswordLength = 6;

// A fresh random salt and an Argon2id hash, "$argon2id$v=19$m=...".
std::string HashPassword(const std::string& password);

// The older scheme, "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX", which
// VerifyPassword() still accepts (fog.toml files made before Argon2id).
std::string HashPasswordPbkdf2(const std::string& password, int iterations);

// Whether the string is a hash HashPassword() could have made; a one-line
// reason if not.
Status CheckPasswordHash(const std::string& hash);

// Whether `password` matches `hash` (constant time in the hash comparison).
bool VerifyPassword(const std::string& password, const std::string& hash);

}  // namespace storenode::fog
