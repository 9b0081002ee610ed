#!/usr/bin/env bash
# Runs one libFuzzer target over its seed corpus, for a bounded time or a
# number of runs, and fails on a crash, a leak, a sanitizer report or a hang.
#   run.sh <binary> <name> [--seconds N | --runs N] [-- libFuzzer flags...]
# New inputs go to a temporary corpus (the checked-in seeds are read only);
# a crashing input is printed (base64) and kept in $FUZZ_ARTIFACTS (default:
# the temporary folder, removed on success only).
set -euo pipefail
binary=$1 name=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
limit=(-max_total_time=5)
extra=()
while (($#)); do
  case $1 in
    --seconds) limit=(-max_total_time="$2"); shift 2 ;;
    --runs) limit=(-runs="$2"); shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-${name}.XXXXXX")
artifacts=${FUZZ_ARTIFACTS:-$work/}
mkdir -p "$work/corpus" "$artifacts"
dict=()
[[ -f "$here/$name.dict" ]] && dict=(-dict="$here/$name.dict")
seeds=()
[[ -d "$here/corpus/$name" ]] && seeds=("$here/corpus/$name")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
"$binary" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$artifacts" "${dict[@]}" "${extra[@]}" "$work/corpus" "${seeds[@]}" \
  >"$work/log" 2>&1 || status=$?
if ((status != 0)); then
  tail -n 80 "$work/log"
  for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
    [[ -f $f ]] || continue
    echo "--- failing input $f (base64):"
    base64 -w0 "$f"
    echo
  done
  echo "fuzz.$name: FAILED (exit $status); work folder $work"
  exit 1
fi
runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | grep -o '[0-9]*$' || echo '?')
cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log" | tail -1 || true)
echo "fuzz.$name: ok, $runs runs, $cov, corpus $(ls "$work/corpus" | wc -l) new + ${#seeds[@]} seed folder(s)"
rm -rf "$work"
