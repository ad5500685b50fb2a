/*
 * Memory.  Physical memory is mapped at DIRECT_MAP_BASE with 2 MiB pages;
 * the kernel image runs at KERNEL_BASE.  The lower half belongs to the
 * program, mapped with 4 KiB pages on demand (mm/uvm.c).
 */
#ifndef MM_H
#define MM_H

#include "kernel.h"

#define KERNEL_BASE	0xffffffff80000000UL
#define DIRECT_MAP_BASE 0xffff800000000000UL

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(pa + DIRECT_MAP_BASE);
}
static inline uint64_t virt_to_phys(const void *va)
{
	uint64_t v = (uint64_t)va;
	return v >= KERNEL_BASE ? v - KERNEL_BASE : v - DIRECT_MAP_BASE;
}

/* mm/phys.c: physical pages.  page_alloc returns a zeroed page's kernel
 * address or NULL; pages are never touched before they are handed out. */
void *page_alloc(void);
void *page_alloc_nozero(void);
void page_free(void *page);
/* Contiguous, zeroed, n pages; for boot-time tables. NULL if none. */
void *pages_alloc(size_t n);
uint64_t phys_total_bytes(void);
uint64_t phys_free_bytes(void);

/* mm/heap.c: general kernel allocator.  kmalloc(0) returns a unique
 * pointer; kfree(NULL) is a no-op.  NULL when memory is exhausted. */
void *kmalloc(size_t n);
void *kzalloc(size_t n);
void *krealloc(void *p, size_t n);
void kfree(void *p);

#endif
