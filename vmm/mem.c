/*
 * Guest RAM and the one accessor through which every guest-physical address
 * reaches the monitor.
 *
 * RAM is a single anonymous private mapping, registered with KVM as one
 * memory slot at guest-physical 0.  It is never prefaulted or cleared: fresh
 * anonymous memory is already zero, and touching a page costs about 8 us in
 * a nested guest, so a page is only populated when someone uses it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm.h"

int mem_init(struct mem *m, uint64_t size, char *err, size_t errlen)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %llu MiB of guest memory: %s",
			 (unsigned long long)(size / VMM_MIB), strerror(errno));
		return -1;
	}
	m->host = p;
	m->size = size;
	return 0;
}

void mem_release(struct mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	m->host = NULL;
	m->size = 0;
}

void *mem_gpa(const struct mem *m, uint64_t gpa, uint64_t len)
{
	/* Written so that no sum can wrap: gpa <= size, then len <= size-gpa.
	 */
	if (m->host == NULL || gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}
