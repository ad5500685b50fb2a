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
 * 0: a regular file, map its data with vfs_pread (private) or
 *    vfs_mmap_page (shared); *may_write tells whether a shared mapping
 *    may ever be made writable (the descriptor is open for writing);
 * 1: map as anonymous zero memory (/dev/zero);
 * -EACCES: not opened for reading, or PROT_WRITE with MAP_SHARED on a
 *          read-only descriptor; -ENODEV: cannot be mapped (console). */
int vfs_mmap_check(struct file *f, int prot, int map_flags, bool *may_write);

/* For MAP_SHARED: the file's own page holding byte offset off (page
 * aligned), created if needed, in *page; it stays the file's until
 * uvm_file_shrunk says otherwise.  0, -ENXIO past the last page of the
 * file, -ENOMEM, or -ENODEV (not a regular file). */
int vfs_mmap_page(struct file *f, uint64_t off, void **page);
/* What uvm_file_shrunk names a file by: its inode. */
const void *vfs_mmap_key(struct file *f);

/* For /proc/self/maps: the path f was opened with (" (deleted)" added
 * once it is removed) into buf, and its inode number and device. */
struct vfs_file_id {
	uint64_t ino;
	uint32_t dev_major, dev_minor;
};
void vfs_file_describe(struct file *f, char *buf, size_t n,
		       struct vfs_file_id *id);

/* The umask (umask(2) sets it). */
unsigned int vfs_get_umask(void);

/* Generated files under /proc and /sys: gen appends the content to g with
 * gen_printf/gen_append each time the file is opened (the reader sees
 * that snapshot).  path is absolute ("/proc/cpuinfo", "/sys/devices/...")
 * or relative to /proc; missing parents are created.  0 or -errno. */
struct gen_buf;
int procfs_add_file(const char *path, void (*gen)(struct gen_buf *g));
void gen_printf(struct gen_buf *g, const char *fmt, ...) __printf(2, 3);
void gen_append(struct gen_buf *g, const char *s, size_t n);
/* Adds a symlink in /proc or /sys (path as for procfs_add_file). */
int procfs_add_link(const char *path, const char *target);
/* kernel/sys/info.c: registers /proc/cpuinfo, /proc/meminfo,
 * /proc/self/maps and the other generated files; called by procfs_init. */
int procfs_system_files(void);

/* References.  fd_get returns the descriptor's file with a new reference,
 * or NULL for a bad descriptor. */
void file_get(struct file *f);
void file_put(struct file *f);
struct file *fd_get(int fd);

/* Kernel-side chdir (the program's initial working directory); 0 or
 * -errno (ENOENT, ENOTDIR). */
int vfs_chdir(const char *path);

/* Closes every descriptor of the program (its exit). */
void fs_close_all(void);

/* Opens /dev/console as descriptors 0, 1 and 2. */
int fs_open_console(void);

#endif
