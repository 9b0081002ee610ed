#!/usr/bin/env bash
# Soak: SOAK_SECONDS (600) of mixed traffic (bench/soak.mjs: chat streamed and
# not, embeddings, model listing, clients that abandon streams and clients
# that read slowly) from SOAK_WORKERS (48) concurrent clients with 200 users'
# JWTs, against the whole security chain (JWT + scope + tiered rate limit +
# quota + audit log) with limits the users reach, in front of the fake model
# server. Samples the server's RSS, open fds and threads every 10 s, then
# reports: unexpected errors (target 0), RSS growth over the second half
# (target < 5 %), fd and thread counts (target: flat).
#
#   bench/soak.sh [LLAMA_STACK] [FAKE_MODEL_SERVER]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
SECONDS_TOTAL="${SOAK_SECONDS:-600}"
WORKERS="${SOAK_WORKERS:-48}"
USERS=200
work="$(mktemp -d /tmp/llama-stack-soak.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
. "$root/bench/lib.sh"

start_fake "$FAKE"
start_idp "$USERS" "model_soak basic_access"

# Limits the users reach: each of the 200 users sends about 1/200 of the
# traffic (3–5 requests per second each on this machine): 200 requests per
# minute each is near that, and a quota of 2500 per day is reached by the
# busier users in the second half, so both refusal paths are exercised.
cat > "$work/run.yaml" <<YAML
version: 2
image_name: soak
apis: [inference]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$FAKE_PORT/v1"}}
metadata_store: {type: sqlite, db_path: "$work/registry.db"}
inference_store: {type: sqlite, db_path: "$work/inference_store.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
- {model_id: all-minilm, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 384}}
server:
  auth:
    provider_type: oauth2_token
    config: {jwks: {uri: "$JWKS"}, issuer: "$ISSUER"}
  quota:
    kvstore: {type: sqlite, db_path: "$work/quota.db"}
    anonymous_max_requests: 0
    authenticated_max_requests: 2500
    period: day
  oauth:
    enforce_model_permissions: true
    model_scope_overrides: {llama3.2:3b: model_soak, all-minilm: model_soak}
    enable_rate_limiting: true
    rate_limit_tiers: {basic: {requests_per_minute: 200, tokens_per_minute: 1000000}}
    rate_limit_store: {type: sqlite, db_path: "$work/rate.db"}
    enable_audit_logging: true
    audit_log: {sink: file, path: "$work/audit.jsonl", max_bytes: 67108864, max_files: 2}
YAML

port="$(free_port)"
LLAMA_STACK_LOGGING="server=warning;auth=warning;quota=warning" "$LS" run "$work/run.yaml" --port "$port" > "$work/ls.log" 2>&1 &
pid=$!
pids+=($pid)
wait_http "http://127.0.0.1:$port/v1/health"

sample() {  # elapsed_s rss_kb fds threads
  local rss threads fds
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  echo "$1 $rss $fds $threads"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD)"
echo "soak: ${SECONDS_TOTAL} s, ${WORKERS} clients, ${USERS} users"
sample 0 > "$work/samples.txt"
node "$root/bench/soak.mjs" "http://127.0.0.1:$port" "$work/tokens.txt" "$SECONDS_TOTAL" "$WORKERS" > "$work/driver.json" &
driver=$!
pids+=($driver)
start=$(date +%s)
while kill -0 "$driver" 2>/dev/null; do
  sleep 10
  kill -0 "$pid" 2>/dev/null || { echo "llama-stack exited during the soak:"; tail -20 "$work/ls.log"; exit 1; }
  sample $(( $(date +%s) - start )) >> "$work/samples.txt"
done
wait "$driver"
sleep 2
sample $(( $(date +%s) - start )) >> "$work/samples.txt"

echo "samples (elapsed_s rss_kb fds threads):"
awk 'NR == 1 || NR % 6 == 1 {print "  " $0} END {print "  " $0}' "$work/samples.txt" | uniq
cat "$work/driver.json"
awk -v half=$((SECONDS_TOTAL / 2)) -v total="$SECONDS_TOTAL" '
  $1 >= half && mid == "" {mid = $2}
  $1 <= total {last = $2}
  {if (minfd == "" || $3 < minfd) minfd = $3; if ($3 > maxfd) maxfd = $3;
   if (minth == "" || $4 < minth) minth = $4; if ($4 > maxth) maxth = $4}
  END {printf "rss: %d kB at the half, %d kB at the end: %+.1f %% over the second half\n", mid, last, (last - mid) * 100 / mid;
       printf "fds: %d..%d, threads: %d..%d\n", minfd, maxfd, minth, maxth}' "$work/samples.txt"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`requests ${r.requests}, ok ${r.ok}, quota 429 ${r.quota_429}, rate-limit 429 ${r.rate_429}, abandoned streams ${r.abandoned}, slow streams ${r.slow}, unexpected ${r.unexpected}`); process.exit(r.unexpected === 0 ? 0 : 1)' "$work/driver.json"
