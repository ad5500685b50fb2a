/*
 * Unpacks a cpio "newc" archive (magic 070701, or 070702 whose checksums
 * we do not verify) into ramfs.  Each entry is a 110-byte ASCII header,
 * the name (namesize bytes with its NUL) padded to 4, then the data padded
 * to 4; "TRAILER!!!" ends an archive, and as in Linux's initramfs another
 * archive may follow after zero padding.  The archive is untrusted input:
 * every size is checked against the bytes that remain before it is used,
 * and anything malformed stops the unpacking with -EINVAL and one klog
 * line that says what and where.  Regular files keep pointing into the
 * archive (zero copy).  Entries with nlink > 1 and the same inode number
 * become real hard links; device nodes, FIFOs and sockets are skipped
 * (/dev is ours).  Names may be relative, "./x" or "/x"; missing parent
 * directories are created, and parents that are symlinks are followed, so
 * "lib -> usr/lib" then "lib/x" lands in /usr/lib/x as on Linux.
 */
#include "vfs.h"

#include "mm.h"

#define CPIO_HDR_SIZE 110
#define CPIO_TRAILER  "TRAILER!!!"

struct cpio_hdr {
	uint32_t ino, mode, uid, gid, nlink, mtime, filesize;
	uint32_t devmajor, devminor, rdevmajor, rdevminor, namesize, check;
};

/* An inode seen with nlink > 1, for later names of the same file. */
struct cpio_hardlink {
	struct cpio_hardlink *next;
	uint32_t ino, devmajor, devminor;
	struct inode *inode;
};

static int cpio_hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int cpio_parse_hdr(const uint8_t *p, struct cpio_hdr *h)
{
	uint32_t *fields[] = {&h->ino,	     &h->mode,	    &h->uid,
			      &h->gid,	     &h->nlink,	    &h->mtime,
			      &h->filesize,  &h->devmajor,  &h->devminor,
			      &h->rdevmajor, &h->rdevminor, &h->namesize,
			      &h->check};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (cpio_hex8(p + 6 + 8 * i, fields[i]) < 0)
			return -1;
	return 0;
}

static bool memchr_nul(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!p[i])
			return true;
	return false;
}

static void cpio_set_attrs(struct inode *ino, const struct cpio_hdr *h)
{
	ino->mode = (ino->mode & S_IFMT) | (h->mode & 07777);
	ino->uid = h->uid;
	ino->gid = h->gid;
	ino->mtime.sec = h->mtime;
	ino->mtime.nsec = 0;
	ino->atime = ino->mtime;
}

/* Removes an existing entry the archive is replacing. */
static int cpio_replace(struct inode *dir, struct dentry *d, const char *name)
{
	if (S_ISDIR(d->inode->mode) && !dir_is_empty(d->inode)) {
		klog("cpio: '%s' replaces a directory that is not empty", name);
		return -EINVAL;
	}
	dir_remove_entry(dir, d);
	return 0;
}

/* Finds the directory holding the last component of name, creating
 * missing ones; *last and *lastlen get that component. */
static int cpio_parent(struct inode *root, const char *name, struct inode **out,
		       const char **last, size_t *lastlen)
{
	struct inode *cur = root;
	const char *p = name;

	for (;;) {
		const char *c;
		size_t len;
		struct inode *child;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		while (*p == '/')
			p++;
		if (len > MAX_NAME) {
			klog("cpio: '%s': a component is longer than %d bytes",
			     name, MAX_NAME);
			return -EINVAL;
		}
		if (!*p) {
			*out = cur;
			*last = c;
			*lastlen = len;
			return 0;
		}
		if (len == 1 && c[0] == '.')
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (cur != root && cur->dir.parent)
				cur = cur->dir.parent;
			continue;
		}
		child = dir_find(cur, c, len);
		if (!child) {
			child = inode_new(cur->sb, S_IFDIR | 0755);
			if (!child)
				return -ENOMEM;
			if (dir_link(cur, c, len, child) < 0) {
				child->nlink = 0;
				inode_maybe_free(child);
				return -ENOMEM;
			}
		} else if (S_ISLNK(child->mode)) {
			struct walk w = {.flags = WALK_FOLLOW | WALK_DIRECTORY};
			const char *t = inode_link_target(child);
			if (!t || vfs_walk(cur, t, &w) < 0) {
				klog("cpio: '%s': parent is a symlink to '%s', "
				     "not to a directory",
				     name, t ? t : "");
				return -EINVAL;
			}
			child = w.inode;
		}
		if (!S_ISDIR(child->mode)) {
			klog("cpio: '%s': a parent is not a directory", name);
			return -EINVAL;
		}
		cur = child;
	}
}

static int cpio_entry(struct inode *root, const struct cpio_hdr *h,
		      const char *name, const uint8_t *data,
		      struct cpio_hardlink **links)
{
	uint32_t type = h->mode & S_IFMT;
	struct inode *dir, *ino;
	struct dentry *d;
	const char *last;
	size_t len;
	int err;

	if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK) {
		kdebug("cpio: skipping '%s' (mode 0x%x): not a file, directory "
		       "or symlink",
		       name, h->mode);
		return 0;
	}
	err = cpio_parent(root, name, &dir, &last, &len);
	if (err)
		return err;
	if (len == 0 || (len == 1 && last[0] == '.')) {
		/* the archive's root directory */
		if (type != S_IFDIR) {
			klog("cpio: '%s' names the root but is not a directory",
			     name);
			return -EINVAL;
		}
		if (dir == root)
			cpio_set_attrs(root, h);
		return 0;
	}
	if (len == 2 && last[0] == '.' && last[1] == '.') {
		klog("cpio: '%s': cannot create '..'", name);
		return -EINVAL;
	}
	d = dir_entry(dir, last, len);
	if (d && type == S_IFDIR && S_ISDIR(d->inode->mode)) {
		cpio_set_attrs(d->inode, h);
		return 0;
	}
	if (d && (err = cpio_replace(dir, d, name)) < 0)
		return err;

	if (type == S_IFREG && h->nlink > 1) {
		for (struct cpio_hardlink *l = *links; l; l = l->next) {
			if (l->ino != h->ino || l->devmajor != h->devmajor ||
			    l->devminor != h->devminor)
				continue;
			if (dir_link(dir, last, len, l->inode) < 0)
				return -ENOMEM;
			/* newc stores the data with one of the names */
			if (h->filesize)
				reg_set_ro(l->inode, data, h->filesize);
			return 0;
		}
	}

	ino = inode_new(dir->sb, type);
	if (!ino)
		return -ENOMEM;
	if (type == S_IFREG) {
		reg_set_ro(ino, data, h->filesize);
	} else if (type == S_IFLNK) {
		if (h->filesize == 0 || h->filesize >= MAX_PATH ||
		    memchr_nul(data, h->filesize)) {
			klog("cpio: symlink '%s' has a bad target (%u bytes)",
			     name, h->filesize);
			inode_maybe_free(ino);
			return -EINVAL;
		}
		ino->lnk.target = kmalloc(h->filesize + 1);
		if (!ino->lnk.target) {
			inode_maybe_free(ino);
			return -ENOMEM;
		}
		memcpy(ino->lnk.target, data, h->filesize);
		ino->lnk.target[h->filesize] = '\0';
		ino->size = h->filesize;
	}
	cpio_set_attrs(ino, h);
	if (dir_link(dir, last, len, ino) < 0) {
		if (S_ISDIR(ino->mode))
			ino->nlink = 0;
		inode_maybe_free(ino);
		return -ENOMEM;
	}
	if (type == S_IFREG && h->nlink > 1) {
		struct cpio_hardlink *l = kmalloc(sizeof(*l));
		if (!l)
			return -ENOMEM;
		l->ino = h->ino;
		l->devmajor = h->devmajor;
		l->devminor = h->devminor;
		l->inode = ino;
		l->next = *links;
		*links = l;
	}
	return 0;
}

int cpio_unpack(struct inode *root, const void *data, size_t len)
{
	const uint8_t *base = data;
	struct cpio_hardlink *links = NULL;
	size_t off = 0;
	int err = 0;

	for (;;) {
		struct cpio_hdr h;
		size_t name_off, data_off, next;
		const char *name;

		if (len - off < CPIO_HDR_SIZE) {
			klog("cpio: truncated header at offset %zu of %zu "
			     "(no trailer)",
			     off, len);
			err = -EINVAL;
			break;
		}
		if (memcmp(base + off, "07070", 5) != 0 ||
		    (base[off + 5] != '1' && base[off + 5] != '2')) {
			klog("cpio: bad magic at offset %zu (want 070701)",
			     off);
			err = -EINVAL;
			break;
		}
		if (cpio_parse_hdr(base + off, &h) < 0) {
			klog("cpio: header at offset %zu has a non-hex field",
			     off);
			err = -EINVAL;
			break;
		}
		name_off = off + CPIO_HDR_SIZE;
		if (h.namesize == 0 || h.namesize > len - name_off) {
			klog("cpio: name size %u at offset %zu runs past the "
			     "end of the archive (%zu bytes)",
			     h.namesize, off, len);
			err = -EINVAL;
			break;
		}
		if (h.namesize > MAX_PATH) {
			klog("cpio: name size %u at offset %zu is longer than "
			     "a path may be (%d bytes)",
			     h.namesize, off, (int)MAX_PATH);
			err = -EINVAL;
			break;
		}
		name = (const char *)base + name_off;
		if (strnlen(name, h.namesize) != h.namesize - 1) {
			klog("cpio: name at offset %zu is not a NUL-terminated "
			     "string of %u bytes",
			     off, h.namesize);
			err = -EINVAL;
			break;
		}
		data_off = ALIGN_UP(name_off + h.namesize, 4);
		if (h.filesize == 0) {
			/* the last padding may be missing */
			data_off = MIN(data_off, len);
		} else if (data_off > len || h.filesize > len - data_off) {
			klog("cpio: '%s' at offset %zu: file size %u runs past "
			     "the end of the archive (%zu bytes)",
			     name, off, h.filesize, len);
			err = -EINVAL;
			break;
		}
		next = MIN(ALIGN_UP(data_off + h.filesize, 4), len);
		if (strcmp(name, CPIO_TRAILER) == 0) {
			/* zero padding, then maybe another archive */
			off = next;
			while (off < len && base[off] == 0)
				off++;
			if (off == len)
				break;
			continue;
		}
		err = cpio_entry(root, &h, name, base + data_off, &links);
		if (err)
			break;
		off = next;
	}
	while (links) {
		struct cpio_hardlink *l = links;
		links = l->next;
		kfree(l);
	}
	return err;
}
