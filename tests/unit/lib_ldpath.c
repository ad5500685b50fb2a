/*
 * Unit tests of lib/ldpath.c and of library resolution as a whole:
 * ld.so.conf parsing (comments, includes with globs relative to the file,
 * several directories a line, "=TYPE" suffixes, duplicates, include
 * loops), musl's path file, $ORIGIN/$LIB/$PLATFORM expansion, candidates
 * that are not x86_64 ELF64 libraries being skipped, and, on real
 * programs, the same set of files as ldd(1) reports (ldd is used by this
 * test only, never by kiln).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldpath.h"
#include "lib_test.h"
#include "rootfs.h"

static char *dir;

static char *tpath(const char *name)
{
	static char buf[2][4096];
	static int which;
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
	return buf[which];
}

static void put(const char *name, const char *text)
{
	lib_test_write(tpath(name), text, strlen(text));
}

static int dirs_are(const struct strv *got, const char *const *want, size_t n)
{
	if (got->n < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(got->v[i], want[i]) != 0) {
			NOTE("dir %zu is '%s', want '%s'", i, got->v[i],
			     want[i]);
			return 0;
		}
	return 1;
}

static void test_conf(void)
{
	struct ldpath lp;
	char err[512];
	char conf[4096];
	static const char *const want[] = {
	    "/opt/a",
	    "/opt/s1",
	    "/opt/s2",
	    "/opt/s3",
	    "/opt/s4",
	    "/opt/b",
	    "/opt/c",
	    "/lib/x86_64-linux-gnu",
	    "/usr/lib/x86_64-linux-gnu",
	    "/lib64",
	    "/usr/lib64",
	    "/lib",
	    "/usr/lib",
	};

	mkdir(tpath("sub"), 0755);
	snprintf(conf, sizeof(conf),
		 "# a comment\n"
		 "/opt/a\n"
		 "include sub/*.conf\n"
		 "  /opt/b/   # trailing comment\n"
		 "hwcap 0 nosegneg\n"
		 "/opt/c=libc5\n"
		 "relative/dir\n"
		 "include /no/such/dir/*.conf\n");
	put("main.conf", conf);
	put("sub/1.conf", "/opt/s1\n/opt/a\n");
	put("sub/2.conf", "/opt/s2:/opt/s3,/opt/s4\n");
	put("sub/not-included.txt", "/opt/never\n");

	CHECK(ldpath_init_glibc(&lp, tpath("main.conf"), err, sizeof(err)) == 0,
	      "ld.so.conf with includes parses (%s)", err);
	CHECK(lp.nconf == 7 && lp.dirs.n == UTIL_ARRAY_SIZE(want) &&
		  dirs_are(&lp.dirs, want, UTIL_ARRAY_SIZE(want)),
	      "directories in order, includes in place, no duplicates, "
	      "defaults last (%zu conf, %zu total)",
	      lp.nconf, lp.dirs.n);
	ldpath_release(&lp);

	put("loop.conf", "include loop.conf\n");
	CHECK(ldpath_init_glibc(&lp, tpath("loop.conf"), err, sizeof(err)) <
		      0 &&
		  lib_test_has(err, "loop"),
	      "an include loop is an error: %s", err);
	ldpath_release(&lp);

	CHECK(ldpath_init_glibc(&lp, tpath("missing.conf"), err, sizeof(err)) ==
		      0 &&
		  lp.nconf == 0 && lp.dirs.n == 6,
	      "a missing ld.so.conf leaves the default directories");
	ldpath_release(&lp);

	CHECK(ldpath_init_glibc(&lp, NULL, err, sizeof(err)) == 0 &&
		  strv_find(&lp.dirs, "/lib/x86_64-linux-gnu") >= 0,
	      "the system's /etc/ld.so.conf parses");
	ldpath_release(&lp);

	put("musl.path", "/m/x:/m/y\n/m/z\n");
	{
		static const char *const mw[] = {"/m/x", "/m/y", "/m/z"};
		CHECK(ldpath_init_musl(&lp, tpath("musl.path"), err,
				       sizeof(err)) == 0 &&
			  lp.dirs.n == 3 && dirs_are(&lp.dirs, mw, 3),
		      "musl path file: ':' and newlines separate");
		ldpath_release(&lp);
	}
	{
		static const char *const mw[] = {"/lib", "/usr/local/lib",
						 "/usr/lib"};
		CHECK(ldpath_init_musl(&lp, tpath("none.path"), err,
				       sizeof(err)) == 0 &&
			  lp.dirs.n == 3 && dirs_are(&lp.dirs, mw, 3),
		      "no musl path file: /lib:/usr/local/lib:/usr/lib");
		ldpath_release(&lp);
	}
}

static void test_expand(void)
{
	struct strv out = {0};
	static const char *const want[] = {
	    "/o/../lib", "/o",		"/a/lib/x86_64-linux-gnu",
	    "/p/x86_64", "$ORIGINAL/x", "/q/o",
	};

	CHECK(ldpath_expand("$ORIGIN/../lib:${ORIGIN}:/a/$LIB:/p/${PLATFORM}::"
			    "$ORIGINAL/x:/q$ORIGIN:/o",
			    "/o", &out) == 0 &&
		  out.n == UTIL_ARRAY_SIZE(want) &&
		  dirs_are(&out, want, UTIL_ARRAY_SIZE(want)),
	      "$ORIGIN, ${ORIGIN}, $LIB, $PLATFORM expand; empty entries and "
	      "duplicates go (%zu dirs)",
	      out.n);
	strv_release(&out);
}

static void test_find(void)
{
	static const unsigned char elf32[52] = {
	    0x7f, 'E', 'L', 'F', 1, 1, 1, 0, 0, 0, 0, 0,
	    0,	  0,   0,   0,	 3, 0, 3, 0, 1, 0, 0, 0,
	};
	struct fake_elf lib = {.soname = "libq.so.1"};
	struct fake_elf arm = {.machine = 183};
	struct strv first = {0};
	struct ldpath lp;
	char found[PATH_MAX], err[256], want[PATH_MAX];

	mkdir(tpath("d1"), 0755);
	mkdir(tpath("d2"), 0755);
	mkdir(tpath("d3"), 0755);
	mkdir(tpath("d4"), 0755);
	put("d1/libq.so.1", "INPUT(-lq) /* a linker script */\n");
	lib_test_write(tpath("d2/libq.so.1"), elf32, sizeof(elf32));
	lib_test_write_elf(tpath("d3/libq.so.1"), &arm);
	lib_test_write_elf(tpath("d4/libq.so.1"), &lib);
	strv_push(&first, tpath("d1"));
	strv_push(&first, tpath("d2"));
	strv_push(&first, tpath("d3"));
	strv_push(&first, tpath("d4"));
	ldpath_init_glibc(&lp, tpath("missing.conf"), err, sizeof(err));
	snprintf(want, sizeof(want), "%s", tpath("d4/libq.so.1"));
	CHECK(
	    ldpath_find(&lp, "libq.so.1", &first, found, sizeof(found)) == 1 &&
		strcmp(found, want) == 0,
	    "text, ELF32 and aarch64 candidates are skipped; found %s", found);
	CHECK(ldpath_find(&lp, "libnosuch.so.9", &first, found,
			  sizeof(found)) == 0,
	      "a library that is nowhere is not found");
	CHECK(ldpath_find(&lp, "libc.so.6", NULL, found, sizeof(found)) == 1 &&
		  strcmp(found, "/lib/x86_64-linux-gnu/libc.so.6") == 0,
	      "libc.so.6 in the default directories: %s", found);
	ldpath_release(&lp);
	strv_release(&first);
}

/* Adds the realpath of s to set unless there. */
static void add_real(struct strv *set, const char *s)
{
	char real[PATH_MAX];
	if (realpath(s, real) != NULL && strv_find(set, real) < 0)
		strv_push(set, real);
}

/* The files ldd lists for prog (resolved), plus prog itself. */
static int ldd_files(const char *prog, struct strv *set)
{
	char cmd[PATH_MAX + 64], line[4096];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "env -u LD_LIBRARY_PATH -u LD_PRELOAD ldd '%s'", prog);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	add_real(set, prog);
	while (fgets(line, sizeof(line), p) != NULL) {
		char *arrow = strstr(line, "=> "), *path, *sp;
		path = arrow ? arrow + 3 : line;
		while (*path == ' ' || *path == '\t')
			path++;
		if (*path != '/')
			continue; /* linux-vdso.so.1, "not found" */
		sp = strpbrk(path, " \n");
		if (sp)
			*sp = '\0';
		add_real(set, path);
	}
	return pclose(p) == 0 ? 0 : -1;
}

static void test_like_ldd(const char *prog)
{
	struct strv want = {0}, got = {0};
	struct rootfs fs;
	char err[512];
	int same;

	if (access(prog, X_OK) != 0) {
		NOTE("skip %s: not installed", prog);
		return;
	}
	rootfs_init(&fs);
	if (!CHECK(rootfs_add_program(&fs, prog, err, sizeof(err)) == 0,
		   "%s: all libraries found (%s)", prog, err)) {
		rootfs_release(&fs);
		return;
	}
	for (size_t i = 0; i < fs.n; i++)
		if (fs.entries[i].kind == ROOTFS_FILE)
			add_real(&got, fs.entries[i].path);
	if (!CHECK(ldd_files(prog, &want) == 0, "ldd %s runs", prog))
		goto out;
	same = want.n == got.n;
	for (size_t i = 0; i < want.n; i++)
		if (strv_find(&got, want.v[i]) < 0) {
			NOTE("ldd lists %s, kiln does not", want.v[i]);
			same = 0;
		}
	for (size_t i = 0; i < got.n; i++)
		if (strv_find(&want, got.v[i]) < 0) {
			NOTE("kiln packs %s, ldd does not list it", got.v[i]);
			same = 0;
		}
	CHECK(same, "%s: the same %zu files as ldd", prog, want.n);
out:
	strv_release(&want);
	strv_release(&got);
	rootfs_release(&fs);
}

int main(void)
{
	dir = lib_test_tmpdir();
	if (dir == NULL)
		return 1;
	test_conf();
	test_expand();
	test_find();
	test_like_ldd("/bin/ls");
	test_like_ldd("/usr/bin/python3");
	test_like_ldd("/bin/echo");
	test_like_ldd("/usr/bin/qemu-system-x86_64");
	lib_test_rmdir(dir);
	free(dir);
	return lib_test_done("lib_ldpath");
}
