#!/usr/bin/env bash
# Installs what wfpsim needs (Debian/Ubuntu: apt-get; macOS: brew) and
# configures + builds it in build/ (and, with --sanitize, build-asan/ with
# AddressSanitizer and UndefinedBehaviorSanitizer). Idempotent: a second
# run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(build-essential cmake pkg-config libyaml-dev libpcap-dev libcmocka-dev
              libxml2-dev libgraphviz-dev python3 python3-dev python3-pytest tcpdump graphviz)

install_packages() {
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    local missing=()
    for p in "${DEB_PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      echo "setup: installing ${missing[*]}"
      local sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  elif command -v brew >/dev/null 2>&1; then
    brew list cmake pkg-config libyaml libpcap cmocka libxml2 graphviz python >/dev/null 2>&1 ||
      brew install cmake pkg-config libyaml libpcap cmocka libxml2 graphviz python
  else
    echo "setup: no apt-get or brew; install the packages listed in README.md yourself" >&2
  fi
}

configure_build() { # dir, extra cmake args...
  local dir=$1; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  fi
  cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)"
}

install_packages
configure_build build
if [ "${1:-}" = "--sanitize" ]; then
  configure_build build-asan -DWFPSIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
fi
