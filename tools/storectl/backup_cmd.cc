// storectl backup: an online copy of everything a fog needs to continue.
//
//   storectl backup --fog-config /etc/storenode/fog.toml --out DIR
//
// Run on the fog's machine, while the fog runs. DIR (new or empty) gets:
//   fog.db     SQLite's online backup of the live file: the database as of
//              one commit, taken in one read transaction, so ingest and
//              close-downs go on meanwhile (sql::BackupTo) and the copy is
//              never a mix of two moments; marked as a backup (a counters
//              row), so that a fog restored from it first recovers the Zs
//              made after it from the cloud ledger. A fog.db of an older
//              schema (a fog not restarted since an upgrade) is copied as it
//              is and the copy brought to this software's schema, as the
//              fog would at its next start; the live file is not touched
//   fog.key    the fog's signing key (mode 0600): without it the Z chain
//              cannot continue (the fog refuses to start without it)
//   fog.pub    its public half
//   tills.toml the till registry ([tills] registry), when there is one
//   fog.toml   the config the fog runs with
// Every file is written atomically and fsynced (files::WriteAtomic). The
// restore is described in docs/DEPLOY.md ("Backup and restore"). Exit 0 with
// a summary, 1 when a copy fails, 2 for bad arguments or an unreadable config.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "fog/src/store.h"
#include "storenode/common/files.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"

namespace storenode::storectl {
namespace {

struct BackupArgs {
  std::string fog_config;
  std::string out;
};

// Copies one small file into `out` under `name`; NotFound when `from` is missing.
Status CopySmall(const std::string& from, const std::string& out, const std::string& name,
                 mode_t mode) {
  SN_ASSIGN_OR_RETURN(std::string bytes, files::Read(from));
  return files::WriteAtomic(out + "/" + name, bytes, mode);
}

int Backup(const BackupArgs& a) {
  auto config = fog::LoadConfig(a.fog_config);
  if (!config.ok()) return Fail(kExitUsage, "bad config: " + config.status().message());
  const std::string& data = config->data_dir;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(data + "/fog.db", ec)) {
    return Fail(kExitUsage, "no fog.db in the fog's data dir " + data);
  }
  if (fs::exists(a.out, ec) && !fs::is_empty(a.out, ec)) {
    return Fail(kExitUsage, "backup dir " + a.out + " is not empty");
  }
  fs::create_directories(a.out, ec);
  if (ec) return Fail(kExitUsage, "cannot create " + a.out + ": " + ec.message());

  // The key first: a backup without it is useless, so fail before the big copy.
  if (Status s = CopySmall(data + "/fog.key", a.out, "fog.key", 0600); !s.ok()) {
    return Fail(kExitFailed, "fog.key: " + s.message());
  }
  if (Status s = CopySmall(data + "/fog.pub", a.out, "fog.pub", 0644); !s.ok()) {
    return Fail(kExitFailed, "fog.pub: " + s.message());
  }
  bool registry = files::Exists(config->tills_registry);
  if (registry) {
    if (Status s = CopySmall(config->tills_registry, a.out, "tills.toml", 0644); !s.ok()) {
      return Fail(kExitFailed, "till registry: " + s.message());
    }
  }
  if (Status s = CopySmall(a.fog_config, a.out, "fog.toml", 0600); !s.ok()) {
    return Fail(kExitFailed, "config: " + s.message());
  }

  sql::OpenOptions o;
  o.create = false;
  auto src = sql::Db::Open(data + "/fog.db", o);
  if (!src.ok()) return Fail(kExitFailed, src.status().message());
  const std::string copy = a.out + "/fog.db";
  if (Status s = sql::BackupTo(**src, copy); !s.ok()) return Fail(kExitFailed, s.message());
  {
    // The copy says it is one: a fog restored from it asks the cloud ledger
    // for the Zs made after it before it issues one (fog/src/forwarder.h,
    // invariant 6). The counters table is the schema's since version 3.
    auto marked = sql::Db::Open(copy, o);
    Status s = marked.ok() ? sql::Migrate(**marked, "fog.db", fog::kFogMigrations).status()
                           : marked.status();
    if (s.ok()) {
      s = (*marked)->Exec(
          "INSERT OR REPLACE INTO counters(name, value) VALUES('recover_from_ledger', 1)");
    }
    if (!s.ok()) return Fail(kExitFailed, "cannot mark the copy " + copy + ": " + s.message());
  }

  // The summary is read from the copy: it says what a restore would get.
  sql::OpenOptions read_only;
  read_only.create = false;
  read_only.read_only = true;
  auto ro = sql::Db::Open(copy, read_only);
  if (!ro.ok()) return Fail(kExitFailed, ro.status().message());
  auto zs = (*ro)->QueryInt("SELECT COUNT(*) FROM zreports");
  auto last = (*ro)->QueryInt("SELECT MAX(z_number) FROM zreports");
  auto events = (*ro)->QueryInt("SELECT COUNT(*) FROM events");
  if (!zs.ok() || !last.ok() || !events.ok()) {
    return Fail(kExitFailed, "cannot read the copy " + copy);
  }
  std::cout << "backup of store " << config->store_id << " in " << a.out << "\n"
            << "fog.db: " << *events << " events, " << *zs << " Zs, last Z " << *last << "\n"
            << "fog.key, fog.pub, " << (registry ? "tills.toml, " : "") << "fog.toml\n";
  return kExitOk;
}

}  // namespace

void AddBackupCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<BackupArgs>();
  CLI::App* cmd = app.add_subcommand(
      "backup", "online copy of fog.db, the fog's keys, the till registry and the config");
  cmd->add_option("--fog-config", args->fog_config, "the fog's config (fog.toml)")
      ->type_name("FILE")
      ->required();
  cmd->add_option("--out", args->out, "a new or empty directory for the copy")
      ->type_name("DIR")
      ->required();
  cmd->callback([args, exit_code] { *exit_code = Backup(*args); });
}

}  // namespace storenode::storectl
