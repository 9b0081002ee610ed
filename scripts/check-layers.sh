#!/usr/bin/env bash
# Layer and coroutine rules that the compiler does not check (run by scripts/test.sh):
#  1. Asio and Beast are included only by the transport (src/core/server/transport/).
#  2. The async layer (include/llama_stack/async/) and the public headers include
#     nothing from src/ and no Asio: routers and providers can use them freely.
#  3. Layers: base → net → core → providers → server → transport → app (the
#     CMake libraries); no file includes a higher layer.
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

# Layers, lowest first (the CMake libraries of the same names; see
# docs/architecture.md): base → net → core → providers → server → transport → app.
# A file may include its own layer and lower ones only.
check_layer() {  # name, file regex, forbidden include regex
  while IFS= read -r line; do
    fail "$1 includes a higher layer: $line"
  done < <(grep -rnE '#include "' src | grep -E "^($2)" | grep -E "#include \"($3)" || true)
}
net_files='src/core/http/|src/core/runtime/|src/core/server/transport/(asio_impl|io_runtime|http_client)\.cc|src/core/server/transport/(asio_access|watchdog)\.h'
check_layer base 'src/core/(util|log)/' 'core/(config|storage|auth|security|registry|routing|inference|services|server|http|runtime)/|core/stack\.h|providers/|app/'
check_layer net "$net_files" 'core/(config|storage|auth|security|registry|routing|inference|services)/|core/server/(routes|filters)/|core/server/[a-z_]+\.h|core/stack\.h|providers/|app/'
check_layer core 'src/core/(config|storage|auth|security|registry|routing|inference|services)/|src/core/stack\.' 'core/server/|providers/|app/'
check_layer providers 'src/providers/' 'core/server/|app/'
check_layer server 'src/core/server/[a-z_]+\.|src/core/server/(routes|filters)/' 'core/server/transport/|providers/|app/'

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
