/*
 * Page tables.  One PML4 for everything: the upper half holds the kernel
 * (direct map, image, vmalloc area), the lower half the program.
 */
#ifndef VM_H
#define VM_H

#include "kernel.h"

#define VMALLOC_BASE  0xffffc00000000000UL
#define PTE_NX	      (1UL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000UL

/* The PTE for va (4 KiB level), creating intermediate tables with
 * table_flags when create is set; NULL if absent or out of memory.  Fails
 * (NULL) when a 2 MiB mapping covers va. */
uint64_t *vm_pte(uint64_t va, bool create, uint64_t table_flags);
/* Invalidates one page's TLB entry. */
void vm_flush(uint64_t va);

/* Maps n fresh pages contiguously in the vmalloc area; NULL when out of
 * memory.  vmalloc_free unmaps them and returns the pages. */
void *vmalloc(size_t n);
void vmalloc_free(void *p, size_t n);

#endif
