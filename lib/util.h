/*
 * Small helpers every hosted kiln program uses: formatted allocation, a
 * growable vector of strings, memory-size parsing and a few path helpers.
 * Like all of lib/, nothing here prints or exits: failures return -1 (or
 * NULL) and, where a caller-supplied buffer is given, say why in it.
 */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define UTIL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* printf into a new buffer; the caller frees it.  NULL when out of memory. */
char *util_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf into err (may be NULL when errlen is 0); returns -1 so that
 * `return util_err(err, errlen, ...)` reads as one failure path. */
int util_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A read-write temp file with no name, so nothing is left behind however
 * the program ends: O_TMPFILE in dir, or where the filesystem lacks it a
 * file "dir/PREFIX.XXXXXX" unlinked at once.  dir NULL means $TMPDIR, else
 * /tmp.  The descriptor (close-on-exec), or -1 with errno.
 */
int util_temp_fd(const char *dir, const char *prefix);

/* A growable NULL-terminated vector of strings it owns (copies). */
struct strv {
	char **v; /* v[n] is NULL once anything was pushed */
	size_t n;
	size_t cap;
};

/* Appends a copy of s; 0 or -1 when out of memory. */
int strv_push(struct strv *sv, const char *s);
/* Appends s itself (ownership moves to sv; freed by strv_release even when
 * pushing fails). */
int strv_push_owned(struct strv *sv, char *s);
/* Index of the first element equal to s, or -1. */
long strv_find(const struct strv *sv, const char *s);
/* Frees every element and the array; leaves an empty vector. */
void strv_release(struct strv *sv);

/*
 * Parses a memory size into MiB, rounding up: "64M", "1G", "512K" (-> 1),
 * "2048" (a plain number is MiB), case-insensitive, with an optional
 * "B"/"iB" after the unit ("64MiB").  Limits are the caller's business.
 */
int util_parse_mib(const char *s, uint64_t *mib, char *err, size_t errlen);

/*
 * Joins base and rel and normalizes the result lexically: collapses "//",
 * removes "." and resolves ".." against the text (not the file system).
 * rel may be absolute (base is then ignored).  Returns a new string
 * (always absolute when base or rel is) or NULL when out of memory.
 */
char *util_path_join(const char *base, const char *rel);

/* A new string with the directory part of an absolute path ("/" for "/x"),
 * or NULL when out of memory. */
char *util_dirname(const char *path);

/* Reads a whole file into a new NUL-terminated buffer (*len excludes the
 * NUL); the caller frees *buf. */
int util_read_file(const char *path, char **buf, size_t *len, char *err,
		   size_t errlen);

#endif /* KILN_UTIL_H */
