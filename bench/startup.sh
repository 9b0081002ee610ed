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
#   OUT_DIR              if set, raw outputs (JSON, wrk text) are copied there
#   SKIP_QUIET_WAIT=1    do not wait for compilers/linkers to finish
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

die() { echo "startup.sh: $*" >&2; exit 1; }

[[ -x "$BIN" ]] || die "binary not found or not executable: $BIN"
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

"$BIN" validate "$CONFIG" >/dev/null 2>&1 || die "generated config does not validate: $CONFIG"

# ---------------------------------------------------------------- quiet machine
# clang runs its compiler in-process (comm "clang++-14"), gcc as cc1plus.
BUSY_RE='cc1|cc1plus|clang|clang\+\+|clang-[0-9]+|clang\+\+-[0-9]+|ld|ld\.lld|ld\.gold|mold|collect2|lto1|ninja|make|cmake'
busy_procs() {
  pgrep -x "$BUSY_RE" -l 2>/dev/null | awk '{print $2}' | sort | uniq -c |
    awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}' || true
}
wait_quiet() {
  [[ "${SKIP_QUIET_WAIT:-0}" == 1 ]] && return 0
  local quiet=0 announced=0
  while ((quiet < 2)); do          # two consecutive quiet checks, 5 s apart
    if pgrep -x "$BUSY_RE" >/dev/null 2>&1; then
      quiet=0
      if ((announced == 0)); then echo "waiting for build processes to finish: $(busy_procs)"; announced=1; fi
    else
      quiet=$((quiet + 1))
    fi
    ((quiet < 2)) && sleep 5
  done
  return 0
}
# Record (not fail) when a build started while a phase was being measured.
POLLUTED=()
check_polluted() {
  if pgrep -x "$BUSY_RE" >/dev/null 2>&1; then
    POLLUTED+=("$1 ($(busy_procs))")
    echo "WARNING: build processes running at end of phase '$1': $(busy_procs)" >&2
  fi
}

echo "== waiting for a quiet machine"
wait_quiet

# ---------------------------------------------------------------- machine
CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
MEM_TOTAL_MB=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
COMMIT="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY="$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (+local changes)' || true)"
echo "== machine"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "host:      $(uname -srm)"
echo "os:        $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
echo "cpu:       $(nproc) cores, $CPU_MODEL"
echo "memory:    ${MEM_TOTAL_MB} MB"
echo "loadavg:   $(cut -d' ' -f1-3 /proc/loadavg)"
BIN_STAMP="$(stat -c '%Y %s %i' "$BIN")"
echo "binary:    $BIN ($(stat -c %s "$BIN") bytes, built $(date -u -d "@$(stat -c %Y "$BIN")" '+%Y-%m-%d %H:%M:%S UTC'))"
echo "commit:    $COMMIT$DIRTY"
echo "tools:     node $(node --version), $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
echo "port:      $PORT"

# ---------------------------------------------------------------- 1. startup + idle RSS
# Primary (A): probe triggered by the "Listening on" log line, so nothing polls
# the 2 cores while the server initialises; idle RSS is read in every run.
# Cross-checks: plain polling from spawn, every 1 ms (B) and back-to-back (C).
echo
echo "== startup A: $WARMUP warmup + $RUNS runs, probe on 'Listening on' log line, ${IDLE_MS} ms idle each"
wait_quiet
node "$SCRIPT_DIR/ready.mjs" --runs "$RUNS" --warmup "$WARMUP" --port "$PORT" --idle-ms "$IDLE_MS" \
  --trigger log -- "$BIN" run "$CONFIG" >"$WORK/startup-log.json"
check_polluted startup-A
echo "== startup B: $RUNS runs, poll GET /v1/health every 1 ms from spawn"
node "$SCRIPT_DIR/ready.mjs" --runs "$RUNS" --warmup 0 --baseline 0 --port "$PORT" \
  --trigger none --poll-ms 1 -- "$BIN" run "$CONFIG" >"$WORK/startup-poll1.json"
check_polluted startup-B
echo "== startup C: $RUNS runs, poll GET /v1/health back-to-back from spawn"
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
const ms = (v) => v.toFixed(2), mb = (v) => v.toFixed(1);
const a = load('startup-log.json'), b = load('startup-poll1.json'), c = load('startup-poll0.json');
put('READY', a.runs.map((r) => r.ready_ms), ms);
put('LISTEN', a.runs.map((r) => r.listen_ms ?? NaN), ms);
put('RSS', a.runs.map((r) => r.rss_kb / 1024), mb);
put('HWM', a.runs.map((r) => r.hwm_kb / 1024), mb);
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
echo "A idle VmRSS MB: min $RSS_min  median $RSS_med  max $RSS_max"
echo "A idle VmHWM MB: min $HWM_min  median $HWM_med  max $HWM_max"
echo "A SIGTERM -> exit ms: median $EXIT_med  max $EXIT_max  (non-zero exits in A/B/C: $BAD_EXITS)"
echo "B time-to-ready ms (1 ms poll): min $POLL1_min  median $POLL1_med  p90 $POLL1_p90  max $POLL1_max"
echo "C time-to-ready ms (tight poll, median interval $PROBE0_med ms): min $POLL0_min  median $POLL0_med  p90 $POLL0_p90  max $POLL0_max"
echo "reference: spawn -> exit of '--version': min $BASE_min  median $BASE_med ms"

# ---------------------------------------------------------------- 2. throughput
start_server() {   # $1 = LLAMA_STACK_LOGGING value ("" = default), $2 = stderr target
  if [[ -n "$1" ]]; then
    LLAMA_STACK_LOGGING="$1" "$BIN" run "$CONFIG" >/dev/null 2>"$2" &
  else
    "$BIN" run "$CONFIG" >/dev/null 2>"$2" &
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
  wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency "http://127.0.0.1:$PORT$2" >"$out"
  sed 's/^/   /' "$out"
  WRK_RESULT[$1]="$(parse_wrk "$out")"
}

echo
echo "== throughput, access log off (LLAMA_STACK_LOGGING=server=warning)"
wait_quiet
start_server "server=warning" "$WORK/server-quiet.log"
wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d2s "http://127.0.0.1:$PORT/v1/health" >/dev/null   # warm-up
run_wrk health-quiet /v1/health
run_wrk models-quiet /v1/models
stop_server
check_polluted throughput-quiet

echo
echo "== throughput, default logging (INFO access log per request, stderr -> /dev/null)"
wait_quiet
start_server "" /dev/null
wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d2s "http://127.0.0.1:$PORT/v1/health" >/dev/null   # warm-up
run_wrk health-log /v1/health
run_wrk models-log /v1/models
stop_server
check_polluted throughput-log

if [[ -n "${OUT_DIR:-}" ]]; then
  mkdir -p "$OUT_DIR"
  cp "$WORK"/startup-*.json "$WORK"/wrk-*.txt "$CONFIG" "$OUT_DIR"/
fi

# ---------------------------------------------------------------- summary
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v <= t) print "met"; else printf "NOT met (+%.1f%%)\n", (v / t - 1) * 100 }'; }
echo
echo "================================ summary ================================"
echo "machine: $(nproc) cores $CPU_MODEL, ${MEM_TOTAL_MB} MB; commit $COMMIT$DIRTY; $(date -u '+%Y-%m-%d')"
printf '%-40s %8s %8s %8s %8s  %s\n' "startup ($RUNS runs each)" min median p90 max "target"
printf '%-40s %8s %8s %8s %8s  %s\n' "A time-to-ready, log-triggered (ms)" "$READY_min" "$READY_med" "$READY_p90" "$READY_max" \
  "<= 20 ms: median $(verdict "$READY_med" 20), p90 $(verdict "$READY_p90" 20)"
printf '%-40s %8s %8s %8s %8s\n' "  spawn -> 'Listening on' line (ms)" "$LISTEN_min" "$LISTEN_med" "$LISTEN_p90" "$LISTEN_max"
printf '%-40s %8s %8s %8s %8s\n' "B time-to-ready, 1 ms poll (ms)" "$POLL1_min" "$POLL1_med" "$POLL1_p90" "$POLL1_max"
printf '%-40s %8s %8s %8s %8s\n' "C time-to-ready, tight poll (ms)" "$POLL0_min" "$POLL0_med" "$POLL0_p90" "$POLL0_max"
printf '%-40s %8s %8s %8s %8s\n' "  ref: '--version' spawn -> exit (ms)" "$BASE_min" "$BASE_med" "$BASE_p90" "$BASE_max"
printf '%-40s %8s %8s %8s %8s  %s\n' "idle VmRSS after ${IDLE_MS} ms (MB)" "$RSS_min" "$RSS_med" "$RSS_p90" "$RSS_max" \
  "<= 15 MB: max $(verdict "$RSS_max" 15)"
printf '%-40s %8s %8s %8s %8s\n' "idle VmHWM (MB)" "$HWM_min" "$HWM_med" "$HWM_p90" "$HWM_max"
echo
printf '%-28s %10s %8s %8s %8s %8s %8s %6s\n' "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION" "req/s" "avg ms" "p50" "p75" "p90" "p99" "errors"
for label in health-quiet models-quiet health-log models-log; do
  read -r rps avg p50 p75 p90 p99 err <<<"${WRK_RESULT[$label]}"
  case "$label" in
    health-quiet) name="/v1/health  (access log off)" ;;
    models-quiet) name="/v1/models  (access log off)" ;;
    health-log)   name="/v1/health  (access log on)" ;;
    models-log)   name="/v1/models  (access log on)" ;;
  esac
  printf '%-28s %10s %8s %8s %8s %8s %8s %6s\n' "$name" "$rps" "$avg" "$p50" "$p75" "$p90" "$p99" "$err"
done
echo "note: wrk and the server share the same $(nproc) cores."
if [[ "$(stat -c '%Y %s %i' "$BIN" 2>/dev/null)" != "$BIN_STAMP" ]]; then
  echo "WARNING: $BIN was replaced while the benchmark ran -- phases may have measured different builds"
fi
if ((${#POLLUTED[@]})); then
  echo "WARNING: build processes were running during: ${POLLUTED[*]} -- numbers may be polluted"
fi
