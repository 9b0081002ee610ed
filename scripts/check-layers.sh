#!/usr/bin/env bash
# Layer and coroutine rules that the compiler does not check (run by scripts/test.sh):
#  1. Asio and Beast are included only by the transport (src/core/server/transport/).
#  2. The async layer (include/llama_stack/async/) and the public headers include
#     nothing from src/ and no Asio: routers and providers can use them freely.
#  3. Core code below the server (async, util, config, storage, auth, security,
#     registry, routing, inference, log) does not include server routes or the
#     Stack.
#  4. The Stack (the composition root) includes no server header: routes are
#     built from Services (src/core/services/).
#  5. No co_await inside the conditional operator: GCC 12 miscompiles it.
#  6. Outside the transport (whose Asio awaitables are Asio's business), co_await
#     only a named Task or awaiter (`co_await std::move(task)`,
#     `co_await operation`): GCC 12 destroys temporaries of a co_await
#     full-expression twice (argument objects such as a std::function built
#     from a lambda, default arguments), which corrupts the heap.
# Exits 1 and names every offending line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0
fail() {
  echo "check-layers: $1" >&2
  status=1
}

while IFS= read -r line; do
  fail "Asio/Beast outside the transport: $line"
done < <(grep -rnE '#include <boost/(asio|beast)' src include tests |
  grep -v '^src/core/server/transport/' || true)

while IFS= read -r line; do
  fail "public header includes src/ or the transport: $line"
done < <(grep -rnE '#include "core/|#include <boost/(asio|beast)' include || true)

lower='src/core/(async|util|config|storage|auth|security|registry|routing|inference|log)/'
while IFS= read -r line; do
  fail "lower layer includes the server routes or the Stack: $line"
done < <(grep -rnE '#include "core/(server/routes/|stack\.h)' src/core | grep -E "^${lower}" || true)

while IFS= read -r line; do
  fail "the Stack includes a server header: $line"
done < <(grep -nE '#include "core/server/' src/core/stack.h src/core/stack.cc src/core/services/* || true)

while IFS= read -r line; do
  fail "co_await inside ?: (GCC 12 miscompiles it; use if/else): $line"
done < <(grep -rnE '\?[^:;]*co_await|\?.*:[[:space:]]*co_await' src include tests --include='*.h' --include='*.cc' |
  grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)

while IFS= read -r line; do
  fail "co_await of a call expression (make the Task a named local first): $line"
done < <(grep -rnE 'co_await' src include --include='*.h' --include='*.cc' |
  grep -v '^src/core/server/transport/' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' |
  grep -vE 'co_await (std::move\([A-Za-z_][A-Za-z0-9_]*\)|[A-Za-z_][A-Za-z0-9_]*)[[:space:]]*[;)]' || true)

if ((status == 0)); then echo "check-layers: ok"; fi
exit "$status"
