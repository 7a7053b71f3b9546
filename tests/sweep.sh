# sweep.sh — detrain sweep (label cpu): a 2x2 grid at -j 2 and -j 1 trains the same four runs
# as four single `detrain train` runs (parameter digests); a sweep SIGKILLed with its process
# group and run again finishes only the missing trials; a SIGINT stops every trial at a
# checkpoint (exit 130, sweep.json says interrupted) and the same command completes them with
# the same digests; a diverging trial fails (exit 1, named) while the others complete, and a
# child killed from outside is failed; random draws are a function of --sweep-seed; the text,
# Markdown and JSON tables are sorted (min and max selection); --register; every misuse is one
# line and exit 2.
. "$DT_SOURCE_DIR/tests/lib.sh"

tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
grid=(--grid optimizer.lr=0.003,0.03 --grid 'model.layers[0].units=16,32')
long=(--set train.epochs=80) # about 1 s a trial: long enough to be stopped while it trains
py() { /usr/bin/python3 -c "$@"; }

# references FILE ARGS...: the digests of single `detrain train` runs of the grid's four
# combinations (with ARGS), as "name digest" lines.
references() {
    local file=$1 lr units name
    shift
    : >"$file"
    for lr in 0.003 0.03; do
        for units in 16 32; do
            name="optimizer.lr=$lr,model.layers[0].units=$units"
            "$DETRAIN" train "$tiny" "$@" --set optimizer.lr=$lr --set "model.layers[0].units=$units" --quiet \
                --out "$DT_TMP/ref-$(basename "$file")-$lr-$units" >"$DT_TMP/ref.out" 2>&1
            echo "$name $(digest_of "$DT_TMP/ref.out")" >>"$file"
        done
    done
}

# same_digests SWEEP_DIR REFS: every trial completed, and its manifest's and sweep.json's
# parameter digests equal the single run's.
same_digests() {
    py "import json, sys
refs = dict(line.split() for line in open('$2'))
s = json.load(open('$1/sweep.json'))
assert len(s['trials']) == 4 and len(refs) == 4 and all(len(d) == 64 for d in refs.values()), refs
for t in s['trials']:
    m = json.load(open('$1/' + t['name'] + '/manifest.json'))
    assert t['status'] == 'completed' and m['status'] == 'completed', (t['name'], t['status'], m['status'])
    assert m['final']['params_sha256'] == t['params_sha256'] == refs[t['name']], t['name']
    assert m['experiment'] == 'tiny-sweep', m['experiment']"
}

# wait_until SECONDS SWEEP_DIR CONDITION: polls sweep.json (s) until the Python condition holds;
# n(status) counts trials, ckpt(trial) says whether its run wrote a checkpoint.
wait_until() {
    py "import glob, json, sys, time
def n(status): return sum(t['status'] == status for t in s['trials'])
def ckpt(t): return bool(glob.glob('$2/' + glob.escape(t['name']) + '/checkpoint-*.h5'))
end = time.time() + $1
while time.time() < end:
    try:
        s = json.load(open('$2/sweep.json'))
        if $3: sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.05)
sys.exit(1)"
}

# record SWEEP_DIR: each trial's status, run start and number of resumes, one line each.
record() {
    py "import json, os
for t in json.load(open('$1/sweep.json'))['trials']:
    p = '$1/' + t['name'] + '/manifest.json'
    m = json.load(open(p)) if os.path.exists(p) else {}
    print(t['name'], t['status'], m.get('started_at'), len(m.get('resumes', [])))"
}

cores=$(nproc)
references "$DT_TMP/refs-short"
references "$DT_TMP/refs-long" "${long[@]}"

# --- (1) a 2x2 grid, two at once and one at a time: the single runs' digests ------------------------
if [ "$cores" -ge 2 ]; then
    run_code grid-j2 0 "$DETRAIN" sweep "$tiny" "${grid[@]}" -j 2 --out "$DT_TMP/grid-j2"
    check "grid -j 2: four completed runs with the single runs' digests" same_digests "$DT_TMP/grid-j2" "$DT_TMP/refs-short"
    check "grid -j 2: each trial ran with cores / 2 threads" \
        py "import json, glob; ms=[json.load(open(p)) for p in glob.glob('$DT_TMP/grid-j2/*/manifest.json')]
assert len(ms) == 4 and all(m['threads'] == $cores // 2 for m in ms), [m['threads'] for m in ms]"
fi
run_code grid-j1 0 "$DETRAIN" sweep "$tiny" "${grid[@]}" --out "$DT_TMP/grid-j1"
check "grid -j 1: the same four digests" same_digests "$DT_TMP/grid-j1" "$DT_TMP/refs-short"
check "grid: the folders are named by the overrides, the logs kept" \
    test -f "$DT_TMP/grid-j1/optimizer.lr=0.03,model.layers[0].units=16/final.h5" -a \
    -s "$DT_TMP/grid-j1/logs/optimizer.lr=0.03,model.layers[0].units=16.log"
check "grid: a trial's run records its overrides" \
    py "import json; m=json.load(open('$DT_TMP/grid-j1/optimizer.lr=0.03,model.layers[0].units=16/manifest.json'))
assert 'optimizer.lr=0.03' in m['overrides'] and 'model.layers[0].units=16' in m['overrides'], m['overrides']"
data=$DT_SOURCE_DIR/tests/data
run_code paths 0 "$DETRAIN" sweep "$tiny" --grid seed=1,2 --grid "data.train.path=$data/spiral-train.csv,$data/../data/spiral-train.csv" \
    --out "$DT_TMP/paths" --quiet
check "seed and data.train.path vary; '/' in a value is '_' in the folder name; the same data, the same digest" \
    py "import json, os; s=json.load(open('$DT_TMP/paths/sweep.json')); t=s['trials']
assert len(t) == 4 and all('/' not in x['name'] and 'data.train.path=_' in x['name'] for x in t), [x['name'] for x in t]
assert all(os.path.isdir('$DT_TMP/paths/' + x['name']) and x['status'] == 'completed' for x in t)
assert t[0]['params_sha256'] == t[1]['params_sha256'] != t[2]['params_sha256'] == t[3]['params_sha256']"
record "$DT_TMP/grid-j1" >"$DT_TMP/grid-j1.before"
run_code grid-again 0 "$DETRAIN" sweep "$tiny" "${grid[@]}" --out "$DT_TMP/grid-j1"
check "grid again: every trial already completed, none re-run" \
    test "$(grep -c 'already completed' "$DT_TMP/grid-again.err")" = 4 -a "$(record "$DT_TMP/grid-j1")" = "$(cat "$DT_TMP/grid-j1.before")"

# --- (2) SIGKILL to the sweep's process group, then the same command --------------------------------
killed=(sweep "$tiny" "${long[@]}" "${grid[@]}" --out "$DT_TMP/killed")
setsid "$DETRAIN" "${killed[@]}" >/dev/null 2>&1 &
pid=$!
if wait_until 60 "$DT_TMP/killed" "n('completed') >= 1 and any(t['status'] == 'running' and ckpt(t) for t in s['trials'])"; then
    kill -KILL -- -"$pid"
fi
wait "$pid" 2>/dev/null
record "$DT_TMP/killed" >"$DT_TMP/killed.before"
check "killed: some trials completed, others not, when it died" \
    test "$(grep -c ' completed ' "$DT_TMP/killed.before")" -ge 1 -a "$(grep -c ' completed ' "$DT_TMP/killed.before")" -lt 4
run_code killed-again 0 "$DETRAIN" "${killed[@]}"
check "killed: the same command finishes with the single runs' digests" same_digests "$DT_TMP/killed" "$DT_TMP/refs-long"
check "killed: the trials completed before the kill were not run again (start, resumes, log)" \
    py "import json, os
before = [line.split() for line in open('$DT_TMP/killed.before')]
for name, status, started, resumes in before:
    if status != 'completed': continue
    m = json.load(open('$DT_TMP/killed/' + name + '/manifest.json'))
    assert m['started_at'] == started and len(m['resumes']) == int(resumes), name
    assert sum(l.startswith('# ') for l in open('$DT_TMP/killed/logs/' + name + '.log')) == 1, name
assert sum(s == 'completed' for _, s, _, _ in before) == open('$DT_TMP/killed-again.err').read().count('already completed')"
check "killed: the run that was training when it died was resumed" grep -q 'resuming' "$DT_TMP/killed-again.err"

# --- (3) SIGINT: every running trial checkpoints, exit 130; the same command completes -------------
jobs=1
[ "$cores" -ge 2 ] && jobs=2
stopped=(sweep "$tiny" "${long[@]}" "${grid[@]}" -j "$jobs" --out "$DT_TMP/stopped")
setsid "$DETRAIN" "${stopped[@]}" >"$DT_TMP/stopped.out" 2>"$DT_TMP/stopped.err" &
pid=$!
if wait_until 60 "$DT_TMP/stopped" "n('running') >= $jobs and all(ckpt(t) for t in s['trials'] if t['status'] == 'running')"; then
    expect_error locked 2 'stopped: another detrain process is using' -- "$DETRAIN" "${stopped[@]}"
    kill -INT -- -"$pid"
fi
rc=0
wait "$pid" || rc=$?
check "stopped: exit 130" [ "$rc" = 130 ]
check "stopped: it says how to continue" grep -q "continue with: .*sweep .*--out $DT_TMP/stopped" "$DT_TMP/stopped.err"
check "stopped: sweep.json marks the stopped trials interrupted, so do their manifests" \
    py "import json; s=json.load(open('$DT_TMP/stopped/sweep.json'))
stopped = [t for t in s['trials'] if t['status'] == 'interrupted']
assert len(stopped) == $jobs and all(t['exit_code'] == 130 for t in stopped), [(t['name'], t['status']) for t in s['trials']]
assert all(json.load(open('$DT_TMP/stopped/' + t['name'] + '/manifest.json'))['status'] == 'interrupted' for t in stopped)
assert not any(t['status'] in ('running', 'failed') for t in s['trials'])"
run_code stopped-again 0 "$DETRAIN" "${stopped[@]}"
check "stopped: the same command completes them with the single runs' digests" same_digests "$DT_TMP/stopped" "$DT_TMP/refs-long"
check "stopped: the interrupted runs were resumed, not restarted" \
    [ "$(grep -c resuming "$DT_TMP/stopped-again.err")" = "$jobs" ]

# --- (4) a trial that fails; a child killed from outside ---------------------------------------------
diverge=(--set optimizer.kind=sgd --set optimizer.clip_norm=0 --set optimizer.momentum=0.99
         --set 'model.layers[0].activation=relu' --set 'model.layers[1].activation=relu')
failing=(sweep "$tiny" "${diverge[@]}" --grid optimizer.lr=0.01,10,0.1 --out "$DT_TMP/failing")
run_code failing 1 "$DETRAIN" "${failing[@]}"
check "failing: the last line names the failed trial and why" \
    grep -q 'error: 1 of 3 trials failed: optimizer.lr=10 (exit 1: step [0-9]*: the loss is not finite' "$DT_TMP/failing.err"
check "failing: the others completed; the failed one is last in the table" \
    py "import json; s=json.load(open('$DT_TMP/failing/sweep.json')); st={t['name']: t['status'] for t in s['trials']}
assert st == {'optimizer.lr=0.01': 'completed', 'optimizer.lr=10': 'failed', 'optimizer.lr=0.1': 'completed'}, st
rows=[l for l in open('$DT_TMP/failing.out') if l.startswith(('0', '1'))]
assert rows[-1].startswith('10 ') and 'failed (exit 1)' in rows[-1], rows"
run_code failing-again 1 "$DETRAIN" "${failing[@]}"
check "failing again: run afresh, the failed folder kept aside, the completed ones untouched" \
    test -f "$DT_TMP/failing/optimizer.lr=10.failed-1/manifest.json" -a "$(grep -c 'already completed' "$DT_TMP/failing-again.err")" = 2
# child_signal NAME SIGNAL: a two-trial sweep whose first trial's child gets SIGNAL from outside
# while it trains; sets rc to the sweep's exit code.
child_signal() {
    local name=$1 signal=$2 pid child
    setsid "$DETRAIN" sweep "$tiny" "${long[@]}" --grid optimizer.lr=0.003,0.03 --out "$DT_TMP/$name" \
        >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err" &
    pid=$!
    if wait_until 60 "$DT_TMP/$name" "s['trials'][0]['status'] == 'running' and ckpt(s['trials'][0])"; then
        child=$(ps -o pid= -o args= --ppid "$pid" | grep -F -- "--out $DT_TMP/$name/optimizer.lr=0.003 " | awk '{print $1}')
        kill -"$signal" "$child"
    fi
    rc=0
    wait "$pid" || rc=$?
}
child_signal childkill KILL
check "child killed: that trial failed (signal 9), the other completed, exit 1" \
    py "import json; s=json.load(open('$DT_TMP/childkill/sweep.json')); a, b = s['trials']
assert $rc == 1 and a['status'] == 'failed' and a['exit_code'] == 137 and 'signal 9' in a['message'], a
assert b['status'] == 'completed', b"
child_signal childint INT
check "child interrupted: that trial interrupted, the other completed, exit 130 saying how to continue" \
    py "import json; s=json.load(open('$DT_TMP/childint/sweep.json')); a, b = s['trials']
assert $rc == 130 and a['status'] == 'interrupted' and b['status'] == 'completed', (a, b)
assert 'continue with:' in open('$DT_TMP/childint.err').read()"

# --- (5) random draws: a function of --sweep-seed ---------------------------------------------------
draws=(--random optimizer.lr=1e-4:1e-1:log --random 'model.layers[0].units=8:64' --trials 3)
run_code random-a 0 "$DETRAIN" sweep "$tiny" "${draws[@]}" --sweep-seed 7 --out "$DT_TMP/random-a"
run_code random-b 0 "$DETRAIN" sweep "$tiny" "${draws[@]}" --sweep-seed 7 --out "$DT_TMP/random-b"
run_code random-c 0 "$DETRAIN" sweep "$tiny" "${draws[@]}" --sweep-seed 8 --out "$DT_TMP/random-c"
names() { py "import json; print(' '.join(t['name'] for t in json.load(open('$1/sweep.json'))['trials']))"; }
check "random: the same seed draws the same plan" [ "$(names "$DT_TMP/random-a")" = "$(names "$DT_TMP/random-b")" ]
check "random: another seed draws another" [ "$(names "$DT_TMP/random-a")" != "$(names "$DT_TMP/random-c")" ]
check "random: values inside the ranges, integer units, and the runs trained them" \
    py "import json; s=json.load(open('$DT_TMP/random-a/sweep.json')); assert len(s['trials']) == 3
for t in s['trials']:
    lr, units = (o.split('=', 1)[1] for o in t['overrides'])
    assert 1e-4 <= float(lr) <= 1e-1 and units.isdigit() and 8 <= int(units) <= 64, t['overrides']
    m = json.load(open('$DT_TMP/random-a/' + t['name'] + '/manifest.json'))
    assert m['config']['model']['layers'][0]['units'] == int(units) and t['status'] == 'completed'"
run_code random-grid 0 "$DETRAIN" sweep "$tiny" --random optimizer.lr=1e-3:1e-1:log --trials 2 \
    --grid train.batch_size=16,32 --out "$DT_TMP/random-grid" --quiet
check "random x grid: 2 draws x 2 values = 4 trials, each draw with both values" \
    py "import json; s=json.load(open('$DT_TMP/random-grid/sweep.json')); o=[t['overrides'] for t in s['trials']]
assert len(o) == 4 and o[0][0] == o[1][0] != o[2][0] == o[3][0] and o[0][1] != o[1][1], o"

# --- (6) the tables: text, Markdown, JSON; min and max selection; --register ------------------------
run_code tables 0 "$DETRAIN" sweep "$tiny" "${grid[@]}" --out "$DT_TMP/grid-j1" --md --json "$DT_TMP/grid.json"
check "tables: the header says the order; Markdown rows sorted by test_loss; the winner first" \
    py "import json; lines=open('$DT_TMP/tables.out').read().splitlines()
assert 'sorted by test_loss (no validation set)' in lines[0], lines[0]
rows=[[c.strip() for c in l.strip('|').split('|')] for l in lines if l.startswith('|')]
head, body = rows[0], rows[2:]
assert rows[1][0] == '---' and len(body) == 4, rows
losses=[float(r[head.index('test_loss')]) for r in body]
assert losses == sorted(losses), losses
j=json.load(open('$DT_TMP/grid.json')); t=j['trials']
assert [x['test_loss'] for x in t] == sorted(x['test_loss'] for x in t) and j['winner'] == t[0]['name']
assert j['sorted_by'] == {'metric': 'test_loss', 'mode': 'min', 'selection': False}, j['sorted_by']
assert lines[-1].startswith('winner: ' + t[0]['name'] + ' (test_loss'), lines[-1]"
export DETRAIN_REGISTRY=$DT_TMP/registry.sqlite
run_code select-max 0 "$DETRAIN" sweep "$tiny" --set data.validation_split=0.2 \
    --set 'train.select={"metric": "val_accuracy"}' --grid optimizer.lr=0.001,0.01,0.03 --out "$DT_TMP/select" \
    --json "$DT_TMP/select.json" --register sweepwin
check "select max: sorted by val_accuracy, highest first, with the best epochs" \
    py "import json; j=json.load(open('$DT_TMP/select.json')); t=j['trials']
assert j['sorted_by'] == {'metric': 'val_accuracy', 'mode': 'max', 'selection': True}, j['sorted_by']
assert [x['metric'] for x in t] == sorted((x['metric'] for x in t), reverse=True) and all(x['epoch'] >= 1 for x in t)
for x in t:
    m = json.load(open(x['run_dir'] + '/manifest.json'))
    assert m['selection']['best_value'] == x['metric'] and m['selection']['best_epoch'] == x['epoch']
assert 'sorted by val_accuracy (max)' in open('$DT_TMP/select-max.out').readline()"
check "register: the winner is sweepwin/1" \
    py "import json, subprocess; j=json.load(open('$DT_TMP/select.json'))
out = subprocess.run(['$DETRAIN', 'registry', 'show', 'sweepwin/1', '--json'], capture_output=True, text=True, check=True).stdout
m = json.load(open(j['trials'][0]['run_dir'] + '/manifest.json'))
assert 'registered sweepwin/1' in open('$DT_TMP/select-max.out').read() and m['run_id'] in out"

# --- (7) misuse: one line, exit 2 -----------------------------------------------------------------
bad() { local name=$1 pattern=$2; shift 2; expect_error "$name" 2 "$pattern" -- "$DETRAIN" sweep "$tiny" "$@" --out "$DT_TMP/bad"; }
bad unknown-key 'grid optimizer.lrr=1: config.optimizer.lrr: unknown key' --grid optimizer.lrr=1,2
bad unknown-random-key 'random model.layers\[9\].units=8: .*index out of range' --random 'model.layers[9].units=8:16' --trials 2
bad empty-list 'optimizer.lr=: an empty list of values' --grid optimizer.lr=
bad empty-value 'an empty value in the list' --grid optimizer.lr=0.1,,0.2
bad repeated-value 'the value 0.1 is given twice' --grid optimizer.lr=0.1,0.1
bad refused-value 'grid optimizer.lr=1e30: config.optimizer.lr: must be <= 10' --grid optimizer.lr=0.1,1e30
bad refused-bound 'random optimizer.lr=20: config.optimizer.lr: must be <= 10' --random optimizer.lr=0.1:20 --trials 2
bad runtime 'runtime.threads: runtime.\* cannot vary' --grid runtime.threads=1,2
bad runtime-mode 'runtime.mode: runtime.\* cannot vary' --grid runtime.mode=portable,fast
bad tracking 'tracking.uri: tracking.\* cannot vary' --grid tracking.uri=http://a,http://b
bad experiment "experiment: every trial belongs to the sweep's experiment" --grid experiment=a,b
bad twice 'the key is swept twice' --grid optimizer.lr=0.1 --random optimizer.lr=0.1:1 --trials 2
bad also-set 'also given with --set' --grid optimizer.lr=0.1 --set optimizer.lr=0.2
bad no-trials 'random needs --trials' --random optimizer.lr=0.001:0.1
bad zero-trials 'trials must be at least 1' --random optimizer.lr=0.001:0.1 --trials 0
bad bad-range 'LO must be less than HI' --random optimizer.lr=0.1:0.01 --trials 2
bad bad-numbers 'LO and HI must be numbers' --random optimizer.lr=a:b --trials 2
bad bad-form 'expected KEY=LO:HI' --random optimizer.lr=0.1 --trials 2
bad bad-scale "unknown scale 'lin'" --random optimizer.lr=0.1:1:lin --trials 2
bad log-zero ':log needs LO > 0' --random optimizer.lr=0:0.1:log --trials 2
bad trials-alone 'trials goes with --random' --grid optimizer.lr=0.1 --trials 3
bad seed-alone 'sweep-seed goes with --random' --grid optimizer.lr=0.1 --sweep-seed 3
bad nothing 'needs at least one --grid or --random'
bad jobs-zero '-j must be at least 1' --grid optimizer.lr=0.1 -j 0
bad jobs-over "-j $((cores + 1)): more trials at once than the $cores cores" --grid optimizer.lr=0.1 -j $((cores + 1))
bad jobs-text "option '-j' needs a non-negative integer" --grid optimizer.lr=0.1 -j two
check "misuse: nothing was made" [ ! -e "$DT_TMP/bad" ]
expect_error in-a-run 2 'holds a run, not a sweep' -- "$DETRAIN" sweep "$tiny" --grid optimizer.lr=0.1 \
    --out "$DT_TMP/grid-j1/optimizer.lr=0.03,model.layers[0].units=16"
check "help: detrain help sweep and sweep --help" \
    test "$("$DETRAIN" help sweep | head -1)" = "$("$DETRAIN" sweep --help | head -1)" -a \
    "$("$DETRAIN" help sweep | head -1)" = "usage: detrain sweep CONFIG --grid KEY=V1,V2,... [--grid ...] [options]"
expect_error other-plan 2 'this folder holds another sweep: it differs in its swept keys \(recorded --grid optimizer.lr=0.003,0.03; .*now --grid optimizer.lr=0.003,0.3' \
    -- "$DETRAIN" sweep "$tiny" --grid optimizer.lr=0.003,0.3 --grid 'model.layers[0].units=16,32' --out "$DT_TMP/grid-j1"
mkdir -p "$DT_TMP/cfg"
sed "s|\.\./data/|$DT_SOURCE_DIR/tests/data/|" "$tiny" >"$DT_TMP/cfg/tiny.json"
run_code copy 0 "$DETRAIN" sweep "$DT_TMP/cfg/tiny.json" --grid optimizer.lr=0.01 --out "$DT_TMP/copy" --quiet
sed -i 's/"epochs": 3/"epochs": 2/' "$DT_TMP/cfg/tiny.json"
expect_error config-changed 2 'this folder holds another sweep: it differs in its config file \(its SHA-256\)' \
    -- "$DETRAIN" sweep "$DT_TMP/cfg/tiny.json" --grid optimizer.lr=0.01 --out "$DT_TMP/copy"

finish
