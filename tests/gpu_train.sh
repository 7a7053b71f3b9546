# gpu_train.sh — training on the GPU keeps each mode's promise (label gpu; skips without a GPU):
#   portable: 2 epochs of Fashion-MNIST give the CPU's final digest and per-step loss bits;
#   deterministic: three runs give one digest; fast: trains, accuracy within 0.5 points of portable;
#   the tiny configs (dropout, clipping, SGD/Nesterov, MSE, tanh/sigmoid/GELU, 4 microbatches) in
#   every mode: portable = the CPU's digest and loss bits, deterministic twice = one digest, and
#   the same without CUDA graphs (DETRAIN_CUDA_GRAPHS=0, every kernel launched by the host);
#   a portable run interrupted on the GPU and resumed on the CPU ends with the CPU's digest;
#   detrain bisect finds the CPU's and the GPU's portable runs, and a traced GPU step's every
#   operation, identical to the CPU's.
# tests/cudaemu_train.sh runs the same on the CPU emulator, where deterministic (the reference
# cuBLAS) must also equal portable; on hardware cuBLAS sums in its own order.
. "$DT_SOURCE_DIR/tests/lib.sh"

fm=${DT_FASHION_MNIST_CONFIG:-$DT_SOURCE_DIR/configs/fashion-mnist.json}
probe=$("$DETRAIN" train "$DT_SOURCE_DIR/tests/configs/tiny.json" --device cuda --quiet --out "$DT_TMP/probe" 2>&1)
if echo "$probe" | grep -q "no usable GPU"; then
    echo "SKIP: $probe"
    exit 77
fi

run() { # NAME ARGS...
    local name=$1
    shift
    checks=$((checks + 1))
    if ! "$DETRAIN" train "$fm" --set train.epochs=2 "$@" --quiet --out "$DT_TMP/run-$name" >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        fail "$name: training failed: $(cat "$DT_TMP/$name.err")"
    fi
}
bits() { sed -n 's/.*"step":\([0-9]*\),.*"loss_bits":"\([0-9a-f]*\)".*/\1 \2/p' "$DT_TMP/run-$1/trace.jsonl"; }
accuracy() { sed -n 's/^final: test_accuracy \([0-9.]*\).*/\1/p' "$DT_TMP/$1.out"; }

run cpu --device cpu
run gpu_portable --device cuda --mode portable
checks=$((checks + 1))
if [ "$(digest_of "$DT_TMP/cpu.out")" = "$(digest_of "$DT_TMP/gpu_portable.out")" ]; then
    echo "ok   portable GPU digest = CPU digest: $(digest_of "$DT_TMP/cpu.out")"
else fail "portable GPU digest $(digest_of "$DT_TMP/gpu_portable.out") != CPU $(digest_of "$DT_TMP/cpu.out")"; fi
checks=$((checks + 1))
if diff <(bits cpu) <(bits gpu_portable) >"$DT_TMP/bits.diff"; then echo "ok   per-step loss bits equal ($(bits cpu | wc -l) steps)"
else fail "per-step losses differ, first: $(sed -n 2p "$DT_TMP/bits.diff")"; fi

# bisect on hardware: the CPU's and the GPU's portable runs are identical; were they not, the
# report names the first operation that differs (kept in $DT_TMP/bisect-gpu.out for the log).
# Every operation of a GPU step traced (kernel by kernel, no graphs) equals the CPU's.
run_code bisect-gpu 0 "$DETRAIN" bisect "$DT_TMP/run-cpu" "$DT_TMP/run-gpu_portable"
run gpu_traced --device cuda --mode portable --dump-ops 3
run_code bisect-gpu-ops 0 "$DETRAIN" bisect "$DT_TMP/run-cpu" "$DT_TMP/run-gpu_traced/ops-3.json"
check "a traced GPU run keeps the untraced digest" [ "$(digest_of "$DT_TMP/gpu_traced.out")" = "$(digest_of "$DT_TMP/gpu_portable.out")" ]

for r in 1 2 3; do run "det$r" --device cuda --mode deterministic; done
checks=$((checks + 1))
n=$(for r in 1 2 3; do digest_of "$DT_TMP/det$r.out"; done | sort -u | wc -l)
if [ "$n" = 1 ]; then echo "ok   deterministic: 3 runs, 1 digest"; else fail "deterministic: 3 runs, $n digests"; fi

tiny_run() { # NAME CONFIG ARGS...
    local name=$1 config=$2
    shift 2
    checks=$((checks + 1))
    if ! "$DETRAIN" train "$DT_SOURCE_DIR/tests/configs/$config.json" "$@" --quiet --out "$DT_TMP/run-$name" \
        >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        fail "$name: training failed: $(cat "$DT_TMP/$name.err")"
    fi
}
for c in tiny tiny-sgd tiny-micro4 tiny-early; do
    config=$c extra=()
    [ $c = tiny-micro4 ] && config=tiny extra=(--set train.microbatches=4)
    [ $c = tiny-early ] && config=tiny extra=(--set data.validation_split=0.2 --set train.epochs=30
                                              --set 'train.early_stopping={"patience":3}')
    tiny_run "$c-cpu" $config "${extra[@]}" --device cpu
    tiny_run "$c-portable" $config "${extra[@]}" --device cuda --mode portable
    tiny_run "$c-det1" $config "${extra[@]}" --device cuda --mode deterministic
    tiny_run "$c-det2" $config "${extra[@]}" --device cuda --mode deterministic
    DETRAIN_CUDA_GRAPHS=0 tiny_run "$c-det-eager" $config "${extra[@]}" --device cuda --mode deterministic
    tiny_run "$c-fast" $config "${extra[@]}" --device cuda --mode fast
    checks=$((checks + 1))
    if [ -n "$(digest_of "$DT_TMP/$c-cpu.out")" ] && [ "$(digest_of "$DT_TMP/$c-cpu.out")" = "$(digest_of "$DT_TMP/$c-portable.out")" ] &&
        diff <(bits "$c-cpu") <(bits "$c-portable") >/dev/null; then
        echo "ok   $c: portable GPU digest and loss bits = CPU's: $(digest_of "$DT_TMP/$c-cpu.out")"
    else fail "$c: portable GPU $(digest_of "$DT_TMP/$c-portable.out") vs CPU $(digest_of "$DT_TMP/$c-cpu.out")"; fi
    checks=$((checks + 1))
    if [ -n "$(digest_of "$DT_TMP/$c-det1.out")" ] && [ "$(digest_of "$DT_TMP/$c-det1.out")" = "$(digest_of "$DT_TMP/$c-det2.out")" ]; then
        echo "ok   $c: deterministic twice, one digest"
    else fail "$c: deterministic runs differ or failed"; fi
    checks=$((checks + 1))
    if [ "$(digest_of "$DT_TMP/$c-det1.out")" = "$(digest_of "$DT_TMP/$c-det-eager.out")" ]; then
        echo "ok   $c: deterministic steps as CUDA graphs = launched one by one (DETRAIN_CUDA_GRAPHS=0)"
    else fail "$c: deterministic with graphs $(digest_of "$DT_TMP/$c-det1.out") vs without $(digest_of "$DT_TMP/$c-det-eager.out")"; fi
    checks=$((checks + 1))
    if [ -n "$(digest_of "$DT_TMP/$c-fast.out")" ]; then echo "ok   $c: fast trained"; else fail "$c: fast gave no digest"; fi
done

checks=$((checks + 1))
"$DETRAIN" train "$fm" --set train.epochs=2 --device cuda --set checkpoint.every_steps=100 --stop-after-steps 250 --quiet \
    --out "$DT_TMP/run-moved" >/dev/null 2>&1
if "$DETRAIN" resume "$DT_TMP/run-moved" --device cpu --quiet >"$DT_TMP/moved.out" 2>"$DT_TMP/moved.err" &&
    [ "$(digest_of "$DT_TMP/moved.out")" = "$(digest_of "$DT_TMP/cpu.out")" ]; then
    echo "ok   stopped on the GPU at step 250, resumed on the CPU: the CPU's digest"
else fail "GPU -> CPU resume: '$(digest_of "$DT_TMP/moved.out")' vs '$(digest_of "$DT_TMP/cpu.out")': $(tail -c 300 "$DT_TMP/moved.err")"; fi

run fast --device cuda --mode fast
checks=$((checks + 1))
if python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if abs(a - b) <= 0.005 else 1)" \
    "$(accuracy fast)" "$(accuracy gpu_portable)"; then
    echo "ok   fast accuracy $(accuracy fast) within 0.5 points of portable $(accuracy gpu_portable)"
else fail "fast accuracy $(accuracy fast) vs portable $(accuracy gpu_portable): more than 0.5 points apart"; fi
finish
