/*
 * ramfs: the in-memory inodes every file of the guest lives in.
 *
 * Directories are a singly linked list of entries in insertion order; each
 * entry gets an increasing cookie that getdents uses as its offset, so a
 * listing in progress survives entries being added or removed around it.
 * Regular files hold an array of 4 KiB pages; a page that was never
 * written reads from the initrd bytes the file was unpacked from (no copy
 * at boot), or as zeroes past them, so files are sparse and copy on write
 * page by page.  Symlinks hold their target string.  Devices and procfs
 * entries are ramfs inodes whose ops come from dev.c and proc.c.
 *
 * Depends on mm.h (kmalloc, page_alloc), uaccess.h and the clock.
 */
#include "vfs.h"

#include "mm.h"
#include "proc.h"
#include "uaccess.h"
#include "uvm.h"

const struct fs_super ramfs_super = {0x01021994 /* TMPFS_MAGIC */, 0, 1};

struct inode *fs_root;
static uint64_t ramfs_next_ino = 1;

void fs_time_now(struct fs_time *t)
{
	uint64_t ns = clock_realtime_ns();
	t->sec = (int64_t)(ns / 1000000000u);
	t->nsec = (int64_t)(ns % 1000000000u);
}

int fs_copy_out(void *dst, const void *src, size_t n, bool user)
{
	if (user)
		return copy_to_user(dst, src, n);
	memcpy(dst, src, n);
	return 0;
}

int fs_copy_in(void *dst, const void *src, size_t n, bool user)
{
	if (user)
		return copy_from_user(dst, src, n);
	memcpy(dst, src, n);
	return 0;
}

int fs_zero_out(void *dst, size_t n, bool user)
{
	if (user)
		return clear_user(dst, n);
	memset(dst, 0, n);
	return 0;
}

struct inode *inode_new(const struct fs_super *sb, uint32_t mode)
{
	struct inode *ino = kzalloc(sizeof(*ino));

	if (!ino)
		return NULL;
	ino->ino = ramfs_next_ino++;
	ino->mode = mode;
	ino->sb = sb;
	fs_time_now(&ino->mtime);
	ino->atime = ino->ctime = ino->btime = ino->mtime;
	switch (mode & S_IFMT) {
	case S_IFREG:
		ino->fops = &reg_fops;
		break;
	case S_IFDIR:
		ino->fops = &dir_fops;
		ino->nlink = 1;	       /* its own "." */
		ino->dir.next_pos = 2; /* 0 and 1 are "." and ".." */
		break;
	default:
		break;
	}
	return ino;
}

void inode_get(struct inode *ino)
{
	ino->refs++;
}

static void reg_free_pages(struct inode *ino, size_t from)
{
	/* Shared mappings may map these pages: they let go first. */
	if (from < ino->reg.npages)
		uvm_file_shrunk(ino, (uint64_t)from * PAGE_SIZE);
	for (size_t i = from; i < ino->reg.npages; i++) {
		if (ino->reg.pages[i]) {
			page_free(ino->reg.pages[i]);
			ino->reg.pages[i] = NULL;
		}
	}
}

void inode_maybe_free(struct inode *ino)
{
	struct inode *up = NULL;

	if (ino->refs > 0 || ino->nlink > 0)
		return;
	lock_inode_free(ino);
	switch (ino->mode & S_IFMT) {
	case S_IFREG:
		reg_free_pages(ino, 0);
		kfree(ino->reg.pages);
		break;
	case S_IFDIR:
		while (ino->dir.head) {
			struct dentry *d = ino->dir.head;
			ino->dir.head = d->next;
			kfree(d);
		}
		if (ino->dir.parent_held)
			up = ino->dir.parent;
		break;
	case S_IFLNK:
		kfree(ino->lnk.target);
		break;
	}
	kfree(ino);
	if (up)
		inode_put(up);
}

void inode_put(struct inode *ino)
{
	assert(ino->refs > 0);
	ino->refs--;
	inode_maybe_free(ino);
}

unsigned int inode_dtype(const struct inode *ino)
{
	return (ino->mode & S_IFMT) >> 12;
}

void inode_stat(struct inode *ino, struct kstat *st)
{
	memset(st, 0, sizeof(*st));
	st->dev_major = ino->sb->dev_major;
	st->dev_minor = ino->sb->dev_minor;
	st->ino = ino->ino;
	st->nlink = ino->nlink;
	st->mode = ino->mode;
	st->uid = ino->uid;
	st->gid = ino->gid;
	st->rdev_major = ino->rdev_major;
	st->rdev_minor = ino->rdev_minor;
	st->blksize = PAGE_SIZE;
	switch (ino->mode & S_IFMT) {
	case S_IFREG:
		st->size = (int64_t)ino->size;
		st->blocks = (int64_t)(ALIGN_UP(ino->size, PAGE_SIZE) / 512);
		break;
	case S_IFDIR:
		/* tmpfs reports 20 bytes per entry, like this */
		st->size = (int64_t)(ino->dir.count + 2) * 20;
		break;
	case S_IFLNK:
		st->size = (int64_t)ino->size;
		break;
	}
	st->atime = ino->atime;
	st->mtime = ino->mtime;
	st->ctime = ino->ctime;
	st->btime = ino->btime;
}

const char *inode_link_target(struct inode *ino)
{
	if (ino->iops && ino->iops->get_link)
		return ino->iops->get_link(ino);
	return ino->lnk.target;
}

/* ---- directories ---- */

struct dentry *dir_entry(struct inode *dir, const char *name, size_t len)
{
	for (struct dentry *d = dir->dir.head; d; d = d->next)
		if (d->namelen == len && memcmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

struct inode *dir_find(struct inode *dir, const char *name, size_t len)
{
	if (dir->iops && dir->iops->lookup) {
		struct inode *ino = dir->iops->lookup(dir, name, len);
		if (ino)
			return ino;
	}
	struct dentry *d = dir_entry(dir, name, len);
	return d ? d->inode : NULL;
}

struct dentry *dentry_alloc(const char *name, size_t len)
{
	struct dentry *d;

	if (len > MAX_NAME)
		return NULL;
	d = kmalloc(sizeof(*d) + len + 1);
	if (!d)
		return NULL;
	d->next = NULL;
	d->inode = NULL;
	d->pos = 0;
	d->namelen = (uint16_t)len;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	return d;
}

void dir_insert(struct inode *dir, struct dentry *d, struct inode *child)
{
	d->inode = child;
	d->pos = dir->dir.next_pos++;
	d->next = NULL;
	if (dir->dir.tail)
		dir->dir.tail->next = d;
	else
		dir->dir.head = d;
	dir->dir.tail = d;
	dir->dir.count++;
	child->nlink++;
	if (S_ISDIR(child->mode)) {
		child->dir.parent = dir;
		dir->nlink++;
	}
	fs_time_now(&dir->mtime);
	dir->ctime = dir->mtime;
}

int dir_link(struct inode *dir, const char *name, size_t len,
	     struct inode *child)
{
	struct dentry *d = dentry_alloc(name, len);

	if (!d)
		return -ENOMEM;
	dir_insert(dir, d, child);
	return 0;
}

void dir_unlink(struct inode *dir, struct dentry *d)
{
	struct dentry **pp = &dir->dir.head, *prev = NULL;
	struct inode *child = d->inode;

	while (*pp && *pp != d) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	assert(*pp == d);
	*pp = d->next;
	if (dir->dir.tail == d)
		dir->dir.tail = prev;
	dir->dir.count--;
	kfree(d);
	child->nlink--;
	if (S_ISDIR(child->mode)) {
		child->dir.parent = NULL;
		dir->nlink--;
	}
	fs_time_now(&dir->mtime);
	dir->ctime = dir->mtime;
	child->ctime = dir->mtime;
}

void dir_remove_entry(struct inode *dir, struct dentry *d)
{
	struct inode *child = d->inode;

	dir_unlink(dir, d);
	if (S_ISDIR(child->mode)) {
		child->nlink = 0;
		if (child->refs > 0) {
			child->dir.parent = dir;
			child->dir.parent_held = true;
			inode_get(dir);
		}
	}
	inode_maybe_free(child);
}

bool dir_is_empty(struct inode *dir)
{
	return dir->dir.count == 0;
}

void dir_iterate(struct inode *dir, struct dir_ctx *ctx)
{
	if (dir->iops && dir->iops->iterate) {
		dir->iops->iterate(dir, ctx);
		return;
	}
	for (struct dentry *d = dir->dir.head; d; d = d->next) {
		if (d->pos < ctx->pos)
			continue;
		if (!ctx->emit(ctx, d->name, d->namelen, d->inode->ino,
			       inode_dtype(d->inode), d->pos + 1))
			return;
	}
}

struct inode *dir_mkdir(struct inode *dir, const char *name, uint32_t mode,
			int *err)
{
	size_t len = strlen(name);
	struct inode *ino = dir_find(dir, name, len);

	if (ino) {
		if (S_ISDIR(ino->mode))
			return ino;
		*err = -EEXIST;
		return NULL;
	}
	ino = inode_new(dir->sb, S_IFDIR | (mode & 07777));
	if (!ino) {
		*err = -ENOMEM;
		return NULL;
	}
	if (dir_link(dir, name, len, ino) < 0) {
		ino->nlink = 0;
		inode_maybe_free(ino);
		*err = -ENOMEM;
		return NULL;
	}
	return ino;
}

struct inode *dir_symlink(struct inode *dir, const char *name,
			  const char *target, int *err)
{
	struct inode *ino = inode_new(dir->sb, S_IFLNK | 0777);

	if (!ino || !(ino->lnk.target = strdup(target)) ||
	    dir_link(dir, name, strlen(name), ino) < 0) {
		if (ino)
			inode_maybe_free(ino);
		*err = -ENOMEM;
		return NULL;
	}
	ino->size = strlen(target);
	return ino;
}

/* ---- regular files ---- */

void reg_set_ro(struct inode *ino, const void *data, uint64_t len)
{
	reg_free_pages(ino, 0);
	ino->reg.ro = data;
	ino->reg.ro_len = len;
	ino->size = len;
}

ssize_t reg_read(struct inode *ino, void *buf, size_t n, uint64_t off,
		 bool user)
{
	size_t done = 0;

	if (off >= ino->size)
		return 0;
	n = MIN(n, ino->size - off);
	while (done < n) {
		uint64_t o = off + done;
		uint64_t idx = o / PAGE_SIZE;
		size_t chunk = MIN(n - done, PAGE_SIZE - o % PAGE_SIZE);
		int err;

		if (idx < ino->reg.npages && ino->reg.pages[idx]) {
			err = fs_copy_out((char *)buf + done,
					  ino->reg.pages[idx] + o % PAGE_SIZE,
					  chunk, user);
		} else if (o < ino->reg.ro_len) {
			chunk = MIN(chunk, ino->reg.ro_len - o);
			err = fs_copy_out((char *)buf + done, ino->reg.ro + o,
					  chunk, user);
		} else {
			err = fs_zero_out((char *)buf + done, chunk, user);
		}
		if (err)
			return done ? (ssize_t)done : err;
		done += chunk;
	}
	return (ssize_t)done;
}

/* Makes room for page index idx in the page array. */
static int reg_grow(struct inode *ino, uint64_t idx)
{
	size_t want, i;
	uint8_t **pages;

	if (idx < ino->reg.npages)
		return 0;
	want = MAX((size_t)idx + 1, ino->reg.npages * 2);
	want = MAX(want, 4);
	pages = krealloc(ino->reg.pages, want * sizeof(*pages));
	if (!pages)
		return -ENOSPC;
	for (i = ino->reg.npages; i < want; i++)
		pages[i] = NULL;
	ino->reg.pages = pages;
	ino->reg.npages = want;
	return 0;
}

/* Bytes past the end of the file read as zeros, but a shared mapping
 * may have stored into the rest of the last page: clear it before the
 * file grows over it (Linux does not make such stores part of the
 * file either). */
static void reg_zero_tail(struct inode *ino)
{
	uint64_t idx = ino->size / PAGE_SIZE;

	if (ino->size % PAGE_SIZE && idx < ino->reg.npages &&
	    ino->reg.pages[idx])
		memset(ino->reg.pages[idx] + ino->size % PAGE_SIZE, 0,
		       PAGE_SIZE - ino->size % PAGE_SIZE);
}

/* The writable page idx, copying its initrd bytes in on first use. */
static uint8_t *reg_page(struct inode *ino, uint64_t idx)
{
	uint8_t *pg;
	uint64_t start = idx * PAGE_SIZE;

	if (reg_grow(ino, idx) < 0)
		return NULL;
	if (ino->reg.pages[idx])
		return ino->reg.pages[idx];
	pg = page_alloc();
	if (!pg)
		return NULL;
	if (start < ino->reg.ro_len)
		memcpy(pg, ino->reg.ro + start,
		       MIN(PAGE_SIZE, ino->reg.ro_len - start));
	ino->reg.pages[idx] = pg;
	return pg;
}

uint8_t *reg_page_get(struct inode *ino, uint64_t idx)
{
	return reg_page(ino, idx);
}

ssize_t reg_write(struct inode *ino, const void *buf, size_t n, uint64_t off,
		  bool user)
{
	size_t done = 0;
	ssize_t ret = 0;

	if (off >= FS_MAX_FILE_SIZE)
		return n ? -EFBIG : 0;
	n = MIN(n, FS_MAX_FILE_SIZE - off);
	if (off + n > ino->size)
		reg_zero_tail(ino);
	while (done < n) {
		uint64_t o = off + done;
		size_t chunk = MIN(n - done, PAGE_SIZE - o % PAGE_SIZE);
		uint8_t *pg = reg_page(ino, o / PAGE_SIZE);
		int err;

		if (!pg) {
			ret = -ENOSPC;
			break;
		}
		err = fs_copy_in(pg + o % PAGE_SIZE, (const char *)buf + done,
				 chunk, user);
		if (err) {
			/* the page may now hold part of the chunk past the
			 * old size; keep the zero-tail invariant */
			if (o + chunk > ino->size) {
				uint64_t from = MAX(o, ino->size);
				memset(pg + from % PAGE_SIZE, 0,
				       o + chunk - from);
			}
			ret = err;
			break;
		}
		done += chunk;
	}
	if (done) {
		if (off + done > ino->size)
			ino->size = off + done;
		fs_time_now(&ino->mtime);
		ino->ctime = ino->mtime;
		return (ssize_t)done;
	}
	return ret;
}

int reg_truncate(struct inode *ino, uint64_t size)
{
	if (size > FS_MAX_FILE_SIZE)
		return -EFBIG;
	if (size < ino->size) {
		uint64_t keep = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
		uint64_t idx = size / PAGE_SIZE;

		reg_free_pages(ino,
			       keep < ino->reg.npages ? keep : ino->reg.npages);
		if (size % PAGE_SIZE && idx < ino->reg.npages &&
		    ino->reg.pages[idx])
			memset(ino->reg.pages[idx] + size % PAGE_SIZE, 0,
			       PAGE_SIZE - size % PAGE_SIZE);
		if (ino->reg.ro_len > size)
			ino->reg.ro_len = size;
	} else if (size > ino->size) {
		reg_zero_tail(ino);
	}
	ino->size = size;
	fs_time_now(&ino->mtime);
	ino->ctime = ino->mtime;
	return 0;
}

static ssize_t reg_file_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			     bool user)
{
	ssize_t r = reg_read(f->inode, buf, n, *pos, user);

	if (r > 0)
		*pos += (uint64_t)r;
	return r;
}

static ssize_t reg_file_write(struct file *f, const void *buf, size_t n,
			      uint64_t *pos, bool user)
{
	ssize_t r;

	if (f->flags & O_APPEND)
		*pos = f->inode->size;
	r = reg_write(f->inode, buf, n, *pos, user);
	if (r > 0)
		*pos += (uint64_t)r;
	return r;
}

#ifndef SEEK_SET
#define SEEK_SET  0
#define SEEK_CUR  1
#define SEEK_END  2
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

static off_t reg_file_lseek(struct file *f, off_t off, int whence)
{
	int64_t base, res;
	int64_t size = (int64_t)f->inode->size;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		base = size;
		break;
	case SEEK_DATA:
		/* everything below size counts as data (holes read zero) */
		if (off < 0 || off >= size)
			return -ENXIO;
		f->pos = (uint64_t)off;
		return off;
	case SEEK_HOLE:
		if (off < 0 || off >= size)
			return -ENXIO;
		f->pos = (uint64_t)size;
		return size;
	default:
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, off, &res) || res < 0)
		return -EINVAL;
	f->pos = (uint64_t)res;
	return res;
}

#define FIONREAD_ 0x541b

static long reg_file_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	if (cmd == FIONREAD_) {
		int avail = 0;
		if (f->pos < f->inode->size)
			avail = (int)MIN(f->inode->size - f->pos,
					 (uint64_t)0x7fffffff);
		return copy_to_user((void *)arg, &avail, sizeof(avail));
	}
	return -ENOTTY;
}

static int reg_file_mmap(struct file *f)
{
	return 0;
}

static int file_fsync_ok(struct file *f)
{
	return 0;
}

const struct file_ops reg_fops = {
    .read = reg_file_read,
    .write = reg_file_write,
    .lseek = reg_file_lseek,
    .ioctl = reg_file_ioctl,
    .mmap = reg_file_mmap,
    .fsync = file_fsync_ok,
};

/* ---- directories as open files ---- */

static ssize_t dir_file_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			     bool user)
{
	return -EISDIR;
}

static ssize_t dir_file_write(struct file *f, const void *buf, size_t n,
			      uint64_t *pos, bool user)
{
	return -EISDIR;
}

static off_t dir_file_lseek(struct file *f, off_t off, int whence)
{
	int64_t res;

	switch (whence) {
	case SEEK_SET:
		res = off;
		break;
	case SEEK_CUR:
		if (__builtin_add_overflow((int64_t)f->pos, off, &res))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (res < 0)
		return -EINVAL;
	f->pos = (uint64_t)res;
	return res;
}

static void dir_file_iterate(struct file *f, struct dir_ctx *ctx)
{
	struct inode *dir = f->inode;

	if (ctx->pos == 0) {
		if (!ctx->emit(ctx, ".", 1, dir->ino, DT_DIR, 1))
			return;
	}
	if (ctx->pos == 1) {
		struct inode *up =
		    dir == fs_root || !dir->dir.parent ? dir : dir->dir.parent;
		if (!ctx->emit(ctx, "..", 2, up->ino, DT_DIR, 2))
			return;
	}
	dir_iterate(dir, ctx);
}

const struct file_ops dir_fops = {
    .read = dir_file_read,
    .write = dir_file_write,
    .lseek = dir_file_lseek,
    .iterate = dir_file_iterate,
    .fsync = file_fsync_ok,
};

/* O_PATH descriptors: the vfs answers EBADF before reaching any of these. */
const struct file_ops path_fops = {
    .read = NULL,
};
