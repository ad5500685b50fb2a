/*
 * Tiny TAP-like reporting for the guest programs.  Each check prints
 * "ok - what" or "not ok - what: got X want Y"; tap_done() prints the last
 * line "guest NAME: N passed, M failed" and returns the exit status (0 iff
 * nothing failed).  Header-only so each guest stays one file.
 *
 * Guest programs must pass when run natively on Linux (that validates the
 * test itself) and inside kiln (that validates the kernel), so checks
 * assert what Linux does.  Where libc would hide the kernel's answer
 * (errno on bad pointers, fallbacks to other syscalls), call syscall(2).
 *
 * The runner (tests/run.sh) reads two optional comment lines from a guest
 * source: "kiln-run-opts:" (options for kiln run, paths relative to the
 * repository root) and "kiln-run-args:" (the program's arguments), plus
 * "native-run-args:" for the host run when a path differs.
 */
#ifndef TAP_H
#define TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int tap_passed;
static int tap_failed;

/* Output goes to stdout and is flushed per line so that a kernel crash
 * leaves the checks done so far visible in the log. */
__attribute__((format(printf, 2, 3))) static void
tap_check(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(ok ? "ok - " : "not ok - ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
	if (ok)
		tap_passed++;
	else
		tap_failed++;
}

#define CHECK(cond, what) tap_check(!!(cond), "%s", what)

/* Integer equality with both values in the failure message. */
#define CHECK_EQ(what, got, want)                                              \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (g_ == w_)                                                  \
			tap_check(1, "%s", what);                              \
		else                                                           \
			tap_check(0, "%s: got %lld want %lld", what, g_, w_);  \
	} while (0)

/* A call that must succeed (return >= 0); shows errno when it did not. */
#define CHECK_OK(what, ret)                                                    \
	do {                                                                   \
		long long r_ = (long long)(ret);                               \
		int e_ = errno;                                                \
		if (r_ >= 0)                                                   \
			tap_check(1, "%s", what);                              \
		else                                                           \
			tap_check(0, "%s: got %lld errno %d (%s) want >= 0",   \
				  what, r_, e_, strerror(e_));                 \
	} while (0)

/* A call that must fail with -1 and this errno.  errno is cleared first by
 * the caller's macro use: CHECK_ERR("x", (errno = 0, call()), EFAULT). */
#define CHECK_ERR(what, ret, want_errno)                                       \
	do {                                                                   \
		long long r_ = (long long)(ret);                               \
		int e_ = errno;                                                \
		if (r_ == -1 && e_ == (want_errno))                            \
			tap_check(1, "%s", what);                              \
		else                                                           \
			tap_check(0,                                           \
				  "%s: got %lld errno %d (%s) want -1 "        \
				  "errno %d (%s)",                             \
				  what, r_, r_ == -1 ? e_ : 0,                 \
				  r_ == -1 ? strerror(e_) : "none",            \
				  (want_errno), strerror(want_errno));         \
	} while (0)

/* String equality; NULL is shown as (null). */
#define CHECK_STR(what, got, want)                                             \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (g_ && w_ && strcmp(g_, w_) == 0)                           \
			tap_check(1, "%s", what);                              \
		else                                                           \
			tap_check(0, "%s: got '%s' want '%s'", what,           \
				  g_ ? g_ : "(null)", w_ ? w_ : "(null)");     \
	} while (0)

static int tap_done(const char *name)
{
	printf("guest %s: %d passed, %d failed\n", name, tap_passed,
	       tap_failed);
	fflush(stdout);
	return tap_failed == 0 ? 0 : 1;
}

#endif
