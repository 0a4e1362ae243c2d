#!/usr/bin/env bash
# Start a throw-away Redis server on loopback for Celery workers and their tests (idempotent).
#   scripts/redis-up.sh          installs Debian's redis-server if missing, starts (or reuses) a
#                                server under $FAELLESDRIFT_REDIS_DIR (default /tmp/faellesdrift-redis)
#                                on 127.0.0.1:$FAELLESDRIFT_REDIS_PORT (default 16379, or the next
#                                free port), no system service, prints the broker URL last.
#   scripts/redis-up.sh install  only installs Debian's redis-server (starts nothing).
#   scripts/redis-up.sh stop     stops that server.
# Use:  export FAELLESDRIFT_TEST_BROKER_URL=$(scripts/redis-up.sh | tail -1)
set -euo pipefail
DIR=${FAELLESDRIFT_REDIS_DIR:-/tmp/faellesdrift-redis}
PORT=${FAELLESDRIFT_REDIS_PORT:-16379}

say() { printf '==> %s\n' "$*" >&2; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  say "installing Debian's redis-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq redis-server >&2 || { apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2; }
fi
[ "${1:-}" = install ] && exit 0

if [ "${1:-}" = stop ]; then
  if [ -f "$DIR/port" ] && redis-cli -h 127.0.0.1 -p "$(cat "$DIR/port")" ping >/dev/null 2>&1; then
    redis-cli -h 127.0.0.1 -p "$(cat "$DIR/port")" shutdown nosave >/dev/null 2>&1 || true
  fi
  exit 0
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
mkdir -p "$DIR"
chmod 700 "$DIR"

if [ -f "$DIR/port" ] && [ -f "$DIR/redis.pid" ] && kill -0 "$(cat "$DIR/redis.pid")" 2>/dev/null \
   && redis-cli -h 127.0.0.1 -p "$(cat "$DIR/port")" ping >/dev/null 2>&1; then
  PORT=$(cat "$DIR/port")
  say "reusing the running Redis on 127.0.0.1:$PORT"
else
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  echo "$PORT" > "$DIR/port"
  say "starting Redis on 127.0.0.1:$PORT"
  # No persistence: a broker for runs in progress, nothing to keep across restarts.
  redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --daemonize yes \
    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --save '' --appendonly no \
    --protected-mode yes >&2
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null || { say "Redis did not start: see $DIR/redis.log"; exit 1; }
fi
echo "redis://127.0.0.1:$PORT/0"
