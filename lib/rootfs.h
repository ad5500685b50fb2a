/*
 * The set of files that make up a program's image, collected from the
 * host and written as one deterministic cpio newc archive (the layout is
 * described in docs/image-format.md).
 *
 * A program is added at its host path together with its ELF interpreter
 * and, recursively, every DT_NEEDED library, found the way the dynamic
 * loader would (ldpath.h) by reading the ELF files only.  Host paths keep
 * their shape inside the image: every symlink met on the way (/lib ->
 * usr/lib, /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...) is
 * added as a symlink and the walk continues at its target, so both names
 * resolve in the guest.  Extra files and generated data go at guest paths,
 * resolved through the image's own symlinks.
 *
 * Entries are kept in memory (paths, modes, symlink targets, small data);
 * file contents are read from the host only by rootfs_write(), which sorts
 * the entries by path and writes them with mtime 0 and uid/gid 0, so the
 * same inputs always give the same bytes.
 */
#ifndef KILN_ROOTFS_H
#define KILN_ROOTFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* What kind of failure a rootfs_* call had (the message says the rest). */
enum rootfs_fail {
	ROOTFS_FAIL_NONE = 0,
	ROOTFS_FAIL_IO,	      /* reading the host failed */
	ROOTFS_FAIL_NOTFOUND, /* program, interpreter or library is missing */
	ROOTFS_FAIL_NOEXEC,   /* not a runnable x86_64 ELF (elfinfo.h) */
	ROOTFS_FAIL_INPUT,    /* bad request: conflicting or invalid paths */
};

enum rootfs_kind {
	ROOTFS_DIR,
	ROOTFS_FILE,
	ROOTFS_SYMLINK,
};

struct rootfs_entry {
	char *path; /* absolute guest path, no symlinks in it */
	enum rootfs_kind kind;
	unsigned mode; /* permission bits */
	char *host;    /* FILE copied from this host path, or NULL */
	char *data;    /* FILE from memory (len bytes) / SYMLINK target */
	size_t len;
};

struct rootfs {
	struct rootfs_entry *entries;
	size_t n;
	size_t cap;
	enum rootfs_fail fail; /* kind of the last failure */
	/* Libraries as found, "NAME PATH", in load order (for tests and
	 * debugging). */
	struct strv libraries;
	/* Configuration files that decide library search; NULL means the
	 * system's (/etc/ld.so.conf, /etc/ld-musl-x86_64.path).  Tests
	 * point them elsewhere before rootfs_add_program(). */
	const char *ld_conf;
	const char *musl_path;
};

void rootfs_init(struct rootfs *fs);
/* Frees every entry and list; fs may be initialized again. */
void rootfs_release(struct rootfs *fs);

/*
 * Adds the program at host path prog (absolute, not necessarily free of
 * symlinks), its interpreter and all its libraries, after validating each
 * as an x86_64 ELF.  Messages: "cannot find library 'libfoo.so.1' needed
 * by '/path/x'", "'x' is a 32-bit program; ...", etc.
 */
int rootfs_add_program(struct rootfs *fs, const char *prog, char *err,
		       size_t errlen);

/* Adds the host file, directory (not its contents) or symlink chain at
 * the same absolute path in the image, with every parent directory. */
int rootfs_add_host(struct rootfs *fs, const char *path, char *err,
		    size_t errlen);

/*
 * Adds the content of host file host_path (symlinks followed; must be a
 * regular file) at the absolute guest path, keeping its permission bits.
 * Missing parent directories are created (0755); an existing file at guest
 * is replaced; guest must not name a directory.
 */
int rootfs_add_file(struct rootfs *fs, const char *guest, const char *host_path,
		    char *err, size_t errlen);

/* Like rootfs_add_file() with the content given (copied). */
int rootfs_add_data(struct rootfs *fs, const char *guest, const void *data,
		    size_t len, unsigned mode, char *err, size_t errlen);

/*
 * Copies the host directory tree host_dir into the image at the absolute
 * guest path guest (resolved through the image's symlinks; "/" is the
 * root): directories keep their permission bits, regular files are added
 * as rootfs_add_file() adds them (replacing a file already there),
 * symlinks are kept as symlinks with the same target.  Any other kind of
 * file (device, fifo, socket) is refused.  With host_dir NULL, only makes
 * sure the directory guest exists (0755 when created).  The result does
 * not depend on the order readdir() returns.
 */
int rootfs_add_dir(struct rootfs *fs, const char *guest, const char *host_dir,
		   char *err, size_t errlen);

/* Writes the archive, entries sorted by path; *size gets its length. */
int rootfs_write(struct rootfs *fs, FILE *out, uint64_t *size, char *err,
		 size_t errlen);

#endif /* KILN_ROOTFS_H */
