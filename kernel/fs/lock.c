/*
 * File locks: fcntl's record locks (POSIX F_SETLK and open file
 * description F_OFD_SETLK) and flock, kept per inode with Linux's rules.
 *
 * A lock has an owner.  POSIX record locks belong to the process: there
 * is one, so they never conflict with each other, F_GETLK finds none of
 * them, and closing any descriptor of the file drops them all (the POSIX
 * rule SQLite works around).  OFD locks and flock locks belong to the
 * open file description (struct file): two open() calls of one file
 * conflict as two processes would on Linux, dup'ed descriptors share the
 * lock, and the lock goes when the description's last reference does
 * (close of the last descriptor, munmap of the last mapping).  Record
 * locks (POSIX and OFD) conflict with each other; flock locks only with
 * flock locks.
 *
 * A blocking request (F_SETLKW, F_OFD_SETLKW, flock without LOCK_NB)
 * waits until the conflicting lock goes.  With one thread nothing can
 * release it, so it waits for ever, as the same program would on Linux;
 * with threads another one can.
 */
#include "vfs.h"

#include "mm.h"
#include "wait.h"

/* The one process: owner of every POSIX record lock. */
static const char lock_process;
#define LOCK_PROCESS ((const void *)&lock_process)

#define LOCK_END_MAX UINT64_MAX /* "to the end of the file, and beyond" */

struct file_lock {
	struct file_lock *next;
	bool flock;	     /* a flock lock (else a record lock) */
	short type;	     /* F_RDLCK or F_WRLCK */
	const void *owner;   /* LOCK_PROCESS or the struct file */
	uint64_t start, end; /* bytes [start, end], end inclusive */
};

static bool lock_conflict(const struct file_lock *a, const struct file_lock *b)
{
	return a->flock == b->flock && a->owner != b->owner &&
	       (a->type == F_WRLCK || b->type == F_WRLCK) &&
	       a->start <= b->end && b->start <= a->end;
}

/* The first lock on ino that conflicts with want, or NULL. */
static struct file_lock *lock_find_conflict(struct inode *ino,
					    const struct file_lock *want)
{
	for (struct file_lock *l = ino->locks; l; l = l->next)
		if (lock_conflict(l, want))
			return l;
	return NULL;
}

struct lock_wait {
	struct inode *ino;
	const struct file_lock *want;
};

static bool lock_free(void *arg)
{
	const struct lock_wait *w = arg;
	return !lock_find_conflict(w->ino, w->want);
}

/* Takes [start, end] of owner's locks of this kind out of ino's list,
 * splitting a lock that covers more.  0 or -ENOLCK (no memory for the
 * split). */
static int lock_cut(struct inode *ino, bool flock, const void *owner,
		    uint64_t start, uint64_t end)
{
	struct file_lock **pp = &ino->locks;

	while (*pp) {
		struct file_lock *l = *pp;
		if (l->flock != flock || l->owner != owner || l->end < start ||
		    l->start > end) {
			pp = &l->next;
			continue;
		}
		if (l->start < start && l->end > end) {
			/* [l.start ... start-1] and [end+1 ... l.end] */
			struct file_lock *tail = kmalloc(sizeof(*tail));
			if (!tail)
				return -ENOLCK;
			*tail = *l;
			tail->start = end + 1;
			l->end = start - 1;
			tail->next = l->next;
			l->next = tail;
			return 0;
		}
		if (l->start < start) {
			l->end = start - 1;
			pp = &l->next;
		} else if (l->end > end) {
			l->start = end + 1;
			pp = &l->next;
		} else {
			*pp = l->next;
			kfree(l);
		}
	}
	return 0;
}

/* Adds want as owner's lock, merging it with owner's locks of the same
 * type that it overlaps or touches, as Linux does.  0 or -ENOLCK. */
static int lock_add(struct inode *ino, const struct file_lock *want)
{
	struct file_lock *n = kmalloc(sizeof(*n)), **pp = &ino->locks;

	if (!n)
		return -ENOLCK;
	*n = *want;
	while (*pp) {
		struct file_lock *l = *pp;
		bool touch =
		    l->start <=
			(n->end == LOCK_END_MAX ? n->end : n->end + 1) &&
		    n->start <= (l->end == LOCK_END_MAX ? l->end : l->end + 1);
		if (l->flock == n->flock && l->owner == n->owner &&
		    l->type == n->type && touch) {
			n->start = MIN(n->start, l->start);
			n->end = MAX(n->end, l->end);
			*pp = l->next;
			kfree(l);
			continue;
		}
		pp = &l->next;
	}
	n->next = ino->locks;
	ino->locks = n;
	return 0;
}

/* Sets (or with F_UNLCK, clears) want on ino, waiting if asked to. */
static int lock_set(struct inode *ino, const struct file_lock *want, bool wait)
{
	if (want->type != F_UNLCK) {
		struct lock_wait w = {ino, want};
		if (lock_find_conflict(ino, want)) {
			if (!wait)
				return -EAGAIN;
			int r = wait_until(lock_free, &w, UINT64_MAX);
			if (r)
				return r;
		}
	}
	int r = lock_cut(ino, want->flock, want->owner, want->start, want->end);
	if (r || want->type == F_UNLCK)
		return r;
	return lock_add(ino, want);
}

int lock_fcntl(struct file *f, unsigned int cmd, struct flock *fl)
{
	bool ofd =
	    cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	int64_t base, start, end;

	switch (fl->l_whence) {
	case 0: /* SEEK_SET */
		base = 0;
		break;
	case 1: /* SEEK_CUR */
		base = (int64_t)f->pos;
		break;
	case 2: /* SEEK_END */
		base = f->inode ? (int64_t)f->inode->size : 0;
		break;
	default:
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, fl->l_start, &start))
		return -EOVERFLOW;
	if (fl->l_len > 0) {
		if (__builtin_add_overflow(start, fl->l_len - 1, &end))
			return -EOVERFLOW;
	} else if (fl->l_len < 0) {
		end = start - 1;
		if (__builtin_add_overflow(start, fl->l_len, &start))
			return -EINVAL;
	} else {
		end = -1; /* to infinity */
	}
	if (start < 0)
		return -EINVAL;
	if (!get && fl->l_type == F_RDLCK && !file_readable(f))
		return -EBADF;
	if (!get && fl->l_type == F_WRLCK && !file_writable(f))
		return -EBADF;

	struct file_lock want = {
	    .flock = false,
	    .type = fl->l_type,
	    .owner = ofd ? (const void *)f : LOCK_PROCESS,
	    .start = (uint64_t)start,
	    .end = end < 0 ? LOCK_END_MAX : (uint64_t)end,
	};
	struct inode *ino = f->inode;
	if (!ino)
		return 0; /* a pipe or socket: nothing to share it with */
	if (get) {
		const struct file_lock *l = lock_find_conflict(ino, &want);
		if (!l) {
			fl->l_type = F_UNLCK;
			return 0;
		}
		fl->l_type = l->type;
		fl->l_whence = 0;
		fl->l_start = (int64_t)l->start;
		fl->l_len = l->end == LOCK_END_MAX
				? 0
				: (int64_t)(l->end - l->start + 1);
		fl->l_pid = l->owner == LOCK_PROCESS ? 1 : -1;
		return 0;
	}
	return lock_set(ino, &want, cmd == F_SETLKW || cmd == F_OFD_SETLKW);
}

int lock_flock(struct file *f, int type, bool wait)
{
	struct file_lock want = {
	    .flock = true,
	    .type = (short)type,
	    .owner = f,
	    .start = 0,
	    .end = LOCK_END_MAX,
	};

	if (!f->inode)
		return 0;
	/* Linux converts by dropping the old lock first (not atomically),
	 * so a conversion that fails leaves no lock. */
	if (type != F_UNLCK) {
		int r = lock_cut(f->inode, true, f, 0, LOCK_END_MAX);
		if (r)
			return r;
	}
	int r = lock_set(f->inode, &want, wait);
	return r == -EAGAIN ? -EWOULDBLOCK : r;
}

void lock_fd_closed(struct file *f)
{
	if (f->inode && f->inode->locks)
		lock_cut(f->inode, false, LOCK_PROCESS, 0, LOCK_END_MAX);
}

void lock_file_released(struct file *f)
{
	struct inode *ino = f->inode;

	if (!ino)
		return;
	for (struct file_lock **pp = &ino->locks; *pp;) {
		struct file_lock *l = *pp;
		if (l->owner == f) {
			*pp = l->next;
			kfree(l);
		} else {
			pp = &l->next;
		}
	}
}

void lock_inode_free(struct inode *ino)
{
	while (ino->locks) {
		struct file_lock *l = ino->locks;
		ino->locks = l->next;
		kfree(l);
	}
}
