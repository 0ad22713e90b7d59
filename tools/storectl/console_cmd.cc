// storectl console hash-password: the string for fog.toml's [console.managers].
//
//   echo -n 'PIN' | storectl console hash-password [--iterations N]
//
// Reads the PIN or password from the first line of stdin (not a flag: flags
// show in `ps` and in the shell history) and prints
// "pbkdf2-sha256$ITERATIONS$SALT$HASH"; only that goes into fog.toml.
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
  auto iterations = std::make_shared<int>(fog::kPasswordIterations);
  hash->add_option("--iterations", *iterations, "PBKDF2-HMAC-SHA256 iterations")
      ->capture_default_str()
      ->check(CLI::Range(1000, 100000000));
  hash->callback([exit_code, iterations] {
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.size() < 4) {
      *exit_code =
          Fail(kExitUsage, "a PIN or password has at least 4 characters (read from stdin)");
      return;
    }
    std::cout << fog::HashPassword(password, *iterations) << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace storenode::storectl
