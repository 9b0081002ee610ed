# Shared by the bench scripts (sourced): ports, readiness, the fake model server.
# Expects `work` (a scratch folder) and the `pids` array to exist.

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }

# start_fake BINARY: starts tests/support/fake_model_server on a free port; sets FAKE_PORT.
start_fake() {
  "$1" --port 0 > "$work/fake.out" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "listening on" "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
  FAKE_PORT="$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/fake.out")"
}

# start_idp COUNT SCOPE: bench/idp.mjs (a JWKS server) with COUNT users' tokens for
# audience llama-stack in $work/tokens.txt; sets JWKS and ISSUER.
start_idp() {
  node "$root/bench/idp.mjs" "$work/tokens.txt" "$1" llama-stack "$2" > "$work/idp.out" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "jwks" "$work/idp.out" 2>/dev/null && break; sleep 0.05; done
  JWKS="$(awk '{print $2}' "$work/idp.out")"
  ISSUER="$(awk '{print $4}' "$work/idp.out")"
}

# write_tokens_lua: $work/tokens.lua, a wrk script sending BENCH_METHOD BENCH_PATH
# (body BENCH_BODY) with a bearer token from BENCH_TOKENS when BENCH_AUTH=1 —
# the first one when BENCH_SINGLE=1, else the next one each request.
write_tokens_lua() {
cat > "$work/tokens.lua" <<'LUA'
local tokens = {}
local path, method, body, single = os.getenv("BENCH_PATH"), os.getenv("BENCH_METHOD"), os.getenv("BENCH_BODY"), os.getenv("BENCH_SINGLE") == "1"
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i + 1
  local headers = { ["Content-Type"] = "application/json" }
  if #tokens > 0 and os.getenv("BENCH_AUTH") == "1" then
    headers["Authorization"] = "Bearer " .. tokens[single and 1 or (i % #tokens) + 1]
  end
  return wrk.format(method, path, headers, body ~= "" and body or nil)
end
LUA
}

# run_wrk PORT PATH METHOD BODY AUTH SINGLE [THREADS CONNECTIONS OUT] → "rps p50_ms p99_ms"
run_wrk() {
  BENCH_TOKENS="$work/tokens.txt" BENCH_PATH="$2" BENCH_METHOD="$3" BENCH_BODY="$4" BENCH_AUTH="$5" BENCH_SINGLE="$6" \
    wrk -t"${7:-2}" -c"${8:-$CONNECTIONS}" -d"$DURATION" --latency -s "$work/tokens.lua" "http://127.0.0.1:$1" > "${9:-$work/wrk.txt}" 2>&1
  local out="${9:-$work/wrk.txt}"
  grep -q "Non-2xx" "$out" && { echo "warning: non-2xx:" >&2; grep Non-2xx "$out" >&2; }
  local to_ms='function ms(v){ if (v ~ /us$/) { sub(/us/,"",v); return v/1000 } if (v ~ /ms$/) { sub(/ms/,"",v); return v+0 } sub(/s$/,"",v); return v*1000 }'
  awk "$to_ms"' /Requests\/sec/ {r=$2} $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)} END {printf "%s %.3f %.3f\n", r, p50, p99}' "$out"
}

