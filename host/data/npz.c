/* npz.c — a small reader of the zip archives NumPy writes (.npz), over bytes in memory.
 *
 * The archive is read from its end: the end-of-central-directory record (and, when a field is
 * saturated, the zip64 end record its locator points at) gives the central directory; each
 * directory entry gives a member's name, method, sizes and local header; the member's bytes
 * follow its local header. Every offset and size read from the file is checked against the
 * buffer before it is used. Layout: PKWARE APPNOTE.TXT, sections 4.3 and 4.5. */
#include "npz.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

enum {
    END_SIZE = 22,        /* end of central directory record, without its comment */
    LOCATOR_SIZE = 20,    /* zip64 end of central directory locator */
    ZIP64_END_SIZE = 56,  /* zip64 end of central directory record, without extensions */
    ENTRY_SIZE = 46,      /* central directory file header, without name, extra, comment */
    LOCAL_SIZE = 30,      /* local file header, without name and extra */
    FLAG_ENCRYPTED = 1,
    METHOD_STORED = 0,
    METHOD_DEFLATED = 8,
};

/* Where the central directory is. */
typedef struct {
    uint64_t n_entries, size, offset;
} zip_directory;

/* One central directory entry; name points into the archive (not NUL-terminated). */
typedef struct {
    const unsigned char *name;
    size_t name_len;
    unsigned flags, method;
    uint32_t crc;
    uint64_t compressed, size, local_offset;
} zip_entry;

/* The first `len` bytes of a member's name for a message, at most 200, each byte that is not
 * printable ASCII as '?' (a name is the archive's to choose: it must not break the line). */
static void printable_name(const unsigned char *name, size_t len, char *out, size_t cap) {
    size_t n = 0;
    for (; n < len && n < 200 && n + 1 < cap; n++) out[n] = name[n] >= 0x20 && name[n] < 0x7f ? (char)name[n] : '?';
    out[n] = '\0';
}

/* Little-endian unsigned integers of 2, 4 and 8 bytes at p. */
static uint64_t le(const unsigned char *p, int n_bytes) {
    uint64_t value = 0;
    for (int i = n_bytes - 1; i >= 0; i--) value = value << 8 | p[i];
    return value;
}

int dt_npz_is_zip(const unsigned char *bytes, size_t n_bytes) {
    return n_bytes >= 4 && (memcmp(bytes, "PK\x03\x04", 4) == 0 || memcmp(bytes, "PK\x05\x06", 4) == 0);
}

/* Finds the end-of-central-directory record: the last "PK\5\6" whose comment ends the file. */
static dt_status find_end(const unsigned char *bytes, size_t n_bytes, const char *path, size_t *end, dt_error *err) {
    if (n_bytes >= END_SIZE)
        for (size_t pos = n_bytes - END_SIZE + 1; pos-- > 0 && n_bytes - pos <= END_SIZE + 0xFFFF;)
            if (memcmp(bytes + pos, "PK\x05\x06", 4) == 0 && pos + END_SIZE + le(bytes + pos + 20, 2) == n_bytes) {
                *end = pos;
                return DT_OK;
            }
    return dt_fail(err, DT_DATA, "%s: damaged zip archive: no end-of-central-directory record (the file is truncated "
                   "or not a .npz)", path);
}

/* Reads the zip64 end record that the locator before the end record at `end` points at. */
static dt_status read_zip64_end(const unsigned char *bytes, size_t end, const char *path, zip_directory *dir,
                                dt_error *err) {
    if (end < LOCATOR_SIZE || memcmp(bytes + end - LOCATOR_SIZE, "PK\x06\x07", 4) != 0)
        return dt_fail(err, DT_DATA, "%s: damaged zip archive: saturated end record without a zip64 locator", path);
    const uint64_t at = le(bytes + end - LOCATOR_SIZE + 8, 8);
    if (at > end - LOCATOR_SIZE || end - LOCATOR_SIZE - at < ZIP64_END_SIZE || memcmp(bytes + at, "PK\x06\x06", 4) != 0)
        return dt_fail(err, DT_DATA, "%s: damaged zip archive: the zip64 end record is not where its locator points",
                       path);
    if (le(bytes + at + 16, 4) != 0 || le(bytes + at + 20, 4) != 0 || le(bytes + at + 24, 8) != le(bytes + at + 32, 8))
        return dt_fail(err, DT_DATA, "%s: zip archive spans several disks, which is not read", path);
    dir->n_entries = le(bytes + at + 32, 8);
    dir->size = le(bytes + at + 40, 8);
    dir->offset = le(bytes + at + 48, 8);
    return DT_OK;
}

/* Locates the central directory and checks that it lies before the end record. */
static dt_status read_directory(const unsigned char *bytes, size_t n_bytes, const char *path, zip_directory *dir,
                                dt_error *err) {
    size_t end = 0;
    dt_status status = find_end(bytes, n_bytes, path, &end, err);
    if (status != DT_OK) return status;
    const unsigned char *e = bytes + end;
    const uint64_t disk = le(e + 4, 2), directory_disk = le(e + 6, 2);
    if ((disk != 0 && disk != 0xFFFF) || (directory_disk != 0 && directory_disk != 0xFFFF) ||
        le(e + 8, 2) != le(e + 10, 2))
        return dt_fail(err, DT_DATA, "%s: zip archive spans several disks, which is not read", path);
    dir->n_entries = le(e + 10, 2);
    dir->size = le(e + 12, 4);
    dir->offset = le(e + 16, 4);
    if (dir->n_entries == 0xFFFF || dir->size == 0xFFFFFFFF || dir->offset == 0xFFFFFFFF) {
        status = read_zip64_end(bytes, end, path, dir, err);
        if (status != DT_OK) return status;
    }
    if (dir->offset > end || dir->size > end - dir->offset)
        return dt_fail(err, DT_DATA, "%s: damaged zip archive: the central directory (%llu bytes at %llu) lies outside "
                       "the file", path, (unsigned long long)dir->size, (unsigned long long)dir->offset);
    return DT_OK;
}

/* Fills the fields of e that its header saturates (0xFFFFFFFF) from a zip64 extra field
 * (id 1: sizes and offset, in that order, only those saturated). Returns -1 when one is missing. */
static int apply_zip64_extra(const unsigned char *extra, size_t n_extra, zip_entry *e) {
    uint64_t *fields[3] = {&e->size, &e->compressed, &e->local_offset};
    for (size_t pos = 0; pos + 4 <= n_extra;) {
        const size_t id = le(extra + pos, 2), len = le(extra + pos + 2, 2);
        if (pos + 4 + len > n_extra) break;
        if (id == 1) {
            size_t used = 0;
            for (int f = 0; f < 3; f++)
                if (*fields[f] == 0xFFFFFFFF) {
                    if (used + 8 > len) return -1;
                    *fields[f] = le(extra + pos + 4 + used, 8);
                    used += 8;
                }
            return 0;
        }
        pos += 4 + len;
    }
    for (int f = 0; f < 3; f++)
        if (*fields[f] == 0xFFFFFFFF) return -1;
    return 0;
}

/* Reads the central directory entry at *pos (inside the directory, `dir_end` its end) into e
 * and moves *pos past it. */
static dt_status read_entry(const unsigned char *bytes, size_t *pos, size_t dir_end, const char *path, zip_entry *e,
                            dt_error *err) {
    const unsigned char *h = bytes + *pos;
    if (dir_end - *pos < ENTRY_SIZE || memcmp(h, "PK\x01\x02", 4) != 0)
        return dt_fail(err, DT_DATA, "%s: damaged zip archive: bad central directory entry at byte %zu", path, *pos);
    const size_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
    if (dir_end - *pos - ENTRY_SIZE < name_len + extra_len + comment_len)
        return dt_fail(err, DT_DATA, "%s: damaged zip archive: central directory entry at byte %zu is cut short",
                       path, *pos);
    *e = (zip_entry){.name = h + ENTRY_SIZE, .name_len = name_len, .flags = (unsigned)le(h + 8, 2),
                     .method = (unsigned)le(h + 10, 2), .crc = (uint32_t)le(h + 16, 4), .compressed = le(h + 20, 4),
                     .size = le(h + 24, 4), .local_offset = le(h + 42, 4)};
    if (apply_zip64_extra(h + ENTRY_SIZE + name_len, extra_len, e) != 0) {
        char name[208];
        printable_name(e->name, name_len, name, sizeof name);
        return dt_fail(err, DT_DATA, "%s: damaged zip archive: member '%s' lacks its zip64 sizes", path, name);
    }
    *pos += ENTRY_SIZE + name_len + extra_len + comment_len;
    return DT_OK;
}

/* The bytes of a stored member, after its local header; CRC-32 checked. */
static dt_status member_data(const unsigned char *bytes, size_t n_bytes, const zip_entry *e, const char *path,
                             const unsigned char **data, size_t *n_data, dt_error *err) {
    char name[208];
    printable_name(e->name, e->name_len, name, sizeof name);
    if (e->flags & FLAG_ENCRYPTED)
        return dt_fail(err, DT_DATA, "%s: member '%s' is encrypted, which is not read", path, name);
    if (e->method == METHOD_DEFLATED)
        return dt_fail(err, DT_DATA, "%s: member '%s' is compressed (deflate, as np.savez_compressed writes): "
                       "detrain reads uncompressed archives; save with np.savez, or save each array with np.save",
                       path, name);
    if (e->method != METHOD_STORED || e->compressed != e->size)
        return dt_fail(err, DT_DATA, "%s: member '%s' is compressed (zip method %u): detrain reads uncompressed "
                       "archives (np.savez)", path, name, e->method);
    const uint64_t at = e->local_offset;
    if (at > n_bytes || n_bytes - at < LOCAL_SIZE || memcmp(bytes + at, "PK\x03\x04", 4) != 0)
        return dt_fail(err, DT_DATA, "%s: damaged zip archive: member '%s' has no local header at byte %llu", path,
                       name, (unsigned long long)at);
    const uint64_t start = at + LOCAL_SIZE + le(bytes + at + 26, 2) + le(bytes + at + 28, 2);
    if (start > n_bytes || n_bytes - start < e->size)
        return dt_fail(err, DT_DATA, "%s: truncated zip archive: member '%s' declares %llu bytes past the end of the "
                       "file", path, name, (unsigned long long)e->size);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (uint64_t done = 0; done < e->size;) { /* zlib counts in uInt: 1 GiB at a time */
        const uInt chunk = e->size - done > (1u << 30) ? (1u << 30) : (uInt)(e->size - done);
        crc = crc32(crc, bytes + start + done, chunk);
        done += chunk;
    }
    if ((uint32_t)crc != e->crc)
        return dt_fail(err, DT_DATA, "%s: member '%s' fails its CRC-32 check (recorded %08x, computed %08x): the "
                       "archive is damaged", path, name, (unsigned)e->crc, (unsigned)crc);
    *data = bytes + start;
    *n_data = (size_t)e->size;
    return DT_OK;
}

/* Whether the entry is the member of `array`: "<array>.npy", or exactly "<array>". */
static int names_array(const zip_entry *e, const char *array) {
    const size_t n = strlen(array);
    if (e->name_len != n && e->name_len != n + 4) return 0;
    return memcmp(e->name, array, n) == 0 && (e->name_len == n || memcmp(e->name + n, ".npy", 4) == 0);
}

/* Appends "'name'" (without ".npy") to the list in names, cut with "..." when full. */
static void add_name(char *names, size_t size, const zip_entry *e) {
    size_t len = e->name_len >= 4 && memcmp(e->name + e->name_len - 4, ".npy", 4) == 0 ? e->name_len - 4 : e->name_len;
    const size_t used = strlen(names);
    if (used + 8 >= size) return;
    if (used + len + 8 >= size) {
        snprintf(names + used, size - used, "%s...", used ? ", " : "");
        return;
    }
    char name[208];
    printable_name(e->name, len, name, sizeof name);
    snprintf(names + used, size - used, "%s'%s'", used ? ", " : "", name);
}

dt_status dt_npz_find(const unsigned char *bytes, size_t n_bytes, const char *path, const char *array,
                      const unsigned char **data, size_t *n_data, char *names, size_t names_size, dt_error *err) {
    zip_directory dir = {0, 0, 0};
    zip_entry entry;
    memset(&entry, 0, sizeof entry);
    *data = NULL;
    *n_data = 0;
    names[0] = '\0';
    dt_status status = read_directory(bytes, n_bytes, path, &dir, err);
    if (status != DT_OK) return status;
    size_t pos = (size_t)dir.offset, dir_end = (size_t)(dir.offset + dir.size);
    for (uint64_t i = 0; i < dir.n_entries; i++) {
        status = read_entry(bytes, &pos, dir_end, path, &entry, err);
        if (status != DT_OK) return status;
        if (names_array(&entry, array)) return member_data(bytes, n_bytes, &entry, path, data, n_data, err);
        if (entry.name_len == 0 || entry.name[entry.name_len - 1] != '/') add_name(names, names_size, &entry);
    }
    if (!names[0]) snprintf(names, names_size, "no arrays");
    return DT_OK;
}
