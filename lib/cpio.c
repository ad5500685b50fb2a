/*
 * cpio newc writer (see cpio.h).  Fixed fields: mtime, uid, gid, device
 * numbers and the checksum are 0; nlink is 2 for directories, 1 otherwise
 * (the kernel's unpacker does not need real link counts).
 */
#include "cpio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define CPIO_HEADER_SIZE 110
#define CPIO_TRAILER	 "TRAILER!!!"

void cpio_init(struct cpio_writer *w, FILE *out)
{
	w->out = out;
	w->next_ino = 1;
	w->offset = 0;
}

static int cpio_write(struct cpio_writer *w, const void *p, size_t n, char *err,
		      size_t errlen)
{
	if (n > 0 && fwrite(p, 1, n, w->out) != n)
		return util_err(err, errlen, "cannot write the archive: %s",
				strerror(errno));
	w->offset += n;
	return 0;
}

static int cpio_pad(struct cpio_writer *w, char *err, size_t errlen)
{
	static const char zeros[4];
	size_t pad = (size_t)((4 - (w->offset & 3)) & 3);

	return cpio_write(w, zeros, pad, err, errlen);
}

/* Header, name and its padding; the caller writes the data and pads. */
static int cpio_header(struct cpio_writer *w, const char *name, uint32_t ino,
		       uint32_t mode, uint32_t nlink, uint64_t size, char *err,
		       size_t errlen)
{
	char hdr[CPIO_HEADER_SIZE + 1];
	size_t namesize = strlen(name) + 1;

	if (size > UINT32_MAX)
		return util_err(err, errlen,
				"'%s' is too large for a cpio "
				"archive (4 GiB at most)",
				name);
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ino, mode, 0u, 0u, nlink, 0u, (uint32_t)size, 0u, 0u, 0u, 0u,
		 (uint32_t)namesize, 0u);
	if (cpio_write(w, hdr, CPIO_HEADER_SIZE, err, errlen) < 0 ||
	    cpio_write(w, name, namesize, err, errlen) < 0)
		return -1;
	return cpio_pad(w, err, errlen);
}

int cpio_add_dir(struct cpio_writer *w, const char *name, unsigned mode,
		 char *err, size_t errlen)
{
	return cpio_header(w, name, w->next_ino++, S_IFDIR | (mode & 07777), 2,
			   0, err, errlen);
}

int cpio_add_symlink(struct cpio_writer *w, const char *name,
		     const char *target, char *err, size_t errlen)
{
	size_t len = strlen(target);

	if (cpio_header(w, name, w->next_ino++, S_IFLNK | 0777, 1, len, err,
			errlen) < 0 ||
	    cpio_write(w, target, len, err, errlen) < 0)
		return -1;
	return cpio_pad(w, err, errlen);
}

int cpio_add_data(struct cpio_writer *w, const char *name, unsigned mode,
		  const void *data, size_t len, char *err, size_t errlen)
{
	if (cpio_header(w, name, w->next_ino++, S_IFREG | (mode & 07777), 1,
			len, err, errlen) < 0 ||
	    cpio_write(w, data, len, err, errlen) < 0)
		return -1;
	return cpio_pad(w, err, errlen);
}

int cpio_add_file(struct cpio_writer *w, const char *name, unsigned mode,
		  const char *host_path, char *err, size_t errlen)
{
	char buf[65536];
	struct stat st;
	uint64_t left;
	int fd, rc = -1;

	fd = open(host_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return util_err(err, errlen, "cannot open '%s': %s", host_path,
				strerror(errno));
	if (fstat(fd, &st) < 0) {
		util_err(err, errlen, "cannot stat '%s': %s", host_path,
			 strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		util_err(err, errlen, "'%s' is not a regular file", host_path);
		goto out_close;
	}
	if (cpio_header(w, name, w->next_ino++, S_IFREG | (mode & 07777), 1,
			(uint64_t)st.st_size, err, errlen) < 0)
		goto out_close;
	/* Exactly st_size bytes: a file that changes size meanwhile would
	 * otherwise corrupt every entry after it. */
	for (left = (uint64_t)st.st_size; left > 0;) {
		size_t want = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t r = read(fd, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			util_err(err, errlen, "cannot read '%s': %s", host_path,
				 strerror(errno));
			goto out_close;
		}
		if (r == 0) {
			util_err(err, errlen, "'%s' shrank while being packed",
				 host_path);
			goto out_close;
		}
		if (cpio_write(w, buf, (size_t)r, err, errlen) < 0)
			goto out_close;
		left -= (uint64_t)r;
	}
	rc = cpio_pad(w, err, errlen);
out_close:
	close(fd);
	return rc;
}

int cpio_finish(struct cpio_writer *w, char *err, size_t errlen)
{
	if (cpio_header(w, CPIO_TRAILER, 0, 0, 1, 0, err, errlen) < 0)
		return -1;
	if (fflush(w->out) != 0)
		return util_err(err, errlen, "cannot write the archive: %s",
				strerror(errno));
	return 0;
}
