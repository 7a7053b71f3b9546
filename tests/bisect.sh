# bisect.sh — detrain bisect names the step and the operation where two runs of one config part,
# for pairs made to diverge on purpose at a known operation:
#   microbatches 1 vs 2: the step's gradient (the microbatch tree) of step 1;
#   fast vs portable: a product or sum of step 1 (OpenBLAS's products, completion-order sums);
#   a one-ULP fault in layer 1's bias at step 25 (DETRAIN_TEST_PERTURB): that state, that step,
#     1 element, 1 ULP — from the two records, and from an op dump made by --dump-only and by
#     train --dump-ops (the cross-machine path);
# identical runs (1 vs 2 threads, a run and its own dump) exit 0; configs that differ in a key
# that changes what is learned, different data, damaged or missing sides exit 2 with one line.
. "$DT_SOURCE_DIR/tests/lib.sh"
export TMPDIR=$DT_TMP/tmp
mkdir -p "$TMPDIR"
sed 's|"\.\./data/|"'"$DT_SOURCE_DIR"'/tests/data/|' "$DT_SOURCE_DIR/tests/configs/tiny.json" >"$DT_TMP/tiny.json"
cfg=$DT_TMP/tiny.json
py=/usr/bin/python3

# field FILE EXPR: a value of a --json report (python expression over `r`).
field() { "$py" -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

run_code a 0 "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/a" --set checkpoint.every_steps=10
run_code threads 0 "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/threads" --threads 2
run_code micro 0 "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/micro" --set train.microbatches=2
run_code fast 0 "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/fast" --mode fast --threads 2
DETRAIN_TEST_PERTURB=layer1.state.bias@25 run_code fault 0 "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/fault" \
    --set checkpoint.every_steps=10
check "the fault is recorded in the manifest" grep -q '"test_perturb":.*"layer1.state.bias@25"' "$DT_TMP/fault/manifest.json"

# Identical runs.
run_code same 0 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/threads"
check "identical runs: IDENTICAL, 57 steps compared" grep -Eq 'IDENTICAL' "$DT_TMP/same.out"
check "identical runs: 57 steps compared" grep -Eq 'records +57 steps compared' "$DT_TMP/same.out"

# Microbatches 1 vs 2: the first operation both sides name that differs is the step's gradient.
run_code micro_bisect 1 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/micro" --json
check "microbatches: diverged at step 1" [ "$(field "$DT_TMP/micro_bisect.out" "r['result'], r['operation']['step']")" = "diverged 1" ]
check "microbatches: the step's gradient (the tree) is named" \
    [ "$(field "$DT_TMP/micro_bisect.out" "r['operation']['name'], r['operation']['kind']")" = "layer0.gradient.weight gradient" ]
check "microbatches: ULPs measured" [ "$(field "$DT_TMP/micro_bisect.out" "r['operation']['max_ulp'] >= 1")" = True ]

# A registered version goes where a run folder goes, and is named as given.
run_code register 0 "$DETRAIN" registry add "$DT_TMP/a" --name tinyb
run_code registered_bisect 1 "$DETRAIN" bisect tinyb/1 "$DT_TMP/micro"
check "a registered side is named as given" grep -q '^  A  tinyb/1 (registered)' "$DT_TMP/registered_bisect.out"

# Fast vs portable: an operation of step 1 (fast sums in completion order or through BLAS).
run_code fast_bisect 1 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/fast" --json
check "fast: diverged at step 1" [ "$(field "$DT_TMP/fast_bisect.out" "r['operation']['step']")" = 1 ]
check "fast: a product or a sum (the orders fast does not keep)" [ "$(field "$DT_TMP/fast_bisect.out" \
    "r['operation']['kind'] in ('linear', 'weight_grad', 'input_grad', 'bias_grad', 'loss_sum', 'grad_norm')")" = True ]

# The one-ULP fault: named with its step, one element, one ULP.
run_code fault_bisect 1 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/fault"
check "fault: names step 25, layer1.state.bias" grep -q 'first differing operation: step 25, layer1.state.bias$' \
    "$DT_TMP/fault_bisect.out"
check "fault: 1 element, 1 ULP" grep -Eq 'elements +1 of 16 differ' "$DT_TMP/fault_bisect.out"
check "fault: 1 ULP" grep -Eq 'max 1 ULP' "$DT_TMP/fault_bisect.out"
check "fault: the documented order is given" grep -q 'numerics.md §6' "$DT_TMP/fault_bisect.out"

# Across machines: B's side as an op dump (--dump-only replays B only), compared here.
run_code dump_only 0 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/fault" --dump-only --out "$DT_TMP/ops-fault.json"
run_code dump_bisect 1 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/ops-fault.json"
check "dump: names step 25, layer1.state.bias, 1 ULP" grep -q 'step 25, layer1.state.bias$' "$DT_TMP/dump_bisect.out"
check "dump: with its values" grep -Eq 'max 1 ULP' "$DT_TMP/dump_bisect.out"
# train --dump-ops: the dump of one step, the same as the run's own replay.
run_code dump_ops 0 "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/d" --dump-ops 3
check "train --dump-ops wrote RUN/ops-3.json" [ -s "$DT_TMP/d/ops-3.json" ]
check "a traced run has the untraced run's digest" [ "$(digest_of "$DT_TMP/dump_ops.out")" = "$(digest_of "$DT_TMP/a.out")" ]
run_code dump_same 0 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/d/ops-3.json"
DETRAIN_TEST_PERTURB='mb0/1.layer2.linear.z@3' run_code dump_fault 0 "$DETRAIN" train "$cfg" --quiet \
    --out "$DT_TMP/dz" --dump-ops 3
run_code dump_fault_bisect 1 "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/dz/ops-3.json" --json
check "dump of a faulty run: names its operation" \
    [ "$(field "$DT_TMP/dump_fault_bisect.out" "r['operation']['name'], r['operation']['max_ulp']")" = "mb0/1.layer2.linear.z 1" ]
# resume --dump-ops: a step after the newest checkpoint.
run_code stopped 130 "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/r" --stop-after-steps 20
run_code resume_dump 0 "$DETRAIN" resume "$DT_TMP/r" --quiet --dump-ops 30 --ops-out "$DT_TMP/ops-30.json"
run_code resume_dump_same 0 "$DETRAIN" bisect "$DT_TMP/ops-30.json" "$DT_TMP/a"
expect_error dump_beyond 2 'dump-ops 500: the run did not run that step' -- "$DETRAIN" train "$cfg" --quiet \
    --out "$DT_TMP/short" --dump-ops 500

# Cannot compare: exit 2, one line.
sed 's/"lr": 0.01/"lr": 0.02/' "$cfg" >"$DT_TMP/lr.json"
run_code lr 0 "$DETRAIN" train "$DT_TMP/lr.json" --quiet --out "$DT_TMP/lr"
expect_error other_config 2 'not runs of one config: config.optimizer.lr \(0.01 vs 0.02\)' \
    -- "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/lr"
"$py" - "$DT_TMP/a/manifest.json" "$DT_TMP/otherdata/manifest.json" <<'EOF'
import json, os, sys
m = json.load(open(sys.argv[1]))
m["data"]["test"]["files"][0]["sha256"] = "0" * 64
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
json.dump(m, open(sys.argv[2], "w"))
EOF
cp "$DT_TMP/a/trace.jsonl" "$DT_TMP/otherdata/"
expect_error other_data 2 'different test data' -- "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/otherdata"
expect_error missing 2 'nowhere' -- "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/nowhere"
echo 'not json' >"$DT_TMP/garbage.json"
expect_error garbage 2 'garbage.json: not JSON' -- "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/garbage.json"
"$py" - "$DT_TMP/d/ops-3.json" "$DT_TMP/tampered.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
op = d["steps"][0]["ops"][5]
op["sha256"] = ("1" if op["sha256"][0] != "1" else "2") + op["sha256"][1:]
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_error tampered 2 'steps\[0\]\.ops\[5\]: the values do not have the recorded sha256' \
    -- "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/tampered.json"
expect_error one_side 2 'bisect needs two runs' -- "$DETRAIN" bisect "$DT_TMP/a"
expect_error dump_only_alone 2 '--dump-only and --out go together' -- "$DETRAIN" bisect "$DT_TMP/a" "$DT_TMP/fault" --dump-only
expect_error bad_perturb 2 'DETRAIN_TEST_PERTURB=oops: expected OP@STEP' \
    -- env DETRAIN_TEST_PERTURB=oops "$DETRAIN" train "$cfg" --quiet --out "$DT_TMP/bad"
check "bisect left no temporary folder" [ -z "$(ls "$TMPDIR")" ]

echo "bisect: $checks checks, $failures failed"
[ "$failures" = 0 ]
