#!/usr/bin/python3
"""Markdown tables from a `detrain bench --json` file: the training rows, the matrix
products and the goals, as the README shows them.

Usage: bench/bench_markdown.py bench/results/cpu.json > table.md"""
import json, sys


def pct(v):
    return "" if v is None else "%+.1f %%" % (100 * v)


def main(path):
    r = json.load(open(path))
    env, opt = r["environment"], r["options"]
    print("%s; %s, %d cores, %d threads; %s; %s. %d repeats of %d or more timed steps (at least %g s) after %d "
          "warm-up steps, seed %d; commit %s%s." % (
              env["backend"], env["cpu"], env["cores"], env["threads"], env["blas"], env.get("peer") or "no peer",
              opt["repeats"], opt["steps"], opt.get("min_time", 0), opt["warmup"], opt["seed"],
                            r["code"]["git_commit"][:10], " (dirty)" if r["code"]["git_dirty"] else ""))
    print()
    print("| shape | batch | engine | mode | steps | ms/step | spread | samples/s | TFLOP/s | vs fast | digests | max abs diff | max ULP | verdict |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for x in r["rows"]:
        if x["skipped"]:
            print("| %s | %d | %s | %s | skipped: %s |||||||||| " % (x["shape"], x["batch"], x["engine"], x["mode"], x["note"]))
            continue
        v = x["verdict"]
        over = "" if (x["engine"] == "detrain" and x["mode"] == "fast") else pct(x["overhead_vs_fast"])
        text = v["text"].replace("holds", "**holds**")
        diff = v["max_abs_diff"]
        print("| %s | %d | %s | %s | %d | %.3f | %.0f %% | %.0f | %.3f | %s | %d | %s | %d | %s |" % (
            x["shape"], x["batch"], x["engine"], x["mode"], x["steps"], 1e3 * x["median_step_seconds"],
            100 * (x["spread"] or 0), x["samples_per_second"], x["tflops"], over, v["distinct_digests"],
            "0" if not diff else "%.2g" % diff, v["max_ulp"], text))
    if r["matmul"]:
        print()
        print("| matrix product | M | N | P | variant | GFLOP/s | portable ÷ this | check |")
        print("|---|---:|---:|---:|---|---:|---:|---|")
        for m in r["matmul"]:
            if m["skipped"]:
                print("| %s | %d | %d | %d | %s | skipped: %s | | |" % (m["shape"], m["M"], m["N"], m["P"], m["variant"],
                                                                   m["note"]))
                continue
            c = m["check"]
            if c["against"] == "scalar reference":
                check = ("bit for bit = reference (%d rows)" if c["bitwise_equal"] else "DIFFERS (%d rows)") % c["rows"]
            else:
                check = "max abs diff %.2g" % (c["max_abs_diff"] or 0)
            print("| %s | %d | %d | %d | %s | %.1f | %.2f | %s |" % (m["shape"], m["M"], m["N"], m["P"], m["variant"],
                                                                    m["gflops"], m["portable_over_this"], check))
    if r.get("matmul_note"):
        print()
        print(r["matmul_note"])
    print()
    print("| goal | device | state | measured |")
    print("|---|---|---|---|")
    for g in r["goals"]:
        print("| %s | %s | %s | %s |" % (g["goal"], g["device"], g["state"], g["detail"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
