#!/usr/bin/env bash
# The cost of telemetry on the proxy path: llama-stack in front of the fake
# model server (remote::vllm) with all telemetry off (no telemetry provider,
# server.metrics.enabled: false) against
#   export  — /metrics on (scraped every second) and the otel_trace and
#             otel_metric sinks exporting to a local OTLP endpoint (nginx
#             answering 200);
#   full    — the same plus the sqlite sink (every span a row);
#   sampled — full with OTEL_TRACES_SAMPLER=traceidratio at 0.1.
# Runs alternate (off, export, full, sampled, off, ...) to spread machine
# noise; reports the median req/s of each and the ratios, then the heap
# allocations per request off and full (heaptrack, when installed).
#
#   bench/telemetry.sh [LLAMA_STACK] [FAKE_MODEL_SERVER]
#
# Knobs: DURATION [10s], CONNECTIONS [64], ROUNDS [3], STREAM [false], ALLOC_N [2000].
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
ROUNDS="${ROUNDS:-3}"
STREAM="${STREAM:-false}"
ALLOC_N="${ALLOC_N:-2000}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

work="$(mktemp -d /tmp/llama-stack-telemetry-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"

start_fake "$FAKE"

OTLP_PORT="$(free_port)"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$OTLP_PORT; location / { return 200; } } }
NGINX
"$NGINX" -c "$work/nginx.conf" -p "$work" 2>/dev/null

config() {  # $1 off|export|full|sampled
  local telemetry_api="" telemetry_provider="" metrics="  metrics: {enabled: false}"
  local sinks="sqlite, otel_trace, otel_metric"
  [[ $1 == export ]] && sinks="otel_trace, otel_metric"
  if [[ $1 != off ]]; then
    telemetry_api=", telemetry"
    telemetry_provider="  telemetry:
  - provider_id: meta-reference
    provider_type: inline::meta-reference
    config:
      sinks: [$sinks]
      sqlite_db_path: $work/traces-\$RANDOM.db
      otel_trace_endpoint: http://127.0.0.1:$OTLP_PORT/v1/traces
      otel_metric_endpoint: http://127.0.0.1:$OTLP_PORT/v1/metrics"
    metrics="  metrics: {enabled: true}"
  fi
  cat <<YAML
version: 2
image_name: telemetry-bench
apis: [inference$telemetry_api]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$FAKE_PORT/v1", max_tokens: 64}}
$telemetry_provider
metadata_store: {type: sqlite, db_path: "$work/registry-$1.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
server:
$metrics
YAML
}

cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"llama3.2:3b","stream":$STREAM,"messages":[{"role":"user","content":"hi there"}]}'
LUA

start_ls() {  # $1 off|export|full|sampled [$2 wrapper...]: sets LS_PORT and LS_PID
  local mode="$1"; shift
  config "$mode" > "$work/run-$mode.yaml"
  LS_PORT="$(free_port)"
  local sampler=always_on
  [[ $mode == sampled ]] && sampler=traceidratio
  OTEL_TRACES_SAMPLER=$sampler OTEL_TRACES_SAMPLER_ARG=0.1 \
    OTEL_METRIC_EXPORT_INTERVAL=1000 LLAMA_STACK_LOGGING="server=warning,core=warning" \
    "$@" "$LS" run "$work/run-$mode.yaml" --port "$LS_PORT" > "$work/ls-$mode.log" 2>&1 &
  LS_PID=$!
  pids+=("$LS_PID")
  wait_http "http://127.0.0.1:$LS_PORT/v1/health"
}

rps_of() {  # mode
  start_ls "$1"
  local scraper=""
  if [[ $1 != off ]]; then
    (while sleep 1; do curl -s -o /dev/null "http://127.0.0.1:$LS_PORT/metrics"; done) &
    scraper=$!
  fi
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$work/post.lua" "http://127.0.0.1:$LS_PORT/v1/chat/completions" > "$work/wrk.txt" 2>&1
  [[ -n $scraper ]] && kill "$scraper" 2>/dev/null || true
  if [[ $1 != off ]]; then  # spans the server could not keep up with (stderr)
    local dropped
    dropped="$(curl -s "http://127.0.0.1:$LS_PORT/metrics" | awk '/^llama_stack_telemetry_spans_dropped_total/ {s += $2} END {print s + 0}')"
    echo "$1: $dropped span(s) dropped" >&2
  fi
  if grep -q "Non-2xx" "$work/wrk.txt"; then echo "warning: non-2xx responses ($1)" >&2; fi
  kill "$LS_PID"; wait "$LS_PID" 2>/dev/null || true
  awk '/Requests\/sec/ {print $2}' "$work/wrk.txt"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD)"
declare -A runs
modes=(off export full sampled)
for _ in $(seq 1 "$ROUNDS"); do
  for mode in "${modes[@]}"; do runs[$mode]+="$(rps_of "$mode") "; done
done
declare -A med
for mode in "${modes[@]}"; do
  med[$mode]="$(tr ' ' '\n' <<< "${runs[$mode]}" | grep . | median)"
  echo "stream=$STREAM c$CONNECTIONS $mode: req/s ${runs[$mode]}(median ${med[$mode]})"
done
for mode in export full sampled; do
  awk -v m="$mode" -v a="${med[$mode]}" -v b="${med[off]}" 'BEGIN { printf "%s / off = %.3f\n", m, a / b }'
done

# Heap allocations per request: two heaptrack runs of different lengths at
# one connection; the difference cancels startup and shutdown.
alloc_run() {  # mode seconds → "calls requests"
  start_ls "$1" heaptrack -o "$work/heap-$1-$2"
  wrk -t1 -c1 -d"$2"s -s "$work/post.lua" "http://127.0.0.1:$LS_PORT/v1/chat/completions" > "$work/wrk-alloc.txt" 2>&1
  local requests
  requests="$(awk '/requests in/ {print $1}' "$work/wrk-alloc.txt")"
  kill "$LS_PID"; wait "$LS_PID" 2>/dev/null || true
  local file
  file="$(ls "$work"/heap-"$1-$2"* | head -1)"
  echo "$(heaptrack_print "$file" 2>/dev/null | awk '/^calls to allocation functions:/ {print $5}') $requests"
}
if command -v heaptrack >/dev/null 2>&1; then
  for mode in off full; do
    read -r c1 r1 <<< "$(alloc_run "$mode" 2)"
    read -r c2 r2 <<< "$(alloc_run "$mode" 6)"
    awk -v m="$mode" -v c1="$c1" -v c2="$c2" -v r1="$r1" -v r2="$r2" \
      'BEGIN { if (r2 > r1) printf "heap allocations per request (%s): %.1f\n", m, (c2 - c1) / (r2 - r1) }'
  done
fi
