/*
 * /dev: the character devices a Linux program expects (null, zero, full,
 * random, urandom, console, tty), the stdin/stdout/stderr/fd links into
 * /proc/self/fd, and /dev/shm.  The console writes to the kernel console
 * and reads as end of file; it is not a terminal (TCGETS gives ENOTTY), so
 * isatty() says no and stdio buffers fully, which is what we want on a
 * serial line the host collects.
 */
#include "vfs.h"

#include "mm.h"
#include "proc.h"
#include "uaccess.h"

static off_t dev_lseek_zero(struct file *f, off_t off, int whence)
{
	f->pos = 0;
	return 0;
}

static ssize_t dev_read_eof(struct file *f, void *buf, size_t n, uint64_t *pos,
			    bool user)
{
	return 0;
}

static ssize_t dev_read_zero(struct file *f, void *buf, size_t n, uint64_t *pos,
			     bool user)
{
	int err = fs_zero_out(buf, n, user);
	return err ? err : (ssize_t)n;
}

static ssize_t dev_write_sink(struct file *f, const void *buf, size_t n,
			      uint64_t *pos, bool user)
{
	return (ssize_t)n;
}

static ssize_t dev_write_full(struct file *f, const void *buf, size_t n,
			      uint64_t *pos, bool user)
{
	return -ENOSPC;
}

static ssize_t dev_read_random(struct file *f, void *buf, size_t n,
			       uint64_t *pos, bool user)
{
	uint8_t chunk[256];
	size_t done = 0;

	while (done < n) {
		size_t c = MIN(n - done, sizeof(chunk));
		random_bytes(chunk, c);
		if (fs_copy_out((char *)buf + done, chunk, c, user))
			return done ? (ssize_t)done : -EFAULT;
		done += c;
	}
	memset(chunk, 0, sizeof(chunk));
	return (ssize_t)done;
}

static int dev_mmap_zero(struct file *f)
{
	return 1;
}

static const struct file_ops null_fops = {
    .read = dev_read_eof,
    .write = dev_write_sink,
    .lseek = dev_lseek_zero,
};

static const struct file_ops zero_fops = {
    .read = dev_read_zero,
    .write = dev_write_sink,
    .lseek = dev_lseek_zero,
    .mmap = dev_mmap_zero,
};

static const struct file_ops full_fops = {
    .read = dev_read_zero,
    .write = dev_write_full,
    .lseek = dev_lseek_zero,
};

static const struct file_ops random_fops = {
    .read = dev_read_random,
    .write = dev_write_sink,
    .lseek = dev_lseek_zero,
};

/* Bytes copied per console_write when the source is the program's
 * memory: large enough that a big write costs few monitor exits. */
#define CONSOLE_CHUNK 65536

static ssize_t console_file_write(struct file *f, const void *buf, size_t n,
				  uint64_t *pos, bool user)
{
	char small[256];
	char *bounce;
	size_t cap, done = 0;
	ssize_t ret = 0;

	if (!user) {
		console_write(buf, n);
		return (ssize_t)n;
	}
	cap = MIN(n, (size_t)CONSOLE_CHUNK);
	bounce = cap > sizeof(small) ? kmalloc(cap) : NULL;
	if (!bounce) {
		bounce = small;
		cap = MIN(cap, sizeof(small));
	}
	while (done < n) {
		size_t c = MIN(n - done, cap);
		if (copy_from_user(bounce, (const char *)buf + done, c)) {
			ret = -EFAULT;
			break;
		}
		console_write(bounce, c);
		done += c;
	}
	if (bounce != small)
		kfree(bounce);
	return done ? (ssize_t)done : ret;
}

static long console_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	/* not a terminal: TCGETS, TIOCGWINSZ and the rest say ENOTTY */
	return -ENOTTY;
}

static const struct file_ops console_fops = {
    .read = dev_read_eof,
    .write = console_file_write,
    .ioctl = console_ioctl,
};

struct dev_node {
	const char *name;
	uint32_t mode;
	uint32_t major, minor;
	const struct file_ops *fops;
};

static const struct dev_node dev_nodes[] = {
    {"null", 0666, 1, 3, &null_fops},
    {"zero", 0666, 1, 5, &zero_fops},
    {"full", 0666, 1, 7, &full_fops},
    {"random", 0666, 1, 8, &random_fops},
    {"urandom", 0666, 1, 9, &random_fops},
    {"tty", 0666, 5, 0, &console_fops},
    {"console", 0600, 5, 1, &console_fops},
};

static const struct {
	const char *name, *target;
} dev_links[] = {
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
    {"fd", "/proc/self/fd"},
};

/* Removes what the archive may have put where a device goes. */
static int dev_clear(struct inode *dir, const char *name)
{
	struct dentry *d = dir_entry(dir, name, strlen(name));

	if (!d)
		return 0;
	if (S_ISDIR(d->inode->mode) && !dir_is_empty(d->inode))
		return -EEXIST;
	dir_remove_entry(dir, d);
	return 0;
}

int dev_init(void)
{
	struct inode *dev, *ino;
	int err = 0;
	size_t i;

	dev = dir_mkdir(fs_root, "dev", 0755, &err);
	if (!dev) {
		klog("fs: cannot create '/dev': error %d", err);
		return err;
	}
	for (i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		const struct dev_node *n = &dev_nodes[i];
		if ((err = dev_clear(dev, n->name)) < 0)
			goto fail;
		ino = inode_new(&ramfs_super, S_IFCHR | n->mode);
		if (!ino) {
			err = -ENOMEM;
			goto fail;
		}
		ino->rdev_major = n->major;
		ino->rdev_minor = n->minor;
		ino->fops = n->fops;
		if ((err = dir_link(dev, n->name, strlen(n->name), ino)) < 0) {
			inode_maybe_free(ino);
			goto fail;
		}
	}
	for (i = 0; i < ARRAY_SIZE(dev_links); i++) {
		if ((err = dev_clear(dev, dev_links[i].name)) < 0)
			goto fail;
		if (!dir_symlink(dev, dev_links[i].name, dev_links[i].target,
				 &err))
			goto fail;
	}
	if (!dir_mkdir(dev, "shm", 01777, &err))
		goto fail;
	return 0;
fail:
	klog("fs: cannot populate '/dev': error %d", err);
	return err;
}
