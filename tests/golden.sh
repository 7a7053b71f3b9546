# golden.sh — tiny runs whose parameter digest and per-step loss bits are recorded in
# tests/golden/, and whose whole run records (manifest.json, trace.jsonl) are committed in
# tests/golden/runs/: `detrain verify` re-runs each record and must find every step's loss,
# every epoch's metrics and every checkpoint's digest identical, bit for bit (the verify
# report is printed here). Any change to the numerics fails. To re-record deliberately (and
# say why in the commit): DT_RECORD_GOLDEN=1 ctest --test-dir build -R golden
. "$DT_SOURCE_DIR/tests/lib.sh"

golden=$DT_SOURCE_DIR/tests/golden
for name in tiny tiny-sgd; do
    checks=$((checks + 1))
    run="$DT_TMP/run-$name"
    # From the source folder with a relative config path, so the record names the data
    # relative to the checkout and verifies in any clone.
    if ! (cd "$DT_SOURCE_DIR" && "$DETRAIN" train "tests/configs/$name.json" --quiet --out "$run") >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        fail "$name: training failed: $(cat "$DT_TMP/$name.err")"
        continue
    fi
    digest=$(digest_of "$DT_TMP/$name.out")
    # The loss trace reduced to step and bits: decimals are for people, bits are the record.
    sed -n 's/.*"step":\([0-9]*\),.*"loss_bits":"\([0-9a-f]*\)".*/\1 \2/p' "$run/trace.jsonl" >"$DT_TMP/$name.bits"
    if [ "${DT_RECORD_GOLDEN:-0}" = 1 ]; then
        echo "$digest" >"$golden/$name.sha256"
        cp "$DT_TMP/$name.bits" "$golden/$name.loss-bits"
        mkdir -p "$golden/runs/$name"
        cp "$run/manifest.json" "$run/trace.jsonl" "$golden/runs/$name/"
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
    # The committed run record: detrain verify re-runs it and compares everything it holds.
    checks=$((checks + 1))
    record="$golden/runs/$name"
    recorded=$(json_get "$record/manifest.json" 'm["final"]["params_sha256"]' 2>/dev/null)
    if [ "$recorded" != "$want" ]; then
        fail "$name: the committed run record's final digest '$recorded' is not the golden $want"
    else
        echo "ok   $name run record holds the golden digest"
    fi
    checks=$((checks + 1))
    rc=0
    (cd "$DT_SOURCE_DIR" && "$DETRAIN" verify "tests/golden/runs/$name" --quiet) >"$DT_TMP/$name.verify" 2>&1 || rc=$?
    sed 's/^/     /' "$DT_TMP/$name.verify"
    if [ "$rc" != 0 ]; then
        fail "$name: detrain verify of the committed run record exits $rc (report above)"
    else
        echo "ok   $name: detrain verify finds the committed run record identical"
    fi
done
finish
