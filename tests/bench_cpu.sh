# bench_cpu.sh — a short `detrain bench --device cpu`: every mode on the tiny, small and
# medium shapes at a small batch, the matrix-product rows, the JSON and the SVG. Checks the
# verdicts, never the speed: every deterministic and portable row must give one digest over
# its repeats (the command itself exits 1 otherwise), the portable products must equal the
# scalar reference bit for bit, and the outputs must be complete and well-formed.
. "$DT_SOURCE_DIR/tests/lib.sh"

py=/usr/bin/python3
[ -x "$py" ] || py=python3
out=$DT_TMP/bench
checks=$((checks + 1))
rc=0
"$DETRAIN" bench --device cpu --sizes "$DT_SOURCE_DIR/tests/configs/bench-tiny.json,small,medium" --batches 16 \
    --repeats 3 --steps 3 --warmup 1 --min-time 0 --threads 2 --matmul 40 --peers none --quiet \
    --json "$out.json" --svg "$out.svg" >"$out.txt" 2>"$out.err" || rc=$?
if [ "$rc" != 0 ]; then
    fail "bench exited $rc: $(cat "$out.err")"
else
    echo "ok   bench --device cpu ran: $(tail -1 "$out.txt")"
fi

# The table: a header and one line per row, each with its verdict.
checks=$((checks + 1))
holds=$(grep -c ' holds$' "$out.txt" || true)
if ! grep -q '^shape ' "$out.txt" || [ "$holds" != 6 ]; then
    fail "table: expected 6 rows that hold, found $holds: $(cat "$out.txt")"
else
    echo "ok   table: 6 deterministic/portable rows hold"
fi

# The JSON: every row, every verdict, the products, the environment.
checks=$((checks + 1))
if msg=$("$py" - "$out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = [x for x in r["rows"] if x["engine"] == "detrain"]
assert len(rows) == 9, "expected 9 detrain rows, got %d" % len(rows)
for x in rows:
    v = x["verdict"]
    if x["mode"] in ("deterministic", "portable"):
        assert v["promise"] and v["distinct_digests"] == 1 and v["max_ulp"] == 0 and v["max_abs_diff"] == 0, x
    else:
        assert not v["promise"] and v["distinct_digests"] >= 1, x
    assert len(x["step_seconds"]) == 3 and x["median_step_seconds"] > 0 and x["tflops"] > 0, x
    assert x["flops_per_step"] > 0 and len(v["first_digest"]) == 64, x
    assert x["mode"] == "fast" or x["overhead_vs_fast"] is not None, x
by_shape = {}
for x in rows:
    by_shape.setdefault(x["shape"], set()).add(x["verdict"]["first_digest"] if x["mode"] != "fast" else None)
for shape, digests in by_shape.items():  # deterministic = portable on a CPU: one digest per shape
    assert len(digests - {None}) == 1, (shape, digests)
m = [x for x in r["matmul"] if x["device"] == "cpu"]
assert len(m) == 2 * (1 + 8), len(m)  # 1 square + tiny's 8 layer products, 2 variants each
for x in m:
    if x["variant"] == "detrain portable":
        assert x["check"]["bitwise_equal"], x
    assert x["skipped"] or x["gflops"] > 0, x
assert r["broken_promises"] == 0
assert r["environment"]["simd"] and r["code"]["git_commit"] and r["flop_count"].startswith("6 x batch")
assert any(g["state"] == "met" and "honest verdict" in g["goal"] for g in r["goals"])
print("%d rows, %d products" % (len(r["rows"]), len(m)))
PY
); then
    echo "ok   json: $msg"
else
    fail "json: $msg"
fi

# The SVG: well-formed, one bar per row in each panel; rendered when rsvg-convert is here.
checks=$((checks + 1))
if msg=$("$py" - "$out.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
rects = root.findall(ns + "rect")
texts = "".join(t.text or "" for t in root.iter(ns + "text"))
assert len(rects) >= 1 + 9 + 6 + 5, len(rects)  # background, time bars, overhead bars, legend
assert "tiny b16 detrain portable" in texts and "medium b16 detrain fast" in texts
print("%d rects" % len(rects))
PY
); then
    echo "ok   svg: $msg"
else
    fail "svg: $msg"
fi
if command -v rsvg-convert >/dev/null; then
    checks=$((checks + 1))
    if rsvg-convert "$out.svg" -o "$out.png" && [ -s "$out.png" ]; then echo "ok   svg renders"
    else fail "rsvg-convert cannot render $out.svg"; fi
fi

# Bad input: one line, exit 2.
expect_error bad_mode 2 "bench: --modes 'exact': expected" -- "$DETRAIN" bench --modes exact
expect_error bad_size 2 "configs/nosuch.json" -- "$DETRAIN" bench --sizes nosuch --quiet
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    expect_error no_gpu 2 "--device cuda: " -- "$DETRAIN" bench --device cuda --sizes small --quiet
fi

# --sizes without --matmul: the shape's rows and its layers' products, no square products.
"$DETRAIN" bench --sizes "$DT_SOURCE_DIR/tests/configs/bench-tiny.json" --modes portable --repeats 1 --steps 1 \
    --min-time 0 --peers none --quiet --json "$out-sizes.json" >"$out-sizes.txt" 2>&1
check "bench --sizes alone runs no square products (they are --matmul's)" \
    /usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['matmul']
assert len(m) == 16 and not [r for r in m if r['shape'].startswith('square')], m" "$out-sizes.json"

# --max-ratio: the headline ratios gate the run (the gate's own logic: test_bench.c).
gate_args=(--sizes "$DT_SOURCE_DIR/tests/configs/bench-tiny.json" --modes fast,deterministic,portable --repeats 3
           --steps 2 --min-time 0 --matmul none --peers none --quiet)
run_code gate_wide 0 "$DETRAIN" bench "${gate_args[@]}" --max-ratio 1000000 --json "$out-gate.json"
check "bench prints the two headline ratios and judges them within a wide gate" \
    bash -c "grep -q 'deterministic / fast .* within 1e+06' '$DT_TMP/gate_wide.out' &&
             grep -q 'portable / deterministic .* within 1e+06' '$DT_TMP/gate_wide.out'"
check "the JSON holds the ratios with their range and verdict" /usr/bin/python3 -c "import json,sys
q = json.load(open(sys.argv[1]))['ratios']
assert [x['ratio'] for x in q] == ['deterministic/fast', 'portable/deterministic'], q
assert all(x['low'] <= x['median'] <= x['high'] and x['verdict'] == 'within' for x in q), q" "$out-gate.json"
expect_error gate_tight 1 "bench: --max-ratio 1e-06: .* above the gate" -- "$DETRAIN" bench "${gate_args[@]}" --max-ratio 0.000001
expect_error gate_one_mode 2 "no ratio to judge" -- "$DETRAIN" bench "${gate_args[@]}" --modes fast --max-ratio 2
expect_error gate_bad 2 "--max-ratio 'x': expected a ratio above 0" -- "$DETRAIN" bench --max-ratio x

# The peer, when PyTorch is importable: the same data and initial parameters as detrain; its
# repeats taken round by round beside detrain's, one process a round for each of its two
# variants (OpenMP wait policies), each round's parameters read back and removed.
if "$py" -c "import torch, numpy" 2>/dev/null; then
    checks=$((checks + 1))
    printf '#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' "$DT_TMP/peer-calls.log" "$(command -v "$py")" >"$DT_TMP/logpy"
    chmod +x "$DT_TMP/logpy"
    left_before=$(ls -d /tmp/dtpeer-* 2>/dev/null | wc -l)
    "$DETRAIN" bench --sizes "$DT_SOURCE_DIR/tests/configs/bench-tiny.json" --modes portable --repeats 2 --steps 2 \
        --min-time 0 --matmul none --quiet --python "$DT_TMP/logpy" --json "$out-peer.json" >"$out-peer.txt" 2>&1 || true
    if grep -q 'pytorch tiny b96 default: .*same synthetic data and initial parameters as detrain' "$out-peer.txt"; then
        echo "ok   pytorch peer: same data, same initial parameters"
    else
        fail "pytorch peer: $(cat "$out-peer.txt")"
    fi
    check "pytorch peer: 2 rounds x 2 variants, one repeat a process, parameters read back" /usr/bin/python3 -c 'import json, sys
calls = open(sys.argv[2]).read().splitlines()
rows = [r for r in json.load(open(sys.argv[1]))["rows"] if r["engine"] == "pytorch"]
assert len(calls) == 4 and all("--repeats 1 " in c and "--params-out /tmp/dtpeer-" in c for c in calls), calls
assert len(rows) == 1 and rows[0]["repeats"] == 2 and len(rows[0]["step_seconds"]) == 2, rows' \
        "$out-peer.json" "$DT_TMP/peer-calls.log"
    check "pytorch peer: no parameters file left in /tmp" test "$(ls -d /tmp/dtpeer-* 2>/dev/null | wc -l)" = "$left_before"
else
    echo "note: PyTorch is not importable; the peer is not checked"
fi
finish
