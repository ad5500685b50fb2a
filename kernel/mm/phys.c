/*
 * Physical page allocator.  Memory is handed out from the RAM ranges of the
 * boot memory map with a bump pointer, and freed pages go on a free list
 * threaded through the pages themselves.  Nothing walks or zeroes RAM at
 * boot: in a nested guest every first touch of a page costs microseconds,
 * so a page is touched only when someone asks for it.
 */
#include "boot.h"
#include "mm.h"

struct free_page {
	struct free_page *next;
};

static struct mem_range ranges[MAX_MEMMAP]; /* still unallocated */
static int nranges;
static int cur; /* range the bump pointer is in */
static struct free_page *free_list;
static uint64_t total_bytes, free_bytes;

/* Removes [s, e) from the free ranges (splitting one if needed). */
static void reserve(uint64_t s, uint64_t e)
{
	for (int i = 0; i < nranges; i++) {
		struct mem_range *r = &ranges[i];
		if (e <= r->start || s >= r->end)
			continue;
		if (s > r->start && e < r->end && nranges < MAX_MEMMAP) {
			memmove(&ranges[i + 1], &ranges[i],
				(nranges - i) * sizeof(*r));
			nranges++;
			ranges[i].end = s;
			ranges[i + 1].start = e;
			return;
		}
		if (s <= r->start)
			r->start = MIN(MAX(e, r->start), r->end);
		else
			r->end = s;
	}
}

void phys_init(void)
{
	for (int i = 0; i < boot_info.nram; i++) {
		uint64_t s = ALIGN_UP(boot_info.ram[i].start, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(boot_info.ram[i].end, PAGE_SIZE);
		if (e > s && nranges < MAX_MEMMAP)
			ranges[nranges++] = (struct mem_range){s, e};
	}
	/* Low memory holds the loader's tables; the kernel and the initrd
	 * stay where they are for the whole run. */
	reserve(0, 0x100000);
	reserve((uint64_t)kernel_phys_start,
		ALIGN_UP((uint64_t)kernel_phys_end, PAGE_SIZE));
	if (boot_info.initrd_size)
		reserve(ALIGN_DOWN(boot_info.initrd_start, PAGE_SIZE),
			ALIGN_UP(boot_info.initrd_start + boot_info.initrd_size,
				 PAGE_SIZE));
	for (int i = 0; i < nranges; i++)
		total_bytes += ranges[i].end - ranges[i].start;
	free_bytes = total_bytes;
}

void *page_alloc_nozero(void)
{
	if (free_list) {
		struct free_page *p = free_list;
		free_list = p->next;
		free_bytes -= PAGE_SIZE;
		return p;
	}
	while (cur < nranges && ranges[cur].start >= ranges[cur].end)
		cur++;
	if (cur == nranges)
		return NULL;
	uint64_t pa = ranges[cur].start;
	ranges[cur].start += PAGE_SIZE;
	free_bytes -= PAGE_SIZE;
	return phys_to_virt(pa);
}

void *page_alloc(void)
{
	void *p = page_alloc_nozero();
	if (p)
		memset(p, 0, PAGE_SIZE);
	return p;
}

void *pages_alloc(size_t n)
{
	for (int i = cur; i < nranges; i++) {
		struct mem_range *r = &ranges[i];
		if (r->end - r->start >= n * PAGE_SIZE) {
			uint64_t pa = r->start;
			r->start += n * PAGE_SIZE;
			free_bytes -= n * PAGE_SIZE;
			memset(phys_to_virt(pa), 0, n * PAGE_SIZE);
			return phys_to_virt(pa);
		}
	}
	return NULL;
}

void page_free(void *page)
{
	if (!page)
		return;
	assert(IS_ALIGNED((uint64_t)page, PAGE_SIZE));
	struct free_page *p = page;
	p->next = free_list;
	free_list = p;
	free_bytes += PAGE_SIZE;
}

uint64_t phys_total_bytes(void)
{
	return total_bytes;
}

uint64_t phys_free_bytes(void)
{
	return free_bytes;
}
