#!/usr/bin/python3
"""The PyTorch peer: trains the same MLP as detrain (784-256-128-10 by default, ReLU,
softmax cross-entropy, Adam, batch 128) for one epoch of Fashion-MNIST with a fixed
thread count, and prints one JSON line with samples/s of the training loop alone
(data already in memory as tensors, like detrain's resident dataset).

Usage: bench/peers/pytorch_mlp.py --threads 2 [--layers 256,128] [--batch 128] [--epochs 1]
Needs Debian's python3-torch (run with /usr/bin/python3)."""
import argparse, gzip, json, os, struct, sys, time

def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--layers", default="256,128")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
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

if __name__ == "__main__":
    sys.exit(main())
