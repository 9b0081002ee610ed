#!/usr/bin/env bash
# The whole security chain (JWT + scope check + tiered rate limit + quota +
# audit log) on a proxied chat completion, with the quota and rate-limit
# stores on SQLite, Redis and PostgreSQL, one replica and two (both on this
# machine, each loaded by its own wrk, sharing the stores). 1,000 distinct
# tokens. PostgreSQL and Redis are Debian's, started by tests/support/dbserver.sh
# (PostgreSQL with fsync=off, Redis with appendfsync always).
#
#   bench/stores.sh [LLAMA_STACK] [FAKE_MODEL_SERVER]
#   Knobs: DURATION [8s], CONNECTIONS [64], REDIS_POOL [8], PG_POOL [4] (pool_size)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
DURATION="${DURATION:-8s}"
CONNECTIONS="${CONNECTIONS:-64}"
work="$(mktemp -d /tmp/llama-stack-stores-bench.XXXXXX)"
chmod 755 "$work"
pids=()
dbserver="$root/tests/support/dbserver.sh"
rpids=()
cleanup() {
  for p in "${pids[@]}" "${rpids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash "$dbserver" postgres stop "$work/pg" 2>/dev/null || true
  bash "$dbserver" redis stop "$work/redis" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"

start_fake "$FAKE"
PG_PORT="$(free_port)"
REDIS_PORT="$(free_port)"
bash "$dbserver" postgres start "$work/pg" "$PG_PORT"
bash "$dbserver" redis start "$work/redis" "$REDIS_PORT" bench-secret

start_idp 1000 "model_bench basic_access"

store() {  # backend name → a kvstore section
  case "$1" in
    sqlite) echo "{type: sqlite, db_path: \"$work/$2.db\"}" ;;
    redis) echo "{type: redis, host: 127.0.0.1, port: $REDIS_PORT, password: bench-secret, namespace: $2, pool_size: ${REDIS_POOL:-8}}" ;;
    postgres) echo "{type: postgres, host: 127.0.0.1, port: $PG_PORT, user: llama, password: secret, table_name: $2, pool_size: ${PG_POOL:-4}}" ;;
  esac
}

write_config() {  # backend run → $work/run-<backend>-<run>.yaml
  cat > "$work/run-$1-$2.yaml" <<YAML
version: 2
image_name: stores-bench
apis: [inference]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$FAKE_PORT/v1", max_tokens: 64}}
metadata_store: {type: sqlite, db_path: "$work/registry-$1-$2-\${env.REPLICA}.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
server:
  auth:
    provider_type: oauth2_token
    config: {jwks: {uri: "$JWKS"}, issuer: "$ISSUER"}
  quota:
    kvstore: $(store "$1" "quota_$2")
    anonymous_max_requests: 1000000000
    authenticated_max_requests: 1000000000
  oauth:
    enforce_model_permissions: true
    model_scope_overrides: {llama3.2:3b: model_bench}
    enable_rate_limiting: true
    rate_limit_tiers: {basic: {requests_per_minute: 100000000, tokens_per_minute: 100000000000}}
    rate_limit_store: $(store "$1" "rate_$2")
    enable_audit_logging: true
    audit_log: {sink: file, path: "$work/audit-\${env.REPLICA}.jsonl", max_bytes: 104857600, max_files: 2}
YAML
}

write_tokens_lua
CHAT='{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi there"}]}'
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD)"
printf '%-9s %-9s %12s %9s %9s\n' store replicas req/s p50_ms p99_ms
run=0
for backend in sqlite redis postgres; do
  for replicas in 1 2; do
    run=$((run + 1))
    write_config "$backend" "$run"
    ports=()
    rpids=()
    for r in $(seq 1 "$replicas"); do
      port="$(free_port)"
      REPLICA="$r" LLAMA_STACK_LOGGING="server=warning;auth=warning;quota=warning;core=warning" \
        "$LS" run "$work/run-$backend-$run.yaml" --port "$port" > "$work/ls-$run-$r.log" 2>&1 &
      rpids+=($!)
      wait_http "http://127.0.0.1:$port/v1/health"
      ports+=("$port")
    done
    if ((replicas == 1)); then
      read -r rps p50 p99 <<< "$(run_wrk "${ports[0]}" /v1/chat/completions POST "$CHAT" 1 0)"
    else
      # One wrk per replica, half the connections each; throughput adds up,
      # latencies are the worse of the two.
      half=$((CONNECTIONS / 2))
      run_wrk "${ports[0]}" /v1/chat/completions POST "$CHAT" 1 0 1 "$half" "$work/wrk-a.txt" > "$work/a.res" &
      wa=$!
      run_wrk "${ports[1]}" /v1/chat/completions POST "$CHAT" 1 0 1 "$half" "$work/wrk-b.txt" > "$work/b.res"
      wait "$wa"
      read -r rps p50 p99 <<< "$(cat "$work/a.res" "$work/b.res" |
        awk '{r+=$1; if ($2>p50) p50=$2; if ($3>p99) p99=$3} END {printf "%.2f %.3f %.3f\n", r, p50, p99}')"
    fi
    printf '%-9s %-9s %12s %9s %9s\n' "$backend" "$replicas" "$rps" "$p50" "$p99"
    kill "${rpids[@]}" 2>/dev/null || true
    for p in "${rpids[@]}"; do wait "$p" 2>/dev/null || true; done
  done
done
