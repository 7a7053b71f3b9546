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
# NumPy files written by NumPy (Debian's python3-numpy), and damaged copies of them.
/usr/bin/python3 - "$d" <<'PY'
import os, sys
import numpy as np
d = sys.argv[1]
out = lambda name: os.path.join(d, name)
x = (np.arange(40, dtype=np.float32) / 8).reshape(10, 4)
y = np.arange(10, dtype=np.int64) % 3
np.save(out("ok.npy"), x)
np.save(out("ok-labels.npy"), y)
np.savez(out("ok.npz"), features=x, labels=y)
np.savez(out("names.npz"), X=x, y=y)
np.savez(out("range.npz"), features=x, labels=np.array([0, 1, 2, 0, 1, 7, 0, 1, 2, 0], dtype=np.uint8))
np.savez_compressed(out("compressed.npz"), features=x, labels=y)
np.save(out("complex.npy"), x.astype(np.complex64))
np.save(out("object.npy"), np.array([[1, "a"]] * 10, dtype=object), allow_pickle=True)
np.save(out("flat.npy"), x.ravel())
np.save(out("labels9.npy"), y[:9])
np.save(out("labels-range.npy"), np.array([0, 1, 2, 0, 1, 7, 0, 1, 2, 0], dtype=">i4"))
np.save(out("labels-2d.npy"), y.reshape(10, 1))
nan = x.copy()
nan[3, 2] = np.nan
np.save(out("nan.npy"), nan.astype(">f8"))
good = open(out("ok.npy"), "rb").read()
open(out("truncated.npy"), "wb").write(good[:-7])
open(out("trailing.npy"), "wb").write(good + b"xyz")
open(out("badmagic.npy"), "wb").write(b"\x93NUMPZ" + good[6:])
open(out("notdict.npy"), "wb").write(good[:10] + good[10:].replace(b"{", b"[", 1))
archive = bytearray(open(out("ok.npz"), "rb").read())
archive[200] ^= 0xFF  # a byte of the first member's data (its local header and npy header come first)
open(out("crc.npz"), "wb").write(bytes(archive))
open(out("cut.npz"), "wb").write(bytes(archive[: len(archive) // 2]))
with open(out("semi.csv"), "w") as f:
    f.write("a;b;c;d;label\n" + "".join("%g;%g;%g;%g;%d\n" % (*row, label) for row, label in zip(x, y)))
with open(out("decimal-comma.csv"), "w") as f:
    f.write("a;b;c;d;label\n" + "".join("0,5;1;2;3;%d\n" % label for label in y))
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

# NumPy data: each damaged or unsupported file exits 2 naming it (and the array of a .npz).
npy_src() { echo "{\"format\": \"npy\", \"path\": \"$d/$1\"${2:+, \"labels\": \"$d/$2\"}}"; }
run npy_as_idx 'ok\.npy: this is a NumPy \.npy file, not IDX; use "format": "npy"' "$(idx_src ok.npy ok-labels.idx)"
run npz_as_idx 'ok\.npz: this is a NumPy \.npz archive, not IDX; use "format": "npy"' "$(idx_src ok.npz ok-labels.idx)"
run npy_labels_as_idx 'ok-labels\.npy: this is a NumPy \.npy file, not IDX; use "format": "npy"' \
    "$(idx_src ok-images.idx ok-labels.npy)"
run h5_as_idx 'othernames\.h5: this is an HDF5 file, not IDX; use "format": "hdf5"' "$(idx_src othernames.h5 ok-labels.idx)"
run csv_as_idx 'nonnum\.csv: this is a CSV text file, not IDX; use "format": "csv"' "$(idx_src nonnum.csv ok-labels.idx)"
run npy_as_csv 'ok\.npy: this is a NumPy \.npy file, not CSV; use "format": "npy"' "$(csv_src ok.npy)"
run idx_as_csv 'ok-images\.idx: this is an IDX file, not CSV; use "format": "idx"' "$(csv_src ok-images.idx)"
run npz_as_h5 'ok\.npz: this is a NumPy \.npz archive, not HDF5; use "format": "npy"' \
    "{\"format\": \"hdf5\", \"path\": \"$d/ok.npz\"}"
run h5_as_npy 'othernames\.h5: this is an HDF5 file, not NumPy; use "format": "hdf5"' "$(npy_src othernames.h5)"
run npy_compressed 'compressed\.npz: member .features\.npy. is compressed \(deflate, as np\.savez_compressed writes\): detrain reads uncompressed archives; save with np\.savez' \
    "$(npy_src compressed.npz)"
run npy_complex "complex\.npy: holds complex values \(dtype '<c8'\), expected float32, float64" "$(npy_src complex.npy ok-labels.npy)"
run npy_object "object\.npy: holds Python object values \(dtype '\|O'\)" "$(npy_src object.npy ok-labels.npy)"
run npy_flat 'flat\.npy: features have shape \(40,\), expected 2 dimensions \(samples, features\); .*reshape\(-1, 1\)' \
    "$(npy_src flat.npy ok-labels.npy)"
run npy_count_mismatch 'ok\.npy: has 10 samples but .*labels9\.npy has 9 labels' "$(npy_src ok.npy labels9.npy)"
run npy_label_range 'labels-range\.npy: label 7 at index 5 is outside \[0, 3\), the output layer.s units \(model\.layers\[-1\]\.units\)' \
    "$(npy_src ok.npy labels-range.npy)"
run npy_labels_2d 'labels-2d\.npy: labels have shape \(10, 1\), expected \(samples\); save labels\.ravel\(\)' \
    "$(npy_src ok.npy labels-2d.npy)"
run npy_nan 'nan\.npy: feature at sample 3, index 2 is not finite \(nan\)' "$(npy_src nan.npy ok-labels.npy)"
run npy_truncated 'truncated\.npy: truncated: the header declares 160 bytes of data, the file has 153' \
    "$(npy_src truncated.npy ok-labels.npy)"
run npy_trailing 'trailing\.npy: has 3 bytes beyond the data the header declares' "$(npy_src trailing.npy ok-labels.npy)"
run npy_bad_magic 'badmagic\.npy: not a \.npy file \(it does not start with the magic' "$(npy_src badmagic.npy ok-labels.npy)"
run npy_not_dict 'notdict\.npy: malformed \.npy header: not a dict literal' "$(npy_src notdict.npy ok-labels.npy)"
run npy_no_labels 'ok\.npy: no labels for these NumPy features: set the source.s labels to a \.npy file of labels, or save both arrays in one \.npz' \
    "$(npy_src ok.npy)"
run npz_names "names\.npz: no array 'features' \(the archive holds 'X', 'y'; name yours with the source's features_array and labels_array\)" \
    "$(npy_src names.npz)"
run npz_crc "crc\.npz: member 'features\.npy' fails its CRC-32 check \(recorded [0-9a-f]{8}, computed [0-9a-f]{8}\): the archive is damaged" \
    "$(npy_src crc.npz)"
run npz_cut 'cut\.npz: damaged zip archive: no end-of-central-directory record' "$(npy_src cut.npz)"
run npz_labels_range "range\.npz: array 'labels': label 7 at index 5 is outside \[0, 3\)" "$(npy_src range.npz)"
# CSV: the wrong delimiter is named; a decimal comma is pointed out.
run csv_semicolon 'semi\.csv: no column named "label" in the header \(it has "a;b;c;d;label"\); the cells look separated by .;.: set the source.s delimiter to ";"' \
    "$(csv_src semi.csv)"
run csv_semicolon_index 'semi\.csv: label column 4 is out of range: rows have 1 fields; the cells look separated by .;.' \
    "{\"format\": \"csv\", \"path\": \"$d/semi.csv\", \"label_column\": 4}"
run csv_decimal_comma 'decimal-comma\.csv:2:1: non-numeric cell "0,5" \(a decimal comma\? numbers are read with a decimal point\)' \
    "{\"format\": \"csv\", \"path\": \"$d/decimal-comma.csv\", \"delimiter\": \";\"}"
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
