// The Debian packages (cmake/install.cmake): CPack builds them from this
// build tree; each holds what its description says, with its configs as
// conffiles, units that name the installed binaries, its system users and
// maintainer scripts that start nothing; the binaries run from the
// unpacked package; lintian reports no error.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::set<std::string> Contents(const std::string& dir, const std::string& deb) {
  Ran t = RunArgv(dir, {"/bin/sh", "-c", "dpkg-deb --fsys-tarfile '" + deb + "' | tar -t"});
  REQUIRE(t.code == 0);
  std::set<std::string> files;
  for (std::string f : Lines(t.out)) {
    if (f.starts_with("./")) f.erase(0, 1);
    if (!f.ends_with("/")) files.insert(f);
  }
  return files;
}

std::string Field(const std::string& dir, const std::string& deb, const std::string& field) {
  Ran r = RunArgv(dir, {"/usr/bin/dpkg-deb", "-f", deb, field});
  REQUIRE(r.code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("the Debian packages hold their files, conffiles, units, users and scripts",
          "[packages]") {
  const std::string dir = MakeTempDir("packages");
  const std::string build = std::filesystem::path(SN_BIN_DIR).parent_path().string();
  Ran cpack = RunArgv(dir, {"/usr/bin/cpack", "-G", "DEB", "--config", build + "/CPackConfig.cmake",
                            "-B", dir + "/out"});
  INFO(cpack.out << cpack.err);
  REQUIRE(cpack.code == 0);
  const std::string version = STORENODE_VERSION;
  auto deb = [&](const std::string& name) {
    return dir + "/out/" + name + "_" + version + "_amd64.deb";
  };

  const std::set<std::string> fogd = Contents(dir, deb("storenode-fogd"));
  CHECK(fogd == std::set<std::string>{
                    "/etc/storenode/fog.toml", "/usr/lib/systemd/system/storenode-fogd.service",
                    "/usr/lib/systemd/system/storenode-mosquitto.service",
                    "/usr/lib/sysusers.d/storenode-fogd.conf", "/usr/sbin/storenode-fogd",
                    "/usr/share/doc/storenode-fogd/changelog.gz",
                    "/usr/share/doc/storenode-fogd/copyright",
                    "/usr/share/man/man8/storenode-fogd.8.gz"});
  const std::set<std::string> ledger = Contents(dir, deb("storenode-ledger"));
  CHECK(ledger == std::set<std::string>{"/etc/storenode/ledger-sink.toml",
                                        "/usr/lib/systemd/system/storenode-ledger-sink.service",
                                        "/usr/lib/sysusers.d/storenode-ledger.conf",
                                        "/usr/sbin/ledger-sink",
                                        "/usr/share/doc/storenode-ledger/changelog.gz",
                                        "/usr/share/doc/storenode-ledger/copyright",
                                        "/usr/share/man/man8/ledger-sink.8.gz"});
  const std::set<std::string> tools = Contents(dir, deb("storenode-tools"));
  CHECK(tools == std::set<std::string>{"/usr/bin/pos-sim", "/usr/bin/storectl",
                                       "/usr/share/doc/storenode-tools/changelog.gz",
                                       "/usr/share/doc/storenode-tools/copyright",
                                       "/usr/share/man/man1/pos-sim.1.gz",
                                       "/usr/share/man/man1/storectl.1.gz"});

  CHECK(Contents(dir, deb("libstorenode-edge1")) ==
        std::set<std::string>{"/usr/lib/libstorenode-edge.so.1",
                              "/usr/lib/libstorenode-edge.so.1.0.0",
                              "/usr/share/doc/libstorenode-edge1/changelog.gz",
                              "/usr/share/doc/libstorenode-edge1/copyright"});
  const std::set<std::string> dev = Contents(dir, deb("libstorenode-edge-dev"));
  for (const char* f : {"/usr/include/storenode/edge_c.h", "/usr/include/storenode/till.h",
                        "/usr/lib/libstorenode-edge.so", "/usr/lib/pkgconfig/storenode-edge.pc",
                        "/usr/lib/cmake/storenode/storenodeConfig.cmake",
                        "/usr/lib/cmake/storenode/storenodeConfigVersion.cmake"}) {
    CHECK(dev.count(f) == 1);
  }
  CHECK(dev.count("/usr/include/storenode/edge.h") == 0);  // the C ABI and its C++ face only
  CHECK_THAT(Field(dir, deb("libstorenode-edge-dev"), "Depends"),
             Catch::Contains("libstorenode-edge1 (= " + version + ")"));

  CHECK(Field(dir, deb("storenode-fogd"), "Package") == "storenode-fogd\n");
  CHECK_THAT(Field(dir, deb("storenode-fogd"), "Depends"), Catch::Contains("mosquitto (>= 2.0)") &&
                                                               Catch::Contains("libsystemd0") &&
                                                               Catch::Contains("libprotobuf"));
  CHECK(Field(dir, deb("storenode-fogd"), "Version") == version + "\n");

  // Control files: conffiles, and scripts that make users and start nothing.
  const std::string control = dir + "/control-fogd";
  REQUIRE(RunArgv(dir, {"/usr/bin/dpkg-deb", "-e", deb("storenode-fogd"), control}).code == 0);
  CHECK(ReadFile(control + "/conffiles") == "/etc/storenode/fog.toml\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    INFO(script);
    const auto perms = std::filesystem::status(control + "/" + script).permissions();
    CHECK((perms & std::filesystem::perms::owner_exec) != std::filesystem::perms::none);
    CHECK(RunArgv(dir, {"/bin/sh", "-n", control + "/" + script}).code == 0);
  }
  const std::string postinst = ReadFile(control + "/postinst");
  CHECK_THAT(postinst, Catch::Contains("systemd-sysusers storenode-fogd.conf"));
  CHECK_THAT(postinst, !Catch::Contains("systemctl start") &&
                           !Catch::Contains("systemctl enable") &&
                           !Catch::Contains("invoke start"));
  CHECK_THAT(ReadFile(control + "/prerm"),
             Catch::Contains("deb-systemd-invoke stop storenode-fogd.service"));

  // Unpacked: the units name the packaged binaries, the users are declared,
  // and the binaries run.
  const std::string root = dir + "/root";
  for (const char* p : {"storenode-fogd", "storenode-ledger", "storenode-tools"}) {
    REQUIRE(RunArgv(dir, {"/usr/bin/dpkg-deb", "-x", deb(p), root}).code == 0);
  }
  const std::string unit = ReadFile(root + "/usr/lib/systemd/system/storenode-fogd.service");
  CHECK_THAT(unit, Catch::Contains("\nExecStart=/usr/sbin/storenode-fogd --config "
                                   "/etc/storenode/fog.toml\n") &&
                       Catch::Contains("\nType=notify\n") && !Catch::Contains("/usr/local"));
  CHECK_THAT(
      ReadFile(root + "/usr/lib/systemd/system/storenode-ledger-sink.service"),
      Catch::Contains("\nExecStart=/usr/sbin/ledger-sink ") && !Catch::Contains("/usr/local"));
  CHECK_THAT(ReadFile(root + "/usr/lib/sysusers.d/storenode-fogd.conf"),
             Catch::StartsWith("u storenode - ") && Catch::Contains("\nu storenode-broker - "));
  for (const char* bin : {"/usr/sbin/storenode-fogd", "/usr/sbin/ledger-sink", "/usr/bin/storectl",
                          "/usr/bin/pos-sim"}) {
    Ran v = RunArgv(dir, {root + bin, "--version"});
    INFO(bin << ": " << v.err);
    CHECK(v.code == 0);
    CHECK_THAT(v.out, Catch::Contains(version));
  }

  if (std::filesystem::exists("/usr/bin/lintian")) {
    for (const char* p : {"storenode-fogd", "storenode-ledger", "storenode-tools",
                          "libstorenode-edge1", "libstorenode-edge-dev"}) {
      Ran l = RunArgv(dir, {"/usr/bin/lintian", "--tag-display-limit", "0", deb(p)});
      INFO(p << ": " << l.out << l.err);
      CHECK(l.out.find("\nE: ") == std::string::npos);
      CHECK_FALSE(l.out.starts_with("E: "));
      CHECK(l.out.find("no-manual-page") == std::string::npos);  // packaging/man
    }
  }
}
