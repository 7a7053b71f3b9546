#!/usr/bin/env python3
"""plot_check.py — a file of `detrain plot` checked with real parsers, the standard library only
(PIL too when it is installed). Prints each problem and exits 1, or says what it checked.

SVG: the document parses as XML, its root is <svg> in the SVG namespace; it holds exactly one
<path class="curve"> per expected (run, metric) and no other, each with the expected number of
points ("M x y" / "L x y"), starting with a move; a legend line "RUN — metric" per curve; the
expected number of panels; a <circle class="best"> exactly where expected: on the curve of its
run and metric, at its K-th point.

PNG: the chunks (signature, each chunk's CRC, IHDR first with width and height > 0, IDAT
decompressing to exactly the rows IHDR announces, IEND last), the size when given; then, when
PIL imports, PIL opens and decodes it and finds pixels of the first run's colour (#1f77b4).

usage: plot_check.py svg FILE.svg [--curve RUN METRIC N_POINTS]... [--best RUN METRIC K]...
                         [--panels N]
       plot_check.py png FILE.png [--size WIDTH HEIGHT]
"""
import argparse
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

SVG_NS = "{http://www.w3.org/2000/svg}"
POINT = re.compile(r"([ML])(-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)")


def points_of(d):
    """The (command, x, y) of a path's data; None when it holds anything else."""
    found = POINT.findall(d)
    if " ".join(f"{c}{x} {y}" for c, x, y in found) != d.strip():
        return None
    return [(c, float(x), float(y)) for c, x, y in found]


def check_svg(args, problems):
    try:
        root = ET.parse(args.file).getroot()
    except ET.ParseError as e:
        problems.append(f"{args.file}: not well-formed XML: {e}")
        return 0
    if root.tag != SVG_NS + "svg":
        problems.append(f"root element {root.tag}, expected {SVG_NS}svg")
    curves = {}
    for path in root.iter(SVG_NS + "path"):
        if path.get("class") != "curve":
            continue
        key = (path.get("data-run"), path.get("data-metric"))
        if key in curves:
            problems.append(f"two curves of {key}")
        curves[key] = points_of(path.get("d", ""))
    expected = {(run, metric): int(n) for run, metric, n in args.curve}
    for key in sorted(set(curves) - set(expected), key=str):
        problems.append(f"an unexpected curve {key}")
    legend = {t.text for t in root.iter(SVG_NS + "text")}
    for key, n in expected.items():
        points = curves.get(key, "missing")
        if points == "missing":
            problems.append(f"no curve {key}")
        elif points is None:
            problems.append(f"curve {key}: its path data is not 'M x y L x y ...'")
        elif len(points) != n or points[0][0] != "M":
            problems.append(f"curve {key}: {len(points)} points, expected {n} starting with M")
        if f"{key[0]} \u2014 {key[1]}" not in legend:
            problems.append(f"curve {key}: no legend line '{key[0]} \u2014 {key[1]}'")
    panels = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "panel"]
    if args.panels is not None and len(panels) != args.panels:
        problems.append(f"{len(panels)} panels, expected {args.panels}")
    check_best(root, curves, args.best, problems)
    return len(curves)


def check_best(root, curves, expected, problems):
    """The best-epoch circles: one per expected (run, metric), on the K-th point of its curve."""
    circles = [c for c in root.iter(SVG_NS + "circle") if c.get("class") == "best"]
    if len(circles) != len(expected):
        problems.append(f"{len(circles)} best-epoch markers, expected {len(expected)}")
    for run, metric, k in expected:
        match = [c for c in circles if (c.get("data-run"), c.get("data-metric")) == (run, metric)]
        points = curves.get((run, metric)) or []
        if len(match) != 1 or int(k) > len(points):
            problems.append(f"best-epoch marker of {(run, metric)}: {len(match)} found, curve of {len(points)} points")
            continue
        at = (float(match[0].get("cx")), float(match[0].get("cy")))
        if at != points[int(k) - 1][1:]:
            problems.append(f"best-epoch marker of {(run, metric)} at {at}, its point {k} is {points[int(k) - 1][1:]}")


def png_chunks(data, problems):
    """The (type, payload) of each chunk, CRCs checked."""
    chunks, at = [], 8
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        if at + 12 + length > len(data):
            problems.append(f"chunk at byte {at}: {length} bytes announced, the file ends before")
            return chunks
        kind, payload = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        if zlib.crc32(kind + payload) != crc:
            problems.append(f"chunk {kind!r} at byte {at}: bad CRC")
        chunks.append((kind, payload))
        at += 12 + length
    if at != len(data):
        problems.append(f"{len(data) - at} bytes after the last chunk")
    return chunks


def check_png(args, problems):
    data = open(args.file, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        problems.append("no PNG signature")
        return 0
    chunks = png_chunks(data, problems)
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        problems.append(f"chunks {[k for k, _ in chunks]}: IHDR must come first and IEND last")
        return 0
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    if width == 0 or height == 0:
        problems.append(f"IHDR: {width} x {height}")
    if args.size and (width, height) != tuple(args.size):
        problems.append(f"{width} x {height} pixels, expected {args.size[0]} x {args.size[1]}")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 0)
    try:
        pixels = zlib.decompress(b"".join(p for k, p in chunks if k == b"IDAT"))
        if len(pixels) != height * (1 + (width * channels * depth + 7) // 8):
            problems.append(f"IDAT: {len(pixels)} bytes, not {height} rows of {width} pixels")
    except zlib.error as e:
        problems.append(f"IDAT does not decompress: {e}")
    check_with_pil(args.file, width, height, problems)
    return f"{len(chunks)} chunks, {width} x {height} pixels"


def check_with_pil(path, width, height, problems):
    try:
        from PIL import Image
    except ImportError:
        return print("PIL: skipped (python3-pil is not installed)")
    with Image.open(path) as image:
        image.load()
        if image.size != (width, height):
            problems.append(f"PIL reads {image.size}, IHDR says {(width, height)}")
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
        if not any(rgb == (0x1f, 0x77, 0xb4) for _, rgb in colours):
            problems.append("PIL: no pixel of the first run's colour #1f77b4: the curves were not drawn")
        else:
            print(f"PIL: decoded {image.size[0]} x {image.size[1]}, {len(colours)} colours, the curves drawn")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["svg", "png"])
    parser.add_argument("file")
    parser.add_argument("--curve", nargs=3, action="append", default=[])
    parser.add_argument("--best", nargs=3, action="append", default=[])
    parser.add_argument("--panels", type=int)
    parser.add_argument("--size", nargs=2, type=int)
    args = parser.parse_args()
    problems = []
    n = check_svg(args, problems) if args.kind == "svg" else check_png(args, problems)
    for p in problems:
        print("FAIL:", p)
    what = f"{n} curves" if args.kind == "svg" else f"{n} checked"
    print(f"plot_check: {args.file}: {what}; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
