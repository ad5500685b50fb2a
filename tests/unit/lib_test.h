/*
 * Shared by the unit tests of lib/ (tests/unit/lib_*.c): TAP-style
 * "ok N - what" / "not ok N - what" lines, a summary, an exit status that
 * is 0 only when every check passed, and helpers for scratch directories.
 * LIB_TEST_ROOT (the repository, absolute) comes from tests/unit/lib.mk.
 */
#ifndef KILN_LIB_TEST_H
#define KILN_LIB_TEST_H

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lib_test_count, lib_test_failed;

__attribute__((format(printf, 2, 3))) static inline int
lib_test_check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++lib_test_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		lib_test_failed++;
	return ok;
}

#define CHECK(cond, ...) lib_test_check(!!(cond), __VA_ARGS__)

/* A comment line in the output (shown on failure by tests/run.sh). */
#define NOTE(...)                                                              \
	do {                                                                   \
		printf("# ");                                                  \
		printf(__VA_ARGS__);                                           \
		putchar('\n');                                                 \
	} while (0)

static inline int lib_test_has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

static inline int lib_test_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name,
	       lib_test_count - lib_test_failed, lib_test_failed);
	return lib_test_failed ? 1 : 0;
}

/* Runs a shell command; 1 if it exited 0. */
static inline int lib_test_sh(const char *cmd)
{
	return system(cmd) == 0;
}

/* A new scratch directory under $TMPDIR (removed by lib_test_rmdir). */
static inline char *lib_test_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	static char path[4096];

	snprintf(path, sizeof(path), "%s/kiln-libtest.XXXXXX",
		 t && *t ? t : "/tmp");
	return mkdtemp(path) ? strdup(path) : NULL;
}

static inline void lib_test_rmdir(const char *dir)
{
	char cmd[4200];

	if (dir == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/*
 * Writes a small but well-formed ELF64 file with the given dynamic
 * information, so library resolution can be tested on fake libraries in
 * scratch directories: ehdr, program headers (PT_LOAD of the whole file,
 * PT_INTERP if interp, PT_DYNAMIC), the interpreter string, the dynamic
 * section and its string table.  Virtual addresses equal file offsets.
 */
struct fake_elf {
	unsigned type;	  /* ET_DYN if 0 */
	unsigned machine; /* EM_X86_64 if 0 */
	const char *interp;
	const char *needed[8];
	const char *soname, *rpath, *runpath;
};

static inline int lib_test_write_elf(const char *path, const struct fake_elf *f)
{
	unsigned char buf[8192] = {0};
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	size_t nph = f->interp ? 3 : 2, off = sizeof(*eh) + nph * sizeof(*ph);
	size_t interp_off = 0, dyn_off, str_off, strlen_ = 1, ndyn = 0;
	Elf64_Dyn dyn[16];
	char strtab[2048] = {0};
	FILE *out;

#define LIB_TEST_STR(s)                                                        \
	(strcpy(strtab + strlen_, (s)), strlen_ += strlen(s) + 1,              \
	 strlen_ - strlen(s) - 1)
	for (int i = 0; i < 8 && f->needed[i]; i++)
		dyn[ndyn++] =
		    (Elf64_Dyn){DT_NEEDED, {LIB_TEST_STR(f->needed[i])}};
	if (f->soname)
		dyn[ndyn++] = (Elf64_Dyn){DT_SONAME, {LIB_TEST_STR(f->soname)}};
	if (f->rpath)
		dyn[ndyn++] = (Elf64_Dyn){DT_RPATH, {LIB_TEST_STR(f->rpath)}};
	if (f->runpath)
		dyn[ndyn++] =
		    (Elf64_Dyn){DT_RUNPATH, {LIB_TEST_STR(f->runpath)}};
#undef LIB_TEST_STR
	if (f->interp) {
		interp_off = off;
		strcpy((char *)buf + off, f->interp);
		off += strlen(f->interp) + 1;
	}
	off = (off + 7) & ~(size_t)7;
	dyn_off = off;
	str_off = dyn_off + (ndyn + 3) * sizeof(Elf64_Dyn);
	dyn[ndyn++] = (Elf64_Dyn){DT_STRTAB, {str_off}};
	dyn[ndyn++] = (Elf64_Dyn){DT_STRSZ, {strlen_}};
	dyn[ndyn++] = (Elf64_Dyn){DT_NULL, {0}};
	memcpy(buf + dyn_off, dyn, ndyn * sizeof(Elf64_Dyn));
	memcpy(buf + str_off, strtab, strlen_);
	off = str_off + strlen_;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = f->type ? f->type : ET_DYN;
	eh->e_machine = f->machine ? f->machine : EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = (Elf64_Half)nph;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R,
			     .p_filesz = off,
			     .p_memsz = off,
			     .p_align = 4096};
	if (f->interp)
		ph[1] = (Elf64_Phdr){.p_type = PT_INTERP,
				     .p_flags = PF_R,
				     .p_offset = interp_off,
				     .p_vaddr = interp_off,
				     .p_filesz = strlen(f->interp) + 1,
				     .p_memsz = strlen(f->interp) + 1};
	ph[nph - 1] = (Elf64_Phdr){.p_type = PT_DYNAMIC,
				   .p_flags = PF_R,
				   .p_offset = dyn_off,
				   .p_vaddr = dyn_off,
				   .p_filesz = ndyn * sizeof(Elf64_Dyn),
				   .p_memsz = ndyn * sizeof(Elf64_Dyn)};
	out = fopen(path, "wb");
	if (out == NULL)
		return -1;
	if (fwrite(buf, 1, off, out) != off) {
		fclose(out);
		return -1;
	}
	return fclose(out) == 0 ? 0 : -1;
}

/* Writes len bytes of data to path. */
static inline int lib_test_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

#endif /* KILN_LIB_TEST_H */
