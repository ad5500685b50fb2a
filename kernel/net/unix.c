/*
 * AF_UNIX sockets: SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET between the
 * program's own descriptors (one program per VM, so every peer is local),
 * without lwIP.
 *
 * Design.  A socket is a file without an inode whose priv is a struct
 * unix_sock.  Data moves as messages (struct unix_msg: bytes, passed
 * files, credentials, the sender's address) appended to the receiver's
 * queue by the sender, so SCM_RIGHTS and datagram boundaries come free; a
 * stream read runs across messages (stopping at one that carries
 * descriptors, as Linux does), a datagram or seqpacket read takes one.  A
 * sender may queue while the receiver holds fewer than its SO_SNDBUF
 * bytes (208 KiB by default; datagrams also at most UNIX_DGRAM_QLEN
 * messages); a blocking sender waits with wait_until on that condition,
 * and every read calls file_notify on the peer, which is also what wakes
 * waiters (sched_kick) and feeds epoll's edge triggering.  Like the
 * pipes, every change that can raise readiness notifies the file whose
 * readiness it is.
 *
 * Connections: connect makes the server's end at once (an "embryo" with
 * no file yet) joined to the client, and queues it on the listener, so
 * data sent before accept waits in the embryo; accept gives the embryo a
 * file.  More than the backlog pending makes connect wait (EAGAIN when
 * non-blocking), as on Linux.  Names: a path bind creates a socket inode
 * (stat shows S_IFSOCK, unlink removes the name; the socket keeps the
 * inode and connect finds the socket through it), an abstract name (a
 * leading NUL) lives only in the list of bound sockets, and an empty
 * address autobinds to a 5-hex-digit abstract name.
 *
 * Lifetime: a struct unix_sock is counted (its file, its peer's pointer
 * to it, a listener's queue); closing the file kills it (the peer of a
 * connection sees end of file, EPIPE, or ECONNRESET when data was left
 * unread, as Linux does) and the memory goes with the last reference.
 *
 * Not here: MSG_OOB, SO_PEEK_OFF, a garbage collector for sockets passed
 * in their own queues (such a cycle is never freed), per-user fd limits
 * of in-flight descriptors, abstract names per network namespace.
 */
#include "../fs/vfs.h"

#include "ksignal.h"
#include "mm.h"
#include "sched.h"
#include "socket.h"
#include "uaccess.h"
#include "unix.h"
#include "wait.h"

#include <asm/poll.h>
#include <asm/socket.h>

#define SOCK_SEQPACKET	5
#define UNIX_PATH_MAX	108
#define UNIX_ADDR_MAX	110    /* sizeof(struct sockaddr_un) */
#define UNIX_FAMILY_LEN 2      /* sizeof(sa_family_t) */
#define UNIX_DEF_BUF	212992 /* Linux's default wmem/rmem */
#define UNIX_MIN_BUF	4608   /* Linux's SOCK_MIN_SNDBUF */
#define UNIX_MAX_BUF	425984 /* twice Linux's default wmem_max */
#define UNIX_DGRAM_QLEN 512    /* net.unix.max_dgram_qlen */
#define UNIX_CHUNK	65536  /* bytes per stream message */
#define UNIX_MAX_FD	253    /* SCM_MAX_FD */
#define UNIX_SOMAXCONN	4096   /* net.core.somaxconn */
#define UNIX_CTL_MAX	65536  /* control bytes accepted by sendmsg */
#define UNIX_DEV_MINOR	8      /* st_dev 0:8, Linux's sockfs */
#define NSEC_PER_SEC	1000000000ULL
#define UNIX_PID	1 /* getpid(): kernel/sys/proc.c */
#define SCM_RIGHTS	1
#define SCM_CREDENTIALS 2
#define FIONREAD_	0x541b
#define TIOCOUTQ_	0x5411
#define CMSG_HDR	16 /* sizeof(struct cmsghdr) */
#define CMSG_ALIGN_(n)	(((n) + 7) & ~(size_t)7)
#define CMSG_SPACE_(n)	(CMSG_HDR + CMSG_ALIGN_(n))
#define UNIX_SHUT_RCV	1u
#define UNIX_SHUT_SEND	2u
#define UNIX_SHUT_BOTH	3u

enum unix_state { US_UNCONNECTED, US_LISTEN, US_CONNECTED };

struct unix_cred {
	int32_t pid;
	uint32_t uid, gid;
};

struct unix_msg {
	struct unix_msg *next;
	size_t len, off;   /* off: bytes a stream reader already took */
	struct file **fds; /* passed files (references), nfds of them */
	int nfds;
	struct unix_cred cred;
	int fromlen; /* the sender's address, 0 when it had none */
	uint8_t from[UNIX_ADDR_MAX];
	uint8_t data[];
};

struct unix_sock {
	int type;
	enum unix_state state;
	int refs;
	bool dead;	   /* closed (or an embryo whose listener closed) */
	bool embryo;	   /* made by connect, not accepted yet */
	struct file *file; /* NULL for an embryo and once closed */
	struct unix_sock *peer; /* counted: connection or default target */
	unsigned int shut;	/* UNIX_SHUT_* */
	int error;		/* pending SO_ERROR (positive errno) */
	struct unix_msg *rx_head, *rx_tail;
	size_t rx_bytes;
	int rx_count;
	/* listening: embryos waiting for accept (counted) */
	struct unix_sock *acc_head, *acc_tail, *acc_next;
	int acc_count, backlog;
	/* the name: addrlen bytes of a struct sockaddr_un, 0 if unbound */
	int addrlen;
	uint8_t addr[UNIX_ADDR_MAX];
	struct inode *inode; /* a path name's socket inode (counted) */
	struct unix_sock *next_bound;
	int sndbuf, rcvbuf;
	bool passcred;
	uint64_t rcvtimeo, sndtimeo; /* ns, 0: forever */
	uint64_t ino;
	struct fs_time ctime;
};

static const struct file_ops unix_fops;
static struct unix_sock *unix_bound; /* every named socket */
static uint64_t unix_next_ino = 1u << 20;
static unsigned int unix_autobind_next;

/* ---- helpers ---- */

static bool unix_conn_based(const struct unix_sock *s)
{
	return s->type != SOCK_DGRAM;
}

static void unix_wake(struct unix_sock *s, unsigned int events)
{
	if (s->file)
		file_notify(s->file, events);
	else
		sched_kick(); /* an embryo: only waiters care */
}

static void unix_ref(struct unix_sock *s)
{
	s->refs++;
}

static void unix_unref(struct unix_sock *s)
{
	if (--s->refs == 0)
		kfree(s);
}

static struct unix_cred unix_own_cred(void)
{
	struct unix_cred c = {UNIX_PID, 0, 0};
	return c;
}

static void msg_free(struct unix_msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		file_put(m->fds[i]);
	kfree(m->fds);
	kfree(m);
}

static uint64_t unix_deadline(uint64_t timeo)
{
	return timeo ? wait_deadline_after(timeo) : UINT64_MAX;
}

/* A blocking wait that ended early: a timeout is EAGAIN; a signal
 * restarts the call unless SO_*TIMEO is set (then EINTR, as Linux's
 * sock_intr_errno). */
static int unix_wait_error(int w, uint64_t timeo)
{
	if (w == -EINTR)
		return timeo ? -EINTR : -ERESTARTSYS;
	return -EAGAIN;
}

static bool unix_nonblock(const struct file *f, int flags)
{
	return (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
}

/* ---- creation and lifetime ---- */

static struct unix_sock *unix_alloc(int type)
{
	struct unix_sock *s = kzalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->type = type;
	s->refs = 1;
	s->sndbuf = s->rcvbuf = UNIX_DEF_BUF;
	s->ino = unix_next_ino++;
	fs_time_now(&s->ctime);
	return s;
}

/* A file for s, taking over one reference; NULL when out of memory. */
static struct file *unix_file(struct unix_sock *s, unsigned int fflags)
{
	char name[40];
	struct file *f = file_alloc(&unix_fops, O_RDWR | fflags, NULL);

	if (!f)
		return NULL;
	snprintf(name, sizeof(name), "socket:[%llu]",
		 (unsigned long long)s->ino);
	f->path = strdup(name); /* only /proc/self/fd shows it */
	f->priv = s;
	s->file = f;
	return f;
}

static void unix_unbind(struct unix_sock *s)
{
	for (struct unix_sock **pp = &unix_bound; *pp;
	     pp = &(*pp)->next_bound) {
		if (*pp == s) {
			*pp = s->next_bound;
			break;
		}
	}
	if (s->inode) {
		inode_put(s->inode);
		s->inode = NULL;
	}
}

/* s goes away (closed, or an embryo nobody will accept): the peer of a
 * connection sees both directions shut, and ECONNRESET if s left data
 * unread or was never accepted; queued messages and their files go. */
static void unix_kill(struct unix_sock *s)
{
	struct unix_sock *peer = s->peer;
	struct unix_msg *m = s->rx_head;

	s->dead = true;
	s->shut = UNIX_SHUT_BOTH;
	s->peer = NULL;
	if (peer) {
		if (unix_conn_based(s)) {
			peer->shut = UNIX_SHUT_BOTH;
			if (m || s->embryo)
				peer->error = ECONNRESET;
			unix_wake(peer, POLLIN | POLLRDNORM | POLLOUT |
					    POLLWRNORM | POLLHUP | POLLRDHUP |
					    POLLERR);
		}
		unix_unref(peer);
	}
	s->rx_head = s->rx_tail = NULL;
	s->rx_bytes = 0;
	s->rx_count = 0;
	/* Last: a passed file's release may close other sockets. */
	while (m) {
		struct unix_msg *next = m->next;
		msg_free(m);
		m = next;
	}
	sched_kick(); /* connectors and senders waiting on s */
}

static void unix_release(struct file *f)
{
	struct unix_sock *s = f->priv;
	struct unix_sock *n;

	file_watch_release(f);
	if (!s)
		return;
	s->file = NULL;
	unix_unbind(s);
	while ((n = s->acc_head)) {
		s->acc_head = n->acc_next;
		s->acc_count--;
		unix_kill(n);
		unix_unref(n);
	}
	s->acc_tail = NULL;
	unix_kill(s);
	unix_unref(s);
}

static bool unix_type_ok(int *type)
{
	if (*type == SOCK_RAW)
		*type = SOCK_DGRAM; /* as Linux maps it */
	return *type == SOCK_STREAM || *type == SOCK_DGRAM ||
	       *type == SOCK_SEQPACKET;
}

static long unix_check_new(int *type, int protocol)
{
	if (protocol != 0 && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	if (!unix_type_ok(type))
		return -ESOCKTNOSUPPORT;
	return 0;
}

static struct file *unix_new_file(int type, int flags)
{
	struct unix_sock *s = unix_alloc(type);
	struct file *f;

	if (!s)
		return NULL;
	f = unix_file(s, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
	if (!f)
		kfree(s);
	return f;
}

long unix_socket(int type, int protocol, int flags)
{
	long r = unix_check_new(&type, protocol);
	struct file *f;

	if (r)
		return r;
	f = unix_new_file(type, flags);
	if (!f)
		return -ENOMEM;
	r = fd_install(f, 0, flags & SOCK_CLOEXEC);
	if (r < 0)
		file_put(f);
	return r;
}

long unix_socketpair(int type, int protocol, int flags, int *usv)
{
	long r = unix_check_new(&type, protocol);
	struct file *a, *b;
	struct unix_sock *sa, *sb;
	int fds[2];

	if (r)
		return r;
	a = unix_new_file(type, flags);
	b = a ? unix_new_file(type, flags) : NULL;
	if (!b) {
		if (a)
			file_put(a);
		return -ENOMEM;
	}
	sa = a->priv;
	sb = b->priv;
	sa->peer = sb;
	sb->peer = sa;
	unix_ref(sa);
	unix_ref(sb);
	sa->state = sb->state = US_CONNECTED;
	fds[0] = fd_install(a, 0, flags & SOCK_CLOEXEC);
	if (fds[0] < 0) {
		file_put(a);
		file_put(b);
		return fds[0];
	}
	fds[1] = fd_install(b, 0, flags & SOCK_CLOEXEC);
	if (fds[1] < 0) {
		fd_close(fds[0]);
		file_put(b);
		return fds[1];
	}
	if (copy_to_user(usv, fds, sizeof(fds))) {
		fd_close(fds[0]);
		fd_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

bool unix_is(const struct file *f)
{
	return f->ops == &unix_fops;
}

/* ---- names ---- */

/* A struct sockaddr_un from the program, checked as Linux's
 * unix_validate_addr: bytes in n (len of them), and for a path name the
 * NUL-terminated path in path.  *autobind for a bare family (bind's
 * "pick a name"). */
struct unix_name {
	int len;
	uint8_t b[UNIX_ADDR_MAX];
	bool abstract;
	char path[UNIX_PATH_MAX + 1];
};

static long unix_name_in(const void *uaddr, int len, struct unix_name *n,
			 bool *bare)
{
	uint16_t family;

	*bare = false;
	if (len < 0 || len > 128) /* sizeof(struct sockaddr_storage) */
		return -EINVAL;
	if (len < UNIX_FAMILY_LEN)
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	if (copy_from_user(n->b, uaddr, MIN((size_t)len, sizeof(n->b))))
		return -EFAULT;
	memcpy(&family, n->b, sizeof(family));
	if (len == UNIX_FAMILY_LEN && family == AF_UNIX) {
		*bare = true;
		return 0;
	}
	if (len > UNIX_ADDR_MAX || len == UNIX_FAMILY_LEN || family != AF_UNIX)
		return -EINVAL;
	if (n->b[UNIX_FAMILY_LEN] == 0) {
		n->abstract = true;
		n->len = len;
		return 0;
	}
	size_t plen = strnlen((const char *)n->b + UNIX_FAMILY_LEN,
			      (size_t)len - UNIX_FAMILY_LEN);
	memcpy(n->path, n->b + UNIX_FAMILY_LEN, plen);
	n->path[plen] = 0;
	/* Linux reports a path name as family, path and its NUL. */
	memset(n->b + UNIX_FAMILY_LEN + plen, 0,
	       sizeof(n->b) - UNIX_FAMILY_LEN - plen);
	n->len = (int)(UNIX_FAMILY_LEN + plen + 1);
	return 0;
}

/* Writes an address (len bytes, 0 for unnamed: the family alone) to the
 * program's uaddr and *ulen the way getsockname does. */
static long unix_name_out(void *uaddr, int *ulen, const uint8_t *addr, int alen)
{
	uint8_t fam[UNIX_FAMILY_LEN] = {AF_UNIX, 0};
	int len;

	if (copy_from_user(&len, ulen, sizeof(len)))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (alen == 0) {
		addr = fam;
		alen = UNIX_FAMILY_LEN;
	}
	if (copy_to_user(uaddr, addr, MIN((size_t)len, (size_t)alen)))
		return -EFAULT;
	return copy_to_user(ulen, &alen, sizeof(alen)) ? -EFAULT : 0;
}

static struct unix_sock *unix_find_abstract(const uint8_t *b, int len)
{
	for (struct unix_sock *s = unix_bound; s; s = s->next_bound)
		if (!s->inode && s->addrlen == len && !memcmp(s->addr, b, len))
			return s;
	return NULL;
}

/* The live socket a name reaches, for connect and sendto: 0 and *out (no
 * reference taken), or ENOENT and the path walk's errors, ECONNREFUSED
 * (not a socket, nobody bound), EPROTOTYPE (another type). */
static long unix_find(const struct unix_name *n, int type,
		      struct unix_sock **out)
{
	struct unix_sock *t = NULL;

	if (n->abstract) {
		t = unix_find_abstract(n->b, n->len);
	} else {
		struct inode *ino;
		int err = vfs_lookup_at(AT_FDCWD, n->path, 0, &ino);
		if (err)
			return err;
		if (!S_ISSOCK(ino->mode))
			return -ECONNREFUSED;
		for (t = unix_bound; t; t = t->next_bound)
			if (t->inode == ino)
				break;
	}
	if (!t || t->dead)
		return -ECONNREFUSED;
	if (t->type != type)
		return -EPROTOTYPE;
	*out = t;
	return 0;
}

static void unix_bind_list(struct unix_sock *s)
{
	s->next_bound = unix_bound;
	unix_bound = s;
}

/* An abstract name of 5 hex digits, as Linux's autobind. */
static long unix_autobind(struct unix_sock *s)
{
	uint8_t b[UNIX_ADDR_MAX];
	char hex[8];

	if (s->addrlen)
		return 0;
	for (unsigned int tries = 0; tries <= 0xfffff; tries++) {
		unsigned int v = unix_autobind_next++ & 0xfffff;
		b[0] = AF_UNIX;
		b[1] = 0;
		b[2] = 0;
		snprintf(hex, sizeof(hex), "%05x", v);
		memcpy(b + 3, hex, 5);
		if (!unix_find_abstract(b, 8)) {
			memcpy(s->addr, b, 8);
			s->addrlen = 8;
			unix_bind_list(s);
			return 0;
		}
	}
	return -ENOSPC;
}

long unix_bind(struct file *f, const void *uaddr, int len)
{
	struct unix_sock *s = f->priv;
	struct unix_name n;
	bool bare;
	long r = unix_name_in(uaddr, len, &n, &bare);

	if (r)
		return r;
	if (s->addrlen)
		return -EINVAL; /* already bound */
	if (bare)
		return unix_autobind(s);
	if (n.abstract) {
		if (unix_find_abstract(n.b, n.len))
			return -EADDRINUSE;
	} else {
		struct inode *ino;
		r = vfs_mksock(n.path, 0777, &ino);
		if (r)
			return r == -EEXIST ? -EADDRINUSE : r;
		s->inode = ino;
	}
	memcpy(s->addr, n.b, sizeof(s->addr));
	s->addrlen = n.len;
	unix_bind_list(s);
	return 0;
}

long unix_name(struct file *f, bool peer, void *uaddr, int *ulen)
{
	struct unix_sock *s = f->priv;

	if (peer) {
		if (!s->peer)
			return -ENOTCONN;
		s = s->peer;
	}
	return unix_name_out(uaddr, ulen, s->addr, s->addrlen);
}

/* ---- connections ---- */

long unix_listen(struct file *f, int backlog)
{
	struct unix_sock *s = f->priv;

	if (s->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (!s->addrlen || s->state == US_CONNECTED)
		return -EINVAL;
	if ((unsigned int)backlog > UNIX_SOMAXCONN)
		backlog = UNIX_SOMAXCONN;
	s->backlog = backlog;
	s->state = US_LISTEN;
	sched_kick(); /* a larger backlog may let connectors in */
	return 0;
}

static bool unix_can_accept(void *arg)
{
	struct unix_sock *s = arg;
	return s->acc_head || s->state != US_LISTEN;
}

long unix_accept(struct file *f, int flags, void *uaddr, int *ulen)
{
	struct unix_sock *s = f->priv;
	struct unix_sock *n;
	struct file *nf;
	long fd;

	if (s->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (s->state != US_LISTEN)
		return -EINVAL;
	while (!s->acc_head) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int w =
		    wait_until(unix_can_accept, s, unix_deadline(s->rcvtimeo));
		if (w)
			return unix_wait_error(w, s->rcvtimeo);
		if (s->state != US_LISTEN)
			return -EINVAL;
	}
	n = s->acc_head;
	nf = unix_file(n, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
	if (!nf)
		return -ENOMEM;
	fd = fd_install(nf, 0, flags & SOCK_CLOEXEC);
	if (fd < 0) {
		/* The connection stays queued for a later accept. */
		n->file = NULL;
		nf->priv = NULL;
		file_put(nf);
		return fd;
	}
	/* The queue's reference now belongs to the file. */
	s->acc_head = n->acc_next;
	if (!s->acc_head)
		s->acc_tail = NULL;
	s->acc_count--;
	n->acc_next = NULL;
	n->embryo = false;
	sched_kick(); /* room for a waiting connector */
	if (uaddr) {
		long e = n->peer ? unix_name_out(uaddr, ulen, n->peer->addr,
						 n->peer->addrlen)
				 : unix_name_out(uaddr, ulen, NULL, 0);
		if (e) {
			fd_close((int)fd);
			return e;
		}
	}
	return fd;
}

static bool unix_backlog_room(void *arg)
{
	struct unix_sock *t = arg;
	return t->dead || t->state != US_LISTEN || t->acc_count <= t->backlog;
}

static long unix_connect_stream(struct file *f, struct unix_sock *s,
				const struct unix_name *n)
{
	struct unix_sock *t, *e;
	long r;

	for (;;) {
		if (s->state == US_CONNECTED)
			return -EISCONN;
		if (s->state == US_LISTEN)
			return -EINVAL;
		r = unix_find(n, s->type, &t);
		if (r)
			return r;
		if (t->state != US_LISTEN)
			return -ECONNREFUSED;
		/* Linux lets backlog + 1 connections wait. */
		if (t->acc_count <= t->backlog)
			break;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		unix_ref(t);
		int w = wait_until(unix_backlog_room, t,
				   unix_deadline(s->sndtimeo));
		unix_unref(t);
		if (w)
			return unix_wait_error(w, s->sndtimeo);
	}
	if (s->passcred) {
		r = unix_autobind(s);
		if (r)
			return r;
	}
	e = unix_alloc(s->type);
	if (!e)
		return -ENOMEM;
	e->embryo = true;
	e->state = US_CONNECTED;
	e->sndbuf = t->sndbuf;
	e->rcvbuf = t->rcvbuf;
	e->passcred = t->passcred;
	memcpy(e->addr, t->addr, sizeof(e->addr));
	e->addrlen = t->addrlen;
	/* e's one reference is the queue's; the pair point at each other. */
	e->peer = s;
	unix_ref(s);
	s->peer = e;
	unix_ref(e);
	s->state = US_CONNECTED;
	if (t->acc_tail)
		t->acc_tail->acc_next = e;
	else
		t->acc_head = e;
	t->acc_tail = e;
	t->acc_count++;
	unix_wake(t, POLLIN | POLLRDNORM);
	return 0;
}

long unix_connect(struct file *f, const void *uaddr, int len)
{
	struct unix_sock *s = f->priv;
	struct unix_name n;
	struct unix_sock *t;
	bool bare;
	long r;

	if (s->type == SOCK_DGRAM && len >= UNIX_FAMILY_LEN) {
		uint16_t family;
		if (copy_from_user(&family, uaddr, sizeof(family)))
			return -EFAULT;
		if (family == AF_UNSPEC) {
			/* Dissolves the association. */
			if (s->peer) {
				unix_unref(s->peer);
				s->peer = NULL;
			}
			s->state = US_UNCONNECTED;
			return 0;
		}
	}
	r = unix_name_in(uaddr, len, &n, &bare);
	if (r)
		return r;
	if (bare)
		return -EINVAL;
	if (s->type != SOCK_DGRAM)
		return unix_connect_stream(f, s, &n);
	r = unix_find(&n, s->type, &t);
	if (r)
		return r;
	if (s->passcred) {
		r = unix_autobind(s);
		if (r)
			return r;
	}
	unix_ref(t);
	if (s->peer)
		unix_unref(s->peer);
	s->peer = t;
	s->state = US_CONNECTED;
	return 0;
}

long unix_shutdown(struct file *f, int how)
{
	struct unix_sock *s = f->priv;
	unsigned int mode, pmode = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	mode = (unsigned int)how + 1; /* SHUT_RD: RCV, SHUT_WR: SEND */
	s->shut |= mode;
	unix_wake(s, POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP | POLLOUT);
	if (s->peer && unix_conn_based(s)) {
		if (mode & UNIX_SHUT_RCV)
			pmode |= UNIX_SHUT_SEND;
		if (mode & UNIX_SHUT_SEND)
			pmode |= UNIX_SHUT_RCV;
		s->peer->shut |= pmode;
		unix_wake(s->peer,
			  POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP | POLLOUT);
	}
	return 0;
}

/* ---- sending ---- */

/* What a sendmsg's control messages carry. */
struct unix_scm {
	struct file **fds; /* kmalloc'd, references */
	int nfds;
	bool have_cred;
	struct unix_cred cred;
};

static void scm_drop(struct unix_scm *scm)
{
	for (int i = 0; i < scm->nfds; i++)
		file_put(scm->fds[i]);
	kfree(scm->fds);
	scm->fds = NULL;
	scm->nfds = 0;
}

/* Parses the program's control buffer as Linux's __scm_send. */
static long scm_parse(const void *uctl, size_t ctllen, struct unix_scm *scm)
{
	uint8_t *buf;
	size_t off = 0;
	long r = 0;

	memset(scm, 0, sizeof(*scm));
	if (!uctl || ctllen < CMSG_HDR)
		return 0;
	if (ctllen > UNIX_CTL_MAX)
		return -ENOBUFS;
	buf = kmalloc(ctllen);
	if (!buf)
		return -ENOMEM;
	if (copy_from_user(buf, uctl, ctllen)) {
		r = -EFAULT;
		goto free_buf;
	}
	while (off + CMSG_HDR <= ctllen) {
		uint64_t clen;
		int level, type;
		memcpy(&clen, buf + off, 8);
		memcpy(&level, buf + off + 8, 4);
		memcpy(&type, buf + off + 12, 4);
		if (clen < CMSG_HDR || clen > ctllen - off) {
			r = -EINVAL;
			goto free_buf;
		}
		if (level == SOL_SOCKET && type == SCM_RIGHTS) {
			int num = (int)((clen - CMSG_HDR) / sizeof(int));
			if (num > 0) {
				if (scm->nfds + num > UNIX_MAX_FD) {
					r = -EINVAL;
					goto free_buf;
				}
				struct file **nfds = kmalloc(
				    sizeof(*nfds) * (size_t)(scm->nfds + num));
				if (!nfds) {
					r = -ENOMEM;
					goto free_buf;
				}
				if (scm->nfds)
					memcpy(nfds, scm->fds,
					       sizeof(*nfds) *
						   (size_t)scm->nfds);
				kfree(scm->fds);
				scm->fds = nfds;
				for (int i = 0; i < num; i++) {
					int fd;
					memcpy(&fd,
					       buf + off + CMSG_HDR + 4 * i, 4);
					struct file *pf = fd_get(fd);
					if (!pf) {
						r = -EBADF;
						goto free_buf;
					}
					scm->fds[scm->nfds++] = pf;
				}
			}
		} else if (level == SOL_SOCKET && type == SCM_CREDENTIALS) {
			if (clen != CMSG_HDR + sizeof(struct unix_cred)) {
				r = -EINVAL;
				goto free_buf;
			}
			memcpy(&scm->cred, buf + off + CMSG_HDR,
			       sizeof(scm->cred));
			scm->have_cred = true;
		} else if (level == SOL_SOCKET) {
			r = -EINVAL;
			goto free_buf;
		}
		off += CMSG_ALIGN_(clen);
	}
free_buf:
	kfree(buf);
	if (r)
		scm_drop(scm);
	return r;
}

/* A message of len bytes from the iterator, from sender s; NULL and *err
 * on failure. */
static struct unix_msg *msg_make(struct unix_sock *s, struct sock_iter *it,
				 size_t len, struct unix_scm *scm, int *err)
{
	struct unix_msg *m = kmalloc(sizeof(*m) + len);

	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	if (len && sock_iter_copy(it, m->data, len, false)) {
		kfree(m);
		*err = -EFAULT;
		return NULL;
	}
	m->len = len;
	m->cred = scm && scm->have_cred ? scm->cred : unix_own_cred();
	m->fromlen = s->addrlen;
	memcpy(m->from, s->addr, sizeof(m->from));
	if (scm && scm->nfds) {
		/* The files move into the message. */
		m->fds = scm->fds;
		m->nfds = scm->nfds;
		scm->fds = NULL;
		scm->nfds = 0;
	}
	return m;
}

static void msg_queue(struct unix_sock *t, struct unix_msg *m)
{
	if (t->rx_tail)
		t->rx_tail->next = m;
	else
		t->rx_head = m;
	t->rx_tail = m;
	t->rx_bytes += m->len;
	t->rx_count++;
	unix_wake(t, POLLIN | POLLRDNORM);
}

/* Can s queue more into t?  (A sender waits while not.) */
static bool unix_room(const struct unix_sock *s, const struct unix_sock *t)
{
	if (t->rx_bytes >= (size_t)s->sndbuf)
		return false;
	return s->type == SOCK_STREAM || t->rx_count < UNIX_DGRAM_QLEN;
}

struct unix_send_wait {
	struct unix_sock *s, *t;
};

static bool unix_can_send(void *arg)
{
	struct unix_send_wait *w = arg;
	return w->t->dead || (w->s->shut & UNIX_SHUT_SEND) ||
	       (w->t->shut & UNIX_SHUT_RCV) || w->s->peer != w->t ||
	       unix_room(w->s, w->t);
}

static bool unix_can_send_dgram(void *arg)
{
	struct unix_send_wait *w = arg;
	return w->t->dead || (w->s->shut & UNIX_SHUT_SEND) ||
	       (w->t->shut & UNIX_SHUT_RCV) || unix_room(w->s, w->t);
}

static ssize_t unix_send_stream(struct file *f, struct unix_sock *s,
				const struct iovec *iov, int cnt, size_t total,
				int flags, struct unix_scm *scm, bool user)
{
	struct sock_iter it;
	size_t done = 0;
	int err;

	sock_iter_init(&it, iov, cnt, user);
	for (;;) {
		struct unix_sock *t = s->peer;
		if (!t)
			return done ? (ssize_t)done : -ENOTCONN;
		if ((s->shut & UNIX_SHUT_SEND) || t->dead)
			return done ? (ssize_t)done : -EPIPE;
		if (done == total)
			return (ssize_t)done; /* 0 bytes: nothing is sent */
		if (unix_room(s, t)) {
			size_t room = (size_t)s->sndbuf - t->rx_bytes;
			size_t c = MIN(MIN(total - done, room), UNIX_CHUNK);
			struct unix_msg *m = msg_make(s, &it, c, scm, &err);
			if (!m)
				return done ? (ssize_t)done : err;
			msg_queue(t, m);
			done += c;
			if (done == total)
				return (ssize_t)done;
			continue;
		}
		if (unix_nonblock(f, flags))
			return done ? (ssize_t)done : -EAGAIN;
		struct unix_send_wait w = {s, t};
		unix_ref(t);
		int r =
		    wait_until(unix_can_send, &w, unix_deadline(s->sndtimeo));
		unix_unref(t);
		if (r)
			return done ? (ssize_t)done
				    : unix_wait_error(r, s->sndtimeo);
	}
}

/* One datagram or seqpacket record to t (referenced by the caller). */
static ssize_t unix_send_record(struct file *f, struct unix_sock *s,
				struct unix_sock *t, const struct iovec *iov,
				int cnt, size_t total, int flags,
				struct unix_scm *scm, bool user)
{
	struct sock_iter it;
	int err;

	if (total > (size_t)s->sndbuf - 32)
		return -EMSGSIZE;
	for (;;) {
		if (s->shut & UNIX_SHUT_SEND)
			return -EPIPE;
		if (t->dead)
			return unix_conn_based(s) ? -EPIPE : -ECONNREFUSED;
		if (unix_conn_based(s) && s->peer != t)
			return -EPIPE;
		if (!unix_conn_based(s) && t->peer && t->peer != s)
			return -EPERM; /* t only hears its own peer */
		if (t->shut & UNIX_SHUT_RCV)
			return -EPIPE;
		if (unix_room(s, t))
			break;
		if (unix_nonblock(f, flags))
			return -EAGAIN;
		struct unix_send_wait w = {s, t};
		int r = wait_until(unix_can_send_dgram, &w,
				   unix_deadline(s->sndtimeo));
		if (r)
			return unix_wait_error(r, s->sndtimeo);
	}
	sock_iter_init(&it, iov, cnt, user);
	struct unix_msg *m = msg_make(s, &it, total, scm, &err);
	if (!m)
		return err;
	msg_queue(t, m);
	return (ssize_t)total;
}

static ssize_t unix_send(struct file *f, const struct iovec *iov, int cnt,
			 size_t total, int flags, const struct unix_name *to,
			 struct unix_scm *scm, bool user)
{
	struct unix_sock *s = f->priv;
	struct unix_sock *t;
	ssize_t r;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->type == SOCK_STREAM) {
		if (to)
			return s->state == US_CONNECTED ? -EISCONN
							: -EOPNOTSUPP;
		return unix_send_stream(f, s, iov, cnt, total, flags, scm,
					user);
	}
	if (s->type == SOCK_SEQPACKET) {
		/* A destination is ignored, as on Linux. */
		if (s->state != US_CONNECTED || !s->peer)
			return -ENOTCONN;
		t = s->peer;
	} else if (to) {
		r = unix_find(to, s->type, &t);
		if (r)
			return r;
	} else {
		t = s->peer;
		if (!t)
			return -ENOTCONN;
		if (t->dead) {
			/* The peer is gone: forget it, as Linux does. */
			s->peer = NULL;
			s->state = US_UNCONNECTED;
			unix_unref(t);
			return -ECONNREFUSED;
		}
	}
	if (s->passcred && !s->addrlen) {
		r = unix_autobind(s);
		if (r)
			return r;
	}
	unix_ref(t);
	r = unix_send_record(f, s, t, iov, cnt, total, flags, scm, user);
	unix_unref(t);
	return r;
}

long unix_sendmsg(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, const void *uname, int namelen,
		  const void *uctl, size_t ctllen)
{
	struct unix_name to;
	struct unix_scm scm;
	bool bare;
	long r;

	if (uname && namelen) {
		r = unix_name_in(uname, namelen, &to, &bare);
		if (r)
			return r;
		if (bare)
			return -EINVAL;
	}
	r = scm_parse(uctl, ctllen, &scm);
	if (r)
		return r;
	r = unix_send(f, iov, cnt, total, flags, uname && namelen ? &to : NULL,
		      &scm, true);
	scm_drop(&scm); /* what the message did not take */
	return r;
}

/* ---- receiving ---- */

struct unix_ctl {
	uint8_t *ubuf; /* the program's control buffer, NULL: none */
	size_t cap, used;
	int *oflags;
	bool cloexec;
	bool user;
};

/* Appends one control message, cut short (with MSG_CTRUNC) when the
 * buffer ends first, as Linux's put_cmsg. */
static void ctl_put(struct unix_ctl *c, int type, const void *data, size_t len)
{
	size_t avail = c->cap - c->used;
	uint64_t clen = CMSG_HDR + len;
	int level = SOL_SOCKET;
	uint8_t hdr[CMSG_HDR];

	if (!c->ubuf || avail < CMSG_HDR) {
		*c->oflags |= MSG_CTRUNC;
		return;
	}
	if (avail < clen) {
		*c->oflags |= MSG_CTRUNC;
		len = avail - CMSG_HDR;
	}
	memcpy(hdr, &clen, 8);
	memcpy(hdr + 8, &level, 4);
	memcpy(hdr + 12, &type, 4);
	if (fs_copy_out(c->ubuf + c->used, hdr, CMSG_HDR, c->user) ||
	    fs_copy_out(c->ubuf + c->used + CMSG_HDR, data, len, c->user)) {
		*c->oflags |= MSG_CTRUNC;
		return;
	}
	c->used += MIN(CMSG_SPACE_(clen - CMSG_HDR), avail);
}

/* Delivers m's files (moving them out of m unless peek) and, with
 * SO_PASSCRED, its credentials. */
static void ctl_deliver(struct unix_sock *s, struct unix_msg *m,
			struct unix_ctl *c, bool peek)
{
	if (s->passcred)
		ctl_put(c, SCM_CREDENTIALS, &m->cred, sizeof(m->cred));
	if (!m->nfds)
		return;
	size_t avail = c->ubuf ? c->cap - c->used : 0;
	int fit =
	    avail > CMSG_HDR ? (int)((avail - CMSG_HDR) / sizeof(int)) : 0;
	int n = MIN(fit, m->nfds), got = 0;
	int fds[UNIX_MAX_FD];

	if (n < m->nfds)
		*c->oflags |= MSG_CTRUNC;
	for (int i = 0; i < n; i++) {
		file_get(m->fds[i]);
		int fd = fd_install(m->fds[i], 0, c->cloexec);
		if (fd < 0) {
			file_put(m->fds[i]);
			*c->oflags |= MSG_CTRUNC;
			break;
		}
		fds[got++] = fd;
	}
	if (got)
		ctl_put(c, SCM_RIGHTS, fds, sizeof(int) * (size_t)got);
	if (!peek) {
		for (int i = 0; i < m->nfds; i++)
			file_put(m->fds[i]);
		kfree(m->fds);
		m->fds = NULL;
		m->nfds = 0;
	}
}

static bool unix_can_recv(void *arg)
{
	struct unix_sock *s = arg;
	return s->rx_head || s->error || (s->shut & UNIX_SHUT_RCV);
}

/* Takes m (the head) off s's queue. */
static void msg_unqueue(struct unix_sock *s, struct unix_msg *m)
{
	s->rx_head = m->next;
	if (!s->rx_head)
		s->rx_tail = NULL;
	s->rx_count--;
	s->rx_bytes -= m->len - m->off;
}

/* Wakes writers that may now fit: the connection's peer, or any
 * datagram sender. */
static void unix_space_freed(struct unix_sock *s)
{
	if (s->peer && unix_conn_based(s))
		unix_wake(s->peer, POLLOUT | POLLWRNORM);
	else
		sched_kick();
	/* A datagram peer's POLLOUT depends on our queue. */
	if (s->peer && !unix_conn_based(s) && s->peer->file)
		file_notify(s->peer->file, POLLOUT | POLLWRNORM);
}

/* Waits for something to read; 0, or -errno / 1 for end of file. */
static int unix_recv_wait(struct file *f, struct unix_sock *s, int flags)
{
	while (!s->rx_head) {
		if (s->error) {
			int e = s->error;
			s->error = 0;
			return -e;
		}
		if (s->shut & UNIX_SHUT_RCV)
			return 1;
		if (unix_nonblock(f, flags))
			return -EAGAIN;
		int w =
		    wait_until(unix_can_recv, s, unix_deadline(s->rcvtimeo));
		if (w)
			return unix_wait_error(w, s->rcvtimeo);
	}
	return 0;
}

static ssize_t unix_recv_stream(struct file *f, struct unix_sock *s,
				struct sock_iter *it, size_t total, int flags,
				struct unix_ctl *c)
{
	bool peek = flags & MSG_PEEK;
	size_t copied = 0;
	size_t target = (flags & MSG_WAITALL) ? total : 1;
	bool freed = false;

	if (s->state != US_CONNECTED)
		return -EINVAL;
	if (total == 0)
		return 0;
	for (;;) {
		if (!s->rx_head) {
			if (copied >= target)
				break;
			int r = unix_recv_wait(f, s, flags);
			if (r == 1)
				break;
			if (r < 0) {
				if (copied)
					break;
				return r;
			}
		}
		struct unix_msg *m = s->rx_head;
		if (copied && m->nfds)
			break; /* files start a new read, as on Linux */
		size_t n = MIN(m->len - m->off, total - copied);
		if (n && sock_iter_copy(it, m->data + m->off, n, true)) {
			if (copied)
				break;
			return -EFAULT;
		}
		copied += n;
		bool had_fds = m->nfds > 0;
		if (had_fds || s->passcred)
			ctl_deliver(s, m, c, peek);
		if (peek) {
			/* The data stays: copy what follows, up to files. */
			struct unix_msg *p = m->next;
			while (!had_fds && p && copied < total && !p->nfds) {
				size_t pn = MIN(p->len, total - copied);
				if (pn && sock_iter_copy(it, p->data, pn, true))
					break;
				copied += pn;
				p = p->next;
			}
			break;
		}
		m->off += n;
		s->rx_bytes -= n;
		freed = true;
		if (m->off == m->len) {
			s->rx_head = m->next;
			if (!s->rx_head)
				s->rx_tail = NULL;
			s->rx_count--;
			msg_free(m);
		}
		if (had_fds || copied == total)
			break;
	}
	if (freed)
		unix_space_freed(s);
	return (ssize_t)copied;
}

static ssize_t unix_recv_record(struct file *f, struct unix_sock *s,
				struct sock_iter *it, size_t total, int flags,
				struct unix_ctl *c, uint8_t *from, int *fromlen)
{
	bool peek = flags & MSG_PEEK;
	struct unix_msg *m;
	size_t n;

	if (s->type == SOCK_SEQPACKET && s->state != US_CONNECTED)
		return -ENOTCONN;
	int r = unix_recv_wait(f, s, flags);
	if (r == 1)
		return 0;
	if (r < 0)
		return r;
	m = s->rx_head;
	n = MIN(m->len, total);
	if (n && sock_iter_copy(it, m->data, n, true))
		return -EFAULT;
	if (n < m->len)
		*c->oflags |= MSG_TRUNC;
	if (from) {
		memcpy(from, m->from, sizeof(m->from));
		*fromlen = m->fromlen;
	}
	ctl_deliver(s, m, c, peek);
	if (flags & MSG_TRUNC)
		n = m->len; /* the real length, as Linux reports it */
	if (!peek) {
		msg_unqueue(s, m);
		msg_free(m);
		unix_space_freed(s);
	}
	return (ssize_t)n;
}

/* The core of recvmsg and read; iterator bases are user memory when
 * user. */
static ssize_t unix_recv(struct file *f, const struct iovec *iov, int cnt,
			 size_t total, int flags, uint8_t *from, int *fromlen,
			 struct unix_ctl *c, bool user)
{
	struct unix_sock *s = f->priv;
	struct sock_iter it;
	ssize_t r;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	sock_iter_init(&it, iov, cnt, user);
	if (s->type != SOCK_STREAM)
		return unix_recv_record(f, s, &it, total, flags, c, from,
					fromlen);
	r = unix_recv_stream(f, s, &it, total, flags, c);
	if (r >= 0 && from) {
		/* The sender of a stream is the peer. */
		struct unix_sock *p = s->peer;
		*fromlen = p ? p->addrlen : 0;
		if (p)
			memcpy(from, p->addr, sizeof(p->addr));
	}
	return r;
}

long unix_recvmsg(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, void *uname, int *namelen,
		  void *uctl, size_t *ctllen, int *oflags)
{
	uint8_t from[UNIX_ADDR_MAX];
	int fromlen = 0;
	struct unix_ctl c = {
	    .ubuf = uctl,
	    .cap = uctl ? *ctllen : 0,
	    .oflags = oflags,
	    .cloexec = flags & MSG_CMSG_CLOEXEC,
	    .user = true,
	};
	long r;

	*oflags = 0;
	r = unix_recv(f, iov, cnt, total, flags & ~MSG_CMSG_CLOEXEC, from,
		      &fromlen, &c, true);
	if (r < 0)
		return r;
	if (uname && fromlen) {
		if (*namelen > 0 &&
		    copy_to_user(uname, from,
				 MIN((size_t)*namelen, (size_t)fromlen)))
			return -EFAULT;
	}
	*namelen = uname ? fromlen : 0;
	*ctllen = c.used;
	return r;
}

/* ---- options ---- */

static int unix_opt_int(const void *val, size_t len, int *out)
{
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int unix_buf_size(int v)
{
	/* Linux doubles the value (for its bookkeeping) and reports that. */
	int64_t d = (int64_t)v * 2;
	if (d < UNIX_MIN_BUF)
		d = UNIX_MIN_BUF;
	if (d > UNIX_MAX_BUF)
		d = UNIX_MAX_BUF;
	return (int)d;
}

static int unix_opt_timeo(const void *val, size_t len, uint64_t *out)
{
	struct {
		int64_t sec, usec;
	} tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.usec < 0 || tv.usec >= 1000000)
		return -EDOM;
	if (tv.sec < 0)
		*out = 1; /* already over, as Linux treats it */
	else if ((uint64_t)tv.sec >= UINT64_MAX / NSEC_PER_SEC / 2)
		*out = 0;
	else
		*out =
		    (uint64_t)tv.sec * NSEC_PER_SEC + (uint64_t)tv.usec * 1000;
	return 0;
}

int unix_setopt(struct file *f, int level, int name, const void *val,
		size_t len)
{
	struct unix_sock *s = f->priv;
	int v, r;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	switch (name) {
	case SO_RCVTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
		return unix_opt_timeo(val, len, &s->rcvtimeo);
	case SO_SNDTIMEO_OLD:
	case SO_SNDTIMEO_NEW:
		return unix_opt_timeo(val, len, &s->sndtimeo);
	case SO_LINGER:
		return len < 8 ? -EINVAL : 0; /* nothing lingers here */
	}
	r = unix_opt_int(val, len, &v);
	if (r)
		return r;
	switch (name) {
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		s->sndbuf = unix_buf_size(v);
		unix_wake(s, POLLOUT | POLLWRNORM);
		return 0;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		s->rcvbuf = unix_buf_size(v);
		return 0;
	case SO_PASSCRED:
		s->passcred = v != 0;
		return 0;
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_KEEPALIVE:
	case SO_BROADCAST:
	case SO_DEBUG:
	case SO_DONTROUTE:
	case SO_OOBINLINE:
	case SO_PRIORITY:
	case SO_RCVLOWAT:
	case SO_MARK:
	case SO_PASSSEC:
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMPNS_OLD:
		return 0; /* accepted, no effect on local sockets */
	default:
		return -ENOPROTOOPT;
	}
}

int unix_getopt(struct file *f, int level, int name, void *val, size_t *len)
{
	struct unix_sock *s = f->priv;
	int v;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	switch (name) {
	case SO_PEERCRED: {
		struct unix_cred c = {0, (uint32_t)-1, (uint32_t)-1};
		if (s->peer || s->state == US_LISTEN)
			c = unix_own_cred();
		*len = MIN(*len, sizeof(c));
		memcpy(val, &c, *len);
		return 0;
	}
	case SO_RCVTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_OLD:
	case SO_SNDTIMEO_NEW: {
		uint64_t t = name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW
				 ? s->rcvtimeo
				 : s->sndtimeo;
		int64_t tv[2] = {(int64_t)(t / NSEC_PER_SEC),
				 (int64_t)(t % NSEC_PER_SEC / 1000)};
		*len = MIN(*len, sizeof(tv));
		memcpy(val, tv, *len);
		return 0;
	}
	case SO_TYPE:
		v = s->type;
		break;
	case SO_DOMAIN:
		v = AF_UNIX;
		break;
	case SO_PROTOCOL:
		v = 0;
		break;
	case SO_ERROR:
		v = s->error;
		s->error = 0;
		break;
	case SO_ACCEPTCONN:
		v = s->state == US_LISTEN;
		break;
	case SO_SNDBUF:
		v = s->sndbuf;
		break;
	case SO_RCVBUF:
		v = s->rcvbuf;
		break;
	case SO_PASSCRED:
		v = s->passcred;
		break;
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_KEEPALIVE:
	case SO_BROADCAST:
	case SO_DEBUG:
	case SO_DONTROUTE:
	case SO_OOBINLINE:
	case SO_PRIORITY:
	case SO_MARK:
		v = 0;
		break;
	case SO_RCVLOWAT:
	case SO_SNDLOWAT:
		v = 1;
		break;
	default:
		return -ENOPROTOOPT;
	}
	*len = MIN(*len, sizeof(v));
	memcpy(val, &v, *len);
	return 0;
}

/* ---- file operations ---- */

static ssize_t unix_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			 bool user)
{
	struct iovec v = {.iov_base = buf, .iov_len = n};
	int oflags = 0;
	struct unix_ctl c = {.oflags = &oflags, .user = user};

	return unix_recv(f, &v, 1, n, 0, NULL, NULL, &c, user);
}

static ssize_t unix_write(struct file *f, const void *buf, size_t n,
			  uint64_t *pos, bool user)
{
	struct iovec v = {.iov_base = (void *)buf, .iov_len = n};
	struct unix_scm scm = {0};

	return unix_send(f, &v, 1, n, 0, NULL, &scm, user);
}

static unsigned int unix_poll(struct file *f)
{
	struct unix_sock *s = f->priv;
	unsigned int mask = 0;
	struct unix_sock *p;

	if (!s)
		return 0;
	if (s->error)
		mask |= POLLERR;
	if (s->shut == UNIX_SHUT_BOTH)
		mask |= POLLHUP;
	if (s->shut & UNIX_SHUT_RCV)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (s->rx_head || s->acc_head)
		mask |= POLLIN | POLLRDNORM;
	if (unix_conn_based(s) && s->state == US_UNCONNECTED)
		mask |= POLLHUP;
	if (s->state == US_LISTEN)
		return mask;
	p = s->peer;
	/* Linux: writable while a quarter of the send buffer is used. */
	if (!p || p->dead || (s->shut & UNIX_SHUT_SEND) ||
	    (p->rx_bytes * 4 <= (size_t)s->sndbuf &&
	     (s->type == SOCK_STREAM || p->rx_count < UNIX_DGRAM_QLEN)))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

static long unix_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct unix_sock *s = f->priv;
	int n;

	switch (cmd) {
	case FIONREAD_:
		if (s->state == US_LISTEN)
			return -EINVAL;
		if (s->type == SOCK_STREAM)
			n = (int)MIN(s->rx_bytes, (size_t)INT32_MAX);
		else
			n = s->rx_head ? (int)s->rx_head->len : 0;
		break;
	case TIOCOUTQ_:
		if (s->state == US_LISTEN)
			return -EINVAL;
		n = s->peer && unix_conn_based(s)
			? (int)MIN(s->peer->rx_bytes, (size_t)INT32_MAX)
			: 0;
		break;
	default:
		return -ENOTTY;
	}
	return copy_to_user((void *)arg, &n, sizeof(n)) ? -EFAULT : 0;
}

static int unix_getattr(struct file *f, struct kstat *st)
{
	struct unix_sock *s = f->priv;

	memset(st, 0, sizeof(*st));
	st->dev_minor = UNIX_DEV_MINOR;
	st->ino = s ? s->ino : 0;
	st->nlink = 1;
	st->mode = S_IFSOCK | 0777;
	st->blksize = PAGE_SIZE;
	if (s)
		st->atime = st->mtime = st->ctime = st->btime = s->ctime;
	return 0;
}

static const struct file_ops unix_fops = {
    .read = unix_read,
    .write = unix_write,
    .ioctl = unix_ioctl,
    .getattr = unix_getattr,
    .poll = unix_poll,
    .release = unix_release,
};
