#!/usr/bin/env bash
# tests/gpu/check.sh — every GPU check in one go (< 8 minutes on an H100/H200), ending with a
# short summary table. Run from the repository root on a machine with a GPU:
#
#   here:   cmake -S . -B build-gpu -DCMAKE_CUDA_ARCHITECTURES=90 && cmake --build build-gpu -j
#           ../shared/device/bundle.sh .deps build-gpu/detrain build-gpu/tests/test_cuda_math \
#               build-gpu/tests/test_cuda_kernels
#   there:  bash tests/gpu/check.sh            (uses .deps/run .deps/bin/... when .deps exists,
#                                               else build-gpu/...; logs under $OUT or /tmp)
#
# Checks: each portable kernel equals the CPU kernel bitwise (test_cuda_kernels) and the
# shared math/Philox headers give the host's bits (test_cuda_math); 2 epochs of
# Fashion-MNIST in portable mode on the GPU give the CPU's digest and per-step losses,
# deterministic mode repeats its digest 3 times, fast mode trains within 0.5 accuracy
# points of portable, the tiny configs (dropout, clipping, SGD/Nesterov, MSE, tanh/sigmoid/
# GELU, microbatches) in every mode, a run moved from the GPU to the CPU by resume
# (gpu_train.sh); compute-sanitizer memcheck and racecheck are clean on a short run; step
# time of each mode for the default model and a wide one (4 x 4096). What CI proves on the
# CPU instead (tests/cudaemu) is in the README's GPU section; this is what needs hardware:
# the real device and its code generation, cuBLAS itself, NCCL, speed.
set -uo pipefail
cd "$(dirname "$0")/../.."
log=${OUT:-/tmp/detrain-gpu-check}
mkdir -p "$log"
if [ -x .deps/run ]; then
    runner=(.deps/run)
    bin=.deps/bin
else
    runner=()
    bin=build-gpu
    [ -x "$bin/detrain" ] || bin=build
fi
detrain() { "${runner[@]}" "$bin/detrain" "$@"; }
prog() { # NAME: path of a test program
    if [ -x "$bin/$1" ]; then echo "$bin/$1"; else echo "$bin/tests/$1"; fi
}
declare -a rows
record() { rows+=("$(printf '%-34s %-6s %s' "$1" "$2" "$3")"); }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$log/gpu.txt" 2>&1 || true
echo "GPU: $(cat "$log/gpu.txt")"

for t in test_cuda_math test_cuda_kernels; do
    if "${runner[@]}" "$(prog $t)" >"$log/$t.log" 2>&1; then record "$t" PASS "$(tail -1 "$log/$t.log")"
    else record "$t" FAIL "see $t.log: $(grep -m1 -E 'failed|differs' "$log/$t.log")"; fi
done

cat >"$log/detrain-wrapper" <<WRAP
#!/usr/bin/env bash
exec ${runner[*]} $PWD/$bin/detrain "\$@"
WRAP
chmod +x "$log/detrain-wrapper"
if DETRAIN="$log/detrain-wrapper" DT_SOURCE_DIR=$PWD DT_TMP=$log/gpu_train bash tests/gpu_train.sh >"$log/gpu_train.log" 2>&1; then
    record "gpu_train (portable=CPU, det, fast, tiny x3)" PASS "$(grep -c '^ok' "$log/gpu_train.log") checks"
else
    record "gpu_train (portable=CPU, det, fast, tiny x3)" FAIL "$(grep -m2 FAIL "$log/gpu_train.log" | tr '\n' ' ')"
fi
grep -E '^(ok|FAIL)' "$log/gpu_train.log" | sed 's/^/    /'

short="--set data.train.limit=2000 --set data.test.limit=500 --set train.epochs=1 --quiet"

# One GPU rank under mpirun (NCCL build) = the same run without MPI.
if command -v mpirun >/dev/null; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    m2="--set train.microbatches=2 --device cuda --mode portable"
    a=$(detrain train configs/fashion-mnist.json $short $m2 --out "$log/mpi-none" 2>&1 | sed -n 's/^params_sha256 //p')
    b=$("${runner[@]}" mpirun -np 1 "$bin/detrain" train configs/fashion-mnist.json $short $m2 --out "$log/mpi-one" 2>&1 |
        sed -n 's/^params_sha256 //p')
    if [ -n "$a" ] && [ "$a" = "$b" ]; then record "mpirun -np 1 (GPU) = no MPI" PASS "$a"
    else record "mpirun -np 1 (GPU) = no MPI" FAIL "'$a' vs '$b'"; fi
else
    record "mpirun -np 1 (GPU)" SKIP "mpirun not on this machine"
fi
if command -v compute-sanitizer >/dev/null; then
    for tool in memcheck racecheck; do
        for mode in portable deterministic; do
            if "${runner[@]}" compute-sanitizer --tool $tool --error-exitcode 9 "$bin/detrain" train configs/fashion-mnist.json \
                --device cuda --mode $mode $short --out "$log/san-$tool-$mode" >"$log/sanitizer-$tool-$mode.log" 2>&1; then
                record "compute-sanitizer $tool ($mode)" PASS "$(grep -m1 'ERROR SUMMARY' "$log/sanitizer-$tool-$mode.log")"
            else
                record "compute-sanitizer $tool ($mode)" FAIL "$(grep -m1 -E 'ERROR SUMMARY|error' "$log/sanitizer-$tool-$mode.log")"
            fi
        done
    done
else
    record "compute-sanitizer" SKIP "not installed"
fi

# Step time per mode: the default model and a wide one, from the manifest's samples/s.
for model in default wide; do
    extra=""
    [ $model = wide ] && extra="--set model.layers=[{\"units\":4096},{\"units\":4096},{\"units\":4096},{\"units\":4096},{\"units\":10}]"
    for mode in portable deterministic fast; do
        out="$log/time-$model-$mode"
        if detrain train configs/fashion-mnist.json --device cuda --mode $mode --set train.epochs=1 \
            --set data.train.limit=20000 $extra --quiet --out "$out" >"$out.log" 2>&1; then
            sps=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['epochs'][-1]['samples_per_s'])" "$out/manifest.json")
            ms=$(python3 -c "import sys; print('%.3f' % (128e3 / float(sys.argv[1])))" "$sps")
            record "step time $model/$mode (batch 128)" INFO "$ms ms/step, $(printf '%.0f' "$sps") samples/s"
        else
            record "step time $model/$mode" FAIL "$(tail -1 "$out.log")"
        fi
    done
done

echo
printf '%-34s %-6s %s\n' check result detail
printf '%s\n' "${rows[@]}"
printf '%s\n' "${rows[@]}" | grep -q ' FAIL ' && exit 1
exit 0
