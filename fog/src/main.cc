// storenode-fogd: the store daemon.
//   storenode-fogd --config /etc/storenode/fog.toml [--check-config]
//   storenode-fogd --version
// --check-config reads and checks the config as a start would, prints one
// line and exits (0 good, 2 bad), like `nginx -t`; nothing is opened.
// Exit codes: 0 after SIGTERM/SIGINT, 1 on a runtime failure, 2 for a bad
// command line or config, a missing fog.key beside a used fog.db or a data
// file from newer software (nothing was started).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "storenode/common/log.h"
#include "storenode/fog/fog.h"

int main(int argc, char** argv) {
  CLI::App app{"storenode-fogd: the store's fog daemon.", "storenode-fogd"};
  std::string config_path;
  bool check_only = false;
  app.add_option("--config", config_path, "the daemon's TOML config")
      ->type_name("FILE")
      ->required();
  app.add_flag("--check-config", check_only, "check the config, print one line, exit 0 or 2");
  app.set_version_flag("--version", std::string("storenode-fogd ") + STORENODE_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "storenode-fogd: %s (see --help)\n", e.what());
    return 2;
  }
  auto config = storenode::fog::LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "storenode-fogd: bad config: %s\n", config.status().message().c_str());
    return 2;
  }
  if (auto s = storenode::log::Init("fogd", config->log_level); !s.ok()) {
    std::fprintf(stderr, "storenode-fogd: bad config: %s: key 'log.level': %s\n",
                 config_path.c_str(), s.message().c_str());
    return 2;
  }
  if (check_only) {
    std::printf("storenode-fogd: config %s is good (store %s)\n", config_path.c_str(),
                config->store_id.c_str());
    return 0;
  }
  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto fog = storenode::fog::Fog::Open(*config);
  if (!fog.ok()) {
    std::fprintf(stderr, "storenode-fogd: %s\n", fog.status().ToString().c_str());
    // A precondition (a missing key, a data file from newer software) is
    // the operator's to fix before anything can start, like a bad config.
    return fog.status().code() == storenode::Code::kFailedPrecondition ? 2 : 1;
  }
  if (auto s = (*fog)->Start(); !s.ok()) {
    std::fprintf(stderr, "storenode-fogd: %s\n", s.ToString().c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&stop, &sig);
  (*fog)->Stop();
  return 0;
}
