/*
 * Kernel page tables.  boot.S maps the first GiB at the direct map and the
 * kernel base with 2 MiB pages; vm_init extends the direct map to all RAM,
 * maps the APIC pages uncached and drops the identity map so the whole
 * lower half belongs to the program.  Large kernel allocations live in a
 * vmalloc area built from single pages, so they never need contiguous
 * physical memory.
 */
#include "boot.h"
#include "mm.h"
#include "vm.h"
#include "x86.h"

static uint64_t *pml4;
static uint64_t vmalloc_next = VMALLOC_BASE;

static uint64_t *table_of(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
}

/* The entry at level `shift` for va, creating the table below if asked. */
static uint64_t *next_level(uint64_t *table, uint64_t va, int shift,
			    bool create, uint64_t flags)
{
	uint64_t *e = &table[(va >> shift) & 511];
	if (!(*e & PTE_P)) {
		if (!create)
			return NULL;
		void *page = page_alloc();
		if (!page)
			return NULL;
		*e = virt_to_phys(page) | flags | PTE_P;
	} else if (*e & PTE_PS) {
		return NULL;
	} else {
		*e |= flags; /* a user table under a kernel-only one */
	}
	return table_of(*e);
}

uint64_t *vm_pte(uint64_t va, bool create, uint64_t table_flags)
{
	uint64_t *t = pml4;
	for (int shift = 39; shift > 12; shift -= 9) {
		t = next_level(t, va, shift, create, table_flags);
		if (!t)
			return NULL;
	}
	return &t[(va >> 12) & 511];
}

void vm_flush(uint64_t va)
{
	invlpg(va);
}

/* Maps one 2 MiB page of the direct map. */
static void map_huge(uint64_t pa, uint64_t flags)
{
	uint64_t va = (uint64_t)phys_to_virt(pa);
	uint64_t *pdpt = next_level(pml4, va, 39, true, PTE_W);
	uint64_t *pd = pdpt ? next_level(pdpt, va, 30, true, PTE_W) : NULL;
	if (!pd)
		panic("out of memory mapping physical 0x%lx", pa);
	uint64_t *e = &pd[(va >> 21) & 511];
	if (!(*e & PTE_P))
		*e = pa | flags | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
}

void *vm_map_mmio(uint64_t phys, size_t len)
{
	for (uint64_t pa = ALIGN_DOWN(phys, HUGE_PAGE_SIZE); pa < phys + len;
	     pa += HUGE_PAGE_SIZE)
		map_huge(pa, PTE_PCD | PTE_PWT);
	write_cr3(read_cr3());
	return phys_to_virt(phys);
}

void vm_init(void)
{
	pml4 = phys_to_virt(read_cr3() & PTE_ADDR_MASK);
	/* RAM beyond the first GiB (the boot tables cover that). */
	for (int i = 0; i < boot_info.nram; i++) {
		uint64_t s = ALIGN_DOWN(boot_info.ram[i].start, HUGE_PAGE_SIZE);
		for (uint64_t pa = MAX(s, 1UL << 30); pa < boot_info.ram[i].end;
		     pa += HUGE_PAGE_SIZE)
			map_huge(pa, 0);
	}
	/* Drop the identity map: the lower half is the program's.  The boot
	 * page directory is shared with the kernel mapping and its entries
	 * are global, so a CR3 reload would keep identity translations in
	 * the TLB; flush global entries too. */
	pml4[0] = 0;
	tlb_flush_all();
}

void *vmalloc(size_t n)
{
	uint64_t base = vmalloc_next;
	for (size_t i = 0; i < n; i++) {
		uint64_t *pte = vm_pte(base + i * PAGE_SIZE, true, PTE_W);
		void *page = pte ? page_alloc() : NULL;
		if (!page) {
			vmalloc_free((void *)base, i);
			return NULL;
		}
		*pte = virt_to_phys(page) | PTE_P | PTE_W | PTE_G | PTE_NX;
	}
	/* A guard page between allocations catches overruns. */
	vmalloc_next += (n + 1) * PAGE_SIZE;
	return (void *)base;
}

void vmalloc_free(void *p, size_t n)
{
	uint64_t base = (uint64_t)p;
	for (size_t i = 0; i < n; i++) {
		uint64_t va = base + i * PAGE_SIZE;
		uint64_t *pte = vm_pte(va, false, 0);
		if (pte && (*pte & PTE_P)) {
			page_free(phys_to_virt(*pte & PTE_ADDR_MASK));
			*pte = 0;
			vm_flush(va);
		}
	}
}
