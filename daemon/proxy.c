/*
 * Published ports: a userspace TCP/UDP proxy (see proxy.h).
 *
 * One thread runs one level-triggered epoll set for every proxy, every
 * connection and every UDP flow.  Callers on other threads (kilnd's
 * request handlers) only add and remove sockets under proxy_loop.lock;
 * the thread takes the same lock to handle a batch of events.  Objects
 * are never freed where they are closed: they are marked closed and put
 * on a garbage list the thread empties after each batch, because the
 * batch it is handling may still name them (epoll_wait returned before
 * the close).  Everything the thread touches is checked for "closed"
 * first.
 *
 * TCP: each accepted client gets a non-blocking connect to the backend;
 * two buffers carry the bytes, client->backend ("up") and backend->client
 * ("down").  An end of file on one side becomes shutdown(SHUT_WR) on the
 * other once its buffer is drained, so half-closed protocols work; when
 * both directions are shut the pair is closed.  An error on either side
 * closes both, the survivor with a reset (SO_LINGER 0) so a truncated
 * stream never looks complete.  A backend that refuses, or does not answer
 * within PROXY_CONNECT_TIMEOUT_SECONDS, gets its client closed.  A socket
 * is in the epoll set only while we want something from it, so a hung-up
 * peer whose data we cannot take yet does not make epoll spin.
 *
 * UDP: a datagram from a client address not seen before opens a flow, a
 * socket connected to the backend; the backend's answers on it go back to
 * that client from the published address.  Flows silent for
 * PROXY_UDP_IDLE_SECONDS are closed; at most PROXY_UDP_MAX_FLOWS per
 * proxy (the least recently used one makes room).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"
#include "util.h"

#define PROXY_BUF	    (32 * 1024) /* bytes per direction per connection */
#define PROXY_UDP_MAX_FLOWS 1024
#define PROXY_BACKLOG	    511
#define PROXY_EVENTS	    64 /* epoll events per batch */

enum proxy_kind { PROXY_LISTEN, PROXY_CLIENT, PROXY_BACKEND, PROXY_FLOW };

/* What an epoll event points at: the object and which of its sockets. */
struct proxy_ep {
	enum proxy_kind kind;
	void *obj;
	int fd;
	uint32_t want; /* events asked for; 0: not in the epoll set */
};

struct proxy_buf {
	char data[PROXY_BUF];
	size_t off, len;
	int eof;  /* the source said end of file */
	int shut; /* ... and the destination was told (SHUT_WR) */
};

struct proxy_conn {
	struct proxy *p;
	struct proxy_ep client, backend;
	int connecting;
	time_t deadline; /* of the connect, monotonic seconds */
	struct proxy_buf up, down;
	int closed;
	struct proxy_conn *prev, *next, *gnext;
};

struct proxy_flow {
	struct proxy *p;
	struct proxy_ep ep;
	struct sockaddr_in client;
	time_t last; /* monotonic seconds of the last datagram */
	int closed;
	struct proxy_flow *prev, *next, *gnext;
};

struct proxy {
	struct proxy_spec spec;
	struct proxy_ep listen;
	struct sockaddr_in backend;
	struct proxy_conn *conns;
	struct proxy_flow *flows;
	unsigned nflows, active;
	int closed, paused; /* paused: accept hit EMFILE, retried later */
	struct proxy *prev, *next, *gnext;
};

static struct {
	pthread_mutex_t lock;
	int epfd; /* -1 until the thread runs */
	struct proxy *all;
	struct proxy *gproxies;
	struct proxy_conn *gconns;
	struct proxy_flow *gflows;
	unsigned udp_idle; /* seconds */
	char dgram[65536]; /* the thread's UDP buffer */
} proxy_loop = {PTHREAD_MUTEX_INITIALIZER, -1, NULL, NULL, NULL, NULL,
		PROXY_UDP_IDLE_SECONDS,	   {0}};

static time_t proxy_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Spec parsing ------------------------------------------------------------ */

static int proxy_port(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int proxy_spec_read(const char *spec, struct proxy_spec *out, char *err,
			   size_t errlen)
{
	const char *form = "use [ADDR:]HOST:GUEST[/tcp|/udp], e.g. "
			   "127.0.0.1:8080:80";
	const char *slash = strchr(spec, '/'), *end, *c1, *c2, *hp;
	struct proxy_spec s;
	struct in_addr a;

	memset(&s, 0, sizeof(s));
	s.proto = PROXY_TCP;
	end = slash ? slash : spec + strlen(spec);
	if (slash) {
		if (strcmp(slash + 1, "udp") == 0)
			s.proto = PROXY_UDP;
		else if (strcmp(slash + 1, "tcp") != 0)
			return util_err(err, errlen,
					"invalid port spec '%s': the protocol "
					"must be tcp or udp",
					spec);
	}
	if (spec[0] == '[' || memchr(spec, ':', (size_t)(end - spec)) == NULL)
		goto bad_form;
	/* The last colon separates the guest port, the one before it (if
	 * any) the address. */
	c2 = end;
	while (c2 > spec && c2[-1] != ':')
		c2--;
	c2--;
	c1 = c2;
	while (c1 > spec && c1[-1] != ':')
		c1--;
	if (c1 > spec) {
		size_t alen = (size_t)(c1 - 1 - spec);
		char addr[sizeof(s.host_addr)];
		if (memchr(spec, ':', alen) != NULL)
			return util_err(err, errlen,
					"invalid port spec '%s': IPv6 "
					"addresses are not supported (%s)",
					spec, form);
		if (alen == 0 || alen >= sizeof(addr))
			goto bad_addr;
		memcpy(addr, spec, alen);
		addr[alen] = '\0';
		if (inet_pton(AF_INET, addr, &a) != 1)
			goto bad_addr;
		inet_ntop(AF_INET, &a, s.host_addr, sizeof(s.host_addr));
		hp = c1;
	} else {
		snprintf(s.host_addr, sizeof(s.host_addr), "0.0.0.0");
		hp = spec;
	}
	if (hp == c2 && c2 + 1 == end)
		goto bad_form;
	if (proxy_port(hp, (size_t)(c2 - hp), &s.host_port) < 0)
		return util_err(err, errlen,
				"invalid port spec '%s': the host port must "
				"be a number from 1 to 65535",
				spec);
	if (proxy_port(c2 + 1, (size_t)(end - c2 - 1), &s.guest_port) < 0)
		return util_err(err, errlen,
				"invalid port spec '%s': the guest port must "
				"be a number from 1 to 65535",
				spec);
	*out = s;
	return 0;

bad_form:
	return util_err(err, errlen, "invalid port spec '%s' (%s)", spec, form);
bad_addr:
	return util_err(err, errlen,
			"invalid port spec '%s': the address must be an IPv4 "
			"address such as 127.0.0.1",
			spec);
}

int proxy_spec_parse(const char *spec, struct proxy_spec *out, char *err,
		     size_t errlen)
{
	if (proxy_spec_read(spec, out, err, errlen) == 0)
		return 0;
	errno = EINVAL;
	return -1;
}

void proxy_spec_format(const struct proxy_spec *spec, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s:%u:%u/%s", spec->host_addr,
		 (unsigned)spec->host_port, (unsigned)spec->guest_port,
		 spec->proto == PROXY_UDP ? "udp" : "tcp");
}

/* Epoll bookkeeping ------------------------------------------------------- */

/* Asks for want on ep's socket (0 takes it out of the set). */
static void proxy_want(struct proxy_ep *ep, uint32_t want)
{
	struct epoll_event ev = {.events = want, .data.ptr = ep};
	int op;

	if (want == ep->want)
		return;
	if (want == 0)
		op = EPOLL_CTL_DEL;
	else
		op = ep->want == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	/* Fails only for a bad fd or out of memory; the connection then
	 * stalls until its peer gives up, which is all that can happen. */
	if (epoll_ctl(proxy_loop.epfd, op, ep->fd, &ev) == 0)
		ep->want = want;
}

static void proxy_ep_close(struct proxy_ep *ep, int reset)
{
	if (ep->fd < 0)
		return;
	proxy_want(ep, 0);
	if (reset) {
		struct linger lg = {1, 0};
		setsockopt(ep->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(ep->fd);
	ep->fd = -1;
}

/* TCP ------------------------------------------------------------------- */

/* Closes both sides; reset_client / reset_backend send a RST instead of
 * a FIN. */
static void proxy_conn_close(struct proxy_conn *c, int reset_client,
			     int reset_backend)
{
	struct proxy *p = c->p;

	if (c->closed)
		return;
	c->closed = 1;
	proxy_ep_close(&c->client, reset_client);
	proxy_ep_close(&c->backend, reset_backend);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	p->active--;
	c->gnext = proxy_loop.gconns;
	proxy_loop.gconns = c;
}

/*
 * Moves bytes src -> b -> dst as far as the sockets allow without
 * blocking.  dst_ok: dst may be written (the backend is connected).
 * Returns 1 if anything moved, 0 if not, -1 on an error of src (*bad =
 * 0) or dst (*bad = 1).
 */
static int proxy_pump(int src, int dst, struct proxy_buf *b, int dst_ok,
		      int *bad)
{
	int moved = 0;
	ssize_t n;

	if (!b->eof && b->off + b->len < PROXY_BUF) {
		n = recv(src, b->data + b->off + b->len,
			 PROXY_BUF - b->off - b->len, 0);
		if (n > 0) {
			b->len += (size_t)n;
			moved = 1;
		} else if (n == 0) {
			b->eof = 1;
			moved = 1;
		} else if (errno != EAGAIN && errno != EINTR) {
			*bad = 0;
			return -1;
		}
	}
	if (dst_ok && b->len > 0) {
		n = send(dst, b->data + b->off, b->len, MSG_NOSIGNAL);
		if (n > 0) {
			b->off += (size_t)n;
			b->len -= (size_t)n;
			moved = 1;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			*bad = 1;
			return -1;
		}
	}
	if (b->len == 0)
		b->off = 0;
	else if (b->off + b->len == PROXY_BUF && b->off > 0) {
		/* Room only at the front: make it contiguous. */
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if (dst_ok && b->eof && b->len == 0 && !b->shut) {
		shutdown(dst, SHUT_WR);
		b->shut = 1;
		moved = 1;
	}
	return moved;
}

/* What each socket of c is wanted for now. */
static void proxy_conn_interest(struct proxy_conn *c)
{
	uint32_t cw = 0, bw = 0;

	if (!c->up.eof && c->up.off + c->up.len < PROXY_BUF)
		cw |= EPOLLIN;
	if (c->down.len > 0)
		cw |= EPOLLOUT;
	if (c->connecting) {
		bw = EPOLLOUT;
	} else {
		if (!c->down.eof && c->down.off + c->down.len < PROXY_BUF)
			bw |= EPOLLIN;
		if (c->up.len > 0)
			bw |= EPOLLOUT;
	}
	proxy_want(&c->client, cw);
	proxy_want(&c->backend, bw);
}

static void proxy_conn_run(struct proxy_conn *c)
{
	int bad = 0;

	/* A bounded number of rounds, so one fast pair cannot starve the
	 * others; level-triggered epoll brings us back. */
	for (int round = 0; round < 8; round++) {
		int up = proxy_pump(c->client.fd, c->backend.fd, &c->up,
				    !c->connecting, &bad);
		if (up < 0) {
			/* bad: 0 the client failed, 1 the backend. */
			proxy_conn_close(c, bad == 1, bad == 0);
			return;
		}
		/* Nothing to read from a backend still connecting (a
		 * refusal is proxy_conn_connected's to handle). */
		if (c->connecting)
			break;
		int down =
		    proxy_pump(c->backend.fd, c->client.fd, &c->down, 1, &bad);
		if (down < 0) {
			proxy_conn_close(c, bad == 0, bad == 1);
			return;
		}
		if (c->up.shut && c->down.shut) {
			proxy_conn_close(c, 0, 0);
			return;
		}
		if (!up && !down)
			break;
	}
	proxy_conn_interest(c);
}

static void proxy_conn_connected(struct proxy_conn *c)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(c->backend.fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e == EINPROGRESS || e == EALREADY)
		return;
	if (e != 0) {
		/* Refused or unreachable: the client sees its connection
		 * closed, as if the server had closed it. */
		proxy_conn_close(c, 0, 0);
		return;
	}
	c->connecting = 0;
	proxy_conn_run(c);
}

static void proxy_accept(struct proxy *p)
{
	for (int i = 0; i < PROXY_EVENTS; i++) {
		struct proxy_conn *c;
		int one = 1, fd, bfd;

		fd = accept4(p->listen.fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* The pending connection would make epoll
				 * report the listener forever: step back and
				 * let the sweep retry. */
				proxy_want(&p->listen, 0);
				p->paused = 1;
			}
			return;
		}
		bfd = socket(AF_INET,
			     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		c = bfd < 0 ? NULL : calloc(1, sizeof(*c));
		if (c == NULL) {
			if (bfd >= 0)
				close(bfd);
			close(fd);
			continue;
		}
		/* The proxy forwards what it gets when it gets it: Nagle on
		 * its side would only add latency. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(bfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->p = p;
		c->client = (struct proxy_ep){PROXY_CLIENT, c, fd, 0};
		c->backend = (struct proxy_ep){PROXY_BACKEND, c, bfd, 0};
		c->next = p->conns;
		if (p->conns)
			p->conns->prev = c;
		p->conns = c;
		p->active++;
		if (connect(bfd, (struct sockaddr *)&p->backend,
			    sizeof(p->backend)) < 0) {
			if (errno != EINPROGRESS) {
				proxy_conn_close(c, 0, 0);
				continue;
			}
			c->connecting = 1;
			c->deadline =
			    proxy_now() + PROXY_CONNECT_TIMEOUT_SECONDS;
		}
		proxy_conn_interest(c);
	}
}

/* UDP ------------------------------------------------------------------- */

static void proxy_flow_close(struct proxy_flow *f)
{
	struct proxy *p = f->p;

	if (f->closed)
		return;
	f->closed = 1;
	proxy_ep_close(&f->ep, 0);
	if (f->prev)
		f->prev->next = f->next;
	else
		p->flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	p->nflows--;
	p->active--;
	f->gnext = proxy_loop.gflows;
	proxy_loop.gflows = f;
}

static struct proxy_flow *proxy_flow_get(struct proxy *p,
					 const struct sockaddr_in *from)
{
	struct proxy_flow *f, *oldest = NULL;
	int fd;

	for (f = p->flows; f; f = f->next) {
		if (f->client.sin_addr.s_addr == from->sin_addr.s_addr &&
		    f->client.sin_port == from->sin_port)
			return f;
		if (oldest == NULL || f->last < oldest->last)
			oldest = f;
	}
	if (p->nflows >= PROXY_UDP_MAX_FLOWS && oldest)
		proxy_flow_close(oldest);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&p->backend, sizeof(p->backend)) <
		0 ||
	    (f = calloc(1, sizeof(*f))) == NULL) {
		close(fd);
		return NULL;
	}
	f->p = p;
	f->ep = (struct proxy_ep){PROXY_FLOW, f, fd, 0};
	f->client = *from;
	f->next = p->flows;
	if (p->flows)
		p->flows->prev = f;
	p->flows = f;
	p->nflows++;
	p->active++;
	proxy_want(&f->ep, EPOLLIN);
	return f;
}

/* Datagrams from clients to their flows. */
static void proxy_udp_in(struct proxy *p)
{
	for (int i = 0; i < PROXY_EVENTS && !p->closed; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct proxy_flow *f;
		ssize_t n = recvfrom(p->listen.fd, proxy_loop.dgram,
				     sizeof(proxy_loop.dgram), 0,
				     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			continue; /* an ICMP error for an earlier reply */
		}
		if (from.sin_family != AF_INET)
			continue;
		f = proxy_flow_get(p, &from);
		if (f == NULL)
			continue; /* dropped, as UDP may be */
		f->last = proxy_now();
		/* A full socket buffer or an ICMP error left over from the
		 * backend: the datagram is lost, as on any UDP path. */
		(void)!send(f->ep.fd, proxy_loop.dgram, (size_t)n,
			    MSG_NOSIGNAL);
	}
}

/* Answers from the backend, back to the flow's client. */
static void proxy_flow_in(struct proxy_flow *f)
{
	for (int i = 0; i < PROXY_EVENTS; i++) {
		ssize_t n = recv(f->ep.fd, proxy_loop.dgram,
				 sizeof(proxy_loop.dgram), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			continue; /* ECONNREFUSED: nobody on the port yet */
		}
		f->last = proxy_now();
		(void)!sendto(f->p->listen.fd, proxy_loop.dgram, (size_t)n,
			      MSG_NOSIGNAL, (struct sockaddr *)&f->client,
			      sizeof(f->client));
	}
}

/* The thread --------------------------------------------------------------- */

/* Once a second: connects that took too long, idle flows, paused
 * listeners. */
static void proxy_sweep(time_t now)
{
	for (struct proxy *p = proxy_loop.all; p; p = p->next) {
		struct proxy_conn *c, *cn;
		struct proxy_flow *f, *fn;
		for (c = p->conns; c; c = cn) {
			cn = c->next;
			if (c->connecting && now >= c->deadline)
				proxy_conn_close(c, 0, 0);
		}
		for (f = p->flows; f; f = fn) {
			fn = f->next;
			if (now - f->last >= (time_t)proxy_loop.udp_idle)
				proxy_flow_close(f);
		}
		if (p->paused) {
			p->paused = 0;
			proxy_want(&p->listen, EPOLLIN);
		}
	}
}

static void proxy_collect(void)
{
	while (proxy_loop.gconns) {
		struct proxy_conn *c = proxy_loop.gconns;
		proxy_loop.gconns = c->gnext;
		free(c);
	}
	while (proxy_loop.gflows) {
		struct proxy_flow *f = proxy_loop.gflows;
		proxy_loop.gflows = f->gnext;
		free(f);
	}
	while (proxy_loop.gproxies) {
		struct proxy *p = proxy_loop.gproxies;
		proxy_loop.gproxies = p->gnext;
		free(p);
	}
}

static void proxy_dispatch(struct proxy_ep *ep)
{
	switch (ep->kind) {
	case PROXY_LISTEN: {
		struct proxy *p = ep->obj;
		if (p->closed)
			return;
		if (p->spec.proto == PROXY_TCP)
			proxy_accept(p);
		else
			proxy_udp_in(p);
		return;
	}
	case PROXY_CLIENT:
	case PROXY_BACKEND: {
		struct proxy_conn *c = ep->obj;
		if (c->closed)
			return;
		if (c->connecting && ep->kind == PROXY_BACKEND)
			proxy_conn_connected(c);
		else
			proxy_conn_run(c);
		return;
	}
	case PROXY_FLOW: {
		struct proxy_flow *f = ep->obj;
		if (!f->closed)
			proxy_flow_in(f);
		return;
	}
	}
}

static void *proxy_thread(void *arg)
{
	struct epoll_event evs[PROXY_EVENTS];
	time_t last_sweep = proxy_now();

	for (;;) {
		int n = epoll_wait(proxy_loop.epfd, evs, PROXY_EVENTS, 1000);
		time_t now;

		pthread_mutex_lock(&proxy_loop.lock);
		for (int i = 0; i < n; i++)
			proxy_dispatch(evs[i].data.ptr);
		now = proxy_now();
		if (now != last_sweep) {
			proxy_sweep(now);
			last_sweep = now;
		}
		proxy_collect();
		pthread_mutex_unlock(&proxy_loop.lock);
	}
	return NULL;
}

/* Starts the thread if it is not running; under the lock. */
static int proxy_start(char *err, size_t errlen)
{
	sigset_t all, old;
	pthread_t t;
	int e;

	if (proxy_loop.epfd >= 0)
		return 0;
	proxy_loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (proxy_loop.epfd < 0)
		return util_err(err, errlen,
				"cannot start the port proxy: epoll: %s",
				strerror(errno));
	/* Created with every signal blocked, so none is ever delivered to
	 * it instead of to the daemon's own handling. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&t, NULL, proxy_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		close(proxy_loop.epfd);
		proxy_loop.epfd = -1;
		return util_err(err, errlen,
				"cannot start the port proxy thread: %s",
				strerror(e));
	}
	pthread_detach(t);
	return 0;
}

/* Public API ----------------------------------------------------------------
 */

static int proxy_backend_addr(const char *ip, uint16_t port,
			      struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons(port);
	return inet_pton(AF_INET, ip, &out->sin_addr) == 1 ? 0 : -1;
}

struct proxy *proxy_open(const struct proxy_spec *spec, const char *backend_ip,
			 char *err, size_t errlen)
{
	struct sockaddr_in addr;
	struct proxy *p;
	char where[40], why[128];
	int fd, one = 1, udp = spec->proto == PROXY_UDP, fail = EINVAL;

	snprintf(where, sizeof(where), "%s:%u%s", spec->host_addr,
		 (unsigned)spec->host_port, udp ? "/udp" : "");
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		util_err(err, errlen, "cannot publish %s: out of memory",
			 where);
		errno = ENOMEM;
		return NULL;
	}
	p->spec = *spec;
	if (proxy_backend_addr(backend_ip ? backend_ip : "", spec->guest_port,
			       &p->backend) < 0) {
		util_err(err, errlen,
			 "cannot publish %s: invalid backend address '%s'",
			 where, backend_ip ? backend_ip : "");
		goto free_p;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(spec->host_port);
	if (inet_pton(AF_INET, spec->host_addr, &addr.sin_addr) != 1) {
		util_err(err, errlen, "cannot publish %s: invalid address",
			 where);
		goto free_p;
	}
	fd = socket(
	    AF_INET,
	    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail = errno;
		util_err(err, errlen, "cannot publish %s: socket: %s", where,
			 strerror(errno));
		goto free_p;
	}
	/* TCP: connections of a previous proxy on this port may linger in
	 * TIME_WAIT; they must not keep a restarted instance from
	 * publishing again.  (Two listeners still cannot share a port.) */
	if (!udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    (!udp && listen(fd, PROXY_BACKLOG) < 0)) {
		int e = errno;
		fail = e;
		snprintf(why, sizeof(why), "%s", strerror(e));
		why[0] = (char)tolower((unsigned char)why[0]);
		util_err(err, errlen, "cannot publish %s: %s%s", where, why,
			 e == EADDRNOTAVAIL ? " (no interface has this address)"
			 : e == EACCES	    ? " (ports below 1024 need root)"
					    : "");
		goto close_fd;
	}
	p->listen = (struct proxy_ep){PROXY_LISTEN, p, fd, 0};

	pthread_mutex_lock(&proxy_loop.lock);
	if (proxy_start(err, errlen) < 0) {
		fail = EAGAIN;
		pthread_mutex_unlock(&proxy_loop.lock);
		goto close_fd;
	}
	proxy_want(&p->listen, EPOLLIN);
	if (p->listen.want == 0) {
		fail = errno;
		pthread_mutex_unlock(&proxy_loop.lock);
		util_err(err, errlen, "cannot publish %s: epoll: %s", where,
			 strerror(errno));
		goto close_fd;
	}
	p->next = proxy_loop.all;
	if (proxy_loop.all)
		proxy_loop.all->prev = p;
	proxy_loop.all = p;
	pthread_mutex_unlock(&proxy_loop.lock);
	return p;

close_fd:
	close(fd);
free_p:
	free(p);
	errno = fail;
	return NULL;
}

void proxy_set_backend(struct proxy *p, const char *backend_ip)
{
	struct sockaddr_in a;

	if (p == NULL || backend_ip == NULL ||
	    proxy_backend_addr(backend_ip, p->spec.guest_port, &a) < 0)
		return;
	pthread_mutex_lock(&proxy_loop.lock);
	p->backend = a;
	pthread_mutex_unlock(&proxy_loop.lock);
}

void proxy_close(struct proxy *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&proxy_loop.lock);
	p->closed = 1;
	proxy_ep_close(&p->listen, 0);
	while (p->conns)
		proxy_conn_close(p->conns, 1, 1);
	while (p->flows)
		proxy_flow_close(p->flows);
	if (p->prev)
		p->prev->next = p->next;
	else
		proxy_loop.all = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->gnext = proxy_loop.gproxies;
	proxy_loop.gproxies = p;
	pthread_mutex_unlock(&proxy_loop.lock);
}

void proxy_udp_idle_set(unsigned seconds)
{
	pthread_mutex_lock(&proxy_loop.lock);
	proxy_loop.udp_idle = seconds ? seconds : 1;
	pthread_mutex_unlock(&proxy_loop.lock);
}

unsigned proxy_active(struct proxy *p)
{
	unsigned n;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&proxy_loop.lock);
	n = p->active;
	pthread_mutex_unlock(&proxy_loop.lock);
	return n;
}
