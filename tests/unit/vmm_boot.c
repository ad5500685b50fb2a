/*
 * kiln-vmm's boot protocol without KVM: the ELF64/PVH loader on ELF images
 * built here byte by byte (valid ones and each way of being broken), on one
 * laid out by the system linker (vmm_fixture_pvh.elf) and, when the lead
 * has built it, on build/kiln.elf, comparing the entry with readelf -n; the
 * initrd placement; and the exact bytes of hvm_start_info, its memory map,
 * module list, the boot GDT and the command line.
 */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../../vmm/vmm.h"
#include "vmm_test.h"

#ifndef VMM_TEST_BUILD_DIR
#define VMM_TEST_BUILD_DIR "build"
#endif

#define RAM	 (4 * VMM_MIB)
#define IMG_SIZE 0x1100
#define NOTE_OFF 0x800
#define CODE_OFF 0x1000
#define LOAD_GPA 0x100000
#define ENTRY	 0x100010

struct img {
	uint8_t b[IMG_SIZE];
	Elf64_Ehdr *eh;
	Elf64_Phdr *load, *note;
};

/* Appends one note at *off; returns its size. */
static size_t img_note(uint8_t *p, const char *name, uint32_t namesz,
		       uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = {namesz, descsz, type};
	size_t n = sizeof(nh);

	memcpy(p, &nh, sizeof(nh));
	memcpy(p + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memcpy(p + n, desc, descsz);
	n += (descsz + 3) & ~3u;
	return n;
}

/*
 * A valid kernel: one PT_LOAD of 0x20 file bytes (0x3000 in memory) at
 * 1 MiB, one PT_NOTE holding a GNU note and then the Xen PVH note whose
 * value is descsz (4 or 8) bytes long.
 */
static void img_build(struct img *im, uint32_t descsz)
{
	static const uint8_t gnu_desc[16] = {1, 2, 3};
	uint64_t entry = ENTRY;
	size_t n;

	memset(im, 0, sizeof(*im));
	im->eh = (Elf64_Ehdr *)im->b;
	im->load = (Elf64_Phdr *)(im->b + sizeof(Elf64_Ehdr));
	im->note = im->load + 1;
	memcpy(im->eh->e_ident, ELFMAG, SELFMAG);
	im->eh->e_ident[EI_CLASS] = ELFCLASS64;
	im->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh->e_ident[EI_VERSION] = EV_CURRENT;
	im->eh->e_type = ET_EXEC;
	im->eh->e_machine = EM_X86_64;
	im->eh->e_version = EV_CURRENT;
	im->eh->e_entry = 0xdeadbeef; /* PVH ignores e_entry */
	im->eh->e_phoff = sizeof(Elf64_Ehdr);
	im->eh->e_ehsize = sizeof(Elf64_Ehdr);
	im->eh->e_phentsize = sizeof(Elf64_Phdr);
	im->eh->e_phnum = 2;

	*im->load = (Elf64_Phdr){.p_type = PT_LOAD,
				 .p_offset = CODE_OFF,
				 .p_vaddr = 0xffffffff80100000ULL,
				 .p_paddr = LOAD_GPA,
				 .p_filesz = 0x20,
				 .p_memsz = 0x3000,
				 .p_align = 0x1000};
	for (int i = 0; i < 0x20; i++)
		im->b[CODE_OFF + i] = (uint8_t)(0xa0 + i);

	n = img_note(im->b + NOTE_OFF, "GNU", 4, 5, gnu_desc, 16);
	n += img_note(im->b + NOTE_OFF + n, "Xen", 4, 18, &entry, descsz);
	*im->note = (Elf64_Phdr){.p_type = PT_NOTE,
				 .p_offset = NOTE_OFF,
				 .p_filesz = n,
				 .p_align = 4};
}

static int ram_is_zero(const struct mem *m, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = mem_gpa(m, gpa, len);
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Loads im into fresh RAM; returns boot_load_elf's result. */
static int load(struct mem *m, const struct img *im, size_t len,
		struct boot_kernel *k, char *err, size_t errlen)
{
	memset(m->host, 0, m->size);
	err[0] = '\0';
	return boot_load_elf(m, im->b, len, k, err, errlen);
}

static void test_loader(struct mem *m)
{
	struct img im;
	struct boot_kernel k;
	char err[256];

	img_build(&im, 4);
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) == 0,
	      "valid ELF64 with a 4-byte PVH note loads %s", err);
	CHECK(k.entry == ENTRY, "entry from the note: 0x%x", k.entry);
	CHECK(k.start == LOAD_GPA && k.end == LOAD_GPA + 0x3000,
	      "kernel extent [0x%llx, 0x%llx)", (unsigned long long)k.start,
	      (unsigned long long)k.end);
	CHECK(memcmp(mem_gpa(m, LOAD_GPA, 0x20), im.b + CODE_OFF, 0x20) == 0,
	      "segment bytes copied to p_paddr");
	CHECK(ram_is_zero(m, LOAD_GPA + 0x20, 0x3000 - 0x20) &&
		  ram_is_zero(m, 0, LOAD_GPA),
	      "memsz beyond filesz and other RAM stay zero");

	img_build(&im, 8);
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) == 0 &&
		  k.entry == ENTRY,
	      "8-byte PVH note value %s", err);

	img_build(&im, 2);
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "malformed PVH"),
	      "2-byte PVH note value refused: %s", err);

	img_build(&im, 4);
	im.b[EI_CLASS] = ELFCLASS32;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "64-bit"),
	      "32-bit ELF refused: %s", err);

	img_build(&im, 4);
	CHECK(load(m, &im, 40, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "truncated ELF header"),
	      "ELF cut inside its header refused: %s", err);
	CHECK(load(m, &im, 100, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "program headers"),
	      "ELF cut inside its program headers refused: %s", err);
	CHECK(load(m, &im, CODE_OFF + 0x10, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "truncated"),
	      "ELF cut inside a segment refused: %s", err);
	CHECK(ram_is_zero(m, 0, RAM), "a refused ELF writes nothing");

	CHECK(boot_load_elf(m, "hello, world", 12, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "not an ELF"),
	      "text file refused: %s", err);

	img_build(&im, 4);
	im.eh->e_machine = EM_386;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "x86_64"),
	      "other machine refused: %s", err);

	img_build(&im, 4);
	im.eh->e_phnum = 0xffff;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0,
	      "program header table past the file refused: %s", err);

	img_build(&im, 4);
	im.note->p_type = PT_NULL;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "no PVH entry note"),
	      "ELF without the PVH note refused: %s", err);
	CHECK(ram_is_zero(m, 0, RAM), "  ... and writes nothing");

	img_build(&im, 4);
	memcpy(im.b + NOTE_OFF, &(uint32_t){0xffffffffu}, 4);
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "no PVH entry note"),
	      "note with namesz 0xffffffff is not followed: %s", err);

	img_build(&im, 4);
	im.note->p_filesz = 0x10000;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "outside the file"),
	      "note segment past the file refused: %s", err);

	img_build(&im, 4);
	im.load->p_paddr = RAM - 0x1000;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "does not fit"),
	      "segment past the end of RAM refused: %s", err);
	im.load->p_paddr = UINT64_MAX - 0xfff;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "does not fit"),
	      "segment whose end wraps refused: %s", err);
	im.load->p_paddr = LOAD_GPA;
	im.load->p_memsz = 0x10;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0,
	      "filesz > memsz refused: %s", err);

	img_build(&im, 4);
	im.load->p_paddr = 0x20000;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "overlaps the boot information"),
	      "segment over the command line refused: %s", err);

	img_build(&im, 4);
	im.load->p_paddr = 0x200000;
	CHECK(load(m, &im, IMG_SIZE, &k, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "outside the loaded segments"),
	      "entry outside every segment refused: %s", err);
}

/* Reads a whole file; NULL if it cannot. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *p;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || (p = malloc(st.st_size + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(p, 1, st.st_size, f);
	fclose(f);
	return p;
}

/*
 * The PVH entry as readelf -n prints it: the owner line "Xen ... (0x12)"
 * (binutils does not name Xen notes) followed by "description data: b0 b1
 * b2 b3 ..." in file (little-endian) order.  -1 if not found.
 */
static long long readelf_pvh_entry(const char *path)
{
	char cmd[512], line[512];
	long long entry = -1;
	int in_xen = 0;

	snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		char *d = strstr(line, "description data:");
		if (strstr(line, "Xen") != NULL)
			in_xen = strstr(line, "0x00000012") != NULL;
		else if (in_xen && d != NULL && entry < 0) {
			unsigned b[8];
			int n = sscanf(d,
				       "description data: %x %x %x %x %x %x "
				       "%x %x",
				       &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
				       &b[6], &b[7]);
			entry = 0;
			for (int i = n - 1; i >= 0; i--)
				entry = entry << 8 | b[i];
			in_xen = 0;
		}
	}
	pclose(p);
	return entry;
}

static void test_real_elf(struct mem *m, const char *path, int required)
{
	struct boot_kernel k;
	char err[256] = "";
	size_t len;
	uint8_t *p = slurp(path, &len);

	if (p == NULL) {
		if (required)
			CHECK(0, "cannot read '%s'", path);
		else
			printf("ok %d - # SKIP '%s' absent (kernel not built "
			       "yet)\n",
			       ++vmm_test_count, path);
		return;
	}
	memset(m->host, 0, m->size);
	long long want = readelf_pvh_entry(path);
	int r = boot_load_elf(m, p, len, &k, err, sizeof(err));
	CHECK(r == 0, "loader accepts '%s' %s", path, err);
	CHECK(want >= 0, "readelf -n shows a Xen PHYS32_ENTRY note in '%s'",
	      path);
	CHECK(r == 0 && (long long)k.entry == want,
	      "loader entry 0x%x == readelf entry 0x%llx for '%s'", k.entry,
	      want, path);
	free(p);
}

static void test_initrd(void)
{
	struct boot_kernel k = {
	    .entry = ENTRY, .start = LOAD_GPA, .end = 0x180000};
	uint64_t gpa = 0;
	char err[256] = "";

	CHECK(boot_place_initrd(64 * VMM_MIB, &k, 1000001, &gpa, err,
				sizeof(err)) == 0,
	      "1 MB initrd fits in 64 MiB %s", err);
	CHECK(gpa % 4096 == 0 && gpa + 1000001 <= 64 * VMM_MIB &&
		  gpa + 1000001 + 4096 > 64 * VMM_MIB,
	      "initrd at the top of RAM, page aligned: 0x%llx",
	      (unsigned long long)gpa);
	int r = boot_place_initrd(2 * VMM_MIB, &k, 512 * 1024, &gpa, err,
				  sizeof(err));
	CHECK(r == 0 && gpa == 0x180000,
	      "exact fit above the kernel: 0x%llx %s", (unsigned long long)gpa,
	      err);
	CHECK(boot_place_initrd(2 * VMM_MIB, &k, VMM_MIB, &gpa, err,
				sizeof(err)) < 0 &&
		  vmm_test_has(err, "memory too small") &&
		  vmm_test_has(err, "--memory 3"),
	      "overlap with the kernel refused with sizes: %s", err);
	CHECK(boot_place_initrd(2 * VMM_MIB, &k, 3 * VMM_MIB, &gpa, err,
				sizeof(err)) < 0 &&
		  vmm_test_has(err, "memory too small"),
	      "initrd larger than RAM refused: %s", err);
	CHECK(boot_place_initrd(2 * VMM_MIB, &k, UINT64_MAX, &gpa, err,
				sizeof(err)) < 0,
	      "absurd initrd size refused without overflow");
}

static uint32_t rd32(const struct mem *m, uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, mem_gpa(m, gpa, 4), 4);
	return v;
}

static uint64_t rd64(const struct mem *m, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, mem_gpa(m, gpa, 8), 8);
	return v;
}

static void test_start_info(struct mem *m)
{
	char err[256] = "";
	char big[4200];

	memset(m->host, 0, m->size);
	CHECK(boot_write_info(m, "console=ttyS0 quiet", 0x3f0000, 0x10000, err,
			      sizeof(err)) == 0,
	      "start info written %s", err);
	CHECK(rd32(m, 0x6000) == 0x336ec578, "magic");
	CHECK(rd32(m, 0x6004) == 1, "version 1");
	CHECK(rd32(m, 0x6008) == 0, "flags 0");
	CHECK(rd32(m, 0x600c) == 1, "one module");
	CHECK(rd64(m, 0x6010) == 0x6080, "modlist_paddr 0x6080");
	CHECK(rd64(m, 0x6018) == 0x20000, "cmdline_paddr 0x20000");
	CHECK(rd64(m, 0x6020) == 0, "rsdp_paddr 0");
	CHECK(rd64(m, 0x6028) == 0x6038, "memmap_paddr right after (0x6038)");
	CHECK(rd32(m, 0x6030) == 3 && rd32(m, 0x6034) == 0,
	      "3 memmap entries, reserved 0");
	CHECK(rd64(m, 0x6038) == 0 && rd64(m, 0x6040) == 0x9fc00 &&
		  rd32(m, 0x6048) == 1,
	      "map[0] RAM [0, 0x9fc00)");
	CHECK(rd64(m, 0x6050) == 0x9fc00 && rd64(m, 0x6058) == 0x60400 &&
		  rd32(m, 0x6060) == 2,
	      "map[1] reserved [0x9fc00, 0x100000)");
	CHECK(rd64(m, 0x6068) == 0x100000 &&
		  rd64(m, 0x6070) == RAM - 0x100000 && rd32(m, 0x6078) == 1,
	      "map[2] RAM [1 MiB, end of RAM)");
	CHECK(rd64(m, 0x6080) == 0x3f0000 && rd64(m, 0x6088) == 0x10000 &&
		  rd64(m, 0x6090) == 0 && rd64(m, 0x6098) == 0,
	      "modlist[0] = initrd address and size");
	CHECK(strcmp((char *)mem_gpa(m, 0x20000, 1),
		     "console=ttyS0 quiet kiln.vmm=kiln") == 0,
	      "command line gets ' kiln.vmm=kiln': '%s'",
	      (char *)mem_gpa(m, 0x20000, 1));
	CHECK(rd64(m, 0x6100) == 0 &&
		  rd64(m, 0x6108) == 0x00cf9b000000ffffULL &&
		  rd64(m, 0x6110) == 0x00cf93000000ffffULL &&
		  rd64(m, 0x6118) == 0x00008b0000000067ULL,
	      "boot GDT: null, flat code 0x08, flat data 0x10, TSS 0x18");

	memset(m->host, 0, m->size);
	CHECK(boot_write_info(m, "", 0, 0, err, sizeof(err)) == 0 &&
		  rd32(m, 0x600c) == 0 && rd64(m, 0x6010) == 0 &&
		  ram_is_zero(m, 0x6080, 32),
	      "no initrd: no module, no modlist");
	CHECK(strcmp((char *)mem_gpa(m, 0x20000, 1), "kiln.vmm=kiln") == 0,
	      "empty command line becomes 'kiln.vmm=kiln'");

	memset(big, 'x', sizeof(big));
	big[4096 - 15] = '\0'; /* 4081 + ' kiln.vmm=kiln' + NUL = 4096 */
	CHECK(boot_write_info(m, big, 0, 0, err, sizeof(err)) == 0 &&
		  strlen((char *)mem_gpa(m, 0x20000, 1)) == 4095,
	      "4096-byte command line (with NUL) accepted %s", err);
	big[4096 - 15] = 'x';
	big[4096 - 14] = '\0';
	CHECK(boot_write_info(m, big, 0, 0, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "command line too long"),
	      "4097-byte command line refused: %s", err);
}

int main(void)
{
	struct mem m = {calloc(1, RAM), RAM};

	test_loader(&m);
	test_initrd();
	test_start_info(&m);
	test_real_elf(&m, VMM_TEST_BUILD_DIR "/tests/unit/vmm_fixture_pvh.elf",
		      1);
	/* The real kernel needs more room than the 4 MiB used above. */
	struct mem big = {calloc(1, 64 * VMM_MIB), 64 * VMM_MIB};
	test_real_elf(&big, VMM_TEST_BUILD_DIR "/kiln.elf", 0);
	free(big.host);
	free(m.host);
	return vmm_test_done("vmm_boot");
}
