#!/usr/bin/env bash
# Content-safety enforcement (server.oauth.enforce_content_safety) on the
# streamed path: time to the first content token and the cost of output
# window checks, against enforcement off.
#
#   bench/safety.sh [LLAMA_STACK] [FAKE_MODEL_SERVER]
#
# Two fake model servers: the guard (Llama Guard verdicts) answers after
# GUARD_MS [50], the chat model's first token comes after MODEL_MS [100].
# Modes: off; input (the input check only: check_output false); windows (input
# and output, judged in windows of 200 characters). Short prompt: TTFT over N
# [30] requests; long: a 500-token stream with TOKEN_MS [2] between tokens,
# over LONG_N [10] requests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
GUARD_MS="${GUARD_MS:-50}"
MODEL_MS="${MODEL_MS:-100}"
TOKEN_MS="${TOKEN_MS:-2}"
N="${N:-30}"
LONG_N="${LONG_N:-10}"

work="$(mktemp -d /tmp/llama-stack-safety-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"

start_named_fake() {  # NAME → sets <NAME>_PORT
  "$FAKE" --port 0 > "$work/$1.out" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "listening on" "$work/$1.out" 2>/dev/null && break; sleep 0.05; done
  printf -v "$2" '%s' "$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/$1.out")"
}
start_named_fake guard GUARD_PORT
start_named_fake model MODEL_PORT
curl -s -o /dev/null -X POST "http://127.0.0.1:$GUARD_PORT/control" -d "{\"latency_ms\": $GUARD_MS}"
curl -s -o /dev/null -X POST "http://127.0.0.1:$MODEL_PORT/control" -d "{\"latency_ms\": $MODEL_MS, \"token_delay_ms\": $TOKEN_MS}"

start_stack() {  # MODE → prints the port
  local mode="$1" port oauth=""
  port="$(free_port)"
  case "$mode" in
    input) oauth="  oauth:
    enforce_content_safety: true
    default_safety_level: user
    safety_levels: {user: {max_violence_score: 0.5, check_output: false}}" ;;
    windows) oauth="  oauth:
    enforce_content_safety: true
    default_safety_level: user
    safety_levels: {user: {max_violence_score: 0.5}}" ;;
  esac
  cat > "$work/$mode.yaml" <<YAML
version: 2
image_name: safety-bench-$mode
apis: [inference, safety]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$MODEL_PORT/v1"}}
  - {provider_id: guard, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$GUARD_PORT/v1"}}
  safety:
  - {provider_id: llama-guard, provider_type: inline::llama-guard, config: {logprobs: false}}
metadata_store: {type: sqlite, db_path: "$work/$mode-registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
- {model_id: guard-model, provider_id: guard, provider_model_id: llama3.2:3b}
shields:
- {shield_id: llama-guard, provider_id: llama-guard, provider_shield_id: guard-model}
server:
$oauth
YAML
  LLAMA_STACK_LOGGING="server=warning" "$LS" run "$work/$mode.yaml" --port "$port" > "$work/$mode.log" 2>&1 &
  echo $! > "$work/$mode.pid"  # this runs in $(…): the caller adds the pid to `pids`
  wait_http "http://127.0.0.1:$port/v1/health"
  echo "$port"
}

echo "guard ${GUARD_MS} ms, first token ${MODEL_MS} ms, ${TOKEN_MS} ms/token; $(nproc) cores, $(date -u +%F)"
printf '%-8s %-46s %s\n' mode "short prompt (TTFT, N=$N)" "500-token stream (N=$LONG_N)"
for mode in off input windows; do
  port="$(start_stack "$mode")"
  pids+=("$(cat "$work/$mode.pid")")
  url="http://127.0.0.1:$port/v1/chat/completions"
  short="$(node "$root/bench/safety_stream.mjs" "$url" "$N" 3)"
  long="$(node "$root/bench/safety_stream.mjs" "$url" "$LONG_N" 495)"
  printf '%-8s %-46s %s\n' "$mode" "$short" "$long"
done
