# select.sh — validation sets, the best epoch, early stopping (label cpu; also under ASan):
#   data.validation_split holds out the seeded split (recorded with the indices' digest) and
#   data.validation loads a source; val_loss/val_accuracy per epoch in the console, manifest,
#   final block and verify; best.h5 is the epoch the manifest names, survives checkpoint.keep,
#   and is what eval/predict/export/registry take from a run folder; early stopping stops at
#   best + patience, resumes bit for bit after a stop at any step or a SIGKILL at a random
#   instant, and verify re-proves the stop; every misuse is one line and exit 2.
. "$DT_SOURCE_DIR/tests/lib.sh"

tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
split=(--set data.validation_split=0.2 --set train.epochs=30)
early=("${split[@]}" --set 'train.early_stopping={"patience":3}')
py() { /usr/bin/python3 -c "$@"; }

# --- the split, recorded, and its metrics -----------------------------------------------------------
run_code split 0 "$DETRAIN" train "$tiny" "${split[@]}" --set checkpoint.keep=1 --out "$DT_TMP/split"
m=$DT_TMP/split/manifest.json
check "split: 0.2 of 600 = 120 validation samples (the share as written), 480 training, indices digested" \
    py "import json; m=json.load(open('$m')); v=m['data']['validation']; t=m['data']['train']
assert v['samples']==120 and t['samples']==480 and v['split']==0.2 and len(v['indices_sha256'])==64, (v, t)
assert v['files'][0]['sha256']==t['files'][0]['sha256']"
check "split: every epoch has val_loss (with bits) and val_accuracy" \
    py "import json; m=json.load(open('$m')); assert len(m['epochs'])==30
assert all('val_loss_bits' in e and 0<=e['val_accuracy']<=1 and e['val_samples']==120 for e in m['epochs'])"
check "split: the console line shows val_loss and val_acc" grep -q 'val_loss [0-9.]*  val_acc' "$DT_TMP/split.err"
check "selection: best_epoch is the epoch of the lowest val_loss (the first of equals)" \
    py "import json; m=json.load(open('$m')); s=m['selection']; e=m['epochs']
best=min(e, key=lambda x: (x['val_loss'], x['epoch']))
assert s['metric']=='val_loss' and s['mode']=='min' and s['best_epoch']==best['epoch'], (s, best['epoch'])
assert s['best_value']==best['val_loss'] and s['checkpoint']=='best.h5' and s['stopped_early'] is False"
check "selection: best.h5 listed with reason best, kept although checkpoint.keep=1" \
    py "import json,os; m=json.load(open('$m')); c=[x for x in m['checkpoints'] if x['file']=='best.h5']
assert len(c)==1 and c[0]['reason']=='best' and not c[0].get('removed') and os.path.exists('$DT_TMP/split/best.h5')
assert c[0]['epoch']==m['selection']['best_epoch']"

run_code split_t1 0 "$DETRAIN" train "$tiny" "${split[@]}" --threads 1 --quiet --out "$DT_TMP/split_t1"
check "split: the same digest on 1 thread as on all" \
    test "$(digest_of "$DT_TMP/split.out")" = "$(digest_of "$DT_TMP/split_t1.out")"
"$DETRAIN" train "$tiny" "${split[@]}" --set train.epochs=1 --set seed=8 --quiet --out "$DT_TMP/seed8" >/dev/null 2>&1
check "split: another seed holds out other samples" \
    test "$(json_get "$DT_TMP/seed8/manifest.json" "m['data']['validation']['indices_sha256']")" != \
         "$(json_get "$m" "m['data']['validation']['indices_sha256']")"

run_code source 0 "$DETRAIN" train "$tiny" --set data.validation="{\"format\":\"csv\",\"path\":\"$DT_SOURCE_DIR/tests/data/spiral-test.csv\",\"label_column\":\"label\"}" \
    --set train.epochs=4 --quiet --out "$DT_TMP/source"
check "data.validation: a source of its own, recorded with its digest, all 600 training samples kept" \
    py "import json; m=json.load(open('$DT_TMP/source/manifest.json')); v=m['data']['validation']
assert v['samples']==180 and 'split' not in v and m['data']['train']['samples']==600
assert all(e['val_samples']==180 for e in m['epochs'])"

# --- a run folder means its selected checkpoint ------------------------------------------------------
run_code eval_run 0 "$DETRAIN" eval "$DT_TMP/split"
check "eval RUN: uses best.h5 and says so" grep -q "using best.h5" "$DT_TMP/eval_run.err"
run_code eval_best 0 "$DETRAIN" eval "$DT_TMP/split/best.h5"
check "eval RUN = eval RUN/best.h5" diff <(grep -v '^eval ' "$DT_TMP/eval_run.out") <(grep -v '^eval ' "$DT_TMP/eval_best.out")
run_code predict_run 0 "$DETRAIN" predict "$DT_TMP/split" --input "$DT_SOURCE_DIR/tests/data/spiral-test.csv" \
    --output "$DT_TMP/predictions.csv"
check "predict RUN: uses best.h5" grep -q "using best.h5" "$DT_TMP/predict_run.err"
run_code export_run 0 "$DETRAIN" export "$DT_TMP/split" --format safetensors --output "$DT_TMP/model.safetensors"
check "export RUN: uses best.h5" grep -q "using best.h5" "$DT_TMP/export_run.err"

export DETRAIN_REGISTRY=$DT_TMP/registry/detrain.sqlite
mkdir -p "$DT_TMP/registry"
# an early-stopped run: its best epoch is not its last
run_code stopped 0 "$DETRAIN" train "$tiny" "${early[@]}" --quiet --out "$DT_TMP/stopped"
run_code registry_best 0 "$DETRAIN" registry add "$DT_TMP/stopped" --name spiral
best_sha=$(json_get "$DT_TMP/stopped/manifest.json" "[c['params_sha256'] for c in m['checkpoints'] if c['file']=='best.h5'][0]")
check "registry add RUN: registers best.h5 with its digest" grep -q "best.h5, params_sha256 $best_sha" "$DT_TMP/registry_best.out"
run_code registry_final 0 "$DETRAIN" registry add "$DT_TMP/stopped" --name spiral --checkpoint final
check "registry add --checkpoint final: registers final.h5 as version 2" \
    grep -q "registered spiral/2: .*final.h5, params_sha256 $(digest_of "$DT_TMP/stopped.out")" "$DT_TMP/registry_final.out"
mkdir -p "$DT_TMP/tmpdir"
TMPDIR=$DT_TMP/tmpdir "$DETRAIN" registry reproduce spiral/1 --quiet 2>/dev/null | head -1 >/dev/null
check "reproduce | head (SIGPIPE) leaves no temporary folder behind" test -z "$(ls -A "$DT_TMP/tmpdir")"
run_code show_best 0 "$DETRAIN" registry show spiral/1
check "registry show: the --set overrides and the checkpoint in the text form" \
    bash -c "grep -q -- '--set          data.validation_split=0.2' '$DT_TMP/show_best.out' &&
             grep -q 'checkpoint     best.h5' '$DT_TMP/show_best.out'"
run_code reproduce_best 0 "$DETRAIN" registry reproduce spiral/1 --quiet
check "registry reproduce of the best version re-proves it" grep -q "reproduced bit for bit: params_sha256 $best_sha" \
    "$DT_TMP/reproduce_best.out"
"$DETRAIN" train "$tiny" --set train.epochs=2 --quiet --out "$DT_TMP/plain" >/dev/null 2>&1
run_code eval_plain 0 "$DETRAIN" eval "$DT_TMP/plain"
check "eval RUN without a selection: final.h5" grep -q "using final.h5" "$DT_TMP/eval_plain.err"
expect_error registry_no_best 2 'kept no best.h5' -- "$DETRAIN" registry add "$DT_TMP/plain" --name plain --checkpoint best
unset DETRAIN_REGISTRY

# --- early stopping ----------------------------------------------------------------------------------
run_code early 0 "$DETRAIN" train "$tiny" "${early[@]}" --out "$DT_TMP/early"
em=$DT_TMP/early/manifest.json
stop=$(json_get "$em" "m['selection']['stopped_epoch']")
check "early stopping: status completed, stopped at best + patience, before the last epoch" \
    py "import json; m=json.load(open('$em')); s=m['selection']
assert m['status']=='completed' and s['stopped_early'] is True and s['stopped_epoch']==s['best_epoch']+3<30, s
assert len(m['epochs'])==s['stopped_epoch'] and m['final']['epoch']==s['stopped_epoch']"
check "early stopping: says so on the console" grep -q "stopped early after epoch $stop of 30" "$DT_TMP/early.err"
ref=$(digest_of "$DT_TMP/early.out")
spe=$(json_get "$em" "m['epochs'][0]['steps']")
for at in 7 $((spe * 3)) $(( (stop - 2) * spe + 3)) $(( (stop - 1) * spe)); do
    "$DETRAIN" train "$tiny" "${early[@]}" --quiet --stop-after-steps "$at" --out "$DT_TMP/stop-$at" >/dev/null 2>&1
    "$DETRAIN" resume "$DT_TMP/stop-$at" --quiet >"$DT_TMP/stop-$at.out" 2>"$DT_TMP/stop-$at.err"
    check "early stopping: stopped after step $at and resumed = the same digest and stop epoch" \
        py "import json; m=json.load(open('$DT_TMP/stop-$at/manifest.json'))
assert m['selection']['stopped_epoch']==$stop and m['final']['params_sha256']=='$ref', m['selection']"
done
# A SIGKILL at a random instant (the run takes about a second; ASan more): resume as often as needed.
for k in 1 2 3; do
    d=$DT_TMP/kill-$k
    at=$(py "import random; print('%.3f' % random.uniform(0.05, 0.6))")
    kill_after "$at" "$DETRAIN" train "$tiny" "${early[@]}" --quiet --out "$d"
    for attempt in 1 2 3; do
        [ -f "$d/manifest.json" ] || "$DETRAIN" train "$tiny" "${early[@]}" --quiet --out "$d" >/dev/null 2>&1
        "$DETRAIN" resume "$d" --quiet >"$d.out" 2>"$d.err" && break
    done
    check "early stopping: killed at ${at} s and resumed = the same digest and stop epoch" \
        py "import json; m=json.load(open('$d/manifest.json'))
assert m['selection']['stopped_epoch']==$stop and m['final']['params_sha256']=='$ref', (m['status'], m.get('selection'))"
done
run_code resume_done 0 "$DETRAIN" resume "$DT_TMP/early"
check "resume of an early-stopped run: already completed, the same digest" \
    test "$(digest_of "$DT_TMP/resume_done.out")" = "$ref"
run_code verify_early 0 "$DETRAIN" verify "$DT_TMP/early"
check "verify re-proves the early stop (epochs and checkpoints equal)" grep -q "epochs *$stop: metrics equal" "$DT_TMP/verify_early.out"
# A record whose val_loss was altered: verify names it.
py "import json; p='$DT_TMP/early/manifest.json'; m=json.load(open(p)); m['epochs'][1]['val_loss_bits']='3f800000'
json.dump(m, open(p, 'w'))"
run_code verify_altered 1 "$DETRAIN" verify "$DT_TMP/early"
check "verify: an altered val_loss is named" grep -q "epoch 2 val_loss_bits" "$DT_TMP/verify_altered.out"

# --- misuse: one line, exit 2 ------------------------------------------------------------------------
expect_error both 2 'config.data.validation_split: give either data.validation' -- "$DETRAIN" train "$tiny" \
    --set data.validation="{\"format\":\"csv\",\"path\":\"$DT_SOURCE_DIR/tests/data/spiral-test.csv\"}" \
    --set data.validation_split=0.1
expect_error split_zero 2 'config.data.validation_split: must be > 0' -- "$DETRAIN" train "$tiny" --set data.validation_split=0
expect_error split_one 2 'config.data.validation_split: must be < 1' -- "$DETRAIN" train "$tiny" --set data.validation_split=1
expect_error split_empty 2 'config.data.validation_split: 0.999 of 600 training samples leaves no training sample' -- \
    "$DETRAIN" train "$tiny" --set data.validation_split=0.999
expect_error split_tiny 2 'leaves no training sample' -- "$DETRAIN" train "$tiny" --set data.train.limit=2 \
    --set data.validation_split=0.6
expect_error patience_alone 2 'config.train.early_stopping: needs a validation set' -- "$DETRAIN" train "$tiny" \
    --set 'train.early_stopping={"patience":2}'
expect_error select_val_alone 2 'config.train.select.metric: val_accuracy needs a validation set' -- \
    "$DETRAIN" train "$tiny" --set 'train.select={"metric":"val_accuracy"}'
expect_error select_unknown 2 'config.train.select.metric' -- "$DETRAIN" train "$tiny" \
    --set 'train.select={"metric":"val_f1"}'
expect_error patience_zero 2 'config.train.early_stopping.patience: must be >= 1' -- "$DETRAIN" train "$tiny" \
    "${split[@]}" --set 'train.early_stopping={"patience":0}'
expect_error bad_validation_file 2 'no-such.csv' -- "$DETRAIN" train "$tiny" \
    --set data.validation='{"format":"csv","path":"no-such.csv"}'

# selecting by a maximised metric: val_accuracy, mode auto = max
run_code select_acc 0 "$DETRAIN" train "$tiny" "${split[@]}" --set train.epochs=6 --set 'train.select={"metric":"val_accuracy"}' \
    --quiet --out "$DT_TMP/select_acc"
check "train.select val_accuracy: mode max, the first epoch of the highest accuracy" \
    py "import json; m=json.load(open('$DT_TMP/select_acc/manifest.json')); s=m['selection']; e=m['epochs']
best=max(e, key=lambda x: (x['val_accuracy'], -x['epoch']))
assert s['mode']=='max' and s['best_epoch']==best['epoch'], (s, [x['val_accuracy'] for x in e])"
finish
