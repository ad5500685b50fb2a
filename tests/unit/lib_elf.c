/*
 * Unit tests of lib/elfinfo.c on real and hand-made files: Debian's
 * /bin/echo (dynamic: interpreter and libc.so.6), glibc itself, a static
 * and a dynamic musl build of examples/hello.c, then the refusals, each
 * with its own error kind and message: a 52-byte ELF32 header, truncated
 * files at several points, non-ELF files, another machine, an object
 * file, inconsistent headers and dynamic entries pointing nowhere.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elfinfo.h"
#include "lib_test.h"

static char *dir;

static char *tpath(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* Reads path expecting a failure of kind want with words in its message. */
static void refused(const char *what, const char *path, enum elf_error want,
		    const char *words)
{
	struct elf_info info;
	char err[512] = "";
	int r = elf_read(path, &info, err, sizeof(err));

	CHECK(r == -1 && info.error == want && lib_test_has(err, words) &&
		  lib_test_has(err, path),
	      "%s: refused (kind %d, want %d): %s", what, info.error, want,
	      err);
	elf_release(&info);
}

/* The first n bytes of src, written to a scratch file. */
static char *head_of(const char *src, size_t n, const char *name)
{
	char *buf = malloc(n), *path = tpath(name);
	FILE *f = fopen(src, "rb");
	size_t got = f ? fread(buf, 1, n, f) : 0;

	if (f)
		fclose(f);
	lib_test_write(path, buf, got);
	free(buf);
	return path;
}

/* A copy of src with bytes patched at off. */
static char *patched(const char *src, size_t off, const void *bytes, size_t n,
		     const char *name)
{
	struct stat st;
	char *path, *buf;
	FILE *f;

	if (stat(src, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size);
	f = fopen(src, "rb");
	if (f == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		abort();
	fclose(f);
	memcpy(buf + off, bytes, n);
	path = tpath(name);
	lib_test_write(path, buf, (size_t)st.st_size);
	free(buf);
	return path;
}

static void test_real_files(void)
{
	struct elf_info info;
	char err[512];
	const char *musl_static = LIB_TEST_ROOT "/examples/hello";
	const char *musl_dyn =
	    LIB_TEST_BUILD "/tests/unit/lib_fx/hello-musl-dynamic";

	CHECK(elf_read("/bin/echo", &info, err, sizeof(err)) == 0,
	      "/bin/echo reads");
	CHECK(info.interp &&
		  strcmp(info.interp, "/lib64/ld-linux-x86-64.so.2") == 0,
	      "/bin/echo: interpreter /lib64/ld-linux-x86-64.so.2 (got %s)",
	      info.interp ? info.interp : "none");
	CHECK(strv_find(&info.needed, "libc.so.6") >= 0 && info.has_dynamic,
	      "/bin/echo: needs libc.so.6");
	CHECK(info.type == ET_DYN || info.type == ET_EXEC, "/bin/echo: type");
	elf_release(&info);

	CHECK(elf_read("/lib/x86_64-linux-gnu/libc.so.6", &info, err,
		       sizeof(err)) == 0 &&
		  info.soname && strcmp(info.soname, "libc.so.6") == 0 &&
		  strv_find(&info.needed, "ld-linux-x86-64.so.2") >= 0,
	      "libc.so.6: soname libc.so.6, needs ld-linux-x86-64.so.2");
	elf_release(&info);

	CHECK(elf_read(musl_static, &info, err, sizeof(err)) == 0 &&
		  info.interp == NULL && info.needed.n == 0,
	      "static musl hello: no interpreter, no libraries (%s)", err);
	elf_release(&info);

	CHECK(elf_read(musl_dyn, &info, err, sizeof(err)) == 0 && info.interp &&
		  strcmp(info.interp, "/lib/ld-musl-x86_64.so.1") == 0 &&
		  strv_find(&info.needed, "libc.so") >= 0,
	      "dynamic musl hello: ld-musl interpreter, needs libc.so (%s)",
	      err);
	elf_release(&info);

	CHECK(elf_is_x86_64_library("/lib/x86_64-linux-gnu/libc.so.6") == 1,
	      "libc.so.6 is an x86_64 library");
	CHECK(elf_is_x86_64_library(musl_static) == 0,
	      "a static ET_EXEC is not a library candidate");
	CHECK(elf_is_x86_64_library("/no/such/lib.so") == 0,
	      "a missing file is not a library");
}

static void test_fake_dynamic(void)
{
	struct elf_info info;
	char err[512];
	struct fake_elf f = {.needed = {"liba.so.1", "libb.so.2"},
			     .soname = "libself.so.3",
			     .rpath = "$ORIGIN/../lib:/opt/x",
			     .runpath = "/run/path",
			     .interp = "/lib/ld-test.so"};

	lib_test_write_elf(tpath("fake"), &f);
	CHECK(elf_read(tpath("fake"), &info, err, sizeof(err)) == 0 &&
		  info.needed.n == 2 &&
		  strcmp(info.needed.v[1], "libb.so.2") == 0 &&
		  strcmp(info.soname, "libself.so.3") == 0 &&
		  strcmp(info.rpath, "$ORIGIN/../lib:/opt/x") == 0 &&
		  strcmp(info.runpath, "/run/path") == 0 &&
		  strcmp(info.interp, "/lib/ld-test.so") == 0,
	      "hand-made ELF: needed, soname, rpath, runpath, interp (%s)",
	      err);
	elf_release(&info);

	/* DT_NEEDED's offset beyond DT_STRSZ: patch the first dyn entry's
	 * value (the dynamic section follows the interp string). */
	{
		struct fake_elf g = {.needed = {"x"}};
		Elf64_Xword huge = 0x100000;
		lib_test_write_elf(tpath("badneeded"), &g);
		/* ehdr 64 + 2 phdrs 112 = 176: first Elf64_Dyn, value at +8 */
		refused("DT_NEEDED outside the string table",
			patched(tpath("badneeded"), 176 + 8, &huge,
				sizeof(huge), "badneeded2"),
			ELF_ERR_MALFORMED, "malformed");
	}
}

static void test_refusals(void)
{
	static const unsigned char elf32[52] = {
	    0x7f, 'E',	'L',  'F', 1 /* ELFCLASS32 */,
	    1,	  1,	0,    0,   0,
	    0,	  0,	0,    0,   0,
	    0,	  2,	0,    3,   0 /* ET_EXEC, EM_386 */,
	    1,	  0,	0,    0,   0x54,
	    0x80, 0x04, 0x08, 52,  0,
	    0,	  0,	0,    0,   0,
	    0,	  0,	0,    0,   0,
	    52,	  0,	32,   0,   1,
	    0,	  0,	0,    0,   0,
	    0,	  0,
	};
	uint16_t u16;
	uint64_t u64;
	struct stat st;
	struct elf_info info;
	char err[256];

	lib_test_write(tpath("elf32"), elf32, sizeof(elf32));
	refused("52-byte ELF32 header", tpath("elf32"), ELF_ERR_CLASS32,
		"is a 32-bit program; kiln runs x86_64 programs only");

	refused("first 100 bytes of /bin/echo",
		head_of("/bin/echo", 100, "t100"), ELF_ERR_TRUNCATED,
		"truncated");
	refused("first 40 bytes (half an ELF64 header)",
		head_of("/bin/echo", 40, "t40"), ELF_ERR_TRUNCATED,
		"truncated");
	refused("first 4 bytes (magic only)", head_of("/bin/echo", 4, "t4"),
		ELF_ERR_TRUNCATED, "truncated");
	stat("/bin/echo", &st);
	refused("first half of /bin/echo (segments past the end)",
		head_of("/bin/echo", (size_t)st.st_size / 2, "thalf"),
		ELF_ERR_TRUNCATED, "truncated");

	lib_test_write(tpath("script"), "#!/bin/sh\necho hi\n", 18);
	refused("a shell script", tpath("script"), ELF_ERR_NOT_ELF,
		"is not an ELF executable (it is a '#!' script)");
	lib_test_write(tpath("empty"), "", 0);
	refused("an empty file", tpath("empty"), ELF_ERR_NOT_ELF, "empty");
	lib_test_write(tpath("text"), "hello world, no magic here", 26);
	refused("a text file", tpath("text"), ELF_ERR_NOT_ELF,
		"is not an ELF executable");
	refused("a directory", dir, ELF_ERR_NOT_ELF, "is a directory");

	u16 = EM_AARCH64;
	refused("an aarch64 program", patched("/bin/echo", 18, &u16, 2, "arm"),
		ELF_ERR_MACHINE, "is a program for aarch64; kiln runs x86_64");
	u16 = 0x1234;
	refused("an unknown machine",
		patched("/bin/echo", 18, &u16, 2, "m1234"), ELF_ERR_MACHINE,
		"machine 4660");
	u16 = ET_REL;
	refused("a relocatable object",
		patched("/bin/echo", 16, &u16, 2, "rel"), ELF_ERR_TYPE,
		"relocatable object file");
	u16 = 40;
	refused("wrong e_phentsize", patched("/bin/echo", 54, &u16, 2, "phent"),
		ELF_ERR_MALFORMED, "malformed");
	u16 = 0xffff;
	refused("65535 program headers",
		patched("/bin/echo", 56, &u16, 2, "phnum"), ELF_ERR_TRUNCATED,
		"program headers");
	u64 = 0x7f00000000000000ULL;
	refused("e_phoff far beyond the file",
		patched("/bin/echo", 32, &u64, 8, "phoff"), ELF_ERR_TRUNCATED,
		"truncated");

	CHECK(elf_read("/no/such/file", &info, err, sizeof(err)) == -1 &&
		  info.error == ELF_ERR_IO && info.sys_errno == ENOENT &&
		  lib_test_has(err, "cannot open '/no/such/file'"),
	      "a missing file: I/O error with ENOENT: %s", err);
	elf_release(&info);
}

int main(void)
{
	dir = lib_test_tmpdir();
	if (dir == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_real_files();
	test_fake_dynamic();
	test_refusals();
	lib_test_rmdir(dir);
	free(dir);
	return lib_test_done("lib_elf");
}
