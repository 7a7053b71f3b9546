# faults.sh — every write detrain makes can fail, and nothing is lost (label cpu). With the
# fault injector (tests/faults/inject.c, in detrain-faults), each call of write, fsync, close
# and rename made by a training run with checkpoints, by a resume, by predict and by export fails in turn
# with ENOSPC or EIO (alternately). After every one:
#   - detrain exits 1 with one line on stderr naming the OS's reason, or — when the failed
#     call could not matter (closing a read pipe) — succeeds with the right result; never a
#     signal, never another exit code;
#   - no temporary file is left in the run folder (or beside predict's or export's output);
#   - the newest checkpoint left verifies (detrain inspect), and resume, with the fault
#     lifted, ends with the uninterrupted run's digest; predict's and export's previous output is intact,
#     unless the failure came after the rename (flushing the folder), when the new output is
#     complete in its place: either way a whole file, never a part of one.
# Then the disk-full case on a real 3 MB filesystem (tmpfs; needs root, else skipped with why).
. "$DT_SOURCE_DIR/tests/lib.sh"
: "${DETRAIN_FAULTS:?DETRAIN_FAULTS must point at detrain-faults}"
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
args=(--set checkpoint.every_steps=20 --set checkpoint.keep=2)

"$DETRAIN" train "$tiny" "${args[@]}" --quiet --out "$DT_TMP/ref" >"$DT_TMP/ref.out" 2>&1
want=$(digest_of "$DT_TMP/ref.out")
"$DETRAIN" predict "$DT_TMP/ref/final.h5" --input "$DT_SOURCE_DIR/tests/data/spiral-test.csv" --output "$DT_TMP/want.csv"
"$DETRAIN" export "$DT_TMP/ref/final.h5" --format onnx --output "$DT_TMP/want.onnx" 2>/dev/null
"$DETRAIN" train "$tiny" "${args[@]}" --stop-after-steps 30 --quiet --out "$DT_TMP/stopped" >/dev/null 2>&1
echo "old predictions" >"$DT_TMP/old.csv"

prepare() { # PHASE: a fresh $DT_TMP/case for the phase
    rm -rf "$DT_TMP/case" "$DT_TMP"/pred.csv* "$DT_TMP"/model.onnx*
    case $1 in
    resume) cp -r "$DT_TMP/stopped" "$DT_TMP/case" ;;
    predict) cp "$DT_TMP/old.csv" "$DT_TMP/pred.csv" ;;
    export) cp "$DT_TMP/old.csv" "$DT_TMP/model.onnx" ;;
    esac
}
phase_cmd() { # PHASE BINARY: runs the phase with BINARY
    case $1 in
    train) "$2" train "$tiny" "${args[@]}" --quiet --out "$DT_TMP/case" ;;
    resume) "$2" resume "$DT_TMP/case" --quiet ;;
    predict) "$2" predict "$DT_TMP/ref/final.h5" --input "$DT_SOURCE_DIR/tests/data/spiral-test.csv" --output "$DT_TMP/pred.csv" ;;
    export) "$2" export "$DT_TMP/ref/final.h5" --format onnx --output "$DT_TMP/model.onnx" ;;
    esac
}
# The newest checkpoint of the case folder, by step (final.h5 when it exists).
newest_checkpoint() {
    if [ -f "$DT_TMP/case/final.h5" ]; then echo "$DT_TMP/case/final.h5"; return; fi
    ls "$DT_TMP/case"/checkpoint-*.h5 2>/dev/null | sort | tail -1
}
# After a failure: the run can be finished, with the uninterrupted digest.
finish_run() {
    if [ -f "$DT_TMP/case/manifest.json" ]; then "$DETRAIN" resume "$DT_TMP/case" --quiet
    else "$DETRAIN" train "$tiny" "${args[@]}" --quiet --out "$DT_TMP/case"; fi
}

injected=0
for phase in train resume predict export; do
    prepare $phase
    rm -f "$DT_TMP/counts"
    DT_FAULT_COUNT=$DT_TMP/counts phase_cmd $phase "$DETRAIN_FAULTS" >/dev/null 2>&1
    for op in write fsync close rename; do
        calls=$(sed -n "s/^$op //p" "$DT_TMP/counts")
        handled=0 failed_cleanly=0
        for n in $(seq 1 "$calls"); do
            error=ENOSPC reason="No space left on device"
            [ $((n % 2)) = 0 ] && error=EIO reason="Input/output error"
            prepare $phase
            rc=0
            DT_FAULT=$op:$n:$error phase_cmd $phase "$DETRAIN_FAULTS" >"$DT_TMP/fault.out" 2>"$DT_TMP/fault.err" || rc=$?
            what="$phase, $op call $n of $calls failing with $error"
            checks=$((checks + 1))
            if [ $rc != 0 ] && [ $rc != 1 ]; then fail "$what: exit $rc: $(head -c 300 "$DT_TMP/fault.err")"; continue; fi
            if [ $rc = 1 ]; then
                if [ "$(grep -c '' "$DT_TMP/fault.err")" != 1 ] || ! grep -q "$reason" "$DT_TMP/fault.err"; then
                    fail "$what: not one line naming '$reason': $(head -c 400 "$DT_TMP/fault.err")"
                    continue
                fi
                failed_cleanly=$((failed_cleanly + 1))
            fi
            leftovers=$(ls "$DT_TMP"/case/*.tmp "$DT_TMP"/pred.csv*.tmp "$DT_TMP"/model.onnx*.tmp 2>/dev/null)
            if [ -n "$leftovers" ]; then fail "$what: temporary files left: $leftovers"; continue; fi
            if [ $phase = predict ] || [ $phase = export ]; then
                output=$DT_TMP/pred.csv expected=$DT_TMP/old.csv
                [ $phase = export ] && output=$DT_TMP/model.onnx
                if [ $rc = 0 ] || grep -q "the folder" "$DT_TMP/fault.err"; then
                    expected=$DT_TMP/want.csv
                    [ $phase = export ] && expected=$DT_TMP/want.onnx
                fi
                if ! cmp -s "$expected" "$output"; then fail "$what: the output is not $(basename "$expected")'s"; continue; fi
            else
                newest=$(newest_checkpoint)
                if [ -n "$newest" ] && ! "$DETRAIN" inspect "$newest" >/dev/null 2>"$DT_TMP/inspect.err"; then
                    fail "$what: the newest checkpoint $newest does not verify: $(cat "$DT_TMP/inspect.err")"
                    continue
                fi
                [ $rc = 0 ] && got=$(digest_of "$DT_TMP/fault.out") || got=$(finish_run 2>"$DT_TMP/finish.err" | sed -n 's/^params_sha256 //p')
                if [ "$got" != "$want" ]; then fail "$what: finished with '$got', not '$want': $(head -c 300 "$DT_TMP/finish.err")"; continue; fi
            fi
            handled=$((handled + 1))
        done
        injected=$((injected + calls))
        echo "ok   $phase: $handled of $calls failing $op calls handled ($failed_cleanly exited 1 with one line, the rest did not need the call)"
    done
done
echo "faults: $injected injected, $((checks - failures)) handled"

# ---- a real small filesystem filling up ------------------------------------------------------
small=$DT_TMP/small
mkdir -p "$small"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=3m tmpfs "$small" 2>"$DT_TMP/mount.err"; then
    echo "note: the 3 MB filesystem case did not run: needs root and mount ($(cat "$DT_TMP/mount.err" 2>/dev/null))"
else
    fm="$DT_SOURCE_DIR/configs/fashion-mnist.json"
    fm_args=(--set data.train.limit=6000 --set data.test.limit=1000 --set train.epochs=1 --set checkpoint.every_steps=7)
    run_code disk-full 1 "$DETRAIN" train "$fm" "${fm_args[@]}" --quiet --out "$small/run"
    check "disk full: one line naming the file and 'No space left on device'" \
        test "$(grep -c '' "$DT_TMP/disk-full.err")" = 1 -a -n "$(grep 'No space left on device' "$DT_TMP/disk-full.err")"
    check "disk full: no temporary file left" test -z "$(ls "$small"/run/*.tmp 2>/dev/null)"
    check "disk full: the manifest says failed" grep -q '"status":[[:space:]]*"failed"' "$small/run/manifest.json"
    newest=$(ls "$small"/run/checkpoint-*.h5 | sort | tail -1)
    check "disk full: the newest checkpoint verifies" "$DETRAIN" inspect "$newest"
    cp -r "$small/run" "$DT_TMP/moved"
    umount "$small"
    "$DETRAIN" train "$fm" "${fm_args[@]}" --quiet --out "$DT_TMP/fm-ref" >"$DT_TMP/fm-ref.out" 2>&1
    run_code disk-full-resumed 0 "$DETRAIN" resume "$DT_TMP/moved" --quiet
    check "disk full: resumed with space, the uninterrupted digest" \
        test "$(digest_of "$DT_TMP/disk-full-resumed.out")" = "$(digest_of "$DT_TMP/fm-ref.out")"
fi

# A second Ctrl-C while the interrupt checkpoint is written (a real SIGINT, sent by the injector
# just before that file's rename: the run's renames counted first, the checkpoint's being the
# fourth from last with nothing to prune): exit 130 at once, saying so in one line; the manifest
# already says interrupted and lists only checkpoints that exist; no temporary file; resume
# ends with the uninterrupted digest. Before any checkpoint, and after two.
for stop in 5 25; do
    d=$DT_TMP/second-sigint-$stop
    keep=(--set checkpoint.every_steps=20 --set checkpoint.keep=10)
    rm -f "$DT_TMP/renames"
    DT_FAULT_COUNT=$DT_TMP/renames "$DETRAIN_FAULTS" train "$tiny" "${keep[@]}" --stop-after-steps $stop --quiet \
        --out "$d-count" >/dev/null 2>&1
    renames=$(($(sed -n 's/^rename //p' "$DT_TMP/renames") - 3))
    run_code "second-sigint-$stop" 130 env DT_FAULT=sigint:rename:$renames "$DETRAIN_FAULTS" train "$tiny" "${keep[@]}" \
        --stop-after-steps $stop --quiet --out "$d"
    check "second SIGINT at step $stop: one line, exit 130, no temporary file, no checkpoint $stop" \
        bash -c "[ \$(grep -c '' '$DT_TMP/second-sigint-$stop.err') = 1 ] &&
                 grep -q 'stopped at once by a second signal' '$DT_TMP/second-sigint-$stop.err' &&
                 [ -z \"\$(find '$d' -name '*.tmp')\" ] && [ ! -e '$d/checkpoint-$(printf '%09d' $stop).h5' ]"
    check "second SIGINT at step $stop: the manifest says interrupted and lists only checkpoints that exist" \
        /usr/bin/python3 -c "import json, os, sys; m = json.load(open(sys.argv[1] + '/manifest.json'))
assert m['status'] == 'interrupted', m['status']
assert all(os.path.exists(sys.argv[1] + '/' + c['file']) for c in m['checkpoints'] if not c.get('removed'))" "$d"
    run_code "second-sigint-$stop-resumed" 0 "$DETRAIN" resume "$d" --quiet
    check "second SIGINT at step $stop: resume ends with the uninterrupted digest" \
        test "$(digest_of "$DT_TMP/second-sigint-$stop-resumed.out")" = "$want"
done
finish
