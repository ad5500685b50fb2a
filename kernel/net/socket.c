/*
 * Sockets: TCP and UDP over IPv4 on lwIP's raw API, as files.
 *
 * Design.  A socket is a struct file without an inode whose priv is a
 * struct sock, which owns one lwIP pcb.  lwIP runs only inside net_poll
 * (a poller of the wait layer, so every blocking wait and poll/epoll wait
 * runs it) and inside the socket syscalls themselves:
 * both run with interrupts disabled on the one CPU, so lwIP is never
 * entered twice and no locks are needed.  lwIP talks back through
 * callbacks, which only move data and state into the struct sock and call
 * file_notify (epoll's edge and level triggering both hang on it); the
 * syscalls read that state, and a syscall that must wait does so with
 * wait_until on a predicate over it, so the callbacks run while it waits.
 *
 * TCP receive: tcp_recv hands over pbuf chains, which are split into
 * single pbufs queued on the socket; the program's reads copy out of them
 * and only then tell lwIP (tcp_recved), so the advertised window is what
 * the program has not read yet, as with Linux's receive buffer.  TCP send:
 * tcp_write with TCP_WRITE_FLAG_COPY from a bounce buffer, as much as
 * tcp_sndbuf allows, then tcp_output; a blocking send waits until acks
 * (tcp_sent) free enough room, a non-blocking one returns a short count
 * or EAGAIN.  A listening socket's accept callback makes a struct sock
 * for every new connection at once (so data and FIN that arrive before
 * accept() are kept) and queues it; tcp_backlog_delayed keeps lwIP from
 * completing more handshakes than the backlog while they wait.
 *
 * Lifetime.  lwIP may free a pcb on its own: after a RST or a timeout
 * (tcp_err), after the last ACK of an orderly close, when TIME_WAIT ends.
 * Every such free goes through tcp_free, which calls the "destroyed"
 * callback of the pcb's extension argument; that is where the socket
 * forgets its pcb, so it never touches freed memory.  When the program
 * closes a socket, every callback and argument is cleared before
 * tcp_close (tcp_abort if that fails, or for SO_LINGER 0), so lwIP, which
 * keeps the pcb to finish sending and close, can never call back into the
 * freed socket.  Closing with unread data sends a RST, as Linux does.
 *
 * UDP: udp_recv queues each datagram with its source; sends build one
 * pbuf of the whole datagram (lwIP fragments it).
 *
 * Not here: IPv6, AF_UNIX, raw sockets, urgent data, ancillary data,
 * ICMP errors reported to UDP sockets, SO_LINGER waiting in close (lwIP
 * finishes the close in the background).
 */
/* vfs.h first: lwIP's <limits.h> pulls in glibc's features.h, after
 * which <linux/stat.h> leaves the S_IF* constants to libc. */
#include "../fs/vfs.h"

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "ksignal.h"
#include "mm.h"
#include "net.h"
#include "proc.h"
#include "socket.h"
#include "uaccess.h"
#include "wait.h"

#include <asm/poll.h>
#include <asm/socket.h>
#include <linux/tcp.h>

#define SOCK_DEV_MINOR	 8	    /* st_dev 0:8, Linux's sockfs */
#define SOCK_BOUNCE	 65535	    /* bytes per tcp_write (u16) */
#define SOCK_UDP_MAX	 65507	    /* largest IPv4 UDP payload */
#define SOCK_UDP_RCVBUF	 212992	    /* Linux's default rmem */
#define SOCK_MIN_BUF	 2304	    /* smallest SO_RCVBUF/SO_SNDBUF */
#define SOCK_MAX_BUF	 (8u << 20) /* largest SO_RCVBUF/SO_SNDBUF */
#define SOCK_BACKLOG_MAX 255	    /* lwIP keeps the backlog in a u8 */
#define NSEC_PER_SEC	 1000000000ULL
#define FIONREAD_	 0x541b
#define TIOCOUTQ_	 0x5411
#define SIOCATMARK_	 0x8905
#define IP_TOS_		 1
#define IP_TTL_		 2
#define IP_PKTINFO_	 8
#define IP_MTU_DISCOVER_ 10
#define IP_RECVERR_	 11
#define IP_RECVTOS_	 13

enum sock_state {
	SS_NEW,	       /* TCP: not connected, maybe bound */
	SS_LISTEN,     /* TCP: accepting */
	SS_CONNECTING, /* TCP: SYN sent */
	SS_CONNECTED,  /* TCP: established (maybe half closed since) */
	SS_FAILED,     /* TCP: reset, timed out or refused */
};

/* A received UDP datagram and its sender. */
struct sock_dgram {
	struct sock_dgram *next;
	struct pbuf *p;
	struct sock_addr from;
};

struct sock {
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	enum sock_state state;
	struct file *file;   /* NULL while queued on a listener */
	struct tcp_pcb *tcp; /* NULL once lwIP freed it */
	struct udp_pcb *udp;
	uint64_t ino;
	struct fs_time ctime;

	bool bound;
	bool ever_connected; /* SS_CONNECTED was reached */
	bool udp_connected;
	bool rx_fin;  /* the peer's FIN arrived */
	bool rd_shut; /* shutdown(SHUT_RD) */
	bool wr_shut; /* shutdown(SHUT_WR): FIN queued */
	int error;    /* pending SO_ERROR (positive errno), 0 if none */
	struct sock_addr local, peer; /* kept for when the pcb is gone */
	bool have_peer;

	/* TCP receive queue: single pbufs linked through next. */
	struct pbuf *rx_head, *rx_tail;
	size_t rx_off;	 /* bytes of rx_head already read */
	size_t rx_bytes; /* unread bytes in the queue */

	/* UDP receive queue. */
	struct sock_dgram *dg_head, *dg_tail;
	size_t dg_bytes;

	/* Listener: connections waiting for accept(). */
	struct sock *acc_head, *acc_tail, *acc_next;
	int acc_count;
	int backlog;

	/* Options. */
	bool reuseaddr, reuseport, keepalive, broadcast, nodelay;
	bool linger_on;
	int linger_sec;
	int rcvbuf, sndbuf;	     /* as reported (doubled, as Linux) */
	uint64_t rcvtimeo, sndtimeo; /* ns, 0: forever */
	int keepidle, keepintvl, keepcnt;
	int syncnt; /* TCP_SYNCNT: SYN retransmissions before connect gives
		       up; 0: lwIP's TCP_SYNMAXRTX */
	int tos, ttl;
	struct {
		bool used;
		int level, name, value;
	} recorded[8]; /* options accepted without effect, for getsockopt */
};

static const struct file_ops sock_fops;
static bool sock_ready;
static uint8_t sock_ext_id;
static uint64_t sock_next_ino = 1;
static uint8_t sock_bounce[SOCK_BOUNCE];

/* ---- helpers ---- */

/* Tells epoll that the socket may have become ready for events. */
static void sock_notify(struct sock *s, unsigned int events)
{
	if (s->file)
		file_notify(s->file, events);
}

static int sock_take_error(struct sock *s)
{
	int e = s->error;
	s->error = 0;
	return e;
}

static bool sock_nonblock(const struct file *f, int flags)
{
	return (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
}

static uint64_t sock_deadline(uint64_t timeo)
{
	return timeo ? wait_deadline_after(timeo) : UINT64_MAX;
}

static void sock_ip(ip_addr_t *ip, uint32_t addr)
{
	ip4_addr_set_u32(ip_2_ip4(ip), addr);
}

static void sock_addr_of(struct sock_addr *a, const ip_addr_t *ip,
			 uint16_t port)
{
	a->addr = ip4_addr_get_u32(ip_2_ip4(ip));
	a->port = port;
}

/* Is addr one of ours (or INADDR_ANY)?  Binding elsewhere is
 * EADDRNOTAVAIL. */
static bool sock_addr_local(uint32_t addr)
{
	struct netif *n;

	if (addr == 0)
		return true;
	NETIF_FOREACH(n)
	{
		if (ip4_addr_get_u32(netif_ip4_addr(n)) == addr)
			return true;
	}
	return false;
}

void sock_iter_init(struct sock_iter *it, const struct iovec *iov, int cnt,
		    bool user)
{
	it->iov = iov;
	it->cnt = cnt;
	it->idx = 0;
	it->off = 0;
	it->user = user;
}

int sock_iter_copy(struct sock_iter *it, void *buf, size_t n, bool out)
{
	uint8_t *p = buf;

	while (n) {
		if (it->idx >= it->cnt)
			return -EFAULT;
		const struct iovec *v = &it->iov[it->idx];
		size_t c = MIN(n, v->iov_len - it->off);
		uint8_t *u = (uint8_t *)v->iov_base + it->off;
		if (c && (out ? fs_copy_out(u, p, c, it->user)
			      : fs_copy_in(p, u, c, it->user)))
			return -EFAULT;
		p += c;
		n -= c;
		it->off += c;
		if (it->off == v->iov_len) {
			it->idx++;
			it->off = 0;
		}
	}
	return 0;
}

static int iter_out(struct sock_iter *it, const void *src, size_t n)
{
	return sock_iter_copy(it, (void *)src, n, true);
}

static int iter_in(struct sock_iter *it, void *dst, size_t n)
{
	return sock_iter_copy(it, dst, n, false);
}

/* ---- TCP callbacks (run inside lwIP) ---- */

static void sock_tcp_destroyed(u8_t id, void *data)
{
	struct sock *s = data;

	if (s)
		s->tcp = NULL;
}

static const struct tcp_ext_arg_callbacks sock_ext_callbacks = {
    .destroy = sock_tcp_destroyed,
};

/* Writable: room for a worthwhile write, as lwIP's own sockets judge it
 * (TCP_SNDLOWAT bytes and TCP_SNDQUEUELOWAT segments). */
static bool sock_tcp_writable(const struct sock *s)
{
	return s->tcp && s->tcp->snd_buf >= TCP_SNDLOWAT &&
	       s->tcp->snd_queuelen < TCP_SNDQUEUELOWAT;
}

static err_t sock_tcp_on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct sock *s = arg;

	if (s && sock_tcp_writable(s))
		sock_notify(s, POLLOUT | POLLWRNORM);
	return ERR_OK;
}

static err_t sock_tcp_on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			      err_t err)
{
	struct sock *s = arg;
	struct pbuf *q, *next;

	if (!s) {
		/* Not reached: callbacks are cleared before the socket
		 * goes.  Behave like lwIP's tcp_recv_null. */
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {
		s->rx_fin = true;
		sock_notify(s, POLLIN | POLLRDNORM | POLLRDHUP |
				   (s->wr_shut ? POLLHUP : 0));
		return ERR_OK;
	}
	/* Split the chain: each pbuf is freed as soon as it is read. */
	for (q = p; q; q = next) {
		next = q->next;
		q->next = NULL;
		q->tot_len = q->len;
		s->rx_bytes += q->len;
		if (s->rx_tail)
			s->rx_tail->next = q;
		else
			s->rx_head = q;
		s->rx_tail = q;
	}
	sock_notify(s, POLLIN | POLLRDNORM);
	return ERR_OK;
}

static void sock_tcp_on_err(void *arg, err_t err)
{
	struct sock *s = arg;

	if (!s)
		return;
	s->tcp = NULL; /* lwIP frees it (the destroyed callback agrees) */
	if (err == ERR_CLSD) {
		/* The last ACK of an orderly close: nothing went wrong. */
		sock_notify(s, POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP);
		return;
	}
	if (err == ERR_RST)
		s->error =
		    s->state == SS_CONNECTING ? ECONNREFUSED : ECONNRESET;
	else
		s->error =
		    ETIMEDOUT; /* retransmissions or keepalives ran out */
	s->state = SS_FAILED;
	sock_notify(s, POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM |
			   POLLERR | POLLHUP);
}

static void sock_cache_names(struct sock *s)
{
	if (!s->tcp)
		return;
	sock_addr_of(&s->local, &s->tcp->local_ip, s->tcp->local_port);
	sock_addr_of(&s->peer, &s->tcp->remote_ip, s->tcp->remote_port);
	s->have_peer = true;
}

/* The options a connection takes from its socket (or listener). */
static void sock_tcp_apply_options(struct sock *s)
{
	struct tcp_pcb *pcb = s->tcp;

	if (!pcb || pcb->state == LISTEN)
		return;
	if (s->nodelay)
		tcp_nagle_disable(pcb);
	else
		tcp_nagle_enable(pcb);
	if (s->keepalive)
		ip_set_option(pcb, SOF_KEEPALIVE);
	else
		ip_reset_option(pcb, SOF_KEEPALIVE);
	pcb->keep_idle = (u32_t)s->keepidle * 1000;
	pcb->keep_intvl = (u32_t)s->keepintvl * 1000;
	pcb->keep_cnt = (u32_t)s->keepcnt;
	if (s->tos >= 0)
		pcb->tos = (u8_t)s->tos;
	if (s->ttl > 0)
		pcb->ttl = (u8_t)s->ttl;
}

static err_t sock_tcp_on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;

	if (!s)
		return ERR_OK;
	s->state = SS_CONNECTED;
	s->ever_connected = true;
	tcp_poll(pcb, NULL, 0); /* TCP_SYNCNT's watch is over */
	sock_cache_names(s);
	sock_notify(s, POLLOUT | POLLWRNORM);
	return ERR_OK;
}

static err_t sock_tcp_on_accept(void *arg, struct tcp_pcb *newpcb, err_t err);

/* Makes pcb the socket's and points its callbacks at the socket. */
static void sock_tcp_attach(struct sock *s, struct tcp_pcb *pcb)
{
	s->tcp = pcb;
	tcp_arg(pcb, s);
	tcp_ext_arg_set_callbacks(pcb, sock_ext_id, &sock_ext_callbacks);
	tcp_ext_arg_set(pcb, sock_ext_id, s);
	if (pcb->state == LISTEN) {
		tcp_accept(pcb, sock_tcp_on_accept);
	} else {
		tcp_recv(pcb, sock_tcp_on_recv);
		tcp_sent(pcb, sock_tcp_on_sent);
		tcp_err(pcb, sock_tcp_on_err);
	}
}

/* Cuts the pcb loose: lwIP keeps it (to finish a close) but can never
 * call back into the socket.  Returns the pcb. */
static struct tcp_pcb *sock_tcp_detach(struct sock *s)
{
	struct tcp_pcb *pcb = s->tcp;

	if (!pcb)
		return NULL;
	tcp_arg(pcb, NULL);
	tcp_ext_arg_set(pcb, sock_ext_id, NULL);
	if (pcb->state == LISTEN) {
		tcp_accept(pcb, NULL);
	} else {
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
	}
	s->tcp = NULL;
	return pcb;
}

static struct sock *sock_alloc(int type)
{
	struct sock *s = kzalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->type = type;
	s->state = SS_NEW;
	s->ino = sock_next_ino++;
	fs_time_now(&s->ctime);
	s->keepidle = TCP_KEEPIDLE_DEFAULT / 1000;
	s->keepintvl = TCP_KEEPINTVL_DEFAULT / 1000;
	s->keepcnt = TCP_KEEPCNT_DEFAULT;
	s->tos = -1;
	return s;
}

static void sock_free_queues(struct sock *s)
{
	while (s->rx_head) {
		struct pbuf *q = s->rx_head;
		s->rx_head = q->next;
		q->next = NULL;
		pbuf_free(q);
	}
	s->rx_tail = NULL;
	s->rx_bytes = 0;
	while (s->dg_head) {
		struct sock_dgram *d = s->dg_head;
		s->dg_head = d->next;
		pbuf_free(d->p);
		kfree(d);
	}
	s->dg_tail = NULL;
	s->dg_bytes = 0;
}

/* Ends a TCP socket's connection and frees the socket. */
static void sock_tcp_destroy(struct sock *s)
{
	struct tcp_pcb *pcb;

	/* Connections nobody accepted are reset, as on Linux. */
	while (s->acc_head) {
		struct sock *c = s->acc_head;
		s->acc_head = c->acc_next;
		pcb = sock_tcp_detach(c);
		if (pcb)
			tcp_abort(pcb);
		sock_free_queues(c);
		kfree(c);
	}
	/* Unread data is dropped without tcp_recved: tcp_close then
	 * answers with a RST, as Linux does. */
	sock_free_queues(s);
	pcb = sock_tcp_detach(s);
	if (pcb) {
		if (pcb->state != LISTEN && s->linger_on && s->linger_sec == 0)
			tcp_abort(pcb);
		else if (tcp_close(pcb) != ERR_OK && pcb->state != LISTEN)
			tcp_abort(pcb);
	}
	kfree(s);
}

static err_t sock_tcp_on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct sock *ls = arg;
	struct sock *s;

	/* An error makes lwIP abort the new pcb, whose error callback is
	 * still unset. */
	if (err != ERR_OK || !newpcb || !ls || ls->state != SS_LISTEN)
		return ERR_VAL;
	s = sock_alloc(SOCK_STREAM);
	if (!s)
		return ERR_MEM;
	/* Options are inherited from the listener, as on Linux. */
	s->state = SS_CONNECTED;
	s->ever_connected = true;
	s->bound = true;
	s->reuseaddr = ls->reuseaddr;
	s->reuseport = ls->reuseport;
	s->keepalive = ls->keepalive;
	s->nodelay = ls->nodelay;
	s->linger_on = ls->linger_on;
	s->linger_sec = ls->linger_sec;
	s->rcvbuf = ls->rcvbuf;
	s->sndbuf = ls->sndbuf;
	s->rcvtimeo = ls->rcvtimeo;
	s->sndtimeo = ls->sndtimeo;
	s->keepidle = ls->keepidle;
	s->keepintvl = ls->keepintvl;
	s->keepcnt = ls->keepcnt;
	s->tos = ls->tos;
	s->ttl = ls->ttl;
	sock_tcp_attach(s, newpcb);
	sock_tcp_apply_options(s);
	sock_cache_names(s);
	/* Counts against the backlog until accept() takes it. */
	tcp_backlog_delayed(newpcb);
	if (ls->acc_tail)
		ls->acc_tail->acc_next = s;
	else
		ls->acc_head = s;
	ls->acc_tail = s;
	ls->acc_count++;
	sock_notify(ls, POLLIN | POLLRDNORM);
	return ERR_OK;
}

/* ---- UDP callback ---- */

static void sock_udp_on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
			     const ip_addr_t *addr, u16_t port)
{
	struct sock *s = arg;
	struct sock_dgram *d;
	size_t limit;

	if (!s) {
		pbuf_free(p);
		return;
	}
	limit = s->rcvbuf ? (size_t)s->rcvbuf : SOCK_UDP_RCVBUF;
	/* A full queue drops the datagram, as a full socket buffer does. */
	if (s->dg_bytes + p->tot_len > limit || !(d = kmalloc(sizeof(*d)))) {
		pbuf_free(p);
		return;
	}
	d->next = NULL;
	d->p = p;
	sock_addr_of(&d->from, addr, port);
	if (s->dg_tail)
		s->dg_tail->next = d;
	else
		s->dg_head = d;
	s->dg_tail = d;
	s->dg_bytes += p->tot_len;
	sock_notify(s, POLLIN | POLLRDNORM);
}

/* ---- files ---- */

bool sock_is(const struct file *f)
{
	return f->ops == &sock_fops;
}

int sock_type(const struct file *f)
{
	return ((const struct sock *)f->priv)->type;
}

/* First use: the pcb extension argument.  (net_init made net_poll a
 * poller of every wait, so blocking socket calls and poll/epoll run the
 * network.) */
static void sock_layer_init(void)
{
	if (sock_ready)
		return;
	sock_ext_id = tcp_ext_arg_alloc_id();
	sock_ready = true;
}

/* A file for s (one reference); NULL when out of memory. */
static struct file *sock_file(struct sock *s, unsigned int fflags)
{
	char name[40];
	struct file *f = file_alloc(&sock_fops, O_RDWR | fflags, NULL);

	if (!f)
		return NULL;
	/* What /proc/self/fd shows; a missing name only changes that. */
	snprintf(name, sizeof(name), "socket:[%llu]",
		 (unsigned long long)s->ino);
	f->path = strdup(name);
	f->priv = s;
	s->file = f;
	return f;
}

int sock_create(int type, unsigned int fflags, struct file **out)
{
	struct sock *s;

	/* Without a network device lwIP was never started. */
	if (!net_active())
		return -EAFNOSUPPORT;
	sock_layer_init();
	s = sock_alloc(type);
	if (!s)
		return -ENOMEM;
	if (type == SOCK_STREAM) {
		struct tcp_pcb *pcb = tcp_new();
		if (!pcb) {
			kfree(s);
			return -ENOMEM;
		}
		sock_tcp_attach(s, pcb);
	} else {
		s->udp = udp_new();
		if (!s->udp) {
			kfree(s);
			return -ENOMEM;
		}
		udp_recv(s->udp, sock_udp_on_recv, s);
	}
	*out = sock_file(s, fflags & O_NONBLOCK);
	if (*out)
		return 0;
	if (s->udp) {
		udp_remove(s->udp);
		kfree(s);
	} else {
		sock_tcp_destroy(s);
	}
	return -ENOMEM;
}

/* ---- bind, listen, accept, connect ---- */

static int sock_err_bind(err_t e)
{
	switch (e) {
	case ERR_OK:
		return 0;
	case ERR_USE:
	case ERR_BUF:
		return -EADDRINUSE;
	case ERR_VAL:
		return -EINVAL;
	case ERR_MEM:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

int sock_bind(struct file *f, const struct sock_addr *a)
{
	struct sock *s = f->priv;
	ip_addr_t ip;
	int r;

	if (s->bound)
		return -EINVAL;
	if (!sock_addr_local(a->addr))
		return -EADDRNOTAVAIL;
	sock_ip(&ip, a->addr);
	if (s->type == SOCK_STREAM) {
		if (s->state != SS_NEW || !s->tcp)
			return -EINVAL;
		r = sock_err_bind(tcp_bind(s->tcp, &ip, a->port));
		if (!r)
			sock_addr_of(&s->local, &s->tcp->local_ip,
				     s->tcp->local_port);
	} else {
		r = sock_err_bind(udp_bind(s->udp, &ip, a->port));
	}
	if (!r)
		s->bound = true;
	return r;
}

int sock_listen(struct file *f, int backlog)
{
	struct sock *s = f->priv;
	struct tcp_pcb *pcb, *lpcb;
	err_t e;

	if (s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	backlog = backlog < 0 ? 0 : MIN(backlog, SOCK_BACKLOG_MAX);
	if (s->state == SS_LISTEN) {
		s->backlog = backlog;
		if (s->tcp)
			tcp_backlog_set(s->tcp, (u8_t)backlog);
		return 0;
	}
	if (s->state != SS_NEW || !s->tcp)
		return -EINVAL;
	pcb = s->tcp;
	if (!s->bound) {
		int r = sock_err_bind(tcp_bind(pcb, IP4_ADDR_ANY, 0));
		if (r)
			return r;
		s->bound = true;
	}
	/* tcp_listen frees pcb and copies its extension arguments to the
	 * new one: clear ours first so the free does not reach us. */
	tcp_ext_arg_set(pcb, sock_ext_id, NULL);
	lpcb = tcp_listen_with_backlog_and_err(pcb, (u8_t)backlog, &e);
	if (!lpcb) {
		tcp_ext_arg_set(pcb, sock_ext_id, s);
		return e == ERR_USE ? -EADDRINUSE : -ENOMEM;
	}
	s->backlog = backlog;
	s->state = SS_LISTEN;
	sock_tcp_attach(s, lpcb);
	sock_addr_of(&s->local, &lpcb->local_ip, lpcb->local_port);
	return 0;
}

/* A blocking wait that ended early: SO_RCVTIMEO/SO_SNDTIMEO ran out
 * (EAGAIN) or a signal came (restarted or EINTR, per SA_RESTART). */
static int sock_wait_error(int w)
{
	return w == -EINTR ? -ERESTARTSYS : -EAGAIN;
}

static bool sock_can_accept(void *arg)
{
	struct sock *s = arg;
	return s->acc_head || s->state != SS_LISTEN;
}

int sock_accept(struct file *f, unsigned int fflags, struct sock_addr *peer,
		int (*install)(struct file *nf, void *arg), void *arg)
{
	struct sock *ls = f->priv;
	struct sock *s;
	struct file *nf;
	int fd;

	if (ls->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	if (ls->state != SS_LISTEN)
		return -EINVAL;
	if (!ls->acc_head && sock_nonblock(f, 0))
		wait_run_pollers();
	while (!ls->acc_head) {
		if (sock_nonblock(f, 0))
			return -EAGAIN;
		int w = wait_until(sock_can_accept, ls,
				   sock_deadline(ls->rcvtimeo));
		if (w)
			return sock_wait_error(w);
		if (ls->state != SS_LISTEN)
			return -EINVAL;
	}
	s = ls->acc_head;
	nf = sock_file(s, fflags & O_NONBLOCK);
	if (!nf)
		return -ENOMEM;
	fd = install(nf, arg);
	if (fd < 0) {
		/* Stays queued for the next accept. */
		s->file = NULL;
		nf->priv = NULL;
		file_put(nf);
		return fd;
	}
	ls->acc_head = s->acc_next;
	if (!ls->acc_head)
		ls->acc_tail = NULL;
	s->acc_next = NULL;
	ls->acc_count--;
	if (s->tcp)
		tcp_backlog_accepted(s->tcp);
	if (peer)
		*peer = s->peer;
	return fd;
}

/*
 * TCP_SYNCNT, while connecting: lwIP gives up after TCP_SYNMAXRTX SYN
 * retransmissions; a socket that asked for fewer gets this poll callback
 * (every slow timer tick, 500 ms), which aborts once that many went out
 * unanswered.  The abort reports ERR_ABRT to sock_tcp_on_err: ETIMEDOUT,
 * as Linux says when its SYN retries run out.
 */
static err_t sock_tcp_on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct sock *s = arg;

	if (s && s->syncnt && pcb->state == SYN_SENT &&
	    pcb->nrtx >= s->syncnt) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static bool sock_connect_done(void *arg)
{
	struct sock *s = arg;
	return s->state != SS_CONNECTING;
}

static int sock_tcp_connect(struct sock *s, struct file *f,
			    const struct sock_addr *a)
{
	ip_addr_t ip;
	err_t e;
	int w;

	if (!a)
		return -EOPNOTSUPP; /* AF_UNSPEC: no disconnect for TCP */
	switch (s->state) {
	case SS_LISTEN:
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		if (sock_nonblock(f, 0))
			return -EALREADY;
		goto wait;
	case SS_FAILED:
		if (s->error)
			return -sock_take_error(s);
		/* A failed attempt may be retried with a fresh pcb. */
		if (s->ever_connected)
			return -EISCONN;
		if (!s->tcp) {
			struct tcp_pcb *pcb = tcp_new();
			if (!pcb)
				return -ENOMEM;
			sock_tcp_attach(s, pcb);
			s->bound = false;
		}
		s->state = SS_NEW;
		break;
	case SS_NEW:
		break;
	}
	if (!s->tcp)
		return -EINVAL;
	/* Linux connects to 0.0.0.0 as to the local host. */
	sock_ip(&ip, a->addr ? a->addr : PP_HTONL(0x7f000001));
	sock_tcp_apply_options(s);
	e = tcp_connect(s->tcp, &ip, a->port, sock_tcp_on_connected);
	switch (e) {
	case ERR_OK:
		break;
	case ERR_RTE:
		return -ENETUNREACH;
	case ERR_USE:
	case ERR_BUF:
		return -EADDRNOTAVAIL;
	case ERR_ISCONN:
		return -EISCONN;
	case ERR_MEM:
		return -ENOBUFS;
	default:
		return -EINVAL;
	}
	s->bound = true;
	s->state = SS_CONNECTING;
	if (s->syncnt && s->syncnt < TCP_SYNMAXRTX)
		tcp_poll(s->tcp, sock_tcp_on_poll, 1);
	sock_addr_of(&s->local, &s->tcp->local_ip, s->tcp->local_port);
	if (sock_nonblock(f, 0))
		return -EINPROGRESS;
wait:
	w = wait_until(sock_connect_done, s, sock_deadline(s->sndtimeo));
	if (w == -EINTR)
		return -ERESTARTSYS;
	if (w == -ETIMEDOUT)
		return -EINPROGRESS; /* SO_SNDTIMEO ran out, as on Linux */
	if (s->state == SS_CONNECTED)
		return 0;
	return s->error ? -sock_take_error(s) : -ECONNABORTED;
}

static int sock_udp_connect(struct sock *s, const struct sock_addr *a)
{
	ip_addr_t ip;

	if (!a) {
		udp_disconnect(s->udp);
		s->udp_connected = false;
		s->have_peer = false;
		return 0;
	}
	sock_ip(&ip, a->addr ? a->addr : PP_HTONL(0x7f000001));
	switch (udp_connect(s->udp, &ip, a->port)) {
	case ERR_OK:
		break;
	case ERR_USE:
		return -EADDRINUSE;
	default:
		return -EINVAL;
	}
	s->bound = true;
	s->udp_connected = true;
	s->peer = *a;
	s->have_peer = true;
	return 0;
}

/* Every call that may make lwIP send ends with net_flush: the driver
 * notifies the device once for what the call queued. */
int sock_connect(struct file *f, const struct sock_addr *a)
{
	struct sock *s = f->priv;
	int r = s->type == SOCK_STREAM ? sock_tcp_connect(s, f, a)
				       : sock_udp_connect(s, a);

	net_flush();
	return r;
}

/* ---- sending ---- */

/* Room for the next tcp_write. */
static size_t sock_tcp_room(const struct sock *s)
{
	if (!s->tcp || s->tcp->snd_queuelen >= TCP_SND_QUEUELEN)
		return 0;
	return MIN((size_t)s->tcp->snd_buf, (size_t)SOCK_BOUNCE);
}

static bool sock_tcp_can_send(void *arg)
{
	struct sock *s = arg;
	return sock_tcp_writable(s) || !s->tcp || s->wr_shut || s->error ||
	       s->state != SS_CONNECTED;
}

/* Why a TCP socket cannot send (0 if it can). */
static int sock_tcp_send_error(struct sock *s)
{
	if (s->error)
		return -sock_take_error(s);
	if (s->wr_shut || s->state != SS_CONNECTED || !s->tcp)
		return -EPIPE; /* the syscall layer raises SIGPIPE */
	return 0;
}

static ssize_t sock_tcp_send(struct sock *s, struct file *f,
			     const struct iovec *iov, int cnt, size_t total,
			     int flags, bool user)
{
	bool nonblock = sock_nonblock(f, flags);
	uint64_t deadline = sock_deadline(s->sndtimeo);
	struct sock_iter it;
	size_t done = 0;
	int r = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	while (s->state == SS_CONNECTING) {
		if (nonblock)
			return -EAGAIN;
		int w = wait_until(sock_connect_done, s, deadline);
		if (w)
			return sock_wait_error(w);
	}
	r = sock_tcp_send_error(s);
	if (r)
		return r;
	sock_iter_init(&it, iov, cnt, user);
	while (done < total) {
		if (s->error || s->wr_shut || !s->tcp ||
		    s->state != SS_CONNECTED) {
			if (!done)
				r = sock_tcp_send_error(s);
			break;
		}
		size_t room = sock_tcp_room(s);
		if (!room) {
			/* Full: push what is queued, then wait for acks (a
			 * blocking send sends everything, as on Linux). */
			tcp_output(s->tcp);
			if (nonblock) {
				if (done)
					break;
				wait_run_pollers();
				if (sock_tcp_room(s) || s->error || !s->tcp)
					continue;
				r = -EAGAIN;
				break;
			}
			int w = wait_until(sock_tcp_can_send, s, deadline);
			if (w) {
				r = sock_wait_error(w);
				break;
			}
			continue;
		}
		size_t chunk = MIN(room, total - done);
		struct sock_iter before = it;
		if (iter_in(&it, sock_bounce, chunk)) {
			r = -EFAULT;
			break;
		}
		u8_t wflags = TCP_WRITE_FLAG_COPY;
		if (done + chunk < total || (flags & MSG_MORE))
			wflags |= TCP_WRITE_FLAG_MORE;
		err_t e = tcp_write(s->tcp, sock_bounce, (u16_t)chunk, wflags);
		if (e == ERR_MEM) {
			/* Out of segments: wait for acks to free some.  If
			 * the socket counts as writable, acks will not help:
			 * the kernel is out of memory. */
			it = before;
			tcp_output(s->tcp);
			if (nonblock || sock_tcp_writable(s)) {
				if (!done)
					r = nonblock ? -EAGAIN : -ENOBUFS;
				break;
			}
			int w = wait_until(sock_tcp_can_send, s, deadline);
			if (w) {
				r = sock_wait_error(w);
				break;
			}
			continue;
		}
		if (e != ERR_OK) {
			r = -EPIPE;
			break;
		}
		done += chunk;
	}
	if (s->tcp)
		tcp_output(s->tcp);
	return done ? (ssize_t)done : r;
}

static ssize_t sock_udp_send(struct sock *s, const struct iovec *iov, int cnt,
			     size_t total, int flags,
			     const struct sock_addr *to, bool user)
{
	struct sock_iter it;
	struct pbuf *p;
	ip_addr_t ip;
	err_t e;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (total > SOCK_UDP_MAX)
		return -EMSGSIZE;
	if (s->wr_shut)
		return -EPIPE;
	if (!to && !s->udp_connected)
		return -EDESTADDRREQ;
	if (to && to->port == 0)
		return -EINVAL;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)total, PBUF_RAM);
	if (!p)
		return -ENOBUFS;
	sock_iter_init(&it, iov, cnt, user);
	if (iter_in(&it, p->payload, total)) {
		pbuf_free(p);
		return -EFAULT;
	}
	if (to) {
		sock_ip(&ip, to->addr ? to->addr : PP_HTONL(0x7f000001));
		e = udp_sendto(s->udp, p, &ip, to->port);
	} else {
		e = udp_send(s->udp, p);
	}
	pbuf_free(p);
	s->bound = true;
	switch (e) {
	case ERR_OK:
		return (ssize_t)total;
	case ERR_RTE:
		return -ENETUNREACH;
	case ERR_MEM:
	case ERR_BUF:
		return -ENOBUFS;
	case ERR_USE:
		return -EADDRINUSE;
	default:
		return -EINVAL;
	}
}

ssize_t sock_send(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, const struct sock_addr *to,
		  bool user)
{
	struct sock *s = f->priv;
	ssize_t r;

	/* A stream ignores the address, as Linux's TCP does. */
	if (s->type == SOCK_STREAM)
		r = sock_tcp_send(s, f, iov, cnt, total, flags, user);
	else
		r = sock_udp_send(s, iov, cnt, total, flags, to, user);
	net_flush();
	return r;
}

/* ---- receiving ---- */

static bool sock_tcp_can_recv(void *arg)
{
	struct sock *s = arg;
	return s->rx_bytes || s->rx_fin || s->rd_shut || s->error || !s->tcp ||
	       s->state != SS_CONNECTED;
}

/* Gives n bytes back to lwIP's receive window. */
static void sock_tcp_recved(struct sock *s, size_t n)
{
	while (s->tcp && n) {
		u16_t c = (u16_t)MIN(n, 0xffffu);
		tcp_recved(s->tcp, c);
		n -= c;
	}
}

/* Copies up to n queued bytes out (discard: drop them uncopied) and,
 * unless peek, consumes them.  Bytes or -EFAULT if none could be. */
static ssize_t sock_tcp_take(struct sock *s, struct sock_iter *it, size_t n,
			     bool peek, bool discard)
{
	struct pbuf *q = s->rx_head;
	size_t off = s->rx_off, done = 0;

	n = MIN(n, s->rx_bytes);
	while (done < n && q) {
		size_t c = MIN(n - done, (size_t)q->len - off);
		if (c && !discard &&
		    iter_out(it, (uint8_t *)q->payload + off, c))
			break;
		done += c;
		off += c;
		if (off == q->len) {
			q = q->next;
			off = 0;
		}
	}
	if (!peek) {
		size_t left = done;
		while (s->rx_head && (left || s->rx_head->len == s->rx_off)) {
			struct pbuf *h = s->rx_head;
			size_t c = MIN(left, (size_t)h->len - s->rx_off);
			s->rx_off += c;
			left -= c;
			if (s->rx_off < h->len)
				break;
			s->rx_head = h->next;
			if (!s->rx_head)
				s->rx_tail = NULL;
			h->next = NULL;
			pbuf_free(h);
			s->rx_off = 0;
		}
		s->rx_bytes -= done;
		sock_tcp_recved(s, done);
	}
	return done || !n ? (ssize_t)done : -EFAULT;
}

static ssize_t sock_tcp_recv(struct sock *s, struct file *f,
			     const struct iovec *iov, int cnt, size_t total,
			     int flags, bool user)
{
	bool nonblock = sock_nonblock(f, flags);
	bool peek = flags & MSG_PEEK;
	bool waitall = (flags & MSG_WAITALL) && !peek && !nonblock;
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	struct sock_iter it;
	size_t done = 0;

	if (flags & MSG_OOB)
		return -EINVAL; /* no urgent data is ever queued */
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;
	if (s->state == SS_NEW || s->state == SS_LISTEN)
		return -ENOTCONN;
	sock_iter_init(&it, iov, cnt, user);
	if (total == 0)
		return 0;
	for (;;) {
		if (s->rx_bytes) {
			ssize_t n = sock_tcp_take(s, &it, total - done, peek,
						  flags & MSG_TRUNC);
			if (n < 0)
				return done ? (ssize_t)done : n;
			done += (size_t)n;
			if (done == total || !waitall)
				break;
			continue;
		}
		if (s->error) {
			if (done)
				break;
			return -sock_take_error(s);
		}
		if (s->rx_fin || s->rd_shut || !s->tcp || s->state == SS_FAILED)
			break; /* end of stream */
		if (nonblock) {
			if (done)
				break;
			wait_run_pollers();
			if (s->rx_bytes || s->rx_fin || s->error || !s->tcp)
				continue;
			return -EAGAIN;
		}
		int w = wait_until(sock_tcp_can_recv, s, deadline);
		if (w) {
			if (done)
				break;
			return sock_wait_error(w);
		}
	}
	return (ssize_t)done;
}

static bool sock_udp_can_recv(void *arg)
{
	struct sock *s = arg;
	return s->dg_head || s->rd_shut || s->error;
}

static ssize_t sock_udp_recv_dgram(struct sock *s, struct file *f,
				   const struct iovec *iov, int cnt,
				   size_t total, int flags,
				   struct sock_addr *from, int *oflags,
				   bool user)
{
	struct sock_iter it;
	struct sock_dgram *d;
	size_t len, want, done = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;
	if (!s->dg_head && sock_nonblock(f, flags))
		wait_run_pollers();
	while (!s->dg_head) {
		if (s->error)
			return -sock_take_error(s);
		if (s->rd_shut)
			return 0;
		if (sock_nonblock(f, flags))
			return -EAGAIN;
		int w = wait_until(sock_udp_can_recv, s,
				   sock_deadline(s->rcvtimeo));
		if (w)
			return sock_wait_error(w);
	}
	d = s->dg_head;
	len = d->p->tot_len;
	want = MIN(len, total);
	sock_iter_init(&it, iov, cnt, user);
	for (struct pbuf *q = d->p; q && done < want; q = q->next) {
		size_t c = MIN((size_t)q->len, want - done);
		if (iter_out(&it, q->payload, c))
			return -EFAULT;
		done += c;
	}
	if (from)
		*from = d->from;
	if (oflags && len > total)
		*oflags |= MSG_TRUNC;
	if (!(flags & MSG_PEEK)) {
		s->dg_head = d->next;
		if (!s->dg_head)
			s->dg_tail = NULL;
		s->dg_bytes -= len;
		pbuf_free(d->p);
		kfree(d);
	}
	return (ssize_t)((flags & MSG_TRUNC) ? len : done);
}

ssize_t sock_recv(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, struct sock_addr *from, int *oflags,
		  bool user)
{
	struct sock *s = f->priv;
	ssize_t r;

	/* A TCP read may open the window: lwIP sends an update. */
	if (s->type == SOCK_STREAM)
		r = sock_tcp_recv(s, f, iov, cnt, total, flags, user);
	else
		r = sock_udp_recv_dgram(s, f, iov, cnt, total, flags, from,
					oflags, user);
	net_flush();
	return r;
}

/* ---- shutdown, names ---- */

int sock_shutdown(struct file *f, int how)
{
	struct sock *s = f->priv;

	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (s->type == SOCK_STREAM) {
		if (s->state == SS_NEW || s->state == SS_CONNECTING ||
		    (s->state == SS_FAILED && !s->ever_connected))
			return -ENOTCONN;
		if (s->state == SS_LISTEN) {
			/* accept() gives EINVAL from now on, as on Linux */
			if (how != SHUT_WR) {
				struct tcp_pcb *pcb = sock_tcp_detach(s);
				if (pcb)
					tcp_close(pcb);
				s->state = SS_FAILED;
				sock_notify(s, POLLIN | POLLHUP);
			}
			return 0;
		}
	} else if (!s->udp_connected) {
		return -ENOTCONN;
	}
	if (how != SHUT_WR)
		s->rd_shut = true;
	if (how != SHUT_RD && !s->wr_shut) {
		s->wr_shut = true;
		if (s->tcp)
			tcp_shutdown(s->tcp, 0, 1);
		net_flush(); /* the FIN */
	}
	sock_notify(s, POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM |
			   POLLHUP);
	return 0;
}

int sock_name(struct file *f, bool peer, struct sock_addr *out)
{
	struct sock *s = f->priv;

	if (s->type == SOCK_DGRAM) {
		if (peer) {
			if (!s->udp_connected)
				return -ENOTCONN;
			*out = s->peer;
		} else {
			sock_addr_of(out, &s->udp->local_ip,
				     s->udp->local_port);
		}
		return 0;
	}
	if (peer) {
		if (s->state != SS_CONNECTED || !s->have_peer)
			return -ENOTCONN;
		*out = s->peer;
		return 0;
	}
	if (s->tcp)
		sock_addr_of(out, &s->tcp->local_ip, s->tcp->local_port);
	else
		*out = s->local;
	return 0;
}

/* ---- options ---- */

static int sock_opt_int(const void *val, size_t len, int *out)
{
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

struct sock_timeval {
	int64_t sec, usec;
};

static int sock_opt_timeo(const void *val, size_t len, uint64_t *out)
{
	struct sock_timeval tv;

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

/* Options accepted and remembered but without effect here. */
static void sock_record(struct sock *s, int level, int name, int v)
{
	int slot = -1;

	for (int i = 0; i < (int)ARRAY_SIZE(s->recorded); i++) {
		if (s->recorded[i].used && s->recorded[i].level == level &&
		    s->recorded[i].name == name) {
			slot = i;
			break;
		}
		if (slot < 0 && !s->recorded[i].used)
			slot = i;
	}
	if (slot < 0)
		return; /* more than 8 kinds: the value is not kept */
	s->recorded[slot].used = true;
	s->recorded[slot].level = level;
	s->recorded[slot].name = name;
	s->recorded[slot].value = v;
}

static int sock_recorded(const struct sock *s, int level, int name)
{
	for (int i = 0; i < (int)ARRAY_SIZE(s->recorded); i++)
		if (s->recorded[i].used && s->recorded[i].level == level &&
		    s->recorded[i].name == name)
			return s->recorded[i].value;
	return 0;
}

static uint8_t *sock_so_options(struct sock *s)
{
	if (s->type == SOCK_DGRAM)
		return &s->udp->so_options;
	return s->tcp ? &s->tcp->so_options : NULL;
}

static void sock_so_flag(struct sock *s, uint8_t flag, bool on)
{
	uint8_t *o = sock_so_options(s);

	if (o)
		*o = on ? (uint8_t)(*o | flag) : (uint8_t)(*o & ~flag);
}

static int sock_buf_size(int v)
{
	/* Linux doubles the value (for its bookkeeping) and reports that. */
	int64_t d = (int64_t)v * 2;
	if (d < SOCK_MIN_BUF)
		d = SOCK_MIN_BUF;
	if (d > SOCK_MAX_BUF)
		d = SOCK_MAX_BUF;
	return (int)d;
}

static int sock_setopt_socket(struct sock *s, int name, const void *val,
			      size_t len)
{
	int v = 0, r;

	/* The _NEW forms have the same layout on 64-bit. */
	if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)
		return sock_opt_timeo(val, len, &s->rcvtimeo);
	if (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)
		return sock_opt_timeo(val, len, &s->sndtimeo);
	if (name == SO_LINGER) {
		int l[2];
		if (len < sizeof(l))
			return -EINVAL;
		memcpy(l, val, sizeof(l));
		s->linger_on = l[0] != 0;
		s->linger_sec = l[1] < 0 ? 0 : l[1];
		return 0;
	}
	if (name == SO_BINDTODEVICE)
		return 0; /* one interface: any name is it */
	r = sock_opt_int(val, len, &v);
	if (r)
		return r;
	switch (name) {
	case SO_REUSEADDR:
		s->reuseaddr = v != 0;
		sock_so_flag(s, SOF_REUSEADDR, s->reuseaddr);
		return 0;
	case SO_REUSEPORT:
		/* Recorded: one process cannot share a port usefully. */
		s->reuseport = v != 0;
		return 0;
	case SO_KEEPALIVE:
		s->keepalive = v != 0;
		sock_so_flag(s, SOF_KEEPALIVE, s->keepalive);
		return 0;
	case SO_BROADCAST:
		s->broadcast = v != 0;
		sock_so_flag(s, SOF_BROADCAST, s->broadcast);
		return 0;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		s->rcvbuf = sock_buf_size(v);
		return 0;
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		s->sndbuf = sock_buf_size(v);
		return 0;
	case SO_DEBUG:
	case SO_DONTROUTE:
	case SO_OOBINLINE:
	case SO_NO_CHECK:
	case SO_PRIORITY:
	case SO_RCVLOWAT:
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMPNS_OLD:
	case SO_PASSCRED:
	case SO_MARK:
	case SO_INCOMING_CPU:
	case SO_BUSY_POLL:
	case SO_ZEROCOPY:
		sock_record(s, SOL_SOCKET, name, v);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int sock_setopt_tcp(struct sock *s, int name, const void *val,
			   size_t len)
{
	int v, r;

	if (s->type != SOCK_STREAM)
		return -ENOPROTOOPT;
	if (name == TCP_CONGESTION)
		return len ? 0 : -EINVAL; /* lwIP has one algorithm */
	r = sock_opt_int(val, len, &v);
	if (r)
		return r;
	switch (name) {
	case TCP_NODELAY:
		s->nodelay = v != 0;
		break;
	case TCP_KEEPIDLE:
		if (v < 1 || v > 32767)
			return -EINVAL;
		s->keepidle = v;
		break;
	case TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		s->keepintvl = v;
		break;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		s->keepcnt = v;
		break;
	case TCP_SYNCNT:
		if (v < 1 || v > 127) /* Linux's MAX_TCP_SYNCNT */
			return -EINVAL;
		s->syncnt = v;
		break;
	case TCP_MAXSEG:
	case TCP_CORK:
	case TCP_QUICKACK:
	case TCP_DEFER_ACCEPT:
	case TCP_USER_TIMEOUT:
	case TCP_LINGER2:
	case TCP_WINDOW_CLAMP:
	case TCP_FASTOPEN:
	case TCP_FASTOPEN_CONNECT:
	case TCP_NOTSENT_LOWAT:
		sock_record(s, SOL_TCP, name, v);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
	sock_tcp_apply_options(s);
	return 0;
}

static int sock_setopt_ip(struct sock *s, int name, const void *val, size_t len)
{
	int v = 0, r;

	/* IP_TOS may come as a single byte. */
	if (name == IP_TOS_ && len >= 1 && len < sizeof(int))
		v = *(const uint8_t *)val;
	else if ((r = sock_opt_int(val, len, &v)))
		return r;
	switch (name) {
	case IP_TOS_:
		s->tos = v & 0xff;
		break;
	case IP_TTL_:
		if (v == -1)
			v = 64;
		if (v < 1 || v > 255)
			return -EINVAL;
		s->ttl = v;
		break;
	case IP_PKTINFO_:
	case IP_MTU_DISCOVER_:
	case IP_RECVERR_:
	case IP_RECVTOS_:
		sock_record(s, SOL_IP, name, v);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
	if (s->type == SOCK_DGRAM) {
		if (s->tos >= 0)
			s->udp->tos = (u8_t)s->tos;
		if (s->ttl > 0)
			s->udp->ttl = (u8_t)s->ttl;
	} else {
		sock_tcp_apply_options(s);
	}
	return 0;
}

int sock_setopt(struct file *f, int level, int name, const void *val,
		size_t len)
{
	struct sock *s = f->priv;

	switch (level) {
	case SOL_SOCKET:
		return sock_setopt_socket(s, name, val, len);
	case SOL_TCP:
		return sock_setopt_tcp(s, name, val, len);
	case SOL_IP:
		return sock_setopt_ip(s, name, val, len);
	case SOL_UDP:
		return s->type == SOCK_DGRAM ? 0 : -ENOPROTOOPT;
	default:
		return -ENOPROTOOPT;
	}
}

static int sock_getopt_socket(struct sock *s, int name, int *v, void *val,
			      size_t *len)
{
	switch (name) {
	case SO_TYPE:
		*v = s->type;
		return 0;
	case SO_DOMAIN:
		*v = AF_INET;
		return 0;
	case SO_PROTOCOL:
		*v = s->type == SOCK_STREAM ? 6 : 17;
		return 0;
	case SO_ERROR:
		*v = sock_take_error(s);
		return 0;
	case SO_ACCEPTCONN:
		*v = s->state == SS_LISTEN;
		return 0;
	case SO_REUSEADDR:
		*v = s->reuseaddr;
		return 0;
	case SO_REUSEPORT:
		*v = s->reuseport;
		return 0;
	case SO_KEEPALIVE:
		*v = s->keepalive;
		return 0;
	case SO_BROADCAST:
		*v = s->broadcast;
		return 0;
	case SO_RCVBUF:
		*v = s->rcvbuf		      ? s->rcvbuf
		     : s->type == SOCK_STREAM ? TCP_WND
					      : SOCK_UDP_RCVBUF;
		return 0;
	case SO_SNDBUF:
		*v = s->sndbuf		      ? s->sndbuf
		     : s->type == SOCK_STREAM ? TCP_SND_BUF
					      : SOCK_UDP_RCVBUF;
		return 0;
	case SO_RCVLOWAT:
		*v = sock_recorded(s, SOL_SOCKET, name);
		if (!*v)
			*v = 1;
		return 0;
	case SO_SNDLOWAT:
		*v = 1;
		return 0;
	case SO_LINGER: {
		int l[2] = {s->linger_on, s->linger_sec};
		*len = MIN(*len, sizeof(l));
		memcpy(val, l, *len);
		return 1;
	}
	case SO_RCVTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_OLD:
	case SO_SNDTIMEO_NEW: {
		uint64_t t = name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW
				 ? s->rcvtimeo
				 : s->sndtimeo;
		struct sock_timeval tv = {(int64_t)(t / NSEC_PER_SEC),
					  (int64_t)(t % NSEC_PER_SEC / 1000)};
		*len = MIN(*len, sizeof(tv));
		memcpy(val, &tv, *len);
		return 1;
	}
	case SO_DEBUG:
	case SO_DONTROUTE:
	case SO_OOBINLINE:
	case SO_NO_CHECK:
	case SO_PRIORITY:
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMPNS_OLD:
	case SO_PASSCRED:
	case SO_MARK:
	case SO_INCOMING_CPU:
	case SO_BUSY_POLL:
	case SO_ZEROCOPY:
		*v = sock_recorded(s, SOL_SOCKET, name);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int sock_getopt_tcp(struct sock *s, int name, int *v)
{
	if (s->type != SOCK_STREAM)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		*v = s->nodelay;
		return 0;
	case TCP_KEEPIDLE:
		*v = s->keepidle;
		return 0;
	case TCP_KEEPINTVL:
		*v = s->keepintvl;
		return 0;
	case TCP_KEEPCNT:
		*v = s->keepcnt;
		return 0;
	case TCP_MAXSEG:
		*v = s->tcp && s->state == SS_CONNECTED ? tcp_mss(s->tcp) : 536;
		return 0;
	case TCP_SYNCNT:
		*v = s->syncnt ? s->syncnt : TCP_SYNMAXRTX;
		return 0;
	case TCP_CORK:
	case TCP_QUICKACK:
	case TCP_DEFER_ACCEPT:
	case TCP_USER_TIMEOUT:
	case TCP_LINGER2:
	case TCP_WINDOW_CLAMP:
	case TCP_FASTOPEN:
	case TCP_FASTOPEN_CONNECT:
	case TCP_NOTSENT_LOWAT:
		*v = sock_recorded(s, SOL_TCP, name);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int sock_getopt_ip(struct sock *s, int name, int *v)
{
	switch (name) {
	case IP_TOS_:
		*v = s->tos >= 0 ? s->tos : 0;
		return 0;
	case IP_TTL_:
		*v = s->ttl > 0 ? s->ttl : IP_DEFAULT_TTL;
		return 0;
	case IP_PKTINFO_:
	case IP_MTU_DISCOVER_:
	case IP_RECVERR_:
	case IP_RECVTOS_:
		*v = sock_recorded(s, SOL_IP, name);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int sock_getopt(struct file *f, int level, int name, void *val, size_t *len)
{
	struct sock *s = f->priv;
	int v = 0, r;

	switch (level) {
	case SOL_SOCKET:
		r = sock_getopt_socket(s, name, &v, val, len);
		break;
	case SOL_TCP:
		r = sock_getopt_tcp(s, name, &v);
		break;
	case SOL_IP:
		r = sock_getopt_ip(s, name, &v);
		break;
	default:
		r = -ENOPROTOOPT;
	}
	if (r < 0)
		return r;
	if (r == 0) {
		/* Linux writes an int, or a shorter piece of it. */
		*len = MIN(*len, sizeof(v));
		memcpy(val, &v, *len);
	}
	return 0;
}

/* ---- file operations ---- */

static ssize_t sock_read(struct file *f, void *buf, size_t n, uint64_t *pos,
			 bool user)
{
	struct iovec v = {.iov_base = buf, .iov_len = n};
	return sock_recv(f, &v, 1, n, 0, NULL, NULL, user);
}

static ssize_t sock_write(struct file *f, const void *buf, size_t n,
			  uint64_t *pos, bool user)
{
	struct iovec v = {.iov_base = (void *)buf, .iov_len = n};
	return sock_send(f, &v, 1, n, 0, NULL, user);
}

static unsigned int sock_poll(struct file *f)
{
	struct sock *s = f->priv;
	unsigned int mask = 0;

	if (!s)
		return 0;
	if (s->error)
		mask |= POLLERR;
	if (s->type == SOCK_DGRAM) {
		mask |= POLLOUT | POLLWRNORM;
		if (s->dg_head || s->rd_shut)
			mask |= POLLIN | POLLRDNORM;
		if (s->rd_shut)
			mask |= POLLRDHUP;
		if (s->rd_shut && s->wr_shut)
			mask |= POLLHUP;
		return mask;
	}
	switch (s->state) {
	case SS_LISTEN:
		if (s->acc_head)
			mask |= POLLIN | POLLRDNORM;
		break;
	case SS_NEW:
		/* Linux: a fresh socket is writable and hung up. */
		mask |= POLLOUT | POLLWRNORM | POLLHUP;
		break;
	case SS_CONNECTING:
		break;
	case SS_CONNECTED:
	case SS_FAILED: {
		bool gone = !s->tcp || s->state == SS_FAILED;
		if (s->rx_bytes || s->rx_fin || s->rd_shut || gone)
			mask |= POLLIN | POLLRDNORM;
		if (s->rx_fin || s->rd_shut || gone)
			mask |= POLLRDHUP;
		if ((s->rx_fin && s->wr_shut) || s->state == SS_FAILED ||
		    (gone && s->rx_fin))
			mask |= POLLHUP;
		if (s->wr_shut || gone || sock_tcp_writable(s))
			mask |= POLLOUT | POLLWRNORM;
		break;
	}
	}
	return mask;
}

static long sock_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct sock *s = f->priv;
	int n;

	switch (cmd) {
	case FIONREAD_:
		if (s->type == SOCK_STREAM) {
			if (s->state == SS_LISTEN)
				return -EINVAL;
			n = (int)MIN(s->rx_bytes, (size_t)INT32_MAX);
		} else {
			n = s->dg_head ? s->dg_head->p->tot_len : 0;
		}
		break;
	case TIOCOUTQ_:
		if (s->type == SOCK_STREAM && s->state == SS_LISTEN)
			return -EINVAL;
		n = s->type == SOCK_STREAM && s->tcp
			? (int)(TCP_SND_BUF - s->tcp->snd_buf)
			: 0;
		break;
	case SIOCATMARK_:
		n = 0;
		break;
	default:
		return -ENOTTY;
	}
	return copy_to_user((void *)arg, &n, sizeof(n)) ? -EFAULT : 0;
}

static int sock_getattr(struct file *f, struct kstat *st)
{
	struct sock *s = f->priv;

	memset(st, 0, sizeof(*st));
	st->dev_minor = SOCK_DEV_MINOR;
	st->ino = s ? s->ino : 0;
	st->nlink = 1;
	st->mode = S_IFSOCK | 0777;
	st->blksize = PAGE_SIZE;
	if (s)
		st->atime = st->mtime = st->ctime = st->btime = s->ctime;
	return 0;
}

static void sock_release(struct file *f)
{
	struct sock *s = f->priv;

	file_watch_release(f);
	if (!s)
		return;
	s->file = NULL;
	if (s->type == SOCK_STREAM) {
		sock_tcp_destroy(s);
		net_flush(); /* the FIN or RST */
	} else {
		udp_recv(s->udp, NULL, NULL);
		udp_remove(s->udp);
		sock_free_queues(s);
		kfree(s);
	}
}

static const struct file_ops sock_fops = {
    .read = sock_read,
    .write = sock_write,
    .ioctl = sock_ioctl,
    .getattr = sock_getattr,
    .poll = sock_poll,
    .release = sock_release,
};
