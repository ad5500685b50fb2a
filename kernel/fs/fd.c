/*
 * The descriptor table: MAX_FDS slots, each an open file reference and a
 * close-on-exec bit.  One process, so one table; threads share it as with
 * CLONE_FILES.  New descriptors take the lowest free number, as POSIX
 * requires, below RLIMIT_NOFILE's soft limit (EMFILE past it); dup'ed
 * descriptors share one struct file and so one offset.
 */
#include "vfs.h"

#include "proc.h"

struct fd_slot {
	struct file *file;
	bool cloexec;
};

static struct fd_slot fd_table[MAX_FDS];

struct file *fd_get(int fd)
{
	struct file *f;

	if (fd < 0 || fd >= MAX_FDS || !fd_table[fd].file)
		return NULL;
	f = fd_table[fd].file;
	file_get(f);
	return f;
}

int fd_install(struct file *f, int min, bool cloexec)
{
	int limit = proc_nofile(); /* RLIMIT_NOFILE's soft limit */

	if (min < 0)
		return -EINVAL;
	for (int fd = min; fd < limit; fd++) {
		if (!fd_table[fd].file) {
			fd_table[fd].file = f;
			fd_table[fd].cloexec = cloexec;
			return fd;
		}
	}
	return -EMFILE;
}

int fd_install_at(int fd, struct file *f, bool cloexec)
{
	struct file *old;

	if (fd < 0 || fd >= proc_nofile())
		return -EBADF;
	old = fd_table[fd].file;
	fd_table[fd].file = f;
	fd_table[fd].cloexec = cloexec;
	if (old) {
		lock_fd_closed(old);
		file_put(old);
	}
	return fd;
}

int fd_close(int fd)
{
	struct file *f;

	if (fd < 0 || fd >= MAX_FDS || !fd_table[fd].file)
		return -EBADF;
	f = fd_table[fd].file;
	fd_table[fd].file = NULL;
	fd_table[fd].cloexec = false;
	lock_fd_closed(f);
	file_put(f);
	return 0;
}

void fd_close_range(unsigned int lo, unsigned int hi, bool cloexec_only)
{
	if (hi >= MAX_FDS)
		hi = MAX_FDS - 1;
	for (unsigned int fd = lo; fd <= hi && fd < MAX_FDS; fd++) {
		if (!fd_table[fd].file)
			continue;
		if (cloexec_only)
			fd_table[fd].cloexec = true;
		else
			fd_close((int)fd);
	}
}

void fs_close_all(void)
{
	fd_close_range(0, MAX_FDS - 1, false);
}

int fd_get_cloexec(int fd)
{
	if (fd < 0 || fd >= MAX_FDS || !fd_table[fd].file)
		return -EBADF;
	return fd_table[fd].cloexec;
}

int fd_set_cloexec(int fd, bool on)
{
	if (fd < 0 || fd >= MAX_FDS || !fd_table[fd].file)
		return -EBADF;
	fd_table[fd].cloexec = on;
	return 0;
}

int fd_next_open(int fd)
{
	for (; fd >= 0 && fd < MAX_FDS; fd++)
		if (fd_table[fd].file)
			return fd;
	return -1;
}

int fs_open_console(void)
{
	struct file *f;
	int err = vfs_open("/dev/console", O_RDWR, 0, &f);

	if (err)
		return err;
	for (int fd = 0; fd < 3; fd++) {
		file_get(f);
		fd_install_at(fd, f, false);
	}
	file_put(f);
	return 0;
}
