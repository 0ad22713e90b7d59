# Shared by tools/test, tools/demo and tools/bench: install what is missing,
# then configure and build into build/ (binaries in build/bin/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${STORENODE_BUILD_DIR:-$ROOT/build}"

# What building and running storenode needs (tools/demo, tools/bench), and
# what only the test suite needs on top (tools/test: the console's browser
# tests, and promtool from prometheus for tests/metrics_test.cc).
PACKAGES=(g++ cmake ninja-build pkg-config libsqlite3-dev sqlite3 libpaho-mqttpp-dev
  libpaho-mqtt-dev mosquitto mosquitto-clients libprotobuf-dev protobuf-compiler libfmt-dev
  catch2 libssl-dev openssl libsodium-dev libtomlplusplus-dev libspdlog-dev libcli11-dev libcpp-httplib-dev libhowardhinnant-date-dev tzdata
  nats-server libnats-dev postgresql-15 libpq-dev libsystemd-dev libqrencode-dev)
TEST_PACKAGES=(chromium nodejs npm lintian prometheus)

# Packages that may come from elsewhere than Debian count as installed when
# their command is on PATH: NodeSource's nodejs ships npm, and Debian's npm
# package then refuses to install next to it ("held broken packages").
declare -A PACKAGE_COMMANDS=([nodejs]=node [npm]=npm [chromium]=chromium)

present() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" && return 0
  [ -n "${PACKAGE_COMMANDS[$1]:-}" ] && command -v "${PACKAGE_COMMANDS[$1]}" >/dev/null 2>&1
}

# install_missing [--tests]: the packages, with --tests the test suite's too.
install_missing() {
  local missing=() wanted=("${PACKAGES[@]}")
  [ "${1:-}" = --tests ] && wanted+=("${TEST_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    present "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  [ "${1:-}" = --tests ] && install_e2e
  # The store broker is started by the tests and the demo themselves; the
  # Debian service would hold port 1883 for nothing. prometheus is there for
  # promtool: its server is not ours to run.
  for service in mosquitto prometheus; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
      systemctl stop "$service" || true
      [ "$service" = mosquitto ] || systemctl disable "$service" 2>/dev/null || true
    fi
  done
}

# The console's browser tests (tests/e2e): the npm packages pinned by its
# package-lock.json, installed again only when the lock file changed.
install_e2e() {
  local dir="$ROOT/tests/e2e"
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.storenode-lock" 2>/dev/null; then
    echo "installing tests/e2e npm packages"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.storenode-lock"
  fi
}

# Extra cmake arguments (tools/test --sanitize sets the sanitizers); ccache
# is used when it is installed.
BUILD_ARGS=()
# build [TARGET...]: everything, or only the named targets (and what they need).
build() {
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  # -O2 as RelWithDebInfo, but line tables only (-g1): backtraces, sanitizer
  # reports and profiles keep file:line, and a cold build takes about a
  # quarter less compile time (tests/stock_test.cc: 7.1 s with -g, 5.3 s).
  local flags="-O2 -g1 -DNDEBUG"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTORENODE_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
    "${launcher[@]}" "${BUILD_ARGS[@]}" >/dev/null
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$BUILD" --parallel "$(nproc)" "${targets[@]}"
}
