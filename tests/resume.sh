# resume.sh — a run interrupted at any step and resumed ends with the uninterrupted run's
# parameter digest, per-step losses (trace.jsonl) and final.h5 bytes: mid-epoch, at an epoch
# boundary, twice in a row, by a real SIGINT and SIGTERM during training; and resume refuses
# changed data or config and skips a damaged checkpoint.
. "$DT_SOURCE_DIR/tests/lib.sh"

tiny=$DT_SOURCE_DIR/tests/configs/tiny.json          # 19 steps per epoch, 3 epochs: 57 steps
tiny_sgd=$DT_SOURCE_DIR/tests/configs/tiny-sgd.json  # drop_last: 12 steps per epoch, 36 steps

# reference NAME CONFIG ARGS...: an uninterrupted run into $DT_TMP/NAME.
reference() {
    local name=$1
    shift
    run_code "$name" 0 "$DETRAIN" train "$@" --quiet --out "$DT_TMP/$name"
}

# same_as NAME REFERENCE: the run's digest, trace and final.h5 equal the reference's.
same_as() {
    local name=$1 ref=$2 a b
    a=$(json_get "$DT_TMP/$name/manifest.json" 'm["final"]["params_sha256"]' 2>/dev/null)
    b=$(json_get "$DT_TMP/$ref/manifest.json" 'm["final"]["params_sha256"]' 2>/dev/null)
    check "$name: params_sha256 ${a:0:16}... equals the uninterrupted run's" [ -n "$a" ] && [ "$a" = "$b" ]
    check "$name: trace.jsonl ($(wc -l <"$DT_TMP/$name/trace.jsonl" 2>/dev/null) steps) equals the uninterrupted run's" \
        cmp -s "$DT_TMP/$name/trace.jsonl" "$DT_TMP/$ref/trace.jsonl"
    check "$name: final.h5 is byte-identical to the uninterrupted run's" cmp -s "$DT_TMP/$name/final.h5" "$DT_TMP/$ref/final.h5"
    check "$name: manifest says completed" [ "$(json_get "$DT_TMP/$name/manifest.json" 'm["status"]')" = completed ]
}

# interrupt_at NAME STEP REF CONFIG ARGS...: stops after STEP (exit 130, status interrupted),
# resumes, and compares with REF.
interrupt_at() {
    local name=$1 step=$2 ref=$3
    shift 3
    run_code "$name-stop" 130 "$DETRAIN" train "$@" --quiet --out "$DT_TMP/$name" --stop-after-steps "$step" || return
    check "$name: one line on stderr says where it stopped" grep -q "interrupted after step $step of" "$DT_TMP/$name-stop.err"
    check "$name: manifest says interrupted" [ "$(json_get "$DT_TMP/$name/manifest.json" 'm["status"]')" = interrupted ]
    check "$name: trace.jsonl holds the $step steps done" [ "$(wc -l <"$DT_TMP/$name/trace.jsonl")" = "$step" ]
    run_code "$name-resume" 0 "$DETRAIN" resume "$DT_TMP/$name" --quiet || return
    same_as "$name" "$ref"
}

reference ref "$tiny"
interrupt_at mid_epoch 5 ref "$tiny"
interrupt_at epoch_boundary 19 ref "$tiny"
interrupt_at after_boundary 20 ref "$tiny"
interrupt_at last_step 56 ref "$tiny"
check "the resumed run lists where it resumed from" \
    [ "$(json_get "$DT_TMP/mid_epoch/manifest.json" 'm["resumes"][0]["from_checkpoint"]')" = checkpoint-000000005.h5 ]

# Twice in a row, with every_steps checkpoints, keep=2 and another thread count on resume.
steps="--set checkpoint.every_steps=4 --set checkpoint.keep=2"
reference ref_steps "$tiny" $steps
run_code twice-stop1 130 "$DETRAIN" train "$tiny" $steps --quiet --out "$DT_TMP/twice" --stop-after-steps 7
run_code twice-stop2 130 "$DETRAIN" resume "$DT_TMP/twice" --quiet --stop-after-steps 30 --threads 1
run_code twice-resume 0 "$DETRAIN" resume "$DT_TMP/twice" --quiet --threads 3
same_as twice ref_steps
run_code verify_twice 0 "$DETRAIN" verify "$DT_TMP/twice" --quiet
kept=$(ls "$DT_TMP/twice" | grep -c '^checkpoint-')
check "keep=2: two step checkpoints left besides final.h5 (found $kept)" [ "$kept" = 2 ]
check "pruned checkpoints stay listed in the manifest with removed=true" \
    [ "$(json_get "$DT_TMP/twice/manifest.json" 'sum(1 for c in m["checkpoints"] if c["removed"])')" -gt 0 ]
check "every_steps checkpoints of the resumed run equal the uninterrupted run's" \
    cmp -s "$DT_TMP/twice/checkpoint-000000052.h5" "$DT_TMP/ref_steps/checkpoint-000000052.h5"

# SGD with Nesterov momentum, drop_last and a step schedule: boundary and first step after it.
reference ref_sgd "$tiny_sgd"
interrupt_at sgd_boundary 12 ref_sgd "$tiny_sgd"
interrupt_at sgd_mid 13 ref_sgd "$tiny_sgd"

# A completed run: resume changes nothing.
run_code completed 0 "$DETRAIN" resume "$DT_TMP/ref" --quiet
check "resume of a completed run says so" grep -q "already completed" "$DT_TMP/completed.out"

# Real signals during training: a Fashion-MNIST slice that is still running when the first
# epoch has been recorded. The signal is sent then; the run finishes its step, writes a
# checkpoint and exits 130.
fm=$DT_SOURCE_DIR/configs/fashion-mnist.json
if [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    slice=(--set data.train.limit=6000 --set data.test.limit=1000 --set train.epochs=8
           --set 'model.layers=[{"units": 64}, {"units": 10}]')
    reference fm_ref "$fm" "${slice[@]}"
    for sig in INT TERM; do
        name=fm_sig$sig
        "$DETRAIN" train "$fm" "${slice[@]}" --quiet --out "$DT_TMP/$name" >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err" &
        pid=$!
        for _ in $(seq 1 6000); do # until the first epoch is in the manifest (at most 60 s)
            grep -q '"train_loss_bits"' "$DT_TMP/$name/manifest.json" 2>/dev/null && break
            sleep 0.01
        done
        if [ "$sig" = INT ]; then # the folder is locked while the run is alive
            expect_error "$name-locked" 2 'another detrain process is using this run folder' \
                -- "$DETRAIN" resume "$DT_TMP/$name" --quiet
        fi
        kill -"$sig" "$pid"
        rc=0
        wait "$pid" || rc=$?
        checks=$((checks + 1))
        if [ "$rc" != 130 ]; then
            fail "$name: exit code $rc after SIG$sig, expected 130: $(cat "$DT_TMP/$name.err")"
            continue
        fi
        echo "ok   $name: SIG$sig after the first epoch → exit 130: $(cat "$DT_TMP/$name.err")"
        check "$name: stderr names the signal" grep -q "(SIG$sig)" "$DT_TMP/$name.err"
        run_code "$name-resume" 0 "$DETRAIN" resume "$DT_TMP/$name" --quiet && same_as "$name" fm_ref
    done
else
    fail "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
fi

# Refusals: data changed since the checkpoint, config edited in the manifest.
mkdir -p "$DT_TMP/data"
cp "$DT_SOURCE_DIR/tests/data/spiral-train.csv" "$DT_SOURCE_DIR/tests/data/spiral-test.csv" "$DT_TMP/data/"
sed 's|"\.\./data/|"'"$DT_TMP"'/data/|' "$tiny" >"$DT_TMP/tiny-copy.json"
run_code refuse_data-stop 130 "$DETRAIN" train "$DT_TMP/tiny-copy.json" --quiet --out "$DT_TMP/refuse_data" --stop-after-steps 10
sed -i '5s/$/ /' "$DT_TMP/data/spiral-train.csv" # same numbers, other bytes
expect_error refuse_data 2 'spiral-train.csv: the data file changed since checkpoint .*recorded sha256 [0-9a-f]{64}, now [0-9a-f]{64}' \
    -- "$DETRAIN" resume "$DT_TMP/refuse_data" --quiet
cp -r "$DT_TMP/mid_epoch" "$DT_TMP/refuse_config"
rm -f "$DT_TMP/refuse_config"/{final.h5,checkpoint-000000019.h5,checkpoint-000000038.h5}
/usr/bin/python3 - "$DT_TMP/refuse_config/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["config"]["optimizer"]["lr"] = 0.02
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF
expect_error refuse_config 2 "manifest.json: the config differs from checkpoint .*checkpoint-000000005.h5's: config.optimizer.lr is 0.02, the checkpoint has 0.01" \
    -- "$DETRAIN" resume "$DT_TMP/refuse_config" --quiet

# A damaged newest checkpoint is skipped for the one before it; when none is left, resume refuses.
flip() { # FILE TENSOR: flips one bit inside the tensor's data
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    offset = f[sys.argv[2]].id.get_offset()
data = bytearray(open(sys.argv[1], "rb").read())
data[offset + 7] ^= 0x10
open(sys.argv[1], "wb").write(data)
EOF
}
run_code fallback-stop 130 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/fallback" --stop-after-steps 25
flip "$DT_TMP/fallback/checkpoint-000000025.h5" optimizer/v/dense1/weight
run_code fallback-resume 0 "$DETRAIN" resume "$DT_TMP/fallback" --quiet && same_as fallback ref
check "fallback: resumed from the epoch checkpoint before the damaged one" \
    [ "$(json_get "$DT_TMP/fallback/manifest.json" 'm["resumes"][0]["from_checkpoint"]')" = checkpoint-000000019.h5 ]
run_code damaged-stop 130 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/damaged" --stop-after-steps 5
flip "$DT_TMP/damaged/checkpoint-000000005.h5" params/dense0/weight
# A listed checkpoint's bytes are compared with the manifest's record before HDF5 opens them.
expect_error damaged 2 "checkpoint-000000005.h5: the file's SHA-256 [0-9a-f]+\\.\\.\\. differs from the manifest's record" \
    -- "$DETRAIN" resume "$DT_TMP/damaged" --quiet
expect_error damaged-inspect 2 "checkpoint-000000005.h5: tensor 'params/dense0/weight' is corrupt" \
    -- "$DETRAIN" inspect "$DT_TMP/damaged/checkpoint-000000005.h5"
finish
