#!/usr/bin/env python3
"""safetensors_check.py — a file of `detrain export --format safetensors` against the checkpoint it
came from, with the Python standard library and h5py only (no safetensors package): the format
(u64 little-endian header length, a JSON header padded with spaces to 8 bytes, data offsets
[begin, end) relative to the data section covering it without holes), PyTorch nn.Linear names,
shapes and dtypes, every tensor's bytes equal to the checkpoint's, and the metadata (version,
digests, architecture, normalization). Prints each problem and exits 1, or says what it checked.

usage: safetensors_check.py CHECKPOINT.h5 FILE.safetensors
"""
import json
import struct
import sys

import h5py


def float_bits(value):
    """The bits of a float32 as 8 hex digits, as detrain writes them."""
    return struct.pack("<f", value)[::-1].hex()


def main():
    checkpoint, path = sys.argv[1], sys.argv[2]
    problems = []
    raw = open(path, "rb").read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    if header_len % 8:
        problems.append(f"header length {header_len} is not a multiple of 8")
    header_bytes = raw[8:8 + header_len]
    if not header_bytes.startswith(b"{") or header_bytes.rstrip(b" ") != header_bytes.rstrip():
        problems.append("the header does not start with '{' or is padded with something else than spaces")
    header = json.loads(header_bytes.decode("utf-8"))
    data = raw[8 + header_len:]
    meta = header.pop("__metadata__", None)

    with h5py.File(checkpoint, "r") as f:
        config = json.loads(f.attrs["config"])
        layers = config["model"]["layers"]
        expect = {}  # name: (dtype, shape, little-endian bytes)
        for l in range(len(layers)):
            for part in ("weight", "bias"):
                values = f[f"params/dense{l}/{part}"][()]
                expect[f"layers.{l}.{part}"] = ("F32", list(values.shape), values.astype("<f4").tobytes())
        if config["data"]["normalize"] == "standardize":
            for part in ("mean", "std"):
                values = f[f"normalization/{part}"][()]
                expect[f"normalize.{part}"] = ("F64", list(values.shape), values.astype("<f8").tobytes())
        params_sha256 = f.attrs["params_sha256"]
        params_sha256 = params_sha256.decode() if isinstance(params_sha256, bytes) else params_sha256
        config_sha256 = f.attrs["config_sha256"]
        config_sha256 = config_sha256.decode() if isinstance(config_sha256, bytes) else config_sha256

    if set(header) != set(expect):
        problems.append(f"tensors {sorted(header)}, expected {sorted(expect)}")
    spans = []
    for name, entry in header.items():
        if name not in expect:
            continue
        dtype, shape, values = expect[name]
        begin, end = entry["data_offsets"]
        spans.append((begin, end, name))
        if entry["dtype"] != dtype or entry["shape"] != shape:
            problems.append(f"{name}: {entry['dtype']} {entry['shape']}, expected {dtype} {shape}")
        if data[begin:end] != values:
            problems.append(f"{name}: its bytes differ from the checkpoint's")
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            problems.append(f"{name}: starts at {begin}, the previous tensor ends at {position} (a hole or an overlap)")
        position = end
    if position != len(data):
        problems.append(f"the tensors end at {position}, the data section has {len(data)} bytes")

    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        problems.append(f"__metadata__ is not a string -> string map: {meta!r}")
        meta = {}
    wanted = {
        "format": "pt",
        "params_sha256": params_sha256,
        "config_sha256": config_sha256,
        "input_size": str(config["model"]["input_size"]),
        "loss": config["loss"]["kind"],
        "normalize": config["data"]["normalize"],
    }
    if config["data"]["normalize"] == "scale":
        wanted["scale_bits"] = float_bits(config["data"]["scale"])
        wanted["shift_bits"] = float_bits(config["data"]["shift"])
    for key, value in wanted.items():
        if meta.get(key) != value:
            problems.append(f"__metadata__.{key} is {meta.get(key)!r}, expected {value!r}")
    if not meta.get("detrain_version"):
        problems.append("__metadata__ has no detrain_version")
    if "scale" in wanted and float_bits(float(meta.get("scale", "nan"))) != wanted["scale_bits"]:
        problems.append(f"__metadata__.scale {meta.get('scale')!r} does not round-trip to the float")
    recorded_layers = json.loads(meta.get("layers", "[]"))
    if [(l["units"], l["activation"]) for l in recorded_layers] != [(l["units"], l["activation"]) for l in layers]:
        problems.append(f"__metadata__.layers is {recorded_layers}, the config has {layers}")

    for p in problems:
        print("FAIL:", p)
    print(f"safetensors_check: {len(header)} tensors, {len(data)} data bytes, {len(meta)} metadata keys; "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
