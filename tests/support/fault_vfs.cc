#include "support/fault_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace storenode::testing {

namespace {

// One write or truncate since the path's last sync, as it can be undone.
struct Undo {
  int64_t offset = 0;    // where `old` goes back
  std::string old;       // the bytes overwritten or cut off (within old_size)
  int64_t old_size = 0;  // the file's size before
};

struct State {
  std::mutex mu;
  sqlite3_vfs* base = nullptr;
  std::map<std::string, std::vector<Undo>> undo;  // by path
  int writes = 0, syncs = 0;
  int fail_write_at = 0, fail_sync_at = 0, cut_at_sync = 0, cut_after_sync = 0;
  bool cut = false;

  // Under mu: the disk as it was at each path's last sync (note 3).
  void CutLocked() {
    for (auto& [path, records] : undo) {
      int fd = ::open(path.c_str(), O_RDWR);
      if (fd < 0) continue;  // deleted since: taken as durable (note 4)
      for (auto it = records.rbegin(); it != records.rend(); ++it) {
        if (!it->old.empty()) {
          (void)!::pwrite(fd, it->old.data(), it->old.size(), it->offset);
        }
        if (::lseek(fd, 0, SEEK_END) > it->old_size) (void)!::ftruncate(fd, it->old_size);
      }
      ::close(fd);
    }
    undo.clear();
    cut = true;
  }
};

State& S() {
  static State state;
  return state;
}

struct FaultFile {
  sqlite3_file base;  // must be first: SQLite sees a FaultFile as a sqlite3_file
  sqlite3_file* real;
  std::string* path;  // null when the file is not tracked
};

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->real; }
const std::string* PathOf(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->path; }

// The bytes of [offset, offset + amount) that exist in the file now.
Undo Capture(sqlite3_file* real, int64_t offset, int64_t amount) {
  Undo u;
  sqlite3_int64 size = 0;
  real->pMethods->xFileSize(real, &size);
  u.old_size = size;
  u.offset = offset;
  int64_t keep = std::min<int64_t>(amount, std::max<int64_t>(0, size - offset));
  if (keep > 0) {
    u.old.resize(static_cast<size_t>(keep));
    real->pMethods->xRead(real, u.old.data(), static_cast<int>(keep), offset);
  }
  return u;
}

int Close(sqlite3_file* f) {
  auto* ff = reinterpret_cast<FaultFile*>(f);
  int rc = ff->real->pMethods ? ff->real->pMethods->xClose(ff->real) : SQLITE_OK;
  delete ff->path;
  ff->path = nullptr;
  return rc;
}

int Read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return Real(f)->pMethods->xRead(Real(f), buf, amount, offset);
}

int Write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  State& s = S();
  std::lock_guard lock(s.mu);
  if (s.cut) return SQLITE_IOERR_WRITE;
  if (++s.writes == s.fail_write_at) return SQLITE_IOERR_WRITE;
  if (const std::string* path = PathOf(f)) {
    s.undo[*path].push_back(Capture(Real(f), offset, amount));
  }
  return Real(f)->pMethods->xWrite(Real(f), buf, amount, offset);
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  State& s = S();
  std::lock_guard lock(s.mu);
  if (s.cut) return SQLITE_IOERR_TRUNCATE;
  if (const std::string* path = PathOf(f)) {
    sqlite3_int64 now = 0;
    Real(f)->pMethods->xFileSize(Real(f), &now);
    if (now > size) s.undo[*path].push_back(Capture(Real(f), size, now - size));
  }
  return Real(f)->pMethods->xTruncate(Real(f), size);
}

int Sync(sqlite3_file* f, int flags) {
  State& s = S();
  std::lock_guard lock(s.mu);
  if (s.cut) return SQLITE_IOERR_FSYNC;
  int n = ++s.syncs;
  if (n == s.fail_sync_at) return SQLITE_IOERR_FSYNC;
  if (n == s.cut_at_sync) {
    s.CutLocked();
    return SQLITE_IOERR_FSYNC;
  }
  int rc = Real(f)->pMethods->xSync(Real(f), flags);
  if (rc == SQLITE_OK) {
    if (const std::string* path = PathOf(f)) s.undo.erase(*path);
  }
  if (n == s.cut_after_sync) s.CutLocked();
  return rc;
}

int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}

// Version 2: no memory-mapped reads (xFetch), so every byte goes through Read.
const sqlite3_io_methods kMethods = {2,
                                     Close,
                                     Read,
                                     Write,
                                     Truncate,
                                     Sync,
                                     FileSize,
                                     Lock,
                                     Unlock,
                                     CheckReservedLock,
                                     FileControl,
                                     SectorSize,
                                     DeviceCharacteristics,
                                     ShmMap,
                                     ShmLock,
                                     ShmBarrier,
                                     ShmUnmap,
                                     nullptr,
                                     nullptr};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* ff = reinterpret_cast<FaultFile*>(f);
  ff->base.pMethods = nullptr;
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->path = nullptr;
  sqlite3_vfs* base = S().base;
  int rc = base->xOpen(base, name, ff->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  constexpr int kDurable = SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL;
  if (name && (flags & kDurable)) ff->path = new std::string(name);
  ff->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  State& s = S();
  {
    std::lock_guard lock(s.mu);
    if (s.cut) return SQLITE_IOERR_DELETE;
    s.undo.erase(name);
  }
  return s.base->xDelete(s.base, name, sync_dir);
}

int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return S().base->xAccess(S().base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return S().base->xFullPathname(S().base, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return S().base->xDlOpen(S().base, name); }
void DlError(sqlite3_vfs*, int n, char* out) { S().base->xDlError(S().base, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* sym))(void) {
  return S().base->xDlSym(S().base, handle, sym);
}
void DlClose(sqlite3_vfs*, void* handle) { S().base->xDlClose(S().base, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return S().base->xRandomness(S().base, n, out); }
int Sleep(sqlite3_vfs*, int us) { return S().base->xSleep(S().base, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return S().base->xCurrentTime(S().base, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return S().base->xGetLastError(S().base, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return S().base->xCurrentTimeInt64(S().base, out);
}

}  // namespace

FaultVfs& FaultVfs::Get() {
  static FaultVfs vfs;
  static sqlite3_vfs registered = [] {
    sqlite3_initialize();
    S().base = sqlite3_vfs_find(nullptr);
    sqlite3_vfs v{};
    v.iVersion = 2;
    v.szOsFile = static_cast<int>((sizeof(FaultFile) + 7) / 8 * 8) + S().base->szOsFile;
    v.mxPathname = S().base->mxPathname;
    v.zName = kName;
    v.xOpen = Open;
    v.xDelete = Delete;
    v.xAccess = Access;
    v.xFullPathname = FullPathname;
    v.xDlOpen = DlOpen;
    v.xDlError = DlError;
    v.xDlSym = DlSym;
    v.xDlClose = DlClose;
    v.xRandomness = Randomness;
    v.xSleep = Sleep;
    v.xCurrentTime = CurrentTime;
    v.xGetLastError = GetLastError;
    v.xCurrentTimeInt64 = CurrentTimeInt64;
    return v;
  }();
  static const int once = sqlite3_vfs_register(&registered, /*makeDflt=*/0);
  (void)once;
  return vfs;
}

void FaultVfs::Reset() {
  State& s = S();
  std::lock_guard lock(s.mu);
  s.undo.clear();
  s.writes = s.syncs = 0;
  s.fail_write_at = s.fail_sync_at = s.cut_at_sync = s.cut_after_sync = 0;
  s.cut = false;
}

void FaultVfs::FailNthWrite(int n) {
  std::lock_guard lock(S().mu);
  S().fail_write_at = S().writes + n;
}
void FaultVfs::FailNthSync(int n) {
  std::lock_guard lock(S().mu);
  S().fail_sync_at = S().syncs + n;
}
void FaultVfs::PowerCutAfterSync(int n) {
  std::lock_guard lock(S().mu);
  S().cut_after_sync = S().syncs + n;
}
void FaultVfs::PowerCutAtSync(int n) {
  std::lock_guard lock(S().mu);
  S().cut_at_sync = S().syncs + n;
}
void FaultVfs::PowerCut() {
  std::lock_guard lock(S().mu);
  S().CutLocked();
}
int FaultVfs::writes() const {
  std::lock_guard lock(S().mu);
  return S().writes;
}
int FaultVfs::syncs() const {
  std::lock_guard lock(S().mu);
  return S().syncs;
}
bool FaultVfs::power_cut() const {
  std::lock_guard lock(S().mu);
  return S().cut;
}

}  // namespace storenode::testing
