#!/usr/bin/env bash
# tools/test.sh — the whole smig test suite, from a fresh Debian 12 machine.
#
# Run as root (or with sudo): installs what is missing, builds smig with
# warnings as errors, installs it, then runs every suite against throwaway
# PostgreSQL servers started as the postgres OS user:
#   unit       plain-C tests of the lexer, versions and file names
#   fuzz       the libFuzzer harnesses of test/fuzz (clang-14, ASan+UBSan):
#              file names and versions, the lexer, a file's sections,
#              directives and checksum walk, FUZZ_SECONDS (default 20)
#              each; a crash fails the suite and prints the input's path
#              (kept under /tmp/smig-fuzz.*); a clang without a usable
#              libFuzzer fails it too
#   regress    pg_regress files (sql/, expected/)
#   isolation  isolation specs (specs/, expected/)
#   pgtap      pgTAP files (test/*.sql) through pg_prove
#   tap        PostgreSQL::Test::Cluster tests (t/*.pl): primary + standby,
#              pg_dump + pg_restore, the deploy lock, the guard with and
#              without preloading, README's deployer recipe as printed,
#              settings behind a real PgBouncer, examples/ledger up, down
#              and up again, long deploys stopped by cancel, session end
#              and SIGKILL, the 0.1 -> 0.2 extension upgrade from a
#              database the real smig 0.1 set up (built from git), the
#              smig client (installed into $PGBIN by make install, found
#              there through $PATH), a 1,000,000-row backfill under
#              pgbench, killed half-way and resumed
# and closes with one line "N passed, N failed".  SMIG_SUITES and friends
# (below) run a part of it.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/common.sh

ensure_packages $BASE_PACKAGES clang-14 libclang-rt-14-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl libipc-run-perl pgbouncer
build_install
trap cleanup_dirs EXIT

PASSED=0
FAILED=0
FAILED_SUITES=()

# SMIG_SUITES (default: all six) runs only the suites it names, and
# SMIG_REGRESS, SMIG_ISOLATION, SMIG_PROVE_TESTS only those tests of theirs
# (for a quick check of one change, or tools/mutation.sh on one mutant:
# SMIG_SUITES=regress SMIG_REGRESS="install versions baseline": "versions"
# creates the extension that most files expect); CI runs everything.
SMIG_SUITES=${SMIG_SUITES:-unit fuzz regress isolation pgtap tap}
want() { case " $SMIG_SUITES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# count SUITE LOGFILE OKPATTERN FAILPATTERN EXITSTATUS: a suite that exits
# non-zero, or passes nothing, counts as a failure even if no test line
# says so (it may not have run at all).
count() {
    local ok bad
    ok=$(grep -cE "$3" "$2" || true)
    bad=$(grep -cE "$4" "$2" || true)
    if [ "${5:-0}" -ne 0 ] && [ "$bad" -eq 0 ] || [ "$ok" -eq 0 ]; then
        echo "   $1: the suite did not run cleanly (exit status ${5:-0})"
        bad=$((bad + 1))
    fi
    echo "   $1: $ok passed, $bad failed"
    PASSED=$((PASSED + ok))
    FAILED=$((FAILED + bad))
    if [ "$bad" -gt 0 ]; then FAILED_SUITES+=("$1"); fi
}

# a copy of the tree the postgres user can write (pg_regress writes results/)
make_pg_dir WORK test
cp -r . "$WORK/tree"
rm -rf "$WORK/tree/.git"
chown -R postgres: "$WORK"
T="$WORK/tree"
run_make() { as_postgres make -s -C "$T" PG_CONFIG="$PG_CONFIG" "$@"; }

[ -x "$($PG_CONFIG --bindir)/smig" ] || { echo "the smig client was not installed into $($PG_CONFIG --bindir)" >&2; exit 1; }

if want unit; then
echo "== unit tests"
rc=0; make -s -C test/unit check >"$WORK/unit.log" 2>&1 || rc=$?
count unit "$WORK/unit.log" '^ok ' '^not ok ' $rc
fi

if want fuzz; then
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
echo "== fuzz (libFuzzer, $FUZZ_SECONDS s per harness)"
FUZZ_KEEP=$(mktemp -d /tmp/smig-fuzz.XXXXXX)
rc=0; make -s -C "$T/test/fuzz" run FUZZ_SECONDS="$FUZZ_SECONDS" FUZZ_OUT="$FUZZ_KEEP" \
    >"$WORK/fuzz.log" 2>&1 || rc=$?
grep -E '^(ok|not ok) ' "$WORK/fuzz.log" | sed 's/^/   /' || true
count fuzz "$WORK/fuzz.log" '^ok ' '^not ok ' $rc
if [ "$rc" -eq 0 ]; then
    rm -rf "$FUZZ_KEEP"
else
    echo "   fuzz: the failing inputs and logs are kept in $FUZZ_KEEP"
    grep -E '^#   (input|reproduce)' "$WORK/fuzz.log" | sed 's/^#/   /' || true
    [ -s "$WORK/fuzz.log" ] && ! grep -qE '^(ok|not ok) ' "$WORK/fuzz.log" &&
        echo "   fuzz: no harness ran: is libFuzzer (clang-14 -fsanitize=fuzzer, libclang-rt-14-dev) usable?" || true
fi
fi

if want regress; then
echo "== pg_regress"
rc=0; run_make installcheck-regress ${SMIG_REGRESS:+REGRESS="$SMIG_REGRESS"} EXTRA_REGRESS_OPTS="--temp-instance=$WORK/regress-instance --temp-config=$T/test/regress.conf" \
    >"$WORK/regress.log" 2>&1 || rc=$?
count regress "$WORK/regress.log" '\.\.\. ok' '\.\.\. FAILED|\.\.\. failed' $rc
[ -f "$T/regression.diffs" ] && cat "$T/regression.diffs"
fi

if want isolation; then
echo "== isolation"
rc=0; run_make installcheck-isolation ${SMIG_ISOLATION:+ISOLATION="$SMIG_ISOLATION"} EXTRA_REGRESS_OPTS="--temp-instance=$WORK/isolation-instance" \
    >"$WORK/isolation.log" 2>&1 || rc=$?
count isolation "$WORK/isolation.log" '\.\.\. ok' '\.\.\. FAILED|\.\.\. failed' $rc
[ -f "$T/output_iso/regression.diffs" ] && cat "$T/output_iso/regression.diffs"
fi

if want pgtap; then
echo "== pgTAP"
make_pg_dir PGT pgtap
start_cluster "$PGT"
as_postgres "$PGBIN/psql" -X -q -d postgres -c "CREATE DATABASE smig_tap" >/dev/null
rc=0; as_postgres pg_prove -v -d smig_tap test/*.sql >"$WORK/pgtap.log" 2>&1 || rc=$?
count pgtap "$WORK/pgtap.log" '^ok ' '^not ok ' $rc
stop_cluster "$PGT"
fi

if want tap; then
echo "== smig 0.1, for the extension upgrade test"
make_pg_dir OLD old-release
rc=0; build_old_release "$OLD" || rc=$?
case $rc in
    0) echo "   built from $SMIG_0_1_COMMIT" ;;
    1) echo "   this checkout has no history of $SMIG_0_1_COMMIT: t/008_extension_upgrade.pl is skipped" ;;
    *) echo "   old-release: 0 passed, 1 failed"; FAILED=$((FAILED + 1)); FAILED_SUITES+=(old-release)
       cp "$OLD/build.log" "$WORK/old-release.log" 2>/dev/null || echo "(no build log)" >"$WORK/old-release.log" ;;
esac

echo "== TAP (standby, dump and restore, lock, guard, recipe, PgBouncer, up-down-up, long deploys, extension upgrade, client, backfill)"
rc=0; run_make prove-tap ${SMIG_PROVE_TESTS:+PROVE_TESTS="$SMIG_PROVE_TESTS"} PROVE_FLAGS=-v >"$WORK/tap.log" 2>&1 || rc=$?
count tap "$WORK/tap.log" '^ok ' '^not ok ' $rc
fi

if [ "$FAILED" -gt 0 ] || [ "$PASSED" -eq 0 ]; then
    for s in "${FAILED_SUITES[@]}"; do
        echo "---- $s log ----"
        tail -n 60 "$WORK/$s.log"
    done
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
