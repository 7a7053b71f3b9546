# tests/lib.sh — shared helpers for the CLI tests (sourced). Needs DETRAIN, DT_SOURCE_DIR, DT_TMP.
set -u
: "${DETRAIN:?DETRAIN must point at the detrain binary}"
: "${DT_SOURCE_DIR:?}"
: "${DT_TMP:?}"
rm -rf "$DT_TMP"
mkdir -p "$DT_TMP"
# Every run is recorded in the project's store (host/registry/store.h): the test's own, never
# a checkpoints/ beside the sources (tests run from tests/). store.sh and registry.sh unset it.
export DETRAIN_HOME=$DT_TMP/store
failures=0
checks=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_error NAME CODE PATTERN -- CMD...: CMD must exit CODE and print exactly one line
# on stderr that matches the extended regex PATTERN; nothing may crash or hang.
expect_error() {
    local name=$1 code=$2 pattern=$3
    shift 4
    checks=$((checks + 1))
    local out="$DT_TMP/$name.err" rc=0
    timeout 60 "$@" >"$DT_TMP/$name.out" 2>"$out" || rc=$?
    local lines
    lines=$(grep -c '' "$out" || true)
    if [ "$rc" != "$code" ]; then
        fail "$name: exit code $rc, expected $code; stderr: $(head -c 300 "$out")"
    elif [ "$lines" != 1 ]; then
        fail "$name: $lines lines on stderr, expected 1: $(head -c 300 "$out")"
    elif ! grep -Eq -- "$pattern" "$out"; then
        fail "$name: stderr does not match /$pattern/: $(cat "$out")"
    else
        echo "ok   $name: $(cat "$out")"
    fi
}

# digest_of FILE: the params_sha256 printed by a train run's stdout.
digest_of() { sed -n 's/^params_sha256 \([0-9a-f]\{64\}\)$/\1/p' "$1"; }

# check NAME CONDITION-COMMAND...: one check that passes when the command succeeds.
check() {
    local name=$1
    shift
    checks=$((checks + 1))
    if "$@"; then echo "ok   $name"; else fail "$name"; fi
}

# run_code NAME CODE CMD...: CMD must exit CODE; its stdout and stderr go to $DT_TMP/NAME.out, .err.
run_code() {
    local name=$1 code=$2 rc=0
    shift 2
    checks=$((checks + 1))
    timeout 300 "$@" >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err" || rc=$?
    if [ "$rc" != "$code" ]; then
        fail "$name: exit code $rc, expected $code; stderr: $(tail -c 400 "$DT_TMP/$name.err")"
        return 1
    fi
    echo "ok   $name (exit $rc)"
}

# json_get FILE PYTHON-EXPRESSION: evaluates the expression on the parsed JSON file `m`.
json_get() { /usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1"; }

# killable CMD...: CMD's status, its output discarded, and without the shell's "Killed" notice
# when a fault injection SIGKILLs it (the inner shell reports to /dev/null instead).
killable() { bash -c '"$@" >/dev/null 2>&1; exit $?' killable "$@" 2>/dev/null; }

# kill_after SECONDS CMD...: runs CMD, SIGKILLs it after SECONDS, and returns only once it is
# gone (137, or CMD's own status when it ended first). `timeout -s KILL` is not enough: it
# kills itself with its child, leaving a dying child (ASan's unmapping takes a while) that
# still holds the run folder's lock when the next command starts.
kill_after() {
    bash -c 'at=$1; shift; "$@" >/dev/null 2>&1 & pid=$!; sleep "$at"; kill -KILL $pid; wait $pid' \
        kill_after "$@" 2>/dev/null
}

finish() {
    echo "$((checks - failures)) passed, $failures failed"
    [ "$failures" = 0 ] && [ "$checks" -gt 0 ]
}
