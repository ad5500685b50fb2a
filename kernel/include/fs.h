/*
 * The filesystem as the rest of the kernel sees it (implemented in fs/).
 * One process, so the descriptor table and the working directory are
 * global; threads (later) share them as CLONE_FILES|CLONE_FS would.
 *
 * The rootfs is a cpio "newc" archive unpacked at boot into an in-memory
 * filesystem, writable, lost at exit.  File data initially points into the
 * archive itself (no copy) and is copied on first write.
 */
#ifndef FS_H
#define FS_H

#include "kernel.h"

struct file;

/* Unpacks the archive (which must stay in memory for the kernel's
 * lifetime) into the root filesystem and creates /dev, /proc, /tmp.
 * Returns 0 or -EINVAL with a klog line naming the problem. */
int fs_init(const void *cpio, size_t len);

/* Kernel-side open, like openat(AT_FDCWD, path, flags, mode): relative to
 * the working directory, following symlinks.  On success *out holds one
 * reference the caller drops with file_put. */
int vfs_open(const char *path, int flags, int mode, struct file **out);
/* Reads up to n bytes at off into a kernel buffer; bytes read or -errno. */
ssize_t vfs_pread(struct file *f, void *kbuf, size_t n, uint64_t off);
/* Creates or replaces a regular file with these bytes (for generated
 * files such as /etc/hostname); 0 or -errno.  Parents must exist. */
int vfs_write_file(const char *path, const void *data, size_t n, int mode);

/* What mmap needs to know about a descriptor it is asked to map:
 * 0: a regular file, map its data with vfs_pread;
 * 1: map as anonymous zero memory (/dev/zero);
 * -EACCES: not opened for reading, or PROT_WRITE with MAP_SHARED on a
 *          read-only descriptor; -ENODEV: cannot be mapped (console). */
int vfs_mmap_check(struct file *f, int prot, int map_flags);

/* References.  fd_get returns the descriptor's file with a new reference,
 * or NULL for a bad descriptor. */
void file_get(struct file *f);
void file_put(struct file *f);
struct file *fd_get(int fd);

/* Kernel-side chdir (the program's initial working directory); 0 or
 * -errno (ENOENT, ENOTDIR). */
int vfs_chdir(const char *path);

/* Opens /dev/console as descriptors 0, 1 and 2. */
int fs_open_console(void);

#endif
