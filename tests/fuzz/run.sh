#!/usr/bin/env bash
# run.sh — one fuzz target under CTest (README.md).
#   run.sh replay BINARY SEEDS REGRESSIONS
#       every seed and every committed regression input through the target once (any build)
#   run.sh fuzz BINARY SEEDS REGRESSIONS WORK SECONDS
#       libFuzzer for SECONDS on a fresh copy of SEEDS (WORK/corpus) plus REGRESSIONS: any
#       crash, leak, timeout or OOM fails, its input kept as WORK/artifacts/<kind>-<sha1>
# REGRESSIONS may be absent (no crasher committed for that target yet).
set -uo pipefail
mode=$1 binary=$2 seeds=$3 regressions=$4
name=$(basename "$binary")
[ -d "$seeds" ] || { echo "run.sh: no seed corpus at $seeds (the fuzz_corpus test writes it)"; exit 1; }
extra=()
[ -d "$regressions" ] && extra+=("$regressions")

case $mode in
replay)
    "$binary" "$seeds" "${extra[@]}"
    rc=$?
    ;;
fuzz)
    work=$5 seconds=$6
    rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts" && cp -R "$seeds/." "$work/corpus/" || exit 1
    # New inputs go to the first folder, the fresh copy; the others are only read.
    "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$work/artifacts/" \
        "$work/corpus" "${extra[@]}" >"$work/log" 2>&1
    rc=$?
    [ $rc -ne 0 ] && tail -n 80 "$work/log"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log" | tail -n 1)
    echo "$name: ${runs:-?} executions in ${seconds} s, ${coverage:-no coverage line}; log: $work/log"
    ;;
*)
    echo "usage: run.sh replay|fuzz BINARY SEEDS REGRESSIONS [WORK SECONDS]"
    exit 2
    ;;
esac
[ $rc -ne 0 ] && echo "run.sh: $name exited with status $rc"
exit $rc
