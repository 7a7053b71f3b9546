# checkpoint.sh — HDF5 checkpoints: the same state gives byte-identical files, h5py reads
# them without detrain and finds every tensor's digest and the parameter digest as
# recorded, and a damaged checkpoint (flipped byte in any tensor, truncated file, wrong
# format version, not HDF5, not a checkpoint) is refused with one line and exit 2.
. "$DT_SOURCE_DIR/tests/lib.sh"

tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
py=/usr/bin/python3 # Debian's python3 has h5py and numpy (tests/deps.sh)

run_code run_a 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/a" --set checkpoint.every_steps=10 --set checkpoint.keep=10
run_code run_b 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/b" --set checkpoint.every_steps=10 --set checkpoint.keep=10
for f in checkpoint-000000010.h5 checkpoint-000000019.h5 checkpoint-000000040.h5 final.h5; do
    check "two runs' $f are byte-identical files (no time stamps)" cmp -s "$DT_TMP/a/$f" "$DT_TMP/b/$f"
done
check "no temporary file is left behind" [ -z "$(ls "$DT_TMP/a" | grep '\.tmp$')" ]

# h5py alone: every tensor digest, shapes, the parameter digest and the manifest's entries.
if $py -c 'import h5py, numpy' 2>/dev/null; then
    for f in checkpoint-000000010.h5 final.h5; do
        run_code "h5py_$f" 0 $py "$DT_SOURCE_DIR/tests/h5py_check.py" "$DT_TMP/a/$f" "$DT_TMP/a/manifest.json"
        grep -q FAIL "$DT_TMP/h5py_$f.out" && cat "$DT_TMP/h5py_$f.out"
    done
    check "h5py checked $(grep -c sha256 "$DT_TMP/h5py_final.h5.out") tensors of final.h5" \
        [ "$(grep -c 'sha256 ' "$DT_TMP/h5py_final.h5.out")" -ge 20 ]
else
    fail "python3-h5py is not installed (bash tests/deps.sh)"
fi

# inspect: metadata, tensors, digests.
run_code inspect 0 "$DETRAIN" inspect "$DT_TMP/a/checkpoint-000000019.h5"
check "inspect lists params/dense0/weight with shape 32x5" grep -Eq 'params/dense0/weight +32x5 +float32 +[0-9a-f]{64} +ok' "$DT_TMP/inspect.out"
check "inspect shows the step, epoch and position" grep -q 'epoch            2 of 3, position 0 of 600' "$DT_TMP/inspect.out"
check "inspect checks the file against the manifest" grep -q 'as recorded in the manifest' "$DT_TMP/inspect.out"

# Damaged files: each refused with exit 2 and one line naming the file and the problem.
corrupt() { # NAME TENSOR: a copy of the step-19 checkpoint with one bit flipped in TENSOR's data
    cp "$DT_TMP/a/checkpoint-000000019.h5" "$DT_TMP/$1.h5"
    $py - "$DT_TMP/$1.h5" "$2" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    offset = f[sys.argv[2]].id.get_offset()
data = bytearray(open(sys.argv[1], "rb").read())
data[offset + 3] ^= 0x01
open(sys.argv[1], "wb").write(data)
EOF
}
for tensor in params/dense1/weight params/dense2/bias optimizer/m/dense0/weight optimizer/v/dense2/weight trace/loss normalization/std; do
    name=flip_$(echo "$tensor" | tr / _)
    corrupt "$name" "$tensor"
    expect_error "$name" 2 "$name.h5: tensor '$tensor' is corrupt: its SHA-256 is [0-9a-f]{16}\.\.\., the recorded one" \
        -- "$DETRAIN" inspect "$DT_TMP/$name.h5"
done
check "inspect marks the damaged tensor in its table" grep -q 'trace/loss .*MISMATCH' "$DT_TMP/flip_trace_loss.out"
head -c 30000 "$DT_TMP/a/checkpoint-000000019.h5" >"$DT_TMP/truncated.h5"
expect_error truncated 2 'truncated.h5: not a readable HDF5 file \(H5Fopen failed at checkpoint.c:[0-9]+: truncated file' \
    -- "$DETRAIN" inspect "$DT_TMP/truncated.h5"
cp "$DT_TMP/a/checkpoint-000000019.h5" "$DT_TMP/version.h5"
$py -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f.attrs.modify("format_version", 99); f.close()' "$DT_TMP/version.h5"
expect_error version 2 'version.h5: checkpoint format version 99 is not supported \(this detrain reads version 1\)' \
    -- "$DETRAIN" inspect "$DT_TMP/version.h5"
echo "not an HDF5 file" >"$DT_TMP/text.h5"
expect_error not_hdf5 2 'text.h5: not a readable HDF5 file \(H5Fopen failed at checkpoint.c:[0-9]+: file signature not found' \
    -- "$DETRAIN" inspect "$DT_TMP/text.h5"
$py -c 'import h5py, sys; f = h5py.File(sys.argv[1], "w"); f["features"] = [[1.0]]; f.close()' "$DT_TMP/other.h5"
expect_error not_checkpoint 2 'other.h5: not a detrain checkpoint \(format attribute missing\)' \
    -- "$DETRAIN" inspect "$DT_TMP/other.h5"
expect_error missing 2 'nothing.h5: no such checkpoint file' -- "$DETRAIN" inspect "$DT_TMP/nothing.h5"
: >"$DT_TMP/empty.h5"
expect_error empty 2 'empty.h5: not a readable HDF5 file' -- "$DETRAIN" inspect "$DT_TMP/empty.h5"
# Every command that reads checkpoints refuses them the same way.
expect_error eval_truncated 2 'truncated.h5: not a readable HDF5 file' -- "$DETRAIN" eval "$DT_TMP/truncated.h5"
expect_error predict_version 2 'version.h5: checkpoint format version 99 is not supported' \
    -- "$DETRAIN" predict "$DT_TMP/version.h5" --input "$DT_SOURCE_DIR/tests/data/spiral-test.csv"
expect_error eval_flipped 2 "tensor 'params/dense1/weight' is corrupt" -- "$DETRAIN" eval "$DT_TMP/flip_params_dense1_weight.h5"
# A byte changed outside the tensors: the manifest's file digest catches it.
cp -r "$DT_TMP/a" "$DT_TMP/a2"
$py - "$DT_TMP/a2/final.h5" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f.attrs["note"] = "edited"
EOF
expect_error file_digest 2 'final.h5: the file.s SHA-256 [0-9a-f]{16}\.\.\. differs from the one .*manifest.json records' \
    -- "$DETRAIN" inspect "$DT_TMP/a2/final.h5"
finish
