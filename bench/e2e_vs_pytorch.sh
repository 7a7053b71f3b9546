#!/usr/bin/env bash
# e2e_vs_pytorch.sh — one epoch of Fashion-MNIST, 784-256-128-10 ReLU, batch 128, Adam,
# in detrain and in PyTorch (Debian's python3-torch) with the same thread count, in one
# run. Prints samples/s of each training loop (data resident in memory, evaluation not
# counted) and the ratio. Each side: best of R runs. PyTorch gets its better OpenMP wait
# policy (default or PASSIVE: on a 2-core VM the default spin policy can be 10x slower).
# Usage: bench/e2e_vs_pytorch.sh [--threads T] [--repeats R] [--build DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
threads=$(nproc)
repeats=3
build=$here/../build
while [ $# -gt 0 ]; do
    case $1 in
    --threads) threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: $0 [--threads T] [--repeats R] [--build DIR]" >&2; exit 2 ;;
    esac
done
detrain=$build/detrain
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

best() { sort -g | tail -1; }

for r in $(seq "$repeats"); do
    "$detrain" train "$here/configs/fmnist-mlp.json" --threads "$threads" --quiet --out "$tmp/run$r" >/dev/null
    /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['epochs'][0]['samples_per_s'])" \
        "$tmp/run$r/manifest.json"
done >"$tmp/detrain.txt"

torch_ok=1
/usr/bin/python3 -c "import torch" 2>/dev/null || torch_ok=0
if [ "$torch_ok" = 1 ]; then
    for r in $(seq "$repeats"); do
        for policy in default PASSIVE; do
            if [ $policy = default ]; then env -u OMP_WAIT_POLICY /usr/bin/python3 "$here/peers/pytorch_mlp.py" --threads "$threads"
            else OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$here/peers/pytorch_mlp.py" --threads "$threads"; fi
        done
    done | /usr/bin/python3 -c "import json,sys; [print(json.loads(l)['samples_per_s']) for l in sys.stdin]" >"$tmp/torch.txt"
fi

d=$(best <"$tmp/detrain.txt")
echo "end-to-end, 1 epoch Fashion-MNIST, 784-256-128-10, batch 128, Adam, $threads thread(s), best of $repeats"
printf '%-10s %14s\n' "engine" "samples/s"
printf '%-10s %14.0f\n' detrain "$d"
if [ "$torch_ok" = 1 ]; then
    t=$(best <"$tmp/torch.txt")
    printf '%-10s %14.0f\n' pytorch "$t"
    /usr/bin/python3 -c "import sys; print('ratio detrain/pytorch: %.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$d" "$t"
else
    echo "pytorch: not importable (apt-get install python3-torch); no ratio"
fi
