// Kills a recording process at random moments and checks that nothing it was
// told is recorded got lost, and that the journal never has a gap.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <thread>

#include "storenode/edge.h"
#include "support/harness.h"
#include "support/till.h"

using namespace storenode;

namespace {

struct Seen {
  uint64_t seq;
  uint64_t receipt_no;
};

[[noreturn]] void RecordForever(const edge::Options& options, int fd) {
  auto journal = edge::Journal::Open(options);
  if (!journal.ok()) _exit(3);
  for (int i = 0;; ++i) {
    auto rec = (*journal)->RecordSale(
        testing::SimpleSale("sku-" + std::to_string(i % 7), 1 + i % 3, 199, i % 2 ? "A" : "B"));
    if (!rec.ok()) _exit(4);
    Seen seen{rec->seq, rec->receipt_no};
    if (write(fd, &seen, sizeof seen) != sizeof seen) _exit(5);
  }
}

}  // namespace

TEST_CASE("SIGKILL while recording loses no returned event and leaves no gap", "[journal][crash]") {
  std::string dir = testing::MakeTempDir("crash");
  edge::Options options = testing::TillOptions(dir, "till-1");
  std::mt19937 rng(42);
  std::map<uint64_t, uint64_t> seen;  // seq -> receipt_no reported by the child
  constexpr int kKills = 25;
  for (int round = 0; round < kKills; ++round) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      RecordForever(options, fds[1]);
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 130));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));  // it was still recording, not failing
    Seen s;
    while (read(fds[0], &s, sizeof s) == sizeof s) seen[s.seq] = s.receipt_no;
    close(fds[0]);
  }
  REQUIRE(seen.size() > 100);

  edge::VerifyReport report = edge::VerifyJournalFile(options.journal_path);
  INFO(report.reason);
  REQUIRE(report.ok);
  REQUIRE(report.head_seq >= seen.rbegin()->first);
  REQUIRE(report.events_checked == report.head_seq);  // gapless from 1

  auto events = edge::ReadJournalFile(options.journal_path).value();
  uint64_t expect_receipt = 0;
  std::map<uint64_t, uint64_t> stored;
  for (const auto& ev : events) {
    v1::EventHeader h;
    REQUIRE(h.ParseFromString(ev.header()));
    if (h.kind() == v1::SALE) {
      REQUIRE(h.receipt_no() == ++expect_receipt);  // gapless receipt numbers
      stored[h.seq()] = h.receipt_no();
    }
  }
  for (auto [seq, receipt] : seen) {
    INFO("seq " << seq);
    REQUIRE(stored.count(seq) == 1);
    REQUIRE(stored[seq] == receipt);
  }
  // The journal still opens and carries on where it stopped.
  auto journal = edge::Journal::Open(options).value();
  auto next = journal->RecordSale(testing::SimpleSale("after", 1, 100)).value();
  REQUIRE(next.seq == report.head_seq + 1);
  REQUIRE(next.receipt_no == expect_receipt + 1);
}
