/*
 * Unit tests of lib/rootfs.c: the shape of /bin/echo's image (every name
 * the program and ld.so use resolves inside the image to the right host
 * file, symlinks included), guest paths through the image's symlinks,
 * conflicts, determinism, and library resolution on a hermetic graph of
 * hand-made libraries: DT_RPATH inherited along the chain of loaders,
 * DT_RUNPATH with $ORIGIN, RUNPATH switching the RPATH chain off, names
 * matched by DT_SONAME, an ld.so.conf directory outside glibc's built-in
 * ones (gets a symlink), musl, a missing interpreter or library, and a
 * library that is truncated.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib_test.h"
#include "rootfs.h"

static char *dir;

static char *tpath(const char *name)
{
	static char buf[4][4096];
	static int which;
	which = (which + 1) % 4;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
	return buf[which];
}

static const struct rootfs_entry *find(const struct rootfs *fs,
				       const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->entries[i].path, path) == 0)
			return &fs->entries[i];
	return NULL;
}

/*
 * Resolves path inside the image the way the guest kernel will (symlinks
 * in any component, relative or absolute); returns the entry reached or
 * NULL.
 */
static const struct rootfs_entry *resolve(const struct rootfs *fs,
					  const char *path, int depth)
{
	char cur[PATH_MAX] = "", rest[PATH_MAX];
	const char *p = path;

	if (depth > 40)
		return NULL;
	while (*p) {
		const struct rootfs_entry *e;
		const char *end;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *s = strrchr(cur, '/');
			if (s)
				*s = '\0';
			p = end;
			continue;
		}
		if (len == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		snprintf(cur + strlen(cur), sizeof(cur) - strlen(cur), "/%.*s",
			 (int)len, p);
		e = find(fs, cur);
		if (e == NULL)
			return NULL;
		if (e->kind == ROOTFS_SYMLINK) {
			char *s = strrchr(cur, '/');
			*s = '\0';
			if (e->data[0] == '/')
				snprintf(rest, sizeof(rest), "%s%s", e->data,
					 end);
			else
				snprintf(rest, sizeof(rest), "%s/%s%s", cur,
					 e->data, end);
			return resolve(fs, rest, depth + 1);
		}
		p = end;
		if (!*p || strspn(p, "/") == strlen(p))
			return e;
	}
	return NULL;
}

/* path resolves in the image to a FILE copied from the host file that
 * path names on the host. */
static int same_file(const struct rootfs *fs, const char *path)
{
	const struct rootfs_entry *e = resolve(fs, path, 0);
	char a[PATH_MAX], b[PATH_MAX];

	return e && e->kind == ROOTFS_FILE && e->host && realpath(e->host, a) &&
	       realpath(path, b) && strcmp(a, b) == 0;
}

/* Every entry's parent directory is a DIR entry (or the root). */
static int parents_are_dirs(const struct rootfs *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		char parent[PATH_MAX];
		char *s;
		const struct rootfs_entry *e;

		snprintf(parent, sizeof(parent), "%s", fs->entries[i].path);
		s = strrchr(parent, '/');
		if (s == parent)
			continue;
		*s = '\0';
		e = find(fs, parent);
		if (e == NULL || e->kind != ROOTFS_DIR) {
			NOTE("parent of %s is not a directory entry",
			     fs->entries[i].path);
			return 0;
		}
	}
	return 1;
}

static char *archive(struct rootfs *fs, size_t *len)
{
	char *buf = NULL, err[256];
	FILE *f = open_memstream(&buf, len);
	uint64_t size = 0;
	int r = rootfs_write(fs, f, &size, err, sizeof(err));

	fclose(f);
	if (r < 0 || size != *len) {
		NOTE("rootfs_write: %s", err);
		free(buf);
		return NULL;
	}
	return buf;
}

static void test_echo(void)
{
	struct rootfs fs, fs2;
	char err[512], *a, *b;
	size_t alen, blen;
	const struct rootfs_entry *e;

	rootfs_init(&fs);
	CHECK(rootfs_add_program(&fs, "/bin/echo", err, sizeof(err)) == 0,
	      "/bin/echo is collected (%s)", err);
	CHECK(same_file(&fs, "/bin/echo"), "/bin/echo resolves in the image");
	CHECK(same_file(&fs, "/lib64/ld-linux-x86-64.so.2"),
	      "/lib64/ld-linux-x86-64.so.2 resolves to the host's ld.so");
	CHECK(same_file(&fs, "/lib/x86_64-linux-gnu/libc.so.6"),
	      "/lib/x86_64-linux-gnu/libc.so.6 resolves to the host's libc");
	CHECK(parents_are_dirs(&fs), "every parent is a directory entry");
	CHECK(fs.libraries.n == 1 &&
		  strcmp(fs.libraries.v[0],
			 "libc.so.6 /lib/x86_64-linux-gnu/libc.so.6") == 0,
	      "one library resolved: %s",
	      fs.libraries.n ? fs.libraries.v[0] : "");
	{
		struct stat st;
		if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode)) {
			e = find(&fs, "/bin");
			CHECK(e && e->kind == ROOTFS_SYMLINK,
			      "/bin is a symlink, "
			      "as on the host (merged /usr)");
		}
	}

	/* Guest paths go through the image's symlinks. */
	lib_test_write(tpath("extra"), "extra\n", 6);
	chmod(tpath("extra"), 0604);
	CHECK(rootfs_add_file(&fs, "/lib/x86_64-linux-gnu/extra.txt",
			      tpath("extra"), err, sizeof(err)) == 0,
	      "--file into a directory reached through a symlink (%s)", err);
	e = resolve(&fs, "/lib/x86_64-linux-gnu/extra.txt", 0);
	CHECK(e && e->kind == ROOTFS_FILE && e->mode == 0604 &&
		  parents_are_dirs(&fs),
	      "the file is there, mode 0604, no directory shadows a symlink");
	CHECK(rootfs_add_file(&fs, "/a/b/c.txt", tpath("extra"), err,
			      sizeof(err)) == 0 &&
		  (e = find(&fs, "/a/b")) && e->kind == ROOTFS_DIR &&
		  e->mode == 0755,
	      "missing parents are created 0755");
	lib_test_write(tpath("extra2"), "two\n", 4);
	CHECK(rootfs_add_file(&fs, "/a/b/c.txt", tpath("extra2"), err,
			      sizeof(err)) == 0 &&
		  (e = find(&fs, "/a/b/c.txt")) &&
		  lib_test_has(e->host, "extra2"),
	      "a later file at the same guest path replaces the earlier one");
	CHECK(rootfs_add_file(&fs, "/usr", tpath("extra"), err, sizeof(err)) <
		      0 &&
		  fs.fail == ROOTFS_FAIL_INPUT &&
		  lib_test_has(err, "directory"),
	      "a file over a directory is refused: %s", err);
	CHECK(rootfs_add_file(&fs, "/a/b/c.txt/d", tpath("extra"), err,
			      sizeof(err)) < 0 &&
		  fs.fail == ROOTFS_FAIL_INPUT,
	      "a file below a file is refused: %s", err);
	CHECK(rootfs_add_file(&fs, "/x", "/no/such/file", err, sizeof(err)) <
		      0 &&
		  fs.fail == ROOTFS_FAIL_NOTFOUND,
	      "a missing host file is refused: %s", err);
	CHECK(rootfs_add_data(&fs, "/.kiln/config", "exe /bin/echo\n", 14, 0644,
			      err, sizeof(err)) == 0 &&
		  (e = find(&fs, "/.kiln")) && e->kind == ROOTFS_DIR,
	      "data at /.kiln/config creates /.kiln");

	/* The same additions in another order give the same archive. */
	rootfs_init(&fs2);
	rootfs_add_data(&fs2, "/.kiln/config", "exe /bin/echo\n", 14, 0644, err,
			sizeof(err));
	rootfs_add_file(&fs2, "/a/b/c.txt", tpath("extra2"), err, sizeof(err));
	rootfs_add_program(&fs2, "/bin/echo", err, sizeof(err));
	rootfs_add_file(&fs2, "/lib/x86_64-linux-gnu/extra.txt", tpath("extra"),
			err, sizeof(err));
	a = archive(&fs, &alen);
	b = archive(&fs2, &blen);
	CHECK(a && b && alen == blen && memcmp(a, b, alen) == 0,
	      "same entries, any order: the same %zu bytes", alen);
	{
		int sorted = 1;
		for (size_t i = 1; i < fs.n; i++)
			sorted &= strcmp(fs.entries[i - 1].path,
					 fs.entries[i].path) < 0;
		CHECK(sorted, "entries are written sorted by path");
	}
	free(a);
	free(b);
	rootfs_release(&fs);
	rootfs_release(&fs2);
}

/*
 * app/bin/prog       RPATH $ORIGIN/../lib1, needs libone.so libalias.so
 * app/lib1/libone.so SONAME libalias.so, needs libtwo.so (no paths:
 *                    found through prog's RPATH, the loader chain)
 * app/lib1/libtwo.so RUNPATH $ORIGIN/../lib3, needs libthree.so
 * app/lib3/libthree.so RUNPATH /nonexistent, needs libfour.so, which is
 *                    only in app/lib1: RUNPATH switches the RPATH chain
 *                    off, so it must not be found -- until it is also
 *                    put into a directory libthree's RUNPATH names.
 */
static void test_graph(void)
{
	const char *interp = "/lib64/ld-linux-x86-64.so.2";
	struct fake_elf prog = {.type = ET_DYN,
				.interp = interp,
				.needed = {"libone.so", "libalias.so"},
				.rpath = "$ORIGIN/../lib1"};
	struct fake_elf one = {.soname = "libalias.so",
			       .needed = {"libtwo.so"}};
	struct fake_elf two = {.runpath = "$ORIGIN/../lib3",
			       .needed = {"libthree.so"}};
	struct fake_elf three = {.runpath = "/nonexistent:$ORIGIN/../lib4",
				 .needed = {"libfour.so"}};
	struct fake_elf four = {.needed = {"libc.so.6"}};
	struct rootfs fs;
	char err[1024], want[PATH_MAX];

	mkdir(tpath("app"), 0755);
	mkdir(tpath("app/bin"), 0755);
	mkdir(tpath("app/lib1"), 0755);
	mkdir(tpath("app/lib3"), 0755);
	mkdir(tpath("app/lib4"), 0755);
	lib_test_write_elf(tpath("app/bin/prog"), &prog);
	chmod(tpath("app/bin/prog"), 0755);
	lib_test_write_elf(tpath("app/lib1/libone.so"), &one);
	lib_test_write_elf(tpath("app/lib1/libtwo.so"), &two);
	lib_test_write_elf(tpath("app/lib3/libthree.so"), &three);
	lib_test_write_elf(tpath("app/lib1/libfour.so"), &four);

	rootfs_init(&fs);
	snprintf(want, sizeof(want),
		 "cannot find library 'libfour.so' needed "
		 "by '%s'",
		 tpath("app/bin/../lib1/../lib3/libthree.so"));
	CHECK(rootfs_add_program(&fs, tpath("app/bin/prog"), err, sizeof(err)) <
		      0 &&
		  fs.fail == ROOTFS_FAIL_NOTFOUND && strcmp(err, want) == 0,
	      "RUNPATH turns the RPATH chain off: %s", err);
	rootfs_release(&fs);

	lib_test_write_elf(tpath("app/lib4/libfour.so"), &four);
	rootfs_init(&fs);
	CHECK(rootfs_add_program(&fs, tpath("app/bin/prog"), err,
				 sizeof(err)) == 0,
	      "the graph resolves (%s)", err);
	for (size_t i = 0; i < fs.libraries.n; i++)
		NOTE("%s", fs.libraries.v[i]);
	CHECK(fs.libraries.n == 5,
	      "five libraries: one two three four libc "
	      "(libalias.so is libone's SONAME, ld-linux is the interpreter)");
	CHECK(same_file(&fs, tpath("app/lib1/libtwo.so")),
	      "libtwo.so found through the program's RPATH (loader chain)");
	CHECK(same_file(&fs, tpath("app/lib3/libthree.so")),
	      "libthree.so found through libtwo's RUNPATH with $ORIGIN");
	CHECK(same_file(&fs, tpath("app/lib4/libfour.so")) &&
		  resolve(&fs, tpath("app/lib1/libfour.so"), 0) == NULL,
	      "libfour.so from libthree's RUNPATH, not the RPATH chain");
	rootfs_release(&fs);

	/* An interpreter that does not exist. */
	prog.interp = "/no/such/ld.so";
	lib_test_write_elf(tpath("app/bin/badinterp"), &prog);
	rootfs_init(&fs);
	CHECK(rootfs_add_program(&fs, tpath("app/bin/badinterp"), err,
				 sizeof(err)) < 0 &&
		  fs.fail == ROOTFS_FAIL_NOTFOUND &&
		  lib_test_has(err, "cannot find interpreter '/no/such/ld.so'"),
	      "a missing interpreter: %s", err);
	rootfs_release(&fs);

	/* A library that passes the header check but is cut short. */
	{
		struct fake_elf p2 = {.interp = interp,
				      .needed = {"libcut.so"},
				      .runpath = "$ORIGIN"};
		struct fake_elf cut = {.needed = {"libc.so.6"}};
		lib_test_write_elf(tpath("app/bin/p2"), &p2);
		lib_test_write_elf(tpath("app/bin/libcut.so"), &cut);
		CHECK(truncate(tpath("app/bin/libcut.so"), 180) == 0,
		      "libcut.so truncated");
		rootfs_init(&fs);
		CHECK(rootfs_add_program(&fs, tpath("app/bin/p2"), err,
					 sizeof(err)) < 0 &&
			  fs.fail == ROOTFS_FAIL_NOEXEC &&
			  lib_test_has(err, "truncated"),
		      "a truncated library: %s", err);
		rootfs_release(&fs);
	}
}

/* A library found only through an ld.so.conf directory gets a symlink in
 * glibc's first built-in directory (the guest has no ld.so.cache). */
static void test_conf_link(void)
{
	struct fake_elf p = {.interp = "/lib64/ld-linux-x86-64.so.2",
			     .needed = {"libkilnconf.so.1"}};
	struct fake_elf lib = {.soname = "libkilnconf.so.1"};
	const struct rootfs_entry *e;
	struct rootfs fs;
	char conf[4096], err[512];

	mkdir(tpath("conflib"), 0755);
	lib_test_write_elf(tpath("conflib/libkilnconf.so.1"), &lib);
	lib_test_write_elf(tpath("confprog"), &p);
	snprintf(conf, sizeof(conf), "%s\n", tpath("conflib"));
	lib_test_write(tpath("ld.so.conf"), conf, strlen(conf));

	rootfs_init(&fs);
	fs.ld_conf = tpath("ld.so.conf");
	CHECK(rootfs_add_program(&fs, tpath("confprog"), err, sizeof(err)) == 0,
	      "a library in an ld.so.conf directory is found (%s)", err);
	e = resolve(&fs, "/lib/x86_64-linux-gnu/libkilnconf.so.1", 0);
	CHECK(e && e->kind == ROOTFS_FILE &&
		  strcmp(e->host, tpath("conflib/libkilnconf.so.1")) == 0 &&
		  parents_are_dirs(&fs),
	      "and reachable from /lib/x86_64-linux-gnu through a symlink");
	rootfs_release(&fs);
}

static void test_musl(void)
{
	const char *prog =
	    LIB_TEST_BUILD "/tests/unit/lib_fx/hello-musl-dynamic";
	struct rootfs fs;
	char err[512];
	struct stat st;

	rootfs_init(&fs);
	CHECK(rootfs_add_program(&fs, prog, err, sizeof(err)) == 0,
	      "dynamic musl program collected (%s)", err);
	CHECK(same_file(&fs, "/lib/ld-musl-x86_64.so.1"),
	      "musl's loader resolves in the image");
	CHECK(fs.libraries.n == 0,
	      "libc.so is musl's loader itself, not searched (%zu found)",
	      fs.libraries.n);
	if (stat("/etc/ld-musl-x86_64.path", &st) == 0)
		CHECK(resolve(&fs, "/etc/ld-musl-x86_64.path", 0) != NULL,
		      "musl's path file is in the image");
	rootfs_release(&fs);

	rootfs_init(&fs);
	CHECK(rootfs_add_program(&fs, LIB_TEST_ROOT "/examples/hello", err,
				 sizeof(err)) == 0 &&
		  fs.libraries.n == 0 &&
		  same_file(&fs, LIB_TEST_ROOT "/examples/hello"),
	      "static program: just itself (%s)", err);
	rootfs_release(&fs);
}

int main(void)
{
	dir = lib_test_tmpdir();
	if (dir == NULL)
		return 1;
	test_echo();
	test_graph();
	test_conf_link();
	test_musl();
	lib_test_rmdir(dir);
	free(dir);
	return lib_test_done("lib_rootfs");
}
