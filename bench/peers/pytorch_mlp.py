#!/usr/bin/python3
"""The PyTorch peer of detrain's benchmarks. Needs Debian's python3-torch (and numpy):
run it with /usr/bin/python3.

Two uses:

1. Fashion-MNIST, one JSON line with the samples/s of the training loop alone (data already
   in memory as tensors, like detrain's resident dataset); bench/e2e_vs_pytorch.sh:

     pytorch_mlp.py --threads 2 [--layers 256,128] [--batch 128] [--epochs 1] [--lr 0.001]

2. `detrain bench` (--bench): exactly detrain's benchmark row. The same layer widths (ReLU
   between layers, softmax cross-entropy, Adam), the same synthetic data and the same
   initial parameters, both made from the seed with Philox4x32-10 exactly as detrain makes
   them (bench/synthetic.h, docs/numerics.md "Randomness"; data_sha256 and init_sha256 prove
   it), the same steps (step s trains on rows [(s mod 2) * batch, + batch)). Each repeat
   starts from the initial parameters and a fresh optimizer, runs --warmup steps, then
   --steps timed steps (CPU: perf_counter; GPU: CUDA events), and digests the parameters
   (SHA-256 of float32, layer by layer, weight (out, in) then bias: detrain's layout).

     pytorch_mlp.py --bench --widths 784,256,128,10 --batch 128 --steps 10 --warmup 2 \\
         --repeats 3 --threads 2 --seed 1 --device cpu|cuda [--deterministic] [--lr 0.001] \\
         [--params-out FILE]

   Prints one JSON line: step_seconds (one mean per repeat), digests, max_abs_diff and
   max_ulp between repeats, first and last loss, versions. On failure: {"error": "..."}
   and exit status 3. --deterministic calls torch.use_deterministic_algorithms(True) (set
   CUBLAS_WORKSPACE_CONFIG=:4096:8 for cuBLAS); TF32 is always off. --params-out writes the
   last repeat's final parameters there, raw little-endian float32 in the digest's order
   (detrain bench runs one repeat a process and compares the rounds itself).
"""
import argparse, gzip, hashlib, json, os, struct, sys, time

# ---- Philox4x32-10, as kernels/philox.h and kernels/rng.h -------------------------------
PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
RNG_INIT, RNG_SYNTHETIC = 1, 4
MASK32 = 0xFFFFFFFF


def philox(np, c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on arrays of counters (uint64 arrays holding 32-bit words)."""
    m0, m1 = np.uint64(PHILOX_M0), np.uint64(PHILOX_M1)
    mask, shift = np.uint64(MASK32), np.uint64(32)
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + PHILOX_W0) & MASK32, (k1 + PHILOX_W1) & MASK32
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = (p1 >> shift) ^ c1 ^ np.uint64(k0), p1 & mask, (p0 >> shift) ^ c3 ^ np.uint64(k1), p0 & mask
    return c0, c1, c2, c3


def rng_key(np, seed, purpose, index):
    """dt_rng_key: the first two words of Philox({purpose, index, 0, 0}, {seed lo, seed hi})."""
    one = lambda v: np.array([v], dtype=np.uint64)
    w = philox(np, one(purpose), one(index), one(0), one(0), seed & MASK32, (seed >> 32) & MASK32)
    return int(w[0][0]), int(w[1][0])


def uniforms(np, key, n, chunk=1 << 22):
    """dt_rng_init_uniform for elements 0 .. n-1: (word0 >> 8) * 2^-24 as float32."""
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, chunk):
        e = np.arange(start, min(n, start + chunk), dtype=np.uint64)
        zero = np.zeros_like(e)
        w0 = philox(np, e & np.uint64(MASK32), e >> np.uint64(32), zero, zero, key[0], key[1])[0]
        out[start:start + len(e)] = (w0 >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)
    return out


def synthetic(np, seed, n_samples, n_features, n_classes):
    """bench/synthetic.c: x = 2u - 1; label = argmax of the first min(classes, features) features."""
    x = np.float32(2.0) * uniforms(np, rng_key(np, seed, RNG_SYNTHETIC, 0), n_samples * n_features) - np.float32(1.0)
    x = x.reshape(n_samples, n_features)
    labels = np.argmax(x[:, :min(n_classes, n_features)], axis=1)  # first maximum on ties, as detrain
    return x, labels.astype(np.int64)


def he_uniform(np, seed, widths):
    """dt_net_init_params with he_uniform: w = (2u - 1) * sqrtf(6 / fan_in), biases 0."""
    params = []
    for l in range(len(widths) - 1):
        n_in, n_out = widths[l], widths[l + 1]
        u = uniforms(np, rng_key(np, seed, RNG_INIT, 2 * l), n_in * n_out)
        limit = np.sqrt(np.float32(6.0) / np.float32(n_in))
        params.append(((np.float32(2.0) * u - np.float32(1.0)) * limit).reshape(n_out, n_in))
        params.append(np.zeros(n_out, dtype=np.float32))
    return params


def ordered(np, a):
    """Floats on one integer line ordered like the floats (dt_ulp_distance)."""
    bits = a.view(np.uint32).astype(np.int64)
    return np.where(bits >= 0x80000000, -(bits & 0x7FFFFFFF) - 1, bits)


def bench(args):
    try:
        import numpy as np
        import torch
    except Exception as e:  # no torch or numpy: say so in one line
        return fail("cannot import the peer's modules: %s (apt-get install python3-torch python3-numpy)" % e)
    widths = [int(w) for w in args.widths.split(",")]
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            return fail("PyTorch %s sees no CUDA device" % torch.__version__)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    if args.deterministic:
        torch.use_deterministic_algorithms(True)
    device = torch.device(args.device)
    x_np, y_np = synthetic(np, args.seed, 2 * args.batch, widths[0], widths[-1])
    init = he_uniform(np, args.seed, widths)
    data_sha = hashlib.sha256(x_np.tobytes()).hexdigest()
    init_sha = hashlib.sha256(b"".join(p.tobytes() for p in init)).hexdigest()
    x = torch.from_numpy(x_np).to(device)
    y = torch.from_numpy(y_np).to(device)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    loss_fn = torch.nn.CrossEntropyLoss()
    n_params = sum(p.size for p in init)
    step_seconds, digests, first_loss, last_loss = [], [], None, None
    lo = hi = None
    for r in range(args.repeats):
        with torch.no_grad():
            for l, lin in enumerate(linears):
                lin.weight.copy_(torch.from_numpy(init[2 * l]))
                lin.bias.copy_(torch.from_numpy(init[2 * l + 1]))
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        total = args.warmup + args.steps
        for s in range(total):
            if s == args.warmup:
                if args.device == "cuda":
                    torch.cuda.synchronize()
                    start_event = torch.cuda.Event(enable_timing=True)
                    end_event = torch.cuda.Event(enable_timing=True)
                    start_event.record()
                else:
                    t0 = time.perf_counter()
            rows = slice((s % 2) * args.batch, (s % 2 + 1) * args.batch)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[rows]), y[rows])
            loss.backward()
            opt.step()
            if r == 0 and s == 0:
                first_loss = float(loss)
        if args.device == "cuda":
            end_event.record()
            torch.cuda.synchronize()
            seconds = start_event.elapsed_time(end_event) * 1e-3
        else:
            seconds = time.perf_counter() - t0
        step_seconds.append(seconds / args.steps)
        if r == 0:
            last_loss = float(loss)
        flat = np.concatenate([t.detach().cpu().numpy().reshape(-1)
                               for lin in linears for t in (lin.weight, lin.bias)]).astype(np.float32)
        digests.append(hashlib.sha256(flat.tobytes()).hexdigest())
        if args.params_out and r == args.repeats - 1:
            with open(args.params_out, "wb") as out:
                out.write(flat.astype("<f4").tobytes())
        if lo is None:
            lo, hi = flat.copy(), flat.copy()
        else:
            lo = np.where(ordered(np, flat) < ordered(np, lo), flat, lo)
            hi = np.where(ordered(np, flat) > ordered(np, hi), flat, hi)
    ulp = ordered(np, hi) - ordered(np, lo)
    print(json.dumps({
        "peer": "pytorch", "version": torch.__version__, "numpy": np.__version__,
        "python": sys.version.split()[0], "device": args.device,
        "device_name": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "deterministic": bool(args.deterministic), "tf32": False, "widths": widths, "batch": args.batch,
        "steps": args.steps, "warmup": args.warmup, "repeats": args.repeats, "parameters": int(n_params),
        "step_seconds": step_seconds, "digests": digests,
        "max_abs_diff": float(np.max(np.abs(hi.astype(np.float64) - lo.astype(np.float64)))) if n_params else 0.0,
        "max_ulp": int(ulp.max()) if n_params else 0,
        "first_loss": first_loss, "last_loss": last_loss, "data_sha256": data_sha, "init_sha256": init_sha,
    }))
    return 0


def fail(message):
    print(json.dumps({"peer": "pytorch", "error": message}))
    return 3


# ---- Fashion-MNIST, one epoch (bench/e2e_vs_pytorch.sh) ---------------------------------

def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def fashion_epoch(args):
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    shape, images = load_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
    _, labels = load_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))
    n, features = shape[0], shape[1] * shape[2]
    x = torch.frombuffer(bytearray(images), dtype=torch.uint8).reshape(n, features).float() / 255.0
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    sizes = [features] + [int(u) for u in args.layers.split(",")] + [10]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    seen, start = 0, time.perf_counter()
    for epoch in range(args.epochs):
        perm = torch.randperm(n)
        for s in range(0, n, args.batch):
            idx = perm[s:s + args.batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            seen += len(idx)
    elapsed = time.perf_counter() - start
    print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
                      "samples": seen, "seconds": elapsed, "samples_per_s": seen / elapsed,
                      "final_loss": float(loss)}))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--layers", default="256,128", help="Fashion-MNIST: hidden layer widths")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--bench", action="store_true", help="detrain bench's row (see the module's help)")
    ap.add_argument("--widths", default="784,256,128,10", help="bench: every layer width, input to output")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--deterministic", action="store_true")
    ap.add_argument("--params-out", help="bench: the last repeat's final parameters (float32) to this file")
    args = ap.parse_args()
    if args.bench:
        try:
            return bench(args)
        except Exception as e:  # one line for the report, not a traceback
            return fail("%s: %s" % (type(e).__name__, e))
    return fashion_epoch(args)


if __name__ == "__main__":
    sys.exit(main())
