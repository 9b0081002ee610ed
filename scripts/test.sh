#!/usr/bin/env bash
# The test command (README, .ci/run): format check, then the whole suite twice —
# release build, and ASan+UBSan build (clang-14). Each build runs unit tests
# (GoogleTest), integration tests against the real binary, and the official
# npm clients (tests/clients).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

presets=("$@")
if ((${#presets[@]} == 0)); then presets=(release asan-ubsan); fi

bash scripts/check-format.sh
bash scripts/check-layers.sh

if [[ ! -d tests/clients/node_modules ]]; then
  (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
fi

jobs=$(nproc)
for preset in "${presets[@]}"; do
  echo "=== ${preset}: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -- -j"$jobs"
  echo "=== ${preset}: test"
  ctest --preset "$preset" -j"$jobs"
done
