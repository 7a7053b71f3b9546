#!/usr/bin/env python3
"""check_export.py — a model exported by `detrain export` computes what detrain computes.

Loads the checkpoint's test set as detrain's loader does (IDX: the raw uint8 values as float32,
no scaling; CSV: every column but the label, as float32), runs the ONNX file in ONNX Runtime
and the safetensors file in PyTorch (the module of README.md's "Export" section, verbatim),
and checks them against detrain's own figures: the count of correct classes equals `detrain
eval`'s exactly, and every probability (classifiers) or output (regression) is within 1e-5 of
`detrain predict`'s CSV. Prints the figures; exits 1 when a check fails.

usage: check_export.py CHECKPOINT.h5 MODEL.onnx MODEL.safetensors EVAL_STDOUT PREDICT.csv
"""
import csv
import gzip
import json
import re
import struct
import sys

import h5py
import numpy as np
import onnxruntime as ort
import torch
from safetensors import safe_open
from safetensors.torch import load_file

TOLERANCE = 1e-5


def read_idx(path):
    """An IDX file's values (uint8) with its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def load_test_set(source, input_size):
    """features float32 (N, input_size) before normalization, labels int64 (N): data.test of the
    checkpoint's config, as host/data reads it."""
    limit = source.get("limit", 0)
    if source["format"] == "idx":
        images, labels = read_idx(source["path"]), read_idx(source["labels"])
        features = images.reshape(images.shape[0], -1).astype(np.float32)  # the loader does not scale
    elif source["format"] == "csv":
        with open(source["path"], newline="") as f:
            rows = list(csv.reader(f))
        names = rows.pop(0) if source.get("header", True) else None
        named = names and source["label_column"] in names
        column = names.index(source["label_column"]) if named else int(source["label_column"])
        labels = np.array([float(r[column]) for r in rows], dtype=np.float64).astype(np.int64)
        features = np.array([[float(v) for i, v in enumerate(r) if i != column] for r in rows], dtype=np.float32)
    else:
        raise ValueError(f"format {source['format']} is not handled here")
    if limit:
        features, labels = features[:limit], labels[:limit]
    assert features.shape[1] == input_size, (features.shape, input_size)
    return features, labels


# ---- README.md, "Export": the PyTorch lines, verbatim but for the path and x ------------------
def pytorch_model(path):
    """The safetensors file as an nn.Module, with the normalization it was trained with."""
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    tensors = load_file(path)
    mean, std = tensors.pop("normalize.mean", None), tensors.pop("normalize.std", None)
    ACTIVATIONS = {"identity": torch.nn.Identity, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh,
                   "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU}  # GELU: the exact erf form

    class MLP(torch.nn.Module):
        def __init__(self, input_size, layers):
            super().__init__()
            sizes = [input_size] + [layer["units"] for layer in layers]
            self.layers = torch.nn.ModuleList(torch.nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes, sizes[1:]))
            self.activations = torch.nn.ModuleList(ACTIVATIONS[layer["activation"]]() for layer in layers)

        def forward(self, x):
            for linear, activation in zip(self.layers, self.activations):
                x = activation(linear(x))
            return x

    model = MLP(int(meta["input_size"]), json.loads(meta["layers"]))
    model.load_state_dict(tensors, strict=True)  # layers.0.weight (out, in), layers.0.bias, ...
    model.eval()

    def normalize(x):  # x: float32 (N, input_size), the features as detrain's data loader gives them
        if meta["normalize"] == "scale":  # two float32 operations, as detrain does
            return x * float(meta["scale"]) + float(meta["shift"])
        if meta["normalize"] == "standardize":  # in double, as detrain does
            return ((x.double() - mean) / std).float()
        return x

    return model, normalize, meta
# ---- end of the README's lines ----------------------------------------------------------------


def main():
    checkpoint, onnx_path, safetensors_path, eval_stdout, predict_csv = sys.argv[1:6]
    with h5py.File(checkpoint, "r") as f:
        config = json.loads(f.attrs["config"])
    classifier = config["loss"]["kind"] == "softmax_cross_entropy"
    x, labels = load_test_set(config["data"]["test"], config["model"]["input_size"])

    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    onnx_out = session.run(["probabilities" if classifier else "outputs"], {"input": x})[0]

    model, normalize, meta = pytorch_model(safetensors_path)
    with torch.no_grad():
        y = model(normalize(torch.from_numpy(x)))
        torch_out = (torch.softmax(y, dim=-1) if classifier else y).numpy()

    with open(predict_csv, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    first = 2 if classifier else 1  # index[, class], p0.. or y0..
    detrain_out = np.array([[float(v) for v in r[first:]] for r in rows], dtype=np.float64)
    assert detrain_out.shape == onnx_out.shape == torch_out.shape, (detrain_out.shape, onnx_out.shape, torch_out.shape)

    failures = 0
    layers = " -> ".join(f"{l['units']} {l['activation']}" for l in config["model"]["layers"])
    print(f"{config['data']['test']['path']}: {len(x)} samples; model {config['model']['input_size']} -> {layers}, "
          f"normalize {config['data']['normalize']}, loss {config['loss']['kind']}")
    recorded = session.get_modelmeta().custom_metadata_map.get("params_sha256")
    if recorded != meta["params_sha256"]:
        print(f"  FAIL: the ONNX metadata's params_sha256 {recorded} is not the safetensors' {meta['params_sha256']}")
        failures += 1
    if classifier:
        m = re.search(r"accuracy +([0-9.]+) \((\d+) of (\d+)\)", open(eval_stdout).read())
        detrain_correct, n = int(m.group(2)), int(m.group(3))
        assert n == len(x), (n, len(x))
        print(f"  {'detrain eval':<12} accuracy {detrain_correct / n:.4f} ({detrain_correct} of {n})")
        predicted = np.array([int(r[1]) for r in rows])
    for runtime, out in (("onnxruntime", onnx_out), ("pytorch", torch_out)):
        diff = float(np.max(np.abs(out.astype(np.float64) - detrain_out)))
        ok = diff <= TOLERANCE
        figures = f"max |{'probability' if classifier else 'output'} - detrain predict's| {diff:.3g}"
        if classifier:
            classes = np.argmax(out, axis=1)
            correct, agree = int(np.sum(classes == labels)), int(np.sum(classes == predicted))
            figures = (f"accuracy {correct / len(x):.4f} ({correct} of {len(x)}), "
                       f"{agree} classes as predict's, " + figures)
            ok = ok and correct == detrain_correct
        print(f"  {runtime:<12} {figures}" + ("" if ok else "  FAIL"))
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
