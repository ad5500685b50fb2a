/*
 * The few lines every kiln-vmm unit test shares: TAP-style "ok N - what" /
 * "not ok N - what" lines, and an exit status that is 0 only when every
 * check passed.
 */
#ifndef KILN_VMM_TEST_H
#define KILN_VMM_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vmm_test_count, vmm_test_failed;

/* Records one check; prints its verdict and description. */
__attribute__((format(printf, 2, 3))) static inline int
vmm_test_check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++vmm_test_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		vmm_test_failed++;
	return ok;
}

#define CHECK(cond, ...) vmm_test_check(!!(cond), __VA_ARGS__)

/* True when s contains sub: error messages are checked by their key words. */
static inline int vmm_test_has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

/* Prints the plan and a summary; the test's exit status. */
static inline int vmm_test_done(const char *name)
{
	printf("1..%d\n# %s: %d passed, %d failed\n", vmm_test_count, name,
	       vmm_test_count - vmm_test_failed, vmm_test_failed);
	fflush(stdout);
	return vmm_test_failed ? 1 : 0;
}

#endif
