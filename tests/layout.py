#!/usr/bin/env python3
"""layout.py — the folders show the architecture, and includes run downward.

Every C, CUDA and header file of the engine lives in the folder of one part (PARTS: no file
sits loose at the top of host/); every part has a level (the order of the CMake libraries:
host/CMakeLists.txt). A file may include headers of its own
part or of a lower level, never of a higher level nor of another part of its level. The
README's Layout table must list every folder that holds sources, and nothing else that does
not exist. No engine source (kernels/, host/) fills a `char why[...]` message buffer: library
code reports with a dt_status (status.h, and cuda_status.h at the CUDA boundary), CUDA code
below status.h returns cudaError_t. No engine source but host/core/json.c defines a JSON
string getter (a small function of (const cJSON *, const char *) returning the member's
string): dt_json_string is the one. No char array in host/ named for a path (path, dir,
folder, file, ...) has a bare numeric size of 1024 or more: a path buffer is DT_PATH_MAX
(config.h), plus a margin for a suffix (DT_PATH_MAX + 32). Prints each violation and exits
1, or says what it checked and exits 0.

usage: layout.py SOURCE_DIR
"""
import os
import re
import sys

# part (a folder): its level. Every source file belongs to the part of its folder.
PARTS = {
    "kernels": 0,
    "kernels/cpu": 0,
    "kernels/cuda": 0,
    "host/core": 1,
    "host/data": 2,
    "host/comm": 2,
    "host/tracking": 2,
    "host/records": 3,
    "host/backends": 4,
    "host/registry": 5,
    "host/export": 5,
    "host/plot": 5,
    "host/run": 6,
    "bench": 6,
    "host/sweep": 6,
    "host/cli": 7,
}
# Parts of one level that may include each other.
SAME_LEVEL_OK = {("kernels/cpu", "kernels"), ("kernels/cuda", "kernels"), ("kernels/cuda", "kernels/cpu")}
SOURCE_EXT = (".c", ".h", ".cu")
INCLUDE_ROOTS = ["host", "kernels"]  # the include directories (CMake), besides the file's own
# A message buffer for the old int + why convention (issue 19): errors are dt_status or cudaError_t.
WHY_BUFFER = re.compile(r"\bchar\s+why\s*\[")
WHY_BUFFER_TOPS = ("kernels/", "host/")
# A private copy of dt_json_string (host/core/json.c, the one allowed): a function returning a
# char pointer whose parameters start (const cJSON *, const char *) and whose body, at most
# four lines, looks the key up and reads the string (issue 19: one of each helper).
JSON_STRING_GETTER = re.compile(
    r"^[\w ]*\bchar\s*\*\s*(\w+)\s*\(\s*const\s+cJSON\s*\*\s*\w+\s*,\s*const\s+char\s*\*\s*\w+[^)]*\)\s*\{"
    r"((?:\n(?!\}).*){1,4})\n\}", re.M)
JSON_STRING_HOME = "host/core/json.c"
# A path buffer with an ad-hoc numeric size (issue 19: one path size): `char path[4096]`,
# `char dir[4096 + 80]`, `char temps[2][4096]` in host/. Its last dimension is the path's.
PATH_BUFFER_TOPS = ("host/",)
PATH_BUFFER_DECL = re.compile(r"^\s*(?:(?:static|const|volatile)\s+)*char\s+(.*)")
PATH_BUFFER_NAME = re.compile(r"path|dir|folder|file|manifest|db|copy|tmp|temp|local|source", re.I)


def path_buffers(line):
    """(name, size) of each char array declared on a line that is a path buffer of numeric size >= 1024."""
    m = PATH_BUFFER_DECL.match(line)
    declarators = re.sub(r"=\s*(\{[^}]*\}|[^,;]*)", "", m.group(1)) if m else ""  # initializers aside
    found = []
    for name, dims in re.findall(r"(?<![*\w])(\w+)\s*((?:\[[^\[\]]*\])+)", declarators):
        size = re.findall(r"\[([^\[\]]*)\]", dims)[-1].strip()
        if PATH_BUFFER_NAME.search(name) and re.fullmatch(r"[\d\s+*()]+", size) and eval(size) >= 1024:
            found.append((name, size))
    return found


def json_string_getters(text):
    """(line, name) of each function in a C text that is a JSON string getter."""
    found = []
    for m in JSON_STRING_GETTER.finditer(text):
        body = m.group(2)
        if re.search(r"\bcJSON_GetObjectItem\w*\s*\(", body) and re.search(r"\bvaluestring\b|\bcJSON_GetStringValue\b", body):
            found.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def part_of(path):
    folder = os.path.dirname(path)
    return folder if folder in PARTS else None


def resolve(src, including, header):
    """The repository path of a quoted include, searched as the compiler does; None: generated."""
    for base in [os.path.dirname(including)] + INCLUDE_ROOTS:
        candidate = os.path.normpath(os.path.join(base, header))
        if os.path.exists(os.path.join(src, candidate)):
            return candidate
    return None


def direction(path, target):
    """None when `path` may include `target`, else why not ("upward", "sideways")."""
    part, other = part_of(path), part_of(target)
    level, other_level = PARTS[part], PARTS[other]
    if other_level > level:
        return "upward"
    if other_level == level and other != part and (part, other) not in SAME_LEVEL_OK:
        return "sideways"
    return None


def self_test():
    """The rule can fail: an upward and a sideways include are caught, a downward one is not."""
    assert direction("kernels/cpu/matmul.c", "host/records/manifest.h") == "upward"
    assert direction("host/records/checkpoint.c", "host/run/train.h") == "upward"
    assert direction("host/data/data.c", "host/comm/comm.h") == "sideways"
    assert direction("host/records/checkpoint.c", "host/backends/backend.h") == "upward"
    assert direction("host/backends/backend_cpu.c", "host/backends/backend.h") is None
    assert direction("host/backends/backend.h", "host/records/sysinfo.h") is None
    # The message-buffer rule can fail, and does not see a pointer parameter or a table.
    assert WHY_BUFFER.search('    char why[512] = "";')
    assert WHY_BUFFER.search("static char why [512];")
    assert not WHY_BUFFER.search("static int fill(char *why, size_t why_size);")
    assert not WHY_BUFFER.search("static const char *const why[] = {\"a\"};")
    # The JSON-getter rule fires on both shapes the tree had, and not on a dotted-path lookup,
    # a getter of another type, a longer function or a caller.
    assert json_string_getters("static const char *str_at(const cJSON *node, const char *key) {\n"
                               "    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(node, key));\n}\n") \
        == [(1, "str_at")]
    assert json_string_getters("x;\n/* The string at key. */\nstatic const char *string_at(const cJSON *obj, const char *key) {\n"
                               "    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);\n"
                               "    return cJSON_IsString(item) ? item->valuestring : \"\";\n}\n") == [(3, "string_at")]
    assert not json_string_getters("const char *dt_run_record_string(const cJSON *manifest, const char *key) {\n"
                                   "    const cJSON *node = dt_run_record_item(manifest, key);\n"
                                   "    return cJSON_IsString(node) ? node->valuestring : \"\";\n}\n")
    assert not json_string_getters("static const cJSON *listed(const cJSON *m, const char *file) {\n"
                                   "    return cJSON_GetObjectItemCaseSensitive(m, file);\n}\n")
    assert not json_string_getters("static const char *describe(const cJSON *m, const char *key) {\n"
                                   "    const cJSON *item = cJSON_GetObjectItemCaseSensitive(m, key);\n    a();\n    b();\n"
                                   "    c();\n    return item->valuestring;\n}\n")
    assert not json_string_getters("    const char *name = dt_json_string(entry, \"file\");\n")
    # The path-buffer rule fires on the sizes the tree had, in any declarator, and not on
    # DT_PATH_MAX sizes, small buffers or buffers not named for a path.
    assert path_buffers("    char path[4096];") == [("path", "4096")]
    assert path_buffers("    char copy[DT_PATH_MAX], old_dir[4096 + 32];") == [("old_dir", "4096 + 32")]
    assert path_buffers("static char temp_dirs[MAX_TEMP_DIRS][4096];") == [("temp_dirs", "4096")]
    assert path_buffers("    char paths[2][4096], temps[2][4096] = {\"\", \"\"};") == [("paths", "4096"), ("temps", "4096")]
    assert path_buffers("    char path[1024];") == [("path", "1024")]
    assert not path_buffers("    char path[DT_PATH_MAX + 32];")
    assert not path_buffers("    char db[DT_PATH_MAX + 32], manifest[DT_PATH_MAX];")
    assert not path_buffers("    char path[512], name[4096];")
    assert not path_buffers("        char buffer[4096]; /* getdents64 records, not a path */")
    assert not path_buffers("    const char *path = dir[4096];")
    assert not path_buffers("    char *files[4096];")


def main():
    self_test()
    src = sys.argv[1]
    problems, n_files, n_includes = [], 0, 0
    folders_with_sources = set()
    for top in ["host", "kernels", "bench"]:
        for folder, _, files in os.walk(os.path.join(src, top)):
            for name in sorted(files):
                if not name.endswith(SOURCE_EXT):
                    continue
                path = os.path.relpath(os.path.join(folder, name), src)
                folders_with_sources.add(os.path.dirname(path))
                part = part_of(path)
                if part is None:
                    problems.append(f"{path}: belongs to no part (tests/layout.py PARTS)")
                    continue
                n_files += 1
                level = PARTS[part]
                with open(os.path.join(src, path), encoding="utf-8") as f:
                    text = f.read()
                if path != JSON_STRING_HOME:
                    for line_no, getter in json_string_getters(text):
                        problems.append(f"{path}:{line_no}: {getter}() is a copy of dt_json_string: use "
                                        f"dt_json_string / dt_json_string_or (core/json.h)")
                for line_no, line in enumerate(text.split("\n"), 1):
                    if path.startswith(PATH_BUFFER_TOPS):
                        for buffer, size in path_buffers(line):
                            problems.append(f"{path}:{line_no}: {buffer}[{size}] is a path buffer of its own size: "
                                            f"use DT_PATH_MAX (core/config.h), + a margin for a suffix (DT_PATH_MAX + 32)")
                    if path.startswith(WHY_BUFFER_TOPS) and WHY_BUFFER.search(line):
                        problems.append(f"{path}:{line_no}: a `char why[]` message buffer: return a dt_status "
                                        f"(status.h, cuda_status.h) or a cudaError_t instead")
                    m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                    if not m:
                        continue
                    target = resolve(src, path, m.group(1))
                    if target is None or part_of(target) is None:
                        continue  # generated (version.h) or outside the engine
                    n_includes += 1
                    why = direction(path, target)
                    if why:
                        other = part_of(target)
                        problems.append(f"{path}:{line_no}: {part} (level {level}) includes {target} "
                                        f"of {other} (level {PARTS[other]}): {why}")
    readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
    layout = readme[readme.index("## Layout"):]
    listed = set(re.findall(r"^\| `([^`]+)/` \|", layout, re.M))
    for folder in sorted(folders_with_sources - listed):
        problems.append(f"README.md: the Layout table does not list {folder}/")
    for folder in sorted(listed):
        if not os.path.isdir(os.path.join(src, folder)):
            problems.append(f"README.md: the Layout table lists {folder}/, which does not exist")
    for p in problems:
        print("FAIL:", p)
    print(f"layout: {n_files} files, {n_includes} includes inside the engine, "
          f"{len(folders_with_sources)} source folders; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
