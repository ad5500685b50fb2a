/*
 * /proc and /sys, kept small: /proc/self/exe (the program),
 * /proc/self/cwd, /proc/self/fd/N (one magic link per open descriptor:
 * readlink gives the path the file was opened with, open reopens the same
 * inode) and generated text files.  A generated file runs its function
 * when opened and the reader sees that snapshot; procfs_add_file is how
 * /proc/cpuinfo, /proc/self/maps, /sys/devices/system/cpu/online and
 * friends get added by whoever knows their content (kernel/sys/info.c).
 * There is one process, so /proc/self is a directory, and /proc/1 (its
 * pid) a link to it.
 */
#include "vfs.h"

#include "mm.h"
#include "proc.h"

const struct fs_super procfs_super = {0x9fa0 /* PROC_SUPER_MAGIC */, 0, 2};
const struct fs_super sysfs_super = {0x62656572 /* SYSFS_MAGIC */, 0, 3};

static struct inode *procfs_root, *sysfs_root;
static struct inode *procfs_fd_links[MAX_FDS];

/* ---- generated files ---- */

void gen_append(struct gen_buf *g, const char *s, size_t n)
{
	if (g->failed)
		return;
	if (g->len + n + 1 > g->cap) {
		size_t cap = MAX(g->cap * 2, g->len + n + 1);
		char *p = krealloc(g->data, MAX(cap, 256));
		if (!p) {
			g->failed = true;
			return;
		}
		g->data = p;
		g->cap = MAX(cap, 256);
	}
	memcpy(g->data + g->len, s, n);
	g->len += n;
	g->data[g->len] = '\0';
}

void gen_printf(struct gen_buf *g, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		gen_append(g, small, (size_t)n);
		return;
	}
	char *big = kmalloc((size_t)n + 1);
	if (!big) {
		g->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	gen_append(g, big, (size_t)n);
	kfree(big);
}

struct gen_spec {
	void (*gen)(struct gen_buf *g);
};

static int gen_open(struct file *f)
{
	const struct gen_spec *spec = f->inode->priv;
	struct gen_buf *g = kzalloc(sizeof(*g));

	if (!g)
		return -ENOMEM;
	spec->gen(g);
	f->priv = g;
	if (g->failed)
		return -ENOMEM; /* release frees g */
	return 0;
}

static ssize_t gen_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			bool user)
{
	struct gen_buf *g = f->priv;
	size_t c;

	if (*pos >= g->len)
		return 0;
	c = MIN(n, g->len - *pos);
	if (fs_copy_out(buf, g->data + *pos, c, user))
		return -EFAULT;
	*pos += c;
	return (ssize_t)c;
}

static off_t gen_lseek(struct file *f, off_t off, int whence)
{
	struct gen_buf *g = f->priv;
	int64_t base, res;

	switch (whence) {
	case 0:
		base = 0;
		break;
	case 1:
		base = (int64_t)f->pos;
		break;
	case 2:
		base = (int64_t)g->len;
		break;
	default:
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, off, &res) || res < 0)
		return -EINVAL;
	f->pos = (uint64_t)res;
	return res;
}

static void gen_release(struct file *f)
{
	struct gen_buf *g = f->priv;

	if (g) {
		kfree(g->data);
		kfree(g);
	}
}

static const struct file_ops gen_fops = {
    .open = gen_open,
    .read = gen_read,
    .lseek = gen_lseek,
    .release = gen_release,
};

/* A fixed procfs directory under dir, created if missing. */
static struct inode *procfs_mkdir(struct inode *dir, const char *name,
				  size_t len, uint32_t mode)
{
	struct inode *ino = dir_find(dir, name, len);

	if (ino)
		return S_ISDIR(ino->mode) ? ino : NULL;
	ino = inode_new(dir->sb, S_IFDIR | mode);
	if (!ino)
		return NULL;
	ino->flags |= INODE_FIXED;
	if (dir_link(dir, name, len, ino) < 0) {
		ino->nlink = 0;
		inode_maybe_free(ino);
		return NULL;
	}
	return ino;
}

/* The directory that holds path (/proc/..., /sys/... or relative to
 * /proc), created as needed; its last component in *name, *len. */
static struct inode *procfs_parent(const char *path, const char **name_out,
				   size_t *len_out, int *err)
{
	struct inode *dir = procfs_root;
	const char *p = path, *name;
	size_t len;

	if (strncmp(p, "/proc/", 6) == 0) {
		p += 6;
	} else if (strncmp(p, "/sys/", 5) == 0) {
		dir = sysfs_root;
		p += 5;
	}
	*err = -ENOENT;
	if (!dir)
		return NULL;
	for (;;) {
		while (*p == '/')
			p++;
		name = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - name);
		*err = -EINVAL;
		if (!len || len > MAX_NAME)
			return NULL;
		if (!*p)
			break;
		dir = procfs_mkdir(dir, name, len, 0555);
		*err = -ENOMEM;
		if (!dir)
			return NULL;
	}
	*err = -EEXIST;
	if (dir_find(dir, name, len))
		return NULL;
	*name_out = name;
	*len_out = len;
	return dir;
}

int procfs_add_link(const char *path, const char *target)
{
	const char *name;
	size_t len;
	int err;
	struct inode *dir = procfs_parent(path, &name, &len, &err), *ino;
	char *copy;

	if (!dir)
		return err;
	copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	ino = dir_symlink(dir, copy, target, &err);
	kfree(copy);
	return ino ? 0 : err;
}

int procfs_add_file(const char *path, void (*gen)(struct gen_buf *g))
{
	const char *name;
	size_t len;
	int err;
	struct inode *dir = procfs_parent(path, &name, &len, &err), *ino;
	struct gen_spec *spec;

	if (!dir)
		return err;
	{
	}
	spec = kmalloc(sizeof(*spec));
	ino = inode_new(dir->sb, S_IFREG | 0444);
	if (!spec || !ino) {
		kfree(spec);
		if (ino)
			inode_maybe_free(ino);
		return -ENOMEM;
	}
	spec->gen = gen;
	ino->priv = spec;
	ino->fops = &gen_fops;
	if (dir_link(dir, name, len, ino) < 0) {
		kfree(spec);
		inode_maybe_free(ino);
		return -ENOMEM;
	}
	return 0;
}

static void gen_mounts(struct gen_buf *g)
{
	gen_printf(g, "rootfs / tmpfs rw 0 0\n");
	gen_printf(g, "proc /proc proc rw,nosuid,nodev,noexec 0 0\n");
	gen_printf(g, "sysfs /sys sysfs ro,nosuid,nodev,noexec 0 0\n");
}

/* The same three in proc(5)'s mountinfo format (df reads this one):
 * mount id, parent id, st_dev, root, mount point, options, "-", type,
 * source, super options. */
static void gen_mountinfo(struct gen_buf *g)
{
	gen_printf(g, "1 1 %u:%u / / rw,relatime - tmpfs rootfs rw\n",
		   ramfs_super.dev_major, ramfs_super.dev_minor);
	gen_printf(g,
		   "2 1 %u:%u / /proc rw,nosuid,nodev,noexec,relatime - "
		   "proc proc rw\n",
		   procfs_super.dev_major, procfs_super.dev_minor);
	gen_printf(g,
		   "3 1 %u:%u / /sys ro,nosuid,nodev,noexec,relatime - "
		   "sysfs sysfs ro\n",
		   sysfs_super.dev_major, sysfs_super.dev_minor);
}

/* ---- /proc/self/exe and /proc/self/cwd ---- */

static const char *exe_get_link(struct inode *lnk)
{
	const char *p = proc_exe_path();
	return p && *p ? p : NULL;
}

static const struct inode_ops exe_iops = {
    .get_link = exe_get_link,
};

static struct inode *cwd_follow(struct inode *lnk, const char **via, int *err)
{
	return fs_cwd;
}

static int cwd_readlink(struct inode *lnk, char *buf, size_t n)
{
	char *tmp = kmalloc(MAX_PATH);
	int len;

	if (!tmp)
		return -ENOMEM;
	len = vfs_getcwd(tmp, MAX_PATH);
	if (len >= 0) {
		len = (int)MIN((size_t)len, n);
		memcpy(buf, tmp, (size_t)len);
	}
	kfree(tmp);
	return len;
}

static const struct inode_ops cwd_iops = {
    .follow = cwd_follow,
    .readlink = cwd_readlink,
};

/* ---- /proc/self/fd ---- */

static struct inode *fdlink_follow(struct inode *lnk, const char **via,
				   int *err)
{
	int fd = (int)(uintptr_t)lnk->priv;
	struct file *f = fd_get(fd);
	struct inode *ino;

	if (!f) {
		*err = -ENOENT;
		return NULL;
	}
	ino = f->inode;
	*via = f->path; /* the descriptor keeps f and its path alive */
	file_put(f);
	if (!ino)
		*err = -ENXIO;
	return ino;
}

static int fdlink_readlink(struct inode *lnk, char *buf, size_t n)
{
	int fd = (int)(uintptr_t)lnk->priv;
	struct file *f = fd_get(fd);
	char tmp[64];
	const char *path, *suffix = "";
	size_t len, slen;

	if (!f)
		return -ENOENT;
	path = f->path;
	if (!path) {
		snprintf(tmp, sizeof(tmp), "anon_inode:[%s]",
			 f->inode ? "file" : "unknown");
		path = tmp;
	}
	if (f->inode && f->inode->nlink == 0)
		suffix = " (deleted)";
	len = MIN(strlen(path), n);
	memcpy(buf, path, len);
	slen = MIN(strlen(suffix), n - len);
	memcpy(buf + len, suffix, slen);
	file_put(f);
	return (int)(len + slen);
}

static const struct inode_ops fdlink_iops = {
    .follow = fdlink_follow,
    .readlink = fdlink_readlink,
};

/* The link inode for descriptor fd, made on first use and kept: nothing
 * links it into a directory, so nlink stays 1 and it is never freed. */
static struct inode *fdlink_inode(int fd)
{
	struct inode *ino = procfs_fd_links[fd];

	if (ino)
		return ino;
	ino = inode_new(&procfs_super, S_IFLNK | 0700);
	if (!ino)
		return NULL;
	ino->nlink = 1;
	ino->iops = &fdlink_iops;
	ino->priv = (void *)(uintptr_t)fd;
	procfs_fd_links[fd] = ino;
	return ino;
}

/* Descriptor number spelled canonically ("7", not "07"), or -1. */
static int parse_fd(const char *name, size_t len)
{
	int fd = 0;

	if (!len || len > 5 || (len > 1 && name[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		fd = fd * 10 + (name[i] - '0');
	}
	return fd < MAX_FDS ? fd : -1;
}

static struct inode *fddir_lookup(struct inode *dir, const char *name,
				  size_t len)
{
	int fd = parse_fd(name, len);

	if (fd < 0 || fd_next_open(fd) != fd)
		return NULL;
	return fdlink_inode(fd);
}

static void fddir_iterate(struct inode *dir, struct dir_ctx *ctx)
{
	int fd = ctx->pos < 2 ? 0 : (int)MIN(ctx->pos - 2, (uint64_t)MAX_FDS);

	while ((fd = fd_next_open(fd)) >= 0) {
		char name[8];
		struct inode *ino = fdlink_inode(fd);
		int len = snprintf(name, sizeof(name), "%d", fd);

		if (!ctx->emit(ctx, name, (size_t)len, ino ? ino->ino : 0,
			       DT_LNK, (uint64_t)fd + 3))
			return;
		fd++;
	}
}

static const struct inode_ops fddir_iops = {
    .lookup = fddir_lookup,
    .iterate = fddir_iterate,
};

int procfs_init(void)
{
	struct inode *self, *ino;
	int err = 0;

	procfs_root = dir_mkdir(fs_root, "proc", 0555, &err);
	if (!procfs_root)
		goto fail;
	procfs_root->sb = &procfs_super;
	procfs_root->flags |= INODE_FIXED;
	err = -ENOMEM;
	self = procfs_mkdir(procfs_root, "self", 4, 0555);
	if (!self)
		goto fail;

	ino = inode_new(&procfs_super, S_IFLNK | 0777);
	if (!ino)
		goto fail;
	ino->iops = &exe_iops;
	if (dir_link(self, "exe", 3, ino) < 0) {
		inode_maybe_free(ino);
		goto fail;
	}

	ino = inode_new(&procfs_super, S_IFLNK | 0777);
	if (!ino)
		goto fail;
	ino->iops = &cwd_iops;
	if (dir_link(self, "cwd", 3, ino) < 0) {
		inode_maybe_free(ino);
		goto fail;
	}

	ino = procfs_mkdir(self, "fd", 2, 0500);
	if (!ino)
		goto fail;
	ino->iops = &fddir_iops;

	err = procfs_add_file("self/mounts", gen_mounts);
	if (!err)
		err = procfs_add_file("self/mountinfo", gen_mountinfo);
	if (err)
		goto fail;
	if (!dir_symlink(procfs_root, "mounts", "self/mounts", &err))
		goto fail;
	/* The program's pid is 1 (getpid); Linux's /proc/self is a link
	 * to /proc/PID, here the other way round. */
	if (!dir_symlink(procfs_root, "1", "self", &err))
		goto fail;

	sysfs_root = dir_mkdir(fs_root, "sys", 0555, &err);
	if (!sysfs_root)
		goto fail;
	sysfs_root->sb = &sysfs_super;
	sysfs_root->flags |= INODE_FIXED;
	err = procfs_system_files();
	if (err)
		goto fail;
	return 0;
fail:
	klog("fs: cannot populate '/proc': error %d", err);
	return err;
}
