// storectl console hash-password: the string for fog.toml's [console.managers].
//
//   echo -n 'PIN' | storectl console hash-password [--min-length N]
//
// Reads the PIN or password from the first line of stdin (not a flag: flags
// show in `ps` and in the shell history) and prints its Argon2id hash
// ("$argon2id$v=19$..."); only that goes into fog.toml. A PIN shorter than
// --min-length (default 6) is refused: the console's lockout slows guessing,
// it does not make a four-digit PIN safe against a stolen fog.toml.
#include <iostream>
#include <string>

#include "commands.h"
#include "storenode/fog/console.h"

namespace storenode::storectl {

void AddConsoleCommands(CLI::App& app, int* exit_code) {
  CLI::App* console = app.add_subcommand("console", "the fog's web console for managers");
  console->require_subcommand(1);
  CLI::App* hash = console->add_subcommand(
      "hash-password", "hash a manager's PIN or password (read from stdin) for fog.toml");
  auto min_length = std::make_shared<int>(fog::kMinPasswordLength);
  hash->add_option("--min-length", *min_length, "the shortest PIN or password accepted")
      ->capture_default_str()
      ->check(CLI::Range(4, 1024));
  hash->callback([exit_code, min_length] {
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.size() < static_cast<size_t>(*min_length)) {
      *exit_code =
          Fail(kExitUsage, "a PIN or password has at least " + std::to_string(*min_length) +
                               " characters (read from stdin; see --min-length)");
      return;
    }
    std::cout << fog::HashPassword(password) << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace storenode::storectl
