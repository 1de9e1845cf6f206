#!/usr/bin/env bash
# tools/mutation.sh — mutation testing of smig: does the suite catch bugs?
#
#   sudo tools/mutation.sh            every mutant of tools/mutants.txt
#   sudo tools/mutation.sh ID...      only these mutants, in this order
#   make mutation                     the same as the first form
#
# Each mutant of tools/mutants.txt is one planted bug: a literal text that
# must occur exactly once in one file (a leading '^' anchors it to the
# start of a line), and what replaces it.  Before anything runs, every
# entry is checked (a text that occurs zero or two or more times stops the
# run: the list cannot rot silently).  The working tree (tracked and
# untracked files, without .git) is copied once; for each mutant a copy of
# that snapshot is changed, built with -Werror (a mutant that does not
# build is "invalid", not killed) and tested with the copy's
# tools/test.sh, which installs the build into the system PostgreSQL
# directories.  A failing suite kills the mutant; so does a run that
# exceeds MUTATION_TIMEOUT seconds (default 300: "timeout").
# Mutants marked EQUIVALENT (with the reason) are not run and do not count
# (MUTATION_RUN_EQUIVALENT=1 runs them too, to check the claim).
#
# tools/test.sh's SMIG_SUITES, SMIG_REGRESS, SMIG_ISOLATION and
# SMIG_PROVE_TESTS narrow every run (the baseline's too) to the tests that
# should kill the mutants named, for a check in a minute instead of a
# whole suite per mutant:
#   SMIG_SUITES=regress SMIG_REGRESS="install versions baseline" tools/mutation.sh bl-skips
# A mutant that survives such a run may still be killed by another suite.
#
# The machine may be shared: every install and test holds
# /tmp/smig-install.lock (flock), one mutant at a time, so that other test
# runs interleave; so does the final reinstall of the unmodified tree.
# First the unmodified tree is tested (a failing baseline stops the run;
# MUTATION_SKIP_BASELINE=1 skips it).  Logs of every run stay under
# $MUTATION_LOGDIR (default a new /tmp/smig-mutation.XXXXXX), printed at
# the start and the end.
#
# The last lines: total, invalid, equivalent, killed, survived, the score
# killed / (total - invalid - equivalent), and every survivor with its note.
# The exit status is 0 when the run completed (whatever the score), 1 when
# the baseline failed, 2 for a bad mutant list.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LIST=${MUTATION_LIST:-$ROOT/tools/mutants.txt}
LOCK=${SMIG_INSTALL_LOCK:-/tmp/smig-install.lock}
TIMEOUT=${MUTATION_TIMEOUT:-300}
LOG=${MUTATION_LOGDIR:-$(mktemp -d /tmp/smig-mutation.XXXXXX)}
mkdir -p "$LOG"
# the postgres user runs pg_prove from the copies: it must be able to enter
chmod 755 "$LOG"

# parse LIST: one "ID FILE OLD NEW NOTE" line per mutant on stdout, the
# fields separated by \x1f (not a tab: read would strip the tabs of OLD);
# dies (exit 2) on a malformed line or a text that does not occur exactly
# once.  With ids as arguments, only those (each must exist).
parse_list() {
    perl -e '
        use strict; use warnings;
        my ($list, $root, @want) = @ARGV;
        my %want = map { $_ => 1 } @want;
        my (%seen, @out, $bad);
        open my $fh, "<", $list or die "cannot open $list: $!\n";
        while (my $line = <$fh>) {
            chomp $line;
            my $ln = $.;
            next if $line =~ /^\s*(#|$)/;
            my ($id, $file, $d, $rest) = $line =~ /^(\S+)\s+(\S+)\s+s(.)(.*)$/
                or do { warn "$list:$ln: malformed entry\n"; $bad = 1; next };
            my ($old, $new, $note) = $rest =~ /^(.*?)\Q$d\E(.*?)\Q$d\E\s*(.*)$/
                or do { warn "$list:$ln: $id: expected s${d}old${d}new${d} note\n"; $bad = 1; next };
            if ($seen{$id}++) { warn "$list:$ln: duplicate id $id\n"; $bad = 1; next }
            if ($old eq "" || $old eq $new || $note eq "") {
                warn "$list:$ln: $id: empty text, no change, or no note\n"; $bad = 1; next;
            }
            open my $src, "<", "$root/$file"
                or do { warn "$list:$ln: $id: cannot open $file: $!\n"; $bad = 1; next };
            my $text = do { local $/; <$src> };
            (my $lit = $old) =~ s/^\^//;
            my $re = $lit ne $old ? qr/^\Q$lit\E/m : qr/\Q$lit\E/;
            my $count = () = $text =~ /$re/g;
            if ($count != 1) {
                warn "$list:$ln: $id: \"$old\" occurs $count times in $file (must be once)\n";
                $bad = 1; next;
            }
            push @out, join("\x1f", $id, $file, $old, $new, $note) if !@want || $want{$id};
            delete $want{$id};
        }
        for (sort keys %want) { warn "no mutant with id $_\n"; $bad = 1 }
        exit 2 if $bad;
        # in the order of the arguments, if any
        my %rank; @rank{@want} = 0 .. $#want;
        @out = sort { $rank{(split /\x1f/, $a)[0]} <=> $rank{(split /\x1f/, $b)[0]} } @out if @want;
        print "$_\n" for @out;
    ' "$LIST" "$ROOT" "$@"
}

# snapshot DEST: the working tree (tracked and untracked, not ignored
# files; no .git, no build products), taken once, so that editing the tree
# during a run changes nothing of it
snapshot() {
    mkdir -p "$1"
    git -C "$ROOT" ls-files -z -co --exclude-standard |
        (cd "$ROOT" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
        tar -C "$ROOT" --null -T - -cf - | tar -C "$1" -xf -
}

# apply_mutant TREE FILE OLD NEW: replace the one occurrence of OLD
apply_mutant() {
    perl -e '
        my ($path, $old, $new) = @ARGV;
        open my $in, "<", $path or die "cannot open $path: $!\n";
        my $text = do { local $/; <$in> };
        close $in;
        (my $lit = $old) =~ s/^\^//;
        my $re = $lit ne $old ? qr/^\Q$lit\E/m : qr/\Q$lit\E/;
        my $count = () = $text =~ /$re/g;
        die "\"$old\" occurs $count times in $path\n" if $count != 1;
        $text =~ s/$re/$new/;
        open my $out, ">", $path or die "cannot write $path: $!\n";
        print $out $text;
    ' "$1/$2" "$3" "$4"
}

# Stop the servers a timed-out test run left behind (it was killed before
# its own cleanup), and remove its directories: the new ones (not in the
# list $1 from before the run) of the two kinds tools/test.sh makes, a
# smig-test.* one only if it holds this run's tree (marker file $2).
stop_leftovers() {
    local before=$1 marker=$2 d pidfile
    for d in /tmp/smig-test.* /tmp/smig-pgtap.*; do
        [ -d "$d" ] || continue
        grep -qxF "$d" "$before" && continue
        case "$d" in
            /tmp/smig-test.*) cmp -s "$d/tree/.smig-mutant" "$marker" || continue ;;
        esac
        while IFS= read -r pidfile; do
            runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$(dirname "$pidfile")" \
                -m immediate -w stop >/dev/null 2>&1 || true
        done < <(find "$d" -name postmaster.pid 2>/dev/null)
        rm -rf "$d"
    done
}

# locked_test TREE LOGFILE: TREE's tools/test.sh, holding the install lock,
# within the timeout; prints its exit status (124 on timeout)
locked_test() {
    local tree=$1 logfile=$2 rc before
    (
        flock 9
        before=$(mktemp)
        ls -d /tmp/smig-test.* /tmp/smig-pgtap.* 2>/dev/null >"$before" || true
        printf '%s\n' "$tree" >"$tree/.smig-mutant"
        rc=0
        timeout -k 10 "$TIMEOUT" "$tree/tools/test.sh" >"$logfile" 2>&1 || rc=$?
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            stop_leftovers "$before" "$tree/.smig-mutant"
            rc=124
        fi
        rm -f "$before"
        echo "$rc"
    ) 9>>"$LOCK"
}

# The unmodified tree, built and installed again (also on interruption).
PRISTINE=$LOG/pristine
restore_install() {
    echo "== reinstalling the unmodified tree"
    (
        flock 9
        make -s -C "$PRISTINE" clean >/dev/null 2>&1 || true
        make -s -C "$PRISTINE" COPT=-Werror >/dev/null &&
            make -s -C "$PRISTINE" install >/dev/null
    ) 9>>"$LOCK" || echo "   the reinstall FAILED: install the tree by hand" >&2
}

MUTANTS=$(parse_list "$@") || { echo "tools/mutants.txt has bad entries (see above)" >&2; exit 2; }
echo "== mutation testing: $(printf '%s\n' "$MUTANTS" | grep -c .) mutants, logs in $LOG"

SOURCE=$LOG/source
snapshot "$SOURCE"
cp -a "$SOURCE" "$PRISTINE"
trap 'trap - EXIT; restore_install; echo "interrupted; logs in $LOG"; exit 130' INT TERM
trap 'rc=$?; if [ "$rc" -ne 0 ]; then restore_install; echo "stopped (exit $rc); logs in $LOG"; fi' EXIT

if [ "${MUTATION_SKIP_BASELINE:-0}" != 1 ]; then
    echo "== baseline: the unmodified tree"
    rc=$(locked_test "$PRISTINE" "$LOG/baseline.log")
    if [ "$rc" -ne 0 ]; then
        tail -n 30 "$LOG/baseline.log"
        echo "the unmodified tree fails its tests (exit $rc): no mutant can be judged; see $LOG/baseline.log" >&2
        exit 1
    fi
    echo "   $(tail -n 1 "$LOG/baseline.log")"
fi

TOTAL=0 INVALID=0 EQUIV=0 KILLED=0 SURVIVED=0
SURVIVORS=() INVALIDS=() EQUIVS=() WRONG_EQUIV=()
RESULTS=$LOG/results.tsv
: >"$RESULTS"
while IFS=$'\x1f' read -r id file old new note; do
    [ -n "$id" ] || continue
    TOTAL=$((TOTAL + 1))
    equivalent=0
    case "$note" in EQUIVALENT:*) equivalent=1 ;; esac
    if [ "$equivalent" = 1 ] && [ "${MUTATION_RUN_EQUIVALENT:-0}" != 1 ]; then
        EQUIV=$((EQUIV + 1)); EQUIVS+=("$id ($file): ${note#EQUIVALENT: }")
        printf '%-14s %-28s equivalent (not run)\n' "$id" "$file"
        printf '%s\t%s\tequivalent\n' "$id" "$file" >>"$RESULTS"
        continue
    fi

    dir=$LOG/$id
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -a "$SOURCE" "$dir/tree"
    apply_mutant "$dir/tree" "$file" "$old" "$new"
    diff -u "$SOURCE/$file" "$dir/tree/$file" >"$dir/diff" || true

    result=
    if ! make -s -C "$dir/tree" COPT=-Werror >"$dir/build.log" 2>&1; then
        result=invalid
    elif [[ "$file" == src/common/* ]] &&
        ! make -s -C "$dir/tree/test/unit" test_common >>"$dir/build.log" 2>&1; then
        result=invalid
    else
        rm -f "$dir/tree/test/unit/test_common"
        make -s -C "$dir/tree" clean >/dev/null 2>&1 || true
        start=$(date +%s)
        rc=$(locked_test "$dir/tree" "$dir/test.log")
        secs=$(( $(date +%s) - start ))
        if [ "$rc" -eq 124 ]; then
            result="killed (timeout after ${TIMEOUT} s)"
        elif [ "$rc" -ne 0 ]; then
            suites=$(sed -n 's/^   \([a-z]*\): [0-9]* passed, \([1-9][0-9]*\) failed$/\1/p' "$dir/test.log" | paste -sd, -)
            result="killed (${suites:-exit $rc}; ${secs} s)"
        else
            result="survived (${secs} s)"
        fi
    fi
    rm -rf "$dir/tree"

    case "$result" in
        invalid)
            INVALID=$((INVALID + 1)); INVALIDS+=("$id ($file): see $dir/build.log") ;;
        killed*)
            if [ "$equivalent" = 1 ]; then
                EQUIV=$((EQUIV + 1)); WRONG_EQUIV+=("$id ($file): marked equivalent but $result")
            else
                KILLED=$((KILLED + 1))
            fi ;;
        survived*)
            if [ "$equivalent" = 1 ]; then
                EQUIV=$((EQUIV + 1)); EQUIVS+=("$id ($file): ${note#EQUIVALENT: }")
            else
                SURVIVED=$((SURVIVED + 1)); SURVIVORS+=("$id ($file): $note")
            fi ;;
    esac
    printf '%-14s %-28s %s\n' "$id" "$file" "$result"
    printf '%s\t%s\t%s\n' "$id" "$file" "$result" >>"$RESULTS"
done <<<"$MUTANTS"

trap - INT TERM EXIT
restore_install

SCORED=$((TOTAL - INVALID - EQUIV))
echo
echo "mutants per file:"
cut -f2 "$RESULTS" | sort | uniq -c | sed 's/^/  /'
echo "total $TOTAL, invalid $INVALID, equivalent $EQUIV, killed $KILLED, survived $SURVIVED"
if [ "$SCORED" -gt 0 ]; then
    echo "score: $KILLED / $SCORED = $(( (KILLED * 1000 / SCORED + 5) / 10 )) % killed"
fi
for s in "${INVALIDS[@]}"; do echo "invalid: $s"; done
for s in "${EQUIVS[@]}"; do echo "equivalent: $s"; done
for s in "${WRONG_EQUIV[@]}"; do echo "CHECK: $s"; done
if [ "${#SURVIVORS[@]}" -gt 0 ]; then
    echo "survivors:"
    for s in "${SURVIVORS[@]}"; do echo "  $s"; done
else
    echo "survivors: none"
fi
echo "logs: $LOG"
