#!/usr/bin/env bash
# bench/run.sh — `make bench`: smig's performance figures (SPEC §7), measured
# side by side in one run on a throwaway local server.
#
#  1. 1,000 small migrations (create table + index + 100 rows + add a column
#     to the previous table) from empty: `psql -1 -f all.sql` (no
#     bookkeeping) versus `SELECT smig.upgrade_head()` on the same SQL,
#     registered beforehand.  Ratio target <= 1.05.
#  2. upgrade_head() with 10,000 applied and none pending, timed in the
#     server (target < 5 ms) and as a whole psql process against
#     `psql -c 'SELECT 1'`.
#  3. verify_checksum() over 10,000 migrations (target < 50 ms).
#  4. in backend instructions (callgrind) on 200 migrations: psql -1 -f
#     versus upgrade_head() (target <= 1.00x); the audit trail's cost: run 1 with smig.audit on (the default) versus
#     off, as a ratio (target <= 1.10); and, since that wall-clock ratio is
#     noisy here, the same comparison in instructions executed by the
#     backend (valgrind --tool=callgrind, deterministic) on 200 migrations.
#  5. the start-up check as applications run it, finding nothing new, as one
#     psql process against `psql -c 'SELECT 1'` (targets 1.30x at 1,000
#     files, 2.50x at 10,000): `SELECT smig.load_dir(dir); SELECT
#     smig.upgrade_head()`, and the bulk path, a client that sends the
#     files itself: `smig.register_many(<the files as JSON>)` and
#     `upgrade_head()` (psql -f of a prepared file: two statements).
#  6. what the lock timeout retries cost where nothing waits: part 1 also
#     times upgrade_head() with smig.lock_retries = 0 (no savepoint and no
#     scan of the statements, ever), and part 4 counts its instructions,
#     and those of the progress reports (smig.progress, pg_stat_activity:
#     the same run with track_activities = off).
#  7. live traffic: pgbench reads and writes a table at a fixed rate while
#     a long transaction holds a lock on it and a migration alters it,
#     once with smig.lock_timeout = 0 (wait forever, as other tools do) and
#     once with smig's defaults: p50/p99/max latency of the application and
#     the transactions that took more than 1 s (target: p99 within
#     lock_timeout + 100 ms).  LIVE_SECONDS sets pgbench's run (default 14).
#  8. knowing the schema (issue 14): smig.fingerprint() of a 1,000-table
#     schema, in the server (target <= 1 s); and smig.rehearse() of part 1's
#     workload against smig.upgrade_head() of it, each on a fresh database
#     with the migrations registered, as psql processes.  (verify_checksum()
#     over 10,000 migrations is part 2's.)
#  9. a no-transaction migration: CREATE INDEX CONCURRENTLY on a
#     1,000,000-row table through `CALL smig.upgrade()` (its background
#     worker) versus the same statement from psql, interleaved, each round
#     on a dropped index (target ratio <= 1.05).  Not in the default
#     PARTS (PARTS=9 runs it).
# 10. the audit trail against no event triggers at all (SPEC 7: with
#     smig.audit = off the triggers still fire and PostgreSQL still collects
#     every command for them): upgrade_head() of part 1's migrations with
#     smig's event triggers as installed versus all of them disabled
#     (ALTER EVENT TRIGGER ... DISABLE in a throwaway database), interleaved,
#     wall clock and WAL bytes; and backend instructions (callgrind) of the
#     same on 200 migrations.  Target <= 1.05.
# 11. `psql -c 'SELECT * FROM smig.status()'` over 1,000 applied migrations
#     and 5 pending, against `psql -c 'SELECT 1'` (target <= 1.10) and
#     against psql printing the same rows from a plain table (what the
#     client's printing costs); status() in the server, warm; and the
#     backend instructions of each psql session (callgrind).
# 12. the smig client (bench/client.sh): `smig up` with nothing to do at
#     1,000 and 10,000 files against `psql -c 'SELECT 1'` (targets 1.15x
#     and 1.50x), and applying part 1's migrations from files against
#     `psql -1 -f` on the same SQL (target 1.00x).
# 13. the schema fingerprint's cost (issue 14 item 2, bench/fingerprint_profile.sh
#     at 1,000): smig.fingerprint() of part 1's 1,000-table schema in backend
#     instructions, warm (target <= 400 M, 0.4 M per table) and in ms in the
#     server, warm (target <= 1000 ms); and smig.snapshot()'s share of one
#     upgrade_head() of the 1,000 migrations, in instructions (target <= 5 %).
#     Slow (callgrind, about 10 minutes).
# Needs root or sudo the first time (packages, make install).  RUNS=N sets
# round count of parts 1 and 10, and the rounds of 10 runs each of the
# hyperfine parts (2, 5, 11) (default 5).  PARTS="2 5" runs only those
# parts (default: all but 9); STARTUP_N="1000 10000" sets the directory
# sizes of part 5.
#
# Two servers, run side by side (STORAGE=disk or STORAGE=tmpfs runs one):
#  disk   data directory on the real disk (DISK_DIR, default /var/tmp),
#         fsync = on and synchronous_commit = on, as users run PostgreSQL;
#  tmpfs  data directory on tmpfs (/dev/shm; BENCH_DIR= overrides), fsync
#         off: what remains is the CPU work smig controls.
# Parts 1, 2, 5, 10 and 11 run on both, their rounds interleaved (a round on
# one server, then the same round on the other) so that drift in this
# shared machine's speed hits both alike; parts 4, 7, 8 and 9 run once, on
# tmpfs when it is measured.  Each apply figure prints the WAL the run
# wrote (pg_current_wal_insert_lsn() before and after).  A checkpoint
# precedes every timed run.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/common.sh

ensure_packages $BASE_PACKAGES hyperfine valgrind bc
build_install
trap cleanup_dirs EXIT
RUNS=${RUNS:-5}
N=${N:-1000}
PARTS=${PARTS:-1 2 4 5 7 8 10 11 12 13}
STARTUP_N=${STARTUP_N:-1000 10000}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# The servers (see the head of this file): use_storage KIND points B (the
# server's directory: socket, data, generated files) and PSQL at one of them.
STORAGE=${STORAGE:-both}
case $STORAGE in
    both) STORAGES="disk tmpfs" ;;
    disk | tmpfs) STORAGES=$STORAGE ;;
    *) echo "STORAGE must be disk, tmpfs or both, not \"$STORAGE\"" >&2; exit 2 ;;
esac
BENCH_DIR=${BENCH_DIR:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )}
DISK_DIR=${DISK_DIR:-/var/tmp}
declare -A SDIR
start_storage() {   # start_storage disk|tmpfs
    local base fs sd
    case $1 in disk) base=$DISK_DIR fs=on ;; tmpfs) base=$BENCH_DIR fs=off ;; esac
    make_pg_dir sd "bench-$1" "$base"    # (not "d": make_pg_dir's own local)
    start_cluster "$sd"
    as_postgres "$PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET fsync = $fs" \
        -c "ALTER SYSTEM SET synchronous_commit = on" \
        -c "ALTER SYSTEM SET max_wal_size = '20GB'" -c "ALTER SYSTEM SET checkpoint_timeout = '1h'" \
        -c "SELECT pg_reload_conf()" >/dev/null
    SDIR[$1]=$sd
    echo "== $1 server: $sd ($(df -PT "$sd" | awk 'NR == 2 { print $2 }'), fsync = $fs)"
}
use_storage() {     # use_storage disk|tmpfs
    S=$1 B=${SDIR[$1]}
    PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $B -U postgres"
    export PGHOST=$B
}
for s in $STORAGES; do start_storage "$s"; done
ONCE=${STORAGES##* }    # the server of the parts measured once: tmpfs if it runs

# hf CSV HYPERFINE-ARGS...: queue a hyperfine comparison, run by hf_flush:
# RUNS rounds of 10 runs of every queued comparison, the queue rotated each
# round, so the two servers' rounds interleave.  CSV then holds, per
# command (in hyperfine's CSV columns), the median of the rounds' medians.
HF_QUEUE=()
hf() { local q; printf -v q '%q ' "$S" "$@"; HF_QUEUE+=("$q"); }
hf_flush() {
    local n=${#HF_QUEUE[@]} r i q csv
    [ "$n" -gt 0 ] || return 0
    for r in $(seq 1 "$RUNS"); do
        for i in $(seq 0 $((n - 1))); do
            eval "set -- ${HF_QUEUE[$(( (i + r) % n ))]}"
            csv=$2; shift 2
            as_postgres hyperfine --runs 10 --warmup 3 --style none --export-csv "$csv.$r" "$@" \
                >"$csv.log" 2>&1 || { cat "$csv.log" >&2; exit 1; }
        done
    done
    for q in "${HF_QUEUE[@]}"; do
        eval "set -- $q"
        csv=$2
        awk -F, 'FNR == 1 { next } { name[FNR] = $1; v[FNR, ++k[FNR]] = $4; if (FNR > rows) rows = FNR }
            END { print "command,mean,stddev,median"
                  for (r = 2; r <= rows; r++) {
                      n = k[r]; for (i = 1; i <= n; i++) a[i] = v[r, i]
                      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
                      printf "%s,,,%s\n", name[r], (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) } }' \
            "$csv".[0-9]* > "$csv"
        awk -F, -v s="$1" 'NR > 1 { printf "   %-5s %-66s median %.1f ms\n", s, $1, $4 * 1000 }' "$csv"
    done
    HF_QUEUE=()
}

. bench/client.sh    # part 12: client_setup, client_report

# WAL the server has written since wal_mark: wal_mark sets LSN0.
wal_mark() { LSN0=$(as_postgres $PSQL -d postgres -At -c 'SELECT pg_current_wal_insert_lsn()'); }
wal_since() { as_postgres $PSQL -d postgres -At -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$LSN0')"; }
# median or min of a file of numbers, one a line
stat_file() {    # stat_file FILE median|min
    sort -n "$1" | awk -v what="$2" '{ v[NR] = $1 } END {
        if (what == "min") print v[1]; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo "== generating $N migrations"
use_storage "${STORAGES%% *}"
mkdir -p "$B/migrations"
for i in $(seq 1 "$N"); do
    v=$(printf '%05d' "$i")
    {
        echo "CREATE TABLE bench_$i (id int PRIMARY KEY, val text);"
        echo "CREATE INDEX bench_${i}_val ON bench_$i (val);"
        echo "INSERT INTO bench_$i SELECT g, 'v' || g FROM generate_series(1, 100) g;"
        [ "$i" -gt 1 ] && echo "ALTER TABLE bench_$((i - 1)) ADD COLUMN extra int;"
    } > "$B/migrations/${v}_step_$i.sql"
done
cat "$B"/migrations/*.sql > "$B/all.sql"
for s in $STORAGES; do
    [ "${SDIR[$s]}" = "$B" ] || cp -a "$B/migrations" "$B/all.sql" "${SDIR[$s]}/"
    chown -R postgres: "${SDIR[$s]}"
done

if part 1; then
echo "== 1. applying $N migrations from empty ($RUNS rounds, the commands interleaved, on: $STORAGES)"
# Each round runs the commands in a rotated order, each on a fresh
# database prepared (untimed) just before it, after a checkpoint, on each
# server in turn: drift in the machine's speed then hits all alike.
prepare_db() {   # prepare_db DB WITH_SMIG (yes, no, or ext: the extension, nothing registered)
    as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    if [ "$2" = yes ]; then
        as_postgres $PSQL -d "$1" -c 'CREATE EXTENSION smig' \
            -c "SELECT smig.load_dir('$B/migrations')" >/dev/null
    elif [ "$2" = ext ]; then
        as_postgres $PSQL -d "$1" -c 'CREATE EXTENSION smig' >/dev/null
    fi
    as_postgres $PSQL -d postgres -c CHECKPOINT >/dev/null
    wal_mark
}
run_timed() {    # run_timed INDEX: time command INDEX once, append seconds to $B/t.INDEX, WAL bytes to $B/w.INDEX
    local t0 t1
    case $1 in
        0) prepare_db b_psql no
           t0=$(date +%s%N); as_postgres $PSQL -d b_psql -1 -f "$B/all.sql" >/dev/null; t1=$(date +%s%N) ;;
        1) prepare_db b_smig yes
           t0=$(date +%s%N)
           as_postgres $PSQL -d b_smig -c 'SET client_min_messages = warning' \
               -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
           t1=$(date +%s%N) ;;
        2) prepare_db b_smig yes
           t0=$(date +%s%N)
           as_postgres $PSQL -d b_smig -c 'SET client_min_messages = warning' -c 'SET smig.audit = off' \
               -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
           t1=$(date +%s%N) ;;
        3) prepare_db b_smig yes
           t0=$(date +%s%N)
           as_postgres $PSQL -d b_smig -c 'SET client_min_messages = warning' -c 'SET smig.lock_retries = 0' \
               -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
           t1=$(date +%s%N) ;;
        4) prepare_db b_smig ext     # register and apply, end to end
           t0=$(date +%s%N)
           as_postgres $PSQL -d b_smig -c 'SET client_min_messages = warning' \
               -c "SELECT smig.load_dir('$B/migrations')" -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
           t1=$(date +%s%N) ;;
    esac
    echo "scale=4; ($t1 - $t0) / 1000000000" | bc >>"$B/t.$1"
    wal_since >>"$B/w.$1"
}
P1_CMDS=5
for r in $(seq 0 $((RUNS - 1))); do
    for s in $STORAGES; do
        use_storage "$s"
        for k in $(seq 0 $((P1_CMDS - 1))); do run_timed $(( (r + k) % P1_CMDS )); done
    done
done
stat_of() {      # stat_of INDEX median|min (of the server use_storage chose)
    stat_file "$B/t.$1" "$2"
}
for s in $STORAGES; do
    use_storage "$s"
    for k in $(seq 0 $((P1_CMDS - 1))); do
        printf '   %-5s %-42s median %.3f s, best %.3f s, WAL %.1f MB\n' "$s" \
            "$(echo 'psql -1 -f all.sql|smig.upgrade_head()|smig.upgrade_head(), smig.audit off|upgrade_head(), lock_retries = 0|load_dir() + upgrade_head(), end to end' | cut -d'|' -f$((k + 1)))" \
            "$(stat_of $k median)" "$(stat_of $k min)" "$(stat_file "$B/w.$k" median | awk '{ print $1 / 1e6 }')"
    done
done
fi

# Part 5's directory of N files on the server use_storage chose, its
# database (everything registered and applied, the stat cache trusted: the
# files' change times a whole second older than a read), and the bulk
# path's two files: register_many() of the texts, and of the checksums
# only (what a client that hashes the files itself sends).  Then the WAL
# of each start-up command, run once as a psql process after a vacuum and
# a checkpoint, which must be 0 (WAL5[S,N,cmd]), and load_dir() must open
# no file.
declare -A WAL5
startup_setup() {   # startup_setup N
    local n=$1 d="$B/startup_$1" i db="b_start_$1" w k
    mkdir -p "$d"
    for i in $(seq 1 "$n"); do
        {
            echo "-- step $i of the start-up benchmark: a small migration of about"
            echo "-- the size of part 1's, cheap to apply"
            echo "SELECT $i AS step, 'bench_$i' AS name;"
            echo "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'bench_$i';"
        } > "$d/V${i}__step_$i.sql"
    done
    chown -R postgres: "$d"
    as_postgres $PSQL -d postgres -c "CREATE DATABASE $db" >/dev/null
    as_postgres $PSQL -d "$db" -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' \
        -c "SELECT smig.load_dir('$d')" -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
    sleep 2.1    # (the stat cache trusts an entry once its change is a second older than a read)
    as_postgres $PSQL -d "$db" -c "SELECT smig.load_dir('$d')" >/dev/null
    {
        printf 'SELECT count(*) FROM smig.register_many($smig_json$'
        as_postgres $PSQL -d "$db" -At -c "SELECT jsonb_agg(jsonb_build_object(
            'version', version, 'name', name, 'up_sql', up_sql) ORDER BY version_key) FROM smig.migration"
        printf '$smig_json$);\nSELECT count(*) FROM smig.upgrade_head();\n'
    } > "$B/startup_$n.sql"
    {
        printf 'SELECT count(*) FROM smig.register_many($smig_json$'
        as_postgres $PSQL -d "$db" -At -c "SELECT jsonb_agg(jsonb_build_object(
            'version', version, 'name', name,
            'checksum', smig.checksum(pg_read_file('$d/V' || version || '__' || name || '.sql')))
            ORDER BY version_key) FROM smig.migration"
        printf '$smig_json$);\nSELECT count(*) FROM smig.upgrade_head();\n'
    } > "$B/startup_cksum_$n.sql"
    chown postgres: "$B/startup_$n.sql" "$B/startup_cksum_$n.sql"
    for k in "$B/startup_$n.sql" "$B/startup_cksum_$n.sql"; do
        test "$(as_postgres $PSQL -d "$db" -At -f "$k" | tr '\n' ' ')" = "0 0 " ||
            { echo "the bulk path ($k) found something new at $n files" >&2; exit 1; }
    done
    test "$(as_postgres $PSQL -d "$db" -At -c "SELECT smig.load_dir('$d')" -c 'SELECT smig._load_dir_reads()' | tr '\n' ' ')" = "0 0 " ||
        { echo "load_dir() opened files of an unchanged directory of $n files" >&2; exit 1; }
    # (the vacuum's own dead catalog rows are pruned, and WAL-logged, by the
    # first reads after it: one untimed run of each command first)
    as_postgres $PSQL -d "$db" -c 'VACUUM ANALYZE' >/dev/null
    startup_cmd() {   # startup_cmd load_dir|texts|checksums
        case $1 in
            load_dir) as_postgres $PSQL -d "$db" -c "SELECT smig.load_dir('$d'); SELECT count(*) FROM smig.upgrade_head()" >/dev/null ;;
            texts) as_postgres $PSQL -d "$db" -f "$B/startup_$n.sql" >/dev/null ;;
            checksums) as_postgres $PSQL -d "$db" -f "$B/startup_cksum_$n.sql" >/dev/null ;;
        esac
    }
    for k in load_dir texts checksums; do startup_cmd $k; done
    # A write of smig's would show in every run; a background record (the
    # bgwriter's running-transactions snapshot, every 15 s after activity)
    # in one: up to 3 tries, the least is kept.
    for k in load_dir texts checksums; do
        for i in 1 2 3; do
            as_postgres $PSQL -d postgres -c CHECKPOINT >/dev/null
            wal_mark
            startup_cmd $k
            w=$(wal_since)
            [ "$w" != 0 ] || break
        done
        WAL5[$S,$n,$k]=$w
        [ "$w" = 0 ] || { echo "the start-up check ($k, $n files, $S) wrote $w bytes of WAL; an unchanged start must write none" >&2; exit 1; }
    done
    echo "   $S: $n files: WAL of one unchanged start-up (least of up to 3 runs), load_dir ${WAL5[$S,$n,load_dir]} bytes, register_many of the texts ${WAL5[$S,$n,texts]}, of the checksums ${WAL5[$S,$n,checksums]} (must be 0)"
}

# the parts measured on each server; their hyperfine rounds run at hf_flush
for s in $STORAGES; do
use_storage "$s"
if part 2; then
echo "== 2. [$S] upgrade_head() with 10,000 applied, none pending"
$PSQL -d postgres -c 'CREATE DATABASE b_noop' >/dev/null 2>&1 || true
as_postgres $PSQL -d b_noop -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' \
    -c "SELECT count(smig.register(g::text, 'm' || g, 'SELECT 1;')) FROM generate_series(1, 10000) g" \
    -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
as_postgres $PSQL -d b_noop -At -c "
    DO \$\$
    DECLARE t0 timestamptz; n int;
    BEGIN
        PERFORM count(*) FROM smig.upgrade_head();        -- warm the caches
        t0 := clock_timestamp();
        FOR i IN 1..500 LOOP PERFORM count(*) FROM smig.upgrade_head(); END LOOP;
        RAISE NOTICE 'noop_ms %', round(extract(epoch FROM clock_timestamp() - t0) * 1000 / 500, 4);
        t0 := clock_timestamp();
        FOR i IN 1..20 LOOP PERFORM count(*) FROM smig.verify_checksum(); END LOOP;
        RAISE NOTICE 'verify_ms %', round(extract(epoch FROM clock_timestamp() - t0) * 1000 / 20, 3);
    END \$\$" 2>"$B/server_times.txt"
hf "$B/noop.csv" \
    -n "psql -c 'SELECT 1'" "$PSQL -d b_noop -c 'SELECT 1'" \
    -n "psql -c 'SELECT smig.upgrade_head()'" "$PSQL -d b_noop -c 'SELECT count(*) FROM smig.upgrade_head()'"
fi

if part 5; then
echo "== 5. [$S] the start-up check, nothing new (directories of $STARTUP_N files)"
for n in $STARTUP_N; do
    startup_setup "$n"
    hf "$B/startup_$n.csv" \
        -n "psql -c 'SELECT 1'" "$PSQL -d b_start_$n -c 'SELECT 1'" \
        -n "load_dir + upgrade_head ($n files)" \
        "$PSQL -d b_start_$n -c \"SELECT smig.load_dir('$B/startup_$n'); SELECT count(*) FROM smig.upgrade_head()\"" \
        -n "register_many of the texts + upgrade_head ($n files)" "$PSQL -d b_start_$n -f $B/startup_$n.sql" \
        -n "register_many of checksums only + upgrade_head ($n files)" "$PSQL -d b_start_$n -f $B/startup_cksum_$n.sql"
done
fi

if part 11; then
echo "== 11. [$S] status() over $N applied migrations and 5 pending"
as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS b_status" -c "CREATE DATABASE b_status" >/dev/null
as_postgres $PSQL -d b_status -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' \
    -c "SELECT count(smig.register(lpad(g::text, 5, '0'), 'step_' || g, 'SELECT 1;')) FROM generate_series(1, $N) g" \
    -c 'SELECT count(*) FROM smig.upgrade_head()' \
    -c "SELECT count(smig.register(lpad(g::text, 5, '0'), 'step_' || g, 'SELECT 1;')) FROM generate_series($N + 1, $N + 5) g" \
    -c 'CREATE TABLE status_rows AS SELECT * FROM smig.status()' -c 'VACUUM ANALYZE status_rows' >/dev/null
as_postgres $PSQL -d b_status -At -c "
    DO \$\$
    DECLARE t0 timestamptz;
    BEGIN
        PERFORM count(*) FROM smig.status();               -- warm the caches
        t0 := clock_timestamp();
        FOR i IN 1..50 LOOP PERFORM count(*) FROM smig.status(); END LOOP;
        RAISE NOTICE 'status_ms %', round(extract(epoch FROM clock_timestamp() - t0) * 1000 / 50, 3);
    END \$\$" 2>"$B/status_times.txt"
hf "$B/status.csv" \
    -n "psql -c 'SELECT 1'" "$PSQL -d b_status -c 'SELECT 1'" \
    -n "psql -c 'SELECT * FROM smig.status()'" "$PSQL -d b_status -c 'SELECT * FROM smig.status()'" \
    -n "psql -c 'SELECT * FROM status_rows' (the same rows from a table)" "$PSQL -d b_status -c 'SELECT * FROM status_rows'"
fi
if part 12; then client_setup; fi
done
if [ ${#HF_QUEUE[@]} -gt 0 ]; then
    echo "== hyperfine: $RUNS rounds of 10 runs of each command, the servers interleaved"
    hf_flush
fi

# the parts measured once
use_storage "$ONCE"
# fingerprint_ms DB FILE: the warm fingerprint() time of DB's schema, in
# the server (mean of 5 after one to warm the caches), as the NOTICE
# "fingerprint_ms N" written to FILE
fingerprint_ms() {
    as_postgres $PSQL -d "$1" -At -c "
    DO \$\$
    DECLARE t0 timestamptz;
    BEGIN
        PERFORM smig.fingerprint();                        -- warm the caches
        t0 := clock_timestamp();
        FOR i IN 1..5 LOOP PERFORM smig.fingerprint(); END LOOP;
        RAISE NOTICE 'fingerprint_ms %', round(extract(epoch FROM clock_timestamp() - t0) * 1000 / 5, 1);
    END \$\$" 2>"$2"
}

if part 8; then
echo "== 8. fingerprint of 1,000 tables; rehearse() of $N migrations vs upgrade_head()"
as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS b_fp" -c "CREATE DATABASE b_fp" >/dev/null
as_postgres $PSQL -d b_fp -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' -c "
    DO \$\$ BEGIN
        FOR i IN 1..1000 LOOP
            EXECUTE format('CREATE TABLE fp_%s (id int PRIMARY KEY, name text NOT NULL DEFAULT %L,
                            n numeric(10,2) CHECK (n >= 0), at timestamptz)', i, 'x');
            EXECUTE format('CREATE INDEX fp_%s_name ON fp_%s (name)', i, i);
        END LOOP;
    END \$\$" >/dev/null
fingerprint_ms b_fp "$B/fp_times.txt"
prepare_rh() {   # prepare_rh DB: a fresh database with the migrations registered
    as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    as_postgres $PSQL -d "$1" -c 'CREATE EXTENSION smig' -c "SELECT smig.load_dir('$B/migrations')" >/dev/null
    as_postgres $PSQL -d postgres -c CHECKPOINT >/dev/null
}
: >"$B/t.rh0"; : >"$B/t.rh1"
for r in $(seq 1 "$RUNS"); do
    for k in 0 1; do
        prepare_rh b_rh
        t0=$(date +%s%N)
        if [ $k = 0 ]; then
            as_postgres $PSQL -d b_rh -c 'SET client_min_messages = warning' \
                -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
        else
            as_postgres $PSQL -d b_rh -c 'SET client_min_messages = warning' \
                -c 'SELECT count(*) FROM smig.rehearse()' >/dev/null
        fi
        t1=$(date +%s%N)
        echo "scale=4; ($t1 - $t0) / 1000000000" | bc >>"$B/t.rh$k"
    done
done
fi

if part 13; then
echo "== 13. fingerprint of 1,000 tables, and the snapshot's share of upgrade_head() of 1,000 migrations (callgrind)"
FP_DIR="$B/fp_profile" FP_SIZES=1000 bench/fingerprint_profile.sh >"$B/fp_profile.txt"
cat "$B/fp_profile.txt"
# the same schema on this server, for the time
as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS b_fp13" -c "CREATE DATABASE b_fp13" >/dev/null
as_postgres $PSQL -d b_fp13 -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' >/dev/null
cat "$B/fp_profile/m1000"/*.sql | as_postgres $PSQL -d b_fp13 -1 >/dev/null
fingerprint_ms b_fp13 "$B/fp13_times.txt"
fi

if part 9; then
echo "== 9. CREATE INDEX CONCURRENTLY on 1,000,000 rows: CALL smig.upgrade() vs psql ($RUNS rounds, interleaved)"
as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS b_cic" -c "CREATE DATABASE b_cic" >/dev/null
as_postgres $PSQL -d b_cic -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' \
    -c 'CREATE TABLE cic (id int, val text)' \
    -c "INSERT INTO cic SELECT g, md5(g::text) FROM generate_series(1, 1000000) g" \
    -c 'VACUUM ANALYZE cic' >/dev/null
CIC_SQL='CREATE INDEX CONCURRENTLY cic_val ON cic (val)'
rm -f "$B"/cic.0 "$B"/cic.1
cic_timed() {    # cic_timed INDEX ROUND: 0 psql, 1 CALL smig.upgrade(); seconds to $B/cic.INDEX
    local t0 t1
    as_postgres $PSQL -d b_cic -c 'SET client_min_messages = warning' -c 'DROP INDEX IF EXISTS cic_val' >/dev/null
    if [ "$1" = 1 ]; then
        as_postgres $PSQL -d b_cic -c 'SET client_min_messages = warning' \
            -c "SELECT smig.register('$2', 'cic', E'-- smig:no-transaction\\n$CIC_SQL;')" >/dev/null
    fi
    as_postgres $PSQL -d postgres -c CHECKPOINT >/dev/null
    t0=$(date +%s%N)
    if [ "$1" = 1 ]; then
        as_postgres $PSQL -d b_cic -c 'SET client_min_messages = warning' -c 'CALL smig.upgrade()' >/dev/null
    else
        as_postgres $PSQL -d b_cic -c "$CIC_SQL" >/dev/null
    fi
    t1=$(date +%s%N)
    echo "scale=4; ($t1 - $t0) / 1000000000" | bc >>"$B/cic.$1"
}
for r in $(seq 1 "$RUNS"); do
    if [ $((r % 2)) = 0 ]; then cic_timed 0 "$r"; cic_timed 1 "$r"; else cic_timed 1 "$r"; cic_timed 0 "$r"; fi
done
fi

# smig's event triggers, all disabled: what part 10 compares against
ET_DISABLE="DO \$\$ DECLARE t name; BEGIN
    FOR t IN SELECT e.evtname FROM pg_catalog.pg_event_trigger e
               JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_event_trigger'::pg_catalog.regclass
                                          AND d.objid = e.oid AND d.deptype = 'e'
               JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid AND x.extname = 'smig'
    LOOP EXECUTE pg_catalog.format('ALTER EVENT TRIGGER %I DISABLE', t); END LOOP;
END \$\$"

if part 10; then
echo "== 10. audit against no event triggers: upgrade_head() of $N migrations ($RUNS rounds, interleaved, on: $STORAGES)"
et_timed() {     # et_timed trig|notrig: one upgrade_head() on a fresh database; seconds to $B/et.MODE, WAL bytes to $B/etw.MODE
    local t0 t1
    as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS b_et" -c "CREATE DATABASE b_et" >/dev/null
    as_postgres $PSQL -d b_et -c 'CREATE EXTENSION smig' -c "SELECT smig.load_dir('$B/migrations')" >/dev/null
    [ "$1" = trig ] || as_postgres $PSQL -d b_et -c "$ET_DISABLE" >/dev/null
    as_postgres $PSQL -d postgres -c CHECKPOINT >/dev/null
    wal_mark
    t0=$(date +%s%N)
    as_postgres $PSQL -d b_et -c 'SET client_min_messages = warning' -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
    t1=$(date +%s%N)
    echo "scale=4; ($t1 - $t0) / 1000000000" | bc >>"$B/et.$1"
    wal_since >>"$B/etw.$1"
}
for r in $(seq 1 "$RUNS"); do
    for s in $STORAGES; do
        use_storage "$s"
        if [ $((r % 2)) = 0 ]; then et_timed trig; et_timed notrig; else et_timed notrig; et_timed trig; fi
    done
done
fi

# Parts 10 and 11 in backend instructions: a server whose backends run
# under callgrind (each writes $CG/cg/cg.<pid> as it exits), its databases
# set up beforehand by the same server without valgrind.
declare -A CGIR
if part 10 || part 11; then
echo "== 10, 11: backend instructions (callgrind)"
use_storage "$ONCE"
make_pg_dir CG cg "$BENCH_DIR"
mkdir -p "$CG/m200" "$CG/cg"
MIGS=("$B"/migrations/*.sql)
cp "${MIGS[@]:0:200}" "$CG/m200/"
as_postgres "$PGBIN/initdb" -D "$CG/data" -A trust -U postgres >/dev/null
chown -R postgres: "$CG"
CGPSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $CG -U postgres"
CGOPTS="-c listen_addresses='' -c unix_socket_directories='$CG' -c fsync=off -c max_wal_size=20GB"
as_postgres "$PGBIN/pg_ctl" -D "$CG/data" -l "$CG/setup.log" -w -o "$CGOPTS" start >/dev/null
if part 10; then
    for mode in trig notrig; do
        as_postgres $CGPSQL -d postgres -c "CREATE DATABASE cg_$mode" >/dev/null
        as_postgres $CGPSQL -d "cg_$mode" -c 'CREATE EXTENSION smig' -c "SELECT smig.load_dir('$CG/m200')" >/dev/null
    done
    as_postgres $CGPSQL -d cg_notrig -c "$ET_DISABLE" >/dev/null
fi
if part 11; then
    as_postgres $CGPSQL -d postgres -c "CREATE DATABASE cg_status" >/dev/null
    as_postgres $CGPSQL -d cg_status -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' \
        -c "SELECT count(smig.register(lpad(g::text, 5, '0'), 'step_' || g, 'SELECT 1;')) FROM generate_series(1, $N) g" \
        -c 'SELECT count(*) FROM smig.upgrade_head()' \
        -c "SELECT count(smig.register(lpad(g::text, 5, '0'), 'step_' || g, 'SELECT 1;')) FROM generate_series($N + 1, $N + 5) g" \
        -c 'CREATE TABLE status_rows AS SELECT * FROM smig.status()' -c 'VACUUM ANALYZE status_rows' >/dev/null
fi
as_postgres $CGPSQL -d postgres -c CHECKPOINT >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$CG/data" -m fast -w stop >/dev/null
as_postgres bash -c "cd '$CG/cg' && valgrind -q --tool=callgrind --trace-children=yes \
    --callgrind-out-file='$CG/cg/cg.%p' '$PGBIN/postgres' -D '$CG/data' $CGOPTS >'$CG/valgrind.log' 2>&1 &"
for i in $(seq 1 120); do as_postgres $CGPSQL -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
cg_session() {   # cg_session KEY DB SQL...: one psql session; its backend's instructions to CGIR[KEY]
    local key=$1 db=$2 args=() pid i ir=
    shift 2
    for q in "$@"; do args+=(-c "$q"); done
    as_postgres $CGPSQL -d "$db" -At -c 'SET client_min_messages = warning' -c 'SELECT pg_backend_pid()' \
        "${args[@]}" >"$CG/out.$key"
    pid=$(head -n 1 "$CG/out.$key")
    for i in $(seq 1 120); do      # the backend writes its profile as it exits
        [ -s "$CG/cg/cg.$pid" ] &&
            ir=$(callgrind_annotate "$CG/cg/cg.$pid" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
        [ -n "$ir" ] && break
        sleep 1
    done
    CGIR[$key]=$ir
    CGPID[$key]=$pid
}
declare -A CGPID
if part 10; then
    # (a session first in each database, uncounted: the first backend of a
    # database after a start writes its relation cache file)
    for mode in trig notrig; do
        cg_session "warm_$mode" "cg_$mode" 'SELECT 1'
        cg_session "$mode" "cg_$mode" 'SELECT count(*) FROM smig.upgrade_head()'
    done
    # what the triggers' instructions go to: the inclusive cost of the
    # functions of the audit trail (audit.c's triggers, PostgreSQL's event
    # trigger machinery), with triggers on
    echo "   inclusive instructions with the event triggers on (callgrind_annotate --inclusive=yes), the audit trail's functions:"
    callgrind_annotate --inclusive=yes --auto=no "$CG/cg/cg.${CGPID[trig]}" 2>/dev/null |
        awk '/smig_audit|smig_guard_ddl|audit_|EventTrigger/ && /\[/ && n++ < 12 { print "     " $0 }'
fi
if part 11; then
    cg_session warm_status cg_status 'SELECT 1'
    cg_session select1 cg_status 'SELECT 1'
    cg_session status cg_status 'SELECT * FROM smig.status()'
    cg_session rows cg_status 'SELECT * FROM status_rows'
fi
as_postgres "$PGBIN/pg_ctl" -D "$CG/data" -m immediate stop >/dev/null 2>&1 || true
fi

# Part 5 in backend instructions: a server whose backends run under
# callgrind, its databases (part 5's directories, registered, applied and
# cached) set up beforehand by the same server without valgrind; one psql
# session per command, after an uncounted one in the same database.
declare -A IR5
if part 5; then
echo "== 5: the start-up check in backend instructions (callgrind)"
use_storage "$ONCE"
make_pg_dir C5 cg5 "$BENCH_DIR"
mkdir -p "$C5/cg"
as_postgres "$PGBIN/initdb" -D "$C5/data" -A trust -U postgres >/dev/null
chown -R postgres: "$C5"
C5PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $C5 -U postgres"
C5OPTS="-c listen_addresses='' -c unix_socket_directories='$C5' -c fsync=off"
as_postgres "$PGBIN/pg_ctl" -D "$C5/data" -l "$C5/setup.log" -w -o "$C5OPTS" start >/dev/null
for n in $STARTUP_N; do
    as_postgres $C5PSQL -d postgres -c "CREATE DATABASE cg_start_$n" >/dev/null
    as_postgres $C5PSQL -d "cg_start_$n" -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' \
        -c "SELECT smig.load_dir('$B/startup_$n')" -c 'SELECT count(*) FROM smig.upgrade_head()' >/dev/null
done
sleep 2.1
for n in $STARTUP_N; do
    as_postgres $C5PSQL -d "cg_start_$n" -c "SELECT smig.load_dir('$B/startup_$n')" -c 'VACUUM ANALYZE' >/dev/null
done
as_postgres $C5PSQL -d postgres -c CHECKPOINT >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$C5/data" -m fast -w stop >/dev/null
as_postgres bash -c "cd '$C5/cg' && valgrind -q --tool=callgrind --trace-children=yes \
    --callgrind-out-file='$C5/cg/cg.%p' '$PGBIN/postgres' -D '$C5/data' $C5OPTS >'$C5/valgrind.log' 2>&1 &"
for i in $(seq 1 120); do as_postgres $C5PSQL -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
cg5_session() {   # cg5_session KEY DB PSQL-ARGS...: one psql session; its backend's instructions to IR5[KEY]
    local key=$1 db=$2 pid i ir=
    shift 2
    as_postgres $C5PSQL -d "$db" -At -c 'SELECT pg_backend_pid()' "$@" >"$C5/out.$key"
    pid=$(head -n 1 "$C5/out.$key")
    for i in $(seq 1 120); do      # the backend writes its profile as it exits
        [ -s "$C5/cg/cg.$pid" ] &&
            ir=$(callgrind_annotate "$C5/cg/cg.$pid" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
        [ -n "$ir" ] && break
        sleep 1
    done
    IR5[$key]=$ir
    C5PID[$key]=$pid
}
declare -A C5PID
for n in $STARTUP_N; do
    cg5_session "warm_$n" "cg_start_$n" -c 'SELECT 1'
    [ -n "${IR5[select1]:-}" ] || cg5_session select1 "cg_start_$n" -c 'SELECT 1'
    cg5_session "load_dir_$n" "cg_start_$n" -c "SELECT smig.load_dir('$B/startup_$n'); SELECT count(*) FROM smig.upgrade_head()"
    cg5_session "texts_$n" "cg_start_$n" -f "$B/startup_$n.sql"
    cg5_session "checksums_$n" "cg_start_$n" -f "$B/startup_cksum_$n.sql"
done
# where load_dir's instructions go at the largest directory (inclusive)
n=${STARTUP_N##* }
echo "   load_dir + upgrade_head, $n files: inclusive instructions by function (callgrind_annotate --inclusive=yes), the top ones:"
callgrind_annotate --inclusive=yes --auto=no "$C5/cg/cg.${C5PID[load_dir_$n]}" 2>/dev/null |
    awk '/\[/ && /smig_|scan_dir|cache_|read_migration|fstatat|readdir|ReadDir|SPI_|toast|checksum|hash_bytes|palloc|GetUserName|upgrade/ && n++ < 16 { print "     " $0 }'
as_postgres "$PGBIN/pg_ctl" -D "$C5/data" -m immediate stop >/dev/null 2>&1 || true
fi

use_storage "$ONCE"
if part 4; then
echo "== 4. psql -1 vs upgrade_head(), audit and retry overhead, in instructions (callgrind, 200 migrations)"
make_pg_dir V callgrind "$BENCH_DIR"
mkdir -p "$V/m200" "$V/cg"
MIGS=("$B"/migrations/*.sql)
cp "${MIGS[@]:0:200}" "$V/m200/"
as_postgres "$PGBIN/initdb" -D "$V/data" -A trust -U postgres >/dev/null
chown -R postgres: "$V"
as_postgres bash -c "cd '$V/cg' && valgrind -q --tool=callgrind --trace-children=yes \
    --callgrind-out-file='$V/cg/cg.%p' '$PGBIN/postgres' -D '$V/data' -c listen_addresses='' \
    -c unix_socket_directories='$V' -c fsync=off -c max_wal_size=20GB >'$V/valgrind.log' 2>&1 &"
VPSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $V -U postgres"
for i in $(seq 1 120); do as_postgres $VPSQL -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
declare -A IR
# psql -1 -f of the same 200 files, on a database without smig: the
# deterministic side of part 1's comparison (target: smig <= 1.00x, audit on)
cat "$V"/m200/*.sql > "$V/all200.sql"; chown postgres: "$V/all200.sql"
as_postgres $VPSQL -d postgres -c "CREATE DATABASE cg_psql" >/dev/null
pid=$(as_postgres $VPSQL -d cg_psql -At -1 -c 'SELECT pg_backend_pid()' -f "$V/all200.sql" | head -1)
sleep 2
IR[psql]=$(callgrind_annotate "$V/cg/cg.$pid" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
for mode in on off retry0 quiet; do
    as_postgres $VPSQL -d postgres -c "CREATE DATABASE cg_$mode" >/dev/null
    as_postgres $VPSQL -d "cg_$mode" -c 'CREATE EXTENSION smig' -c "SELECT smig.load_dir('$V/m200')" >/dev/null
    case $mode in
        retry0) set_mode='SET smig.lock_retries = 0' ;;
        quiet) set_mode='SET track_activities = off' ;;   # no progress reports (smig.progress, pg_stat_activity)
        *) set_mode="SET smig.audit = $mode" ;;
    esac
    pid=$(as_postgres $VPSQL -d "cg_$mode" -At -c 'SET client_min_messages = warning' \
          -c "$set_mode" -c 'SELECT pg_backend_pid() FROM smig.upgrade_head() LIMIT 1')
    sleep 2    # the backend writes its profile as it exits
    IR[$mode]=$(callgrind_annotate "$V/cg/cg.$pid" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
done
as_postgres "$PGBIN/pg_ctl" -D "$V/data" -m immediate stop >/dev/null 2>&1 || true
fi

if part 7; then
echo "== 7. live traffic: pgbench on a table while a long transaction holds it and a migration alters it"
LIVE_SECONDS=${LIVE_SECONDS:-14}
cat > "$B/live.sql" <<'SQL'
\set id random(1, 10000)
UPDATE live_t SET v = v + 1 WHERE id = :id;
SELECT v FROM live_t WHERE id = :id;
SQL
chown postgres: "$B/live.sql"
declare -A LIVE
for mode in wait defaults; do
    db=b_live_$mode
    as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    as_postgres $PSQL -d "$db" -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION smig' \
        -c 'CREATE TABLE live_t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)' \
        -c 'INSERT INTO live_t (id) SELECT g FROM generate_series(1, 10000) g' -c 'VACUUM ANALYZE live_t' \
        -c "SELECT smig.register('1', 'add_column', 'ALTER TABLE live_t ADD COLUMN note text;')" >/dev/null
    rm -f "$B"/live_"$mode".*
    # 200 transactions a second from 4 clients: the latency is waiting, not a busy CPU
    as_postgres "$PGBIN/pgbench" -h "$B" -U postgres -n -M prepared -c 4 -j 2 -R 200 -T "$LIVE_SECONDS" \
        -f "$B/live.sql" -l --log-prefix="$B/live_$mode" "$db" >"$B/pgbench_$mode.txt" 2>&1 &
    bench_pid=$!
    sleep 2
    # a long transaction (a report, a forgotten psql) holds ACCESS SHARE for 6 s
    as_postgres $PSQL -d "$db" -c 'BEGIN' -c 'SELECT count(*) FROM live_t' -c 'SELECT pg_sleep(6)' \
        -c 'COMMIT' >/dev/null &
    holder_pid=$!
    sleep 1
    t0=$(date +%s%N)
    if [ "$mode" = wait ]; then set_lt='SET smig.lock_timeout = 0'; else set_lt='SET smig.lock_timeout = DEFAULT'; fi
    as_postgres $PSQL -d "$db" -c "$set_lt" -c 'SELECT count(*) FROM smig.upgrade_head()' \
        >"$B/live_migration_$mode.txt" 2>&1 || true
    t1=$(date +%s%N)
    wait "$holder_pid" || true
    wait "$bench_pid" || true
    LIVE[$mode]=$(cat "$B"/live_"$mode".* | awk '{ print $3 / 1000.0 }' | sort -n | awk \
        -v mig="$(echo "scale=3; ($t1 - $t0) / 1000000000" | bc)" \
        -v retries="$(grep -c 'timed out waiting' "$B/live_migration_$mode.txt" || true)" '
        { lat[NR] = $1; if ($1 > 1000) slow++ }
        END {
            printf "%d transactions, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d took more than 1 s; migration done in %.2f s after %d retries",
                NR, lat[int(NR * 0.50)], lat[int(NR * 0.99)], lat[NR], slow, mig, retries }')
    echo "   $mode: ${LIVE[$mode]}"
done
fi

# median of command $2 (0-based) in hyperfine's CSV export $1.  (Noise on a
# shared machine only adds time, so for the apply runs the best run is
# printed too: the better estimate of a command's own cost.)
median() { awk -F, -v row="$(($2 + 2))" 'NR == row { print $4 }' "$1"; }
echo
echo "== results (medians of one run, and ratios of the best runs; the machine is shared, so read ratios)"
once() { [ "$S" = "$ONCE" ]; }   # the parts measured once print with this server's results
for s in $STORAGES; do
use_storage "$s"
case $S in
    disk) echo "-- on the real disk (fsync on; $B)"; APPLY_TARGET=1.00 ;;
    tmpfs) echo "-- on tmpfs (fsync off; $B)"; APPLY_TARGET=0.85 ;;
esac
if part 1; then
PSQL_T=$(stat_of 0 median)
SMIG_T=$(stat_of 1 median)
NOAUDIT_T=$(stat_of 2 median)
PSQL_MIN=$(stat_of 0 min)
SMIG_MIN=$(stat_of 1 min)
NOAUDIT_MIN=$(stat_of 2 min)
awk -v p="$PSQL_T" -v s="$SMIG_T" -v pm="$PSQL_MIN" -v sm="$SMIG_MIN" -v n="$N" -v t="$APPLY_TARGET" 'BEGIN {
    printf "apply %d migrations: psql -1 -f %.3f s, upgrade_head() %.3f s, ratio %.3f (best runs: %.3f) (target <= %s)\n", n, p, s, s / p, sm / pm, t }' 
awk -v p="$(stat_file "$B/w.0" median)" -v s="$(stat_file "$B/w.1" median)" 'BEGIN {
    printf "   WAL: psql -1 -f %.2f MB, upgrade_head() %.2f MB, ratio %.3f (target <= 1.03)\n", p / 1e6, s / 1e6, s / p }'
awk -v p="$PSQL_T" -v s="$(stat_of 4 median)" -v pm="$PSQL_MIN" -v sm="$(stat_of 4 min)" -v n="$N" \
    -v pw="$(stat_file "$B/w.0" median)" -v sw="$(stat_file "$B/w.4" median)" 'BEGIN {
    printf "register and apply %d migrations end to end (load_dir + upgrade_head): %.3f s, ratio %.3f to psql -1 -f (best runs: %.3f) (target <= 1.00); WAL %.2f MB, ratio %.3f\n", n, s, s / p, sm / pm, sw / 1e6, sw / pw }'
fi
if part 2; then
SEL1_T=$(median "$B/noop.csv" 0)
NOOP_T=$(median "$B/noop.csv" 1)
NOOP_MS=$(sed -n 's/.*noop_ms \([0-9.]*\).*/\1/p' "$B/server_times.txt")
VERIFY_MS=$(sed -n 's/.*verify_ms \([0-9.]*\).*/\1/p' "$B/server_times.txt")
echo "upgrade_head() no-op with 10,000 applied, in the server: ${NOOP_MS} ms (target < 5 ms)"
awk -v a="$SEL1_T" -v b="$NOOP_T" 'BEGIN {
    printf "no-op as a psql process: %.1f ms vs SELECT 1 %.1f ms, ratio %.3f (target <= 1.10)\n", b * 1000, a * 1000, b / a }'
echo "verify_checksum() over 10,000 migrations: ${VERIFY_MS} ms (target < 50 ms)"
fi
if part 1; then
awk -v on="$SMIG_T" -v off="$NOAUDIT_T" -v onm="$SMIG_MIN" -v offm="$NOAUDIT_MIN" -v n="$N" 'BEGIN {
    printf "audit overhead on %d migrations, wall clock: audit on %.3f s, off %.3f s, ratio %.3f (best runs: %.3f) (the target is against no event triggers: part 10)\n", n, on, off, on / off, onm / offm }'
fi
if part 4 && once; then
awk -v p="${IR[psql]}" -v s="${IR[on]}" 'BEGIN {
    printf "apply 200 migrations, backend instructions: psql -1 -f %.0f M, upgrade_head() %.0f M (audit on), ratio %.3f (target <= 1.00)\n", p / 1e6, s / 1e6, s / p }'
awk -v on="${IR[on]}" -v off="${IR[off]}" 'BEGIN {
    printf "audit overhead on 200 migrations, instructions: on %.0f M, off %.0f M, ratio %.3f (target <= 1.10)\n", on / 1e6, off / 1e6, on / off }'
fi
if part 1; then
awk -v on="$SMIG_T" -v off="$(stat_of 3 median)" -v onm="$SMIG_MIN" -v offm="$(stat_of 3 min)" -v n="$N" 'BEGIN {
    printf "retry machinery on %d migrations, wall clock: defaults %.3f s, smig.lock_retries = 0 %.3f s, ratio %.3f (best runs: %.3f)\n", n, on, off, on / off, onm / offm }'
fi
if part 4 && once; then
awk -v on="${IR[on]}" -v off="${IR[retry0]}" 'BEGIN {
    printf "retry machinery on 200 migrations, instructions: defaults %.0f M, smig.lock_retries = 0 %.0f M, ratio %.4f\n", on / 1e6, off / 1e6, on / off }'
awk -v on="${IR[on]}" -v off="${IR[quiet]}" 'BEGIN {
    printf "progress reports on 200 migrations, instructions: defaults %.0f M, track_activities = off %.0f M, ratio %.4f\n", on / 1e6, off / 1e6, on / off }'
fi
if part 7 && once; then
echo "live traffic, smig.lock_timeout = 0 (wait forever): ${LIVE[wait]}"
echo "live traffic, smig's defaults (1s, 5 retries):   ${LIVE[defaults]}"
echo "(live traffic target: with the defaults, p99 within lock_timeout + 100 ms)"
fi
if part 8 && once; then
FP_MS=$(sed -n 's/.*fingerprint_ms \([0-9.]*\).*/\1/p' "$B/fp_times.txt")
echo "fingerprint() of a 1,000-table schema, in the server: ${FP_MS} ms (target <= 1000 ms)"
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
awk -v a="$(med "$B/t.rh0")" -v b="$(med "$B/t.rh1")" -v n="$N" 'BEGIN {
    printf "%d migrations: upgrade_head() %.3f s, rehearse() %.3f s, ratio %.3f (medians)\n", n, a, b, b / a }'
fi
if part 5; then
for n in $STARTUP_N; do
    awk -v a="$(median "$B/startup_$n.csv" 0)" -v b="$(median "$B/startup_$n.csv" 1)" \
        -v c="$(median "$B/startup_$n.csv" 2)" -v d="$(median "$B/startup_$n.csv" 3)" -v n="$n" \
        -v w="${WAL5[$S,$n,load_dir]} ${WAL5[$S,$n,texts]} ${WAL5[$S,$n,checksums]}" 'BEGIN {
        printf "start-up check, nothing new, %d files: SELECT 1 %.1f ms; load_dir + upgrade_head %.1f ms (ratio %.3f); register_many + upgrade_head, the texts %.1f ms (ratio %.3f), checksums only %.1f ms (ratio %.3f); WAL bytes %s\n",
            n, a * 1000, b * 1000, b / a, c * 1000, c / a, d * 1000, d / a, w }'
    if once && [ -n "${IR5[select1]:-}" ]; then
        awk -v a="${IR5[select1]}" -v b="${IR5[load_dir_$n]}" -v c="${IR5[texts_$n]}" -v d="${IR5[checksums_$n]}" -v n="$n" 'BEGIN {
            printf "   backend instructions (callgrind, one psql session each): SELECT 1 %.1f M; load_dir + upgrade_head %.1f M (ratio %.3f, %.0f per file beyond SELECT 1); register_many + upgrade_head, texts %.1f M (ratio %.3f), checksums only %.1f M (ratio %.3f)\n",
                a / 1e6, b / 1e6, b / a, (b - a) / n, c / 1e6, c / a, d / 1e6, d / a }'
    fi
done
echo "(start-up targets: 1.30x at 1,000 files, 2.50x at 10,000)"
fi
if part 13 && once; then
awk -F'|' -v ms="$(sed -n 's/.*fingerprint_ms \([0-9.]*\).*/\1/p' "$B/fp13_times.txt")" '
    $1 ~ /^1000 tables/ && $2 ~ /SELECT 1 / { s1 = $3 + 0 }
    $1 ~ /^1000 tables/ && $2 ~ /fingerprint/ && $2 !~ /,/ { one = $3 + 0 }
    $1 ~ /^1000 tables/ && $2 ~ /fingerprint.*,/ { two = $3 + 0 }
    $1 ~ /^1000 migrations/ { split($3, w, " "); total = w[1] + 0; snap = w[length(w)] + 0 }
    END {
        printf "fingerprint() of 1,000 tables: %.0f M backend instructions warm (target <= 400 M), %.0f M cold; %s ms warm in the server (target <= 1000 ms)\n",
            (two - one) / 1e6, (one - s1) / 1e6, ms
        printf "snapshot in upgrade_head() of 1,000 migrations: %.0f M of %.0f M instructions, %.1f %% (target <= 5 %%)\n",
            snap / 1e6, total / 1e6, 100 * snap / total
    }' "$B/fp_profile.txt"
fi
if part 9 && once; then
cic_stat() { sort -n "$B/cic.$1" | awk -v what="$2" '{ v[NR] = $1 } END {
    if (what == "min") print v[1]; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
awk -v p="$(cic_stat 0 median)" -v s="$(cic_stat 1 median)" -v pm="$(cic_stat 0 min)" -v sm="$(cic_stat 1 min)" 'BEGIN {
    printf "CREATE INDEX CONCURRENTLY on 1,000,000 rows: psql %.3f s, CALL smig.upgrade() %.3f s, ratio %.3f (best runs: %.3f) (target <= 1.05)\n", p, s, s / p, sm / pm }'
fi
if part 10; then
awk -v a="$(stat_file "$B/et.trig" median)" -v b="$(stat_file "$B/et.notrig" median)" \
    -v am="$(stat_file "$B/et.trig" min)" -v bm="$(stat_file "$B/et.notrig" min)" \
    -v aw="$(stat_file "$B/etw.trig" median)" -v bw="$(stat_file "$B/etw.notrig" median)" -v n="$N" 'BEGIN {
    printf "audit against no event triggers, %d migrations: triggers on %.3f s, all disabled %.3f s, ratio %.3f (best runs: %.3f); WAL %.2f MB vs %.2f MB, ratio %.3f (target <= 1.05)\n",
        n, a, b, a / b, am / bm, aw / 1e6, bw / 1e6, aw / bw }'
fi
if part 10 && once; then
awk -v on="${CGIR[trig]}" -v off="${CGIR[notrig]}" 'BEGIN {
    printf "audit against no event triggers, 200 migrations, backend instructions: on %.0f M, disabled %.0f M, ratio %.3f (target <= 1.05)\n", on / 1e6, off / 1e6, on / off }'
fi
if part 11; then
STATUS_MS=$(sed -n 's/.*status_ms \([0-9.]*\).*/\1/p' "$B/status_times.txt")
awk -v a="$(median "$B/status.csv" 0)" -v b="$(median "$B/status.csv" 1)" -v c="$(median "$B/status.csv" 2)" \
    -v srv="$STATUS_MS" -v n="$N" 'BEGIN {
    printf "status() over %d applied + 5 pending as a psql process: %.1f ms vs SELECT 1 %.1f ms, ratio %.3f (target <= 1.10); the same rows from a table %.1f ms (ratio %.3f); status() in the server, warm, %s ms\n",
        n, b * 1000, a * 1000, b / a, c * 1000, c / a, srv }'
fi
if part 11 && once; then
awk -v a="${CGIR[select1]}" -v b="${CGIR[status]}" -v c="${CGIR[rows]}" 'BEGIN {
    printf "status() sessions, backend instructions (psql -c, a fresh backend each): SELECT 1 %.1f M, status() %.1f M (+%.1f M), the same rows from a table %.1f M (+%.1f M)\n",
        a / 1e6, b / 1e6, (b - a) / 1e6, c / 1e6, (c - a) / 1e6 }'
fi
if part 12; then client_report; fi
done
