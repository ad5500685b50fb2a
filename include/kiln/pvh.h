/*
 * The Xen PVH boot ABI (version 1) as kiln uses it: the structures a PVH
 * loader (kiln-vmm, QEMU, Firecracker) hands the kernel in EBX, and the
 * ELF note that names the 32-bit entry point.  This is Xen's layout, not
 * ours, so it never changes; it lives beside abi.h because both sides of
 * kiln's host/guest boundary read it.  C99, <stdint.h> only.
 */
#ifndef KILN_PVH_H
#define KILN_PVH_H

#include <stdint.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC		 0x336ec578u
#define HVM_MEMMAP_RAM		 1
#define HVM_MEMMAP_RESERVED	 2

struct hvm_start_info {
	uint32_t magic;	  /* HVM_START_MAGIC */
	uint32_t version; /* 1: memmap fields valid */
	uint32_t flags;
	uint32_t nr_modules;	/* kiln: 0 or 1 (the rootfs) */
	uint64_t modlist_paddr; /* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr; /* NUL-terminated */
	uint64_t rsdp_paddr;	/* 0: no ACPI */
	uint64_t memmap_paddr;	/* struct hvm_memmap_table_entry[] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type; /* HVM_MEMMAP_RAM, HVM_MEMMAP_RESERVED, ... */
	uint32_t reserved;
};

#endif /* KILN_PVH_H */
