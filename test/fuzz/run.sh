#!/usr/bin/env bash
# test/fuzz/run.sh FUZZER...: run each libFuzzer harness for FUZZ_SECONDS
# from its seed corpus (seeds/<kind> plus test/fixtures: file names for
# fuzz_filename, file texts for the others), in a fresh working corpus
# under FUZZ_OUT.  One line per fuzzer: "ok N - fuzz_x: R runs in S s" or
# "not ok N - fuzz_x: ..." followed by the sanitizer's report and the
# input that failed (saved as FUZZ_OUT/fuzz_x/crash-*).  Exit 1 if any
# failed.
set -u
cd "$(dirname "$0")"
secs=${FUZZ_SECONDS:-8}
out=${FUZZ_OUT:-out}
n=0
failed=0
for f in "$@"; do
    n=$((n + 1))
    kind=${f#fuzz_}
    dir=$out/$f
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp seeds/"$kind"/* "$dir/corpus/" 2>/dev/null
    i=0
    while IFS= read -r -d '' p; do
        i=$((i + 1))
        if [ "$kind" = filename ]; then
            printf '%s' "$(basename "$p")" >"$dir/corpus/fixture-$i"
        else
            cp "$p" "$dir/corpus/fixture-$i"
        fi
    done < <(find ../fixtures -type f -name '*.sql' -print0)
    rc=0
    ./"$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
        "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    if [ "$rc" -eq 0 ] && [ -n "$runs" ] && [ "$runs" -gt 0 ] &&
        ! ls "$dir/artifacts"/* >/dev/null 2>&1; then
        echo "ok $n - $f: ${runs} runs in ${secs} s, corpus $(ls "$dir/corpus" | wc -l) inputs"
    else
        failed=$((failed + 1))
        echo "not ok $n - $f: exit status $rc"
        grep -E -A 30 'ERROR: |runtime error|check failed|deadly signal' "$dir/log" | head -n 60 | sed 's/^/#   /'
        for a in "$dir/artifacts"/*; do
            [ -f "$a" ] && { echo "#   input $a:"; od -c "$a" | head -n 20 | sed 's/^/#   /';
                echo "#   reproduce with: test/fuzz/$f $a"; }
        done
    fi
done
[ "$failed" -eq 0 ]
