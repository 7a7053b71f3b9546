#!/usr/bin/env bash
# tracking_bench.sh — what MLflow tracking costs a training run (issue 14's figure): the same
# 10-epoch Fashion-MNIST run untracked, tracked to a live local `mlflow server` (SQLite backend
# store, artifact proxy), and tracked to an unreachable server, in one session; each variant
# ROUNDS times, interleaved, the median wall time and the ratios to untracked. Every run must
# give the untracked parameter digest. Then lists what MLflow's client returns for the tracked
# run (tests/python/check_mlflow.py describe).
#
#   bash bench/tracking_bench.sh [--rounds N] [--epochs N] [--detrain PATH] [--python PATH]
# --python: a Python with mlflow (default build/pyenv/bin/python, made by tests/pyenv.sh build).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 epochs=10 detrain=build/detrain python=build/pyenv/bin/python
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --detrain) detrain=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) echo "usage: bash bench/tracking_bench.sh [--rounds N] [--epochs N] [--detrain PATH] [--python PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$python" ] || { echo "tracking_bench: no Python with mlflow at $python (bash tests/pyenv.sh build)" >&2; exit 2; }
work=$(mktemp -d /tmp/detrain-tracking-bench-XXXXXX)
server=""
trap '[ -n "$server" ] && kill -9 -- "-$server" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) dead=$(free_port)
setsid "$(dirname "$python")/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
    --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$work/artifacts" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.5; done
curl -s --max-time 60 "http://127.0.0.1:$port/api/2.0/mlflow/experiments/get-by-name?experiment_name=warm-up" >/dev/null

args=(configs/fashion-mnist.json --set train.epochs="$epochs" --quiet)
declare -A times epochs_ms
want=""
for round in $(seq 1 "$rounds"); do
    for variant in untracked live unreachable; do
        case $variant in
        untracked) extra=() ;;
        live) extra=(--mlflow "http://127.0.0.1:$port") ;;
        unreachable) extra=(--mlflow "http://127.0.0.1:$dead") ;;
        esac
        out=$work/$variant-$round
        start=$(date +%s%N)
        env -u MLFLOW_TRACKING_URI "$detrain" train "${args[@]}" "${extra[@]}" --out "$out" >"$out.out" 2>"$out.err"
        ms=$((($(date +%s%N) - start) / 1000000))
        digest=$(sed -n 's/^params_sha256 //p' "$out.out")
        [ -n "$want" ] || want=$digest
        [ "$digest" = "$want" ] || { echo "tracking_bench: $variant changed the digest: $digest, not $want" >&2; exit 1; }
        # The loop's own time: the epochs' seconds as the manifest records them.
        loop=$(/usr/bin/python3 -c 'import json,sys; print(round(1000 * sum(e["seconds"] for e in json.load(open(sys.argv[1]))["epochs"])))' "$out/manifest.json")
        times[$variant]="${times[$variant]:-} $ms"
        epochs_ms[$variant]="${epochs_ms[$variant]:-} $loop"
        echo "round $round $variant: $ms ms, epochs $loop ms$(grep -h 'warning' "$out.err" | sed 's/^/ (/; s/$/)/' | head -c 100)"
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
base=$(echo "${times[untracked]}" | median) base_loop=$(echo "${epochs_ms[untracked]}" | median)
echo
echo "Fashion-MNIST, $epochs epochs, median of $rounds: all runs gave params_sha256 $want"
echo "  variant        wall (ratio)            the epochs' own time (ratio, per epoch)"
for variant in untracked live unreachable; do
    m=$(echo "${times[$variant]}" | median) l=$(echo "${epochs_ms[$variant]}" | median)
    awk -v v="$variant" -v m="$m" -v b="$base" -v l="$l" -v bl="$base_loop" -v e="$epochs" \
        'BEGIN {printf "  %-12s %7d ms (%.3f)   %7d ms (%.3f, %+.1f ms per epoch)\n", v, m, m / b, l, l / bl, (l - bl) / e}'
done
echo
"$python" tests/python/check_mlflow.py describe "http://127.0.0.1:$port" "$work/live-1"
