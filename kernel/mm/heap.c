/*
 * Kernel heap.  Small blocks (up to 2 KiB) come from per-size-class free
 * lists carved out of single pages; larger ones are whole pages from the
 * vmalloc area.  Every block carries a 16-byte header with its size, so
 * kfree and krealloc need nothing else.  Small blocks are never returned to
 * the page allocator; a unikernel's kernel heap is small and steady.
 */
#include "mm.h"
#include "vm.h"

#define HEAP_MAGIC 0x6b696c6eU /* "kiln" */
#define NCLASSES   8	       /* 32, 64, ... 4096-byte slots */

struct header {
	uint64_t size; /* bytes the caller asked for */
	uint32_t magic;
	uint32_t class; /* size class, or NCLASSES + pages for page blocks */
};

struct free_block {
	struct free_block *next;
};

static struct free_block *free_lists[NCLASSES];

static unsigned class_of(size_t total)
{
	unsigned c = 0;
	while ((32UL << c) < total)
		c++;
	return c;
}

void *kmalloc(size_t n)
{
	size_t total = n + sizeof(struct header);
	struct header *h;

	if (total < n)
		return NULL;
	unsigned c = class_of(total);
	if (c < NCLASSES - 1) {
		if (!free_lists[c]) {
			char *page = page_alloc_nozero();
			if (!page)
				return NULL;
			size_t slot = 32UL << c;
			for (size_t off = 0; off + slot <= PAGE_SIZE;
			     off += slot) {
				struct free_block *b = (void *)(page + off);
				b->next = free_lists[c];
				free_lists[c] = b;
			}
		}
		h = (struct header *)free_lists[c];
		free_lists[c] = free_lists[c]->next;
		h->class = c;
	} else {
		size_t pages = ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE;
		if (pages > 0x10000000)
			return NULL;
		h = vmalloc(pages);
		if (!h)
			return NULL;
		h->class = NCLASSES + pages;
	}
	h->size = n;
	h->magic = HEAP_MAGIC;
	return h + 1;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);
	if (p)
		memset(p, 0, n);
	return p;
}

void kfree(void *p)
{
	if (!p)
		return;
	struct header *h = (struct header *)p - 1;
	if (h->magic != HEAP_MAGIC)
		panic("kfree of a bad pointer %p (magic 0x%x)", p, h->magic);
	h->magic = 0;
	if (h->class >= NCLASSES) {
		vmalloc_free(h, h->class - NCLASSES);
		return;
	}
	struct free_block *b = (void *)h;
	b->next = free_lists[h->class];
	free_lists[h->class] = b;
}

void *krealloc(void *p, size_t n)
{
	if (!p)
		return kmalloc(n);
	struct header *h = (struct header *)p - 1;
	if (h->magic != HEAP_MAGIC)
		panic("krealloc of a bad pointer %p", p);
	size_t capacity = h->class >= NCLASSES
			      ? (h->class - NCLASSES) * PAGE_SIZE - sizeof(*h)
			      : (32UL << h->class) - sizeof(*h);
	if (n <= capacity) {
		h->size = n;
		return p;
	}
	void *q = kmalloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->size);
	kfree(p);
	return q;
}
