#!/usr/bin/env python3
"""gemm_audit.py - checks what ptxas makes of the portable GEMM against its occupancy plan.

kernels/cuda/gemm.cu instantiates gemm_portable_kernel once per tile shape
(gemm_tiles<TM, TN, RM, RN, BLOCKS_PER_SM>) and loader (edge_loader: any product;
vec_loader: 128-bit loads for products whose tiles all lie inside C), visible in the mangled
name. The plan of each:
(TM / RM) * (TN / RN) threads a block, BLOCKS_PER_SM blocks resident on an SM, so at most
65536 / (threads * BLOCKS_PER_SM) registers a thread. nvcc compiles gemm.cu for one real
architecture with ptxas -v, and for each instantiation this fails on:

  spills      a stack frame, spill stores or spill loads (local memory in the main loop);
  registers   more registers than the plan allows;
  scalar-lds  a 32-bit shared load in the PTX: the fragments must be read 128 bits at a time;
  fma-count   fewer fma.rn.f32 than one unrolled k-tile needs (TK * RM * RN), i.e. the inner
              loop was not unrolled;
  ffma-share  (with --sass: nvdisasm reads the SASS) in the main loop of the large tiles'
              128-bit loader, the path of compute-bound products, FFMA under 85% of the
              instructions (the rest: shared loads, the next tile's loads and stores, the
              barrier, the loop). The other kernels' shares are reported.

--expect-fail proves the audit can fail: it compiles two altered copies of gemm.cu, one
asking for 4 resident blocks of the large tiles (64 registers: they must spill) and one
with the k-tile loop not unrolled, and fails unless each is caught with its finding (with
--sass, the second also by its FFMA share). Exit status: 0 as planned (or, with
--expect-fail, the bad build caught), 1 findings, 2 the tool failed (nvcc, nvdisasm), 77
--sass without an nvdisasm (tests/pyenv.sh installs NVIDIA's from PyPI into BUILD/pyenv).
"""
import argparse, glob, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "kernels" / "cuda" / "gemm.cu"
TK = 8  # gemm_tiles::TK
TILES = re.compile(r"gemm_portable_kernelI10gemm_tilesILi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)EE\d+(\w+?)_loaderE")
# --sass: the least FFMA share of the main loop, by (TM, loader); shapes not named are reported
FFMA_SHARE_FLOOR = {(128, "vec"): 0.85}
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


def sass_loop_shares(sass):
    """{mangled kernel: (FFMA, instructions)} of its main loop: of the loops nvdisasm shows (a
    branch back to a label before it), the one with the most FFMA."""
    shares = {}
    parts = re.split(r"\n//-+ \.text\.(\w+) -+\n", sass)
    for name, body in zip(parts[1::2], parts[2::2]):
        instructions, labels = [], {}
        for line in body.splitlines():
            if m := re.match(r"^(\.L_x_\d+):", line):
                labels[m.group(1)] = len(instructions)
            elif re.match(r"\s*/\*[0-9a-f]{4,}\*/", line):
                instructions.append(line)
        best = (0, 0)
        for at, line in enumerate(instructions):
            m = re.search(r"\bBRA\b.*`\((\.L_x_\d+)\)", line)
            if m and labels.get(m.group(1), at + 1) <= at:
                loop = instructions[labels[m.group(1)]:at + 1]
                ffma = sum(1 for x in loop if re.search(r"\bFFMA\b", x))
                best = max(best, (ffma, len(loop)))
        shares[name] = best
    return shares


def nvdisasm_path(args):
    """The nvdisasm to use: --nvdisasm, else one on PATH, else NVIDIA's wheel in --pyenv; None."""
    if args.nvdisasm:
        return args.nvdisasm
    found = shutil.which("nvdisasm")
    if not found and args.pyenv:
        wheel = sorted(glob.glob(f"{args.pyenv}/lib/python3*/site-packages/nvidia/cu*/bin/nvdisasm"))
        found = wheel[-1] if wheel else None
    return found


def disassemble(nvdisasm, cubin):
    """nvdisasm's text of the cubin; exits 2 when it fails."""
    run = subprocess.run([nvdisasm, "-c", str(cubin)], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"gemm_audit: nvdisasm failed: {run.stderr.strip()[:300]}", file=sys.stderr)
        sys.exit(2)
    return run.stdout


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
        shares = sass_loop_shares(disassemble(args.nvdisasm, cubin)) if args.sass else {}
    findings, rows = [], []
    shapes = [k for k in report if TILES.search(k)]
    if not shapes:
        findings.append(("gemm.cu", "no gemm_portable_kernel<gemm_tiles<...>> in ptxas's report"))
    for kernel in shapes:
        *numbers, loader = TILES.search(kernel).groups()
        tm, tn, rm, rn, blocks = (int(x) for x in numbers)
        threads = (tm // rm) * (tn // rn)
        limit = min(255, 65536 // (threads * blocks))
        stack, stores, loads, regs = report[kernel]
        body = bodies.get(kernel, "")
        v4 = len(re.findall(r"\bld\.shared\.v4\.f32\b", body))
        scalar = len(re.findall(r"\bld\.shared\.f32\b", body))
        fmas = len(re.findall(r"\bfma\.rn\.f32\b", body))
        name = f"{tm}x{tn}, {rm}x{rn} a thread, {loader}"
        ffma, instructions = shares.get(kernel, (0, 0))
        share = ffma / instructions if instructions else None
        floor = FFMA_SHARE_FLOOR.get((tm, loader))
        if args.sass and floor and (share is None or share < floor):
            findings.append((name, f"ffma-share: {ffma} FFMA of {instructions} instructions in the main loop, "
                                   f"under {100 * floor:.0f}%"))
        if stack or stores or loads:
            findings.append((name, f"spills: {stack} bytes stack, {stores} bytes spill stores, {loads} loads"))
        if regs > limit:
            findings.append((name, f"registers: {regs}, the plan allows {limit} ({threads} threads x {blocks} blocks)"))
        if scalar or not v4:
            findings.append((name, f"scalar-lds: {scalar} 32-bit shared loads, {v4} of 128 bits"))
        if fmas < TK * rm * rn:
            findings.append((name, f"fma-count: {fmas} fma.rn.f32, an unrolled k-tile has {TK * rm * rn}"))
        rows.append((name, threads, blocks, regs, limit, stores + loads, v4, fmas,
                     f"{ffma}/{instructions} {100 * share:.1f}%" if share is not None else "-"))
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
        caught = kind in kinds and (not args.sass or kind != "fma-count" or "ffma-share" in kinds)
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
    parser.add_argument("--sass", action="store_true", help="also the FFMA share of the main loops (nvdisasm)")
    parser.add_argument("--nvdisasm", help="the nvdisasm to use (default: PATH, else --pyenv's)")
    parser.add_argument("--pyenv", help="a virtual environment that may hold NVIDIA's nvdisasm wheel")
    args = parser.parse_args()
    if args.sass:
        args.nvdisasm = nvdisasm_path(args)
        if not args.nvdisasm:
            print("SKIP: no nvdisasm (not on PATH, nor in --pyenv: tests/pyenv.sh installs it)")
            return 77
    if args.expect_fail:
        return expect_fail(args)
    findings, rows = audit(args)
    print(f"{'kernel':<32}{'threads':>8}{'blocks/SM':>10}{'regs':>6}{'plan':>6}{'spill B':>9}"
          f"{'lds.v4':>8}{'fma':>6}  {'main loop FFMA (SASS)'}")
    for name, threads, blocks, regs, limit, spill, v4, fmas, share in rows:
        print(f"{name:<32}{threads:>8}{blocks:>10}{regs:>6}{limit:>6}{spill:>9}{v4:>8}{fmas:>6}  {share}")
    for name, why in findings:
        print(f"gemm_audit: {name}: {why}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
