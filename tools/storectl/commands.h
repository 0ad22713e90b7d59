// storectl's command groups. main.cc only dispatches: each group registers
// its subcommands on the app and, when one of them runs, stores its exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace storenode::storectl {

// Exit codes of every storectl command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and the answer is "no" (e.g. tampered)
inline constexpr int kExitUsage = 2;   // bad arguments, missing files, bad configuration

// Prints "storectl: message" on stderr and returns `code`.
int Fail(int code, const std::string& message);

// storectl journal verify|dump|xreport: offline checks of a till journal file.
void AddJournalCommands(CLI::App& app, int* exit_code);

}  // namespace storenode::storectl
