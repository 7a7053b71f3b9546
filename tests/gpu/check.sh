#!/usr/bin/env bash
# tests/gpu/check.sh — every GPU check in one go (about 5 minutes on an H100/H200; each command
# has its own time limit), ending with a short summary table. Run from the repository root on a
# machine with a GPU:
#
#   here:   cmake -S . -B build-gpu -DCMAKE_CUDA_ARCHITECTURES=90 && cmake --build build-gpu -j
#           ../shared/device/bundle.sh .deps build-gpu/detrain build-gpu/tests/test_cuda_math \
#               build-gpu/tests/test_cuda_kernels
#           mkdir -p .deps/data && cp /usr/share/datasets/fashion-mnist/*.gz .deps/data/
#   there:  bash tests/gpu/check.sh [SECTION...]   (sections: kernels train bench sanitizer,
#                                                   default all; uses .deps/bin with .deps/lib
#                                                   when .deps exists, else build-gpu/...; logs
#                                                   under $OUT or /tmp, run folders in /tmp)
#
# Checks, most telling first: each portable kernel equals the CPU kernel bitwise
# (test_cuda_kernels) and the shared math/Philox headers give the host's bits (test_cuda_math);
# 2 epochs of Fashion-MNIST in portable mode on the GPU give the CPU's digest and per-step
# losses, deterministic mode repeats its digest 3 times, fast mode trains within 0.5 accuracy
# points of portable, the tiny configs in every mode, a run moved from the GPU to the CPU by
# resume (gpu_train.sh); warm step times of every mode from `detrain bench --device cuda`
# (launch-bound and compute-bound shapes, PyTorch beside them when it is importable);
# compute-sanitizer memcheck (portable, deterministic) and racecheck (portable: detrain's own
# kernels only, no cuBLAS) on a short run. NCCL is not checked here: one GPU cannot hold two
# NCCL ranks (NCCL refuses two ranks on one device), and one rank never calls NCCL.
# The table is also written to summary.txt as it grows, so a run cut short still reports.
set -uo pipefail
cd "$(dirname "$0")/../.."
log=${OUT:-/tmp/detrain-gpu-check}
work=/tmp/detrain-gpu-work # run folders: many files, kept out of the logs
rm -rf "$work"
mkdir -p "$log" "$work"
sections=${*:-kernels train bench sanitizer}
want() { [[ " $sections " == *" $1 "* ]]; }
declare -a rows
record() {
    rows+=("$(printf '%-40s %-6s %s' "$1" "$2" "$3")")
    printf '%s\n' "${rows[-1]}" >>"$log/summary.txt"
}
limited() { timeout -k 10 "$@"; } # SECONDS CMD...: CMD, killed after SECONDS
started=$SECONDS

# Programs, and the libraries they need: the bundled ones, then the host's CUDA libraries,
# looked up once (ldconfig's cache, else one bounded search) instead of on every call.
if [ -d .deps/bin ]; then
    bin=.deps/bin
    export LD_LIBRARY_PATH="$PWD/.deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
    bin=build-gpu
    [ -x "$bin/detrain" ] || bin=build
fi
prog() { if [ -x "$bin/$1" ]; then echo "$PWD/$bin/$1"; else echo "$PWD/$bin/tests/$1"; fi; }
missing=()
for lib in $(ldd "$bin/detrain" "$(prog test_cuda_kernels)" 2>/dev/null | awk '/not found/ {print $1}' | sort -u); do
    dir=$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l {print $NF; exit}' | xargs -r dirname)
    if [ -n "$dir" ]; then export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$dir"; else missing+=("$lib"); fi
done
if [ ${#missing[@]} -gt 0 ]; then # one search for all of them
    names=()
    for lib in "${missing[@]}"; do names+=(-o -name "$lib"); done
    found=$(limited 90 find / \( -path /proc -o -path /sys -o -path /dev \) -prune -o \( "${names[@]:1}" \) -print 2>/dev/null)
    for lib in "${missing[@]}"; do
        dir=$(echo "$found" | grep -m1 "/$lib\$" | xargs -r dirname)
        if [ -n "$dir" ]; then export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$dir"
        else record "library $lib" FAIL "not on this machine: detrain cannot start (ldd $bin/detrain)"; fi
    done
fi
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >"$log/env.txt"
detrain() { "$PWD/$bin/detrain" "$@"; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$log/gpu.txt" 2>&1 || true
echo "GPU: $(cat "$log/gpu.txt")"

# Fashion-MNIST: the Debian package's files, else the copy carried in .deps/data.
fm=$PWD/configs/fashion-mnist.json
if [ ! -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ -d .deps/data ]; then
    fm=$log/fashion-mnist.json
    sed "s#/usr/share/datasets/fashion-mnist#$PWD/.deps/data#g" configs/fashion-mnist.json >"$fm"
fi

want kernels && for t in test_cuda_math test_cuda_kernels; do
    rc=0
    limited 120 "$(prog $t)" >"$log/$t.log" 2>&1 || rc=$?
    if [ $rc = 0 ]; then record "$t" PASS "$(tail -1 "$log/$t.log")"
    else record "$t" FAIL "exit $rc, see $t.log: $(grep -m1 -E 'failed|differs|error' "$log/$t.log")"; fi
done

if want train; then
    rc=0
    DETRAIN="$PWD/$bin/detrain" DT_SOURCE_DIR=$PWD DT_TMP=$work/gpu_train DT_FASHION_MNIST_CONFIG=$fm \
        limited 200 bash tests/gpu_train.sh >"$log/gpu_train.log" 2>&1 || rc=$?
    name="gpu_train (portable=CPU, det, fast, tiny x3)"
    if [ $rc = 0 ]; then record "$name" PASS "$(grep -c '^ok' "$log/gpu_train.log") checks"
    else record "$name" FAIL "exit $rc: $(grep -m2 -E 'FAIL|SKIP' "$log/gpu_train.log" | tr '\n' ' ' | head -c 300)"; fi
    grep -E '^(ok|FAIL)' "$log/gpu_train.log" | sed 's/^/    /'
fi

# Warm step times: bench times the training step path after warm-up, every mode side by side,
# and checks each guarantee across the repeats (exit 1 when one did not hold). The launch-bound
# shapes are cross-checked against the CPU; the compute-bound one (4 x 4096, batch 8192) would
# take minutes there, so its portable digest is checked across the GPU repeats only. Fewer and
# shorter repeats than bench's default (5 of 1 s) keep the check within a lent device's minutes.
py=$(command -v python3 || echo /usr/bin/python3)
want bench && for run in "launch-bound:small,medium:--matmul none" "compute-bound:large:--no-cross-check --matmul 4096"; do
    name=${run%%:*} rest=${run#*:}
    sizes=${rest%%:*} extra=${rest#*:}
    rc=0
    limited 150 "$PWD/$bin/detrain" bench --device cuda --sizes "$sizes" --repeats 3 --min-time 0.25 $extra --bench-dir bench \
        --python "$py" --json "$log/bench-$name.json" >"$log/bench-$name.txt" 2>"$log/bench-$name.err" || rc=$?
    if [ $rc = 0 ]; then record "bench $name ($sizes): promises held" PASS "bench-$name.txt"
    else record "bench $name ($sizes)" FAIL "exit $rc: $(grep -m1 -iE 'error|differ|fail' "$log/bench-$name.txt" "$log/bench-$name.err" | head -c 200)"; fi
    grep -E '^cuda ' "$log/bench-$name.txt" | grep -vE ' (fc[0-9]|square) ' | head -14 | sed 's/^/    /'
    grep -E 'portable kernel|cuBLAS|square 4096' "$log/bench-$name.txt" | head -6 | sed 's/^/    /'
    grep -A9 '^work per step' "$log/bench-$name.txt" | sed 's/^/    /' # graphs, kernels, host calls a step
done

short="--set data.train.limit=512 --set data.test.limit=256 --set train.epochs=1 --quiet"
if ! want sanitizer; then :
elif command -v compute-sanitizer >/dev/null; then
    for run in racecheck:portable memcheck:portable memcheck:deterministic; do
        tool=${run%:*} mode=${run#*:}
        rc=0
        # racecheck instruments only detrain's kernels (every one is named *_kernel); memcheck all
        filter=()
        [ "$tool" = racecheck ] && filter=(--kernel-name kns=_kernel)
        limited 90 compute-sanitizer --tool "$tool" "${filter[@]}" --error-exitcode 9 "$PWD/$bin/detrain" train "$fm" \
            --device cuda --mode "$mode" $short --out "$work/san-$tool-$mode" >"$log/sanitizer-$tool-$mode.log" 2>&1 || rc=$?
        if [ $rc = 0 ]; then
            record "compute-sanitizer $tool ($mode)" PASS "$(grep -m1 'ERROR SUMMARY' "$log/sanitizer-$tool-$mode.log")"
        else
            record "compute-sanitizer $tool ($mode)" FAIL "exit $rc: $(grep -m1 -E 'ERROR SUMMARY|rror' "$log/sanitizer-$tool-$mode.log")"
        fi
    done
else
    record "compute-sanitizer" SKIP "not installed"
fi
record "NCCL" SKIP "one GPU: NCCL refuses two ranks on one device, one rank never calls it"

echo
echo "checks took $((SECONDS - started)) s"
printf '%-40s %-6s %s\n' check result detail
printf '%s\n' "${rows[@]}"
printf '%s\n' "${rows[@]}" | grep -q ' FAIL ' && exit 1
exit 0
