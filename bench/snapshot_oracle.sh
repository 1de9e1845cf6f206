#!/bin/bash
# bench/snapshot_oracle.sh — the oracle for rewrites of smig.snapshot():
# its text must stay byte for byte what it was.
#
#   bench/snapshot_oracle.sh save    build the schemas (first time), keep the
#                                    snapshots the installed smig prints
#   bench/snapshot_oracle.sh check   reinstall smig in each database (DROP
#                                    and CREATE EXTENSION: the installed
#                                    scripts are read again) and cmp the
#                                    snapshots with the saved ones
#   bench/snapshot_oracle.sh stop    stop the cluster
#
# Two databases on a throwaway cluster (ORACLE_DIR, default
# /tmp/smig-snapshot-oracle; port ORACLE_PORT, default 6210): "kinds", built
# by bench/snapshot_oracle.sql (every kind of object the snapshot covers),
# and "bench", the 1,000 tables of bench/run.sh's workload.  Snapshots kept:
# snapshot() of each, snapshot() of two schemas and of none, fingerprint().
# Install smig into $PGBIN's tree first (make PG_CONFIG=... install).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/common.sh
D=${ORACLE_DIR:-/tmp/smig-snapshot-oracle}
PORT=${ORACLE_PORT:-6210}
P="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $D -p $PORT -U postgres"

start() {
    if [ ! -d "$D/data" ]; then
        mkdir -p "$D"; chown postgres: "$D"
        as_postgres "$PGBIN/initdb" -D "$D/data" -A trust -U postgres >/dev/null
    fi
    if ! as_postgres "$PGBIN/pg_ctl" -D "$D/data" status >/dev/null 2>&1; then
        as_postgres "$PGBIN/pg_ctl" -D "$D/data" -l "$D/log" -w -o \
            "-c listen_addresses='' -c unix_socket_directories='$D' -p $PORT -c fsync=off" start >/dev/null
    fi
    if ! as_postgres $P -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'bench'" | grep -q 1; then
        as_postgres $P -d postgres -c 'CREATE DATABASE kinds' -c 'CREATE DATABASE bench' >/dev/null
        as_postgres $P -d kinds -c 'CREATE EXTENSION smig' >/dev/null
        as_postgres $P -d kinds -f bench/snapshot_oracle.sql >/dev/null
        as_postgres $P -d bench -c 'CREATE EXTENSION smig' >/dev/null
        for i in $(seq 1 1000); do
            echo "CREATE TABLE bench_$i (id int PRIMARY KEY, val text);"
            echo "CREATE INDEX bench_${i}_val ON bench_$i (val);"
            echo "INSERT INTO bench_$i SELECT g, 'v' || g FROM generate_series(1, 100) g;"
            [ "$i" -gt 1 ] && echo "ALTER TABLE bench_$((i - 1)) ADD COLUMN extra int;"
        done | as_postgres $P -d bench -1 >/dev/null
    fi
}

# snapshots DIR: the installed smig's snapshots, one file each
snapshots() {
    mkdir -p "$1"
    for db in kinds bench; do
        as_postgres $P -d "$db" -c 'SET smig.allow_drop_extension = on' \
            -c 'SET client_min_messages = warning' \
            -c 'DROP EXTENSION smig CASCADE' -c 'CREATE EXTENSION smig' >/dev/null
        as_postgres $P -d "$db" -At -c 'SELECT smig.snapshot()::text' > "$1/$db.all"
        as_postgres $P -d "$db" -At -c 'SELECT smig.fingerprint()' > "$1/$db.fp"
    done
    as_postgres $P -d kinds -At -c $'SELECT smig.snapshot(ARRAY[\'app\', \'Odd Schema\'])::text' > "$1/kinds.two"
    as_postgres $P -d kinds -At -c "SELECT smig.snapshot('{}')::text" > "$1/kinds.none"
}

case "${1:-}" in
save)
    start
    snapshots "$D/saved"
    wc -c "$D"/saved/* ;;
check)
    start
    rm -rf "$D/now"
    snapshots "$D/now"
    bad=0
    for f in "$D"/saved/*; do
        cmp "$f" "$D/now/$(basename "$f")" || bad=1
    done
    [ $bad = 0 ] && echo "snapshot oracle: $(ls "$D/saved" | wc -l) snapshots byte-identical"
    exit $bad ;;
stop)
    as_postgres "$PGBIN/pg_ctl" -D "$D/data" -m fast stop >/dev/null ;;
*)
    echo "usage: $0 save|check|stop" >&2; exit 2 ;;
esac
