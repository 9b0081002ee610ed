#!/usr/bin/env bash
# Agent turns (inline::meta-reference): the loop's overhead per step against
# the same chat completion through the server (model answering at once), and
# C [200] concurrent streamed turns against a model answering in LATENCY
# [200] ms — errors, p50/p99, and the server's CPU time and peak RSS.
#
#   bench/agents.sh [LLAMA_STACK] [FAKE_MODEL_SERVER]
# Knobs: N [200], C [200], LATENCY [200].
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
N="${N:-200}"
C="${C:-200}"
LATENCY="${LATENCY:-200}"

work="$(mktemp -d /tmp/llama-stack-agents-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"
start_fake "$FAKE"

port="$(free_port)"
cat > "$work/run.yaml" <<YAML
version: 2
image_name: agents-bench
apis: [inference, agents]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$FAKE_PORT/v1"}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "$work/agents.db"}}}
metadata_store: {type: sqlite, db_path: "$work/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
YAML
echo "# $(nproc) cores, $(date -u '+%F %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD)"
LLAMA_STACK_LOGGING="server=warning" "$LS" run "$work/run.yaml" --port "$port" > "$work/ls.log" 2>&1 &
pid=$!
pids+=($pid)
wait_http "http://127.0.0.1:$port/v1/health"
node "$root/bench/agents.mjs" "http://127.0.0.1:$port" "http://127.0.0.1:$FAKE_PORT" "$N" "$C" "$LATENCY"
ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
echo "{\"server_cpu_s\": $(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc), \"server_peak_rss_mb\": $(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")}"
