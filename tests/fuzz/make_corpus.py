#!/usr/bin/env python3
"""make_corpus.py — writes the seed corpora of the fuzz targets (README.md), one folder each.

    make_corpus.py [--source-dir DIR] [--detrain BINARY] OUT

Seeds come from the malformed-input tables of tests/test_config.c and tests/test_data.c, the
example configs, data and golden run records, small valid and near-valid IDX, gzip, CSV and
HDF5 files (HDF5 with h5py, skipped when h5py or numpy is missing), the recipes of the
structure-aware targets (their byte formats are documented in their .c files), and, given a
detrain binary, the checkpoints of a one-epoch run of tests/configs/tiny*.json. Deterministic:
the same tree and binary give the same files (checkpoints are byte-reproducible, h5py objects
carry no time stamps). Quick: well under 10 s.
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    h5py = np = None

TARGETS = ["fuzz_config", "fuzz_set", "fuzz_idx", "fuzz_csv", "fuzz_npy", "fuzz_h5data", "fuzz_h5data_structured",
           "fuzz_checkpoint", "fuzz_checkpoint_structured", "fuzz_record", "fuzz_opdump", "fuzz_model_ref", "fuzz_runs",
           "fuzz_selftest"]


class Corpus:
    """Numbered seed files per target: <out>/<target>/<nnn>-<label>."""

    def __init__(self, out):
        self.out = out
        self.count = {}
        shutil.rmtree(out, ignore_errors=True)
        for target in TARGETS:
            os.makedirs(os.path.join(out, target))

    def add(self, target, label, data):
        if isinstance(data, str):
            data = data.encode()
        n = self.count.get(target, 0)
        self.count[target] = n + 1
        with open(os.path.join(self.out, target, "%03d-%s" % (n, label)), "wb") as f:
            f.write(data)


def gz(data):
    """gzip without a file name or time stamp, so the bytes never change."""
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---- configs: tests/test_config.c's cases, ' standing for " as there --------------------------

TRAIN_IDX = "'train': {'format': 'idx', 'path': 'train-images', 'labels': 'train-labels'}"
TEST_CSV = "'test': {'format': 'csv', 'path': 'test.csv'}"
DATA = "'data': {" + TRAIN_IDX + ", " + TEST_CSV + "}"
MODEL = "'model': {'input_size': 784, 'layers': [{'units': 64}, {'units': 10}]}"
BASE = "'seed': 7, " + DATA + ", " + MODEL
MINIMAL = "{" + BASE + "}"
UNITS32 = ", ".join(["{'units': 2}"] * 32)
FULL = ("{'seed': 9007199254740991, 'data': {'train': {'format': 'csv', 'path': '/abs/train.csv',"
        " 'label_column': 0, 'header': false, 'limit': 5000}, 'test': {'format': 'hdf5', 'path': 'test.h5',"
        " 'features_dataset': 'x', 'labels_dataset': 'y', 'limit': 100}, 'normalize': 'standardize',"
        " 'scale': 0.5, 'shift': -0.25}, 'model': {'input_size': 20, 'init': 'glorot_normal', 'layers':"
        " [{'units': 32, 'activation': 'gelu', 'dropout': 0.1}, {'units': 16, 'activation': 'tanh'},"
        " {'units': 3, 'activation': 'sigmoid'}]}, 'loss': {'kind': 'mse'}, 'optimizer': {'kind': 'sgd',"
        " 'lr': 0.1, 'momentum': 0.9, 'nesterov': true, 'beta1': 0.8, 'beta2': 0.99, 'eps': 1e-6,"
        " 'weight_decay': 0.0005, 'clip_norm': 1.5}, 'schedule': {'kind': 'cosine', 'warmup_steps': 100,"
        " 'step_size': 50, 'gamma': 0.5, 'min_lr': 0.001}, 'train': {'epochs': 3, 'batch_size': 64,"
        " 'shuffle': false, 'drop_last': true, 'eval_batch_size': 500}, 'runtime': {'device': 'cpu',"
        " 'mode': 'deterministic', 'threads': 4}, 'checkpoint': {'every_steps': 10, 'every_epoch': false,"
        " 'keep': 2}}")

BAD_CONFIGS = [
    "{" + BASE + ", 'optimiser': {}}",
    "{" + BASE + ", 'optimizer': {'lrr': 0.1}}",
    "{'seed': 7, " + DATA + ", 'model': {'input_size': 4, 'layers': [{'units': 3}, {'units': 2, 'dropuot': 0}]}}",
    "{" + BASE + ", 'train': {'epochs': 'ten'}}",
    "{" + BASE + ", 'optimizer': {'lr': true}}",
    "{" + BASE + ", 'train': {'shuffle': 1}}",
    "{" + BASE + ", 'optimizer': []}",
    "{'seed': 7, " + DATA + ", 'model': {'input_size': 4, 'layers': [3]}}",
    "[1]",
    "{" + BASE + ", 'optimizer': {'lr': -1}}",
    "{" + BASE + ", 'train': {'batch_size': 0}}",
    "{'seed': 9007199254740992, " + DATA + ", " + MODEL + "}",
    "{'seed': -1, " + DATA + ", " + MODEL + "}",
    "{'seed': 7, 'data': {" + TRAIN_IDX + ", " + TEST_CSV + ", 'scale': 1e39}, " + MODEL + "}",
    "{'seed': 7, 'data': {" + TRAIN_IDX + ", 'test': {'format': 'csv', 'path': 't', 'label_column': -1}}, " + MODEL + "}",
    "{'seed': 7, 'data': {'train': {'format': 'idx', 'path': '', 'labels': 'l'}, " + TEST_CSV + "}, " + MODEL + "}",
    "{" + DATA + ", " + MODEL + "}",
    "{'seed': 7, " + DATA + ", 'model': {'input_size': 4, 'layers': [" + UNITS32 + ", {'units': 2}]}}",
    "{\n  'seed': 7,\n  'data': ,\n}",
    MINIMAL + " x",
    "",
    "{" + BASE + ", 'optimizer': {'lr': 0.1, 'lr': 0.2}}",
    "{'seed': 7, " + DATA + ", 'model': {'input_size': 4, 'layers': [{'units': 3}, {'units': 2, 'activation': 'relu'}]}}",
    "{" + BASE + ", 'optimizer': {'kind': 'sgd', 'nesterov': true}}",
    "{" + BASE + ", 'schedule': {'kind': 'cosine', 'min_lr': 0.01}}",
    "{'seed': 7, 'data': {" + TRAIN_IDX + ", 'test': {'format': 'hdf5', 'path': 't', 'header': true}}, " + MODEL + "}",
    "{'seed': 7, 'data': {" + TRAIN_IDX + ", 'test': {'format': 'parquet', 'path': 't'}}, " + MODEL + "}",
    "{" + BASE + ", 'runtime': {'mode': 2, 'device': 'cuda', 'gpu': 0, 'tf32': true}}",
    "{" + BASE + ", 'train': {'epochs': 2.5, 'microbatches': 4}}",
]

SETS = [
    ["optimizer.lr=0.01", "runtime.mode=fast", "data.test.label_column=\"7\"", "train.shuffle=false",
     "model.layers[1].units=5", "model.layers.0.activation=tanh", "data.train.limit=100",
     "data.test.path=rel/test.csv"],
    ["train.epochs=2", "train.epochs=3", "loss.kind=null"],
    ["model.layers=[{\"units\": 3}, {\"units\": 4, \"activation\": \"identity\"}]",
     "data.train={\"format\": \"hdf5\", \"path\": \"t.h5\"}"],
    ["data.scale=0.1", "data.shift=-3.3333333", "optimizer.lr=3e-4", "optimizer.eps=1.17549435e-38",
     "schedule.gamma=0.7", "model.layers[0].dropout=0.33333334"],
    ["optimizer.lr"], ["=3"], ["model.layers[x].units=3"], ["model..layers=3"], ["model.layers[1=3"],
    ["optimizer.lrr=0.1"], ["model.layers[2].units=3"], ["model.layers.7.units=3"], ["seed.x=1"],
    ["runtime.threads=many"], ["data.test.format=idx"], ["optimizer.lr=0.0001", "schedule.min_lr=0.0001"],
    ["schedule.min_lr=0.0001", "optimizer.lr=0.00001"], ["optimizer={\"lr\": 1, \"lr\": 2}"],
    ["model.layers=null"], ["checkpoint.every_steps=5", "checkpoint.keep=1", "runtime.gpu=-1"],
    ["data.test={\"format\": \"csv\", \"path\": \"t.csv\", \"header\": false, \"label_column\": 3}"],
    ["model.layers[0]={\"units\": 8, \"activation\": \"gelu\", \"dropout\": 0.5}", "model.init=glorot_uniform"],
]


def q(text):
    return text.replace("'", '"')


def config_seeds(corpus, src):
    files = [os.path.join(src, "tests/configs", n) for n in sorted(os.listdir(os.path.join(src, "tests/configs")))]
    files += [os.path.join(src, "configs/fashion-mnist.json")]
    files += [os.path.join(src, "bench/configs", n) for n in sorted(os.listdir(os.path.join(src, "bench/configs")))]
    for path in files:
        if path.endswith(".json"):
            with open(path, "rb") as f:
                corpus.add("fuzz_config", os.path.basename(path), f.read())
    for run in ("tiny", "tiny-sgd"):
        with open(os.path.join(src, "tests/golden/runs", run, "manifest.json")) as f:
            corpus.add("fuzz_config", "resolved-" + run, json.dumps(json.load(f)["config"], indent=2))
    corpus.add("fuzz_config", "minimal", q(MINIMAL))
    corpus.add("fuzz_config", "full", q(FULL))
    for i, text in enumerate(BAD_CONFIGS):
        corpus.add("fuzz_config", "bad%02d" % i, q(text))
    for i, lines in enumerate(SETS):
        corpus.add("fuzz_set", "sets%02d" % i, "\n".join(lines))


# ---- IDX: a selector byte (fuzz_idx.c), then the file -----------------------------------------

def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_seeds(corpus):
    images = idx(0x08, [3, 2, 2], bytes([0, 1, 2, 3, 10, 20, 30, 40, 255, 128, 64, 7]))
    labels = idx(0x08, [3], bytes([0, 2, 1]))
    floats = idx(0x0D, [3, 4], struct.pack(">12f", *[0.5 * i for i in range(12)]))
    cases = [
        (0, "images", images), (0, "images-gz", gz(images)), (1, "labels", labels), (1, "labels-gz", gz(labels)),
        (2, "labels-regression", labels), (3, "labels-regression-gz", gz(labels)), (4, "features-only", images),
        (8, "limit1", images), (24, "limit3", images), (0, "float32", floats),
        (0, "float64", idx(0x0E, [3, 2, 2], struct.pack(">12d", *range(12)))),
        (0, "int16", idx(0x0B, [3, 4], struct.pack(">12h", *range(-6, 6)))),
        (0, "int32", idx(0x0C, [3, 1, 4], struct.pack(">12i", *range(12)))),
        (0, "sbyte", idx(0x09, [3, 4], bytes(range(250, 256)) + bytes(range(6)))),
        (1, "labels-int32", idx(0x0C, [3], struct.pack(">3i", 9, 0, 5))),
        (3, "labels-float64", idx(0x0E, [3], struct.pack(">3d", 0.5, -1e300, 2))),
        (1, "labels-float32-frac", idx(0x0D, [3], struct.pack(">3f", 1, 1.5, 2))),
        (0, "images-gz-twice", gz(images[:10]) + gz(images[10:])),
        # tests/test_data.c's malformed files
        (0, "bad-magic", b"\x12\x34\x56\x78\0\0\0\1x"), (0, "unknown-type", b"\0\0\x07\x01\0\0\0\1x"),
        (0, "short", b"\0\0\x08"), (0, "no-dims", idx(0x08, [], b"")),
        (0, "truncated", idx(0x08, [3, 2, 2], bytes(10))), (0, "trailing", idx(0x08, [3, 2, 2], bytes(15))),
        (1, "two-labels", idx(0x08, [2], bytes([0, 1]))), (1, "label-range", idx(0x08, [3], bytes([0, 17, 1]))),
        (1, "labels-2d", idx(0x08, [3, 1], bytes([0, 1, 2]))),
        (0, "nan", idx(0x0D, [3, 4], struct.pack(">12f", *([1.0] * 11 + [float("nan")])))),
        (0, "inf", idx(0x0D, [3, 4], struct.pack(">12f", *([1.0] * 11 + [float("-inf")])))),
        (0, "huge-dims", idx(0x08, [0xFFFFFFFF, 0xFFFFFFFF, 2], b"")), (0, "zero-samples", idx(0x08, [0, 2, 2], b"")),
        (0, "gzip-garbage", b"\x1f\x8b\x08\0\0\0\0\0\0\x03abcdefgh"), (0, "gzip-cut", gz(images)[:20]),
        (0, "gzip-trailing", gz(images) + b"xyz"),
    ]
    for selector, label, data in cases:
        corpus.add("fuzz_idx", label, bytes([selector]) + data)
    # The first labels of the Fashion-MNIST test set (Debian's dataset-fashion-mnist), when installed.
    fashion = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
    if os.path.exists(fashion):
        with gzip.open(fashion) as f:
            head = f.read(8 + 3)
        corpus.add("fuzz_idx", "fashion-labels", bytes([1]) + gz(idx(0x08, [3], head[8:])))


# ---- CSV: two selector bytes (fuzz_csv.c), then the file ----------------------------------------

def csv_selector(header, column, n_features, regression=False, optional=False, delimiter=","):
    columns = ["label", "y", "0", "2"]
    return bytes([int(header) | columns.index(column) << 1 | (n_features - 1) << 3 | regression << 6 | optional << 7,
                  ",;\t ".index(delimiter)])


def csv_seeds(corpus, src):
    with open(os.path.join(src, "tests/data/spiral-train.csv"), "rb") as f:
        spiral = b"".join(f.readlines()[:12])
    corpus.add("fuzz_csv", "spiral", csv_selector(True, "label", 5) + spiral)
    corpus.add("fuzz_csv", "spiral-gz", csv_selector(True, "label", 5) + gz(spiral))
    corpus.add("fuzz_csv", "spiral-predict", csv_selector(True, "label", 5, optional=True) + spiral)
    no_label = b"\n".join(b",".join(line.split(b",")[:5]) for line in spiral.splitlines()) + b"\n"
    corpus.add("fuzz_csv", "spiral-features-only", csv_selector(True, "label", 5, optional=True) + no_label)
    indexed = csv_selector(False, "2", 2)
    cases = [
        (csv_selector(True, "label", 2), "named", "f0,label,f1\n1.5,2,-3\n\n 4 , 0 ,5e1\n\n"),
        (indexed, "indexed", "1,2,0\n3,0.25,1"),
        (csv_selector(True, "y", 2), "bom-crlf", "\ufeffa,b,y\r\n1,2,1\r\n3,0.25,0\r\n\r\n"),
        (csv_selector(False, "0", 2, regression=True), "regression", "0.5,1,2\n-1.25,3,4\n"),
        (indexed, "rounding", "0.1,7.038531e-26,1\n"), (indexed, "hex-floats", "0x1p-3,-0x1.8p1,1\n"),
        (indexed, "non-numeric", "1,2,0\n3,abc,1\n"), (csv_selector(True, "y", 2), "spaced", "a,b,y\n1,2,0\n\n5, 1x ,1\n"),
        (indexed, "ragged", "1,2,0\n3,4\n"), (indexed, "long", "1,2,0\n3,4,1,9\n"), (indexed, "nan", "1,nan,0\n"),
        (indexed, "inf", "1,2,1\r\ninf,1,0\r\n"), (indexed, "huge", "1,1e39,0\n"), (indexed, "empty-cell", "1,,0\n"),
        (csv_selector(True, "y", 2), "range", "a,b,y\n1,2,0\n3,4,5\n"), (indexed, "fraction", "1,2,1.5\n"),
        (csv_selector(False, "2", 2, regression=True), "nan-target", "1,2,nan\n"), (indexed, "empty", ""),
        (indexed, "blank", "\n  \r\n\n"), (csv_selector(True, "label", 2), "header-only", "a,b,label\n"),
        (csv_selector(False, "label", 2), "name-without-header", "1,2,0\n"),
        (csv_selector(False, "2", 3), "three", "1,2,3,0\n"), (indexed, "nul", "1,2,0\n1,\x002,0\n"),
        (indexed, "cr-cell", "1,2,\r\r\n3\n"), (indexed, "nan-payload", "nan(123),2,0\n"),
        (csv_selector(True, "label", 2, delimiter=";"), "semicolon", "a;b;label\n1.5;2;0\n3;4;1\n"),
        (csv_selector(True, "label", 2, delimiter=";"), "decimal-comma", "a;b;label\n1,5;2;0\n"),
        (csv_selector(False, "2", 2, delimiter="\t"), "tab", "1\t2\t0\n 3 \t4\t1\n"),
        (csv_selector(False, "2", 2, delimiter="\t"), "tab-empty-cell", "1\t\t0\n"),
        (csv_selector(True, "y", 2, delimiter=" "), "space-padded", "  a   b  y \n  1.5  -2   0\n 3 4 1   \n"),
        (csv_selector(False, "0", 2, delimiter=" "), "space-tabs", "0 1\t2\n"),
        (csv_selector(True, "label", 2), "semicolon-as-comma", "a;b;label\n1;2;0\n"),
    ]
    for selector, label, text in cases:
        corpus.add("fuzz_csv", label, selector + text.encode())


# ---- NumPy: a selector byte (fuzz_npy.c), then a .npy or .npz file ------------------------------
# Written here without NumPy, so that the seeds do not depend on it and never change: .npy as
# np.save writes it (format 1.0, header padded to 64 bytes), .npz with zipfile and a fixed date.

def npy(descr, shape, payload, version=1, fortran=False):
    text = "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (
        descr if descr.startswith("[") else repr(descr), fortran, shape)
    prefix = 10 if version == 1 else 12
    text += " " * ((64 - (prefix + len(text) + 1) % 64) % 64) + "\n"
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text.encode() + payload


def npz(members, compress=False):
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            archive.writestr(info, data)
    return buffer.getvalue()


def npy_seeds(corpus):
    features = npy("<f4", "(3, 4)", struct.pack("<12f", *[0.5 * i for i in range(12)]))
    labels = npy("<i8", "(3,)", struct.pack("<3q", 0, 2, 1))
    both = npz([("features", features), ("labels", labels)])
    cases = [
        (0, "features", features), (0, "features-gz", gz(features)), (1, "labels", labels), (4, "npz", both),
        (4 | 8, "npz-features-only", npz([("features", features)])),
        (4 | 0x40, "npz-names", npz([("X", features), ("y", labels)])), (4, "npz-empty", npz([])),
        (4, "npz-compressed", npz([("features", features), ("labels", labels)], compress=True)),
        (0, "big-endian-f8", npy(">f8", "(3, 4)", struct.pack(">12d", *range(12)))),
        (0, "fortran", npy("<f4", "(3, 4)", struct.pack("<12f", *range(12)), fortran=True)),
        (0, "version2", npy("|u1", "(3, 4)", bytes(range(12)), version=2)),
        (0, "version3", npy("<i2", "(3, 4)", struct.pack("<12h", *range(-6, 6)), version=3)),
        (0, "uint64", npy(">u8", "(3, 4)", struct.pack(">12Q", *range(12)))),
        (1, "labels-u1", npy("|u1", "(3,)", bytes([9, 0, 5]))), (1, "labels-bool", npy("|b1", "(3,)", bytes([1, 0, 1]))),
        (3, "targets-2d", npy("<f4", "(3, 2)", struct.pack("<6f", *range(6)))),
        (1, "labels-float-fraction", npy("<f8", "(3,)", struct.pack("<3d", 1, 1.5, 2))),
        (16, "limit1", features), (48, "limit3", features),
        (0, "complex", npy("<c8", "(3, 4)", bytes(96))), (0, "object", npy("|O", "(3, 4)", bytes(96))),
        (0, "structured", npy("[('a', '<f4')]", "(3, 4)", bytes(48))), (0, "float16", npy("<f2", "(3, 4)", bytes(24))),
        (0, "one-dimensional", npy("<f4", "(12,)", bytes(48))), (0, "zero-samples", npy("<f4", "(0, 4)", b"")),
        (0, "truncated", features[:-5]), (0, "trailing", features + b"xyz"), (0, "short", b"\x93NUM"),
        (0, "bad-version", b"\x93NUMPY\x04\x00" + features[8:]), (0, "huge-shape", npy("<f4", "(4294967296, 4294967296)", b"")),
        (0, "nan", npy("<f4", "(3, 4)", struct.pack("<12f", *([1.0] * 11 + [float("nan")])))),
        (1, "label-range", npy("<i4", "(3,)", struct.pack("<3i", 0, 17, -1))),
        (1, "two-labels", npy("<i8", "(2,)", struct.pack("<2q", 0, 1))),
        (0, "header-not-a-dict", b"\x93NUMPY\x01\x00\x06\x00(1,2)\n"), (0, "not-npy", b"1,2,3,4\n5,6,7,8\n"),
        (4, "npz-cut", both[: len(both) // 2]), (4, "npz-crc", both[:60] + bytes([both[60] ^ 1]) + both[61:]),
    ]
    for selector, label, data in cases:
        corpus.add("fuzz_npy", label, bytes([selector]) + data)


# ---- HDF5 data files (h5py) ----------------------------------------------------------------------

def h5_file(path, libver=None):
    """A file whose objects carry no time stamps, so its bytes do not change between runs."""
    return h5py.File(path, "w", libver=libver, track_order=False)


def put(f, name, value, **options):
    f.create_dataset(name, data=value, track_times=False, **options)


def h5data_files(tmp):
    """(label, path) of small HDF5 files: datasets features (n, 3) and labels, valid and not."""
    files = []
    f32 = np.arange(12, dtype="<f4").reshape(4, 3) - 5.5
    labels = np.array([1, 0, 4, 2], dtype="<i4")

    def make(label, fill, libver=None):
        path = os.path.join(tmp, label + ".h5")
        with h5_file(path, libver) as f:
            fill(f)
        files.append((label, path))

    make("ok", lambda f: (put(f, "features", f32), put(f, "labels", labels)))
    make("ok-latest", lambda f: (put(f, "features", f32), put(f, "labels", labels)), "latest")
    make("u8-i64", lambda f: (put(f, "features", np.arange(12, dtype="u1").reshape(4, 3)),
                              put(f, "labels", labels.astype("<i8"))))
    make("f64be-u8", lambda f: (put(f, "features", f32.astype(">f8")), put(f, "labels", labels.astype("u1"))))
    make("f16-i8", lambda f: (put(f, "features", f32.astype("<f2")), put(f, "labels", labels.astype("i1"))))
    make("regression", lambda f: (put(f, "features", f32), put(f, "labels", np.linspace(-1, 1, 8).reshape(4, 2))))
    make("features-only", lambda f: put(f, "features", f32))
    make("chunked-gzip", lambda f: (put(f, "features", f32, chunks=(2, 3), compression="gzip"),
                                    put(f, "labels", labels, chunks=(2,), compression="gzip", shuffle=True)))
    make("compact-attrs", lambda f: (put(f, "features", f32), put(f, "labels", labels),
                                     f["features"].attrs.create("units", b"pixels"), f.attrs.create("n", 4)))
    make("nan", lambda f: (put(f, "features", np.where(f32 > 3, np.nan, f32).astype("<f4")), put(f, "labels", labels)))
    make("big-f64", lambda f: (put(f, "features", (f32 * 1e300).astype("<f8")), put(f, "labels", labels)))
    make("label-range", lambda f: (put(f, "features", f32), put(f, "labels", np.array([0, 9, -1, 2], "<i4"))))
    make("label-frac", lambda f: (put(f, "features", f32), put(f, "labels", np.array([0, 0.5, 1, 2]))))
    make("label-strings", lambda f: (put(f, "features", f32), put(f, "labels", np.array([b"abc", b"def", b"g", b"h"]))))
    make("label-bool", lambda f: (put(f, "features", f32), put(f, "labels", np.array([True, False, True, True]))))
    make("rank3", lambda f: (put(f, "features", f32.reshape(2, 2, 3)), put(f, "labels", labels[:2])))
    make("scalar", lambda f: (put(f, "features", np.float32(1)), put(f, "labels", np.int32(1))))
    make("empty", lambda f: (put(f, "features", np.zeros((0, 3), "<f4")), put(f, "labels", np.zeros(0, "<i4"))))
    make("count-mismatch", lambda f: (put(f, "features", f32), put(f, "labels", labels[:3])))
    make("compound", lambda f: (put(f, "features", f32), put(f, "labels", np.zeros(4, dtype=[("a", "<i4"), ("b", "<f4")]))))
    make("group-named-features", lambda f: (f.create_group("features"), put(f, "labels", labels)))
    make("soft-link", lambda f: (put(f, "x", f32), put(f, "labels", labels), f.__setitem__("features", h5py.SoftLink("/x"))))
    make("vlen-strings", lambda f: (put(f, "features", f32), put(f, "labels", np.array(["a", "bb", "c", "d"], dtype=object),
                                                                  dtype=h5py.string_dtype())))
    return files


def h5data_seeds(corpus, tmp):
    if h5py is None:
        print("make_corpus.py: no h5py/numpy: no HDF5 data seeds", file=sys.stderr)
        return
    for label, path in h5data_files(tmp):
        with open(path, "rb") as f:
            data = f.read()
        corpus.add("fuzz_h5data", label, data)
        corpus.add("fuzz_checkpoint", "data-" + label, data)
    corpus.add("fuzz_h5data", "cut", data[: len(data) // 2])
    corpus.add("fuzz_h5data", "not-hdf5", b"these are not the bytes of an HDF5 file\n")


# ---- recipes of fuzz_h5data_structured.c ---------------------------------------------------------

NAMES = ["features", "labels", "x", "y", "targets", "g/features", "g/labels", "g", ""]
# Indices into fuzz_h5_type's choices (mod 27); 48: a fixed string of 1 + 48 % 16 = 1 byte.
TYPES = {"schar": 0, "uchar": 1, "short": 2, "int": 4, "uint": 5, "llong": 8, "ullong": 9, "float": 10,
         "double": 11, "ldouble": 12, "i16be": 13, "f32be": 16, "f64be": 17, "b8": 18, "half": 20,
         "string": 48, "vlen": 22, "enum": 23, "compound": 24, "array": 25, "opaque": 26}


def value(type_name, dims, elements=None, raw=None, extremes=False):
    """fuzz_h5_value_read's bytes: type, shape (rank, or 4 for null), dims, mode, elements —
    one byte each for small integers (mode 0) or extremes (mode 2), else raw bytes (mode 1)."""
    shape = 4 if dims is None else len(dims)
    head = bytes([TYPES[type_name], shape]) + bytes(dims or [])
    if raw is not None:
        return head + b"\x01" + raw
    return head + (b"\x02" if extremes else b"\x00") + bytes(elements or [])


def recipe(n_features, n_classes, objects, features="features", labels="labels", optional=False, limit2=False,
           latest=False):
    head = bytes([n_features | n_classes << 3 | optional << 6 | limit2 << 7,
                  NAMES.index(features) | NAMES.index(labels) << 4, (len(objects) - 1) << 1 | latest])
    return head + b"".join(objects)


def dataset(name, val, kind=0):
    return bytes([NAMES.index(name), kind]) + val


def h5data_structured_seeds(corpus):
    f32 = struct.pack("<12f", *[i - 5.5 for i in range(12)])
    feats = dataset("features", value("float", [4, 3], raw=f32))
    labs = dataset("labels", value("int", [4], [1, 0, 4, 2]))
    seeds = {
        "ok": recipe(3, 5, [feats, labs]),
        "ok-latest-compact-chunked": recipe(3, 5, [dataset("features", value("float", [4, 3], raw=f32), 3),
                                                   dataset("labels", value("uchar", [4], [1, 0, 4, 2]), 4)], latest=True),
        "small-ints": recipe(3, 5, [dataset("features", value("short", [4, 3], list(range(12)))), labs]),
        "half-i16be": recipe(3, 5, [dataset("features", value("half", [4, 3], list(range(12)))),
                                    dataset("labels", value("i16be", [4], [1, 0, 4, 2]))]),
        "ldouble-limit": recipe(3, 5, [dataset("features", value("ldouble", [4, 3], list(range(12)))), labs], limit2=True),
        "regression": recipe(3, 0, [feats, dataset("labels", value("double", [4, 2], list(range(8))))]),
        "features-only": recipe(3, 0, [feats], optional=True),
        "x-y": recipe(3, 5, [dataset("x", value("float", [4, 3], raw=f32)), dataset("y", value("llong", [4], [1, 2, 3, 4]))],
                      features="x", labels="y"),
        "grouped": recipe(3, 5, [dataset("g/features", value("f64be", [4, 3], list(range(12)))),
                                 dataset("g/labels", value("uint", [4], [0, 1, 2, 3]))], features="g/features",
                          labels="g/labels"),
        "soft-link": recipe(3, 5, [dataset("x", value("float", [4, 3], raw=f32)), bytes([0, 6, NAMES.index("x")]), labs]),
        "group-as-features": recipe(3, 5, [bytes([0, 5]), labs]),
        "external-link": recipe(3, 5, [bytes([0, 7]), labs]),
        "strings": recipe(3, 5, [feats, dataset("labels", value("string", [4], raw=b"abcd"))]),
        "vlen": recipe(3, 5, [feats, dataset("labels", value("vlen", [4], raw=b"\x01a\x01b\x01c\x01d"))]),
        "enum": recipe(3, 5, [feats, dataset("labels", value("enum", [4], raw=bytes(16)))]),
        "compound": recipe(3, 5, [dataset("features", value("compound", [4, 3], raw=bytes(96))), labs]),
        "array": recipe(3, 5, [dataset("features", value("array", [4, 3], raw=bytes(96))), labs]),
        "opaque-b8": recipe(3, 5, [dataset("features", value("opaque", [4, 3], raw=bytes(48))),
                                   dataset("labels", value("b8", [4], raw=bytes(4)))]),
        "scalar": recipe(1, 5, [dataset("features", value("float", [], raw=f32[:4])), labs]),
        "null-space": recipe(3, 5, [dataset("features", value("float", None)), labs]),
        "rank3": recipe(3, 5, [dataset("features", value("float", [2, 2, 3], raw=f32)), labs]),
        "zero-samples": recipe(3, 5, [dataset("features", value("float", [0, 3])), dataset("labels", value("int", [0]))]),
        "nan": recipe(3, 5, [dataset("features", value("float", [4, 3], raw=b"\xff" * 48)), labs]),
        "extreme-labels": recipe(3, 5, [feats, dataset("labels", value("double", [4], [0x80, 1, 3, 0x83], extremes=True))]),
        "ullong-labels": recipe(3, 5, [feats, dataset("labels", value("ullong", [4], raw=b"\xff" * 32))]),
        "schar-labels": recipe(3, 5, [feats, dataset("labels", value("schar", [4], raw=b"\xff\x00\x01\x02"))]),
    }
    for label, data in seeds.items():
        corpus.add("fuzz_h5data_structured", label, data)


# ---- recipes of fuzz_checkpoint_structured.c -------------------------------------------------------

def text(s):
    s = s.encode()
    return bytes([len(s)]) + s


def checkpoint_structured_seeds(corpus):
    seeds = {"unchanged": b""}
    for i, override in enumerate(["train.epochs=3", "model.layers[0].units=5", "optimizer.kind=sgd",
                                  "optimizer.kind=adam", "data.normalize=none", "seed=12", "model.input_size=4",
                                  "train.batch_size=2", "train.drop_last=true", "loss.kind=mse",
                                  "model.layers=[{\"units\": 4}, {\"units\": 4}, {\"units\": 3}]",
                                  "data.train.limit=7"]):
        seeds["set-%02d" % i] = b"\x04\x01" + text(override)
    seeds["set-stale-sha"] = b"\x04\x03" + text("seed=12")
    seeds["config-text"] = b"\x04\x00" + text('{"seed": 1}')
    seeds["config-not-json"] = b"\x04\x00" + text("{")
    for i in range(28):
        seeds["delete-object-%02d" % i] = bytes([2, 0, i])
    for obj in range(0, 28, 3):
        for attr in range(0, 10, 3):
            seeds["delete-attr-%02d-%d" % (obj, attr)] = bytes([2, 1, obj, attr])
    for attr in range(10):  # the root's attributes: an int32 2, a string, a float, an int64 array
        seeds["root-attr-%d-int" % attr] = bytes([0, 0, attr]) + value("int", [], [2])
        seeds["root-attr-%d-vlen" % attr] = bytes([0, 0, attr]) + value("vlen", [], raw=text("detrain-checkpoint"))
        seeds["root-attr-%d-double" % attr] = bytes([0, 0, attr]) + value("double", [], [1])
        seeds["root-attr-%d-array" % attr] = bytes([0, 0, attr]) + value("llong", [3], [1, 2, 3])
    for obj in range(28):  # every attribute: a small int64, then the edges (fuzz_extreme_ints)
        for attr in range(8):
            seeds["attr-%02d-%d" % (obj, attr)] = bytes([0, obj, attr]) + value("llong", [], [3])
            seeds["attr-%02d-%d-max" % (obj, attr)] = bytes([0, obj, attr]) + value("llong", [], [6], extremes=True)
            seeds["attr-%02d-%d-2p62" % (obj, attr)] = bytes([0, obj, attr]) + value("llong", [], [8], extremes=True)
    for ds in range(16):
        seeds["overwrite-%02d" % ds] = bytes([3, ds]) + bytes(64)
        seeds["overwrite-rehash-%02d" % ds] = bytes([3, ds]) + b"\x7f" * 64 + bytes([5, ds])
        seeds["replace-%02d" % ds] = bytes([1, ds, 0]) + value("float", [3, 4], list(range(12))) + bytes([5, ds])
        seeds["replace-double-%02d" % ds] = bytes([1, ds, 2]) + value("f64be", [3], [1, 2, 3])
    for label, data in seeds.items():
        corpus.add("fuzz_checkpoint_structured", label, data)


# ---- checkpoints and run records -------------------------------------------------------------------

def detrain_seeds(corpus, src, detrain, tmp):
    """Checkpoints of one-epoch runs of the tiny configs (mid-epoch ones too)."""
    for config in ("tiny", "tiny-sgd"):
        out = os.path.join(tmp, "run-" + config)
        subprocess.run([detrain, "train", os.path.join(src, "tests/configs", config + ".json"), "--quiet",
                        "--out", out, "--set", "train.epochs=1", "--set", "checkpoint.every_steps=7"],
                       check=True, stdout=subprocess.DEVNULL)
        for name in sorted(os.listdir(out)):
            if name.endswith(".h5"):
                with open(os.path.join(out, name), "rb") as f:
                    data = f.read()
                corpus.add("fuzz_checkpoint", config + "-" + name, data)
                if name == "final.h5":
                    corpus.add("fuzz_h5data", "checkpoint-" + config, data)
                    corpus.add("fuzz_checkpoint", config + "-cut", data[: len(data) * 3 // 4])


def record_seeds(corpus, src):
    for run in ("tiny", "tiny-sgd"):
        folder = os.path.join(src, "tests/golden/runs", run)
        with open(os.path.join(folder, "manifest.json"), "rb") as f:
            manifest = f.read()
        with open(os.path.join(folder, "trace.jsonl"), "rb") as f:
            trace = f.read()
        lines = trace.splitlines(keepends=True)
        corpus.add("fuzz_record", run, manifest + b"\0" + trace)
        corpus.add("fuzz_record", run + "-no-trace", manifest)
        corpus.add("fuzz_record", run + "-short-trace", manifest + b"\0" + b"".join(lines[:3]))
        edited = json.loads(manifest)
        edited["config"]["optimizer"]["lr"] = 0.5
        edited["final"] = None
        del edited["seeds"]
        corpus.add("fuzz_record", run + "-edited", json.dumps(edited).encode() + b"\0" + b"".join(lines[:2]))
        del edited["config"]
        corpus.add("fuzz_record", run + "-no-config", json.dumps(edited).encode() + b"\0")
    minimal = b'{"format": "detrain-manifest/1"}'
    step = b'{"step":1,"epoch":1,"loss":1.56286371,"loss_bits":"3fc80beb","lr_bits":"3b03126e"}\n'
    for label, data in [
        ("minimal", minimal), ("minimal-empty-trace", minimal + b"\0"), ("one-step", minimal + b"\0" + step),
        ("decimal-not-bits", minimal + b"\0" + step.replace(b"1.56286371", b"1.5")),
        ("null-loss", minimal + b"\0" + step.replace(b"1.56286371", b"null").replace(b"3fc80beb", b"7fc00000")),
        ("step-2-first", minimal + b"\0" + step.replace(b'"step":1', b'"step":2')),
        ("bad-bits", minimal + b"\0" + step.replace(b"3fc80beb", b"3fc80bez")),
        ("crlf", minimal + b"\0" + step.replace(b"\n", b"\r\n")),
        ("wrong-format", b'{"format": "detrain-manifest/2"}'), ("not-json", b"{"), ("array", b"[]"),
        ("config-only", b'{"format": "detrain-manifest/1", "config": {"seed": 1}, "config_file": "a/b.json"}'),
    ]:
        corpus.add("fuzz_record", label, data)


def model_ref_seeds(corpus):
    """References as tests/registry.sh uses them, good and bad (fuzz_model_ref's registry has
    spiral/1, spiral/2 and spiral@production)."""
    for label, text in [("version", "spiral/1"), ("alias", "spiral@production"), ("unknown-version", "spiral/7"),
                        ("unknown-alias", "spiral@canary"), ("unknown-name", "nope@production"),
                        ("two-slashes", "spiral/x/1"), ("both", "spiral/1@production"), ("empty-name", "@production"),
                        ("huge-version", "spiral/99999999999999999999999"), ("quote", "spi'ral/1"),
                        ("percent", "spiral@%s%n")]:
        corpus.add("fuzz_model_ref", label, text.encode())


def opdump_seeds(corpus):
    """Op dumps (records/optrace.h) as bisect writes them: digests, some ops with base64 values."""
    def op(name, kind, values, with_values=True):
        raw = struct.pack("<%df" % len(values), *values)
        entry = {"name": name, "kind": kind, "count": len(values), "sha256": hashlib.sha256(raw).hexdigest()}
        if with_values:
            entry["values_base64"] = base64.b64encode(raw).decode()
        return entry

    def dump(steps):
        return json.dumps({"format": "detrain-opdump/1", "meta": {"mode": "portable"}, "steps": steps}).encode()

    ops = [op("layer0.state.weight", "state", [0.5, -0.25, 1e-30, -0.0]),
           op("mb0/2.layer0.linear.z", "linear", [1.0, 2.0, 3.0]),
           op("mb0/2.loss_sum.sum", "loss_sum", [0.75], with_values=False),
           op("update.grad_norm", "grad_norm", [], with_values=True)]
    corpus.add("fuzz_opdump", "two-steps", dump([{"step": 1, "ops": ops}, {"step": 2, "ops": ops[:2]}]))
    corpus.add("fuzz_opdump", "digests-only", dump([{"step": 7, "ops": [op("layer1.gradient.bias", "gradient", [1.5], False)]}]))
    corpus.add("fuzz_opdump", "no-steps", dump([]))
    bad = dict(ops[1], sha256="0" * 64)
    corpus.add("fuzz_opdump", "wrong-digest", dump([{"step": 1, "ops": [bad]}]))
    corpus.add("fuzz_opdump", "short-values", dump([{"step": 1, "ops": [dict(ops[1], count=4)]}]))
    corpus.add("fuzz_opdump", "wrong-format", b'{"format": "detrain-opdump/2", "meta": {}, "steps": []}')
    corpus.add("fuzz_opdump", "not-json", b'{"format": ')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(here)))
    parser.add_argument("--detrain", help="a detrain binary: checkpoint seeds from its runs")
    parser.add_argument("out")
    args = parser.parse_args()
    corpus = Corpus(args.out)
    with tempfile.TemporaryDirectory(prefix="detrain-corpus-") as tmp:
        config_seeds(corpus, args.source_dir)
        idx_seeds(corpus)
        csv_seeds(corpus, args.source_dir)
        npy_seeds(corpus)
        h5data_seeds(corpus, tmp)
        h5data_structured_seeds(corpus)
        checkpoint_structured_seeds(corpus)
        if args.detrain:
            detrain_seeds(corpus, args.source_dir, args.detrain, tmp)
        else:
            print("make_corpus.py: no --detrain: no checkpoint seeds from a run", file=sys.stderr)
        record_seeds(corpus, args.source_dir)
        opdump_seeds(corpus)
        model_ref_seeds(corpus)
        for name in ("tiny", "tiny-sgd"):  # the golden runs' manifests, as `detrain runs` reads them
            with open(os.path.join(args.source_dir, "tests", "golden", "runs", name, "manifest.json"), "rb") as f:
                corpus.add("fuzz_runs", name, f.read())
        corpus.add("fuzz_runs", "empty-object", b"{}")
    corpus.add("fuzz_checkpoint", "not-hdf5", b"\x89HDF\r\n\x1a\n")
    corpus.add("fuzz_selftest", "harmless", b"hello")
    print("make_corpus.py: %s" % ", ".join("%s %d" % (t, corpus.count.get(t, 0)) for t in TARGETS))


if __name__ == "__main__":
    main()
