"""Reads a detrain checkpoint with h5py alone (no detrain code) and checks it.

usage: /usr/bin/python3 tests/h5py_check.py CHECKPOINT.h5 [MANIFEST.json]

Checks: the format attributes; every tensor's SHA-256 (of its little-endian bytes) against
its sha256 attribute; the weight shapes (out, in) against the stored config; the parameter
digest (layer by layer, weights then bias, little-endian float32) against params_sha256;
and, with a manifest, the checkpoint's entry there (parameter digest and file SHA-256).
Prints one line per check; exits 0 when all hold, 1 otherwise.
"""
import hashlib
import json
import os
import sys

import h5py
import numpy as np

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def main():
    path = sys.argv[1]
    manifest_path = sys.argv[2] if len(sys.argv) > 2 else None
    with h5py.File(path, "r") as f:
        check(f.attrs["format"] == "detrain-checkpoint", "format attribute")
        check(int(f.attrs["format_version"]) == 1, "format_version 1")
        tensors = []
        f.visititems(lambda name, obj: tensors.append(name) if isinstance(obj, h5py.Dataset) else None)
        check(len(tensors) > 0, "%d tensors" % len(tensors))
        for name in tensors:
            ds = f[name]
            data = ds[()]
            little = data.astype(data.dtype.newbyteorder("<"), copy=False)
            digest = hashlib.sha256(little.tobytes()).hexdigest()
            check(digest == ds.attrs["sha256"], "%s %s %s sha256 %s" % (name, ds.shape, ds.dtype, digest[:16]))
        config = json.loads(f.attrs["config"])
        check(hashlib.sha256(f.attrs["config"].encode()).hexdigest() == f.attrs["config_sha256"], "config_sha256")
        params = hashlib.sha256()
        n_in = config["model"]["input_size"]
        for index, layer in enumerate(config["model"]["layers"]):
            group = f["params/dense%d" % index]
            weight, bias = group["weight"][()], group["bias"][()]
            check(weight.shape == (layer["units"], n_in), "params/dense%d/weight shape (out, in) = %s" % (index, weight.shape))
            params.update(np.asarray(weight, dtype="<f4").tobytes())
            params.update(np.asarray(bias, dtype="<f4").tobytes())
            n_in = layer["units"]
        digest = params.hexdigest()
        check(digest == f.attrs["params_sha256"], "parameter digest %s equals params_sha256" % digest[:16])
        step = int(f["progress"].attrs["step"])
        check(f["trace/loss"].shape == (step,), "trace/loss holds the %d steps so far" % step)
    if manifest_path:
        with open(manifest_path) as m:
            manifest = json.load(m)
        name = os.path.basename(path)
        entries = [c for c in manifest.get("checkpoints", []) if c["file"] == name]
        check(len(entries) == 1, "the manifest lists %s" % name)
        if entries:
            check(entries[0]["params_sha256"] == digest, "the manifest's params_sha256 for %s" % name)
            with open(path, "rb") as raw:
                file_digest = hashlib.sha256(raw.read()).hexdigest()
            check(entries[0]["sha256"] == file_digest, "the manifest's file sha256 for %s" % name)
            check(entries[0]["step"] == step, "the manifest's step for %s" % name)
        if name == "final.h5":
            check(manifest["final"]["params_sha256"] == digest, "final.h5 holds the final params_sha256")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
