#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz) for a bounded time or number of
# runs, one after the other, and prints one line per target (executions,
# coverage, features). Fails when any target finds a crash.
#
#   scripts/fuzz.sh                         # each target 60 s, build/fuzz
#   scripts/fuzz.sh --runs 1000000          # the documented long run
#   scripts/fuzz.sh --seconds 5 jwt http_request
#   scripts/fuzz.sh --build build/asan-ubsan --seconds 30
#
# Build first: cmake --preset fuzz && cmake --build --preset fuzz
# (the asan-ubsan preset builds the same targets).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=""
limit=(--seconds 60)
targets=()
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) limit=(--seconds "$2"); shift 2 ;;
    --runs) limit=(--runs "$2"); shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [[ -z $build ]]; then
  build=$root/build/fuzz
  compgen -G "$build/tests/fuzz/fuzz_*" >/dev/null || build=$root/build/asan-ubsan
fi
if ((${#targets[@]} == 0)); then
  for f in "$root"/tests/fuzz/*_fuzzer.cc; do
    n=$(basename "$f" _fuzzer.cc)
    targets+=("$n")
  done
fi
failed=0
for name in "${targets[@]}"; do
  binary=$build/tests/fuzz/fuzz_$name
  if [[ ! -x $binary ]]; then
    echo "fuzz.$name: not built ($binary)" >&2
    failed=1
    continue
  fi
  start=$(date +%s)
  if out=$(bash "$root/tests/fuzz/run.sh" "$binary" "$name" "${limit[@]}" 2>&1); then
    echo "$(tail -n1 <<<"$out") in $(( $(date +%s) - start )) s"
  else
    echo "$out"
    failed=1
  fi
done
exit $failed
