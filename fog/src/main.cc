// storenode-fogd: the store daemon.
//   storenode-fogd --config /etc/storenode/fog.toml
// Exit codes: 0 after SIGTERM/SIGINT, 1 on a runtime failure, 2 for a bad
// command line or config, a missing fog.key beside a used fog.db or a data
// file from newer software (nothing was started).
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "storenode/common/log.h"
#include "storenode/fog/fog.h"

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      config_path = argv[++i];
    } else if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("storenode-fogd %s\n", STORENODE_VERSION);
      return 0;
    } else {
      std::fprintf(stderr, "usage: storenode-fogd --config FILE\n");
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "storenode-fogd: --config FILE is required\n");
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
