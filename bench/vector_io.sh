#!/usr/bin/env bash
# Vector IO: insert throughput and query latency through the server for
# inline::faiss (flat, HNSW) and inline::sqlite-vec at SIZES [10000 100000]
# 384-dim vectors, against the same search done by libfaiss directly
# (build/release/bench/faiss-raw).
#
#   bench/vector_io.sh [LLAMA_STACK] [FAKE_MODEL_SERVER] [FAISS_RAW]
# Knobs: SIZES, QUERIES [200], PROVIDERS [faiss faiss-hnsw sqlite-vec], RAW_RUNS [1].
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS="${1:-$root/build/release/llama-stack}"
FAKE="${2:-$root/build/release/tests/fake-model-server}"
RAW="${3:-$root/build/release/bench/faiss-raw}"
SIZES="${SIZES:-10000 100000}"
QUERIES="${QUERIES:-200}"
PROVIDERS="${PROVIDERS:-faiss faiss-hnsw sqlite-vec}"
RAW_RUNS="${RAW_RUNS:-1}"  # 0: skip the libfaiss-direct runs

work="$(mktemp -d /tmp/llama-stack-vector-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"
start_fake "$FAKE"

# Only the provider under test: a server that also loaded the others' stores
# would rebuild their indexes at startup (100k HNSW: minutes).
provider_entry() {
  case "$1" in
    faiss) echo "  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: \"$work/$2-faiss.db\"}}}" ;;
    faiss-hnsw) echo "  - {provider_id: faiss-hnsw, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: \"$work/$2-hnsw.db\"}, index: hnsw}}" ;;
    sqlite-vec) echo "  - {provider_id: sqlite-vec, provider_type: inline::sqlite-vec, config: {db_path: \"$work/$2-sqlite-vec.db\"}}" ;;
  esac
}

echo "# $(nproc) cores, $(date -u '+%F %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD)"
for size in $SIZES; do
  if [[ "$RAW_RUNS" == 1 ]]; then
    for index in flat hnsw; do "$RAW" "$size" 384 "$QUERIES" 3 "$index"; done
  fi
  for provider in $PROVIDERS; do
    port="$(free_port)"
    cat > "$work/run.yaml" <<YAML
version: 2
image_name: vector-bench
apis: [inference, vector_io]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:$FAKE_PORT/v1"}}
  vector_io:
$(provider_entry "$provider" "$size")
metadata_store: {type: sqlite, db_path: "$work/$size-$provider-registry.db"}
models:
- {model_id: bow-embed-384, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 384}}
server: {max_request_body_bytes: 67108864}
YAML
    LLAMA_STACK_LOGGING="server=warning" "$LS" run "$work/run.yaml" --port "$port" > "$work/ls.log" 2>&1 &
    pid=$!
    pids+=($pid)
    wait_http "http://127.0.0.1:$port/v1/health"
    node "$root/bench/vector_io.mjs" "http://127.0.0.1:$port" "$provider" "$size" "$QUERIES" "$pid" "http://127.0.0.1:$FAKE_PORT"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
