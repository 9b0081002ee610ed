#!/usr/bin/env bash
# llama-stack as a proxy in front of a model server, against the model server
# directly and nginx (a plain reverse proxy, the floor for any proxy).
#
#   bench/proxy.sh [LLAMA_STACK] [FAKE_MODEL_SERVER]
#
# The model server is tests/support/fake_model_server (OpenAI protocol,
# instant answers), reached by llama-stack through remote::vllm. For each
# target: wrk throughput (64 connections) and latency at one connection,
# non-streaming and streaming; then time to first streamed byte.
# Knobs: DURATION [10s], CONNECTIONS [64], TTFB_N [300]. Needs wrk, nginx, node.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
TTFB_N="${TTFB_N:-300}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

work="$(mktemp -d /tmp/llama-stack-proxy-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

. "$root/bench/lib.sh"

start_fake "$FAKE"

LS_PORT="$(free_port)"
cat > "$work/run.yaml" <<YAML
version: 2
image_name: proxy-bench
apis: [inference]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$FAKE_PORT/v1", max_tokens: 64}}
metadata_store: {type: sqlite, db_path: "$work/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
YAML
LLAMA_STACK_LOGGING="server=warning" "$LS" run "$work/run.yaml" --port "$LS_PORT" > "$work/ls.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$LS_PORT/v1/health"

NGINX_PORT="$(free_port)"
cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream model { server 127.0.0.1:$FAKE_PORT; keepalive 128; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://model;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
"$NGINX" -c "$work/nginx.conf" -p "$work" 2>/dev/null
wait_http "http://127.0.0.1:$NGINX_PORT/v1/models"

mk_lua() {  # $1 stream true|false
  cat > "$work/post-$1.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"llama3.2:3b","stream":$1,"messages":[{"role":"user","content":"hi there"}]}'
LUA
}
mk_lua false
mk_lua true

# wrk → "rps p50_ms p99_ms"
run_wrk() {  # url stream connections threads
  wrk -t"$4" -c"$3" -d"$DURATION" --latency -s "$work/post-$2.lua" "$1" > "$work/wrk.txt" 2>&1
  local rps p50 p99
  rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")"
  p50="$(awk '$1=="50%" {print $2}' "$work/wrk.txt")"
  p99="$(awk '$1=="99%" {print $2}' "$work/wrk.txt")"
  if grep -q "Non-2xx" "$work/wrk.txt"; then echo "warning: non-2xx responses for $1" >&2; grep "Non-2xx" "$work/wrk.txt" >&2; fi
  to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms/,"",v); print v+0 } else { sub(/s$/,"",v); print v*1000 } }'; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

declare -A R
targets=(direct nginx llama-stack)
url_of() { case "$1" in direct) echo "http://127.0.0.1:$FAKE_PORT/v1/chat/completions";; nginx) echo "http://127.0.0.1:$NGINX_PORT/v1/chat/completions";; llama-stack) echo "http://127.0.0.1:$LS_PORT/v1/chat/completions";; esac; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD)"
for stream in false true; do
  for t in "${targets[@]}"; do
    R["$t,$stream,load"]="$(run_wrk "$(url_of "$t")" "$stream" "$CONNECTIONS" 2)"
    R["$t,$stream,one"]="$(run_wrk "$(url_of "$t")" "$stream" 1 1)"
  done
done
for t in "${targets[@]}"; do
  R["$t,ttfb"]="$(node "$root/bench/ttfb.mjs" "$(url_of "$t")" "$TTFB_N")"
done

printf '\n%-12s %-7s %12s %12s %12s %14s %14s\n' target stream "req/s(c$CONNECTIONS)" "p50 ms(c$CONNECTIONS)" "p99 ms(c$CONNECTIONS)" "p50 ms(c1)" "p99 ms(c1)"
for stream in false true; do
  for t in "${targets[@]}"; do
    read -r rps p50 p99 <<< "${R[$t,$stream,load]}"
    read -r _ p50one p99one <<< "${R[$t,$stream,one]}"
    printf '%-12s %-7s %12s %12s %12s %14s %14s\n' "$t" "$stream" "$rps" "$p50" "$p99" "$p50one" "$p99one"
  done
done
echo
for stream in false true; do
  read -r d_rps _ _ <<< "${R[direct,$stream,load]}"
  read -r n_rps _ _ <<< "${R[nginx,$stream,load]}"
  read -r l_rps _ _ <<< "${R[llama-stack,$stream,load]}"
  read -r _ d50 d99 <<< "${R[direct,$stream,one]}"
  read -r _ n50 n99 <<< "${R[nginx,$stream,one]}"
  read -r _ l50 l99 <<< "${R[llama-stack,$stream,one]}"
  awk -v s="$stream" -v d="$d_rps" -v n="$n_rps" -v l="$l_rps" -v d50="$d50" -v d99="$d99" -v n50="$n50" -v n99="$n99" -v l50="$l50" -v l99="$l99" 'BEGIN {
    printf "stream=%s  throughput llama-stack/nginx = %.2f  llama-stack/direct = %.2f  nginx/direct = %.2f\n", s, l/n, l/d, n/d;
    printf "stream=%s  added latency at 1 connection: llama-stack p50 %+.3f ms p99 %+.3f ms; nginx p50 %+.3f ms p99 %+.3f ms\n", s, l50-d50, l99-d99, n50-d50, n99-d99 }'
done
for t in "${targets[@]}"; do echo "ttfb $t: ${R[$t,ttfb]}"; done
