# tests/lib.sh — shared helpers for the CLI tests (sourced). Needs DETRAIN, DT_SOURCE_DIR, DT_TMP.
set -u
: "${DETRAIN:?DETRAIN must point at the detrain binary}"
: "${DT_SOURCE_DIR:?}"
: "${DT_TMP:?}"
rm -rf "$DT_TMP"
mkdir -p "$DT_TMP"
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

finish() {
    echo "$((checks - failures)) passed, $failures failed"
    [ "$failures" = 0 ] && [ "$checks" -gt 0 ]
}
