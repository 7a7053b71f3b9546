# cli_bad_data.sh — malformed data files through the command line: each exits 2 with one
# line naming the file and what is wrong; none crashes or hangs.
. "$DT_SOURCE_DIR/tests/lib.sh"

d=$DT_TMP
good_test=$DT_SOURCE_DIR/tests/data/spiral-test.csv
python3 - "$d" <<'PY'
import gzip, struct, sys, os
d = sys.argv[1]
def idx(path, magic_type, dims, payload, gz=False):
    head = struct.pack(">BBBB", 0, 0, magic_type, len(dims)) + b"".join(struct.pack(">I", x) for x in dims)
    data = head + payload
    (gzip.open if gz else open)(os.path.join(d, path), "wb").write(data)
img = bytes((i * 7) % 256 for i in range(10 * 4))
idx("ok-images.idx", 0x08, [10, 2, 2], img)
idx("ok-labels.idx", 0x08, [10], bytes(i % 3 for i in range(10)))
open(os.path.join(d, "badmagic.idx"), "wb").write(b"\x12\x34\x56\x78" + img)
idx("truncated.idx", 0x08, [10, 2, 2], img[:25])
idx("trailing.idx", 0x08, [10, 2, 2], img + b"xyz")
idx("labels9.idx", 0x08, [9], bytes(i % 3 for i in range(9)))
idx("labels-range.idx", 0x08, [10], bytes([0, 1, 2, 0, 1, 7, 0, 1, 2, 0]))
idx("badtype.idx", 0x0A, [10, 2, 2], img)
idx("nan.idx", 0x0D, [10, 2, 2], b"".join(struct.pack(">f", float("nan") if i == 13 else 0.5) for i in range(40)))
idx("wrongfeat.idx", 0x08, [10, 3, 3], bytes(90))
gz = gzip.compress(bytes(16) + img)
open(os.path.join(d, "corrupt.gz"), "wb").write(gz[:10] + bytes(b ^ 0x5A for b in gz[10:30]) + gz[30:])
open(os.path.join(d, "truncated.gz"), "wb").write(gzip.compress(struct.pack(">BBBBIIII", 0, 0, 8, 3, 10, 2, 2, 0) + img)[:-12])
rows = ["a,b,c,d,label"] + [f"{i*0.1},{i*0.2},{i*0.3},{i*0.4},{i%3}" for i in range(10)]
def csv(name, lines): open(os.path.join(d, name), "w").write("\n".join(lines) + "\n")
csv("nonnum.csv", rows[:4] + ["0.1,0.2,abc,0.4,1"] + rows[4:])
csv("ragged.csv", rows[:3] + ["0.1,0.2,0.3,1"] + rows[3:])
csv("inf.csv", rows[:2] + ["0.1,inf,0.3,0.4,1"] + rows[2:])
csv("label-range.csv", rows[:2] + ["0.1,0.2,0.3,0.4,9"] + rows[2:])
csv("empty.csv", ["a,b,c,d,label"])
open(os.path.join(d, "noth5.h5"), "wb").write(b"this is not an HDF5 file\n" * 10)
PY
/usr/bin/python3 - "$d" <<'PY'
import sys, h5py, numpy  # Debian's python3-h5py (tests/deps.sh)
with h5py.File(sys.argv[1] + "/othernames.h5", "w") as f:  # sklearn-style names
    f["X"] = numpy.zeros((10, 4), numpy.float32)
    f["y"] = numpy.arange(10, dtype=numpy.int64) % 3
PY

# run NAME PATTERN TRAIN-SOURCE-JSON [INPUT_SIZE]: a config whose train source is given.
run() {
    local name=$1 pattern=$2 source=$3 inputs=${4:-4}
    cat >"$d/$name.json" <<JSON
{"seed": 1,
 "data": {"train": $source, "test": {"format": "csv", "path": "$good_test"}, "normalize": "none"},
 "model": {"input_size": $inputs, "layers": [{"units": 4}, {"units": 3}]},
 "train": {"epochs": 1}, "runtime": {"device": "cpu"}}
JSON
    expect_error "$name" 2 "$pattern" -- "$DETRAIN" train "$d/$name.json" --quiet --out "$d/run-$name"
}
idx_src() { echo "{\"format\": \"idx\", \"path\": \"$d/$1\", \"labels\": \"$d/$2\"}"; }
csv_src() { echo "{\"format\": \"csv\", \"path\": \"$d/$1\", \"label_column\": \"label\"}"; }

run bad_magic 'badmagic\.idx: .*magic' "$(idx_src badmagic.idx ok-labels.idx)"
run truncated 'truncated\.idx: .*truncated' "$(idx_src truncated.idx ok-labels.idx)"
run trailing 'trailing\.idx: .*beyond' "$(idx_src trailing.idx ok-labels.idx)"
run count_mismatch 'ok-images\.idx: has 10 samples.*labels9\.idx has 9' "$(idx_src ok-images.idx labels9.idx)"
run label_range 'labels-range\.idx: .*label 7' "$(idx_src ok-images.idx labels-range.idx)"
run bad_type 'badtype\.idx: .*type' "$(idx_src badtype.idx ok-labels.idx)"
run nan_feature 'nan\.idx: .*not finite' "$(idx_src nan.idx ok-labels.idx)"
run wrong_features 'wrongfeat\.idx: .*9 features.*input_size is 4' "$(idx_src wrongfeat.idx ok-labels.idx)"
run corrupt_gzip 'corrupt\.gz: .*gzip' "$(idx_src corrupt.gz ok-labels.idx)"
run truncated_gzip 'truncated\.gz: .*(gzip|truncated)' "$(idx_src truncated.gz ok-labels.idx)"
run missing_file 'missing\.idx: .*(No such file|cannot)' "$(idx_src missing.idx ok-labels.idx)"
run csv_nonnumeric 'nonnum\.csv:5:9: non-numeric cell "abc"' "$(csv_src nonnum.csv)"
run csv_ragged 'ragged\.csv:4: has 4 fields, expected 5' "$(csv_src ragged.csv)"
run csv_inf 'inf\.csv:3:5: .*not finite' "$(csv_src inf.csv)"
run csv_label_range 'label-range\.csv:3.*label' "$(csv_src label-range.csv)"
run csv_empty 'empty\.csv: .*no data rows' "$(csv_src empty.csv)"
run csv_no_label_column 'nonnum\.csv: no column named "target" in the header \(it has "a", "b", "c", "d", "label"\); set the source.s label_column .*header: false' \
    "{\"format\": \"csv\", \"path\": \"$d/nonnum.csv\", \"label_column\": \"target\"}"
run h5_not_hdf5 'noth5\.h5: .*not an HDF5 file' "{\"format\": \"hdf5\", \"path\": \"$d/noth5.h5\"}"
run h5_other_names "othernames\.h5: no dataset 'features' \(the file holds 'X', 'y'; name yours with the source's features_dataset and labels_dataset\)" \
    "{\"format\": \"hdf5\", \"path\": \"$d/othernames.h5\"}"
run csv_label_units 'label-range\.csv:3.*outside \[0, 3\), the output layer.s units \(model\.layers\[-1\]\.units\)' "$(csv_src label-range.csv)"
run limit_too_large 'ok-images\.idx: .*limit 100' \
    "{\"format\": \"idx\", \"path\": \"$d/ok-images.idx\", \"labels\": \"$d/ok-labels.idx\", \"limit\": 100}"

# A dataset bigger than the memory left is refused with an estimate before it is read or
# inflated, never an OOM kill. DT_MEMORY_AVAILABLE pretends a small machine (a testing aid).
fm="$DT_SOURCE_DIR/configs/fashion-mnist.json"
DT_MEMORY_AVAILABLE=50000000 expect_error memory_features 2 \
    'train-images-idx3-ubyte\.gz: needs 188\.4 MB for its samples as float32, 50\.0 MB available' -- \
    "$DETRAIN" train "$fm" --quiet --out "$d/run-memory-features"
DT_MEMORY_AVAILABLE=30000000 expect_error memory_inflate 2 \
    'train-images-idx3-ubyte\.gz: needs 47\.0 MB for its gzip data inflated, 30\.0 MB available' -- \
    "$DETRAIN" train "$fm" --quiet --out "$d/run-memory-inflate"
DT_MEMORY_AVAILABLE=2000 expect_error memory_csv 2 'spiral-test\.csv: needs [0-9.]+ kB for (reading the file|its rows as float32), 2\.0 kB available' -- \
    "$DETRAIN" train "$d/csv_empty.json" --quiet --out "$d/run-memory-csv" --set "data.train.path=$good_test"
finish
