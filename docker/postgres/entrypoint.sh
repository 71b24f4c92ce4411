#!/bin/sh
# Initialises an empty $PGDATA (trust authentication for every client: a test
# and trial image), then runs postgres in the foreground with the given
# arguments (e.g. `-c fsync=off`).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    initdb -D "$PGDATA" --username="$user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    {
        echo "listen_addresses = '*'"
        echo "unix_socket_directories = '/var/run/postgresql'"
        echo "max_connections = ${POSTGRES_MAX_CONNECTIONS:-300}"
    } >>"$PGDATA/postgresql.conf"
    {
        echo "host all all 0.0.0.0/0 trust"
        echo "host all all ::/0 trust"
    } >>"$PGDATA/pg_hba.conf"
    # A short local-only start to create the database, its log on stdout.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    if [ "$db" != "postgres" ]; then
        psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres \
            -c "CREATE DATABASE \"$db\"" >/dev/null
    fi
    pg_ctl -D "$PGDATA" -m fast -w stop
fi

exec postgres -D "$PGDATA" "$@"
