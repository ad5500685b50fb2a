/*
 * The boot protocol, as pure functions over guest RAM (struct mem): load an
 * ELF64 kernel by its PT_LOAD segments, find its PVH entry in the Xen
 * PHYS32_ENTRY note, place the initrd, and write the Xen PVH start info
 * (version 1, the layout QEMU and Firecracker also produce).
 *
 * Guest-physical layout (docs/vmm.md):
 *   0x6000   struct hvm_start_info, then the memory map, then the module list
 *   0x6100   boot GDT: null, code (0x08), data (0x10), TSS (0x18)
 *   0x20000  command line, NUL-terminated, at most 4096 bytes
 *   >=1 MiB  kernel segments at their p_paddr
 *   top      initrd, page aligned, below the end of RAM
 * The ELF file is untrusted input: every offset and size in it is checked
 * against the file and against guest RAM before anything is copied.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "kiln/pvh.h"
#include "vmm.h"

#define E820_RAM      HVM_MEMMAP_RAM
#define E820_RESERVED HVM_MEMMAP_RESERVED

#define BOOT_MEMMAP_ENTRIES 3
#define BOOT_MEMMAP_GPA	    (VMM_START_INFO_GPA + sizeof(struct hvm_start_info))
#define BOOT_MODLIST_GPA                                                       \
	(BOOT_MEMMAP_GPA +                                                     \
	 BOOT_MEMMAP_ENTRIES * sizeof(struct hvm_memmap_table_entry))

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist layout");
_Static_assert(BOOT_MODLIST_GPA + sizeof(struct hvm_modlist_entry) <=
		   BOOT_GDT_GPA,
	       "boot info overlaps the GDT");

/* Guest-physical bytes the boot information occupies; a kernel segment
 * there would be overwritten by it. */
#define BOOT_AREA_START VMM_START_INFO_GPA
#define BOOT_AREA_END	(VMM_CMDLINE_GPA + VMM_CMDLINE_MAX)

/* True when [off, off + size) lies inside a buffer of len bytes. */
static int boot_in_file(uint64_t off, uint64_t size, uint64_t len)
{
	return off <= len && size <= len - off;
}

static uint64_t boot_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * Looks through one PT_NOTE segment for the PVH entry.  Returns 1 and sets
 * *entry when found, 0 when not, -1 with err on a malformed PVH note.
 */
static int boot_find_pvh(const uint8_t *p, uint64_t size, uint64_t align,
			 uint32_t *entry, char *err, size_t errlen)
{
	uint64_t off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, p + off, sizeof(nh));
		uint64_t name_off = off + sizeof(nh);
		uint64_t desc_off = name_off + boot_align(nh.n_namesz, align);
		if (!boot_in_file(name_off, nh.n_namesz, size) ||
		    !boot_in_file(desc_off, nh.n_descsz, size))
			return 0; /* truncated note: nothing more to read */
		if (nh.n_namesz == 4 && memcmp(p + name_off, "Xen", 4) == 0 &&
		    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY) {
			uint64_t v = 0;
			if (nh.n_descsz == 4) {
				uint32_t v32;
				memcpy(&v32, p + desc_off, 4);
				v = v32;
			} else if (nh.n_descsz == 8) {
				memcpy(&v, p + desc_off, 8);
			} else {
				snprintf(err, errlen,
					 "malformed PVH entry note (%u-byte "
					 "value, expected 4 or 8)",
					 (unsigned)nh.n_descsz);
				return -1;
			}
			if (v > UINT32_MAX) {
				snprintf(err, errlen,
					 "PVH entry 0x%llx is above 4 GiB",
					 (unsigned long long)v);
				return -1;
			}
			*entry = (uint32_t)v;
			return 1;
		}
		uint64_t next = desc_off + boot_align(nh.n_descsz, align);
		if (next > size)
			return 0;
		off = next;
	}
	return 0;
}

/* Checks the ELF header and copies it to *eh; -1 and err if bad. */
static int boot_check_ehdr(const uint8_t *p, size_t len, Elf64_Ehdr *eh,
			   char *err, size_t errlen)
{
	if (len < SELFMAG || memcmp(p, ELFMAG, SELFMAG) != 0) {
		snprintf(err, errlen, "not an ELF file");
		return -1;
	}
	if (len > EI_CLASS && p[EI_CLASS] != ELFCLASS64) {
		snprintf(err, errlen,
			 "not a 64-bit ELF (class %u); the kernel must be "
			 "ELF64",
			 p[EI_CLASS]);
		return -1;
	}
	if (len < sizeof(*eh)) {
		snprintf(err, errlen, "truncated ELF header (%zu bytes)", len);
		return -1;
	}
	memcpy(eh, p, sizeof(*eh));
	if (p[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64) {
		snprintf(err, errlen, "not an x86_64 ELF (machine %u)",
			 eh->e_machine);
		return -1;
	}
	if (eh->e_type != ET_EXEC) {
		snprintf(err, errlen, "not an ELF executable (type %u)",
			 eh->e_type);
		return -1;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    !boot_in_file(eh->e_phoff,
			  (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len)) {
		snprintf(err, errlen, "truncated or malformed program headers");
		return -1;
	}
	return 0;
}

/* Copies program header i; boot_check_ehdr() checked the table's bounds. */
static void boot_phdr(const uint8_t *p, const Elf64_Ehdr *eh, unsigned i,
		      Elf64_Phdr *s)
{
	memcpy(s, p + eh->e_phoff + (uint64_t)i * sizeof(*s), sizeof(*s));
}

int boot_load_elf(struct mem *m, const void *elf, size_t len,
		  struct boot_kernel *k, char *err, size_t errlen)
{
	const uint8_t *p = elf;
	Elf64_Ehdr eh;
	Elf64_Phdr s;
	int found = 0;

	if (boot_check_ehdr(p, len, &eh, err, errlen) < 0)
		return -1;
	k->start = UINT64_MAX;
	k->end = 0;

	/* Pass 1: check every segment, find the note; write nothing. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		boot_phdr(p, &eh, i, &s);
		if (s.p_type == PT_NOTE && !found) {
			if (!boot_in_file(s.p_offset, s.p_filesz, len)) {
				snprintf(err, errlen,
					 "note segment %u is outside the file",
					 i);
				return -1;
			}
			found = boot_find_pvh(p + s.p_offset, s.p_filesz,
					      s.p_align == 8 ? 8 : 4, &k->entry,
					      err, errlen);
			if (found < 0)
				return -1;
		}
		if (s.p_type != PT_LOAD)
			continue;
		if (!boot_in_file(s.p_offset, s.p_filesz, len) ||
		    s.p_filesz > s.p_memsz) {
			snprintf(err, errlen,
				 "segment %u is truncated (offset 0x%llx, "
				 "size 0x%llx, file is 0x%zx bytes)",
				 i, (unsigned long long)s.p_offset,
				 (unsigned long long)s.p_filesz, len);
			return -1;
		}
		if (mem_gpa(m, s.p_paddr, s.p_memsz) == NULL) {
			snprintf(err, errlen,
				 "segment %u [0x%llx, +0x%llx) does not fit "
				 "in %llu MiB of guest memory",
				 i, (unsigned long long)s.p_paddr,
				 (unsigned long long)s.p_memsz,
				 (unsigned long long)(m->size / VMM_MIB));
			return -1;
		}
		if (s.p_paddr < BOOT_AREA_END &&
		    s.p_paddr + s.p_memsz > BOOT_AREA_START) {
			snprintf(err, errlen,
				 "segment %u at 0x%llx overlaps the boot "
				 "information at [0x%llx, 0x%llx)",
				 i, (unsigned long long)s.p_paddr,
				 BOOT_AREA_START, BOOT_AREA_END);
			return -1;
		}
		if (s.p_paddr < k->start)
			k->start = s.p_paddr;
		if (s.p_paddr + s.p_memsz > k->end)
			k->end = s.p_paddr + s.p_memsz;
	}
	if (k->end == 0) {
		snprintf(err, errlen, "no loadable segments");
		return -1;
	}
	if (!found) {
		snprintf(err, errlen,
			 "no PVH entry note (Xen XEN_ELFNOTE_PHYS32_ENTRY); "
			 "kiln-vmm boots only PVH kernels");
		return -1;
	}
	if (k->entry < k->start || k->entry >= k->end) {
		snprintf(err, errlen,
			 "PVH entry 0x%x is outside the loaded segments",
			 k->entry);
		return -1;
	}

	/* Pass 2: copy.  Bytes past p_filesz stay zero: RAM is fresh. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		boot_phdr(p, &eh, i, &s);
		if (s.p_type == PT_LOAD && s.p_filesz > 0)
			memcpy(mem_gpa(m, s.p_paddr, s.p_filesz),
			       p + s.p_offset, s.p_filesz);
	}
	return 0;
}

int boot_place_initrd(uint64_t memsize, const struct boot_kernel *k,
		      uint64_t size, uint64_t *gpa, char *err, size_t errlen)
{
	uint64_t low = boot_align(k->end, VMM_PAGE);

	if (low < VMM_HIGH_RAM_START)
		low = VMM_HIGH_RAM_START;
	if (size <= memsize && low <= memsize) {
		*gpa = (memsize - size) & ~(VMM_PAGE - 1);
		if (*gpa >= low)
			return 0;
	}
	uint64_t need =
	    (low + boot_align(size, VMM_PAGE) + VMM_MIB - 1) / VMM_MIB;
	snprintf(err, errlen,
		 "guest memory too small: %llu MiB holds the kernel (%llu KiB, "
		 "ending at %llu KiB) but not the initrd (%llu KiB); use "
		 "--memory %llu or more",
		 (unsigned long long)(memsize / VMM_MIB),
		 (unsigned long long)((k->end - k->start + 1023) / 1024),
		 (unsigned long long)((k->end + 1023) / 1024),
		 (unsigned long long)((size + 1023) / 1024),
		 (unsigned long long)need);
	return -1;
}

/* Copies a host value to guest RAM; the caller checked the range. */
static void boot_put(struct mem *m, uint64_t gpa, const void *v, size_t n)
{
	memcpy(mem_gpa(m, gpa, n), v, n);
}

int boot_write_info(struct mem *m, const char *cmdline, uint64_t initrd_gpa,
		    uint64_t initrd_size, char *err, size_t errlen)
{
	size_t ulen = strlen(cmdline);
	size_t total = ulen + (ulen ? 1 : 0) + strlen(VMM_CMDLINE_SUFFIX) + 1;

	if (total > VMM_CMDLINE_MAX) {
		snprintf(err, errlen,
			 "command line too long: %zu bytes with ' %s' (max %d "
			 "including the NUL)",
			 total, VMM_CMDLINE_SUFFIX, VMM_CMDLINE_MAX);
		return -1;
	}
	if (mem_gpa(m, VMM_START_INFO_GPA,
		    BOOT_GDT_GPA + BOOT_GDT_SIZE - VMM_START_INFO_GPA) ==
		NULL ||
	    mem_gpa(m, VMM_CMDLINE_GPA, VMM_CMDLINE_MAX) == NULL ||
	    m->size <= VMM_HIGH_RAM_START) {
		snprintf(err, errlen, "guest memory too small for boot info");
		return -1;
	}

	char *cl = mem_gpa(m, VMM_CMDLINE_GPA, total);
	memcpy(cl, cmdline, ulen);
	if (ulen)
		cl[ulen++] = ' ';
	memcpy(cl + ulen, VMM_CMDLINE_SUFFIX, sizeof(VMM_CMDLINE_SUFFIX));

	const struct hvm_memmap_table_entry map[BOOT_MEMMAP_ENTRIES] = {
	    {0, VMM_LOW_RAM_END, E820_RAM, 0},
	    {VMM_LOW_RAM_END, VMM_HIGH_RAM_START - VMM_LOW_RAM_END,
	     E820_RESERVED, 0},
	    {VMM_HIGH_RAM_START, m->size - VMM_HIGH_RAM_START, E820_RAM, 0},
	};
	boot_put(m, BOOT_MEMMAP_GPA, map, sizeof(map));

	const struct hvm_modlist_entry mod = {initrd_gpa, initrd_size, 0, 0};
	if (initrd_size)
		boot_put(m, BOOT_MODLIST_GPA, &mod, sizeof(mod));

	const struct hvm_start_info si = {
	    .magic = HVM_START_MAGIC,
	    .version = 1,
	    .nr_modules = initrd_size ? 1 : 0,
	    .modlist_paddr = initrd_size ? BOOT_MODLIST_GPA : 0,
	    .cmdline_paddr = VMM_CMDLINE_GPA,
	    .memmap_paddr = BOOT_MEMMAP_GPA,
	    .memmap_entries = BOOT_MEMMAP_ENTRIES,
	};
	boot_put(m, VMM_START_INFO_GPA, &si, sizeof(si));

	/* The segment caches KVM_SET_SREGS loads match these descriptors, so
	 * a kernel that reloads a selector before its own lgdt still works. */
	const uint64_t gdt[BOOT_GDT_SIZE / 8] = {
	    0, 0x00cf9b000000ffffULL, /* 0x08: code, flat 4 GiB, 32-bit */
	    0x00cf93000000ffffULL,    /* 0x10: data, flat 4 GiB */
	    0x00008b0000000067ULL,    /* 0x18: busy 32-bit TSS, limit 0x67 */
	};
	boot_put(m, BOOT_GDT_GPA, gdt, sizeof(gdt));
	return 0;
}
