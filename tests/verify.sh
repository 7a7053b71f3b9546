# verify.sh — detrain verify re-runs a recorded run and compares it bit for bit: it passes on
# fresh runs (from the start, from a checkpoint, on an interrupted run), fails (exit 1)
# naming the step, the quantity and the likely cause when the config or a recorded value was
# changed, cannot run (exit 2) when a data file is missing or changed, and compares metrics
# within a tolerance in fast mode.
. "$DT_SOURCE_DIR/tests/lib.sh"

# Verify's temporary folders go here, so that the test can see them removed.
export TMPDIR=$DT_TMP/tmp
mkdir -p "$TMPDIR"
# The runs use a private copy of the data, so that the test may change it.
mkdir -p "$DT_TMP/data"
cp "$DT_SOURCE_DIR/tests/data/spiral-train.csv" "$DT_SOURCE_DIR/tests/data/spiral-test.csv" "$DT_TMP/data/"
sed 's|"\.\./data/|"'"$DT_TMP"'/data/|' "$DT_SOURCE_DIR/tests/configs/tiny.json" >"$DT_TMP/tiny.json"
sed 's|"\.\./data/|"'"$DT_TMP"'/data/|' "$DT_SOURCE_DIR/tests/configs/tiny-sgd.json" >"$DT_TMP/tiny-sgd.json"

run_code run 0 "$DETRAIN" train "$DT_TMP/tiny.json" --quiet --out "$DT_TMP/run" --set checkpoint.every_steps=10
run_code verify 0 "$DETRAIN" verify "$DT_TMP/run" --quiet
check "verify says identical" grep -q 'identical to the record' "$DT_TMP/verify.out"
check "verify compared all 57 steps" grep -Eq 'steps +57: loss and learning-rate bits equal' "$DT_TMP/verify.out"
check "verify compared the checkpoints' digests" grep -Eq 'checkpoints +[1-9][0-9]* parameter digests equal' "$DT_TMP/verify.out"
check "verify left no temporary folder" [ -z "$(ls "$TMPDIR")" ]
run_code verify_threads 0 "$DETRAIN" verify "$DT_TMP/run" --quiet --threads 1
run_code verify_from 0 "$DETRAIN" verify "$DT_TMP/run" --quiet --from 40
check "verify --from 40 compared the 17 steps after it" grep -Eq 'steps +17: ' "$DT_TMP/verify_from.out"
expect_error verify_from_missing 2 'no checkpoint of step 41 to start from \(available: [0-9, ]+\)' \
    -- "$DETRAIN" verify "$DT_TMP/run" --quiet --from 41
run_code sgd 0 "$DETRAIN" train "$DT_TMP/tiny-sgd.json" --quiet --out "$DT_TMP/sgd"
run_code verify_sgd 0 "$DETRAIN" verify "$DT_TMP/sgd" --quiet

# An interrupted run: verify compares the steps it recorded.
run_code stopped 130 "$DETRAIN" train "$DT_TMP/tiny.json" --quiet --out "$DT_TMP/stopped" --stop-after-steps 23
run_code verify_stopped 0 "$DETRAIN" verify "$DT_TMP/stopped" --quiet
check "verify of an interrupted run compared its 23 steps" grep -Eq 'steps +23: ' "$DT_TMP/verify_stopped.out"

# A recorded value changed: the loss bits of step 17 (decimal changed to match).
cp -r "$DT_TMP/run" "$DT_TMP/edited"
/usr/bin/python3 - "$DT_TMP/edited/trace.jsonl" <<'EOF'
import json, struct, sys
lines = open(sys.argv[1]).read().splitlines()
step = json.loads(lines[16])
bits = int(step["loss_bits"], 16) ^ 1
step["loss_bits"] = "%08x" % bits
step["loss"] = float("%.9g" % struct.unpack("<f", struct.pack("<I", bits))[0])
lines[16] = json.dumps(step, separators=(",", ":"))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
run_code verify_edited 1 "$DETRAIN" verify "$DT_TMP/edited" --quiet
check "edited loss: first divergence at step 17, quantity loss" grep -q 'first divergence at step 17: loss' "$DT_TMP/verify_edited.out"
check "edited loss: recorded and re-run values with their bits" grep -Eq 'recorded +[0-9.e-]+ \(bits [0-9a-f]{8}\)' "$DT_TMP/verify_edited.out"
check "edited loss: the likely cause is the record itself" grep -q 'likely cause: the data, config, code and environment match the record' "$DT_TMP/verify_edited.out"
check "edited loss: one line on stderr" [ "$(grep -c '' "$DT_TMP/verify_edited.err")" = 1 ]
# Only the decimal edited: the record contradicts itself.
cp -r "$DT_TMP/run" "$DT_TMP/decimal"
sed -i '9s/"loss":[0-9.e-]*/"loss":0.5/' "$DT_TMP/decimal/trace.jsonl"
run_code verify_decimal 1 "$DETRAIN" verify "$DT_TMP/decimal" --quiet
check "edited decimal: named as trace.jsonl edited at step 9" grep -q 'trace.jsonl was edited: the decimal loss of step 9' "$DT_TMP/verify_decimal.out"
# A checkpoint digest and the final digest changed in the manifest.
cp -r "$DT_TMP/run" "$DT_TMP/final"
/usr/bin/python3 - "$DT_TMP/final/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["final"]["params_sha256"] = "0" * 64
m["checkpoints"][1]["params_sha256"] = "1" * 64
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF
run_code verify_final 1 "$DETRAIN" verify "$DT_TMP/final" --quiet
check "edited digests: first divergence at step 19, a (pruned) checkpoint's parameter digest" \
    grep -q 'first divergence at step 19: parameter digest of checkpoint checkpoint-000000019.h5' "$DT_TMP/verify_final.out"
check "edited digests: the final block is counted too" grep -q 'the final block' "$DT_TMP/verify_final.out"

# The config changed in the record: the cause names the config and the key.
cp -r "$DT_TMP/run" "$DT_TMP/config"
/usr/bin/python3 - "$DT_TMP/config/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["config"]["optimizer"]["weight_decay"] = 0.02
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF
run_code verify_config 1 "$DETRAIN" verify "$DT_TMP/config" --quiet
check "changed config: diverges at a step's loss" grep -Eq 'first divergence at step [0-9]+: loss' "$DT_TMP/verify_config.out"
check "changed config: the likely cause names the config and the key" \
    grep -q 'likely cause: changed config: .*config.optimizer.weight_decay is 0.02, the checkpoint has 0.01' "$DT_TMP/verify_config.out"

# Different code: the recorded commit changed.
cp -r "$DT_TMP/run" "$DT_TMP/code"
/usr/bin/python3 - "$DT_TMP/code/manifest.json" "$DT_TMP/code/trace.jsonl" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["code"]["git_commit"] = "0123456789abcdef0123456789abcdef01234567"
json.dump(m, open(sys.argv[1], "w"), indent=2)
lines = open(sys.argv[2]).read().splitlines()
step = json.loads(lines[2]); step["loss_bits"] = "3f800000"; step["loss"] = 1
lines[2] = json.dumps(step, separators=(",", ":"))
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
EOF
run_code verify_code 1 "$DETRAIN" verify "$DT_TMP/code" --quiet
check "different code: the likely cause names the code version" \
    grep -q 'likely cause: different code version or build: code.git_commit: "0123456789abcdef' "$DT_TMP/verify_code.out"

# A data file changed or missing: verify cannot run (exit 2), naming the file and both digests.
cp -r "$DT_TMP/run" "$DT_TMP/data_run"
sed -i '7s/$/ /' "$DT_TMP/data/spiral-test.csv"
expect_error data_changed 2 'spiral-test.csv: the test data file changed since the run: recorded sha256 [0-9a-f]{64}, now [0-9a-f]{64}' \
    -- "$DETRAIN" verify "$DT_TMP/data_run" --quiet
mv "$DT_TMP/data/spiral-train.csv" "$DT_TMP/data/moved.csv"
expect_error data_missing 2 'spiral-train.csv: the run.s train data file is missing \(recorded sha256 [0-9a-f]{64}\)' \
    -- "$DETRAIN" verify "$DT_TMP/data_run" --quiet
mv "$DT_TMP/data/moved.csv" "$DT_TMP/data/spiral-train.csv"
expect_error not_a_run 2 'not a run folder \(no manifest.json\)' -- "$DETRAIN" verify "$DT_TMP/data" --quiet

# Fast mode promises no bits: verify says so and compares the metrics within a tolerance.
run_code fast 0 "$DETRAIN" train "$DT_TMP/tiny-sgd.json" --quiet --out "$DT_TMP/fast" --mode fast
run_code verify_fast 0 "$DETRAIN" verify "$DT_TMP/fast" --quiet
check "fast mode: verify says the mode promises no bits" grep -q 'mode fast promises no bits; comparing the metrics within a relative tolerance of 0.01' "$DT_TMP/verify_fast.out"
/usr/bin/python3 - "$DT_TMP/fast/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["epochs"][1]["test_loss"] *= 1.5
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF
run_code verify_fast_off 1 "$DETRAIN" verify "$DT_TMP/fast" --quiet
check "fast mode: a metric beyond the tolerance is reported" grep -q 'epoch 2 test_loss (beyond tolerance 0.01)' "$DT_TMP/verify_fast_off.out"

# ---- a signal during the re-run: never reported as a difference, no temporary folder left -------
"$DETRAIN" train "$DT_TMP/tiny.json" --quiet --set train.epochs=400 --out "$DT_TMP/long" >/dev/null
for sig in INT TERM HUP; do
    rm -rf "$TMPDIR"/*
    "$DETRAIN" verify "$DT_TMP/long" --quiet >"$DT_TMP/sig-$sig.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do ls "$TMPDIR"/detrain-verify-*/manifest.json >/dev/null 2>&1 && break; sleep 0.05; done
    sleep 0.3 # into the steps
    kill -$sig $pid
    rc=0
    wait $pid || rc=$?
    case $sig in INT | TERM) want=130 ;; HUP) want=129 ;; esac
    check "verify stopped by SIG$sig: exit $want (got $rc), not a difference" test "$rc" = "$want"
    check "verify stopped by SIG$sig: no temporary folder left" test -z "$(ls "$TMPDIR")"
done
check "verify stopped by SIGINT: says so, nothing compared" \
    grep -Eq "^detrain: verify .*/long: interrupted after step [0-9]+ of 7600 of the re-run; nothing was compared$" "$DT_TMP/sig-INT.out"
finish
