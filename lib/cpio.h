/*
 * A writer for cpio "newc" archives (the format of Linux initramfs and of
 * kiln's rootfs, docs/image-format.md).  Each entry is a 110-byte ASCII
 * header (magic 070701 and thirteen 8-digit hex fields), the name with its
 * NUL padded to 4 bytes, then the data padded to 4; "TRAILER!!!" ends the
 * archive.  The writer assigns inode numbers 1, 2, 3... in call order and
 * writes mtime 0 and uid/gid 0, so the same calls give the same bytes.
 * Ordering entries (parents first, sorted) is the caller's job (rootfs.c).
 * Writes to a FILE* (fdopen() an fd to write to one).
 */
#ifndef KILN_CPIO_H
#define KILN_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cpio_writer {
	FILE *out; /* not owned: cpio_finish() flushes, never closes */
	uint32_t next_ino;
	uint64_t offset; /* bytes written so far */
};

void cpio_init(struct cpio_writer *w, FILE *out);

/*
 * Names are archive paths without a leading '/' ("usr/bin/echo"); mode
 * holds the permission bits (07777), the file type is implied by the call.
 * Each returns 0, or -1 with a message in err.
 */
int cpio_add_dir(struct cpio_writer *w, const char *name, unsigned mode,
		 char *err, size_t errlen);
int cpio_add_symlink(struct cpio_writer *w, const char *name,
		     const char *target, char *err, size_t errlen);
int cpio_add_data(struct cpio_writer *w, const char *name, unsigned mode,
		  const void *data, size_t len, char *err, size_t errlen);
/* A regular file whose content is copied from host_path (symlinks there
 * are followed); fails if it is not a regular file or is larger than the
 * format's 4 GiB - 1 limit. */
int cpio_add_file(struct cpio_writer *w, const char *name, unsigned mode,
		  const char *host_path, char *err, size_t errlen);

/* Writes the trailer and flushes; the archive size is then w->offset. */
int cpio_finish(struct cpio_writer *w, char *err, size_t errlen);

#endif /* KILN_CPIO_H */
