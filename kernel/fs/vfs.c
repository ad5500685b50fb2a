/*
 * The VFS: path lookup, open, and I/O on open files.
 *
 * Lookup walks one component at a time from the root or a starting
 * directory.  Symlink targets are not copied: the walker keeps a small
 * stack of "rest of this string" pointers, one per symlink being expanded,
 * so a lookup needs no path buffers and no recursion however the links
 * nest (at most MAX_SYMLINKS hops, then ELOOP).  A component is the last
 * one when every string on the stack has only slashes left; a slash after
 * it means the result must be a directory and a final symlink is followed.
 * Magic links (/proc/self/fd/N) resolve straight to an inode instead of a
 * target string.  The rules follow Linux's namei: "." and ".." are
 * resolved lexically against the directory tree (".." of the root is the
 * root), ENAMETOOLONG past MAX_NAME per component, ENOTDIR when a
 * non-directory is used as one.
 *
 * Open files carry an ops table, so the console, devices, generated /proc
 * files and, later, pipes and sockets are files like the others; the
 * entry points below check what every file shares (access mode, O_PATH,
 * seekability) and leave the rest to the ops.
 */
#include "vfs.h"

#include "ksignal.h"
#include "mm.h"
#include "uaccess.h"

struct inode *fs_cwd;

/* True when only slashes remain in every string on the stack; *slash
 * tells whether there was one. */
static bool walk_rest_empty(const char *const *stk, int top, bool *slash)
{
	*slash = false;
	for (int i = top; i >= 0; i--) {
		for (const char *p = stk[i]; *p; p++) {
			if (*p != '/')
				return false;
			*slash = true;
		}
	}
	return true;
}

int vfs_walk(struct inode *base, const char *path, struct walk *w)
{
	const char *stk[MAX_SYMLINKS + 1];
	int top = 0;
	struct inode *cur;

	if (!*path)
		return -ENOENT;
	if (strnlen(path, MAX_PATH) >= MAX_PATH)
		return -ENAMETOOLONG;
	stk[0] = path;
	cur = path[0] == '/' ? fs_root : base;
	w->parent = cur;
	w->name = "";
	w->namelen = 0;
	w->last = LAST_ROOT;
	w->slash = false;
	w->via = NULL;
	w->inode = NULL;
	for (;;) {
		const char *p = stk[top], *name;
		size_t len;
		bool last, slash;
		enum walk_last type = LAST_NORM;
		struct inode *next;

		while (*p == '/')
			p++;
		if (!*p) {
			if (top == 0)
				break;
			top--;
			continue;
		}
		name = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - name);
		stk[top] = p;
		if (len > MAX_NAME)
			return -ENAMETOOLONG;
		if (!S_ISDIR(cur->mode))
			return -ENOTDIR;
		last = walk_rest_empty(stk, top, &slash);
		if (len == 1 && name[0] == '.')
			type = LAST_DOT;
		else if (len == 2 && name[0] == '.' && name[1] == '.')
			type = LAST_DOTDOT;
		if (last) {
			w->parent = cur;
			w->name = name;
			w->namelen = len;
			w->last = type;
			w->slash = slash;
			w->via = NULL;
			if (w->flags & WALK_PARENT)
				return 0;
		}
		if (type == LAST_DOT) {
			next = cur;
		} else if (type == LAST_DOTDOT) {
			next = cur == fs_root ? cur : cur->dir.parent;
			if (!next)
				return -ENOENT; /* cur was removed */
		} else {
			next = dir_find(cur, name, len);
			if (!next)
				return -ENOENT;
		}
		if (S_ISLNK(next->mode) &&
		    (!last || slash || (w->flags & WALK_FOLLOW))) {
			if (++w->links > MAX_SYMLINKS)
				return -ELOOP;
			if (next->iops && next->iops->follow) {
				int err = -ENOENT;
				const char *via = NULL;
				next = next->iops->follow(next, &via, &err);
				if (!next)
					return err;
				if (last)
					w->via = via;
			} else {
				const char *t = inode_link_target(next);
				if (!t || !*t)
					return -ENOENT;
				stk[++top] = t;
				if (*t == '/')
					cur = fs_root;
				continue;
			}
		}
		cur = next;
		if (last)
			break;
	}
	if ((w->slash || (w->flags & WALK_DIRECTORY)) && !S_ISDIR(cur->mode))
		return -ENOTDIR;
	if (w->flags & WALK_PARENT) {
		/* the path was "/" or only symlinks to it */
		w->parent = cur;
		w->last = LAST_ROOT;
		w->name = "";
		w->namelen = 0;
		return 0;
	}
	w->inode = cur;
	return 0;
}

int vfs_base(int dirfd, const char *path, struct inode **base)
{
	struct file *f;
	struct inode *ino;

	if (!*path)
		return -ENOENT;
	if (path[0] == '/') {
		*base = fs_root;
		return 0;
	}
	if (dirfd == AT_FDCWD) {
		*base = fs_cwd;
		return 0;
	}
	f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	ino = f->inode;
	file_put(f); /* the descriptor keeps it alive */
	if (!ino || !S_ISDIR(ino->mode))
		return -ENOTDIR;
	*base = ino;
	return 0;
}

int vfs_lookup_at(int dirfd, const char *path, int at_flags, struct inode **out)
{
	struct walk w = {0};
	struct inode *base;
	int err;

	if (!*path && (at_flags & AT_EMPTY_PATH)) {
		struct file *f;
		if (dirfd == AT_FDCWD) {
			*out = fs_cwd;
			return 0;
		}
		f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		*out = f->inode;
		file_put(f);
		return *out ? 0 : -EBADF;
	}
	err = vfs_base(dirfd, path, &base);
	if (err)
		return err;
	w.flags = (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
	err = vfs_walk(base, path, &w);
	if (err)
		return err;
	*out = w.inode;
	return 0;
}

int vfs_dir_path(struct inode *dir, char *buf, size_t n)
{
	size_t pos = n, len;
	struct inode *d = dir;

	if (n < 2)
		return -ENAMETOOLONG;
	if (dir->nlink == 0)
		return -ENOENT;
	buf[--pos] = '\0';
	while (d != fs_root) {
		struct inode *up = d->dir.parent;
		struct dentry *e = NULL;

		if (!up)
			return -ENOENT;
		for (e = up->dir.head; e && e->inode != d; e = e->next)
			;
		if (!e)
			return -ENOENT;
		if (pos < (size_t)e->namelen + 1)
			return -ENAMETOOLONG;
		pos -= e->namelen;
		memcpy(buf + pos, e->name, e->namelen);
		buf[--pos] = '/';
		d = up;
	}
	if (pos == n - 1)
		buf[--pos] = '/';
	len = n - 1 - pos;
	memmove(buf, buf + pos, len + 1);
	return (int)len;
}

/* ---- open files ---- */

struct file *file_alloc(const struct file_ops *ops, unsigned int flags,
			struct inode *ino)
{
	struct file *f = kzalloc(sizeof(*f));

	if (!f)
		return NULL;
	f->refs = 1;
	f->flags = flags;
	f->ops = ops;
	f->inode = ino;
	if (ino)
		inode_get(ino);
	return f;
}

void file_get(struct file *f)
{
	f->refs++;
}

void file_put(struct file *f)
{
	assert(f->refs > 0);
	if (--f->refs > 0)
		return;
	lock_file_released(f);
	if (f->ops && f->ops->release)
		f->ops->release(f);
	if (f->inode)
		inode_put(f->inode);
	kfree(f->path);
	kfree(f);
}

bool file_readable(const struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return !(f->flags & O_PATH) && (acc == O_RDONLY || acc == O_RDWR);
}

bool file_writable(const struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return !(f->flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

/* The path /proc/self/fd shows for a file opened through w. */
static char *open_path(const struct walk *w, struct inode *ino)
{
	char *buf, *p;
	int len;

	if (w->via)
		return strdup(w->via);
	buf = kmalloc(MAX_PATH);
	if (!buf)
		return NULL;
	if (S_ISDIR(ino->mode)) {
		len = vfs_dir_path(ino, buf, MAX_PATH);
	} else {
		len = vfs_dir_path(w->parent, buf, MAX_PATH);
		if (len >= 0 && (size_t)len + w->namelen + 2 <= MAX_PATH) {
			if (len > 1)
				buf[len++] = '/';
			memcpy(buf + len, w->name, w->namelen);
			len += (int)w->namelen;
			buf[len] = '\0';
		} else {
			len = -1;
		}
	}
	p = len >= 0 ? strdup(buf) : NULL;
	kfree(buf);
	return p;
}

/* O_CREAT: finds or creates the last component, following symlinks to
 * their targets (creating a dangling link's target, as Linux does). */
static int open_create(struct inode *base, const char *path, int flags,
		       int mode, struct walk *w, struct inode **out,
		       bool *created)
{
	struct inode *dir, *ino;
	int err;

	for (;;) {
		w->flags = WALK_PARENT;
		err = vfs_walk(base, path, w);
		if (err)
			return err;
		if (w->last != LAST_NORM || w->slash)
			return -EISDIR;
		ino = dir_find(w->parent, w->name, w->namelen);
		if (!ino)
			break;
		if (flags & O_EXCL)
			return -EEXIST;
		if (!S_ISLNK(ino->mode)) {
			*out = ino;
			return 0;
		}
		if (flags & O_NOFOLLOW)
			return -ELOOP;
		if (++w->links > MAX_SYMLINKS)
			return -ELOOP;
		if (ino->iops && ino->iops->follow) {
			const char *via = NULL;
			err = -ENOENT;
			ino = ino->iops->follow(ino, &via, &err);
			if (!ino)
				return err;
			w->via = via;
			*out = ino;
			return 0;
		}
		path = inode_link_target(ino);
		if (!path || !*path)
			return -ENOENT;
		base = w->parent;
	}
	dir = w->parent;
	if (dir->nlink == 0)
		return -ENOENT;
	if (dir->flags & INODE_FIXED)
		return -EACCES;
	ino = inode_new(dir->sb,
			S_IFREG | ((uint32_t)mode & 07777 & ~vfs_get_umask()));
	if (!ino)
		return -ENOMEM;
	if (dir_link(dir, w->name, w->namelen, ino) < 0) {
		inode_maybe_free(ino);
		return -ENOMEM;
	}
	*created = true;
	*out = ino;
	return 0;
}

int vfs_openat(int dirfd, const char *path, int flags, int mode,
	       struct file **out)
{
	struct inode *base, *ino = NULL;
	struct walk w = {0};
	struct file *f;
	bool created = false;
	int err;

	if ((flags & O_TMPFILE) == O_TMPFILE)
		return -EOPNOTSUPP;
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	if ((flags & (O_CREAT | O_DIRECTORY)) == (O_CREAT | O_DIRECTORY))
		return -EINVAL;
	err = vfs_base(dirfd, path, &base);
	if (err)
		return err;
	if (flags & O_CREAT) {
		err = open_create(base, path, flags, mode, &w, &ino, &created);
		if (err)
			return err;
	} else {
		w.flags = (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW;
		if (flags & O_DIRECTORY)
			w.flags |= WALK_DIRECTORY;
		err = vfs_walk(base, path, &w);
		if (err)
			return err;
		ino = w.inode;
		if (S_ISLNK(ino->mode) && !(flags & O_PATH))
			return -ELOOP;
	}
	unsigned int fflags =
	    ((unsigned int)flags & ~(unsigned int)(O_CREAT | O_EXCL | O_NOCTTY |
						   O_TRUNC | O_CLOEXEC)) |
	    O_LARGEFILE;
	if (flags & O_PATH) {
		f = file_alloc(&path_fops, fflags, ino);
		if (!f)
			return -ENOMEM;
	} else {
		int acc = flags & O_ACCMODE;
		/* access mode 3 asks for read and write, as on Linux */
		bool wr = acc != O_RDONLY || (flags & O_TRUNC);

		if (S_ISDIR(ino->mode) && (wr || (flags & O_CREAT)))
			return -EISDIR;
		if (!ino->fops)
			return -ENXIO;
		if (wr && !ino->fops->write)
			return -EACCES;
		f = file_alloc(ino->fops, fflags, ino);
		if (!f)
			return -ENOMEM;
		if (ino->fops->open) {
			err = ino->fops->open(f);
			if (err) {
				file_put(f);
				return err;
			}
		}
		if ((flags & O_TRUNC) && S_ISREG(ino->mode) && !created &&
		    ino->size)
			reg_truncate(ino, 0);
	}
	f->path = open_path(&w, ino);
	*out = f;
	return 0;
}

/* ---- I/O ---- */

ssize_t vfs_read(struct file *f, void *buf, size_t n, bool user)
{
	if (!file_readable(f))
		return -EBADF;
	if (!f->ops->read)
		return -EINVAL;
	return f->ops->read(f, buf, MIN(n, FS_MAX_RW), &f->pos, user);
}

ssize_t vfs_write(struct file *f, const void *buf, size_t n, bool user)
{
	if (!file_writable(f))
		return -EBADF;
	if (!f->ops->write)
		return -EINVAL;
	ssize_t r = f->ops->write(f, buf, MIN(n, FS_MAX_RW), &f->pos, user);
	/* Nobody reads a pipe or socket any more: Linux also sends SIGPIPE
	 * (which kills unless caught or ignored). */
	if (r == -EPIPE)
		signal_raise_pipe();
	return r;
}

int vfs_check_positional(struct file *f, int64_t off)
{
	if (off < 0)
		return -EINVAL;
	if (f->flags & O_PATH)
		return -EBADF;
	if (!f->ops->lseek)
		return -ESPIPE;
	return 0;
}

ssize_t vfs_pread_at(struct file *f, void *buf, size_t n, int64_t off,
		     bool user)
{
	uint64_t pos = (uint64_t)off;

	int err = vfs_check_positional(f, off);
	if (err)
		return err;
	if (!file_readable(f))
		return -EBADF;
	if (!f->ops->read)
		return -EINVAL;
	return f->ops->read(f, buf, MIN(n, FS_MAX_RW), &pos, user);
}

ssize_t vfs_pwrite_at(struct file *f, const void *buf, size_t n, int64_t off,
		      bool user)
{
	uint64_t pos = (uint64_t)off;

	int err = vfs_check_positional(f, off);
	if (err)
		return err;
	if (!file_writable(f))
		return -EBADF;
	if (!f->ops->write)
		return -EINVAL;
	return f->ops->write(f, buf, MIN(n, FS_MAX_RW), &pos, user);
}

off_t vfs_lseek(struct file *f, off_t off, int whence)
{
	if (f->flags & O_PATH)
		return -EBADF;
	if (!f->ops->lseek)
		return -ESPIPE;
	return f->ops->lseek(f, off, whence);
}

int vfs_fstat(struct file *f, struct kstat *st)
{
	if (f->inode) {
		inode_stat(f->inode, st);
		return 0;
	}
	if (f->ops->getattr)
		return f->ops->getattr(f, st);
	memset(st, 0, sizeof(*st));
	return 0;
}

int vfs_ftruncate(struct file *f, int64_t len)
{
	if (len < 0)
		return -EINVAL;
	if (f->flags & O_PATH)
		return -EBADF;
	if (!f->inode || !S_ISREG(f->inode->mode) || !file_writable(f))
		return -EINVAL;
	return reg_truncate(f->inode, (uint64_t)len);
}

/* ---- what fs.h promises the rest of the kernel ---- */

int vfs_open(const char *path, int flags, int mode, struct file **out)
{
	return vfs_openat(AT_FDCWD, path, flags, mode, out);
}

ssize_t vfs_pread(struct file *f, void *kbuf, size_t n, uint64_t off)
{
	if (off > (uint64_t)INT64_MAX)
		return -EINVAL;
	return vfs_pread_at(f, kbuf, n, (int64_t)off, false);
}

int vfs_write_file(const char *path, const void *data, size_t n, int mode)
{
	struct file *f;
	size_t done = 0;
	int err = vfs_open(path, O_WRONLY | O_CREAT | O_TRUNC, mode, &f);

	if (err)
		return err;
	while (done < n) {
		ssize_t r =
		    vfs_write(f, (const char *)data + done, n - done, false);
		if (r <= 0) {
			err = r < 0 ? (int)r : -EIO;
			break;
		}
		done += (size_t)r;
	}
	file_put(f);
	return err;
}

#define MAP_SHARED_	     0x01
#define MAP_SHARED_VALIDATE_ 0x03
#define MAP_TYPE_	     0x0f
#define PROT_WRITE_	     0x2

int vfs_mmap_check(struct file *f, int prot, int map_flags, bool *may_write)
{
	int type = map_flags & MAP_TYPE_;

	*may_write = file_writable(f);
	if (f->flags & O_PATH)
		return -EBADF;
	if (!file_readable(f))
		return -EACCES;
	if ((type == MAP_SHARED_ || type == MAP_SHARED_VALIDATE_) &&
	    (prot & PROT_WRITE_) && !file_writable(f))
		return -EACCES;
	if (!f->ops->mmap)
		return -ENODEV;
	return f->ops->mmap(f);
}

int vfs_mmap_page(struct file *f, uint64_t off, void **page)
{
	struct inode *ino = f->inode;

	if (!ino || !S_ISREG(ino->mode) || ino->fops != &reg_fops)
		return -ENODEV;
	if (off >= ino->size)
		return -ENXIO;
	*page = reg_page_get(ino, off / PAGE_SIZE);
	return *page ? 0 : -ENOMEM;
}

const void *vfs_mmap_key(struct file *f)
{
	return f->inode;
}

void vfs_file_describe(struct file *f, char *buf, size_t n,
		       struct vfs_file_id *id)
{
	struct inode *ino = f->inode;

	snprintf(buf, n, "%s%s", f->path ? f->path : "",
		 ino && ino->nlink == 0 ? " (deleted)" : "");
	id->ino = ino ? ino->ino : 0;
	id->dev_major = ino ? ino->sb->dev_major : 0;
	id->dev_minor = ino ? ino->sb->dev_minor : 0;
}

int fs_init(const void *cpio, size_t len)
{
	int err = 0;

	fs_root = inode_new(&ramfs_super, S_IFDIR | 0755);
	if (!fs_root)
		return -ENOMEM;
	fs_root->nlink = 2;
	fs_root->dir.parent = fs_root;
	inode_get(fs_root); /* never freed */
	fs_cwd = fs_root;
	inode_get(fs_cwd);
	if (cpio && len) {
		err = cpio_unpack(fs_root, cpio, len);
		if (err)
			return err;
	}
	if (!dir_mkdir(fs_root, "tmp", 01777, &err))
		klog("fs: cannot create '/tmp': error %d", err);
	/* Debian's programs put pid files and sockets in /run. */
	if (!dir_mkdir(fs_root, "run", 0755, &err))
		klog("fs: cannot create '/run': error %d", err);
	err = dev_init();
	if (!err)
		err = procfs_init();
	return err;
}

int fs_anon_getattr(struct file *f, struct kstat *st)
{
	(void)f;
	memset(st, 0, sizeof(*st));
	st->dev_minor = 13;
	st->ino = 1;
	st->nlink = 1;
	st->mode = 0600;
	st->blksize = PAGE_SIZE;
	return 0;
}
