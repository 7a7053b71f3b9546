# crash.sh — a run killed at any instant loses nothing (label cpu). SIGKILL:
#   - just before every write, fsync, close and rename of a training run with checkpoints
#     (checkpoint writing, manifest and trace rewriting; tests/faults/inject.c's kill:OP:N);
#   - the same for a resume of an interrupted run (a kill during resume itself);
#   - at times spread over a Fashion-MNIST run: loading, steps, evaluation, checkpoints.
# After each kill, `detrain resume` (or, for a folder killed before its manifest existed, the
# same `detrain train`) must end with the uninterrupted run's digest, and no temporary file
# may survive it. A folder with a manifest but no checkpoint resumes from step 0.
. "$DT_SOURCE_DIR/tests/lib.sh"
: "${DETRAIN_FAULTS:?DETRAIN_FAULTS must point at detrain-faults}"
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
args=(--set checkpoint.every_steps=20 --set checkpoint.keep=2)
fm=$DT_SOURCE_DIR/configs/fashion-mnist.json
fm_args=(--set data.train.limit=3000 --set data.test.limit=1000 --set train.epochs=2 --set checkpoint.every_steps=10)

"$DETRAIN" train "$tiny" "${args[@]}" --quiet --out "$DT_TMP/ref" >"$DT_TMP/ref.out" 2>&1
want=$(digest_of "$DT_TMP/ref.out")
"$DETRAIN" train "$tiny" "${args[@]}" --stop-after-steps 30 --quiet --out "$DT_TMP/stopped" >/dev/null 2>&1

kills=0
# Finishes the killed run in $1 with CONFIG ARGS... ($2...): resume, or train when no manifest
# was written; prints the digest. Fails the check when a temporary file survives.
finish_run() {
    local dir=$1
    shift
    local out
    if [ -f "$dir/manifest.json" ]; then out=$("$DETRAIN" resume "$dir" --quiet 2>"$DT_TMP/finish.err")
    else out=$("$DETRAIN" train "$@" --quiet --out "$dir" 2>"$DT_TMP/finish.err"); fi
    if [ -n "$(ls "$dir"/*.tmp 2>/dev/null)" ]; then echo "TEMPORARY-FILES-LEFT"; return; fi
    echo "$out" | sed -n 's/^params_sha256 //p'
}

# ---- killed at every write point of a training run, and of a resume ---------------------------
for phase in train resume; do
    rm -rf "$DT_TMP/case" "$DT_TMP/counts"
    [ $phase = resume ] && cp -r "$DT_TMP/stopped" "$DT_TMP/case"
    if [ $phase = train ]; then DT_FAULT_COUNT=$DT_TMP/counts "$DETRAIN_FAULTS" train "$tiny" "${args[@]}" --quiet --out "$DT_TMP/case" >/dev/null 2>&1
    else DT_FAULT_COUNT=$DT_TMP/counts "$DETRAIN_FAULTS" resume "$DT_TMP/case" --quiet >/dev/null 2>&1; fi
    for op in write fsync close rename; do
        calls=$(sed -n "s/^$op //p" "$DT_TMP/counts")
        good=0
        for n in $(seq 1 "$calls"); do
            rm -rf "$DT_TMP/case"
            [ $phase = resume ] && cp -r "$DT_TMP/stopped" "$DT_TMP/case"
            rc=0
            if [ $phase = train ]; then
                DT_FAULT=kill:$op:$n killable "$DETRAIN_FAULTS" train "$tiny" "${args[@]}" --quiet --out "$DT_TMP/case" || rc=$?
            else
                DT_FAULT=kill:$op:$n killable "$DETRAIN_FAULTS" resume "$DT_TMP/case" --quiet || rc=$?
            fi
            checks=$((checks + 1))
            kills=$((kills + 1))
            if [ $rc != 137 ]; then fail "$phase killed before $op $n: exit $rc, not 137 (SIGKILL)"; continue; fi
            got=$(finish_run "$DT_TMP/case" "$tiny" "${args[@]}")
            if [ "$got" != "$want" ]; then
                fail "$phase killed before $op $n of $calls: finished with '$got', not '$want': $(head -c 300 "$DT_TMP/finish.err")"
                continue
            fi
            good=$((good + 1))
        done
        echo "ok   $phase killed before each of its $calls ${op}s: $good resumed to the uninterrupted digest"
    done
done

# ---- killed at times spread over a longer run: loading, steps, evaluation, checkpoints -------
"$DETRAIN" train "$fm" "${fm_args[@]}" --quiet --out "$DT_TMP/fm-ref" >"$DT_TMP/fm-ref.out" 2>&1
fm_want=$(digest_of "$DT_TMP/fm-ref.out")
start=$(date +%s%N)
"$DETRAIN" train "$fm" "${fm_args[@]}" --quiet --out "$DT_TMP/fm-timed" >/dev/null 2>&1
ms=$((($(date +%s%N) - start) / 1000000))
good=0
for i in $(seq 1 16); do
    at=$((ms * i / 17))
    rm -rf "$DT_TMP/case"
    rc=0
    kill_after "$(printf '%d.%03d' $((at / 1000)) $((at % 1000)))" "$DETRAIN" train "$fm" "${fm_args[@]}" --quiet \
        --out "$DT_TMP/case" || rc=$?
    checks=$((checks + 1))
    kills=$((kills + 1))
    if [ $rc != 137 ] && [ $rc != 0 ]; then fail "killed at ${at} ms: exit $rc"; continue; fi
    got=$(finish_run "$DT_TMP/case" "$fm" "${fm_args[@]}")
    if [ "$got" != "$fm_want" ]; then fail "killed at ${at} ms of ${ms}: finished with '$got', not '$fm_want': $(head -c 300 "$DT_TMP/finish.err")"; continue; fi
    good=$((good + 1))
done
echo "ok   a ${ms} ms run killed at 16 times spread over it: $good finished with the uninterrupted digest"
echo "crash: $kills kills, $((checks - failures)) resumed to the uninterrupted digest"
finish
