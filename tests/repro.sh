# repro.sh — the same config gives the same parameter digest: twice in a row, with 1, 2,
# 3 and 4 threads, and with every SIMD path this CPU has (DT_SIMD caps the path).
. "$DT_SOURCE_DIR/tests/lib.sh"

train() { # NAME ARGS...: trains, leaves stdout in $DT_TMP/NAME.out
    local name=$1
    shift
    checks=$((checks + 1))
    if ! "$DETRAIN" train "$@" --quiet --out "$DT_TMP/run-$name" >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        fail "$name: training failed: $(cat "$DT_TMP/$name.err")"
    fi
}
same() { # NAME-A NAME-B
    checks=$((checks + 1))
    local a b
    a=$(digest_of "$DT_TMP/$1.out")
    b=$(digest_of "$DT_TMP/$2.out")
    if [ -z "$a" ] || [ "$a" != "$b" ]; then fail "$1 vs $2: digests differ: '$a' '$b'"; else echo "ok   $1 = $2: $a"; fi
}

tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
train tiny_a "$tiny" --threads 1
train tiny_b "$tiny" --threads 1
train tiny_t2 "$tiny" --threads 2
train tiny_t3 "$tiny" --threads 3
train tiny_t4 "$tiny" --threads 4
same tiny_a tiny_b
same tiny_a tiny_t2
same tiny_a tiny_t3
same tiny_a tiny_t4
for path in scalar avx2 avx512; do
    DT_SIMD=$path train "tiny_$path" "$tiny" --threads 2
    same tiny_a "tiny_$path"
done
# The loss traces agree bit for bit too.
checks=$((checks + 1))
if cmp -s "$DT_TMP/run-tiny_a/trace.jsonl" "$DT_TMP/run-tiny_t3/trace.jsonl"; then echo "ok   traces equal"
else fail "trace.jsonl differs between 1 and 3 threads"; fi

# A different seed must change the digest (the check above could not fail otherwise).
train tiny_seed "$tiny" --set seed=8
checks=$((checks + 1))
if [ "$(digest_of "$DT_TMP/tiny_seed.out")" = "$(digest_of "$DT_TMP/tiny_a.out")" ]; then
    fail "seed 8 gives the same digest as seed 7"
else echo "ok   another seed, another digest"; fi

# Fashion-MNIST (the README's test command installs it): a slice, 1 vs 2 threads.
fm=$DT_SOURCE_DIR/configs/fashion-mnist.json
if [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    slice="--set data.train.limit=3000 --set data.test.limit=1000 --set train.epochs=1"
    train fm_t1 "$fm" $slice --threads 1
    for t in 2 3 4; do
        train fm_t$t "$fm" $slice --threads $t
        same fm_t1 fm_t$t
    done
    for path in scalar avx2; do
        DT_SIMD=$path train "fm_$path" "$fm" $slice --threads 2
        same fm_t1 "fm_$path"
    done
else
    fail "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
fi
finish
