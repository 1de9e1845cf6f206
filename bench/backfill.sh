#!/usr/bin/env bash
# bench/backfill.sh — `make bench` part "backfill" (issue 18): a
# 1,000,000-row data migration while an application reads and writes the
# same table, done
#   (a) as one big UPDATE, as a migration file would, and
#   (b) with CALL smig.backfill() (batches of BATCH rows, a commit each);
# against (0) the application alone.  The application is pgbench, 2
# clients, each transaction a SELECT and an UPDATE of one random row.
# Reported: the data migration's rows per second, and the application's
# p50 / p99 / max latency and how many transactions waited longer than 1 s
# while it ran.  The data directory is on a real disk with fsync on
# (BENCH_DIR, default /var/tmp); BENCH_DIR=/dev/shm gives the tmpfs figures.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/common.sh

ensure_packages $BASE_PACKAGES
[ "${SKIP_INSTALL:-0}" = 1 ] || build_install
trap cleanup_dirs EXIT
ROWS=${ROWS:-1000000}
BATCH=${BATCH:-5000}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
APP_SECONDS=${APP_SECONDS:-45}
make_pg_dir D backfill "$BENCH_DIR"
start_cluster "$D"
PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $D -U postgres"

setup() {
    as_postgres $PSQL -d postgres -c "DROP DATABASE IF EXISTS bf" -c "CREATE DATABASE bf" >/dev/null
    as_postgres $PSQL -d bf >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION smig;
CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, hits int NOT NULL DEFAULT 0,
                  pad text NOT NULL DEFAULT repeat('x', 60));
INSERT INTO big (id, v) SELECT g, g FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE big;
CHECKPOINT;
SQL
}

cat > "$D/app.sql" <<SQL
\\set id random(1, $ROWS)
SELECT v FROM big WHERE id = :id;
UPDATE big SET hits = hits + 1 WHERE id = :id;
SQL
chown postgres: "$D/app.sql"

# run_case NAME SQL: pgbench for APP_SECONDS, SQL (or 10 s of nothing)
# run 2 s in; the figures of the transactions that started while SQL ran
run_case() {
    local name=$1 sql=$2 start end secs
    rm -f "$D"/pgbench_log.*
    (cd "$D" && as_postgres "$PGBIN/pgbench" -n -c 2 -T "$APP_SECONDS" -l -f "$D/app.sql" -h "$D" -U postgres bf \
        >"$D/pgbench.out" 2>&1) &
    local pgb=$!
    sleep 2
    start=$(date +%s.%N)
    if [ -n "$sql" ]; then as_postgres $PSQL -d bf -c "$sql" >/dev/null 2>&1; else sleep 10; fi
    end=$(date +%s.%N)
    wait $pgb || true
    secs=$(echo "$end - $start" | bc -l)
    if [ "$(echo "$secs > $APP_SECONDS - 3" | bc -l)" = 1 ]; then
        echo "   (the application stopped before $name ended: raise APP_SECONDS)"
    fi
    # pgbench log: client txno latency(us) script epoch epoch_us; keep the
    # transactions that started while SQL ran
    cat "$D"/pgbench_log.* | awk -v s="$start" -v e="$end" '{ t = $5 + $6 / 1e6 - $3 / 1e6; if (t >= s && t <= e) print $3 }' |
        sort -n > "$D/lat.txt"
    awk -v name="$name" -v secs="$secs" -v rows="$ROWS" -v sql="$sql" '
        { a[NR] = $1; if ($1 > 1e6) slow++ }
        END {
            n = NR; if (n == 0) { printf "%-28s no transactions\n", name; exit }
            p50 = a[int(n * 0.50) + 1]; p99 = a[int(n * 0.99) + 1]; if (int(n * 0.99) + 1 > n) p99 = a[n];
            printf "%-22s %6.1f s %8s rows/s   app: %6.0f tx/s, p50 %6.2f ms, p99 %8.2f ms, max %8.2f ms, %d waited > 1 s\n",
                name, secs, sql == "" ? "-" : sprintf("%.0f", rows / secs), n / secs, p50 / 1000, p99 / 1000, a[n] / 1000, slow
        }' "$D/lat.txt"
}

echo "== backfill of $ROWS rows under pgbench (data directory in $BENCH_DIR, fsync on), batches of $BATCH"
setup
run_case "application alone" ""
run_case "one UPDATE" "UPDATE big SET v = v + 1"
setup
run_case "CALL smig.backfill()" "CALL smig.backfill('v', 'big', 'v = v + 1', batch_size => $BATCH)"
