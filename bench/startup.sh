#!/usr/bin/env bash
# Startup / idle-memory / throughput benchmark for the llama-stack server.
#
#   bench/startup.sh [BINARY]          (default: build/release/llama-stack)
#
# Environment knobs (defaults in brackets):
#   RUNS [20]            measured startup runs (plus WARMUP unmeasured ones)
#   WARMUP [1]           first runs that create the SQLite file / warm the page cache
#   IDLE_MS [1000]       idle time after ready before reading /proc/PID/status
#   WRK_THREADS [2]  WRK_CONNECTIONS [64]  WRK_DURATION [10s]
#   ROUNDS [3]           throughput rounds; each runs both logging modes
#   PIN=1                throughput only: server on CPU 0, wrk on CPU 1 (taskset);
#                        steadier numbers, but the server gets one core
#   OUT_DIR              if set, raw outputs (JSON, wrk text) are copied there
#   QUIET_CPU_PCT [10]   before each phase, wait until no compiler/linker/build
#                        driver runs and whole-machine CPU use is below this %
#   QUIET_MAX_WAIT [1800] stop waiting after this many seconds (noted in summary)
#   SKIP_QUIET_WAIT=1    do not wait at all
#
# Needs: node (>= 18), wrk, curl. See bench/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

BIN="${1:-$REPO_ROOT/build/release/llama-stack}"
RUNS="${RUNS:-20}"
WARMUP="${WARMUP:-1}"
IDLE_MS="${IDLE_MS:-1000}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-64}"
WRK_DURATION="${WRK_DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
PIN="${PIN:-0}"

die() { echo "startup.sh: $*" >&2; exit 1; }

[[ -e "$BIN" || -e "$(dirname "$BIN")" ]] || die "binary not found: $BIN"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
for tool in node wrk curl; do
  command -v "$tool" >/dev/null || die "'$tool' is required (apt-get install -y wrk curl nodejs)"
done

WORK="$(mktemp -d -t llama-stack-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- free port
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 20000))
  if ! port_in_use "$candidate"; then PORT="$candidate"; break; fi
done
[[ -n "$PORT" ]] || die "could not find a free port"

# ---------------------------------------------------------------- config
mkdir -p "$WORK/state"
CONFIG="$WORK/run.yaml"
cat >"$CONFIG" <<EOF
version: 2
image_name: bench
apis:
- inference
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config:
      url: http://127.0.0.1:9
metadata_store:
  type: sqlite
  db_path: $WORK/state/registry.db
models:
- model_id: llama3.2:3b
  provider_id: ollama
  model_type: llm
shields: []
vector_dbs: []
tool_groups: []
server:
  port: $PORT
EOF
# Keep the server away from ~/.llama and from any LLAMA_STACK_* in the caller's env.
export LLAMA_STACK_CONFIG_DIR="$WORK/state"
unset LLAMA_STACK_PORT LLAMA_STACK_LOG_FILE LLAMA_STACK_LOGGING || true


# ---------------------------------------------------------------- quiet machine
# Wait until no compiler/linker/build driver runs (clang runs its compiler
# in-process as "clang++-14", gcc as cc1plus) AND the CPUs are otherwise idle
# (other load, e.g. a test suite, is not caught by a process-name list).
BUSY_RE='cc1|cc1plus|clang|clang\+\+|clang-[0-9]+|clang\+\+-[0-9]+|ld|ld\.lld|ld\.gold|mold|collect2|lto1|ninja|make|cmake'
QUIET_CPU_PCT="${QUIET_CPU_PCT:-10}"
QUIET_MAX_WAIT="${QUIET_MAX_WAIT:-1800}"
busy_procs() {
  pgrep -x "$BUSY_RE" -l 2>/dev/null | awk '{print $2}' | sort | uniq -c |
    awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}' || true
}
cpu_busy_pct() {   # whole-machine CPU use over the next second, in percent
  local a b
  a="$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)"
  sleep 1
  b="$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)"
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); busy = y[1] - x[1]; idle = y[2] - x[2];
    pct = (busy + idle > 0) ? 100 * busy / (busy + idle) : 0; printf "%d\n", pct }'
}
POLLUTED=()
wait_quiet() {   # $1 = phase name (for the record)
  [[ "${SKIP_QUIET_WAIT:-0}" == 1 ]] && return 0
  local quiet=0 last=-60 why pct start=$SECONDS
  while ((quiet < 2)); do          # two consecutive quiet checks
    why=""
    if pgrep -x "$BUSY_RE" >/dev/null 2>&1; then
      why="build processes: $(busy_procs)"
    else
      pct="$(cpu_busy_pct)"
      [[ "$pct" =~ ^[0-9]+$ ]] || die "could not read CPU use from /proc/stat"
      ((pct < QUIET_CPU_PCT)) || why="CPU ${pct}% busy"
    fi
    if [[ -z "$why" ]]; then
      quiet=$((quiet + 1))
      continue
    fi
    quiet=0
    if ((SECONDS - start > QUIET_MAX_WAIT)); then
      echo "WARNING: machine still not quiet after ${QUIET_MAX_WAIT}s ($why); measuring anyway" >&2
      POLLUTED+=("$1 (not quiet at start: $why)")
      return 0
    fi
    if ((SECONDS - last >= 60)); then
      echo "   waiting for a quiet machine before '$1': $why"
      last=$SECONDS
    fi
    sleep 5
  done
  return 0
}
# Record (not fail) when a build started while a phase was being measured.
check_polluted() {
  if pgrep -x "$BUSY_RE" >/dev/null 2>&1; then
    POLLUTED+=("$1 ($(busy_procs))")
    echo "WARNING: build processes running at end of phase '$1': $(busy_procs)" >&2
  fi
}

echo "== waiting for a quiet machine"
wait_quiet start

# Benchmark a private copy, taken while no linker runs: the build tree may be
# relinked during the benchmark, and every phase must measure the same build.
[[ -x "$BIN" ]] || die "binary not found or not executable: $BIN"
SRC_BIN="$BIN"
BIN="$WORK/llama-stack"
cp "$SRC_BIN" "$BIN"
BUILD_ID="$(readelf -n "$BIN" 2>/dev/null | awk '/Build ID/ {print substr($3, 1, 12)}' || true)"
"$BIN" validate "$CONFIG" >/dev/null 2>&1 || die "generated config does not validate: $CONFIG"

# ---------------------------------------------------------------- machine
CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
MEM_TOTAL_MIB=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
COMMIT="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY="$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (+local changes)' || true)"
echo "== machine"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "host:      $(uname -srm)"
echo "os:        $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
echo "cpu:       $(nproc) cores, $CPU_MODEL"
echo "memory:    ${MEM_TOTAL_MIB} MiB"
echo "loadavg:   $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary:    $SRC_BIN ($(stat -c %s "$BIN") bytes, build-id ${BUILD_ID:-?}, modified $(date -u -d "@$(stat -c %Y "$SRC_BIN")" '+%Y-%m-%d %H:%M:%S UTC'); measured from a copy)"
echo "commit:    $COMMIT$DIRTY"
echo "tools:     node $(node --version), $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
echo "port:      $PORT"

# ---------------------------------------------------------------- 1. startup + idle RSS
# Primary (A): probe triggered by the "Listening on" log line, so nothing polls
# the 2 cores while the server initialises; idle RSS is read in every run.
# Cross-checks: plain polling from spawn, every 1 ms (B) and back-to-back (C).
echo
echo "== startup A: $WARMUP warmup + $RUNS runs, probe on 'Listening on' log line, ${IDLE_MS} ms idle each"
wait_quiet startup-A
node "$SCRIPT_DIR/ready.mjs" --runs "$RUNS" --warmup "$WARMUP" --port "$PORT" --idle-ms "$IDLE_MS" \
  --trigger log -- "$BIN" run "$CONFIG" >"$WORK/startup-log.json"
check_polluted startup-A
echo "== startup B: $RUNS runs, poll GET /v1/health every 1 ms from spawn"
wait_quiet startup-B
node "$SCRIPT_DIR/ready.mjs" --runs "$RUNS" --warmup 0 --baseline 0 --port "$PORT" \
  --trigger none --poll-ms 1 -- "$BIN" run "$CONFIG" >"$WORK/startup-poll1.json"
check_polluted startup-B
echo "== startup C: $RUNS runs, poll GET /v1/health back-to-back from spawn"
wait_quiet startup-C
node "$SCRIPT_DIR/ready.mjs" --runs "$RUNS" --warmup 0 --baseline 0 --port "$PORT" \
  --trigger none --poll-ms 0 -- "$BIN" run "$CONFIG" >"$WORK/startup-poll0.json"
check_polluted startup-C

# min / median / p90 (nearest rank) / max of each field, as shell assignments.
node - "$WORK" >"$WORK/startup.env" <<'EOF'
const fs = require('fs');
const load = (name) => JSON.parse(fs.readFileSync(`${process.argv[2]}/${name}`, 'utf8'));
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b), n = s.length;
  const med = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { min: s[0], med, p90: s[Math.ceil(0.9 * n) - 1], max: s[n - 1] };
};
const out = {};
const put = (name, xs, f) => { for (const [k, v] of Object.entries(stats(xs))) out[`${name}_${k}`] = f(v); };
const ms = (v) => v.toFixed(2), mb = (v) => v.toFixed(2);   // memory in MiB (/proc kB = KiB)
const a = load('startup-log.json'), b = load('startup-poll1.json'), c = load('startup-poll0.json');
put('READY', a.runs.map((r) => r.ready_ms), ms);
put('LISTEN', a.runs.map((r) => r.listen_ms ?? NaN), ms);
put('RSS', a.runs.map((r) => r.rss_kb / 1024), mb);
put('RSSSI', a.runs.map((r) => (r.rss_kb * 1024) / 1e6), mb);
put('HWM', a.runs.map((r) => r.hwm_kb / 1024), mb);
put('ANON', a.runs.map((r) => r.rss_anon_kb / 1024), mb);
put('FILE', a.runs.map((r) => r.rss_file_kb / 1024), mb);
put('PSS', a.runs.map((r) => (r.pss_kb ?? NaN) / 1024), mb);
put('THREADS', a.runs.map((r) => r.threads), (v) => String(v));
put('EXIT', a.runs.map((r) => r.exit_ms), (v) => v.toFixed(1));
put('BASE', a.baseline_ms, ms);
put('POLL1', b.runs.map((r) => r.ready_ms), ms);
put('POLL0', c.runs.map((r) => r.ready_ms), ms);
put('PROBE0', c.runs.map((r) => r.ready_ms / r.probes), (v) => v.toFixed(3));
out.WARM_READY = a.warmup.length ? ms(a.warmup[0].ready_ms) : 'n/a';
out.READY_ALL = a.runs.map((r) => r.ready_ms.toFixed(1)).join(' ');
out.BAD_EXITS = [a, b, c].flatMap((d) => d.runs).filter((r) => r.exit_code !== 0).length;
for (const [k, v] of Object.entries(out)) console.log(`${k}='${v}'`);
EOF
# shellcheck disable=SC1091
source "$WORK/startup.env"
echo "A time-to-ready ms (each run): $READY_ALL"
echo "A time-to-ready ms: min $READY_min  median $READY_med  p90 $READY_p90  max $READY_max  (warmup run: $WARM_READY)"
echo "A spawn -> 'Listening on' line ms: min $LISTEN_min  median $LISTEN_med  p90 $LISTEN_p90"
echo "A idle VmRSS MiB: min $RSS_min  median $RSS_med  max $RSS_max  (max $RSSSI_max MB, 10^6 bytes)"
echo "A idle VmHWM MiB: min $HWM_min  median $HWM_med  max $HWM_max"
echo "A idle RssAnon / RssFile / Pss MiB (median): $ANON_med / $FILE_med / $PSS_med   threads: $THREADS_med"
echo "A SIGTERM -> exit ms: median $EXIT_med  max $EXIT_max  (non-zero exits in A/B/C: $BAD_EXITS)"
echo "B time-to-ready ms (1 ms poll): min $POLL1_min  median $POLL1_med  p90 $POLL1_p90  max $POLL1_max"
echo "C time-to-ready ms (tight poll, median interval $PROBE0_med ms): min $POLL0_min  median $POLL0_med  p90 $POLL0_p90  max $POLL0_max"
echo "reference: spawn -> exit of '--version': min $BASE_min  median $BASE_med ms"

# ---------------------------------------------------------------- 2. throughput
SERVER_PREFIX=()
WRK_PREFIX=()
if [[ "$PIN" == 1 ]]; then
  command -v taskset >/dev/null || die "PIN=1 needs taskset (util-linux)"
  SERVER_PREFIX=(taskset -c 0)
  WRK_PREFIX=(taskset -c 1)
fi
start_server() {   # $1 = LLAMA_STACK_LOGGING value ("" = default), $2 = stderr target
  if [[ -n "$1" ]]; then
    LLAMA_STACK_LOGGING="$1" "${SERVER_PREFIX[@]}" "$BIN" run "$CONFIG" >/dev/null 2>"$2" &
  else
    "${SERVER_PREFIX[@]}" "$BIN" run "$CONFIG" >/dev/null 2>"$2" &
  fi
  SERVER_PID=$!
  local i
  for i in $(seq 1 500); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v1/health" 2>/dev/null; then
      curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v1/models" || die "/v1/models is not 200"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || die "server exited during startup"
    sleep 0.01
  done
  die "server not ready after 5 s"
}
stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || die "server exited with status $? after SIGTERM"
  SERVER_PID=""
}

# Parses a wrk --latency report into "rps avg p50 p75 p90 p99 errors".
parse_wrk() {
  awk '
    function ms(v) {   # wrk prints us / ms / s
      if (v ~ /us$/) return sprintf("%.3f", substr(v, 1, length(v) - 2) / 1000)
      if (v ~ /ms$/) return sprintf("%.3f", substr(v, 1, length(v) - 2))
      if (v ~ /s$/)  return sprintf("%.3f", substr(v, 1, length(v) - 1) * 1000)
      return v
    }
    /^ +Latency / && !avg { avg = ms($2) }
    /^ +50%/ { p50 = ms($2) }  /^ +75%/ { p75 = ms($2) }
    /^ +90%/ { p90 = ms($2) }  /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { err += $5 }
    END { printf "%s %s %s %s %s %s %d\n", rps, avg, p50, p75, p90, p99, err }
  ' "$1"
}

declare -A WRK_RESULT
run_wrk() {   # $1 = label, $2 = path
  local out="$WORK/wrk-$1.txt"
  echo "-- wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency http://127.0.0.1:$PORT$2   [$1]"
  "${WRK_PREFIX[@]}" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency "http://127.0.0.1:$PORT$2" >"$out"
  sed 's/^/   /' "$out"
  WRK_RESULT[$1]="$(parse_wrk "$out")"
}

# Alternate the two logging modes over ROUNDS rounds so that drift on a shared
# machine shows up as round-to-round spread instead of a bias between modes.
for round in $(seq 1 "$ROUNDS"); do
  for mode in quiet log; do
    echo
    if [[ $mode == quiet ]]; then
      echo "== throughput round $round, access log off (LLAMA_STACK_LOGGING=server=warning)"
      wait_quiet "throughput-$mode-$round"
      start_server "server=warning" "$WORK/server-quiet-$round.log"
    else
      echo "== throughput round $round, default logging (INFO access log per request, stderr -> /dev/null)"
      wait_quiet "throughput-$mode-$round"
      start_server "" /dev/null
    fi
    "${WRK_PREFIX[@]}" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d2s "http://127.0.0.1:$PORT/v1/health" >/dev/null   # warm-up
    run_wrk "health-$mode-$round" /v1/health
    run_wrk "models-$mode-$round" /v1/models
    stop_server
    check_polluted "throughput-$mode-$round"
  done
done

if [[ -n "${OUT_DIR:-}" ]]; then
  mkdir -p "$OUT_DIR"
  cp "$WORK"/startup-*.json "$WORK"/wrk-*.txt "$CONFIG" "$OUT_DIR"/
fi

# ---------------------------------------------------------------- summary
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v <= t) print "met"; else printf "NOT met (+%.1f%%)\n", (v / t - 1) * 100 }'; }
echo
echo "================================ summary ================================"
echo "machine: $(nproc) cores $CPU_MODEL, ${MEM_TOTAL_MIB} MiB; commit $COMMIT$DIRTY, build-id ${BUILD_ID:-?}; $(date -u '+%Y-%m-%d')"
printf '%-40s %8s %8s %8s %8s  %s\n' "startup ($RUNS runs each)" min median p90 max "target"
printf '%-40s %8s %8s %8s %8s  %s\n' "A time-to-ready, log-triggered (ms)" "$READY_min" "$READY_med" "$READY_p90" "$READY_max" \
  "<= 20 ms: median $(verdict "$READY_med" 20), p90 $(verdict "$READY_p90" 20)"
printf '%-40s %8s %8s %8s %8s\n' "  spawn -> 'Listening on' line (ms)" "$LISTEN_min" "$LISTEN_med" "$LISTEN_p90" "$LISTEN_max"
printf '%-40s %8s %8s %8s %8s\n' "B time-to-ready, 1 ms poll (ms)" "$POLL1_min" "$POLL1_med" "$POLL1_p90" "$POLL1_max"
printf '%-40s %8s %8s %8s %8s\n' "C time-to-ready, tight poll (ms)" "$POLL0_min" "$POLL0_med" "$POLL0_p90" "$POLL0_max"
printf '%-40s %8s %8s %8s %8s\n' "  ref: '--version' spawn -> exit (ms)" "$BASE_min" "$BASE_med" "$BASE_p90" "$BASE_max"
printf '%-40s %8s %8s %8s %8s  %s\n' "idle VmRSS after ${IDLE_MS} ms (MiB)" "$RSS_min" "$RSS_med" "$RSS_p90" "$RSS_max" \
  "<= 15 MiB: max $(verdict "$RSS_max" 15)"
printf '%-40s %8s %8s %8s %8s  %s\n' "  same, SI MB (10^6 bytes)" "$RSSSI_min" "$RSSSI_med" "$RSSSI_p90" "$RSSSI_max" \
  "<= 15 MB: max $(verdict "$RSSSI_max" 15)"
printf '%-40s %8s %8s %8s %8s\n' "idle VmHWM (MiB)" "$HWM_min" "$HWM_med" "$HWM_p90" "$HWM_max"
printf '%-40s %8s %8s %8s %8s\n' "  of VmRSS: RssAnon (MiB)" "$ANON_min" "$ANON_med" "$ANON_p90" "$ANON_max"
printf '%-40s %8s %8s %8s %8s\n' "  of VmRSS: RssFile (MiB)" "$FILE_min" "$FILE_med" "$FILE_p90" "$FILE_max"
printf '%-40s %8s %8s %8s %8s\n' "  Pss, smaps_rollup (MiB)" "$PSS_min" "$PSS_med" "$PSS_p90" "$PSS_max"
echo
# One row per endpoint and logging mode: the round with the median req/s
# (its latencies alongside), plus the lowest and highest req/s over all rounds.
printf '%-26s %10s %8s %8s %8s %8s %8s %6s  %s\n' "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION" "req/s" "avg ms" "p50" "p75" "p90" "p99" "errors" "req/s over $ROUNDS rounds"
for path in health models; do
  for mode in quiet log; do
    mapfile -t ordered < <(for round in $(seq 1 "$ROUNDS"); do
      echo "${WRK_RESULT[$path-$mode-$round]}"; done | sort -n -k1,1)
    read -r rps avg p50 p75 p90 p99 err <<<"${ordered[$(((ROUNDS - 1) / 2))]}"
    errs=0; for row in "${ordered[@]}"; do errs=$((errs + $(awk '{print $7}' <<<"$row"))); done
    range="$(awk '{print $1}' <<<"${ordered[0]}")..$(awk '{print $1}' <<<"${ordered[$((ROUNDS - 1))]}")"
    [[ $mode == quiet ]] && what="log off" || what="log on"
    printf '%-26s %10s %8s %8s %8s %8s %8s %6s  %s\n' "/v1/$path  $what" "$rps" "$avg" "$p50" "$p75" "$p90" "$p99" "$errs" "$range"
  done
done
if [[ "$PIN" == 1 ]]; then
  echo "note: PIN=1: server pinned to CPU 0, wrk to CPU 1; per-round results are printed above."
else
  echo "note: wrk and the server share the same $(nproc) cores (unpinned); per-round results are printed above."
fi
if ((${#POLLUTED[@]})); then
  echo "WARNING: build processes were running during: ${POLLUTED[*]} -- numbers may be polluted"
fi
