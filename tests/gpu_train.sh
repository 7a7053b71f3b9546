# gpu_train.sh — training on the GPU keeps each mode's promise (label gpu; skips without a GPU):
#   portable: 2 epochs of Fashion-MNIST give the CPU's final digest and per-step loss bits;
#   deterministic: three runs give one digest; fast: trains, accuracy within 0.5 points of portable.
. "$DT_SOURCE_DIR/tests/lib.sh"

fm=$DT_SOURCE_DIR/configs/fashion-mnist.json
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

for r in 1 2 3; do run "det$r" --device cuda --mode deterministic; done
checks=$((checks + 1))
n=$(for r in 1 2 3; do digest_of "$DT_TMP/det$r.out"; done | sort -u | wc -l)
if [ "$n" = 1 ]; then echo "ok   deterministic: 3 runs, 1 digest"; else fail "deterministic: 3 runs, $n digests"; fi

run fast --device cuda --mode fast
checks=$((checks + 1))
if python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if abs(a - b) <= 0.005 else 1)" \
    "$(accuracy fast)" "$(accuracy gpu_portable)"; then
    echo "ok   fast accuracy $(accuracy fast) within 0.5 points of portable $(accuracy gpu_portable)"
else fail "fast accuracy $(accuracy fast) vs portable $(accuracy gpu_portable): more than 0.5 points apart"; fi
finish
