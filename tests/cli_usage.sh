# cli_usage.sh — help, version, and usage errors (exit 2, one line with a hint).
. "$DT_SOURCE_DIR/tests/lib.sh"

check_ok() { # NAME PATTERN CMD...: exit 0 and stdout matches PATTERN
    local name=$1 pattern=$2
    shift 2
    checks=$((checks + 1))
    local rc=0
    "$@" >"$DT_TMP/$name.out" 2>&1 || rc=$?
    if [ "$rc" != 0 ] || ! grep -Eq -- "$pattern" "$DT_TMP/$name.out"; then
        fail "$name: exit $rc, output: $(head -c 300 "$DT_TMP/$name.out")"
    else
        echo "ok   $name"
    fi
}

check_ok help '^usage: detrain <command>' "$DETRAIN" --help
check_ok help_short '^usage: detrain <command>' "$DETRAIN" -h
check_ok help_train '^usage: detrain train CONFIG' "$DETRAIN" help train
check_ok train_help '--set PATH=VALUE' "$DETRAIN" train --help
check_ok version '^detrain [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{40}|unknown)' "$DETRAIN" --version

cfg="$DT_SOURCE_DIR/tests/configs/tiny.json"
expect_error unknown_command 2 "unknown command 'trian'.*detrain help" -- "$DETRAIN" trian
expect_error unknown_option 2 "unknown option '--fast'.*detrain help train" -- "$DETRAIN" train "$cfg" --fast
expect_error missing_config 2 "train needs a config file" -- "$DETRAIN" train
expect_error set_no_equals 2 "--set 'optimizer.lr'.*path=value" -- "$DETRAIN" train "$cfg" --set optimizer.lr
expect_error set_empty_path 2 "--set '=3'.*path=value" -- "$DETRAIN" train "$cfg" --set =3
expect_error set_missing_value 2 "option '--set' needs a value" -- "$DETRAIN" train "$cfg" --set
expect_error two_configs 2 "unexpected argument" -- "$DETRAIN" train "$cfg" "$cfg"
expect_error help_unknown 2 "no help for unknown command" -- "$DETRAIN" help frobnicate
expect_error threads_bad 2 "config.runtime.threads" -- "$DETRAIN" train "$cfg" --threads many
expect_error missing_file 2 "nope.json" -- "$DETRAIN" train "$DT_TMP/nope.json"

# --out must be a new or empty folder: a run's files never mix with others (--out data, --out .)
mkdir -p "$DT_TMP/busy" && echo keep >"$DT_TMP/busy/notes.txt"
expect_error out_not_empty 2 "busy: the folder exists and holds other files \(notes.txt\)" -- \
    "$DETRAIN" train "$cfg" --out "$DT_TMP/busy"
check "--out refused: nothing of the folder's was touched" test "$(ls -A "$DT_TMP/busy")" = notes.txt
mkdir -p "$DT_TMP/empty"
check "--out into an empty folder trains" "$DETRAIN" train "$cfg" --set train.epochs=1 --quiet --out "$DT_TMP/empty"
# an output file whose folder is missing is bad input (exit 2) before any work, as for export
expect_error predict_no_folder 2 "p.csv: cannot write: folder .*missing_dir" -- "$DETRAIN" predict "$DT_TMP/empty/final.h5" \
    --input "$DT_SOURCE_DIR/tests/data/spiral-test.csv" --output "$DT_TMP/missing_dir/p.csv"
"$DETRAIN" train "$cfg" --set data.train.limit=20 --set train.epochs=3 --out "$DT_TMP/small-set" \
    >"$DT_TMP/small-set.out" 2>"$DT_TMP/small-set.err"
check "a batch larger than the training set trains, warned once" \
    test "$(grep -c 'warning: train.batch_size 32 exceeds the 20 training samples' "$DT_TMP/small-set.err")" = 1 -a \
    -f "$DT_TMP/small-set/final.h5"
check_ok help_registry_export 'inspect, diff and export' "$DETRAIN" help registry
finish
