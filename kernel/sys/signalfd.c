/*
 * signalfd and signalfd4 (signalfd(2)): signals read from a descriptor.
 * A read of at least 128 bytes takes the reading thread's pending signals
 * in the descriptor's mask (its own, then the process's), as many as fit,
 * each as a struct signalfd_siginfo; it waits for the first one unless
 * SFD_NONBLOCK (EAGAIN).  The signals are normally blocked, so nothing
 * else takes them first.  The descriptor is readable while such a signal
 * is pending for the thread that looks; signal.c calls signalfd_notify
 * whenever a signal becomes pending, which tells epoll's watchers.
 * signalfd4 on an existing signalfd replaces its mask.
 */
#include "../fs/vfs.h"

#include "ksignal.h"
#include "mm.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"

#include <asm/poll.h>

#define SFD_FLAGS     (O_CLOEXEC | O_NONBLOCK)
#define SFD_SIGBIT(s) (1ULL << ((s)-1))
#define SFD_NEVER     (SFD_SIGBIT(KSIGKILL) | SFD_SIGBIT(KSIGSTOP))
#define SFD_SI_USER   0
#define SFD_SI_KERNEL 0x80
#define SFD_SI_TIMER  (-2)
#define SFD_SIGCHLD   17

struct signalfd {
	struct signalfd *next; /* every signalfd, for signalfd_notify */
	struct file *file;
	uint64_t mask;
};

/* struct signalfd_siginfo, 128 bytes. */
struct sfd_siginfo {
	uint32_t signo;
	int32_t err, code;
	uint32_t pid, uid;
	int32_t fd;
	uint32_t tid, band, overrun, trapno;
	int32_t status, int_;
	uint64_t ptr, utime, stime, addr;
	uint16_t addr_lsb, pad2;
	int32_t syscall;
	uint64_t call_addr;
	uint32_t arch;
	uint8_t pad[28];
};
_Static_assert(sizeof(struct sfd_siginfo) == 128, "signalfd_siginfo");

static struct signalfd *sfd_list;

void signalfd_notify(int sig)
{
	for (struct signalfd *s = sfd_list; s; s = s->next)
		if (s->mask & SFD_SIGBIT(sig))
			file_notify(s->file, POLLIN);
}

/* The fields Linux copies for the siginfo's layout (siginfo_layout). */
static void sfd_convert(const struct ksiginfo *k, struct sfd_siginfo *o)
{
	uint32_t lo = (uint32_t)k->a, hi = (uint32_t)(k->a >> 32);

	memset(o, 0, sizeof(*o));
	o->signo = (uint32_t)k->signo;
	o->err = k->err;
	o->code = k->code;
	if (k->code > SFD_SI_USER && k->code < SFD_SI_KERNEL) {
		switch (k->signo) {
		case KSIGSEGV:
		case KSIGBUS:
		case KSIGILL:
		case KSIGTRAP:
		case KSIGFPE:
			o->addr = k->a;
			return;
		case SFD_SIGCHLD:
			o->pid = lo;
			o->uid = hi;
			o->status = (int32_t)k->b;
			return;
		default:
			if (k->code > 6)
				break; /* SIL_KILL */
			o->band = lo;
			o->fd = (int32_t)k->b;
			return;
		}
	}
	if (k->code == SFD_SI_TIMER) {
		o->tid = lo;
		o->overrun = hi;
		o->ptr = k->b;
		o->int_ = (int32_t)k->b;
		return;
	}
	o->pid = lo;
	o->uid = hi;
	if (k->code < 0) { /* SIL_RT: sigqueue, tgkill */
		o->ptr = k->b;
		o->int_ = (int32_t)k->b;
	}
}

struct sfd_wait {
	struct task *t;
	uint64_t mask;
};

static bool sfd_ready(void *arg)
{
	struct sfd_wait *w = arg;
	return (signal_pending_set(w->t) & w->mask) != 0;
}

static ssize_t sfd_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			bool user)
{
	struct signalfd *s = f->priv;
	struct sfd_wait w = {current, s->mask};
	size_t done = 0;

	if (n < sizeof(struct sfd_siginfo))
		return -EINVAL;
	while (done + sizeof(struct sfd_siginfo) <= n) {
		struct ksiginfo k;
		struct sfd_siginfo o;
		int sig = signal_take(s->mask, &k);
		if (!sig) {
			if (done)
				break;
			if (f->flags & O_NONBLOCK)
				return -EAGAIN;
			w.mask = s->mask;
			if (wait_until(sfd_ready, &w, UINT64_MAX) == -EINTR)
				return -ERESTARTSYS;
			continue;
		}
		sfd_convert(&k, &o);
		/* Taken even if the copy faults, as on Linux. */
		if (fs_copy_out((char *)buf + done, &o, sizeof(o), user))
			return done ? (ssize_t)done : -EFAULT;
		done += sizeof(o);
	}
	return (ssize_t)done;
}

static unsigned int sfd_poll(struct file *f)
{
	struct signalfd *s = f->priv;
	return (signal_pending_set(current) & s->mask) ? POLLIN | POLLRDNORM
						       : 0;
}

static void sfd_release(struct file *f)
{
	struct signalfd *s = f->priv;

	for (struct signalfd **pp = &sfd_list; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	file_watch_release(f);
	kfree(s);
}

/* No write op: write(2) on a signalfd is EINVAL, as on Linux. */
static const struct file_ops sfd_fops = {
    .read = sfd_read,
    .getattr = fs_anon_getattr,
    .poll = sfd_poll,
    .release = sfd_release,
};

static long sys_signalfd4(int fd, const uint64_t *umask, size_t size, int flags)
{
	struct signalfd *s;
	struct file *f;
	uint64_t mask;

	if ((flags & ~SFD_FLAGS) || size != sizeof(mask))
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	mask &= ~SFD_NEVER;
	if (fd != -1) {
		f = fd_get(fd);
		if (!f)
			return -EBADF;
		if (f->ops != &sfd_fops) {
			file_put(f);
			return -EINVAL;
		}
		s = f->priv;
		s->mask = mask;
		/* Signals already pending may make it readable now. */
		if (signal_pending_set(current) & mask)
			file_notify(f, POLLIN);
		file_put(f);
		return fd;
	}
	s = kzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mask = mask;
	f = file_alloc(&sfd_fops, O_RDWR | (flags & O_NONBLOCK), NULL);
	if (!f) {
		kfree(s);
		return -ENOMEM;
	}
	s->file = f;
	f->priv = s;
	f->path = strdup("anon_inode:[signalfd]");
	s->next = sfd_list;
	sfd_list = s;
	fd = fd_install(f, 0, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}
SYSCALL_REGISTER(__NR_signalfd4, signalfd4, sys_signalfd4);

static long sys_signalfd(int fd, const uint64_t *umask, size_t size)
{
	return sys_signalfd4(fd, umask, size, 0);
}
SYSCALL_REGISTER(__NR_signalfd, signalfd, sys_signalfd);
