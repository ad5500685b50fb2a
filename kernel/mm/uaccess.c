/*
 * Copies between the kernel and the program's memory.  The program and the
 * kernel share one page table, so after uvm_prefault has made every page
 * of a range present with the right permissions, a plain memcpy cannot
 * fault: syscalls run with interrupts off on the one CPU, so nothing can
 * unmap the range in between.
 */
#include "uaccess.h"
#include "uvm.h"

bool user_range_ok(const void *p, size_t n)
{
	uint64_t a = (uint64_t)p;
	return a < USER_TOP && n <= USER_TOP - a;
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
	if (n == 0)
		return 0;
	if (!user_range_ok(usrc, n) || uvm_prefault((uint64_t)usrc, n, false))
		return -EFAULT;
	memcpy(dst, usrc, n);
	return 0;
}

int copy_to_user(void *udst, const void *src, size_t n)
{
	if (n == 0)
		return 0;
	if (!user_range_ok(udst, n) || uvm_prefault((uint64_t)udst, n, true))
		return -EFAULT;
	memcpy(udst, src, n);
	return 0;
}

int clear_user(void *udst, size_t n)
{
	if (n == 0)
		return 0;
	if (!user_range_ok(udst, n) || uvm_prefault((uint64_t)udst, n, true))
		return -EFAULT;
	memset(udst, 0, n);
	return 0;
}

long strncpy_from_user(char *dst, const char *usrc, size_t max)
{
	size_t i = 0;
	uint64_t a = (uint64_t)usrc;
	while (i < max) {
		/* Check one page at a time: the string may end before an
		 * unmapped page. */
		uint64_t chunk = PAGE_SIZE - ((a + i) & (PAGE_SIZE - 1));
		chunk = MIN(chunk, max - i);
		if (!user_range_ok((void *)(a + i), chunk) ||
		    uvm_prefault(a + i, chunk, false))
			return -EFAULT;
		const char *s = (const char *)(a + i);
		for (uint64_t k = 0; k < chunk; k++, i++) {
			dst[i] = s[k];
			if (!s[k])
				return (long)i;
		}
	}
	if (max)
		dst[max - 1] = 0;
	return -ENAMETOOLONG;
}
