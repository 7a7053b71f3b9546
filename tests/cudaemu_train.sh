# cudaemu_train.sh — the CUDA backend, built for the CPU emulator (DETRAIN_CUDA=EMULATE, label
# cudaemu), keeps the promises a GPU must keep, run by run:
#   portable on the emulated GPU = the CPU's params_sha256 and per-step loss bits, for the tiny
#     configs (dropout, clipping, SGD/Nesterov, MSE, tanh/sigmoid/GELU), 4 microbatches, a
#     validation split with early stopping (the validation set on the device) and a
#     Fashion-MNIST slice; also with blocks and threads in a shuffled order, without CUDA
#     graphs (DETRAIN_CUDA_GRAPHS=0, every kernel launched by the host), and with the
#     dataset too big for the pretend device's memory (batches staged through pinned memory);
#   deterministic (the reference cuBLAS) = the portable digest; fast trains, and on the
#     Fashion-MNIST slice within 0.5 accuracy points of portable;
#   resume: interrupted mid-epoch on the emulated GPU, resumed there, on the CPU, and the
#     reverse: the uninterrupted digest;
#   bench: `detrain bench --device cuda` times every mode with the device's events, its
#     deterministic and portable rows hold, and the GPU's matrix-product rows (portable kernel,
#     reference cuBLAS FP32 and TF32) check out;
#   bisect: the CPU's run and the emulated GPU's are identical, and a one-ULP fault in one GPU
#     kernel's output (DETRAIN_TEST_PERTURB) is named, op and step, with the GPU side replayed
#     on the emulated GPU;
#   certificates: a registered GPU run reproduced with a signing key is certified on the GPU
#     by name, architecture, driver, CUDA and cuBLAS;
#   devices: --device auto falls back to the CPU when the GPU has no kernel image in this build;
#     runtime.gpu picks the GPU and the manifest says which; under mpirun each rank takes the
#     GPU of its local rank, and more ranks than GPUs is refused.
. "$DT_SOURCE_DIR/tests/lib.sh"
export DTEMU_DEVICES=1
configs=$DT_SOURCE_DIR/tests/configs
fm="$DT_SOURCE_DIR/configs/fashion-mnist.json"
slice="--set data.train.limit=2000 --set data.test.limit=500 --set train.epochs=1"

train() { # NAME ARGS...: a run in $DT_TMP/run-NAME, stdout and stderr in $DT_TMP/NAME.out, .err
    local name=$1
    shift
    checks=$((checks + 1))
    if timeout 600 "$DETRAIN" train "$@" --quiet --out "$DT_TMP/run-$name" >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        echo "ok   $name trained"
    else
        fail "$name: training failed: $(tail -c 400 "$DT_TMP/$name.err")"
    fi
}
bits() { sed -n 's/.*"step":\([0-9]*\),.*"loss_bits":"\([0-9a-f]*\)".*/\1 \2/p' "$DT_TMP/run-$1/trace.jsonl"; }
accuracy() { sed -n 's/^final: test_accuracy \([0-9.]*\).*/\1/p' "$DT_TMP/$1.out"; }
same_digest() { # A B
    checks=$((checks + 1))
    local a b
    a=$(digest_of "$DT_TMP/$1.out")
    b=$(digest_of "$DT_TMP/$2.out")
    if [ -n "$a" ] && [ "$a" = "$b" ]; then echo "ok   $2 = $1: $a"; else fail "$2 '$b' != $1 '$a'"; fi
}
same_bits() { # A B
    checks=$((checks + 1))
    if [ -s "$DT_TMP/run-$1/trace.jsonl" ] && diff <(bits "$1") <(bits "$2") >"$DT_TMP/bits.diff"; then
        echo "ok   $2 per-step loss bits = $1's ($(bits "$1" | wc -l) steps)"
    else fail "$2 per-step losses differ from $1's: $(sed -n 2p "$DT_TMP/bits.diff")"; fi
}

# ---- every mode on every config ----------------------------------------------------------
for c in tiny tiny-sgd tiny-micro4 tiny-early fashion; do
    case $c in
    tiny-micro4) args=("$configs/tiny.json" --set train.microbatches=4) ;;
    tiny-early) args=("$configs/tiny.json" --set data.validation_split=0.2 --set train.epochs=30
                      --set 'train.early_stopping={"patience":3}') ;;
    fashion) args=("$fm" $slice) ;;
    *) args=("$configs/$c.json") ;;
    esac
    train "$c-cpu" "${args[@]}" --device cpu
    for mode in portable deterministic fast; do train "$c-$mode" "${args[@]}" --device cuda --mode "$mode"; done
    same_digest "$c-cpu" "$c-portable"
    same_bits "$c-cpu" "$c-portable"
    same_digest "$c-portable" "$c-deterministic"
    checks=$((checks + 1))
    if [ -n "$(digest_of "$DT_TMP/$c-fast.out")" ]; then echo "ok   $c-fast: $(digest_of "$DT_TMP/$c-fast.out")"
    else fail "$c-fast gave no digest"; fi
done
checks=$((checks + 1))
if /usr/bin/python3 -c "import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) <= 0.005 else 1)" \
    "$(accuracy fashion-fast)" "$(accuracy fashion-portable)"; then
    echo "ok   fast accuracy $(accuracy fashion-fast) within 0.5 points of portable $(accuracy fashion-portable)"
else fail "fast accuracy $(accuracy fashion-fast) vs portable $(accuracy fashion-portable): more than 0.5 points apart"; fi
checks=$((checks + 1))
if grep -q '"index":[[:space:]]*0' "$DT_TMP/run-tiny-portable/manifest.json" &&
    grep -q '"rank_gpus":[[:space:]]*\[[[:space:]]*0[[:space:]]*\]' "$DT_TMP/run-tiny-portable/manifest.json"; then
    echo "ok   the manifest records GPU 0 (environment.gpu.index, parallel.rank_gpus)"
else fail "the manifest lacks environment.gpu.index 0 or parallel.rank_gpus [0]"; fi

# ---- the same bits under another order of blocks and threads, and out of device memory ------
DTEMU_ORDER=shuffle:5 train tiny-shuffled "$configs/tiny.json" --device cuda
same_digest tiny-cpu tiny-shuffled
# ... and with every kernel launched by the host instead of the steps' CUDA graphs
DETRAIN_CUDA_GRAPHS=0 train tiny-eager "$configs/tiny.json" --device cuda
same_digest tiny-cpu tiny-eager
DETRAIN_CUDA_GRAPHS=0 train tiny-eager-deterministic "$configs/tiny.json" --device cuda --mode deterministic
same_digest tiny-deterministic tiny-eager-deterministic
DTEMU_MEMORY_MB=48 train fashion-staged "$fm" $slice --device cuda # 42 MB go to the model and cuBLAS
check "a dataset too big for the device is staged through host memory" \
    grep -q "data staged through host memory" "$DT_TMP/run-fashion-staged/manifest.json"
same_digest fashion-cpu fashion-staged

# ---- resume: on the emulated GPU, and across devices -----------------------------------------
resume_case() { # NAME STOP-DEVICE RESUME-DEVICE
    local name=$1
    checks=$((checks + 1))
    "$DETRAIN" train "$fm" $slice --device "$2" --set checkpoint.every_steps=5 --stop-after-steps 7 --quiet \
        --out "$DT_TMP/run-$name" >/dev/null 2>"$DT_TMP/$name.stop.err"
    local rc=$?
    if [ $rc != 130 ]; then fail "$name: the interrupted run exited $rc, not 130: $(tail -c 300 "$DT_TMP/$name.stop.err")"; return; fi
    echo "ok   $name: stopped mid-epoch at step 7 on the $2"
    checks=$((checks + 1))
    if "$DETRAIN" resume "$DT_TMP/run-$name" --device "$3" --quiet >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        echo "ok   $name: resumed on the $3"
    else fail "$name: resume failed: $(tail -c 300 "$DT_TMP/$name.err")"; fi
    same_digest fashion-cpu "$name"
    same_bits fashion-cpu "$name"
}
resume_case resume-gpu-gpu cuda cuda
resume_case resume-gpu-cpu cuda cpu
resume_case resume-cpu-gpu cpu cuda
"$DETRAIN" train "$configs/tiny.json" --device cuda --mode deterministic --stop-after-steps 3 --quiet \
    --out "$DT_TMP/run-det-move" >/dev/null 2>&1
run_code resume-deterministic-elsewhere 2 "$DETRAIN" resume "$DT_TMP/run-det-move" --device cpu
check "resume --device on a deterministic run says why" grep -q "only portable runs may move" "$DT_TMP/resume-deterministic-elsewhere.err"

# ---- bisect: the CPU against the emulated GPU, with and without an altered kernel -----------
# tiny-cpu and tiny-portable ran above. A one-ULP fault in the GPU's bias-gradient sum of layer
# 0 at step 3 (DETRAIN_TEST_PERTURB ...:cuda, recorded in the run) stands for a changed kernel:
# bisect replays the CPU side on the CPU and the GPU side on the emulated GPU and names it.
run_code bisect-same 0 "$DETRAIN" bisect "$DT_TMP/run-tiny-cpu" "$DT_TMP/run-tiny-portable"
train tiny-traced "$configs/tiny.json" --device cuda --dump-ops 5   # traced kernel by kernel, no graphs
same_digest tiny-portable tiny-traced
run_code bisect-dump 0 "$DETRAIN" bisect "$DT_TMP/run-tiny-cpu" "$DT_TMP/run-tiny-traced/ops-5.json"
DETRAIN_TEST_PERTURB='mb0/1.layer0.bias_grad.bias@3:cuda' train tiny-altered "$configs/tiny.json" --device cuda
run_code bisect-altered 1 "$DETRAIN" bisect "$DT_TMP/run-tiny-cpu" "$DT_TMP/run-tiny-altered"
check "bisect: the altered GPU kernel's op and step are named" \
    grep -q 'first differing operation: step 3, mb0/1.layer0.bias_grad.bias$' "$DT_TMP/bisect-altered.out"
check "bisect: the GPU side was replayed on the emulated GPU" grep -Eq 'replayed here on cuda' "$DT_TMP/bisect-altered.out"
check "bisect: one ULP" grep -Eq 'max 1 ULP' "$DT_TMP/bisect-altered.out"
# Without the GPU here, the GPU side is replayed on the CPU (said), where the fault does not
# act: the difference is reported, not localized, with the way to a dump from B's machine.
DTEMU_DEVICES=0 run_code bisect-no-gpu 1 "$DETRAIN" bisect "$DT_TMP/run-tiny-cpu" "$DT_TMP/run-tiny-altered"
check "bisect without the GPU: said, and not localized" grep -q 'no usable GPU here' "$DT_TMP/bisect-no-gpu.out"
check "bisect without the GPU: the way to a dump" grep -q -- '--dump-only --out ops-B.json' "$DT_TMP/bisect-no-gpu.out"

# ---- a certificate of a re-run on the GPU names the GPU, its architecture and libraries -------
export DETRAIN_REGISTRY=$DT_TMP/registry.sqlite
run_code cert-key 0 "$DETRAIN" key generate --out "$DT_TMP/signing.pem"
run_code cert-add 0 "$DETRAIN" registry add "$DT_TMP/run-tiny-portable" --name tiny-gpu
DETRAIN_SIGNING_KEY=$DT_TMP/signing.pem run_code cert-reproduce 0 "$DETRAIN" registry reproduce tiny-gpu/1 --quiet
run_code cert-show 0 "$DETRAIN" registry show tiny-gpu/1
check "the certificate names the GPU (sm_90, driver, CUDA, cuBLAS)" \
    grep -Eq 'certificate 1 +bit for bit on dtemu pretend GPU 0 .*\(sm_90, driver [0-9.]+, CUDA [0-9.]+, cuBLAS [0-9.]+\).*: valid' \
    "$DT_TMP/cert-show.out"
unset DETRAIN_REGISTRY

# ---- bench: the GPU side of detrain bench (events, the matrix-product microbenchmark) ----------
checks=$((checks + 1))
if "$DETRAIN" bench --device cuda --sizes "$configs/bench-tiny.json" --batches 16 --repeats 3 --steps 3 --warmup 1 \
    --min-time 0 --matmul 40 --peers none --quiet --json "$DT_TMP/bench.json" >"$DT_TMP/bench.txt" \
    2>"$DT_TMP/bench.err"; then
    echo "ok   bench --device cuda ran"
else fail "bench --device cuda: $(tail -c 300 "$DT_TMP/bench.err")"; fi
check "bench: the deterministic (FP32 and TF32) and portable rows hold on the emulated GPU" \
    test "$(grep -c ' holds' "$DT_TMP/bench.txt")" = 3
check "bench: the GPU's portable products = the scalar reference" grep -q "^cuda .*detrain portable .*bit for bit" "$DT_TMP/bench.txt"
check "bench: reference cuBLAS FP32 = the portable kernel" grep -q "^cuda .*cuBLAS FP32 .* 0 ULP from portable" "$DT_TMP/bench.txt"
# % of FP32 peak: the pretend device is an H100 SXM (132 SMs, compute capability 9.0: 128 FP32
# lanes an SM, 1980 MHz): 132 * 128 * 2 * 1.98 = 66908.16 GFLOP/s.
check "bench: GPU products as a share of the device's FP32 peak (66908.16 GFLOP/s)" /usr/bin/python3 -c 'import json, sys
rows = [m for m in json.load(open(sys.argv[1]))["matmul"] if m["device"] == "cuda" and not m["skipped"]]
sys.exit(not (len(rows) >= 3 and all(abs(m["fp32_peak_gflops"] - 66908.16) < 1e-6
                                     and abs(m["fp32_peak_percent"] - 100 * m["gflops"] / 66908.16) < 1e-9 for m in rows)))' \
    "$DT_TMP/bench.json"
check "bench: no FP32 peak claimed for the CPU" /usr/bin/python3 -c 'import json, sys
sys.exit(any("fp32_peak_percent" in m for m in json.load(open(sys.argv[1]))["matmul"] if m["device"] == "cpu"))' \
    "$DT_TMP/bench.json"
# The work a step submits, as the backend counts it (kernels/cuda/counts.h): fast no more than
# deterministic, portable without cuBLAS, one result copy and no upload per step.
work() { # MODE FIELD: the row's work_per_step field
    /usr/bin/python3 -c 'import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["rows"] if r["engine"] == "detrain" and r["mode"] == sys.argv[2]]
print(rows[0]["work_per_step"][sys.argv[3]])' "$DT_TMP/bench.json" "$1" "$2"
}
check "bench: work per step in the text" grep -q "^work per step, counted where it is submitted" "$DT_TMP/bench.txt"
check "bench: fast launches no more kernels a step than deterministic" \
    /usr/bin/python3 -c "import sys; sys.exit(not ($(work fast kernels) <= $(work deterministic kernels)))"
check "bench: the same cuBLAS calls in fast and deterministic, none in portable" /usr/bin/python3 -c \
    "import sys; sys.exit(not ($(work fast library_calls) == $(work deterministic library_calls) > 0 == $(work portable library_calls)))"
check "bench: a deterministic+tf32 row on the GPU, holding its promise" grep -q "detrain  deterministic+tf32 .* holds" \
    "$DT_TMP/bench.txt"
check "bench: no copy a step: the results come over in bulk, one copy per collection" \
    /usr/bin/python3 -c "import sys; sys.exit(not (0 < $(work portable copies) < 1))"
for mode in portable deterministic fast; do
    check "bench: a $mode step is one CUDA graph launch, the host's only call but the collections' copies" \
        /usr/bin/python3 -c "import sys; sys.exit(not ($(work $mode graphs) == 1 and $(work $mode graph_nodes) > 10
            and abs($(work $mode host_calls) - 1 - $(work $mode copies)) < 1e-9))"
done
# Step times by the device's events, the host's wall time beside them (never less: the host's
# clock starts before the first event is recorded and stops after the last is waited for).
check "bench: GPU rows timed by the device's clock, with their wall time, never less" /usr/bin/python3 -c 'import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["rows"] if r["engine"] == "detrain"]
sys.exit(not (len(rows) == 4 and all(r["step_clock"] == "device" and len(r["wall_step_seconds"]) == r["repeats"]
                                     and all(w >= t for w, t in zip(r["wall_step_seconds"], r["step_seconds"]))
                                     for r in rows)))' "$DT_TMP/bench.json"
check "bench: wall time in the work table" grep -q " device ms    wall ms$" "$DT_TMP/bench.txt"

# ---- devices ----------------------------------------------------------------------------------
DTEMU_CC=7.0 train auto-no-image "$configs/tiny.json" --device auto
check "auto on a GPU without a kernel image: the CPU, saying why" \
    grep -q "using the CPU (GPU 0 (.*compute capability 7.0) has no kernel image" "$DT_TMP/run-auto-no-image/manifest.json"
same_digest tiny-cpu auto-no-image
DTEMU_CC=7.0 run_code cuda-no-image 2 "$DETRAIN" train "$configs/tiny.json" --device cuda --quiet --out "$DT_TMP/run-no-image"
check "--device cuda without a kernel image names the architectures" grep -q "no kernel image in this build" "$DT_TMP/cuda-no-image.err"
DTEMU_DEVICES=2 train gpu-one "$configs/tiny.json" --device cuda --set runtime.gpu=1
check "runtime.gpu=1 trains on GPU 1" grep -q '"index":[[:space:]]*1' "$DT_TMP/run-gpu-one/manifest.json"
same_digest tiny-cpu gpu-one
DTEMU_DEVICES=2 run_code gpu-missing 2 "$DETRAIN" train "$configs/tiny.json" --device cuda --set runtime.gpu=2 --quiet \
    --out "$DT_TMP/run-gpu-missing"
check "a GPU that does not exist is named" grep -q "GPU 2 does not exist: this machine has 2" "$DT_TMP/gpu-missing.err"

# One GPU per rank under mpirun (NCCL is outside the emulator: emulated GPU ranks exchange
# through host memory over MPI, in the same tree).
if command -v mpirun >/dev/null && [ "${DT_HAVE_MPI:-0}" = 1 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
    # In the sanitized build: Open MPI's own allocations live to the end of the process, which
    # LeakSanitizer reports; detrain's are checked by the single-process runs above.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    m2="--set train.microbatches=2"
    train micro2-cpu "$configs/tiny.json" $m2 --device cpu
    checks=$((checks + 1))
    if DTEMU_DEVICES=2 timeout 600 mpirun -np 2 -x DTEMU_DEVICES -x ASAN_OPTIONS "$DETRAIN" train "$configs/tiny.json" $m2 --device cuda \
        --quiet --out "$DT_TMP/run-ranks" >"$DT_TMP/ranks.out" 2>"$DT_TMP/ranks.err"; then
        echo "ok   2 ranks on 2 emulated GPUs trained"
    else fail "2 ranks on 2 GPUs: $(tail -c 400 "$DT_TMP/ranks.err")"; fi
    same_digest micro2-cpu ranks
    check "each rank took its local rank's GPU: parallel.rank_gpus = [0, 1]" \
        test "$(json_get "$DT_TMP/run-ranks/manifest.json" "m['parallel']['rank_gpus']")" = "[0, 1]"
    # One GPU bound to each task, as Slurm's --gpus-per-task=1 does (each task sees its GPU as
    # device 0): every rank trains on its device 0, whatever its local rank.
    checks=$((checks + 1))
    if DTEMU_DEVICES=1 CUDA_VISIBLE_DEVICES=0 timeout 600 mpirun -np 2 -x DTEMU_DEVICES -x CUDA_VISIBLE_DEVICES -x ASAN_OPTIONS \
        "$DETRAIN" train "$configs/tiny.json" $m2 --device cuda --quiet --out "$DT_TMP/run-bound" \
        >"$DT_TMP/bound.out" 2>"$DT_TMP/bound.err"; then
        echo "ok   2 ranks, each bound to one GPU (CUDA_VISIBLE_DEVICES of one), trained"
    else fail "2 ranks, one GPU each: $(tail -c 400 "$DT_TMP/bound.err")"; fi
    same_digest micro2-cpu bound
    check "each bound rank took its one GPU: parallel.rank_gpus = [0, 0]" \
        test "$(json_get "$DT_TMP/run-bound/manifest.json" "m['parallel']['rank_gpus']")" = "[0, 0]"
    checks=$((checks + 1))
    DTEMU_DEVICES=1 timeout 300 env -u CUDA_VISIBLE_DEVICES mpirun -np 2 -x DTEMU_DEVICES -x ASAN_OPTIONS "$DETRAIN" train "$configs/tiny.json" $m2 --device cuda \
        --quiet --out "$DT_TMP/run-too-many" >"$DT_TMP/too-many.out" 2>"$DT_TMP/too-many.err"
    rc=$?
    if [ $rc != 0 ] && grep -q "GPU 1 does not exist: this machine has 1" "$DT_TMP/too-many.err"; then
        echo "ok   2 ranks on 1 GPU refused (exit $rc): $(grep -m1 'does not exist' "$DT_TMP/too-many.err")"
    else fail "2 ranks on 1 GPU: exit $rc: $(tail -c 300 "$DT_TMP/too-many.err")"; fi
else
    echo "note: mpirun or the MPI build is missing: the per-rank GPU checks did not run"
fi
finish
