/*
 * The filesystem's inside, shared by the files of kernel/fs and the
 * syscall shims in kernel/sys/fs_* (and, later, pipes and sockets, which
 * are files without an inode).  fs.h is what the rest of the kernel needs; this
 * header is for code that creates files or walks paths itself.
 *
 * Objects: an inode is a file's identity and content (ramfs.c); a dentry is
 * one name in a directory; a file is one open description (offset, flags,
 * ops) shared by every descriptor dup'ed from it (fd.c).  There is one tree,
 * no mounts: /dev and /proc are directories whose inodes carry their own
 * ops.  One global lock-free world: the kernel runs one program and calls
 * in here from one CPU at a time (a big lock is enough when threads come).
 */
#ifndef KILN_FS_VFS_H
#define KILN_FS_VFS_H

#include "kernel.h"
#include "fs.h"

#include <linux/fcntl.h>
#include <linux/stat.h>

/* d_type values of getdents64 (dirent.h is libc's, not uapi). */
#define DT_UNKNOWN 0
#define DT_FIFO	   1
#define DT_CHR	   2
#define DT_DIR	   4
#define DT_BLK	   6
#define DT_REG	   8
#define DT_LNK	   10
#define DT_SOCK	   12

/* Largest regular file (bytes); writes beyond it fail with EFBIG. */
#define FS_MAX_FILE_SIZE (1ULL << 40)
/* Largest single read or write, as Linux's MAX_RW_COUNT. */
#define FS_MAX_RW 0x7ffff000UL

struct inode;
struct file;
struct dir_ctx;

/* Times as the program sees them: seconds and nanoseconds since 1970. */
struct fs_time {
	int64_t sec;
	int64_t nsec;
};

/* What stat reports for every inode of one "filesystem" (no mounts, but
 * /proc says it is procfs, the rest says tmpfs). */
struct fs_super {
	uint64_t magic;	    /* statfs f_type */
	uint32_t dev_major; /* st_dev */
	uint32_t dev_minor;
};
extern const struct fs_super ramfs_super;
extern const struct fs_super procfs_super;
extern const struct fs_super sysfs_super;

/* The kernel's view of stat; converted to struct stat or statx. */
struct kstat {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	uint64_t nlink;
	uint32_t mode, uid, gid;
	uint32_t rdev_major, rdev_minor;
	int64_t size;
	int64_t blksize;
	int64_t blocks;
	struct fs_time atime, mtime, ctime, btime;
};

/* Optional per-inode behaviour for generated directories and links
 * (procfs); plain ramfs inodes have none. */
struct inode_ops {
	/* Directory: finds a name (len bytes, not NUL-terminated); NULL if
	 * none.  The inode must stay valid until the next call. */
	struct inode *(*lookup)(struct inode *dir, const char *name,
				size_t len);
	/* Directory: emits entries from ctx->pos (>= 2) on, see dir_emit. */
	void (*iterate)(struct inode *dir, struct dir_ctx *ctx);
	/* Symlink: the target, a string that stays valid during the lookup;
	 * NULL means the target does not exist now (ENOENT). */
	const char *(*get_link)(struct inode *lnk);
	/* Magic link (/proc/self/fd/N): resolves straight to an inode; *via
	 * gets the path to report for a file opened through it.  NULL and
	 * *err on failure. */
	struct inode *(*follow)(struct inode *lnk, const char **via, int *err);
	/* Magic link: readlink text into buf (n bytes); length or -errno. */
	int (*readlink)(struct inode *lnk, char *buf, size_t n);
};

/* What a file does.  A NULL entry means the operation is not supported
 * and gets the errno Linux gives for it (noted per entry). */
struct file_ops {
	/* Open hook for inode-backed files, after the file is built. */
	int (*open)(struct file *f);
	/* Reads at *pos and advances it; buf is the program's memory when
	 * user is true (use fs_copy_out).  Bytes, 0 at end, or -errno.
	 * NULL: EINVAL. */
	ssize_t (*read)(struct file *f, void *buf, size_t n, uint64_t *pos,
			bool user);
	ssize_t (*write)(struct file *f, const void *buf, size_t n,
			 uint64_t *pos, bool user);
	/* New offset or -errno.  NULL: not seekable, so lseek, pread and
	 * pwrite give ESPIPE. */
	off_t (*lseek)(struct file *f, off_t off, int whence);
	/* Directory listing from ctx->pos; NULL: ENOTDIR. */
	void (*iterate)(struct file *f, struct dir_ctx *ctx);
	/* Device ioctl after the generic ones (FIONBIO, FIOCLEX...);
	 * NULL: ENOTTY. */
	long (*ioctl)(struct file *f, unsigned int cmd, unsigned long arg);
	/* Attributes of files without an inode (pipes, sockets). */
	int (*getattr)(struct file *f, struct kstat *st);
	/* Ready mask (POLLIN, POLLOUT...) for poll/epoll; NULL means
	 * always readable and writable, as for regular files (and EPERM
	 * from epoll_ctl).  A file with a poll op calls file_notify when
	 * its readiness can rise and file_watch_release from its release
	 * op (wait.h). */
	unsigned int (*poll)(struct file *f);
	/* See vfs_mmap_check: 0 map by copying, 1 anonymous zeroes;
	 * NULL: ENODEV. */
	int (*mmap)(struct file *f);
	/* fsync/fdatasync; NULL: EINVAL. */
	int (*fsync)(struct file *f);
	/* Last reference dropped. */
	void (*release)(struct file *f);
};

struct dentry {
	struct dentry *next;
	struct inode *inode;
	uint64_t pos; /* getdents cookie, increasing in list order */
	uint16_t namelen;
	char name[]; /* NUL-terminated */
};

/* inode flags */
#define INODE_FIXED 1u /* entries cannot be added or removed (procfs) */

struct inode {
	uint64_t ino;
	uint32_t mode;	/* S_IFMT type and permission bits */
	uint32_t nlink; /* names (dirs: 2 + subdirectories) */
	uint32_t uid, gid;
	uint32_t rdev_major, rdev_minor;
	uint32_t flags; /* INODE_* */
	int refs;	/* open files, cwd; freed at refs == nlink == 0 */
	struct file_lock *locks; /* fcntl and flock locks (lock.c) */
	uint64_t size;
	struct fs_time atime, mtime, ctime, btime;
	const struct fs_super *sb;
	const struct inode_ops *iops; /* NULL for plain ramfs */
	const struct file_ops *fops;  /* what open gives */
	void *priv;		      /* for iops/fops */
	union {
		struct {
			struct dentry *head, *tail;
			/* NULL once removed, unless the removed directory
			 * was still in use: then it keeps a reference to
			 * its old parent so ".." works, as on Linux */
			struct inode *parent;
			bool parent_held;
			uint64_t next_pos;
			size_t count;
		} dir;
		struct {
			/* Bytes [0, ro_len) not in pages[] come from ro
			 * (the initrd, never written); the rest are zero.
			 * Invariant: ro_len <= size, and bytes of pages at
			 * or past size are zero. */
			const uint8_t *ro;
			uint64_t ro_len;
			uint8_t **pages;
			size_t npages; /* slots in pages[] */
		} reg;
		struct {
			char *target; /* kmalloc'd, NUL-terminated */
		} lnk;
	};
};

struct file {
	int refs;
	unsigned int flags; /* access mode and status flags, as F_GETFL */
	uint64_t pos;
	struct inode *inode; /* holds a reference; NULL for pipes, sockets */
	const struct file_ops *ops;
	char *path; /* kmalloc'd; what /proc/self/fd shows */
	void *priv; /* for ops */
	/* epoll items watching this file (wait.h: file_notify) */
	struct file_watch *watchers;
};

/* A directory listing in progress.  emit returns false when the caller's
 * buffer is full; then the iteration stops and ctx->pos stays at that
 * entry.  next is the cookie of the entry after this one. */
struct dir_ctx {
	uint64_t pos;
	bool (*emit)(struct dir_ctx *ctx, const char *name, size_t len,
		     uint64_t ino, unsigned int type, uint64_t next);
};

/* ---- ramfs.c: inodes and their contents ---- */

extern struct inode *fs_root;

void fs_time_now(struct fs_time *t);
/* A new inode of this type and mode, nlink 0 (1 for directories, their
 * "."), refs 0, times now.  NULL when out of memory. */
struct inode *inode_new(const struct fs_super *sb, uint32_t mode);
void inode_get(struct inode *ino);
void inode_put(struct inode *ino);
/* Frees the inode if nothing refers to it any more. */
void inode_maybe_free(struct inode *ino);
void inode_stat(struct inode *ino, struct kstat *st);
unsigned int inode_dtype(const struct inode *ino);
/* Target of a symlink (NULL if generated and absent). */
const char *inode_link_target(struct inode *ino);

struct inode *dir_find(struct inode *dir, const char *name, size_t len);
struct dentry *dir_entry(struct inode *dir, const char *name, size_t len);
/* Adds name -> child; child->nlink++ (and for a directory, its parent
 * link).  0 or -ENOMEM. */
int dir_link(struct inode *dir, const char *name, size_t len,
	     struct inode *child);
/* Removes one entry; child->nlink-- (and the parent link); the caller
 * frees the child with inode_maybe_free when done with it. */
void dir_unlink(struct inode *dir, struct dentry *d);
/* Removes an entry for good (unlink, rmdir, replaced by rename or the
 * archive) and frees the child if nothing else uses it. */
void dir_remove_entry(struct inode *dir, struct dentry *d);
struct dentry *dentry_alloc(const char *name, size_t len);
void dir_insert(struct inode *dir, struct dentry *d, struct inode *child);
bool dir_is_empty(struct inode *dir);
void dir_iterate(struct inode *dir, struct dir_ctx *ctx);
/* Creates (or finds, for directories) name in dir; helpers for boot-time
 * population (cpio, /dev, /proc).  NULL with *err set on failure. */
struct inode *dir_mkdir(struct inode *dir, const char *name, uint32_t mode,
			int *err);
struct inode *dir_symlink(struct inode *dir, const char *name,
			  const char *target, int *err);

ssize_t reg_read(struct inode *ino, void *buf, size_t n, uint64_t off,
		 bool user);
ssize_t reg_write(struct inode *ino, const void *buf, size_t n, uint64_t off,
		  bool user);
int reg_truncate(struct inode *ino, uint64_t size);
/* The file's own page idx (initrd bytes copied in on first use), for
 * shared mappings; NULL when out of memory. */
uint8_t *reg_page_get(struct inode *ino, uint64_t idx);
/* Makes the file's content these read-only bytes (no copy). */
void reg_set_ro(struct inode *ino, const void *data, uint64_t len);

extern const struct file_ops reg_fops;
extern const struct file_ops dir_fops;
extern const struct file_ops path_fops;

/* getattr of an anonymous inode (eventfd, epoll, timerfd, signalfd), as
 * Linux's: mode 0600 without a file type. */
int fs_anon_getattr(struct file *f, struct kstat *st);

/* Copy to or from user or kernel memory; 0 or -EFAULT. */
int fs_copy_out(void *dst, const void *src, size_t n, bool user);
int fs_copy_in(void *dst, const void *src, size_t n, bool user);
int fs_zero_out(void *dst, size_t n, bool user);

/* ---- vfs.c: lookup, open, I/O ---- */

enum walk_last { LAST_NORM, LAST_DOT, LAST_DOTDOT, LAST_ROOT };
#define WALK_PARENT    1 /* stop before the last component */
#define WALK_FOLLOW    2 /* follow a final symlink */
#define WALK_DIRECTORY 4 /* the result must be a directory */

struct walk {
	int flags;	      /* in: WALK_* */
	int links;	      /* in/out: symlinks followed so far */
	struct inode *parent; /* directory of the last component */
	const char *name;     /* last component, namelen bytes */
	size_t namelen;
	enum walk_last last;
	bool slash;	     /* a '/' follows the last component */
	const char *via;     /* path of a file reached through a magic link */
	struct inode *inode; /* result (not with WALK_PARENT) */
};

extern struct inode *fs_cwd;

/* Resolves path (kernel string) from base; 0 or -errno.  Without
 * WALK_PARENT, w->inode is the result. */
int vfs_walk(struct inode *base, const char *path, struct walk *w);
/* The directory a relative path starts at: the cwd for AT_FDCWD, else
 * the directory open at dirfd (absolute paths ignore dirfd). */
int vfs_base(int dirfd, const char *path, struct inode **base);
/* Walks path relative to dirfd; AT_EMPTY_PATH with "" gives dirfd's
 * inode; AT_SYMLINK_NOFOLLOW leaves a final symlink alone. */
int vfs_lookup_at(int dirfd, const char *path, int at_flags,
		  struct inode **out);

/* Absolute path of a directory into buf; length, -ENOENT if it was
 * removed, -ENAMETOOLONG if buf is too small. */
int vfs_dir_path(struct inode *dir, char *buf, size_t n);

int vfs_openat(int dirfd, const char *path, int flags, int mode,
	       struct file **out);
/* A new file (one reference) for ops without an inode: pipes, sockets. */
struct file *file_alloc(const struct file_ops *ops, unsigned int flags,
			struct inode *ino);

/* The checks every positional read or write makes (pread, pwrite, preadv,
 * pwritev): 0, -EINVAL for a negative offset, -EBADF for an O_PATH
 * descriptor, -ESPIPE for a file without a position (pipe, console). */
int vfs_check_positional(struct file *f, int64_t off);

ssize_t vfs_read(struct file *f, void *buf, size_t n, bool user);
ssize_t vfs_write(struct file *f, const void *buf, size_t n, bool user);
ssize_t vfs_pread_at(struct file *f, void *buf, size_t n, int64_t off,
		     bool user);
ssize_t vfs_pwrite_at(struct file *f, const void *buf, size_t n, int64_t off,
		      bool user);
off_t vfs_lseek(struct file *f, off_t off, int whence);
int vfs_fstat(struct file *f, struct kstat *st);
int vfs_ftruncate(struct file *f, int64_t len);
bool file_readable(const struct file *f);
bool file_writable(const struct file *f);

/* ---- names.c: operations on names ---- */

int vfs_stat_at(int dirfd, const char *path, int at_flags, struct kstat *st);
int vfs_access_at(int dirfd, const char *path, int mode, int at_flags);
ssize_t vfs_readlink_at(int dirfd, const char *path, char *buf, size_t n);
int vfs_mkdir_at(int dirfd, const char *path, int mode);
int vfs_mknod_at(int dirfd, const char *path, int mode, unsigned int dev);
/* bind of an AF_UNIX socket to a path: a new socket inode (mode masked
 * by the umask) there, returned in *out with a reference the socket
 * drops with inode_put.  0, -EEXIST, or the walk's -errno. */
int vfs_mksock(const char *path, int mode, struct inode **out);
int vfs_unlink_at(int dirfd, const char *path, int at_flags);
int vfs_rename_at(int odirfd, const char *oldp, int ndirfd, const char *newp,
		  unsigned int flags);
int vfs_link_at(int odirfd, const char *oldp, int ndirfd, const char *newp,
		int at_flags);
int vfs_symlink_at(const char *target, int dirfd, const char *path);
int vfs_truncate(const char *path, int64_t len);
int vfs_chdir(const char *path);
int vfs_fchdir(struct file *f);
/* The working directory into buf; length (without NUL) or -errno. */
int vfs_getcwd(char *buf, size_t n);
int vfs_chmod_inode(struct inode *ino, int mode);
int vfs_chown_inode(struct inode *ino, uint32_t uid, uint32_t gid);
/* times[0] access, times[1] modification; nsec may be UTIME_NOW or
 * UTIME_OMIT; times NULL means both now. */
int vfs_utimens_inode(struct inode *ino, const struct fs_time *times);
unsigned int vfs_umask(unsigned int mask);
unsigned int vfs_get_umask(void);

/* ---- fd.c: the descriptor table ---- */

/* Installs f at the lowest free descriptor >= min; takes over the
 * caller's reference.  The descriptor or -EMFILE (-EINVAL for a bad
 * min). */
int fd_install(struct file *f, int min, bool cloexec);
/* Installs f at exactly fd, closing what was there (dup2); takes over
 * the reference.  fd or -EBADF. */
int fd_install_at(int fd, struct file *f, bool cloexec);
int fd_close(int fd);
/* Closes [lo, hi] or, with cloexec_only, marks them close-on-exec. */
void fd_close_range(unsigned int lo, unsigned int hi, bool cloexec_only);
int fd_get_cloexec(int fd); /* 0/1 or -EBADF */
int fd_set_cloexec(int fd, bool on);
/* Next open descriptor >= fd, or -1 (for /proc/self/fd). */
int fd_next_open(int fd);

/* ---- dev.c, proc.c, cpio.c ---- */

int dev_init(void);
int procfs_init(void);
/* The content of a generated file (procfs_add_file in fs.h) as it is
 * built; gen_append adds raw bytes. */
struct gen_buf {
	char *data;
	size_t len, cap;
	bool failed; /* out of memory */
};
void gen_append(struct gen_buf *g, const char *s, size_t n);

/* Unpacks a newc archive into root; 0, -EINVAL (malformed: a klog line
 * says where) or -ENOMEM. */
int cpio_unpack(struct inode *root, const void *data, size_t len);

/* ---- lock.c: fcntl record locks and flock ---- */

struct flock;
/* F_GETLK/F_SETLK/F_SETLKW and the F_OFD_ ones on f with the program's
 * struct flock (already copied in; F_GETLK's answer is written back into
 * it): 0, -EAGAIN (held by another owner), -EINVAL, -EBADF (a lock type
 * the descriptor's access mode does not allow), -EOVERFLOW, -ENOLCK, or
 * a wait's -EINTR. */
int lock_fcntl(struct file *f, unsigned int cmd, struct flock *fl);
/* flock: type F_RDLCK (LOCK_SH), F_WRLCK (LOCK_EX) or F_UNLCK; 0,
 * -EWOULDBLOCK when held and !wait, -ENOLCK, or a wait's -EINTR. */
int lock_flock(struct file *f, int type, bool wait);
/* A descriptor of f is being closed: the process's POSIX locks on the
 * file go (POSIX). */
void lock_fd_closed(struct file *f);
/* f's last reference is gone: its OFD and flock locks go. */
void lock_file_released(struct file *f);
/* The inode is freed: whatever lock is left goes with it. */
void lock_inode_free(struct inode *ino);

/* ---- kernel/sys/fs_util.c: helpers of the syscall shims ---- */

/* Copies a path from the program into *out (kmalloc'd, MAX_PATH bytes;
 * the caller kfrees it).  0, -EFAULT, -ENAMETOOLONG or -ENOMEM. */
int fs_user_path(const char *upath, char **out);

#endif
