#!/usr/bin/env python3
"""gemm_audit.py - checks what ptxas makes of the portable GEMM against its occupancy plan.

kernels/cuda/gemm.cu instantiates gemm_portable_kernel once per tile shape
(gemm_tiles<TM, TN, RM, RN, BLOCKS_PER_SM>, visible in the mangled name). The plan of each:
(TM / RM) * (TN / RN) threads a block, BLOCKS_PER_SM blocks resident on an SM, so at most
65536 / (threads * BLOCKS_PER_SM) registers a thread. nvcc compiles gemm.cu for one real
architecture with ptxas -v, and for each instantiation this fails on:

  spills      a stack frame, spill stores or spill loads (local memory in the main loop);
  registers   more registers than the plan allows;
  scalar-lds  a 32-bit shared load in the PTX: the fragments must be read 128 bits at a time;
  fma-count   fewer fma.rn.f32 than one unrolled k-tile needs (TK * RM * RN), i.e. the inner
              loop was not unrolled.

--expect-fail proves the audit can fail: it compiles two altered copies of gemm.cu, one
asking for 4 resident blocks of the large tiles (64 registers: they must spill) and one
with the k-tile loop not unrolled, and fails unless each is caught with its finding. Exit status: 0 as planned (or, with
--expect-fail, the bad build caught), 1 findings, 2 the tool failed (nvcc).
"""
import argparse, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "kernels" / "cuda" / "gemm.cu"
TK = 8  # gemm_tiles::TK
TILES = re.compile(r"gemm_portable_kernelI10gemm_tilesILi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)EE")
PTXAS_ENTRY = re.compile(r"Compiling entry function '(\w+)'")
PTXAS_SPILL = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
PTXAS_REGS = re.compile(r"Used (\d+) registers")
# --expect-fail: (what is altered, text in gemm.cu, its replacement, the finding it must cause)
MUTANTS = [
    ("4 blocks of the large tiles a SM", "gemm_tiles<128, 128, 8, 8, 2>", "gemm_tiles<128, 128, 8, 8, 4>", "spills"),
    ("the k-tile loop not unrolled", "#pragma unroll\n        for (int kk = 0;", "#pragma unroll 1\n        for (int kk = 0;",
     "fma-count"),
]


def nvcc(args):
    """Runs nvcc with args; returns its stderr. Exits 2 when nvcc is missing or fails."""
    try:
        run = subprocess.run(args, capture_output=True, text=True)
    except OSError as e:
        print(f"gemm_audit: cannot run {args[0]}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    if run.returncode != 0:
        first = next((l for l in run.stderr.splitlines() if "error" in l), run.stderr.strip()[:300])
        print(f"gemm_audit: nvcc failed: {first}", file=sys.stderr)
        sys.exit(2)
    return run.stderr


def ptxas_report(text):
    """{mangled kernel: (stack, spill stores, spill loads, registers)} from ptxas -v."""
    report, current = {}, None
    for line in text.splitlines():
        if m := PTXAS_ENTRY.search(line):
            current = m.group(1)
        elif current and (m := PTXAS_SPILL.search(line)):
            report[current] = tuple(int(x) for x in m.groups())
        elif current and (m := PTXAS_REGS.search(line)):
            report[current] = report.get(current, (0, 0, 0)) + (int(m.group(1)),)
            current = None
    return report


def ptx_bodies(ptx):
    """{mangled kernel: its PTX body} of every .entry."""
    bodies, name, lines = {}, None, []
    for line in ptx.splitlines():
        if m := re.match(r"^\s*\.visible\s+\.entry\s+(\w+)", line):
            name, lines = m.group(1), []
        elif name:
            lines.append(line)
            if line.startswith("}"):
                bodies[name], name = "\n".join(lines), None
    return bodies


def audit(args):
    """Compiles gemm.cu and returns (findings, table rows) for every tile shape."""
    flags = args.flags.split()
    include = ["-I", str(args.source_dir / "kernels"), "-I", str(args.source_dir / "kernels" / "cuda")]
    source = str(args.source_dir / "kernels" / "cuda" / "gemm.cu")
    with tempfile.TemporaryDirectory() as tmp:
        cubin, ptx = Path(tmp) / "gemm.cubin", Path(tmp) / "gemm.ptx"
        report = ptxas_report(nvcc([args.nvcc, "-cubin", f"-arch=sm_{args.arch}", *flags, *include,
                                    "-Xptxas", "-v", "-o", str(cubin), source]))
        nvcc([args.nvcc, "-ptx", f"-arch=compute_{args.arch}", *flags, *include, "-o", str(ptx), source])
        bodies = ptx_bodies(ptx.read_text())
    findings, rows = [], []
    shapes = [k for k in report if TILES.search(k)]
    if not shapes:
        findings.append(("gemm.cu", "no gemm_portable_kernel<gemm_tiles<...>> in ptxas's report"))
    for kernel in shapes:
        tm, tn, rm, rn, blocks = (int(x) for x in TILES.search(kernel).groups())
        threads = (tm // rm) * (tn // rn)
        limit = min(255, 65536 // (threads * blocks))
        stack, stores, loads, regs = report[kernel]
        body = bodies.get(kernel, "")
        v4 = len(re.findall(r"\bld\.shared\.v4\.f32\b", body))
        scalar = len(re.findall(r"\bld\.shared\.f32\b", body))
        fmas = len(re.findall(r"\bfma\.rn\.f32\b", body))
        name = f"{tm}x{tn} tiles, {rm}x{rn} a thread"
        if stack or stores or loads:
            findings.append((name, f"spills: {stack} bytes stack, {stores} bytes spill stores, {loads} loads"))
        if regs > limit:
            findings.append((name, f"registers: {regs}, the plan allows {limit} ({threads} threads x {blocks} blocks)"))
        if scalar or not v4:
            findings.append((name, f"scalar-lds: {scalar} 32-bit shared loads, {v4} of 128 bits"))
        if fmas < TK * rm * rn:
            findings.append((name, f"fma-count: {fmas} fma.rn.f32, an unrolled k-tile has {TK * rm * rn}"))
        rows.append((name, threads, blocks, regs, limit, stores + loads, v4, fmas))
    return findings, rows


def expect_fail(args):
    """Audits each mutant of gemm.cu in a copy of kernels/; 0 when every one is caught."""
    text = (args.source_dir / "kernels" / "cuda" / "gemm.cu").read_text()
    missed = 0
    for what, find, replace, kind in MUTANTS:
        if find not in text:
            print(f"gemm_audit: cannot make the mutant '{what}': gemm.cu no longer has {find!r}", file=sys.stderr)
            sys.exit(2)
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(args.source_dir / "kernels", Path(tmp) / "kernels")
            (Path(tmp) / "kernels" / "cuda" / "gemm.cu").write_text(text.replace(find, replace))
            findings, _ = audit(argparse.Namespace(**{**vars(args), "source_dir": Path(tmp)}))
        kinds = sorted({why.split(":")[0] for _, why in findings})
        caught = kind in kinds
        missed += not caught
        print(f"{what}: {'caught' if caught else 'NOT caught'} ({', '.join(kinds) or 'no findings'})")
    return 1 if missed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvcc", default="nvcc")
    parser.add_argument("--arch", default="90", help="real architecture for ptxas (default 90)")
    parser.add_argument("--flags", default="--fmad=false -prec-div=true -prec-sqrt=true -ftz=false -std=c++20")
    parser.add_argument("--source-dir", type=Path, default=ROOT)
    parser.add_argument("--expect-fail", action="store_true", help="prove that a spilling build is caught")
    args = parser.parse_args()
    if args.expect_fail:
        return expect_fail(args)
    findings, rows = audit(args)
    print(f"{'tile shape':<28}{'threads':>8}{'blocks/SM':>10}{'regs':>6}{'plan':>6}{'spill B':>9}"
          f"{'lds.v4':>8}{'fma':>6}")
    for name, threads, blocks, regs, limit, spill, v4, fmas in rows:
        print(f"{name:<28}{threads:>8}{blocks:>10}{regs:>6}{limit:>6}{spill:>9}{v4:>8}{fmas:>6}")
    for name, why in findings:
        print(f"gemm_audit: {name}: {why}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
