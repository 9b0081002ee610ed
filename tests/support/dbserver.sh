#!/usr/bin/env bash
# Starts and stops throwaway PostgreSQL and Redis servers for the tests, on
# loopback, with their data in DIR (Debian's packages; scripts/install-deps.sh).
#
#   dbserver.sh postgres start DIR PORT   # user llama, password secret, database llamastack
#   dbserver.sh postgres stop DIR
#   dbserver.sh redis start DIR PORT [PASSWORD]
#   dbserver.sh redis stop DIR
#
# PostgreSQL refuses to run as root: as root, it runs as the `postgres` user
# the Debian package creates. Starting again on an existing DIR keeps its data
# (a restart). Redis appends every write to its AOF, so a restart loses nothing.
set -euo pipefail
kind=${1:?kind} action=${2:?action} dir=${3:?dir} port=${4:-}

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$kind/$action" in
  postgres/start)
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
      chmod 755 "$(dirname "$dir")"
      chown postgres "$dir"
    fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      echo secret >"$dir/pwfile"
      [[ $(id -u) -eq 0 ]] && chown postgres "$dir/pwfile"
      as_postgres "$bin/initdb" -D "$dir/data" -U llama --pwfile="$dir/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
      fresh=1
    fi
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
      start >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
    if [[ -n "${fresh:-}" ]]; then
      as_postgres "$bin/createdb" -h "$dir" -p "$port" -U llama llamastack
    fi
    ;;
  postgres/stop)
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
  redis/start)
    mkdir -p "$dir"
    args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
      --appendonly yes --appendfsync always --save "")
    cli=(redis-cli -h 127.0.0.1 -p "$port")
    if [[ -n "${5:-}" ]]; then
      args+=(--requirepass "$5")
      cli+=(--no-auth-warning -a "$5")
    fi
    redis-server "${args[@]}"
    for _ in $(seq 1 100); do
      if [[ "$("${cli[@]}" ping 2>/dev/null)" == PONG ]]; then exit 0; fi
      sleep 0.1
    done
    cat "$dir/redis.log" >&2
    exit 1
    ;;
  redis/stop)
    if [[ -f "$dir/redis.pid" ]]; then
      pid=$(cat "$dir/redis.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    ;;
  *)
    echo "usage: dbserver.sh postgres|redis start|stop DIR [PORT] [PASSWORD]" >&2
    exit 2
    ;;
esac
