/*
 * poll, ppoll, select and pselect6 over any open file.
 *
 * Each call scans its descriptors, asking every file for its ready mask
 * (file_poll: the file's poll op, or always readable and writable for
 * files without one), and when nothing is ready waits (wait_until) and
 * scans again after every wake-up until something is or the timeout ends.
 * One CPU and no threads: nothing needs registering with the files, a
 * rescan is the whole protocol.  The answers follow Linux: a bad
 * descriptor is POLLNVAL for poll and EBADF for select; POLLERR and POLLHUP
 * are reported whether asked for or not; a negative poll timeout (or a
 * NULL timespec or timeval) waits forever, a zero one does not wait;
 * select, pselect6 and ppoll write the time left back; more than 1024
 * pollfds is EINVAL, select's nfds above the table size is clipped to it.
 * Signal masks are checked and otherwise ignored: no signal can arrive yet.
 */
#include "../fs/vfs.h"

#include "ksignal.h"
#include "mm.h"
#include "proc.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#include <asm/poll.h>

#define NSEC_PER_SEC  1000000000ULL
#define NSEC_PER_USEC 1000ULL

/* Linux's select masks: what counts as readable, writable, exceptional. */
#define POLLIN_SET  (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET  (POLLPRI)

/* ---- poll, ppoll ---- */

struct poll_scan {
	struct pollfd *fds;
	unsigned int nfds;
	int ready; /* entries with revents != 0 after the last scan */
};

static bool poll_scan(void *arg)
{
	struct poll_scan *s = arg;

	s->ready = 0;
	for (unsigned int i = 0; i < s->nfds; i++) {
		struct pollfd *p = &s->fds[i];
		struct file *f;

		p->revents = 0;
		if (p->fd < 0)
			continue;
		f = fd_get(p->fd);
		if (!f) {
			p->revents = POLLNVAL;
		} else {
			unsigned int want =
			    (unsigned short)p->events | POLLERR | POLLHUP;
			p->revents = (short)(file_poll(f) & want);
			file_put(f);
		}
		if (p->revents)
			s->ready++;
	}
	return s->ready > 0;
}

static long do_poll(struct pollfd *ufds, unsigned int nfds, uint64_t deadline)
{
	struct poll_scan s = {NULL, nfds, 0};
	size_t size = sizeof(struct pollfd) * nfds;
	long r;

	if (nfds > MAX_FDS)
		return -EINVAL;
	if (nfds) {
		s.fds = kmalloc(size);
		if (!s.fds)
			return -ENOMEM;
		if (copy_from_user(s.fds, ufds, size)) {
			kfree(s.fds);
			return -EFAULT;
		}
	}
	/* Interrupted with nothing ready: EINTR once a handler ran. */
	if (wait_until(poll_scan, &s, deadline) == -EINTR)
		r = -ERESTARTNOHAND;
	else
		r = s.ready;
	if (r >= 0 && nfds && copy_to_user(ufds, s.fds, size))
		r = -EFAULT;
	kfree(s.fds);
	return r;
}

static long sys_poll(struct pollfd *ufds, unsigned int nfds, int timeout_ms)
{
	uint64_t deadline = UINT64_MAX;

	if (timeout_ms >= 0)
		deadline = wait_deadline_after((uint64_t)timeout_ms * 1000000);
	return do_poll(ufds, nfds, deadline);
}
SYSCALL_REGISTER(__NR_poll, poll, sys_poll);

/* Writes the time left until deadline back to a timespec (ppoll,
 * pselect6) or timeval (select); failures are ignored, as on Linux. */
static void poll_time_left(void *ut, uint64_t deadline, bool timeval)
{
	uint64_t now = clock_monotonic_ns();
	uint64_t left = deadline > now ? deadline - now : 0;
	int64_t t[2];

	if (!ut || deadline == UINT64_MAX)
		return;
	t[0] = (int64_t)(left / NSEC_PER_SEC);
	t[1] = (int64_t)(left % NSEC_PER_SEC);
	if (timeval)
		t[1] /= (int64_t)NSEC_PER_USEC;
	copy_to_user(ut, t, sizeof(t));
}

static long sys_ppoll(struct pollfd *ufds, unsigned int nfds, void *uts,
		      const void *sigmask, size_t sigsetsize)
{
	uint64_t deadline;
	long r = wait_user_timespec(uts, &deadline);

	if (r)
		return r;
	r = wait_user_sigmask(sigmask, sigsetsize);
	if (r)
		return r;
	r = do_poll(ufds, nfds, deadline);
	poll_time_left(uts, deadline, false);
	return r;
}
SYSCALL_REGISTER(__NR_ppoll, ppoll, sys_ppoll);

/* ---- select, pselect6 ---- */

#define FDSET_LONGS (MAX_FDS / 64)

struct select_scan {
	int n;
	uint64_t in[3][FDSET_LONGS]; /* read, write, except: asked */
	uint64_t out[3][FDSET_LONGS];
	int ready; /* bits set in out[] */
};

static bool select_scan(void *arg)
{
	static const unsigned int sets[3] = {POLLIN_SET, POLLOUT_SET,
					     POLLEX_SET};
	struct select_scan *s = arg;

	s->ready = 0;
	memset(s->out, 0, sizeof(s->out));
	for (int fd = 0; fd < s->n; fd++) {
		uint64_t bit = 1ULL << (fd % 64);
		int w = fd / 64;
		unsigned int mask;
		struct file *f;

		if (!((s->in[0][w] | s->in[1][w] | s->in[2][w]) & bit))
			continue;
		f = fd_get(fd);
		if (!f)
			continue; /* checked before the first scan */
		mask = file_poll(f);
		file_put(f);
		for (int i = 0; i < 3; i++) {
			if ((s->in[i][w] & bit) && (mask & sets[i])) {
				s->out[i][w] |= bit;
				s->ready++;
			}
		}
	}
	return s->ready > 0;
}

static long do_select(int n, uint64_t *usets[3], uint64_t deadline)
{
	struct select_scan *s;
	size_t bytes;
	long r = 0;

	if (n < 0)
		return -EINVAL;
	if (n > MAX_FDS)
		n = MAX_FDS;
	/* Whole longs, as Linux copies them. */
	bytes = (size_t)(n + 63) / 64 * sizeof(uint64_t);
	s = kzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->n = n;
	for (int i = 0; i < 3 && !r; i++)
		if (usets[i] && copy_from_user(s->in[i], usets[i], bytes))
			r = -EFAULT;
	for (int fd = 0; fd < n && !r; fd++) {
		uint64_t bit = 1ULL << (fd % 64);
		int w = fd / 64;
		struct file *f;

		if (!((s->in[0][w] | s->in[1][w] | s->in[2][w]) & bit))
			continue;
		f = fd_get(fd);
		if (!f)
			r = -EBADF;
		else
			file_put(f);
	}
	if (!r) {
		if (wait_until(select_scan, s, deadline) == -EINTR) {
			kfree(s);
			return -ERESTARTNOHAND; /* sets left as they were */
		}
		r = s->ready;
		for (int i = 0; i < 3; i++)
			if (usets[i] &&
			    copy_to_user(usets[i], s->out[i], bytes))
				r = -EFAULT;
	}
	kfree(s);
	return r;
}

static long sys_select(int n, uint64_t *rfds, uint64_t *wfds, uint64_t *efds,
		       void *utv)
{
	uint64_t *sets[3] = {rfds, wfds, efds};
	uint64_t deadline = UINT64_MAX;
	long r;

	if (utv) {
		int64_t tv[2];
		if (copy_from_user(tv, utv, sizeof(tv)))
			return -EFAULT;
		/* Linux folds whole seconds of tv_usec into tv_sec first. */
		int64_t sec, nsec = tv[1] % 1000000 * (int64_t)NSEC_PER_USEC;
		if (__builtin_add_overflow(tv[0], tv[1] / 1000000, &sec))
			sec = tv[0] < 0 ? -1 : INT64_MAX;
		if (sec < 0 || nsec < 0)
			return -EINVAL;
		if ((uint64_t)sec < UINT64_MAX / NSEC_PER_SEC)
			deadline = wait_deadline_after(
			    (uint64_t)sec * NSEC_PER_SEC + (uint64_t)nsec);
	}
	r = do_select(n, sets, deadline);
	poll_time_left(utv, deadline, true);
	return r;
}
SYSCALL_REGISTER(__NR_select, select, sys_select);

static long sys_pselect6(int n, uint64_t *rfds, uint64_t *wfds, uint64_t *efds,
			 void *uts, const void *usig)
{
	uint64_t *sets[3] = {rfds, wfds, efds};
	struct {
		const void *mask;
		size_t size;
	} sig = {NULL, 0};
	uint64_t deadline;
	long r;

	/* The sixth argument points at {sigmask pointer, its size}. */
	if (usig && copy_from_user(&sig, usig, sizeof(sig)))
		return -EFAULT;
	r = wait_user_timespec(uts, &deadline);
	if (r)
		return r;
	r = wait_user_sigmask(sig.mask, sig.size);
	if (r)
		return r;
	r = do_select(n, sets, deadline);
	poll_time_left(uts, deadline, false);
	return r;
}
SYSCALL_REGISTER(__NR_pselect6, pselect6, sys_pselect6);
