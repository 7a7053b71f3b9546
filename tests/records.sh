# records.sh — the run record (manifest.json fields), detrain diff, eval and predict.
. "$DT_SOURCE_DIR/tests/lib.sh"

tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
run_code run 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/run" --set optimizer.lr=0.01
m=$DT_TMP/run/manifest.json

# The manifest holds what explains and reproduces the run.
has() { # DESCRIPTION PYTHON-CONDITION-ON-m
    check "manifest: $1" [ "$(json_get "$m" "bool($2)" 2>&1)" = True ]
}
has "a unique run id and status completed" 'len(m["run_id"]) > 20 and m["status"] == "completed"'
has "start, update and finish times" 'all(k in m for k in ("started_at", "updated_at", "finished_at"))'
has "the command line and working directory" 'm["command_line"][1] == "train" and m["working_directory"]'
has "the resolved config, its SHA-256 and the --set overrides" 'm["config"]["optimizer"]["lr"] == 0.01 and len(m["config_sha256"]) == 64 and m["overrides"] == ["optimizer.lr=0.01"]'
has "the checkpoint policy in the config" 'm["config"]["checkpoint"] == {"every_steps": 0, "every_epoch": True, "keep": 3}'
has "code: version, git commit, dirty flag, compiler, flags" 'all(k in m["code"] for k in ("version", "git_commit", "git_dirty", "compiler", "flags"))'
has "the config file's digest and its repository's commit" 'len(m["config_file_sha256"]) == 64 and "config_repo" in m'
has "every data file with path, size and SHA-256" 'all(len(f["sha256"]) == 64 and f["size"] > 0 and f["path"] for d in ("train", "test") for f in m["data"][d]["files"])'
has "the seed and the derived keys" 'm["seeds"]["seed"] == 7 and len(m["seeds"]["derived_keys"]["init"]) == 3 and len(m["seeds"]["derived_keys"]["shuffle"]) == 3'
has "environment: OS, kernel, CPU, SIMD path, threads" 'all(m["environment"][k] for k in ("os", "kernel", "cpu", "simd", "threads"))'
has "environment: a place for the GPU fields, null on the CPU" 'set(m["environment"]["gpu"]) >= {"name", "compute_capability", "sm_count", "driver", "cuda_runtime", "cublas", "nccl"} and m["environment"]["gpu"]["name"] is None'
has "environment: HDF5, cJSON and OpenSSL versions" 'all(m["environment"]["libraries"][k] for k in ("hdf5", "cjson", "openssl"))'
has "the mode" 'm["mode"] == "portable"'
has "runtime.threads 0 on a 771-parameter net at batch 32: 1 thread, recorded (more would only wait)" 'm["threads"] == 1'
has "per-epoch metrics with exact bits and counts" 'len(m["epochs"]) == 3 and all(len(e["test_loss_bits"]) == 8 and "test_correct" in e for e in m["epochs"])'
has "every checkpoint with file, step, SHA-256 and parameter digest" 'len(m["checkpoints"]) == 3 and all(len(c["sha256"]) == 64 and len(c["params_sha256"]) == 64 for c in m["checkpoints"])'
has "the final block with the parameter digest and bits" 'len(m["final"]["params_sha256"]) == 64 and len(m["final"]["test_loss_bits"]) == 8'

# diff: what changed between two runs.
run_code run2 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/run2" --set optimizer.lr=0.02 --set seed=8
run_code diff 1 "$DETRAIN" diff "$DT_TMP/run" "$DT_TMP/run2"
check "diff names the config keys by JSON path" grep -q 'config.optimizer.lr: 0.01  vs  0.02' "$DT_TMP/diff.out"
check "diff names the overrides" grep -q 'overrides\[0\]: "optimizer.lr=0.01"  vs  "optimizer.lr=0.02"' "$DT_TMP/diff.out"
check "diff names the seeds" grep -q 'seeds.seed: 7  vs  8' "$DT_TMP/diff.out"
check "diff says the data is the same" grep -q '^data: same' "$DT_TMP/diff.out"
check "diff says the code is the same" grep -q '^code: same' "$DT_TMP/diff.out"
check "diff names the final digest" grep -q 'final.params_sha256' "$DT_TMP/diff.out"
check "diff gives the first step where the losses diverge" grep -q 'the losses first diverge at step 1:' "$DT_TMP/diff.out"
# The same data at another path is no difference (its SHA-256 is its identity); other bytes are.
mkdir -p "$DT_TMP/moved" && cp "$DT_SOURCE_DIR/tests/data/spiral-train.csv" "$DT_TMP/moved/train-copy.csv"
"$DETRAIN" train "$tiny" --set data.train.path="$DT_TMP/moved/train-copy.csv" --quiet --out "$DT_TMP/run-moved" >/dev/null 2>&1
"$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/run-here" >/dev/null 2>&1
run_code diff_moved 0 "$DETRAIN" diff "$DT_TMP/run-here" "$DT_TMP/run-moved"
check "diff: another path to the same data is said, and not a difference" \
    bash -c "grep -q '^data paths: other paths to the same data' '$DT_TMP/diff_moved.out' &&
             grep -q 'train-copy.csv' '$DT_TMP/diff_moved.out' && grep -q '^0 differences' '$DT_TMP/diff_moved.out'"
# ... also when the other path is written in another config file: same settings, not a difference.
sed -e "s|\.\./data/spiral-train.csv|$DT_TMP/moved/train-copy.csv|" -e "s|\.\./data/|$DT_SOURCE_DIR/tests/data/|" \
    "$tiny" >"$DT_TMP/moved/tiny-moved.json"
"$DETRAIN" train "$DT_TMP/moved/tiny-moved.json" --quiet --out "$DT_TMP/run-moved-file" >/dev/null 2>&1
run_code diff_moved_file 0 "$DETRAIN" diff "$DT_TMP/run-here" "$DT_TMP/run-moved-file"
check "diff: another config file with the same settings is said, and not a difference" \
    bash -c "grep -q '^config files: other files with the same settings' '$DT_TMP/diff_moved_file.out' &&
             grep -q 'tiny-moved.json' '$DT_TMP/diff_moved_file.out' && grep -q '^0 differences' '$DT_TMP/diff_moved_file.out'"
head -n 300 "$DT_SOURCE_DIR/tests/data/spiral-train.csv" >"$DT_TMP/moved/train-part.csv"
"$DETRAIN" train "$tiny" --set data.train.path="$DT_TMP/moved/train-part.csv" --quiet --out "$DT_TMP/run-part" >/dev/null 2>&1
run_code diff_other_data 1 "$DETRAIN" diff "$DT_TMP/run-here" "$DT_TMP/run-part"
check "diff: other data at another path is a difference" grep -q '^data: [0-9]* difference' "$DT_TMP/diff_other_data.out"
run_code run3 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/run3" --set optimizer.lr=0.01 --set data.test.limit=90
run_code diff_data 1 "$DETRAIN" diff "$DT_TMP/run" "$DT_TMP/run3"
check "diff: only the test data and results differ, the trace is identical" grep -q 'loss trace: identical, all 57 steps' "$DT_TMP/diff_data.out"
check "diff: the sample count of the test data" grep -q 'data.test.samples: 180  vs  90' "$DT_TMP/diff_data.out"
run_code run4 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/run4" --set optimizer.lr=0.01 --threads 1
run_code diff_same 1 "$DETRAIN" diff "$DT_TMP/run" "$DT_TMP/run4"
check "diff: another thread count, the same results" grep -q '^results: same' "$DT_TMP/diff_same.out"
run_code diff_self 0 "$DETRAIN" diff "$DT_TMP/run" "$DT_TMP/run"
expect_error diff_missing 2 'nope: not a run folder' -- "$DETRAIN" diff "$DT_TMP/run" "$DT_TMP/nope"

# eval: the final checkpoint on the test set gives the run's own final metrics.
run_code eval 0 "$DETRAIN" eval "$DT_TMP/run/final.h5"
bits=$(json_get "$m" 'm["final"]["test_loss_bits"]')
check "eval's test loss bits equal the manifest's final test_loss_bits ($bits)" grep -q "bits $bits" "$DT_TMP/eval.out"
correct=$(json_get "$m" 'm["final"]["test_correct"]')
check "eval's accuracy count equals the manifest's ($correct of 180)" grep -q "($correct of 180)" "$DT_TMP/eval.out"
run_code eval_data 0 "$DETRAIN" eval "$DT_TMP/run/final.h5" --data "$DT_SOURCE_DIR/tests/data/spiral-train.csv"
check "eval --data FILE.csv: 600 samples" grep -Eq 'samples +600' "$DT_TMP/eval_data.out"
run_code eval_json 0 "$DETRAIN" eval "$DT_TMP/run/final.h5" \
    --data "{\"format\": \"csv\", \"path\": \"$DT_SOURCE_DIR/tests/data/spiral-train.csv\", \"limit\": 100}"
check "eval --data JSON source with a limit: 100 samples" grep -Eq 'samples +100' "$DT_TMP/eval_json.out"
expect_error eval_bad_json 2 '--data SOURCE: config.data.test.format: must be one of' \
    -- "$DETRAIN" eval "$DT_TMP/run/final.h5" --data '{"format": "parquet", "path": "x"}'
expect_error eval_missing 2 'nope.csv: cannot open' -- "$DETRAIN" eval "$DT_TMP/run/final.h5" --data "$DT_TMP/nope.csv"

# predict: classes and probabilities; a CSV without labels; JSON lines.
cut -d, -f1-5 "$DT_SOURCE_DIR/tests/data/spiral-test.csv" >"$DT_TMP/unlabelled.csv"
run_code predict 0 "$DETRAIN" predict "$DT_TMP/run/final.h5" --input "$DT_TMP/unlabelled.csv" --output "$DT_TMP/pred.csv"
check "predict CSV: a header and 180 rows" [ "$(wc -l <"$DT_TMP/pred.csv")" = 181 ]
check "predict CSV: index, class, p0..p2" [ "$(head -1 "$DT_TMP/pred.csv")" = "index,class,p0,p1,p2" ]
# The predicted classes give the accuracy eval reported.
agree=$(paste -d, "$DT_TMP/pred.csv" "$DT_SOURCE_DIR/tests/data/spiral-test.csv" | awk -F, 'NR > 1 && $2 == $NF {n++} END {print n + 0}')
check "predict: $agree correct classes, as eval counted ($correct)" [ "$agree" = "$correct" ]
check "predict: the probabilities of a row sum to 1" awk -F, 'NR == 2 {s = $3 + $4 + $5; exit !(s > 0.9999 && s < 1.0001)}' "$DT_TMP/pred.csv"
run_code predict_jsonl 0 "$DETRAIN" predict "$DT_TMP/run/final.h5" --input "$DT_SOURCE_DIR/tests/data/spiral-test.csv" --output "$DT_TMP/pred.jsonl"
check "predict JSON lines: class and probabilities per sample" \
    /usr/bin/python3 -c 'import json, sys; rows = [json.loads(l) for l in open(sys.argv[1])]; sys.exit(not (len(rows) == 180 and len(rows[0]["probabilities"]) == 3 and rows[5]["index"] == 5))' "$DT_TMP/pred.jsonl"
run_code predict_stdout 0 "$DETRAIN" predict "$DT_TMP/run/final.h5" --input "$DT_TMP/unlabelled.csv"
check "predict without --output writes CSV to stdout" cmp -s "$DT_TMP/predict_stdout.out" "$DT_TMP/pred.csv"
expect_error predict_ext 2 '--output .*pred.txt: unknown extension' \
    -- "$DETRAIN" predict "$DT_TMP/run/final.h5" --input "$DT_TMP/unlabelled.csv" --output "$DT_TMP/pred.txt"
expect_error predict_no_input 2 'predict needs --input' -- "$DETRAIN" predict "$DT_TMP/run/final.h5"
cut -d, -f1-4 "$DT_SOURCE_DIR/tests/data/spiral-test.csv" >"$DT_TMP/narrow.csv"
expect_error predict_narrow 2 'narrow.csv: samples have 4 features, model.input_size is 5' \
    -- "$DETRAIN" predict "$DT_TMP/run/final.h5" --input "$DT_TMP/narrow.csv"

# Regression (mse): predict gives the outputs.
run_code sgd 0 "$DETRAIN" train "$DT_SOURCE_DIR/tests/configs/tiny-sgd.json" --quiet --out "$DT_TMP/sgd"
run_code predict_mse 0 "$DETRAIN" predict "$DT_TMP/sgd/final.h5" --input "$DT_TMP/unlabelled.csv"
check "predict (mse): index and y0" [ "$(head -1 "$DT_TMP/predict_mse.out")" = "index,y0" ]
run_code eval_mse 0 "$DETRAIN" eval "$DT_TMP/sgd/final.h5"
check "eval (mse): the loss bits of the run's final test_loss" \
    grep -q "bits $(json_get "$DT_TMP/sgd/manifest.json" 'm["final"]["test_loss_bits"]')" "$DT_TMP/eval_mse.out"

# Usage: help for each command.
for c in resume verify diff inspect eval predict; do
    run_code "help_$c" 0 "$DETRAIN" help "$c"
    check "help $c starts with its usage line" grep -q "^usage: detrain $c" "$DT_TMP/help_$c.out"
done
expect_error resume_no_dir 2 'resume needs a run folder' -- "$DETRAIN" resume
expect_error resume_not_run 2 'nope: not a run folder \(no manifest.json\)' -- "$DETRAIN" resume "$DT_TMP/nope"
expect_error verify_bad_from 2 "option '--from' needs a non-negative integer" -- "$DETRAIN" verify "$DT_TMP/run" --from x
expect_error train_existing 2 'already holds a run .*detrain resume' -- "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/run"
finish
