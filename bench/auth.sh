#!/usr/bin/env bash
# The cost of the security chain: /v1/models and a proxied chat completion with
# (a) auth off, (b) JWT auth + quota, (c) the whole chain: JWT + scope check +
# tiered rate limit + quota + audit log — each with one token repeated and with
# 1,000 distinct tokens (every token verified once, then served from the cache).
#
#   bench/auth.sh [LLAMA_STACK] [FAKE_MODEL_SERVER]     Knobs: DURATION [10s], CONNECTIONS [64]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
work="$(mktemp -d /tmp/llama-stack-auth-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
. "$root/bench/lib.sh"

start_fake "$FAKE"

start_idp 1000 "model_bench basic_access"

write_config() {  # $1 mode: off | jwt | chain
  local server=""
  if [[ "$1" != off ]]; then
    server="server:
  auth:
    provider_type: oauth2_token
    config: {jwks: {uri: \"$JWKS\"}, issuer: \"$ISSUER\"}
  quota:
    kvstore: {type: sqlite, db_path: \"$work/quota-$1.db\"}
    anonymous_max_requests: 1000000000
    authenticated_max_requests: 1000000000"
  fi
  if [[ "$1" == chain ]]; then
    server+="
  oauth:
    enforce_model_permissions: true
    model_scope_overrides: {llama3.2:3b: model_bench}
    enable_rate_limiting: true
    rate_limit_tiers: {basic: {requests_per_minute: 100000000, tokens_per_minute: 100000000000}}
    rate_limit_store: {type: sqlite, db_path: \"$work/rate.db\"}
    enable_audit_logging: true
    audit_log: {sink: file, path: \"$work/audit.jsonl\", max_bytes: 104857600, max_files: 2}"
  fi
  cat > "$work/run-$1.yaml" <<YAML
version: 2
image_name: auth-bench-$1
apis: [inference]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$FAKE_PORT/v1", max_tokens: 64}}
metadata_store: {type: sqlite, db_path: "$work/registry-$1.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
$server
YAML
}

write_tokens_lua

CHAT='{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi there"}]}'
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD)"
printf '%-6s %-16s %-9s %12s %9s %9s\n' mode route tokens req/s p50_ms p99_ms
for mode in off jwt chain; do
  write_config "$mode"
  port="$(free_port)"
  LLAMA_STACK_LOGGING="server=warning;auth=warning;quota=warning" "$LS" run "$work/run-$mode.yaml" --port "$port" > "$work/ls-$mode.log" 2>&1 &
  pid=$!
  wait_http "http://127.0.0.1:$port/v1/health"
  auth=1; [[ "$mode" == off ]] && auth=0
  for route in models chat; do
    for tokens in same distinct; do
      [[ "$mode" == off && "$tokens" == distinct ]] && continue
      single=1; [[ "$tokens" == distinct ]] && single=0
      if [[ "$route" == models ]]; then r="$(run_wrk "$port" /v1/models GET "" "$auth" "$single")";
      else r="$(run_wrk "$port" /v1/chat/completions POST "$CHAT" "$auth" "$single")"; fi
      read -r rps p50 p99 <<< "$r"
      printf '%-6s %-16s %-9s %12s %9s %9s\n' "$mode" "$route" "$tokens" "$rps" "$p50" "$p99"
    done
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
