#!/usr/bin/env python3
"""function_size.py — functions short enough to see whole (issue 19; ../STYLE.md: about 60 lines).

Scans every .c and .cu file under host/ and bench/ for function definitions and fails when one
is longer than LIMIT lines, counted from the first line of its signature to its closing brace,
both included. The sources' own shape is the grammar: a definition starts in column 0 (its
signature may span lines), its body opens with `{` at brace depth 0 and ends at the matching
`}` in column 0. Comments, string and character literals and preprocessor lines are blanked
first, so a brace in them is not counted. A `{` at depth 0 after `=` opens an initialiser
(a table, not a function), after struct/union/enum a type, after `extern "C"` a linkage block
whose contents are scanned like the file's. A brace this scanner cannot place (a body whose
end is not in column 0, a block it cannot name) is reported too: it must not be fooled quietly.

A genuine function that is a table (a switch mapping names to values) may stay longer when the
line before its definition carries the marker `function_size: table`; those are listed. A
marker on a function within the limit is reported, so that no stale allowance remains.

Prints `path:line: NAME is N lines (limit 60)` per offender and exits 1, or prints a one-line
summary (files, functions, the ten longest) and exits 0.

usage: function_size.py SOURCE_DIR
"""
import os
import re
import sys

LIMIT = 60
TOPS = ["host", "bench"]
SOURCE_EXT = (".c", ".cu")
MARKER = "function_size: table"
# Names before a parenthesis that are not the function's: attributes in a signature.
NOT_A_NAME = {"__attribute__", "__declspec", "__launch_bounds__", "alignas", "_Alignas"}


def blank(text):
    """`text` with comments, the insides of string and character literals and preprocessor
    lines (with their continuations) replaced by spaces; newlines stay, so lines and columns
    keep their numbers. A literal keeps its quotes, so `extern "C"` reads `extern " "`."""
    out = []
    i, n = 0, len(text)
    line_start = True  # only whitespace since the last newline: a `#` opens a directive
    while i < n:
        c = text[i]
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
            continue
        if line_start and c == "#":
            # A directive runs to the end of the line, or further after a backslash.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                if text.startswith("/*", i):  # a block comment in a directive may span lines
                    end = text.find("*/", i + 2)
                    end = n if end < 0 else end + 2
                    out.append(re.sub(r"[^\n]", " ", text[i:end]))
                    i = end
                    continue
                out.append(" ")
                i += 1
            continue
        if not c.isspace():
            line_start = False
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c in "\"'":
            out.append(c)
            i += 1
            while i < n and text[i] != c and text[i] != "\n":
                step = 2 if text[i] == "\\" and i + 1 < n else 1
                out.append(re.sub(r"[^\n]", " ", text[i:i + step]))
                i += step
            if i < n and text[i] == c:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(clean, open_at):
    """The index of the `}` that closes the `{` at `open_at` in blanked text; -1: none."""
    depth = 0
    for i in range(open_at, len(clean)):
        if clean[i] == "{":
            depth += 1
        elif clean[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def function_name(head):
    """The name of the function whose signature (blanked, up to its `{`) is `head`, or None
    when `head` is not a signature: the identifier before the first parenthesis at depth 0
    that does not belong to an attribute, and the signature ends with its parameter list
    (or a trailing attribute)."""
    if not re.search(r"\)\s*(const\s*)?$", head):
        return None
    depth = 0
    for m in re.finditer(r"[()]", head):
        if m.group() == ")":
            depth -= 1
            continue
        if depth == 0:
            name = re.search(r"([A-Za-z_]\w*)\s*$", head[:m.start()])
            if name and name.group(1) not in NOT_A_NAME:
                return name.group(1)
        depth += 1
    return None


def scan(text):
    """Function definitions in C/CUDA source `text`: (functions, problems), where functions
    holds (name, first line, n_lines, marked) and problems holds (line, message) for the braces
    this scanner cannot place."""
    clean = blank(text)
    lines = text.split("\n")
    line_of = lambda pos: clean.count("\n", 0, pos) + 1
    column_of = lambda pos: pos - (clean.rfind("\n", 0, pos) + 1)
    functions, problems = [], []
    head_start, open_linkage, i = 0, 0, 0
    while i < len(clean):
        c = clean[i]
        if c == ";":
            head_start = i + 1
        elif c == "}":
            if open_linkage:
                open_linkage -= 1
            else:
                problems.append((line_of(i), "a `}` closes nothing"))
            head_start = i + 1
        elif c == "{":
            head = clean[head_start:i]
            words = head.strip()
            end = matching_brace(clean, i)
            if end < 0:
                problems.append((line_of(i), "a `{` is never closed"))
                break
            if re.fullmatch(r'extern\s*"\s*"', words):
                open_linkage += 1  # its contents are scanned as the file's
                head_start = i + 1
            elif "=" in re.sub(r"\([^()]*\)", "", words) or (
                    re.search(r"\b(struct|union|enum)\b", words) and "(" not in words):
                i = end  # an initialiser or a type: runs on to its `;`
            else:
                name = function_name(head)
                start = head_start + len(head) - len(head.lstrip())
                if name is None:
                    problems.append((line_of(i), f"a block that is neither a function, a table nor a type: {words[:40]!r}"))
                elif column_of(start) != 0:
                    problems.append((line_of(start), f"{name}: a definition that does not start in column 0"))
                elif line_of(end) != line_of(i) and clean.find("\n}", i) + 1 != end:
                    problems.append((line_of(i), f"{name}: the body does not end at the first `}}` in column 0 "
                                                 f"(unbalanced braces, perhaps across #if branches)"))
                else:
                    first = line_of(start)
                    marked = first >= 2 and MARKER in lines[first - 2]
                    functions.append((name, first, line_of(end) - first + 1, marked))
                i = end
                head_start = end + 1
        i += 1
    if open_linkage:
        problems.append((line_of(len(clean)), 'an `extern "C" {` is never closed'))
    return functions, problems


def self_test():
    """The check can fail: a long function with a multi-line signature is caught; braces in
    strings, characters and comments, tables, types and linkage blocks do not fool it."""
    body = "\n".join(f"    total += {k};" for k in range(64))
    source = (
        '#include "x.h"\n'
        "#define OPEN {\n"
        "static const int table[] = {\n" + "\n".join(f"    {k}," for k in range(70)) + "\n};\n"
        "struct point {\n    int x;\n};\n"
        "static const struct {\n    const char *name;\n    int (*run)(int);\n} commands[] = {\n    {\"a\", 0},\n};\n"
        "static struct point origin(void) {\n    struct point p = {0};\n    return p;\n}\n"
        'extern "C" {\n'
        "static int\n"
        "long_one(int a,\n"
        "         const char *text) {\n"
        "    int total = 0; /* } a brace in a comment */\n"
        '    const char *s = "}}} \\" {";  // {\n'
        "    char c = '}';\n"
        + body + "\n"
        "    return total;\n"
        "}\n"
        "}  // extern \"C\"\n"
        "int short_one(void) { return '{'; }\n"
        "/* function_size: table */\n"
        "const char *allowed(int k) {\n" + "\n".join(f"    if (k == {k}) return \"{k}\";" for k in range(62)) + "\n"
        "    return \"\";\n"
        "}\n"
    )
    functions, problems = scan(source)
    assert problems == [], problems
    by_name = {name: (first, n_lines, marked) for name, first, n_lines, marked in functions}
    assert set(by_name) == {"origin", "long_one", "short_one", "allowed"}, by_name
    first = source.split("\n").index("static int") + 1
    assert by_name["long_one"] == (first, 3 + 3 + 64 + 2, False), by_name["long_one"]
    assert by_name["short_one"][1:] == (1, False)
    assert by_name["allowed"][1:] == (1 + 62 + 2, True)
    # A brace it cannot place is reported, not skipped: #if branches that each close a block.
    _, problems = scan("int f(void) {\n    if (a) {\n#if A\n        x();\n    }\n#else\n        y();\n    }\n#endif\n"
                       "    return 0;\n}\nint g(void) {\n    return 0;\n}\n")
    assert problems and problems[0][0] == 1 and "column 0" in problems[0][1], problems


def main():
    self_test()
    src = sys.argv[1]
    found, problems, allowed, n_files = [], [], [], 0
    for top in TOPS:
        for folder, dirs, files in os.walk(os.path.join(src, top)):
            dirs.sort()
            for file_name in sorted(files):
                if not file_name.endswith(SOURCE_EXT):
                    continue
                path = os.path.relpath(os.path.join(folder, file_name), src)
                n_files += 1
                with open(os.path.join(src, path), encoding="utf-8") as f:
                    functions, file_problems = scan(f.read())
                problems += [f"{path}:{line}: {message}" for line, message in file_problems]
                for name, first, n_lines, marked in functions:
                    found.append((n_lines, path, first, name))
                    if marked and n_lines <= LIMIT:
                        problems.append(f"{path}:{first}: {name} is {n_lines} lines, within the limit: "
                                        f"remove its `{MARKER}` marker")
                    elif marked:
                        allowed.append(f"{path}:{first}: {name} ({n_lines})")
                    elif n_lines > LIMIT:
                        problems.append(f"{path}:{first}: {name} is {n_lines} lines (limit {LIMIT})")
    for problem in problems:
        print(problem)
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    longest = ", ".join(f"{os.path.basename(path)}:{name} {n_lines}" for n_lines, path, _, name in found[:10])
    print(f"function_size: {n_files} files, {len(found)} functions, limit {LIMIT}; longest: {longest}"
          + (f"; allowed as tables: {', '.join(allowed)}" if allowed else "")
          + (f"; {len(problems)} problems" if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
