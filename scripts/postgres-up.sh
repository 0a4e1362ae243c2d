#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the metering tests (idempotent).
#   scripts/postgres-up.sh          installs Debian's postgresql if missing, starts (or reuses)
#                                   a cluster under $FAELLESDRIFT_PG_DIR (default /tmp/faellesdrift-pg)
#                                   on 127.0.0.1:$FAELLESDRIFT_PG_PORT (default 54329, or the next
#                                   free port), creates user+db faellesdrift, prints the URL last.
#   scripts/postgres-up.sh install  only installs Debian's postgresql (starts nothing).
#   scripts/postgres-up.sh stop     stops that cluster.
# Use:  export FAELLESDRIFT_TEST_PG_URL=$(scripts/postgres-up.sh | tail -1)
# PostgreSQL refuses to run as root: the server runs as the `postgres` user.
set -euo pipefail
DIR=${FAELLESDRIFT_PG_DIR:-/tmp/faellesdrift-pg}
PORT=${FAELLESDRIFT_PG_PORT:-54329}
USER_NAME=faellesdrift
DB_NAME=faellesdrift
PASSWORD=${FAELLESDRIFT_PG_PASSWORD:-faellesdrift-test}

say() { printf '==> %s\n' "$*" >&2; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ]; then
  say "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
[ "${1:-}" = install ] && exit 0
BIN=$(bindir)
DATA=$DIR/data

if [ "${1:-}" = stop ]; then
  if [ -f "$DATA/postmaster.pid" ]; then as_pg "'$BIN/pg_ctl' -D '$DATA' -m fast -w stop" >&2; fi
  exit 0
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mkdir -p "$DIR"
chown postgres:postgres "$DIR" 2>/dev/null || true
chmod 700 "$DIR"

if [ ! -f "$DATA/PG_VERSION" ]; then
  say "initialising a cluster in $DATA"
  as_pg "'$BIN/initdb' -D '$DATA' -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256" >/dev/null
fi

if as_pg "'$BIN/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
  PORT=$(cat "$DIR/port")
  say "reusing the running cluster on 127.0.0.1:$PORT"
else
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  echo "$PORT" > "$DIR/port"
  say "starting PostgreSQL on 127.0.0.1:$PORT"
  as_pg "'$BIN/pg_ctl' -D '$DATA' -l '$DIR/server.log' -w -t 60 \
    -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR'\" start" >&2
fi

psql_pg() { as_pg "'$BIN/psql' -h '$DIR' -p $PORT -U postgres -v ON_ERROR_STOP=1 -qAt -c \"$1\""; }
if [ "$(psql_pg "SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'")" != 1 ]; then
  psql_pg "CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD'" >&2
fi
if [ "$(psql_pg "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")" != 1 ]; then
  psql_pg "CREATE DATABASE $DB_NAME OWNER $USER_NAME" >&2
fi
echo "postgresql+psycopg://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB_NAME"
