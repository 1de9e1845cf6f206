# bench/client.sh — part 12 of bench/run.sh (PARTS=12 runs only it): the
# smig client (issue 15, SPEC §7), sourced by run.sh once per server (it
# uses run.sh's servers, $B, $PSQL, hf and stat_file; it is not run alone).
#
#  a. `smig up` with nothing to do, at CLIENT_N files (default "1000 10000";
#     the same small files as part 5, applied beforehand), against `psql -c
#     'SELECT 1'`, as processes under hyperfine (targets 1.15x at 1,000
#     files, 1.50x at 10,000): reading and checksumming the files, one
#     register_many() of checksums, upgrade_head()'s fast path.
#  b. applying part 1's $N migrations from files on an empty database
#     (the extension created, nothing registered): `smig up` against
#     `psql -1 -f all.sql` on the same SQL (target 1.00x), CLIENT_RUNS
#     rounds (default RUNS), the two commands alternating, each on a fresh
#     database after a checkpoint; wall clock and the WAL each wrote.
# client_setup queues (a) and runs (b) on the current server; client_report
# prints the results of the server use_storage chose.

CLIENT_N=${CLIENT_N:-1000 10000}
CLIENT_RUNS=${CLIENT_RUNS:-$RUNS}
SMIG="$PGBIN/smig"

client_setup() {
    local n d i t0 t1 r k
    echo "== 12. [$S] the smig client: up with nothing to do ($CLIENT_N files), and applying $N migrations from files"
    for n in $CLIENT_N; do
        d="$B/client_$n"
        mkdir -p "$d"
        for i in $(seq 1 "$n"); do
            {
                echo "-- step $i of the client benchmark: a small migration of about"
                echo "-- the size of part 1's, cheap to apply"
                echo "SELECT $i AS step, 'bench_$i' AS name;"
                echo "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'bench_$i';"
            } > "$d/V${i}__step_$i.sql"
        done
        chown -R postgres: "$d"
        as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" \
            -c "DROP DATABASE IF EXISTS b_client_$n" -c "CREATE DATABASE b_client_$n" >/dev/null
        as_postgres "$SMIG" -h "$B" -U postgres -d "b_client_$n" init >/dev/null
        as_postgres "$SMIG" -h "$B" -U postgres -d "b_client_$n" --dir "$d" up >/dev/null 2>&1
        test "$(as_postgres $PSQL -d "b_client_$n" -At -c "SELECT count(*) FROM smig.applied")" = "$n" ||
            { echo "smig up did not apply the $n files" >&2; exit 1; }
        as_postgres "$SMIG" -h "$B" -U postgres -d "b_client_$n" --dir "$d" -v up >"$B/client_$n.v" 2>&1
        grep -q "the server needs the texts of 0$" "$B/client_$n.v" ||
            { echo "smig up with nothing to do sent texts at $n files" >&2; exit 1; }
        hf "$B/client_$n.csv" \
            -n "psql -c 'SELECT 1'" "$PSQL -d b_client_$n -c 'SELECT 1'" \
            -n "smig up with nothing to do ($n files)" "$SMIG -h $B -U postgres -d b_client_$n --dir $d up"
    done

    # (b): the rounds alternate the two commands, each on a fresh database
    rm -f "$B"/capp.t.* "$B"/capp.w.*
    for r in $(seq 0 $((CLIENT_RUNS - 1))); do
        for k in $(( r % 2 )) $(( (r + 1) % 2 )); do
            as_postgres $PSQL -d postgres -c "SET client_min_messages = warning" \
                -c "DROP DATABASE IF EXISTS b_capp" -c "CREATE DATABASE b_capp" >/dev/null
            [ "$k" -eq 1 ] && as_postgres $PSQL -d b_capp -c 'CREATE EXTENSION smig' >/dev/null
            as_postgres $PSQL -d postgres -c CHECKPOINT >/dev/null
            wal_mark
            if [ "$k" -eq 0 ]; then
                t0=$(date +%s%N); as_postgres $PSQL -d b_capp -1 -f "$B/all.sql" >/dev/null; t1=$(date +%s%N)
            else
                t0=$(date +%s%N)
                as_postgres "$SMIG" -h "$B" -U postgres -d b_capp --dir "$B/migrations" up >/dev/null 2>&1
                t1=$(date +%s%N)
                test "$(as_postgres $PSQL -d b_capp -At -c "SELECT count(*) FROM smig.applied")" = "$N" ||
                    { echo "smig up did not apply the $N migrations" >&2; exit 1; }
            fi
            echo "scale=4; ($t1 - $t0) / 1000000000" | bc >>"$B/capp.t.$k"
            wal_since >>"$B/capp.w.$k"
        done
    done
}

client_report() {
    local n a b
    for n in $CLIENT_N; do
        a=$(median "$B/client_$n.csv" 0) b=$(median "$B/client_$n.csv" 1)
        awk -v a="$a" -v b="$b" -v n="$n" -v t="$( [ "$n" -le 1000 ] && echo 1.15 || echo 1.50 )" 'BEGIN {
            printf "smig up, nothing to do, %d files: psql -c SELECT 1 %.1f ms, smig up %.1f ms, ratio %.3f (target %s)\n",
                n, a * 1000, b * 1000, b / a, t }'
    done
    awk -v p="$(stat_file "$B/capp.t.0" median)" -v s="$(stat_file "$B/capp.t.1" median)" \
        -v pm="$(stat_file "$B/capp.t.0" min)" -v sm="$(stat_file "$B/capp.t.1" min)" \
        -v pw="$(stat_file "$B/capp.w.0" median)" -v sw="$(stat_file "$B/capp.w.1" median)" -v n="$N" 'BEGIN {
        printf "applying %d migrations from files: psql -1 -f %.3f s, smig up %.3f s, ratio %.3f (best runs %.3f) (target 1.00); WAL %.1f MB and %.1f MB\n",
            n, p, s, s / p, sm / pm, pw / 1e6, sw / 1e6 }'
}
