# plot.sh — detrain plot: learning curves of runs and sweeps as SVG, checked with an XML parser
# (one path.curve per run and metric, one point per epoch, the legend, the panels, the
# best-epoch marker of a run's selection), the same document as PNG (chunks, CRCs, pixel rows;
# PIL when installed), the same bytes for the same runs, and bad input refused with exit 2 and
# one line, leaving no file behind. tests/python/plot_check.py does the parsing.
. "$DT_SOURCE_DIR/tests/lib.sh"

py=/usr/bin/python3
plot_check="$py $DT_SOURCE_DIR/tests/python/plot_check.py"
cd "$DT_TMP"
export DETRAIN_REGISTRY=$DT_TMP/registry.sqlite
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json

# Two small runs of four epochs that differ in their learning rate; a regression run.
run_code train_a 0 "$DETRAIN" train "$tiny" --quiet --out lr-0.01 --set train.epochs=4 --set optimizer.lr=0.01
run_code train_b 0 "$DETRAIN" train "$tiny" --quiet --out lr-0.003 --set train.epochs=4 --set optimizer.lr=0.003
run_code train_mse 0 "$DETRAIN" train "$DT_SOURCE_DIR/tests/configs/tiny-sgd.json" --quiet --out mse

# svg_ok NAME FILE CHECK-ARGS...: FILE passes plot_check.py svg with the arguments.
svg_ok() {
    local name=$1 file=$2
    shift 2
    run_code "$name" 0 $plot_check svg "$file" "$@" && cat "$DT_TMP/$name.out"
}

# The default metrics: train_loss and test_loss (no run has val_loss), one loss panel.
run_code plot_svg 0 "$DETRAIN" plot lr-0.01 lr-0.003 --output curves.svg
check "one line on stderr saying what was written" \
    grep -qx "detrain: wrote curves.svg (4 curves of 2 runs)" "$DT_TMP/plot_svg.err"
svg_ok check_svg curves.svg --panels 1 --curve lr-0.01 train_loss 4 --curve lr-0.01 test_loss 4 \
    --curve lr-0.003 train_loss 4 --curve lr-0.003 test_loss 4
check "the default title names the experiment" grep -q '>Learning curves: tiny</text>' curves.svg
run_code plot_again 0 "$DETRAIN" plot lr-0.01/ lr-0.003 --output again.svg
check "the same runs give the same bytes" cmp -s curves.svg again.svg

# --metric, repeated and as a comma list: one panel per kind (loss, accuracy, learning rate).
run_code plot_metrics 0 "$DETRAIN" plot lr-0.01 lr-0.003 --metric train_loss,test_accuracy --metric lr \
    --output metrics.svg --title 'lr <sweep> & "friends"'
svg_ok check_metrics metrics.svg --panels 3 --curve lr-0.01 train_loss 4 --curve lr-0.01 test_accuracy 4 \
    --curve lr-0.01 lr 4 --curve lr-0.003 train_loss 4 --curve lr-0.003 test_accuracy 4 --curve lr-0.003 lr 4
check "the title is escaped" grep -q '>lr &lt;sweep&gt; &amp; &quot;friends&quot;</text>' metrics.svg
# A regression run has no accuracy: its curves are drawn, it gets none of accuracy.
run_code plot_mixed 0 "$DETRAIN" plot lr-0.01 mse --metric test_loss,test_accuracy --output mixed.svg
svg_ok check_mixed mixed.svg --panels 2 --curve lr-0.01 test_loss 4 --curve lr-0.01 test_accuracy 4 \
    --curve mse test_loss 3

# A sweep folder: every run folder directly inside it, named after its folder (the overrides).
mkdir -p sweep/notes
echo '{}' >sweep/sweep.json
cp -r lr-0.01 'sweep/optimizer.lr=0.01,model.layers[0].units=32'
cp -r lr-0.003 'sweep/optimizer.lr=0.003,model.layers[0].units=32'
run_code plot_sweep 0 "$DETRAIN" plot sweep mse --output sweep.svg
svg_ok check_sweep sweep.svg --panels 1 \
    --curve 'optimizer.lr=0.003,model.layers[0].units=32' train_loss 4 \
    --curve 'optimizer.lr=0.003,model.layers[0].units=32' test_loss 4 \
    --curve 'optimizer.lr=0.01,model.layers[0].units=32' train_loss 4 \
    --curve 'optimizer.lr=0.01,model.layers[0].units=32' test_loss 4 --curve mse train_loss 3 --curve mse test_loss 3

# A run with a validation set and a selection block: val_loss joins the defaults, and its best
# epoch is marked on its val_loss curve (and nowhere else).
cp -r lr-0.01 selected
$py - selected/manifest.json <<'EOF'
import json, sys
path = sys.argv[1]
m = json.load(open(path))
for e in m["epochs"]:
    e["val_loss"], e["val_accuracy"] = e["test_loss"] * 1.1, None
m["epochs"][3]["val_loss"] = None  # a gap: the curve goes on without the point
m["selection"] = {"metric": "val_loss", "mode": "min", "best_epoch": 2, "best_value": m["epochs"][1]["val_loss"]}
json.dump(m, open(path, "w"), indent=2)
EOF
run_code plot_selection 0 "$DETRAIN" plot selected lr-0.003 --output selection.svg
svg_ok check_selection selection.svg --panels 1 --curve selected train_loss 4 --curve selected val_loss 3 \
    --curve selected test_loss 4 --curve lr-0.003 train_loss 4 --curve lr-0.003 test_loss 4 \
    --best selected val_loss 2
run_code plot_no_selection 0 "$DETRAIN" plot selected --metric train_loss --output no-selection.svg
svg_ok check_no_marker no-selection.svg --curve selected train_loss 4 # and no marker: val_loss is not drawn
run_code plot_plain 0 "$DETRAIN" plot lr-0.01 --metric test_loss --output plain.svg
svg_ok check_plain plain.svg --curve lr-0.01 test_loss 4 # a run without a selection: no marker

# The checker can fail: a curve with a point too many, a marker on another point, a document cut
# short, a PNG cut short.
run_code checker_counts 1 $plot_check svg selection.svg --curve selected train_loss 5 --curve selected val_loss 3 \
    --curve selected test_loss 4 --curve lr-0.003 train_loss 4 --curve lr-0.003 test_loss 4 --best selected val_loss 1
check "the checker catches a wrong point count and a misplaced marker (2 problems)" \
    grep -q '; 2 problems$' "$DT_TMP/checker_counts.out"
head -c 2000 curves.svg >cut.svg
run_code checker_cut_svg 1 $plot_check svg cut.svg

# PNG: the same document rendered by librsvg, or refused by a build without it.
if [ "${DT_HAVE_PNG:-0}" = 1 ]; then
    run_code plot_png 0 "$DETRAIN" plot selected lr-0.003 --output curves.png
    size=$($py -c 'import re,sys; t=open(sys.argv[1]).read(); print(*re.search(r"width=\"(\d+)\" height=\"(\d+)\"", t).groups())' selection.svg)
    run_code check_png 0 $plot_check png curves.png --size $size && cat "$DT_TMP/check_png.out"
    head -c 3000 curves.png >cut.png
    run_code checker_cut_png 1 $plot_check png cut.png
    $py -c 'import PIL' 2>/dev/null || echo "skipped: opening the PNG with PIL (python3-pil is not installed)"
else
    expect_error png_without_librsvg 2 'curves.png: PNG output needs librsvg2-dev at build time' -- \
        "$DETRAIN" plot lr-0.01 --output curves.png
fi

# Bad input: exit 2 and one line, nothing written.
mkdir -p broken empty-sweep not-a-run
echo '{"format": "detrain-manifest/1", "epochs": [' >broken/manifest.json
echo '{}' >empty-sweep/sweep.json
cp -r lr-0.01 bad-value
$py -c 'import json,sys; m=json.load(open(sys.argv[1])); m["epochs"][2]["test_loss"]="high"; json.dump(m, open(sys.argv[1], "w"))' \
    bad-value/manifest.json
expect_error no_runs 2 '^detrain: plot needs run or sweep folders' -- "$DETRAIN" plot --output x.svg
expect_error no_output 2 '^detrain: plot needs --output FILE.svg or FILE.png' -- "$DETRAIN" plot lr-0.01
expect_error not_a_run 2 'not-a-run: neither a run folder \(manifest.json\) nor a sweep folder \(sweep.json\)' -- \
    "$DETRAIN" plot lr-0.01 not-a-run --output x.svg
expect_error missing_path 2 'nowhere: neither a run folder' -- "$DETRAIN" plot nowhere --output x.svg
expect_error broken_manifest 2 'broken/manifest.json: cannot parse the manifest \(JSON syntax error at line' -- \
    "$DETRAIN" plot lr-0.01 broken --output x.svg
expect_error bad_value 2 'bad-value/manifest.json: epochs\[2\].test_loss: not a number or null' -- \
    "$DETRAIN" plot bad-value --output x.svg
expect_error empty_sweep 2 'empty-sweep: a sweep folder without run folders' -- "$DETRAIN" plot empty-sweep --output x.svg
expect_error unknown_metric 2 "unknown metric 'val_los' \(valid: train_loss, train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, lr\)" -- \
    "$DETRAIN" plot lr-0.01 --metric train_loss,val_los --output x.svg
expect_error metric_nobody_has 2 'metric val_loss: none of the given runs has it \(all 2 runs\)' -- \
    "$DETRAIN" plot lr-0.01 lr-0.003 --metric val_loss --output x.svg
expect_error regression_accuracy 2 'metric test_accuracy: none of the given runs has it' -- \
    "$DETRAIN" plot mse --metric test_accuracy --output x.svg
expect_error unknown_extension 2 'x.pdf: unknown output format \(the name must end in .svg or .png\)' -- \
    "$DETRAIN" plot lr-0.01 --output x.pdf
expect_error missing_folder 2 'nofolder/x.svg: cannot write: folder nofolder' -- \
    "$DETRAIN" plot lr-0.01 --output nofolder/x.svg
mkdir -p folder.svg
expect_error output_is_folder 2 'folder.svg: is a folder, not a file' -- "$DETRAIN" plot lr-0.01 --output folder.svg
check "no output left behind by the refused commands" [ ! -e x.svg -a ! -e x.pdf -a ! -e nofolder ]
check "no temporary files left behind" [ -z "$(find . -maxdepth 1 -name '*.tmp')" ]

# Help in the style of the other commands.
run_code help 0 "$DETRAIN" help plot
check "detrain help plot shows the usage" grep -q '^usage: detrain plot RUN_OR_SWEEP' "$DT_TMP/help.out"
run_code usage 0 "$DETRAIN" help
check "detrain help lists plot" grep -q '^  plot RUN_OR_SWEEP' "$DT_TMP/usage.out"

finish
