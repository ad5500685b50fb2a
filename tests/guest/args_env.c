/*
 * The initial stack: argv as given on the kiln command line (options after
 * the program name belong to the program), environment from -e (an empty
 * value too), the envp array right after argv, the auxiliary vector right
 * after envp, and its entries: AT_PAGESZ 4096, AT_RANDOM 16 readable bytes,
 * AT_PHDR/AT_PHNUM/AT_PHENT describing this program's headers, AT_ENTRY its
 * entry point, AT_BASE the interpreter (dynamic) or 0 (static).
 *
 * kiln-run-opts: -e KILN_TEST_ENV=kiln-env-value -e KILN_TEST_EMPTY=
 * kiln-run-args: alpha beta=1 --gamma
 */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>

#include "tap.h"

extern char **environ;

static void test_argv(int argc, char **argv)
{
	const char *slash;

	CHECK_EQ("argc", argc, 4);
	if (argc != 4)
		return;
	slash = strrchr(argv[0], '/');
	CHECK_STR("argv[0] names the program", slash ? slash + 1 : argv[0],
		  "args_env");
	CHECK_STR("argv[1]", argv[1], "alpha");
	CHECK_STR("argv[2]", argv[2], "beta=1");
	CHECK_STR("argv[3] (an option after the program is an argument)",
		  argv[3], "--gamma");
	CHECK(argv[4] == NULL, "argv[argc] is NULL");
}

static void test_env(char **envp)
{
	int n = 0;

	CHECK_STR("-e KILN_TEST_ENV reaches the program",
		  getenv("KILN_TEST_ENV"), "kiln-env-value");
	CHECK_STR("-e KILN_TEST_EMPTY= gives an empty value",
		  getenv("KILN_TEST_EMPTY"), "");
	CHECK(getenv("KILN_TEST_UNSET") == NULL, "unset variable is absent");
	CHECK(envp == environ, "main's envp is environ");
	for (char **e = envp; *e; e++) {
		n++;
		if (!strchr(*e, '=')) {
			tap_check(0, "environment entry has '=': got '%s'", *e);
			return;
		}
	}
	CHECK(n >= 2, "environment holds the -e entries");
}

static void test_auxv(int argc, char **argv, char **envp)
{
	CHECK(envp == argv + argc + 1, "envp follows argv's NULL");
	char **e = envp;
	while (*e)
		e++;
	unsigned long *aux = (unsigned long *)(e + 1);
	unsigned long pagesz = 0;
	int n = 0;
	for (; aux[0] != AT_NULL && n < 128; aux += 2, n++)
		if (aux[0] == AT_PAGESZ)
			pagesz = aux[1];
	CHECK(n < 128, "auxv follows envp's NULL and ends with AT_NULL");
	CHECK_EQ("auxv on the stack has AT_PAGESZ 4096", pagesz, 4096);
	CHECK_EQ("getauxval(AT_PAGESZ)", getauxval(AT_PAGESZ), 4096);

	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	CHECK(rnd != NULL, "AT_RANDOM is set");
	if (rnd) {
		int nz = 0;
		for (int i = 0; i < 16; i++)
			nz |= rnd[i];
		CHECK(nz, "AT_RANDOM's 16 bytes are not all zero");
	}

	unsigned long phdr = getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM);
	CHECK(phdr != 0, "AT_PHDR is set");
	CHECK(phnum > 0 && phnum < 64, "AT_PHNUM is sane");
	CHECK_EQ("AT_PHENT is sizeof(Elf64_Phdr)", getauxval(AT_PHENT),
		 sizeof(Elf64_Phdr));
	if (!phdr || (phdr & 4095) != sizeof(Elf64_Ehdr)) {
		tap_check(0,
			  "program headers follow the ELF header at the "
			  "start of a page: got AT_PHDR %#lx",
			  phdr);
		return;
	}
	/* Every linker puts the program headers right after the ELF header
	 * in the first loaded page, so the header is at AT_PHDR - 64. */
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(phdr - sizeof(Elf64_Ehdr));
	const Elf64_Phdr *ph = (const Elf64_Phdr *)phdr;
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0,
	      "AT_PHDR - 64 is this program's ELF header");
	CHECK_EQ("e_phnum equals AT_PHNUM", eh->e_phnum, phnum);

	long bias = -1, has_interp = 0;
	for (unsigned long i = 0; i < phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0 && bias < 0)
			bias = (long)((uintptr_t)eh - ph[i].p_vaddr);
		if (ph[i].p_type == PT_INTERP)
			has_interp = 1;
	}
	CHECK(bias >= 0, "a PT_LOAD maps the ELF header");
	CHECK_EQ("AT_ENTRY is the load bias plus e_entry", getauxval(AT_ENTRY),
		 (unsigned long)bias + eh->e_entry);
	const unsigned char *base = (const unsigned char *)getauxval(AT_BASE);
	if (has_interp) {
		CHECK(base && memcmp(base, ELFMAG, SELFMAG) == 0,
		      "AT_BASE points at the interpreter's ELF header");
	} else {
		CHECK(base == NULL, "AT_BASE is 0 without an interpreter");
	}
}

int main(int argc, char **argv, char **envp)
{
	test_argv(argc, argv);
	test_env(envp);
	test_auxv(argc, argv, envp);
	return tap_done("args_env");
}
