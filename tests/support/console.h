// A store whose fog serves the manager console on a free port, and an HTTP
// client for it that keeps the session cookie and the CSRF token, for the
// console's API and browser tests.
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <string>

#include "support/store.h"

namespace storenode::testing {

inline constexpr char kConsoleManager[] = "alice";
inline constexpr char kConsolePassword[] = "4711-pin";

class ConsoleStore {
 public:
  // `console_extra`: more lines for the [console] section; `fog_extra`:
  // more sections of fog.toml; `env`: the fog's environment (FogProcess::env).
  // The fog is started; its tills are not opened.
  explicit ConsoleStore(int tills, const std::string& console_extra = "",
                        const std::string& fog_extra = "",
                        std::map<std::string, std::string> env = {});
  Store store;
  int port = 0;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::unique_ptr<httplib::Client> Client() const;
};

// One logged-in browser's worth of state.
struct ConsoleSession {
  std::string cookie;  // "sn_session=..."
  std::string csrf;
  httplib::Headers Headers() const { return {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}; }
};

// Logs in; REQUIREs success.
ConsoleSession ConsoleLogin(httplib::Client& client, const std::string& manager = kConsoleManager,
                            const std::string& password = kConsolePassword);

}  // namespace storenode::testing
