#!/usr/bin/env bash
# runs_bench.sh — how fast `detrain runs` lists, filters and rescans many runs (issue 13's
# targets: 10 000 runs listed and filtered in under 0.5 s, a rescan of 10 000 folders in under
# 30 s). Makes N run folders from one real manifest (varied run id, experiment, learning rate,
# accuracy, status), then times: the first listing (which builds the index), a rescan, a
# listing of all runs, a filtered and sorted one, and a listing after 100 folders changed.
#
#   bash bench/runs_bench.sh [--runs N] [--detrain PATH] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
n=10000 detrain=build/detrain keep=0
while [ $# -gt 0 ]; do
    case $1 in
    --runs) n=$2; shift 2 ;;
    --detrain) detrain=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: bash bench/runs_bench.sh [--runs N] [--detrain PATH] [--keep]" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d /tmp/detrain-runs-bench-XXXXXX)
[ $keep = 1 ] || trap 'rm -rf "$work"' EXIT
"$detrain" train configs/fashion-mnist.json --set data.train.limit=1000 --set data.test.limit=200 --set train.epochs=10 \
    --quiet --out "$work/seed" >/dev/null
/usr/bin/python3 - "$work" "$n" <<'PY'
import json, os, random, sys
work, n = sys.argv[1], int(sys.argv[2])
seed = json.load(open(os.path.join(work, "seed", "manifest.json")))
rng = random.Random(1)
root = os.path.join(work, "checkpoints")
os.makedirs(root)
for i in range(n):
    m = json.loads(json.dumps(seed))
    m["run_id"] = "20261129T%06dZ-%08x" % (i % 240000, i)
    m["experiment"] = "exp%d" % (i % 20)
    m["status"] = rng.choice(["completed"] * 8 + ["failed", "interrupted"])
    m["config"]["optimizer"]["lr"] = rng.choice([0.001, 0.003, 0.01, 0.03])
    m["final"]["test_accuracy"] = round(rng.uniform(0.7, 0.9), 4)
    d = os.path.join(root, "run-%05d" % i)
    os.makedirs(d)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(m, f, indent=1)
PY
time_it() { # LABEL ARGS...: wall seconds of `detrain runs ARGS` (stdout discarded)
    local label=$1 start end
    shift
    start=$(date +%s.%N)
    "$detrain" runs --root "$work/checkpoints" "$@" >/dev/null
    end=$(date +%s.%N)
    printf '%-58s %8.3f s\n' "$label" "$(echo "$end - $start" | bc)"
}
echo "detrain runs on $n run folders ($(du -sh "$work/checkpoints" | cut -f1) of manifests), $(nproc) cores"
time_it "first listing (builds the index from every folder)"
time_it "rescan (--rescan: rebuilds it from every folder)" --rescan
time_it "list all runs" 
time_it "filter and sort: --where lr=0.001 --sort -accuracy --limit 20" \
    --where config.optimizer.lr=0.001 --sort -final.test_accuracy --limit 20
time_it "filter: --experiment exp3 --status completed" --experiment exp3 --status completed
time_it "filter: --where final.test_accuracy>0.88 --json" --where 'final.test_accuracy>0.88' --json
for i in $(seq 0 99); do touch "$work/checkpoints/run-$(printf %05d $((i * 97)))/manifest.json"; done
time_it "list after 100 manifests changed (re-reads those 100)"
