// ledger-sink: the reference cloud ledger as a daemon (see README.md).
//   ledger-sink --config /etc/storenode/ledger-sink.toml [--check-config]
//   ledger-sink --version
// --check-config reads and checks the config as a start would, prints one
// line and exits (0 good, 2 bad), like `nginx -t`; nothing is opened.
// Exit codes: 0 after SIGTERM/SIGINT, 1 on a runtime failure (cannot open
// the ledger, or a write to it failed), 2 for a bad command line or config
// (nothing was started).
#include <openssl/crypto.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <string>

#include "ledger-sink/jetstream.h"
#include "ledger-sink/sink.h"
#include "storenode/common/log.h"

int main(int argc, char** argv) {
  // Before anything touches OpenSSL: no exit-time OPENSSL_cleanup. libnats's
  // nats_Close (jetstream.cc closes the library at the end) frees OpenSSL's
  // compression-method stack itself with TLS on, and OpenSSL's own atexit
  // cleanup then freed it again: a SIGSEGV in OPENSSL_sk_pop_free on about
  // every second SIGTERM over tls:// (tests/chain_tls_test.cc). The process
  // is exiting; the OS takes the memory back.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  namespace ledger = storenode::ledger;
  CLI::App app{"ledger-sink: the reference cloud ledger of storenode close-downs.", "ledger-sink"};
  std::string config_path;
  app.add_option("--config", config_path, "the daemon's TOML config")
      ->type_name("FILE")
      ->required();
  bool check_only = false;
  app.add_flag("--check-config", check_only, "check the config, print one line, exit 0 or 2");
  app.set_version_flag("--version", std::string("ledger-sink ") + STORENODE_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "ledger-sink: %s (see --help)\n", e.what());
    return 2;
  }
  auto config = ledger::LoadSinkConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "ledger-sink: bad config: %s\n", config.status().message().c_str());
    return 2;
  }
  if (auto s = storenode::log::Init("ledger-sink", config->log_level); !s.ok()) {
    std::fprintf(stderr, "ledger-sink: bad config: %s: key 'log.level': %s\n", config_path.c_str(),
                 s.message().c_str());
    return 2;
  }
  if (check_only) {
    std::printf("ledger-sink: config %s is good (ledger %s, %s)\n", config_path.c_str(),
                config->ledger_id.c_str(),
                config->nats.servers.empty() ? "MQTT" : "NATS JetStream");
    return 0;
  }
  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto sink = ledger::Sink::Open(*config);
  if (!sink.ok()) {
    std::fprintf(stderr, "ledger-sink: %s\n", sink.status().ToString().c_str());
    return 1;
  }
  if (auto s = (*sink)->Start(); !s.ok()) {
    std::fprintf(stderr, "ledger-sink: %s\n", s.ToString().c_str());
    return 1;
  }
  // Wake up now and then: a failed ledger answers nothing but "unavailable",
  // so exit and let the service manager restart it from the file.
  const timespec tick{1, 0};
  while (sigtimedwait(&stop, nullptr, &tick) < 0) {
    if ((*sink)->failed()) {
      (*sink)->Stop();
      sink->reset();
      ledger::JetStream::CloseLibrary();
      std::fprintf(stderr, "ledger-sink: stopped after a failed write to the ledger\n");
      return 1;
    }
  }
  (*sink)->Stop();
  sink->reset();
  ledger::JetStream::CloseLibrary();
  return 0;
}
