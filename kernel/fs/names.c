/*
 * Operations on names: stat, access, readlink, mkdir, unlink, rmdir,
 * rename, link, symlink, truncate, chdir/getcwd and attribute changes.
 * Each one walks to the parent of the last component (vfs_walk with
 * WALK_PARENT) and applies Linux's rules for that operation, including
 * its errno for ".", "..", "/", trailing slashes and existing names; the
 * comments name the rule where it is not obvious.  Everything runs as
 * root, so permission bits only matter for exec (X_OK).
 */
#include "vfs.h"

#include "mm.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE	 (1 << 1)
#define RENAME_WHITEOUT	 (1 << 2)
#endif
#define UTIME_NOW_  ((1L << 30) - 1L)
#define UTIME_OMIT_ ((1L << 30) - 2L)

static unsigned int fs_umask = 022;

unsigned int vfs_umask(unsigned int mask)
{
	unsigned int old = fs_umask;
	fs_umask = mask & 0777;
	return old;
}

unsigned int vfs_get_umask(void)
{
	return fs_umask;
}

/* Walks to the parent of path's last component. */
static int walk_parent_at(int dirfd, const char *path, struct walk *w)
{
	struct inode *base;
	int err = vfs_base(dirfd, path, &base);

	if (err)
		return err;
	memset(w, 0, sizeof(*w));
	w->flags = WALK_PARENT;
	return vfs_walk(base, path, w);
}

/* Can entries be added to or removed from dir?  0 or -errno. */
static int dir_writable(struct inode *dir)
{
	if (dir->nlink == 0)
		return -ENOENT; /* removed while we stand in it */
	if (dir->flags & INODE_FIXED)
		return -EACCES;
	return 0;
}

int vfs_stat_at(int dirfd, const char *path, int at_flags, struct kstat *st)
{
	struct inode *ino;
	int err;

	if (!*path && (at_flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
		struct file *f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		err = vfs_fstat(f, st);
		file_put(f);
		return err;
	}
	err = vfs_lookup_at(dirfd, path, at_flags, &ino);
	if (err)
		return err;
	inode_stat(ino, st);
	return 0;
}

#define X_OK_ 1
#define W_OK_ 2
#define R_OK_ 4

int vfs_access_at(int dirfd, const char *path, int mode, int at_flags)
{
	struct inode *ino;
	int err;

	if (mode & ~(R_OK_ | W_OK_ | X_OK_))
		return -EINVAL;
	if (at_flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = vfs_lookup_at(dirfd, path, at_flags & ~AT_EACCESS, &ino);
	if (err)
		return err;
	/* root may read and write anything, and execute what has an x bit */
	if ((mode & X_OK_) && !S_ISDIR(ino->mode) && !(ino->mode & 0111))
		return -EACCES;
	return 0;
}

ssize_t vfs_readlink_at(int dirfd, const char *path, char *buf, size_t n)
{
	struct inode *ino;
	const char *t;
	size_t len;
	int err;

	/* readlinkat(fd, "") reads the link an O_PATH descriptor holds */
	err = vfs_lookup_at(dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH,
			    &ino);
	if (err)
		return err;
	if (!S_ISLNK(ino->mode))
		return *path ? -EINVAL : -ENOENT;
	if (ino->iops && ino->iops->readlink)
		return ino->iops->readlink(ino, buf, n);
	t = inode_link_target(ino);
	if (!t)
		return -ENOENT;
	len = MIN(strlen(t), n);
	memcpy(buf, t, len);
	return (ssize_t)len;
}

int vfs_mkdir_at(int dirfd, const char *path, int mode)
{
	struct walk w;
	struct inode *ino;
	int err = walk_parent_at(dirfd, path, &w);

	if (err)
		return err;
	if (w.last != LAST_NORM)
		return -EEXIST;
	if (dir_find(w.parent, w.name, w.namelen))
		return -EEXIST;
	err = dir_writable(w.parent);
	if (err)
		return err;
	ino = inode_new(w.parent->sb,
			S_IFDIR | ((uint32_t)mode & 01777 & ~fs_umask));
	if (!ino)
		return -ENOMEM;
	if (dir_link(w.parent, w.name, w.namelen, ino) < 0) {
		ino->nlink = 0;
		inode_maybe_free(ino);
		return -ENOMEM;
	}
	return 0;
}

/* Checks for creating a non-directory name: 0 or -errno. */
static int create_check(struct walk *w)
{
	if (w->last != LAST_NORM)
		return -EEXIST;
	if (dir_find(w->parent, w->name, w->namelen))
		return -EEXIST;
	if (w->slash)
		return -ENOENT; /* "new/" can only name a directory */
	return dir_writable(w->parent);
}

int vfs_mknod_at(int dirfd, const char *path, int mode, unsigned int dev)
{
	struct walk w;
	struct inode *ino;
	uint32_t type = (uint32_t)mode & S_IFMT;
	int err;

	if (type == 0)
		type = S_IFREG;
	if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK &&
	    type != S_IFIFO && type != S_IFSOCK)
		return -EINVAL;
	err = walk_parent_at(dirfd, path, &w);
	if (err)
		return err;
	err = create_check(&w);
	if (err)
		return err;
	if (type != S_IFREG)
		return -EPERM; /* no device nodes, FIFOs or sockets (yet) */
	ino = inode_new(w.parent->sb,
			S_IFREG | ((uint32_t)mode & 07777 & ~fs_umask));
	if (!ino)
		return -ENOMEM;
	if (dir_link(w.parent, w.name, w.namelen, ino) < 0) {
		inode_maybe_free(ino);
		return -ENOMEM;
	}
	return 0;
}

int vfs_mksock(const char *path, int mode, struct inode **out)
{
	struct walk w;
	struct inode *ino;
	int err = walk_parent_at(AT_FDCWD, path, &w);

	if (err)
		return err;
	err = create_check(&w);
	if (err)
		return err;
	ino = inode_new(w.parent->sb,
			S_IFSOCK | ((uint32_t)mode & 07777 & ~fs_umask));
	if (!ino)
		return -ENOMEM;
	if (dir_link(w.parent, w.name, w.namelen, ino) < 0) {
		inode_maybe_free(ino);
		return -ENOMEM;
	}
	inode_get(ino);
	*out = ino;
	return 0;
}

static int rmdir_walked(struct walk *w)
{
	struct inode *child;
	struct dentry *d;
	int err;

	if (w->last == LAST_DOT)
		return -EINVAL;
	if (w->last == LAST_DOTDOT)
		return -ENOTEMPTY;
	if (w->last == LAST_ROOT)
		return -EBUSY;
	child = dir_find(w->parent, w->name, w->namelen);
	if (!child)
		return -ENOENT;
	if (!S_ISDIR(child->mode))
		return -ENOTDIR;
	err = dir_writable(w->parent);
	if (err)
		return err;
	d = dir_entry(w->parent, w->name, w->namelen);
	if (!d || (child->flags & INODE_FIXED))
		return -EACCES;
	if (child == fs_root)
		return -EBUSY;
	if (!dir_is_empty(child))
		return -ENOTEMPTY;
	dir_remove_entry(w->parent, d);
	return 0;
}

static int unlink_walked(struct walk *w)
{
	struct inode *child;
	struct dentry *d;
	int err;

	if (w->last != LAST_NORM)
		return -EISDIR;
	child = dir_find(w->parent, w->name, w->namelen);
	if (!child)
		return -ENOENT;
	if (S_ISDIR(child->mode))
		return -EISDIR;
	if (w->slash)
		return -ENOTDIR;
	err = dir_writable(w->parent);
	if (err)
		return err;
	d = dir_entry(w->parent, w->name, w->namelen);
	if (!d)
		return -EACCES;
	dir_remove_entry(w->parent, d);
	return 0;
}

int vfs_unlink_at(int dirfd, const char *path, int at_flags)
{
	struct walk w;
	int err;

	if (at_flags & ~AT_REMOVEDIR)
		return -EINVAL;
	err = walk_parent_at(dirfd, path, &w);
	if (err)
		return err;
	return (at_flags & AT_REMOVEDIR) ? rmdir_walked(&w) : unlink_walked(&w);
}

/* Is dir a (or below a)? */
static bool dir_is_under(struct inode *dir, struct inode *a)
{
	for (struct inode *d = dir; d; d = d->dir.parent) {
		if (d == a)
			return true;
		if (d == fs_root)
			break;
	}
	return false;
}

/* Moves an entry to (ndir, name) keeping its inode; nd is preallocated. */
static void rename_move(struct inode *odir, struct dentry *od,
			struct inode *ndir, struct dentry *nd)
{
	struct inode *child = od->inode;

	/* dir_unlink/dir_insert adjust nlink of child and parents; keep
	 * the child alive across the gap */
	child->refs++;
	dir_unlink(odir, od);
	dir_insert(ndir, nd, child);
	child->refs--;
}

int vfs_rename_at(int odirfd, const char *oldp, int ndirfd, const char *newp,
		  unsigned int flags)
{
	struct walk ow, nw;
	struct inode *src, *dst;
	struct dentry *od, *ddst, *nd;
	int err;

	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE |
				    RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & RENAME_EXCHANGE) && (flags & RENAME_NOREPLACE))
		return -EINVAL;
	if (flags & RENAME_WHITEOUT)
		return -EINVAL;
	err = walk_parent_at(odirfd, oldp, &ow);
	if (err)
		return err;
	err = walk_parent_at(ndirfd, newp, &nw);
	if (err)
		return err;
	if (ow.last != LAST_NORM)
		return -EBUSY;
	if (nw.last != LAST_NORM)
		return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	src = dir_find(ow.parent, ow.name, ow.namelen);
	if (!src)
		return -ENOENT;
	dst = dir_find(nw.parent, nw.name, nw.namelen);
	if (ow.parent->sb != nw.parent->sb)
		return -EXDEV;
	if ((err = dir_writable(ow.parent)) || (err = dir_writable(nw.parent)))
		return err;
	od = dir_entry(ow.parent, ow.name, ow.namelen);
	ddst = dst ? dir_entry(nw.parent, nw.name, nw.namelen) : NULL;
	if (!od || (dst && !ddst))
		return -EACCES;
	/* /dev, /proc and the like are the kernel's mount points: they stay
	 * where they are, as Linux answers for a mount point. */
	if ((src->flags & INODE_FIXED) || (dst && (dst->flags & INODE_FIXED)))
		return -EBUSY;
	if (flags & RENAME_EXCHANGE) {
		if (!dst)
			return -ENOENT;
	} else if (dst && (flags & RENAME_NOREPLACE)) {
		return -EEXIST;
	}
	/* a trailing slash is only allowed on directories */
	if (ow.slash && !S_ISDIR(src->mode))
		return -ENOTDIR;
	if (nw.slash && !S_ISDIR(((flags & RENAME_EXCHANGE) ? dst : src)->mode))
		return -ENOTDIR;
	if (src == dst)
		return 0; /* same file (or hard links to it): nothing to do */
	if (S_ISDIR(src->mode) && dir_is_under(nw.parent, src))
		return -EINVAL;
	if (flags & RENAME_EXCHANGE) {
		if (S_ISDIR(dst->mode) && dir_is_under(ow.parent, dst))
			return -EINVAL;
		/* swap the inodes the two entries point to */
		struct inode *a = src, *b = dst;
		od->inode = b;
		ddst->inode = a;
		if (ow.parent != nw.parent) {
			if (S_ISDIR(a->mode)) {
				a->dir.parent = nw.parent;
				ow.parent->nlink--;
				nw.parent->nlink++;
			}
			if (S_ISDIR(b->mode)) {
				b->dir.parent = ow.parent;
				nw.parent->nlink--;
				ow.parent->nlink++;
			}
		}
		fs_time_now(&a->ctime);
		b->ctime = a->ctime;
		ow.parent->mtime = ow.parent->ctime = a->ctime;
		nw.parent->mtime = nw.parent->ctime = a->ctime;
		return 0;
	}
	if (dst) {
		if (S_ISDIR(src->mode)) {
			if (!S_ISDIR(dst->mode))
				return -ENOTDIR;
			if (!dir_is_empty(dst))
				return -ENOTEMPTY;
		} else if (S_ISDIR(dst->mode)) {
			return -EISDIR;
		}
	}
	nd = dentry_alloc(nw.name, nw.namelen);
	if (!nd)
		return -ENOMEM;
	if (dst)
		dir_remove_entry(nw.parent, ddst);
	rename_move(ow.parent, od, nw.parent, nd);
	return 0;
}

int vfs_link_at(int odirfd, const char *oldp, int ndirfd, const char *newp,
		int at_flags)
{
	struct walk w;
	struct inode *src;
	int err;

	if (at_flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = vfs_lookup_at(
	    odirfd, oldp,
	    (at_flags & AT_EMPTY_PATH) |
		((at_flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW),
	    &src);
	if (err)
		return err;
	if (S_ISDIR(src->mode))
		return -EPERM;
	err = walk_parent_at(ndirfd, newp, &w);
	if (err)
		return err;
	err = create_check(&w);
	if (err)
		return err;
	if (src->sb != w.parent->sb)
		return -EXDEV;
	if (src->nlink == 0)
		return -ENOENT;
	err = dir_link(w.parent, w.name, w.namelen, src);
	if (err)
		return err;
	fs_time_now(&src->ctime);
	return 0;
}

int vfs_symlink_at(const char *target, int dirfd, const char *path)
{
	struct walk w;
	struct inode *ino;
	size_t len = strlen(target);
	int err;

	if (!len)
		return -ENOENT;
	if (len >= MAX_PATH)
		return -ENAMETOOLONG;
	err = walk_parent_at(dirfd, path, &w);
	if (err)
		return err;
	err = create_check(&w);
	if (err)
		return err;
	ino = inode_new(w.parent->sb, S_IFLNK | 0777);
	if (!ino)
		return -ENOMEM;
	ino->lnk.target = strdup(target);
	ino->size = len;
	if (!ino->lnk.target ||
	    dir_link(w.parent, w.name, w.namelen, ino) < 0) {
		inode_maybe_free(ino);
		return -ENOMEM;
	}
	return 0;
}

int vfs_truncate(const char *path, int64_t len)
{
	struct inode *ino;
	int err;

	if (len < 0)
		return -EINVAL;
	err = vfs_lookup_at(AT_FDCWD, path, 0, &ino);
	if (err)
		return err;
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (!S_ISREG(ino->mode))
		return -EINVAL;
	return reg_truncate(ino, (uint64_t)len);
}

static void set_cwd(struct inode *dir)
{
	struct inode *old = fs_cwd;

	inode_get(dir);
	fs_cwd = dir;
	if (old)
		inode_put(old);
}

int vfs_chdir(const char *path)
{
	struct inode *ino;
	int err = vfs_lookup_at(AT_FDCWD, path, 0, &ino);

	if (err)
		return err;
	if (!S_ISDIR(ino->mode))
		return -ENOTDIR;
	set_cwd(ino);
	return 0;
}

int vfs_fchdir(struct file *f)
{
	if (!f->inode || !S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	set_cwd(f->inode);
	return 0;
}

int vfs_getcwd(char *buf, size_t n)
{
	return vfs_dir_path(fs_cwd, buf, n);
}

int vfs_chmod_inode(struct inode *ino, int mode)
{
	if (ino->sb != &ramfs_super) /* /proc, /sys */
		return -EPERM;
	ino->mode = (ino->mode & S_IFMT) | ((uint32_t)mode & 07777);
	fs_time_now(&ino->ctime);
	return 0;
}

int vfs_chown_inode(struct inode *ino, uint32_t uid, uint32_t gid)
{
	if (ino->sb != &ramfs_super)
		return -EPERM;
	if (uid != (uint32_t)-1)
		ino->uid = uid;
	if (gid != (uint32_t)-1)
		ino->gid = gid;
	fs_time_now(&ino->ctime);
	return 0;
}

int vfs_utimens_inode(struct inode *ino, const struct fs_time *times)
{
	struct fs_time now;
	struct fs_time *dst[2] = {&ino->atime, &ino->mtime};
	bool changed = false;

	fs_time_now(&now);
	for (int i = 0; i < 2; i++) {
		if (times && times[i].nsec == UTIME_OMIT_)
			continue;
		if (!times || times[i].nsec == UTIME_NOW_)
			*dst[i] = now;
		else
			*dst[i] = times[i];
		changed = true;
	}
	if (changed)
		ino->ctime = now;
	return 0;
}
