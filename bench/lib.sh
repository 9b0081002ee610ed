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
