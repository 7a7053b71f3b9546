# registry.sh — experiments, the runs index, the model registry and lineage (label cpu):
#   experiments from --experiment, the config's key and the config's name, in the manifest;
#   `detrain runs`: every run, filtered by experiment, status and --where on manifest keys,
#     sorted both ways, limited, as JSON; folders deleted or copied in by hand; --rescan;
#   `registry add`: versions 1, 2; the same file again is the same version; unfinished, failed
#     and damaged runs and bad names refused; `alias`, `history` and a rollback; list, show;
#   model references in eval, predict, inspect and diff; a damaged artifact refused naming the
#     version; unknown names, versions and aliases and malformed references: exit 2, one line;
#   `registry reproduce`: 0 identical, 1 different (a record that does not match what the code
#     computes), 2 cannot run (a data file changed); `registry verify` and `gc`;
#   `lineage` by file and by digest;
#   8 concurrent adds get 8 versions; kill -9 at every write point of an add leaves the
#     registry consistent; a database from a newer schema, a foreign file and a read-only one.
. "$DT_SOURCE_DIR/tests/lib.sh"
: "${DETRAIN_FAULTS:?DETRAIN_FAULTS must point at detrain-faults}"
cd "$DT_TMP"
unset DETRAIN_HOME # a project without a store: ./checkpoints, as before stores
export DETRAIN_REGISTRY="$DT_TMP/checkpoints/detrain.sqlite"
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
test_csv=$DT_SOURCE_DIR/tests/data/spiral-test.csv
train() { # FOLDER ARGS...: a run in checkpoints/FOLDER
    local folder=$1
    shift
    "$DETRAIN" train "$tiny" "$@" --quiet --out "checkpoints/$folder" >"$folder.out" 2>"$folder.err"
}
py() { /usr/bin/python3 -c "$@"; }
json_len() { py "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$1"; }

# ---- experiments ------------------------------------------------------------------------------
train a
train b --set optimizer.lr=0.05 --experiment lrscan
mkdir -p study/configs study/data
cp "$tiny" study/configs/spiral-study.json && cp "$DT_SOURCE_DIR"/tests/data/spiral-*.csv study/data/
"$DETRAIN" train study/configs/spiral-study.json --set 'experiment="from-config"' --quiet --out checkpoints/c >/dev/null
"$DETRAIN" train study/configs/spiral-study.json --quiet --out checkpoints/d >/dev/null
check "experiment: the config's name by default" test "$(json_get checkpoints/a/manifest.json "m['experiment']")" = tiny
check "experiment: --experiment" test "$(json_get checkpoints/b/manifest.json "m['experiment']")" = lrscan
check "experiment: the config's key" test "$(json_get checkpoints/c/manifest.json "m['experiment']")" = from-config
check "experiment: another config file's name" test "$(json_get checkpoints/d/manifest.json "m['experiment']")" = spiral-study
"$DETRAIN" train "$tiny" --stop-after-steps 10 --quiet --out checkpoints/stopped >/dev/null 2>&1

# ---- the runs index ---------------------------------------------------------------------------
check "train made the index" test -f checkpoints/detrain.sqlite
run_code runs-all 0 "$DETRAIN" runs
check "runs: the store, a header and one line per run" test "$(grep -c '' runs-all.out)" = 7
check "runs: the first line names the store and why" \
    grep -qx 'store: checkpoints (no \$DETRAIN_HOME and no .detrain/ above: ./checkpoints)' runs-all.out
check "runs: the line has the run id, status, epochs, accuracy, digest, commit and mode/device" \
    grep -Eq "^a +[0-9T]+Z-[0-9a-f]{8} +tiny +completed .* 3/3 +0\.[0-9]{4} +[0-9.]+ +[0-9a-f]{12} +[0-9a-f]{8}(\+dirty)? +portable/cpu" runs-all.out
run_code runs-experiment 0 "$DETRAIN" runs --experiment lrscan --json
check "runs --experiment" test "$(json_get runs-experiment.out "','.join(r['folder'] for r in m)")" = b
run_code runs-status 0 "$DETRAIN" runs --status interrupted --json
check "runs --status interrupted" test "$(json_get runs-status.out "','.join(r['folder'] for r in m)")" = stopped
run_code runs-where 0 "$DETRAIN" runs --where config.optimizer.lr=0.05 --json
check "runs --where config.optimizer.lr=0.05" test "$(json_get runs-where.out "','.join(r['folder'] for r in m)")" = b
run_code runs-where2 0 "$DETRAIN" runs --where 'final.test_accuracy>0.7' --where experiment=lrscan --json
check "runs --where final.test_accuracy>0.7 and experiment" test "$(json_len runs-where2.out)" = 1
run_code runs-sort 0 "$DETRAIN" runs --status completed --sort -final.test_accuracy --limit 1 --json
check "runs --sort -final.test_accuracy --limit 1: the best" test "$(json_get runs-sort.out "m[0]['folder']")" = b
run_code runs-sort-up 0 "$DETRAIN" runs --status completed --sort final.test_accuracy --json
check "runs --sort ascending" test "$(json_get runs-sort-up.out "m[-1]['folder']")" = b
# A run whose process is gone is never shown running: "died" (its lock is free), resumable.
"$DETRAIN" train "$tiny" --set train.epochs=200000 --quiet --out checkpoints/alive >/dev/null 2>&1 &
alive=$!
for _ in $(seq 1 100); do [ -f checkpoints/alive/manifest.json ] && break; sleep 0.1; done
run_code runs-alive 0 "$DETRAIN" runs --status running --json
check "runs: a live run is running" test "$(json_get runs-alive.out "','.join(r['folder'] for r in m)")" = alive
kill -KILL $alive
wait $alive 2>/dev/null
run_code runs-died 0 "$DETRAIN" runs --status died --json
check "runs: after kill -9 the run shows as died, not running" \
    test "$(json_get runs-died.out "','.join(r['folder'] + ':' + r['status'] for r in m)")" = alive:died
run_code runs-running-none 0 "$DETRAIN" runs --status running --json
check "runs --status running: the dead run is not listed" test "$(json_len runs-running-none.out)" = 0
rm -rf checkpoints/alive
run_code runs-columns 0 "$DETRAIN" runs --experiment lrscan --columns config.optimizer.lr,final.test_loss_bits
check "runs --columns: the keys as columns, header and values" \
    bash -c "sed -n 2p runs-columns.out | grep -q 'config.optimizer.lr  *final.test_loss_bits' &&
             grep -Eq '^b .* 0.05 +[0-9a-f]{8} *\$' runs-columns.out"
expect_error runs-columns-unknown 2 "--columns config.lr: no run has .*closest: config.optimizer.lr" \
    -- "$DETRAIN" runs --columns config.lr
run_code runs-compare 0 "$DETRAIN" runs --status completed --where config.seed=7 --compare --json
check "runs --compare: the keys that differ, and only those" \
    py "import json; m=json.load(open('runs-compare.out')); k=m['keys']
assert 'config.optimizer.lr' in k and 'final.params_sha256' in k and 'config.seed' not in k and 'config.model.input_size' not in k, list(k)
assert all(len(v) == len(m['runs']) for v in k.values())"
expect_error runs-bad-where 2 "--where config.optimizer: expected PATH=VALUE" -- "$DETRAIN" runs --where config.optimizer
expect_error runs-unknown-where 2 "--where optimizer.lr: no run has the manifest key 'optimizer.lr'; closest: config.optimizer.lr" \
    -- "$DETRAIN" runs --where optimizer.lr=0.05
expect_error runs-unknown-sort 2 "--sort final.test_acc: no run has .*closest: final.test_accuracy" \
    -- "$DETRAIN" runs --sort -final.test_acc
run_code runs-where-eq 0 "$DETRAIN" runs --where config.optimizer.lr==0.05 --json
check "runs --where PATH==VALUE means =" test "$(json_get runs-where-eq.out "','.join(r['folder'] for r in m)")" = b
expect_error runs-bad-sort 2 "--sort final\(x\): expected a manifest key" -- "$DETRAIN" runs --sort 'final(x)'
expect_error runs-no-root 2 "nowhere: no folder of runs \(--root\)" -- "$DETRAIN" runs --root nowhere
rm -rf checkpoints/d
cp -r checkpoints/a checkpoints/a-copy
run_code runs-after 0 "$DETRAIN" runs --json
check "runs: a folder deleted by hand disappears, one copied in appears" \
    test "$(json_get runs-after.out "','.join(sorted(r['folder'] for r in m))")" = "a,a-copy,b,c,stopped"
sqlite() { py "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print(r)" "$@"; }
sqlite checkpoints/detrain.sqlite "DELETE FROM runs" >/dev/null
run_code runs-rescan 0 "$DETRAIN" runs --rescan --json
check "runs --rescan rebuilds the index" test "$(json_len runs-rescan.out)" = 5

# ---- registry add, aliases, list, show --------------------------------------------------------
run_code add-1 0 "$DETRAIN" registry add checkpoints/a --name spiral --note first
check "add: version 1" grep -q "^registered spiral/1: run " add-1.out
run_code add-2 0 "$DETRAIN" registry add checkpoints/b --name spiral
check "add: version 2" grep -q "^registered spiral/2: " add-2.out
run_code add-again 0 "$DETRAIN" registry add checkpoints/a-copy --name spiral
check "add: the same final.h5 again is version 1" grep -q "^spiral/1: already registered" add-again.out
expect_error add-unfinished 2 "stopped: the run is interrupted, not completed.*detrain resume" -- \
    "$DETRAIN" registry add checkpoints/stopped --name spiral
expect_error add-not-a-run 2 "nowhere: not a finished run folder" -- "$DETRAIN" registry add nowhere --name spiral
expect_error add-bad-name 2 "model name 'a b'" -- "$DETRAIN" registry add checkpoints/a --name 'a b'
expect_error add-no-name 2 "registry add needs --name" -- "$DETRAIN" registry add checkpoints/a
cp -r checkpoints/c damaged
py "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" damaged/final.h5
expect_error add-damaged 2 "damaged/final.h5: the file's SHA-256 .* differs from the manifest's record" -- \
    "$DETRAIN" registry add damaged --name spiral
run_code alias-1 0 "$DETRAIN" registry alias spiral production 1
run_code alias-2 0 "$DETRAIN" registry alias spiral production 2 --note "better accuracy"
run_code alias-staging 0 "$DETRAIN" registry alias spiral staging 2
run_code rollback 0 "$DETRAIN" registry alias spiral production 1 --note rollback
check "alias: the rollback says from and to" grep -q "^spiral@production: version 2 -> 1$" rollback.out
run_code history 0 "$DETRAIN" registry history spiral
check "history: every move, with who and the notes" test "$(grep -c '@production' history.out)" = 3 -a \
    -n "$(grep "2 -> 1  by .*@.*note: rollback" history.out)"
expect_error alias-unknown-version 2 "spiral/9: model 'spiral' has no version 9" -- "$DETRAIN" registry alias spiral production 9
expect_error alias-number 2 "alias '12': an alias cannot be a number" -- "$DETRAIN" registry alias spiral 12 1
run_code list 0 "$DETRAIN" registry list
check "list: spiral, 2 versions, its aliases" grep -q "^spiral .*2 versions, latest 2 .*production=1 staging=2" list.out
check "list: the first line names the database and why" grep -qx "registry: $DT_TMP/checkpoints/detrain.sqlite (\$DETRAIN_REGISTRY)" list.out
run_code list-versions 0 "$DETRAIN" registry list spiral --json
check "list spiral --json: 2 versions, each with its aliases" \
    test "$(json_get list-versions.out "' '.join('%d:%s' % (v['version'], ','.join(v['aliases'])) for v in m)")" = "1:production 2:staging"
run_code list-json 0 "$DETRAIN" registry list --json
check "list --json: the aliases of each model" \
    test "$(json_get list-json.out "m[0]['name'], m[0]['versions'], m[0]['aliases']")" = "spiral 2 {'production': 1, 'staging': 2}"
run_code show 0 "$DETRAIN" registry show spiral@production --json
check "show: the lineage (run, config, code, data digests, environment, metrics, who)" py "
import json, sys
m = json.load(open('show.out')); r = json.load(open('checkpoints/a/manifest.json'))
assert m['version'] == 1 and m['run_id'] == r['run_id'] and m['config_sha256'] == r['config_sha256']
assert m['code']['git_commit'] == r['code']['git_commit'] and m['params_sha256'] == r['final']['params_sha256']
assert [f['sha256'] for f in m['data']['train']['files']] == [f['sha256'] for f in r['data']['train']['files']]
assert m['environment']['cpu'] and m['final']['test_accuracy'] == r['final']['test_accuracy'] and '@' in m['registered_by']
assert m['note'] == 'first' and m['aliases'] == ['production']"
run_code show-text 0 "$DETRAIN" registry show spiral/2

# ---- model references --------------------------------------------------------------------------
run_code eval-ref 0 "$DETRAIN" eval spiral@production
run_code eval-run 0 "$DETRAIN" eval checkpoints/a/final.h5
check "eval spiral@production = eval of the run's final.h5" \
    test "$(grep -E 'loss|accuracy' eval-ref.out)" = "$(grep -E 'loss|accuracy' eval-run.out)"
run_code predict-ref 0 "$DETRAIN" predict spiral/2 --input "$test_csv" --output pred-ref.csv
"$DETRAIN" predict checkpoints/b/final.h5 --input "$test_csv" --output pred-run.csv
check "predict spiral/2 = predict of run b" cmp -s pred-ref.csv pred-run.csv
run_code inspect-ref 0 "$DETRAIN" inspect spiral@staging
run_code diff-ref 1 "$DETRAIN" diff spiral/1 spiral/2
check "diff spiral/1 spiral/2: the learning rate" grep -q "config.optimizer.lr: 0.01  vs  0.05" diff-ref.out
run_code diff-same 0 "$DETRAIN" diff spiral@production checkpoints/a
expect_error ref-unknown-name 2 "nope@production: no model named 'nope'" -- "$DETRAIN" eval nope@production
expect_error ref-unknown-alias 2 "spiral@canary: model 'spiral' has no alias 'canary'" -- "$DETRAIN" predict spiral@canary --input "$test_csv"
expect_error ref-unknown-version 2 "spiral/7: model 'spiral' has no version 7" -- "$DETRAIN" inspect spiral/7
expect_error ref-malformed 2 "'spiral/x/1': not a file, and not a model reference" -- "$DETRAIN" registry show spiral/x/1
expect_error ref-no-registry 2 "there is no model registry at" -- env DETRAIN_REGISTRY="$DT_TMP/none.sqlite" "$DETRAIN" eval spiral@production

# ---- reproduce, verify, a damaged artifact ----------------------------------------------------
run_code reproduce 0 "$DETRAIN" registry reproduce spiral@production --quiet
check "reproduce: bit for bit" grep -q "^spiral/1 reproduced bit for bit: params_sha256 " reproduce.out
# A record that is not what the code computes (its trace altered, the registry's digest with
# it): exit 1 and the first divergence.
objects=checkpoints/detrain.sqlite.objects
trace_sha=$(sqlite checkpoints/detrain.sqlite "SELECT trace FROM models WHERE version = 2" | tr -dc '0-9a-f')
py "import sys; t=open(sys.argv[1]).read().replace('\"step\":5,', '\"step\":5,', 1); lines=t.splitlines(); import json
l=json.loads(lines[4]); l['loss_bits']='%08x' % (int(l['loss_bits'],16) ^ 1); lines[4]=json.dumps(l); open(sys.argv[2],'w').write('\n'.join(lines)+'\n')" \
    "$objects/$trace_sha" altered-trace.jsonl
altered=$(sha256sum altered-trace.jsonl | cut -d' ' -f1)
cp altered-trace.jsonl "$objects/$altered"
cp checkpoints/detrain.sqlite registry-before-alteration.sqlite
sqlite checkpoints/detrain.sqlite "UPDATE models SET trace = '$altered' WHERE version = 2" >/dev/null
run_code reproduce-different 1 "$DETRAIN" registry reproduce spiral/2 --quiet
check "reproduce: the first divergence is step 5" grep -q "step 5" reproduce-different.out
cp registry-before-alteration.sqlite checkpoints/detrain.sqlite
# A data file that changed since: exit 2, the file named.
mkdir -p own/configs own/data
cp "$tiny" own/configs/ && cp "$DT_SOURCE_DIR"/tests/data/spiral-*.csv own/data/
"$DETRAIN" train own/configs/tiny.json --quiet --out checkpoints/own >/dev/null
"$DETRAIN" registry add checkpoints/own --name own >/dev/null
echo "0.1,0.2,0.3,0.4,0.5,1" >>own/data/spiral-train.csv
expect_error reproduce-data-changed 2 "spiral-train.csv.*(digest|SHA-256|changed)" -- "$DETRAIN" registry reproduce own/1 --quiet
run_code verify-ok 0 "$DETRAIN" registry verify
artifact_sha=$(sqlite checkpoints/detrain.sqlite "SELECT artifact FROM models WHERE version = 2" | tr -dc '0-9a-f')
cp "$objects/$artifact_sha" artifact.bak
py "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[100]^=1; open(p,'wb').write(b)" "$objects/$artifact_sha"
run_code verify-damaged 1 "$DETRAIN" registry verify
check "verify: names the damaged version" grep -q "DAMAGED spiral/2: its artifact (final.h5) is damaged" verify-damaged.out
expect_error eval-damaged 2 "spiral/2: its artifact \(final.h5\) is damaged" -- "$DETRAIN" eval spiral@staging
cp artifact.bak "$objects/$artifact_sha"

# ---- lineage ----------------------------------------------------------------------------------
run_code lineage-file 0 "$DETRAIN" lineage "$test_csv" --json
check "lineage by file: the runs and the model versions" py "
import json; m = json.load(open('lineage-file.out'))
assert sorted(r['folder'] for r in m['runs']) == ['a', 'a-copy', 'b', 'c', 'own', 'stopped'], m['runs']
assert sorted((v['name'], v['version']) for v in m['models']) == [('own', 1), ('spiral', 1), ('spiral', 2)], m['models']"
sha=$(sha256sum "$test_csv" | cut -d' ' -f1)
run_code lineage-sha 0 "$DETRAIN" lineage "$sha"
check "lineage by digest: the same" grep -q "^6 runs, 3 model versions$" lineage-sha.out
run_code lineage-none 0 "$DETRAIN" lineage "$(printf '%064d' 0)"
check "lineage of unknown data: none" grep -q "^0 runs, 0 model versions$" lineage-none.out
expect_error lineage-bad 2 "lineage xyz: not a file, and not a SHA-256" -- "$DETRAIN" lineage xyz

# ---- 8 concurrent adds ------------------------------------------------------------------------
for i in 1 2 3 4 5 6 7 8; do train "p$i" --set "seed=$((100 + i))" & done
wait
for i in 1 2 3 4 5 6 7 8; do "$DETRAIN" registry add "checkpoints/p$i" --name parallel >"add-p$i.out" 2>&1 & done
wait
check "8 concurrent adds: versions 1 to 8, one each" \
    test "$(cat add-p*.out | sed -n 's/^registered parallel\/\([0-9]*\):.*/\1/p' | sort -n | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 "

# ---- kill -9 at every write point of an add ------------------------------------------------------
train k1 --set seed=200
rm -f counts
DT_FAULT_COUNT=$DT_TMP/counts DETRAIN_REGISTRY=$DT_TMP/kill/detrain.sqlite "$DETRAIN_FAULTS" registry add checkpoints/k1 --name killed >/dev/null
kills=0 consistent=0
for op in write fsync close rename; do
    calls=$(sed -n "s/^$op //p" counts)
    for n in $(seq 1 "$calls"); do
        rm -rf kill
        rc=0
        DT_FAULT=kill:$op:$n DETRAIN_REGISTRY=$DT_TMP/kill/detrain.sqlite killable "$DETRAIN_FAULTS" registry add \
            checkpoints/k1 --name killed || rc=$?
        kills=$((kills + 1))
        [ $rc = 137 ] || { fail "kill before $op $n: exit $rc, not 137"; continue; }
        if [ -f kill/detrain.sqlite ] && ! DETRAIN_REGISTRY=$DT_TMP/kill/detrain.sqlite "$DETRAIN" registry verify >/dev/null; then
            fail "kill before $op $n: the registry is not consistent"
            continue
        fi
        if ! DETRAIN_REGISTRY=$DT_TMP/kill/detrain.sqlite "$DETRAIN" registry add checkpoints/k1 --name killed >kill-add.out 2>&1 ||
            ! grep -q "killed/1" kill-add.out; then
            fail "kill before $op $n: adding again: $(cat kill-add.out)"
            continue
        fi
        consistent=$((consistent + 1))
    done
done
checks=$((checks + 1))
echo "ok   kill -9 at $kills write points of an add: $consistent left a consistent registry that a new add completed"
[ $consistent = $kills ] || fail "kill -9 during add: $((kills - consistent)) of $kills were not consistent"
orphan=$DT_TMP/kill/detrain.sqlite.objects/$(printf '%064d' 7)
echo orphan >"$orphan"
run_code gc 0 env DETRAIN_REGISTRY="$DT_TMP/kill/detrain.sqlite" "$DETRAIN" registry gc --min-age 0
check "gc: removes a file no version names, keeps the others" test ! -e "$orphan" -a "$(ls "$DT_TMP/kill/detrain.sqlite.objects" | wc -l)" = 3

# ---- databases that cannot be used ----------------------------------------------------------------
cp checkpoints/detrain.sqlite newer.sqlite
sqlite newer.sqlite "UPDATE meta SET value = '99' WHERE key = 'schema_version'" >/dev/null
expect_error newer-schema 2 "newer.sqlite: written by a newer detrain \(schema 99; this build knows 2\)" -- \
    "$DETRAIN" registry list --registry newer.sqlite
sqlite foreign.sqlite "CREATE TABLE t(x)" >/dev/null
expect_error foreign-db 2 "foreign.sqlite: not a detrain database" -- "$DETRAIN" registry list --registry foreign.sqlite
echo "not a database at all, just text" >text.sqlite
expect_error not-sqlite 2 "text.sqlite: not a detrain database" -- "$DETRAIN" registry list --registry text.sqlite
mkdir -p ro
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=8m tmpfs ro 2>/dev/null; then
    cp checkpoints/detrain.sqlite ro/ && mount -o remount,ro ro
    expect_error read-only 2 "ro/detrain.sqlite: .*read-only" -- "$DETRAIN" registry alias spiral production 2 --registry ro/detrain.sqlite
    run_code read-only-list 0 "$DETRAIN" registry list --registry ro/detrain.sqlite
    umount ro
elif [ "$(id -u)" != 0 ]; then
    cp checkpoints/detrain.sqlite ro/ && chmod 444 ro/detrain.sqlite && chmod 555 ro
    expect_error read-only 2 "ro/detrain.sqlite: .*read-only" -- "$DETRAIN" registry alias spiral production 2 --registry ro/detrain.sqlite
    chmod 755 ro
else
    echo "note: the read-only database case did not run (root, and mount refused)"
fi

# ---- where the files live: <database>.objects, whatever the database is called ----------------
mkdir -p named
run_code named-add 0 env DETRAIN_REGISTRY="$DT_TMP/named/registry" "$DETRAIN" registry add checkpoints/a --name spiral
check "a database named 'registry' works: its files in registry.objects" \
    test -f named/registry -a "$(ls named/registry.objects | wc -l)" = 3
run_code named-eval 0 env DETRAIN_REGISTRY="$DT_TMP/named/registry" "$DETRAIN" eval spiral/1
# a store made before (<folder>/registry/objects) is still read, and written to
mkdir -p before/registry && cp named/registry before/detrain.sqlite && cp -r named/registry.objects before/registry/objects
run_code before-verify 0 env DETRAIN_REGISTRY="$DT_TMP/before/detrain.sqlite" "$DETRAIN" registry verify
run_code before-eval 0 env DETRAIN_REGISTRY="$DT_TMP/before/detrain.sqlite" "$DETRAIN" eval spiral/1
run_code before-add 0 env DETRAIN_REGISTRY="$DT_TMP/before/detrain.sqlite" "$DETRAIN" registry add checkpoints/b --name lr
check "the older store takes the new version's files too" \
    test ! -e before/detrain.sqlite.objects -a "$(ls before/registry/objects | wc -l)" = 6
finish
