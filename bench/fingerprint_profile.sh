#!/bin/bash
# bench/fingerprint_profile.sh — where smig.fingerprint() spends its time
# (issue 14 item 2): backend instructions (valgrind --tool=callgrind) of
#  - SELECT smig.fingerprint() once and twice (cold, then warm caches) over
#    a 200- and a 1,000-table schema built by bench/run.sh's workload
#    (create table + index + 100 rows + add a column to the previous table),
#    against SELECT 1;
#  - one upgrade_head() of 200 and of 1,000 such migrations, with the
#    inclusive cost of plpgsql_call_handler (smig.snapshot(), the only
#    PL/pgSQL on that path) beside the total.
# Prints one line per measurement; the profiles stay in $FP_DIR/cg for
# callgrind_annotate --inclusive=yes.  Slow: about 15 minutes here.
# FP_SIZES="200" measures only those sizes (default "200 1000"; at most
# 1000); FP_PORT sets the server's port (default 6210); PGBIN the server.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/common.sh
FP_DIR=${FP_DIR:-/tmp/smig-fp-profile}
FP_SIZES=${FP_SIZES:-200 1000}
FP_PORT=${FP_PORT:-6210}
rm -rf "$FP_DIR"; mkdir -p "$FP_DIR/mig" "$FP_DIR/cg"
for i in $(seq 1 1000); do
    v=$(printf '%05d' "$i")
    {
        echo "CREATE TABLE bench_$i (id int PRIMARY KEY, val text);"
        echo "CREATE INDEX bench_${i}_val ON bench_$i (val);"
        echo "INSERT INTO bench_$i SELECT g, 'v' || g FROM generate_series(1, 100) g;"
        [ "$i" -gt 1 ] && echo "ALTER TABLE bench_$((i - 1)) ADD COLUMN extra int;"
    } > "$FP_DIR/mig/${v}_step_$i.sql"
done
chown -R postgres: "$FP_DIR"
as_postgres "$PGBIN/initdb" -D "$FP_DIR/data" -A trust -U postgres >/dev/null
as_postgres bash -c "cd '$FP_DIR/cg' && valgrind -q --tool=callgrind --trace-children=yes \
    --callgrind-out-file='$FP_DIR/cg/cg.%p' '$PGBIN/postgres' -D '$FP_DIR/data' -c listen_addresses='' \
    -c unix_socket_directories='$FP_DIR' -p $FP_PORT -c fsync=off -c max_wal_size=20GB >'$FP_DIR/valgrind.log' 2>&1 &"
P="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $FP_DIR -p $FP_PORT -U postgres"
for i in $(seq 1 120); do as_postgres $P -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
ir() {   # ir PID [FUNCTION]: the backend's total, or FUNCTION's inclusive cost
    sleep 2
    if [ $# = 1 ]; then
        callgrind_annotate "$FP_DIR/cg/cg.$1" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
    else
        callgrind_annotate --inclusive=yes "$FP_DIR/cg/cg.$1" 2>/dev/null | sed -n "s/^ *\([0-9,]*\) .*:$2 .*/\1/p" | head -1 | tr -d ,
    fi
}
for n in $FP_SIZES; do
    d=m$n
    if [ ! -d "$FP_DIR/$d" ]; then
        mkdir -p "$FP_DIR/$d"; cp "$FP_DIR"/mig/*.sql "$FP_DIR/$d/"
        ls "$FP_DIR/$d"/*.sql | sort | tail -n +$((n + 1)) | xargs -r rm
        chown -R postgres: "$FP_DIR/$d"
    fi
    as_postgres $P -d postgres -c "CREATE DATABASE t$n" -c "CREATE DATABASE u$n" >/dev/null
    as_postgres $P -d "t$n" -c 'CREATE EXTENSION smig' >/dev/null
    cat "$FP_DIR/$d"/*.sql | as_postgres $P -d "t$n" -1 >/dev/null
    for q in "SELECT 1" "SELECT length(smig.fingerprint())" \
             "SELECT length(smig.fingerprint()), length(smig.fingerprint())"; do
        pid=$(as_postgres $P -d "t$n" -At -c 'SELECT pg_backend_pid()' -c "$q" | sed -n 1p)
        echo "$n tables | $q | $(ir "$pid") instructions"
    done
    as_postgres $P -d "u$n" -c 'CREATE EXTENSION smig' -c "SELECT smig.load_dir('$FP_DIR/$d')" >/dev/null
    pid=$(as_postgres $P -d "u$n" -At -c 'SET client_min_messages = warning' \
          -c 'SELECT pg_backend_pid() FROM smig.upgrade_head() LIMIT 1')
    echo "$n migrations | upgrade_head() | $(ir "$pid") instructions, snapshot (plpgsql_call_handler) $(ir "$pid" plpgsql_call_handler)"
done
as_postgres "$PGBIN/pg_ctl" -D "$FP_DIR/data" -m immediate stop >/dev/null 2>&1 || true
