# golden.sh — tiny runs whose parameter digest and per-step loss bits are recorded in
# tests/golden/. Any change to the numerics fails here. To re-record deliberately (and
# say why in the commit): DT_RECORD_GOLDEN=1 ctest --test-dir build -R golden
. "$DT_SOURCE_DIR/tests/lib.sh"

golden=$DT_SOURCE_DIR/tests/golden
for name in tiny tiny-sgd; do
    checks=$((checks + 1))
    run="$DT_TMP/run-$name"
    if ! "$DETRAIN" train "$DT_SOURCE_DIR/tests/configs/$name.json" --quiet --out "$run" >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        fail "$name: training failed: $(cat "$DT_TMP/$name.err")"
        continue
    fi
    digest=$(digest_of "$DT_TMP/$name.out")
    # The loss trace reduced to step and bits: decimals are for people, bits are the record.
    sed -n 's/.*"step":\([0-9]*\),.*"loss_bits":"\([0-9a-f]*\)".*/\1 \2/p' "$run/trace.jsonl" >"$DT_TMP/$name.bits"
    if [ "${DT_RECORD_GOLDEN:-0}" = 1 ]; then
        echo "$digest" >"$golden/$name.sha256"
        cp "$DT_TMP/$name.bits" "$golden/$name.loss-bits"
        echo "recorded $name: $digest"
        continue
    fi
    want=$(cat "$golden/$name.sha256" 2>/dev/null || echo missing)
    if [ "$digest" != "$want" ]; then
        fail "$name: params_sha256 $digest, golden $want"
    else
        echo "ok   $name digest $digest"
    fi
    checks=$((checks + 1))
    if [ ! -s "$golden/$name.loss-bits" ] || [ ! -s "$DT_TMP/$name.bits" ]; then
        fail "$name: missing loss bits (golden or new)"
    elif first=$(diff "$golden/$name.loss-bits" "$DT_TMP/$name.bits" | sed -n '2p'); [ -n "$first" ]; then
        fail "$name: loss trace differs from the golden one, first difference: $first"
    else
        echo "ok   $name loss trace ($(wc -l <"$DT_TMP/$name.bits") steps) equals the golden bits"
    fi
done
finish
