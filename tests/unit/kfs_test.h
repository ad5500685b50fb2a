/*
 * Shared by the hosted filesystem tests (tests/unit/kfs_*.c).  The tests
 * compile kernel/fs and kernel/sys/fs_* with the host compiler; the shim
 * (kfs_shim.c, the only file here that sees libc) stands in for the rest
 * of the kernel: kmalloc is malloc, user memory is host memory except the
 * ranges below, the console is a capture buffer.  This header uses only
 * compiler headers so both sides can include it.
 */
#ifndef KFS_TEST_H
#define KFS_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "User" pointers the shim's copy_*_user refuse with -EFAULT: anything
 * below 64 KiB (NULL included) and this range. */
#define KFS_BAD ((void *)0x500000000000UL)

/* TAP output: one "ok N - name" or "not ok N - name" line per check. */
void kfs_ok(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kfs_eq(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Summary line; the exit status: 0 iff every check passed. */
int kfs_done(const char *suite);

/* Runs a registered syscall handler by number (kernel/sys/fs_*.c). */
long kfs_sc6(long nr, long a, long b, long c, long d, long e, long f);
#define SC(...) SC_(__VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define SC_(nr, a, b, c, d, e, f, ...)                                         \
	kfs_sc6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e),   \
		(long)(f))

/* Builds a newc archive with the system's cpio from a tree that the shell
 * script creates in an empty temporary directory; malloc'd bytes (the
 * caller frees with kfs_free) or NULL. */
void *kfs_cpio_from_script(const char *script, size_t *len);
/* Reads a whole host file; malloc'd or NULL. */
void *kfs_read_host_file(const char *path, size_t *len);
void kfs_free(void *p);

/* Does hay contain needle? */
bool kfs_contains(const char *hay, const char *needle);

/* What console_write received since the last reset. */
const char *kfs_console(void);
void kfs_console_reset(void);
/* Stop (or resume) echoing klog lines as TAP comments. */
void kfs_log_quiet(bool quiet);
/* The last klog line (without the "kiln: " prefix). */
const char *kfs_last_log(void);
/* What proc_exe_path returns. */
void kfs_set_exe(const char *path);

#endif
