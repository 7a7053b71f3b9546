# export.sh — detrain export: safetensors checked byte for byte against the checkpoint (standard
# library and h5py only: tests/python/safetensors_check.py), ONNX written as protobuf, a model version in
# place of a checkpoint, and bad input refused with exit 2 and one line, leaving no file behind.
# ONNX Runtime and PyTorch running the exports: tests/export_runtimes.sh (label mlflow).
. "$DT_SOURCE_DIR/tests/lib.sh"

py=/usr/bin/python3
if ! $py -c 'import h5py' 2>/dev/null; then
    echo "skipped: /usr/bin/python3 has no h5py (apt-get install python3-h5py)"
    exit 77
fi
cd "$DT_TMP"
export DETRAIN_REGISTRY=$DT_TMP/registry.sqlite
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json

# A classifier with standardize (float64 moments) and tanh/gelu; a regression model with scale.
run_code train 0 "$DETRAIN" train "$tiny" --quiet --out run
cp run/final.h5 final-before.h5
run_code train_mse 0 "$DETRAIN" train "$DT_SOURCE_DIR/tests/configs/tiny-sgd.json" --quiet --out mse \
    --set data.normalize=scale --set data.scale=0.5 --set data.shift=-0.25

# safetensors: names, shapes, dtypes, offsets, metadata and bytes.
for run in run mse; do
    run_code "safetensors_$run" 0 "$DETRAIN" export "$run/final.h5" --format safetensors --output "$run.safetensors"
    check "$run: one line on stderr saying what was written" \
        grep -qx "detrain: wrote $run.safetensors (safetensors of $run/final.h5)" "$DT_TMP/safetensors_$run.err"
    run_code "safetensors_check_$run" 0 $py "$DT_SOURCE_DIR/tests/python/safetensors_check.py" "$run/final.h5" "$run.safetensors"
    check "$run: the safetensors file matches its checkpoint" grep -q '; 0 problems$' "$DT_TMP/safetensors_check_$run.out"
done
check "standardize: the moments are float64 tensors" \
    $py -c 'import json, struct, sys; b = open(sys.argv[1], "rb").read(); h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
sys.exit(not (h["normalize.mean"]["dtype"] == h["normalize.std"]["dtype"] == "F64" and h["normalize.mean"]["shape"] == [5]))' run.safetensors
# The check can fail: another run's file, and one flipped bit in a tensor, are caught.
run_code check_catches_other_run 1 $py "$DT_SOURCE_DIR/tests/python/safetensors_check.py" run/final.h5 mse.safetensors
cp run.safetensors flipped.safetensors
printf '\x01' | dd of=flipped.safetensors bs=1 seek=$(($(wc -c <run.safetensors) - 5)) conv=notrunc status=none
run_code check_catches_a_bit 1 $py "$DT_SOURCE_DIR/tests/python/safetensors_check.py" run/final.h5 flipped.safetensors
check "check_catches_a_bit names the tensor" grep -q 'FAIL: layers.2.weight: its bytes differ' "$DT_TMP/check_catches_a_bit.out"
run_code safetensors_again 0 "$DETRAIN" export run/final.h5 --format safetensors --output again.safetensors
check "the same checkpoint gives the same bytes" cmp -s run.safetensors again.safetensors

# ONNX: a protobuf ModelProto (field 1, ir_version, first) carrying the digests.
for run in run mse; do
    run_code "onnx_$run" 0 "$DETRAIN" export "$run/final.h5" --format onnx --output "$run.onnx"
    check "$run.onnx: non-empty, starts as a ModelProto with ir_version 8" \
        [ "$(head -c 2 "$run.onnx" | od -An -tx1 | tr -d ' ')" = 0808 ]
    digest=$($py -c 'import h5py, sys; print(h5py.File(sys.argv[1], "r").attrs["params_sha256"])' "$run/final.h5")
    check "$run.onnx carries the parameter digest in its metadata" grep -q "$digest" "$run.onnx"
done
run_code onnx_again 0 "$DETRAIN" export run/final.h5 --format onnx --output again.onnx
check "the same checkpoint gives the same ONNX bytes" cmp -s run.onnx again.onnx

# A model version in place of the checkpoint gives the same file.
run_code registry_add 0 "$DETRAIN" registry add run --name tiny
run_code export_ref 0 "$DETRAIN" export tiny/1 --format onnx --output ref.onnx
check "tiny/1 exports the same ONNX as its checkpoint" cmp -s run.onnx ref.onnx
run_code help 0 "$DETRAIN" help export
check "help export starts with its usage line" grep -q '^usage: detrain export' "$DT_TMP/help.out"

# Bad input: exit 2, one line, and nothing written (no output, no temporary file).
cp run/final.h5 flipped.h5
$py - flipped.h5 <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    offset = f["params/dense1/weight"].id.get_offset()
data = bytearray(open(sys.argv[1], "rb").read())
data[offset + 3] ^= 0x01
open(sys.argv[1], "wb").write(data)
EOF
head -c 30000 run/final.h5 >truncated.h5
mkdir -p out
refused() { # NAME PATTERN OUTPUT -- ARGS...: exit 2 with one line, OUTPUT not created, out/ left empty
    local name=$1 pattern=$2 output=$3
    shift 4
    expect_error "$name" 2 "$pattern" -- "$DETRAIN" export "$@"
    check "$name: no $output, no temporary file" [ ! -e "$output" -a -z "$(ls -A out)" ]
}
refused flipped "flipped.h5: tensor 'params/dense1/weight' is corrupt" out/m.onnx -- flipped.h5 --format onnx --output out/m.onnx
refused truncated 'truncated.h5: not a readable HDF5 file' out/m.safetensors -- truncated.h5 --format safetensors --output out/m.safetensors
refused missing_checkpoint 'nope.h5: no such checkpoint file' out/m.onnx -- nope.h5 --format onnx --output out/m.onnx
refused unknown_format "unknown export format 'pt' \(use safetensors or onnx\)" out/m.pt -- run/final.h5 --format pt --output out/m.pt
refused no_output 'export needs --output FILE' out/m.onnx -- run/final.h5 --format onnx
refused no_format 'export needs --format safetensors\|onnx' out/m.onnx -- run/final.h5 --output out/m.onnx
refused twice "option '--format' given twice" out/m.onnx -- run/final.h5 --format onnx --format onnx --output out/m.onnx
refused no_folder 'nowhere/m.onnx: cannot write: folder .*nowhere: No such file or directory' nowhere/m.onnx \
    -- run/final.h5 --format onnx --output nowhere/m.onnx
refused a_folder 'out: is a folder, not a file' out/out -- run/final.h5 --format onnx --output out
refused itself 'run/final.h5: the output is the checkpoint itself' out/m.onnx -- run/final.h5 --format safetensors --output run/final.h5
refused no_model "ghost@production: no model named 'ghost'" out/m.onnx -- ghost@production --format onnx --output out/m.onnx
refused no_version 'tiny/9: ' out/m.onnx -- tiny/9 --format onnx --output out/m.onnx
check "the checkpoint given as --output is untouched" cmp -s run/final.h5 final-before.h5
check "run/ holds no temporary file" [ -z "$(ls run | grep '\.tmp$')" ]

# A folder that cannot be written: read-only for root (a read-only mount), else by its mode.
mkdir -p ro
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m,ro tmpfs ro 2>/dev/null; then
    expect_error read_only 2 'ro/m.onnx: cannot write into folder ro: Read-only file system' \
        -- "$DETRAIN" export run/final.h5 --format onnx --output ro/m.onnx
    check "read_only: nothing written" [ -z "$(ls -A ro)" ]
    umount ro
elif [ "$(id -u)" != 0 ]; then
    chmod 555 ro
    expect_error read_only 2 'ro/m.onnx: cannot write into folder ro: Permission denied' \
        -- "$DETRAIN" export run/final.h5 --format onnx --output ro/m.onnx
    chmod 755 ro
    check "read_only: nothing written" [ -z "$(ls -A ro)" ]
else
    echo "note: the read-only folder case did not run (root, and mount refused)"
fi
finish
