# npy.sh — NumPy data ("format": "npy") and CSV delimiters, against files written by NumPy
# itself: the same samples as .npy (every dtype detrain reads, little- and big-endian, C and
# Fortran order, format versions 1.0 to 3.0, gzip), as .npz (np.savez, default and custom
# array names, labels inside or beside it), as CSV, HDF5 and IDX, and as CSV with ';', tab,
# single-space and padded-space delimiters, must all train to the same params_sha256; a
# regression target array (n, 2) equals HDF5's. The run record hashes the labels file too.
. "$DT_SOURCE_DIR/tests/lib.sh"

py=/usr/bin/python3 # Debian's python3 has numpy and h5py (tests/deps.sh)
if ! $py -c 'import numpy, h5py' 2>/dev/null; then
    echo "skipped: Debian's python3-numpy and python3-h5py are needed (bash tests/deps.sh)"
    exit 77
fi
d=$DT_TMP
$py - "$d" <<'PY'
import gzip, os, struct, sys
import h5py
import numpy as np
d = sys.argv[1]
out = lambda name: os.path.join(d, name)
rng = np.random.default_rng(7)

def csv(name, features, labels, delimiter=",", fmt=None):
    """A header line, then one row per sample; fmt None: %.9g, which float32 reads back exactly."""
    cols = ["f%d" % j for j in range(features.shape[1])] + ["label"]
    with open(out(name), "w") as f:
        f.write(delimiter.join(cols) + "\n")
        for row, label in zip(features, labels):
            cells = [(fmt or "%.9g") % v for v in row] + ["%d" % label]
            f.write(delimiter.join(cells) + "\n")

# Real-valued samples: float32 values, labels 0..2.
x = rng.standard_normal((96, 5)).astype(np.float32)
y = rng.integers(0, 3, 96)
csv("real.csv", x, y)
for tag, delimiter in (("semicolon", ";"), ("tab", "\t"), ("space", " ")):
    csv("real-%s.csv" % tag, x, y, delimiter)
np.savetxt(out("real-padded.txt"), np.column_stack([x.astype(np.float64), y]), fmt="%16.9g",
           header=" ".join(["f0", "f1", "f2", "f3", "f4", "label"]), comments="  ")
for order in "<>":
    for t in ("f4", "f8"):
        np.save(out("real-%s%s.npy" % ("le" if order == "<" else "be", t)), x.astype(order + t))
    for t in ("i8", "i4", "u1", "u2"):
        np.save(out("labels-%s%s.npy" % ("le" if order == "<" else "be", t)), y.astype(order + t))
np.save(out("labels-f8.npy"), y.astype("<f8"))  # float labels holding integers
np.save(out("real-fortran.npy"), np.asfortranarray(x))
for version in ((2, 0), (3, 0)):
    with open(out("real-v%d.npy" % version[0]), "wb") as f:
        np.lib.format.write_array(f, x, version=version)
with open(out("real-lef4.npy"), "rb") as f, open(out("real-gz.npy.gz"), "wb") as g:
    g.write(gzip.compress(f.read(), mtime=0))
np.savez(out("real.npz"), features=x, labels=y)
np.savez(out("real-names.npz"), X=x.astype(">f8"), y=y.astype(">i2"))
np.savez(out("real-features-only.npz"), features=x)
with h5py.File(out("real.h5"), "w") as f:
    f["features"] = x
    f["labels"] = y
# Integer samples (pixels): uint8 values, the same as IDX, CSV and every integer dtype.
p = rng.integers(0, 256, (96, 5)).astype(np.uint8)
csv("pixels.csv", p, y)
for tag, t in (("u1", "|u1"), ("lei8", "<i8"), ("bei8", ">i8"), ("lei4", "<i4"), ("bei2", ">i2"), ("leu2", "<u2"),
               ("beu8", ">u8")):
    np.save(out("pixels-%s.npy" % tag), p.astype(t))
np.save(out("pixels-i1.npy"), (p.astype(np.int16) - 128).astype("|i1"))
csv("pixels-signed.csv", p.astype(np.int16) - 128, y)
with open(out("pixels.idx"), "wb") as f:
    f.write(struct.pack(">BBBBII", 0, 0, 8, 2, 96, 5) + p.tobytes())
with open(out("labels.idx"), "wb") as f:
    f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 96) + y.astype(np.uint8).tobytes())
np.save(out("bool-labels.npy"), (y == 1))
# Regression: two float targets per sample.
t2 = rng.standard_normal((96, 2)).astype(np.float32)
np.save(out("targets-be.npy"), t2.astype(">f8"))
np.save(out("x-regression.npy"), x)
with h5py.File(out("regression.h5"), "w") as f:
    f["features"] = x
    f["labels"] = t2
PY

# The test set is the same CSV for every run: the parameters depend on the training set only.
cat >"$d/base.json" <<JSON
{"seed": 3,
 "data": {"train": {"format": "csv", "path": "real.csv"}, "test": {"format": "csv", "path": "real.csv"},
          "normalize": "standardize"},
 "model": {"input_size": 5, "layers": [{"units": 8, "activation": "tanh"}, {"units": 3}]},
 "train": {"epochs": 2, "batch_size": 16},
 "runtime": {"device": "cpu", "threads": 1}}
JSON

# train NAME TRAIN-SOURCE [SET...]: trains with data.train replaced; prints the digest.
train() {
    local name=$1 source=$2 rc=0
    shift 2
    (cd "$d" && "$DETRAIN" train base.json --quiet --out "$d/run-$name" --set "data.train=$source" "$@") \
        >"$d/$name.out" 2>"$d/$name.err" || rc=$?
    if [ "$rc" != 0 ]; then
        echo "FAIL: $name: training exits $rc: $(head -c 300 "$d/$name.err")" >&2
        return
    fi
    digest_of "$d/$name.out"
}

# same NAME REFERENCE-DIGEST TRAIN-SOURCE [SET...]: one check that the run gives the digest.
same() {
    local name=$1 want=$2 got
    shift 2
    checks=$((checks + 1))
    got=$(train "$name" "$@")
    if [ -z "$want" ] || [ "$got" != "$want" ]; then
        fail "$name: params_sha256 '${got:-none}', expected the reference's '${want:-none}'"
    else
        echo "ok   $name: same params_sha256 as the reference"
    fi
}

real=$(train real_csv '{"format": "csv", "path": "real.csv"}')
check "the CSV reference run gives a digest" [ -n "$real" ]
for tag in semicolon tab space; do
    spelled=$(case $tag in semicolon) echo '";"' ;; tab) echo '"\t"' ;; space) echo '" "' ;; esac)
    same "csv_$tag" "$real" "{\"format\": \"csv\", \"path\": \"real-$tag.csv\", \"delimiter\": $spelled}"
done
same csv_padded_spaces "$real" '{"format": "csv", "path": "real-padded.txt", "delimiter": " "}'
same hdf5 "$real" '{"format": "hdf5", "path": "real.h5"}'
for f in lef4 bef4 lef8 bef8 fortran v2 v3; do
    same "npy_$f" "$real" "{\"format\": \"npy\", \"path\": \"real-$f.npy\", \"labels\": \"labels-lei8.npy\"}"
done
same npy_gzip "$real" '{"format": "npy", "path": "real-gz.npy.gz", "labels": "labels-lei8.npy"}'
for f in lei8 bei8 lei4 bei4 leu1 beu1 leu2 beu2 f8; do
    same "labels_$f" "$real" "{\"format\": \"npy\", \"path\": \"real-lef4.npy\", \"labels\": \"labels-$f.npy\"}"
done
same npz "$real" '{"format": "npy", "path": "real.npz"}'
same npz_names "$real" '{"format": "npy", "path": "real-names.npz", "features_array": "X", "labels_array": "y"}'
same npz_labels_beside "$real" '{"format": "npy", "path": "real-features-only.npz", "labels": "labels-bei4.npy"}'
same npz_labels_from_npz "$real" '{"format": "npy", "path": "real-lef4.npy", "labels": "real.npz"}'

pixels=$(train pixels_csv '{"format": "csv", "path": "pixels.csv"}' --set data.normalize=scale)
check "the pixels CSV reference run gives a digest" [ -n "$pixels" ]
check "the pixels and the real-valued runs differ (the comparisons can fail)" [ "$pixels" != "$real" ]
same pixels_idx "$pixels" '{"format": "idx", "path": "pixels.idx", "labels": "labels.idx"}' --set data.normalize=scale
for t in u1 lei8 bei8 lei4 bei2 leu2 beu8; do
    same "pixels_$t" "$pixels" "{\"format\": \"npy\", \"path\": \"pixels-$t.npy\", \"labels\": \"labels-leu1.npy\"}" \
        --set data.normalize=scale
done
signed=$(train pixels_signed_csv '{"format": "csv", "path": "pixels-signed.csv"}' --set data.normalize=scale)
same pixels_i1 "$signed" '{"format": "npy", "path": "pixels-i1.npy", "labels": "labels-leu1.npy"}' \
    --set data.normalize=scale

# Regression: (n, 2) float64 big-endian targets give HDF5's (n, 2) float32 digest.
reg_set=(--set loss.kind=mse --set 'model.layers[1].units=2'
         --set 'data.test={"format": "hdf5", "path": "regression.h5"}')
regression=$(train regression_h5 '{"format": "hdf5", "path": "regression.h5"}' "${reg_set[@]}")
check "the regression reference run gives a digest" [ -n "$regression" ]
same regression_npy "$regression" '{"format": "npy", "path": "x-regression.npy", "labels": "targets-be.npy"}' \
    "${reg_set[@]}"

# Booleans are read as 0/1 (two classes).
bool_source="{\"format\": \"npy\", \"path\": \"$d/real-lef4.npy\", \"labels\": \"$d/bool-labels.npy\"}"
run_code bool_labels 0 "$DETRAIN" train "$d/base.json" --quiet --out "$d/run-bool" --set 'model.layers[1].units=2' \
    --set "data.train=$bool_source" --set "data.test=$bool_source"

# The run record names and hashes both files of an npy source.
manifest=$d/run-labels_bei4/manifest.json
files=$(json_get "$manifest" '" ".join(f["path"].split("/")[-1] + ":" + f["sha256"] for f in m["data"]["train"]["files"])')
want="real-lef4.npy:$(sha256sum "$d/real-lef4.npy" | cut -d' ' -f1) labels-bei4.npy:$(sha256sum "$d/labels-bei4.npy" | cut -d' ' -f1)"
check "the manifest records the SHA-256 of the features and the labels file" [ "$files" = "$want" ]

# predict reads .npy and .npz by their names: features only, or with --labels.
run_code predict_npy 0 "$DETRAIN" predict "$d/run-npz/final.h5" --input "$d/real-lef4.npy"
check "predict on a .npy gives one line per sample (and a header)" [ "$(wc -l <"$d/predict_npy.out")" = 97 ]
run_code predict_npz 0 "$DETRAIN" predict "$d/run-npz/final.h5" --input "$d/real.npz"
check "predict on a .npz gives the same predictions" cmp -s "$d/predict_npy.out" "$d/predict_npz.out"
run_code eval_npy 0 "$DETRAIN" eval "$d/run-npz/final.h5" --data "$d/real-lef4.npy" --labels "$d/labels-lei8.npy"
run_code eval_csv 0 "$DETRAIN" eval "$d/run-npz/final.h5" --data "$d/real.csv"
check "eval on .npy features and labels equals eval on the CSV" \
    [ "$(grep -E 'loss|accuracy' "$d/eval_npy.out")" = "$(grep -E 'loss|accuracy' "$d/eval_csv.out")" ]
check "help eval and help predict name the NumPy forms" \
    sh -c '"$1" help eval | grep -q "NumPy .npy" && "$1" help predict | grep -q ".npz without" ' sh "$DETRAIN"
finish
