/*
 * What lwIP needs from the kernel with NO_SYS=1: a millisecond clock,
 * random numbers and calloc (lwipopts.h maps malloc/free to kmalloc and
 * kfree).  No threads, semaphores or mailboxes.
 */
#include "lwip/sys.h"
#include "mm.h"
#include "proc.h"

u32_t sys_now(void)
{
	return (u32_t)(clock_monotonic_ns() / 1000000);
}

uint32_t net_rand32(void)
{
	uint32_t r;
	random_bytes(&r, sizeof(r));
	return r;
}

void *net_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kzalloc(n * size);
}
