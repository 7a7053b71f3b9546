# store.sh — one home for a project's records (label cpu): `detrain init`; the store found
# as git finds its repository ($DETRAIN_HOME, else the nearest .detrain/ upward, else
# ./checkpoints); every run recorded there wherever --out put its folder; runs, lineage and
# registry use it from any subfolder and name it; default run and sweep folders inside it;
# a run folder deleted outside the store leaves the index; runs --adopt takes in folders made
# elsewhere; bad input: exit 2, one line.
. "$DT_SOURCE_DIR/tests/lib.sh"
unset DETRAIN_HOME DETRAIN_REGISTRY
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
test_csv=$DT_SOURCE_DIR/tests/data/spiral-test.csv
py() { /usr/bin/python3 -c "$@"; }
mkdir -p "$DT_TMP/proj/a/deep" "$DT_TMP/proj/b" "$DT_TMP/outside" "$DT_TMP/elsewhere"
proj=$(cd "$DT_TMP/proj" && pwd -P)
cd "$proj"
# The tiny config with absolute data paths, so it trains from any folder.
sed "s|\.\./data/|$DT_SOURCE_DIR/tests/data/|" "$tiny" > tiny.json
tiny=$proj/tiny.json
check "no store above the test folder (else this test proves nothing)" \
    bash -c "d=\$PWD; while [ \"\$d\" != / ]; do [ ! -d \"\$d/.detrain\" ] || exit 1; d=\$(dirname \"\$d\"); done"

# ---- init ----------------------------------------------------------------------------------------
run_code init 0 "$DETRAIN" init
check "init: says it made the store" grep -qx "made an empty detrain store in $proj/.detrain" "$DT_TMP/init.out"
check "init: an empty index and registry" test -f .detrain/detrain.sqlite
run_code init-again 0 "$DETRAIN" init
check "init again: changes nothing and says so" grep -qx "already a detrain store: $proj/.detrain" "$DT_TMP/init-again.out"
expect_error init-missing 2 "nowhere: no such folder" -- "$DETRAIN" init nowhere
expect_error init-two 2 "unexpected argument 'b'" -- "$DETRAIN" init a b

# ---- every run recorded in the nearest store, wherever its folder --------------------------------
(cd a/deep && "$DETRAIN" train "$tiny" --quiet >"$DT_TMP/default.out" 2>&1)
check "train without --out: the run folder is in the store" \
    bash -c "ls -d '$proj'/.detrain/tiny-*Z/manifest.json >/dev/null 2>&1"
check "train without --out: nothing in a/deep" test -z "$(ls a/deep)"
(cd a/deep && "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/outside/run1" >/dev/null 2>&1)
check "train --out elsewhere: no index beside the run folder" test ! -e "$DT_TMP/outside/detrain.sqlite"
(cd b && "$DETRAIN" runs --json >"$DT_TMP/runs-b.json" 2>"$DT_TMP/runs-b.err")
check "runs from another subfolder: both runs, the outside one by its absolute path" py "
import json; m = json.load(open('$DT_TMP/runs-b.json'))
f = sorted(r['folder'] for r in m)
assert len(f) == 2 and f[0] == '$(cd "$DT_TMP/outside" && pwd -P)/run1' and f[1].startswith('tiny-'), f
assert all(r['status'] == 'completed' for r in m), m
assert [r['path'] for r in m if r['folder'].startswith('tiny-')][0] == '$proj/.detrain/' + f[1]"
(cd b && "$DETRAIN" runs >"$DT_TMP/runs-b.txt")
check "runs: the first line names the store and how it was found" \
    grep -qx "store: $proj/.detrain (the nearest .detrain/)" "$DT_TMP/runs-b.txt"

# ---- the registry and lineage use the store -----------------------------------------------------
(cd a && "$DETRAIN" registry add "$DT_TMP/outside/run1" --name spiral >"$DT_TMP/add.out" 2>&1)
check "registry add from a subfolder: into the store's database" \
    grep -qx "registry: $proj/.detrain/detrain.sqlite (the store $proj/.detrain: the nearest .detrain/)" "$DT_TMP/add.out"
check "registry: its files beside the store's database" test -d .detrain/detrain.sqlite.objects
check "registry add: no database in the current folder" test ! -e a/checkpoints
(cd b && "$DETRAIN" eval spiral/1 >"$DT_TMP/eval-ref.out" 2>&1)
"$DETRAIN" eval "$DT_TMP/outside/run1" >"$DT_TMP/eval-run.out" 2>/dev/null
check "eval NAME/VERSION from another subfolder: the registered model" \
    test "$(grep accuracy "$DT_TMP/eval-ref.out")" = "$(grep accuracy "$DT_TMP/eval-run.out")" -a -n "$(grep accuracy "$DT_TMP/eval-run.out")"
(cd a/deep && "$DETRAIN" lineage "$test_csv" >"$DT_TMP/lineage.out")
check "lineage: both runs (the outside one by its path) and the version" \
    bash -c "grep -q '^run    $DT_TMP/outside/run1 \|^run    $(cd "$DT_TMP/outside" && pwd -P)/run1 ' '$DT_TMP/lineage.out' &&
             grep -q '^run    $proj/.detrain/tiny-' '$DT_TMP/lineage.out' && grep -q '^model  spiral/1 ' '$DT_TMP/lineage.out' &&
             grep -q '^store: $proj/.detrain (the nearest .detrain/)' '$DT_TMP/lineage.out'"

# ---- a folder removed outside the store leaves the index; --adopt ------------------------------
rm -rf "$DT_TMP/outside/run1"
"$DETRAIN" runs --json >runs-after-rm.json
check "a run folder deleted outside the store is no longer listed" test "$(json_get runs-after-rm.json 'len(m)')" = 1
DETRAIN_HOME="$DT_TMP/other-store" "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/elsewhere/r1" >/dev/null 2>&1
DETRAIN_HOME="$DT_TMP/other-store" "$DETRAIN" train "$tiny" --quiet --set seed=8 --out "$DT_TMP/elsewhere/r2" >/dev/null 2>&1
check "DETRAIN_HOME: the run went to that store, not the nearest" \
    test "$(DETRAIN_HOME="$DT_TMP/other-store" "$DETRAIN" runs --json | py 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 -a \
         "$(json_get runs-after-rm.json 'len(m)')" = 1
DETRAIN_HOME="$DT_TMP/other-store" "$DETRAIN" runs | head -1 >home.txt
check "runs names \$DETRAIN_HOME as the reason" grep -qx "store: $DT_TMP/other-store (\$DETRAIN_HOME)" home.txt
run_code adopt-folder 0 "$DETRAIN" runs --adopt "$DT_TMP/elsewhere" --json
check "runs --adopt DIR: the run folders in DIR join the store" test "$(json_get "$DT_TMP/adopt-folder.out" 'len(m)')" = 3
check "runs --adopt: says how many" grep -q "adopted 2 runs from $DT_TMP/elsewhere into the store" "$DT_TMP/adopt-folder.err"
run_code adopt-again 0 "$DETRAIN" runs --adopt "$DT_TMP/elsewhere/r1" --json
check "runs --adopt RUN_DIR again: still one row per run" test "$(json_get "$DT_TMP/adopt-again.out" 'len(m)')" = 3
expect_error adopt-not-runs 2 "a/deep/missing: not a run folder, and not a folder of runs" -- "$DETRAIN" runs --adopt a/deep/missing
run_code rescan 0 "$DETRAIN" runs --rescan --json
check "runs --rescan keeps the adopted and outside runs" test "$(json_get "$DT_TMP/rescan.out" 'len(m)')" = 3

# ---- sweeps: default folder in the store, trials recorded --------------------------------------
(cd b && "$DETRAIN" sweep "$tiny" --grid seed=1,2 --quiet >"$DT_TMP/sweep.out" 2>&1)
check "sweep without --out: the sweep folder is in the store" bash -c "ls -d '$proj'/.detrain/sweep-tiny-*Z >/dev/null 2>&1"
check "sweep: its trials are recorded in the store" test "$("$DETRAIN" runs --json | py 'import json,sys; print(len(json.load(sys.stdin)))')" = 5

# ---- without any store: ./checkpoints, as before -------------------------------------------------
mkdir -p "$DT_TMP/plain" && cd "$DT_TMP/plain"
"$DETRAIN" train "$tiny" --quiet --out run >/dev/null 2>&1 || true
cd "$DT_TMP"
expect_error no-store 2 "checkpoints: no folder of runs \(no \\\$DETRAIN_HOME and no .detrain/ above: ./checkpoints\); 'detrain init'" \
    -- "$DETRAIN" runs
check "no store: train recorded the run in ./checkpoints of the folder it ran in" test -f plain/checkpoints/detrain.sqlite

# ---- a path too long for the store or a run folder is refused, never cut --------------------------
long=$(printf 'x%.0s' $(seq 1200))
too_long="the path is too long \(1[0-9]{3} bytes, at most 1023\)"
expect_error long-out 2 "$too_long" -- "$DETRAIN" train "$tiny" --quiet --out "$long"
expect_error long-home 2 "$too_long" -- env DETRAIN_HOME="$DT_TMP/$long" "$DETRAIN" train "$tiny" --quiet
expect_error long-root 2 "$too_long" -- "$DETRAIN" runs --root "$long"
expect_error long-sweep 2 "$too_long" -- "$DETRAIN" sweep "$tiny" --grid optimizer.lr=0.1,0.2 --out "$long"
check "no folder was made under a cut name" test -z "$(ls -d "$DT_TMP"/xxxx* 2>/dev/null)"
finish
