#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need on Debian 12.
# Idempotent: safe to run again; skips apt when every package is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-system1.81-dev libboost-program-options1.81-dev
  libssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libsqlite3-dev libfaiss-dev libpoppler-cpp-dev
  libgtest-dev libgmock-dev
  clang-format clang-14 libclang-rt-14-dev
  openssl curl wrk nginx-light procps
  prometheus protobuf-compiler libprotobuf-dev
  postgresql-15 libpq-dev redis-server libhiredis-dev
)
# Node.js and npm: the machine image may ship its own build (which conflicts
# with Debian's npm package); use Debian's only when none is on PATH.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# Official npm clients for the conformance harness, pinned by the lockfile.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -f "$root/tests/clients/package-lock.json" ]]; then
  if [[ ! -d "$root/tests/clients/node_modules" ]] ||
     [[ "$root/tests/clients/package-lock.json" -nt "$root/tests/clients/node_modules/.package-lock.json" ]]; then
    (cd "$root/tests/clients" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
