# tracking_faults.sh — MLflow tracking never gets in a run's way (label cpu; needs no MLflow, so
# it also runs in the sanitized build): an unreachable server, a server answering HTTP 500 and
# one that accepts connections and never answers (tests/python/bad_server.py) each leave the
# run's digest as without tracking, print one warning, record it in the manifest, and hold the
# run up for at most the 10 s the end of a run waits for silence (docs/tracking.md). Also: no
# tracking and no tracking block without a server; bad input exits 2 in one line without
# echoing credentials; credentials given in a URL or the environment appear in no file or
# output.
. "$DT_SOURCE_DIR/tests/lib.sh"
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
bad_pids=()
cleanup() {
    for p in "${bad_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
unset MLFLOW_TRACKING_URI MLFLOW_EXPERIMENT_NAME

"$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/plain" >"$DT_TMP/plain.out" 2>&1
want=$(digest_of "$DT_TMP/plain.out")
check "without a server, no tracking block" [ "$(json_get "$DT_TMP/plain/manifest.json" "'tracking' in m")" = False ]

# ---- servers that fail: never in the way ----------------------------------------------------
bad_run() { # NAME URI: a tracked tiny run; the digest, one warning, and its time
    local name=$1 start
    start=$(date +%s%N)
    run_code "$name" 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/$name" --mlflow "$2"
    local ms=$((($(date +%s%N) - start) / 1000000))
    check "$name: same digest" [ "$(digest_of "$DT_TMP/$name.out")" = "$want" ]
    check "$name: one warning line ($(head -c 160 "$DT_TMP/$name.err"))" [ "$(grep -c 'warning' "$DT_TMP/$name.err")" = 1 ]
    check "$name: the warning is recorded" [ "$(json_get "$DT_TMP/$name/manifest.json" "bool(m['tracking']['warning'])")" = True ]
    # The end of a run waits at most 10 s for a server that says nothing (docs/tracking.md).
    check "$name: done in ${ms} ms (under 15 s)" [ "$ms" -lt 15000 ]
}
secret=dt-pass-5e1f
MLFLOW_TRACKING_PASSWORD=$secret MLFLOW_TRACKING_USERNAME=dt-user bad_run unreachable "http://127.0.0.1:$(free_port)"
bad_run unreachable-userinfo "http://someone:$secret@127.0.0.1:$(free_port)"
for mode in 500 silent; do
    rm -f "$DT_TMP/port-$mode"
    /usr/bin/python3 "$DT_SOURCE_DIR/tests/python/bad_server.py" $mode "$DT_TMP/port-$mode" &
    bad_pids+=($!)
    for _ in $(seq 1 100); do [ -s "$DT_TMP/port-$mode" ] && break; sleep 0.05; done
    bad_run "server-$mode" "http://127.0.0.1:$(cat "$DT_TMP/port-$mode")"
done

# ---- bad input ----------------------------------------------------------------------------------
expect_error mlflow-not-http 2 "--mlflow .*not an http" -- "$DETRAIN" train "$tiny" --mlflow "file:///tmp/mlruns"
expect_error mlflow-secret-in-config 2 "config.tracking.uri: must not hold credentials" -- \
    "$DETRAIN" train "$tiny" --set "tracking.uri=https://bob:hunter2-zz@example.invalid"
check "the refused secret is not echoed" [ -z "$(grep -l hunter2-zz "$DT_TMP"/mlflow-secret-in-config.*)" ]
expect_error mlflow-not-http-userinfo 2 "--mlflow ftp://\*\*\*@example.invalid/: not an http" -- \
    "$DETRAIN" train "$tiny" --mlflow "ftp://someone:$secret@example.invalid/"
expect_error sync-no-server 2 "no MLflow server" -- "$DETRAIN" mlflow sync "$DT_TMP/plain"
check "credentials appear in no file or output" [ -z "$(grep -rl "$secret" "$DT_TMP")" ]
finish
