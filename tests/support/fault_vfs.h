// FaultVfs: a SQLite VFS over the default one that fails I/O on purpose and
// cuts the power, after SQLite's own test6.c ("crash") and Pebble's
// vfs/errorfs. Open a file through it with sql::OpenOptions::vfs (or
// edge::Options::sqlite_vfs) = FaultVfs::kName.
//
// NOTES ON THE DESIGN
//  1. Every write goes to the real file at once, so the process reads what
//     it wrote, as with a page cache. Before it, the bytes it overwrites (and
//     the file's size) are kept as an undo record of that path.
//  2. A completed xSync of a path makes its writes durable: its undo records
//     are dropped. An fsync is per file, not per handle, so records are kept
//     per path.
//  3. A power cut undoes every record of every path, newest first (the
//     disk as it was at each file's last sync) and makes all later writes,
//     syncs, truncates and deletes fail with SQLITE_IOERR, as a dead disk
//     would, until Reset(). Reads still work; the code under test is
//     expected to be closed and reopened, as after a reboot.
//  4. A file deleted or created is taken as durable at once (SQLite syncs
//     the directory where it matters); the -shm file is shared memory, not
//     disk, and SQLite rebuilds it on the first open after a crash.
//  5. Counters and triggers count calls from the last Reset() or arming.
//
// Thread-safe: one mutex around the bookkeeping.
#pragma once

#include <cstdint>

namespace storenode::testing {

class FaultVfs {
 public:
  static constexpr const char* kName = "sn-fault";
  // Registers the VFS (once per process) and returns it.
  static FaultVfs& Get();

  // No faults armed, counters at zero, the disk alive, nothing to undo.
  void Reset();
  // The n-th xWrite / xSync from now (1-based) fails with SQLITE_IOERR and
  // changes nothing.
  void FailNthWrite(int n);
  void FailNthSync(int n);
  // The n-th xSync from now completes, then the power is cut (3.).
  void PowerCutAfterSync(int n);
  // The n-th xSync from now is not done: the power is cut instead.
  void PowerCutAtSync(int n);
  void PowerCut();

  int writes() const;
  int syncs() const;
  bool power_cut() const;
};

}  // namespace storenode::testing
