/* replay.c — the main of a fuzz target in builds without libFuzzer (gcc, ASan): every file
 * named on the command line, and every file directly inside a folder named there (in name
 * order, dot files skipped), goes through LLVMFuzzerTestOneInput once. CI thereby replays the
 * seed corpus and every committed crasher on every build. A crash is the target's to report
 * (abort, a sanitizer); replay exits 1 when an argument cannot be read or no input was found,
 * since a replay of nothing proves nothing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target: weak, NULL when it has none. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs the target on the file at path. Returns 0, or -1 when it cannot be read. */
static int replay_file(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) return -1;
    size_t cap = 1 << 16, size = 0, got;
    unsigned char *data = malloc(cap);
    while (data && (got = fread(data + size, 1, cap - size, file)) > 0) {
        size += got;
        if (size == cap) {
            unsigned char *bigger = realloc(data, cap * 2);
            if (!bigger) free(data);
            data = bigger, cap *= 2;
        }
    }
    int failed = !data || ferror(file);
    fclose(file);
    if (!failed) {
        /* A copy of exactly `size` bytes, as libFuzzer gives: ASan sees any read past the end. */
        unsigned char *input = malloc(size ? size : 1);
        if (!input) failed = 1;
        else {
            memcpy(input, data, size);
            LLVMFuzzerTestOneInput(input, size);
            free(input);
        }
    }
    free(data);
    return failed ? -1 : 0;
}

/* scandir filter: no dot files (., .., .gitkeep). */
static int visible(const struct dirent *entry) { return entry->d_name[0] != '.'; }

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    long n_inputs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat info;
        if (stat(argv[i], &info) != 0) {
            fprintf(stderr, "replay: %s: not found\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(info.st_mode)) {
            if (replay_file(argv[i]) != 0) return fprintf(stderr, "replay: %s: cannot read\n", argv[i]), 1;
            n_inputs++;
            continue;
        }
        struct dirent **entries;
        int n = scandir(argv[i], &entries, visible, alphasort);
        if (n < 0) return fprintf(stderr, "replay: %s: cannot list\n", argv[i]), 1;
        for (int e = 0; e < n; e++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], entries[e]->d_name);
            if (stat(path, &info) == 0 && S_ISREG(info.st_mode)) {
                if (replay_file(path) != 0) return fprintf(stderr, "replay: %s: cannot read\n", path), 1;
                n_inputs++;
            }
            free(entries[e]);
        }
        free(entries);
    }
    fprintf(stderr, "replay: %ld inputs ran\n", n_inputs);
    return n_inputs > 0 ? 0 : 1;
}
