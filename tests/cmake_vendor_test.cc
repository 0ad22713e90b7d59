// storenode vendored into a POS's own CMake project with add_subdirectory:
// it configures, builds only the till library (the daemons, tools and tests
// are off unless asked for), and the POS target links storenode::edge
// (storenode/till.h over libstorenode-edge.so, as when installed).
#include <catch2/catch.hpp>
#include <fstream>

#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode::testing;

TEST_CASE("add_subdirectory(storenode) configures the till library only", "[cmake]") {
  const std::string dir = MakeTempDir("vendor");
  {
    std::ofstream cml(dir + "/CMakeLists.txt");
    cml << "cmake_minimum_required(VERSION 3.25)\nproject(pos LANGUAGES CXX)\n"
        << "add_subdirectory(\"" << SN_SOURCE_DIR << "\" storenode)\n"
        << "add_executable(pos pos.cc)\ntarget_link_libraries(pos PRIVATE storenode::edge)\n";
    std::ofstream(dir + "/pos.cc") << "#include \"storenode/till.h\"\n"
                                   << "int main() { return storenode::Till().SyncState().ok(); }\n";
  }
  Ran configured = RunArgv(dir, {"/usr/bin/cmake", "-S", dir, "-B", dir + "/build", "-G", "Ninja"});
  INFO(configured.out << configured.err);
  REQUIRE(configured.code == 0);
  Ran targets = RunArgv(dir, {"/usr/bin/ninja", "-C", dir + "/build", "-t", "targets", "all"});
  REQUIRE(targets.code == 0);
  CHECK_THAT(targets.out, Catch::Contains("libstorenode-edge.so") && Catch::Contains("pos:"));
  CHECK_THAT(targets.out, !Catch::Contains("storenode-fogd") && !Catch::Contains("sn_tests") &&
                              !Catch::Contains("ledger-sink"));
  // The POS's own binaries stay where its project puts them.
  CHECK_THAT(ReadFile(dir + "/build/CMakeCache.txt"),
             Catch::Contains("STORENODE_BUILD_TOOLS:BOOL=OFF") &&
                 Catch::Contains("STORENODE_BUILD_TESTS:BOOL=OFF"));
}
