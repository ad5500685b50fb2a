/*
 * What the kernel learned at boot from the PVH start info, kept after the
 * loader's structures may have been overwritten.
 */
#ifndef BOOT_H
#define BOOT_H

#include "kernel.h"

struct mem_range {
	uint64_t start, end; /* [start, end) physical */
};

struct boot_info {
	struct mem_range ram[MAX_MEMMAP]; /* usable RAM from the memory map */
	int nram;
	uint64_t initrd_start, initrd_size; /* physical; size 0 if none */
	char cmdline[MAX_CMDLINE];
};
extern struct boot_info boot_info;

/* Physical extent of the kernel image (from the linker script). */
extern char kernel_phys_start[], kernel_phys_end[];

/* mm/phys.c: hands out RAM above 1 MiB except the kernel and the initrd. */
void phys_init(void);
/* mm/vm.c: maps all RAM at DIRECT_MAP_BASE and the local APIC / IOAPIC,
 * drops the boot identity map. */
void vm_init(void);
/* Maps a device's MMIO page uncached; returns its kernel address. */
void *vm_map_mmio(uint64_t phys, size_t len);

#endif
