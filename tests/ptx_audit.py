#!/usr/bin/env python3
"""ptx_audit.py - checks that nvcc's PTX for the portable CUDA kernels keeps the contract.

docs/numerics.md promises float32 with no contraction except the fmaf the source writes, no
flush-to-zero and IEEE division and square root. The flags (--fmad=false -prec-div=true
-prec-sqrt=true -ftz=false) ask nvcc for that; this script checks that the PTX it emits
really is that, so a changed flag, a new header or a new nvcc cannot quietly break the bits.
Each source is compiled twice to PTX:

  normal:  the project's flags. Findings: add/sub/mul on .f32/.f64 without a rounding
           modifier (ptxas may fuse such a mul and add into an FMA; .rn forbids it), any
           .ftz, any .approx or .full, div/sqrt/rcp that is not .rn, and float atomics
           (they sum in arrival order).
  fmaf:    the same flags with tests/ptx_audit_fmaf.h forced in, which routes every fmaf the
           source writes through one __noinline__ function: an fma anywhere else was not
           written by the source (a contraction or a library routine) and is a finding.

--expect-fail proves the audit can fail: it builds the same sources with --fmad=true and with
--use_fast_math in place of the numerics flags and fails unless each build is caught with
the kinds of finding that flag must cause. Exit status: 0 clean (or, with --expect-fail,
every bad build caught), 1 findings (or a bad build not caught), 2 the tool failed (nvcc).
"""
import argparse, collections, concurrent.futures, os, re, shlex, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["kernels/cuda/gemm.cu", "kernels/cuda/ops.cu", "kernels/cuda/math_check.cu"]
DEFAULT_FLAGS = "--fmad=false -prec-div=true -prec-sqrt=true -ftz=false -std=c++20"
WRAPPER = "dt_audit_fmaf"  # the function of tests/ptx_audit_fmaf.h
# The flags that set the numerics; --expect-fail replaces them with a contracting flag.
NUMERIC_FLAG = re.compile(r"^--?(fmad|prec-div|prec_div|prec-sqrt|prec_sqrt|ftz|use_fast_math|use-fast-math)(=|$)")
BAD_BUILDS = [("--fmad=true", {"unrounded", "contracted"}), ("--use_fast_math", {"ftz", "approx"})]

FLOAT_TYPES = {"f16", "f16x2", "bf16", "bf16x2", "f32", "f32x2", "f64"}
ROUNDING = {"rn", "rz", "rm", "rp"}
HEADER = re.compile(r"^\s*(?:\.(?:visible|weak|extern)\s+)*\.(?:entry|func)\s+(?:\([^)]*\)\s*)?([\w$]+)")
LABEL = re.compile(r"^[\w$]+:\s*")
PREDICATE = re.compile(r"^@!?%\w+\s+")

Finding = collections.namedtuple("Finding", "ptx function line text kind why")


class AuditError(Exception):
    """The tool itself failed (nvcc missing or rejecting a source): exit status 2."""


def compile_ptx(nvcc, source, ptx, arch, flags, root, force_include=None):
    """Writes the PTX of `source` to `ptx` with nvcc, includes from root/kernels. Raises
    AuditError with nvcc's first error line when nvcc is missing or fails."""
    cmd = [nvcc, "-ptx", f"-arch=compute_{arch}", *flags, "-I", str(root / "kernels"),
           "-I", str(root / "kernels" / "cuda"), "-o", str(ptx), str(source)]
    if force_include:
        cmd[1:1] = ["-include", str(force_include)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise AuditError(f"cannot run nvcc ({nvcc}): {e.strerror}")
    if run.returncode != 0:
        lines = [l.strip() for l in (run.stderr + run.stdout).splitlines() if l.strip()]
        first = next((l for l in lines if "error" in l.lower()), lines[-1] if lines else "no message")
        more = f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
        raise AuditError(f"nvcc failed (exit {run.returncode}) on {source}: {first}{more}")


def demangler(names):
    """Maps each mangled name to a readable one with c++filt (or cu++filt); the mangled
    name itself when neither tool runs."""
    tool = shutil.which("c++filt") or shutil.which("cu++filt")
    if not tool or not names:
        return {n: n for n in names}
    run = subprocess.run([tool], input="\n".join(names) + "\n", capture_output=True, text=True)
    out = run.stdout.splitlines()
    return dict(zip(names, out)) if run.returncode == 0 and len(out) == len(names) else {n: n for n in names}


def functions(ptx_text):
    """Yields (mangled name, [(line number, instruction text)]) for every .entry/.func with a
    body. Nested braces (call sequences) stay in the function; comments and labels are cut."""
    name, body, depth, opened = None, [], 0, False
    for number, raw in enumerate(ptx_text.splitlines(), 1):
        line = re.sub(r"/\*.*?\*/", "", raw.split("//")[0]).strip()
        if name is None:
            m = HEADER.match(line)
            if m and not line.endswith(";"):  # a prototype has no body
                name, body, depth, opened = m.group(1), [], 0, False
            else:
                continue
        if not opened and line.endswith(";"):  # a prototype written over several lines
            name = None
            continue
        depth += line.count("{") - line.count("}")
        opened = opened or "{" in line
        stmt = PREDICATE.sub("", LABEL.sub("", line.strip("{} ")))
        if opened and stmt and not stmt.startswith("."):
            body.append((number, stmt))
        if opened and depth == 0:
            yield name, body
            name = None


def rules(stmt, fmaf_build):
    """The findings (kind, why) of one instruction: fma provenance in the fmaf build, the
    rounding, ftz and approximation rules in the normal build."""
    modifiers = stmt.split()[0].split(".")
    op, quals = modifiers[0], set(modifiers[1:])
    is_float = bool(quals & FLOAT_TYPES)
    if fmaf_build:
        return [("contracted", "fma the source did not write (contraction or library code)")] \
            if op == "fma" and is_float else []
    found = []
    if op in ("add", "sub", "mul") and is_float and not quals & ROUNDING:
        found.append(("unrounded", "no rounding modifier: ptxas may fuse it into an FMA"))
    if "ftz" in quals:
        found.append(("ftz", "flushes subnormals to zero"))
    if quals & {"approx", "full"}:
        found.append(("approx", "approximate, not correctly rounded"))
    elif op in ("div", "sqrt", "rcp") and is_float and "rn" not in quals:
        found.append(("approx", "division/sqrt/reciprocal must be IEEE .rn"))
    if op in ("atom", "red") and is_float and "add" in quals:
        found.append(("atomic", "float atomic add: the sum depends on arrival order"))
    return found


def audit_ptx(ptx_path, fmaf_build):
    """Audits one PTX file. Returns (findings, stats) with stats counting functions, float
    instructions and (fmaf build) calls of the fmaf wrapper."""
    funcs = list(functions(ptx_path.read_text()))
    readable = demangler([name for name, _ in funcs])
    findings, stats = [], collections.Counter()
    for name, body in funcs:
        stats["functions"] += 1
        if WRAPPER in name:
            continue  # the one place where the source's fmaf lives
        for number, stmt in body:
            stats["fmaf_calls"] += WRAPPER in stmt
            stats["float"] += bool(set(stmt.split()[0].split(".")[1:]) & FLOAT_TYPES)
            for kind, why in rules(stmt, fmaf_build):
                text = " ".join(stmt.rstrip(";").split())
                findings.append(Finding(ptx_path.name, readable[name], number, text, kind, why))
    return findings, stats


def audit(nvcc, sources, arch, flags, root, out_dir):
    """Compiles every source twice (normal, fmaf) into out_dir, in parallel, and audits the
    PTX. Returns {source: (findings, normal stats, fmaf stats)}; raises AuditError when nvcc
    fails or a PTX file holds no function (the parser would then pass it unread)."""
    header = Path(__file__).resolve().parent / "ptx_audit_fmaf.h"
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        for src in sources:
            stem = Path(src).stem
            for fmaf_build in (False, True):
                ptx = out_dir / (stem + (".fmaf.ptx" if fmaf_build else ".ptx"))
                inc = header if fmaf_build else None
                jobs[(src, fmaf_build)] = (ptx, pool.submit(compile_ptx, nvcc, src, ptx, arch, flags, root, inc))
    for ptx, future in jobs.values():
        future.result()  # raises the first nvcc failure
    results = {}
    for src in sources:
        normal, normal_stats = audit_ptx(jobs[(src, False)][0], False)
        fmaf, fmaf_stats = audit_ptx(jobs[(src, True)][0], True)
        if not normal_stats["functions"] or not fmaf_stats["functions"]:
            raise AuditError(f"no .entry or .func found in the PTX of {src}: PTX format not understood")
        results[src] = (normal + fmaf, normal_stats, fmaf_stats)
    return results


def summary_lines(results, root):
    """One line per source: functions, float instructions and fmaf calls checked, findings."""
    for src, (findings, normal, fmaf) in results.items():
        yield (f"  {os.path.relpath(src, root)}: {normal['functions']} functions"
               f", {normal['float']} float instructions,"
               f" {fmaf['fmaf_calls']} fmaf calls from the source, {len(findings)} findings")


def contracted_flags(flags, bad_flag):
    """The project's flags with every numerics flag replaced by bad_flag. Expects the
    --flag=value spelling; a separate value would reach nvcc as a file name (exit 2)."""
    return [flag for flag in flags if not NUMERIC_FLAG.match(flag)] + [bad_flag]


def expect_fail(nvcc, sources, arch, flags, out, root):
    """Audits each bad build of BAD_BUILDS; returns 0 when every one is caught with all the
    kinds of finding it must cause, else 1. Prints the counts and one example per kind."""
    status = 0
    for bad_flag, must in BAD_BUILDS:
        build_flags = contracted_flags(flags, bad_flag)
        results = audit(nvcc, sources, arch, build_flags, root, out / bad_flag.strip("-"))
        findings = [f for r in results.values() for f in r[0]]
        kinds = collections.Counter(f.kind for f in findings)
        missing = sorted(must - set(kinds))
        caught = findings and not missing
        status |= 0 if caught else 1
        print(f"ptx_audit --expect-fail: {' '.join(build_flags)}: {len(findings)} findings ("
              + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + "): "
              + ("caught" if caught else f"NOT CAUGHT (missing kinds: {', '.join(missing) or 'all'})"))
        for kind in sorted(kinds):
            f = next(f for f in findings if f.kind == kind)
            print(f"    e.g. {f.ptx}: {f.function}: {f.line}: {f.text}: {f.why}")
    print(f"ptx_audit --expect-fail: {'every contracting build caught' if status == 0 else 'FAILED'}")
    return status


def main():
    """Parses the command line, runs the audit or the --expect-fail check, prints the
    findings and the summary, and returns the exit status (0, 1 or 2)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sources", nargs="*", default=SOURCES, help="CUDA sources, relative to --source-dir")
    p.add_argument("--nvcc", default="nvcc")
    p.add_argument("--source-dir", type=Path, default=ROOT, help="the repository root")
    p.add_argument("--arch", default="90", help="virtual architecture: 90 gives -arch=compute_90")
    p.add_argument("--flags", default=DEFAULT_FLAGS, help="the project's CUDA flags, as one string")
    p.add_argument("--out-dir", type=Path, help="keep the PTX here (default: a temporary folder)")
    p.add_argument("--expect-fail", action="store_true", help="prove contracting builds are caught")
    args = p.parse_args()
    arch = re.sub(r"^(sm_|compute_)", "", args.arch)
    flags = shlex.split(args.flags)
    sources = [str((args.source_dir / s).resolve()) for s in args.sources]
    missing = [s for s in sources if not Path(s).is_file()]
    if missing:
        print(f"ptx_audit: no such CUDA source: {', '.join(missing)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ptx_audit.") as tmp:
        out = args.out_dir or Path(tmp)
        try:
            if args.expect_fail:
                return expect_fail(args.nvcc, sources, arch, flags, out, args.source_dir.resolve())
            results = audit(args.nvcc, sources, arch, flags, args.source_dir.resolve(), out)
        except AuditError as e:
            print(f"ptx_audit: {e}", file=sys.stderr)
            return 2
    findings = [f for r in results.values() for f in r[0]]
    for f in findings:
        print(f"{f.ptx}: {f.function}: {f.line}: {f.text}: {f.kind}: {f.why}")
    where = args.out_dir or "(temporary folder)"
    print(f"ptx_audit: compute_{arch}, flags {' '.join(flags) or '(none)'}; PTX in {where}")
    print("\n".join(summary_lines(results, args.source_dir)))
    print(f"ptx_audit: {'FAILED, ' + str(len(findings)) + ' findings' if findings else 'clean'}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
