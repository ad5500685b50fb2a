/*
 * net_client: the guest side of tests/e2e/net_tcp.sh's client checks, run
 * inside kiln with a network; the script runs the servers (python3) in the
 * network namespace on SERVER.  Ports, from BASE:
 *   BASE    bulk: reads an 8-byte big-endian length N and N bytes, answers
 *           the FNV-1a 64 of them in 16 hex digits and "\n", then sends
 *           BULK_BACK bytes of pattern() and closes
 *   BASE+1  accepts and resets the connection (SO_LINGER 0)
 *   BASE+2  accepts and says nothing
 *   BASE+3  nothing listens: connection refused
 *   BASE+4  UDP echo
 * and a DNS server on SERVER:53 that knows SERVER_NAME.  SILENT is an
 * address whose SYNs the network drops (the script routes it to a
 * blackhole): connect with TCP_SYNCNT 1 gives up after one retransmission
 * (about 3 s) with ETIMEDOUT.  Each check prints "ok - WHAT" or
 * "not ok - WHAT: DETAIL", then "net_client: N passed, M failed"; the
 * status is 0 iff none failed.
 *
 * Usage: net_client SERVER_NAME SERVER BASE MY_NAME MY_ADDR SILENT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BULK_OUT  (1 << 20) /* bytes the guest sends */
#define BULK_BACK (1 << 20) /* bytes the server sends back */
#define LOOP_LEN  (200 * 1000)

static int passed, failed;

static void check(int ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *what, const char *fmt, ...)
{
	if (ok) {
		printf("ok - %s\n", what);
		passed++;
		return;
	}
	char detail[256] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	printf("not ok - %s: %s\n", what, detail);
	failed++;
}

/* The byte stream both sides agree on. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 31 + (i >> 8) + (i >> 16));
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in server;

static struct sockaddr_in at(uint32_t addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = addr};
	return sa;
}

/* A blocking TCP connection to server:port, or -1 with errno. */
static int dial(int port)
{
	struct sockaddr_in sa = server;
	sa.sin_port = htons((uint16_t)port);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

static void check_resolve(const char *server_name, const char *server_addr,
			  const char *my_name, const char *my_addr)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char got[INET_ADDRSTRLEN] = "?";

	int r = getaddrinfo(my_name, NULL, &hints, &res);
	if (r == 0)
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)res->ai_addr)->sin_addr, got,
			  sizeof(got));
	check(r == 0 && strcmp(got, my_addr) == 0,
	      "the hostname resolves through /etc/hosts", "%s -> %s (%s)",
	      my_name, got, r ? gai_strerror(r) : "ok");
	if (res)
		freeaddrinfo(res);
	res = NULL;
	strcpy(got, "?");
	r = getaddrinfo(server_name, "80", &hints, &res);
	if (r == 0)
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)res->ai_addr)->sin_addr, got,
			  sizeof(got));
	check(r == 0 && strcmp(got, server_addr) == 0,
	      "the server's name resolves through the configured DNS server",
	      "%s -> %s (%s)", server_name, got, r ? gai_strerror(r) : "ok");
	if (res)
		freeaddrinfo(res);
}

static void check_bulk(int port)
{
	static uint8_t buf[BULK_OUT + 8];
	double t0 = now();
	int s = dial(port);
	check(s >= 0, "blocking connect to the bulk server", "%s",
	      strerror(errno));
	if (s < 0)
		return;
	struct sockaddr_in me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	check(getsockname(s, (struct sockaddr *)&me, &ml) == 0 &&
		  getpeername(s, (struct sockaddr *)&peer, &pl) == 0 &&
		  peer.sin_addr.s_addr == server.sin_addr.s_addr &&
		  ntohs(peer.sin_port) == port && ntohs(me.sin_port) != 0,
	      "getsockname and getpeername of a connection", NULL);
	int one = 1;
	check(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0,
	      "TCP_NODELAY", "%s", strerror(errno));

	uint64_t n = BULK_OUT;
	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t)(n >> (56 - 8 * i));
	for (size_t i = 0; i < n; i++)
		buf[8 + i] = pattern(i);
	uint64_t want = fnv(0xcbf29ce484222325ULL, buf + 8, n);
	ssize_t w = write(s, buf, n + 8);
	check(w == (ssize_t)(n + 8), "a blocking write of 1 MiB sends it all",
	      "wrote %zd", w);

	char digest[17] = "";
	ssize_t r = recv(s, digest, 17, MSG_WAITALL);
	char wanthex[17];
	snprintf(wanthex, sizeof(wanthex), "%016llx", (unsigned long long)want);
	check(r == 17 && memcmp(digest, wanthex, 16) == 0 && digest[16] == '\n',
	      "the server got the 1 MiB intact (FNV-1a)", "got %zd '%.16s'", r,
	      digest);

	size_t got = 0;
	int bad = 0;
	for (;;) {
		r = read(s, buf, 65536);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern(got + (size_t)i))
				bad++;
		got += (size_t)r;
	}
	check(r == 0 && got == BULK_BACK && !bad,
	      "1 MiB from the server, intact, then end of file",
	      "read %zu bytes, %d wrong, last read %zd (%s)", got, bad, r,
	      r < 0 ? strerror(errno) : "eof");
	close(s);
	printf("net_client: bulk exchange took %.2f s\n", now() - t0);
}

static void check_refused(int port)
{
	errno = 0;
	int s = dial(port);
	check(s < 0 && errno == ECONNREFUSED,
	      "blocking connect to a closed port is ECONNREFUSED", "%s",
	      s < 0 ? strerror(errno) : "connected");
	if (s >= 0)
		close(s);

	struct sockaddr_in sa = server;
	sa.sin_port = htons((uint16_t)port);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	check(r < 0 && errno == EINPROGRESS,
	      "non-blocking connect is EINPROGRESS", "%s",
	      r ? strerror(errno) : "connected at once");
	struct pollfd p = {.fd = s, .events = POLLOUT};
	int pr = poll(&p, 1, 10000);
	check(pr == 1 && (p.revents & POLLOUT) && (p.revents & POLLERR),
	      "poll says POLLOUT|POLLERR when it is refused",
	      "poll %d revents %#x", pr, p.revents);
	int err = -1;
	socklen_t el = sizeof(err);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
	check(err == ECONNREFUSED, "SO_ERROR is ECONNREFUSED", "%d (%s)", err,
	      strerror(err));
	err = -1;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
	check(err == 0, "SO_ERROR is cleared by reading it", "%d", err);
	close(s);
}

static void check_reset(int port)
{
	int s = dial(port);
	check(s >= 0, "connect to the resetting server", "%s", strerror(errno));
	if (s < 0)
		return;
	char c;
	errno = 0;
	ssize_t r = recv(s, &c, 1, 0);
	check(r < 0 && errno == ECONNRESET, "recv after a RST is ECONNRESET",
	      "%zd (%s)", r, strerror(errno));
	r = recv(s, &c, 1, 0);
	check(r == 0, "then recv is end of file", "%zd (%s)", r,
	      strerror(errno));
	errno = 0;
	r = send(s, "x", 1, MSG_NOSIGNAL);
	check(r < 0 && errno == EPIPE, "send after a reset is EPIPE",
	      "%zd (%s)", r, strerror(errno));
	close(s);
}

static void check_timeout(int port)
{
	struct sockaddr_in sa = server;
	sa.sin_port = htons((uint16_t)port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	int r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	struct pollfd p = {.fd = s, .events = POLLOUT};
	int pr = poll(&p, 1, 10000);
	int err = -1;
	socklen_t el = sizeof(err);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
	check(r < 0 && errno == EINPROGRESS && pr == 1 &&
		  p.revents == POLLOUT && err == 0,
	      "non-blocking connect completes: POLLOUT, SO_ERROR 0",
	      "poll %d revents %#x error %d", pr, p.revents, err);
	char c;
	errno = 0;
	r = (int)recv(s, &c, 1, 0);
	check(r < 0 && errno == EAGAIN,
	      "O_NONBLOCK (fcntl): recv with nothing to read is EAGAIN", "%s",
	      strerror(errno));
	int avail = -1;
	check(ioctl(s, FIONREAD, &avail) == 0 && avail == 0,
	      "FIONREAD is 0 on a quiet connection", "%d", avail);
	fcntl(s, F_SETFL, fl);
	struct timeval tv = {0, 300000};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct timeval got = {0, 0};
	socklen_t gl = sizeof(got);
	getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &gl);
	check(gl == sizeof(got) && got.tv_sec == 0 && got.tv_usec == 300000,
	      "SO_RCVTIMEO reads back", "%ld.%06ld", (long)got.tv_sec,
	      (long)got.tv_usec);
	double t0 = now();
	errno = 0;
	r = (int)recv(s, &c, 1, 0);
	double dt = now() - t0;
	check(r < 0 && errno == EAGAIN && dt > 0.25 && dt < 5,
	      "a silent peer: recv gives EAGAIN after SO_RCVTIMEO",
	      "%d (%s) after %.2f s", r, strerror(errno), dt);
	struct stat st;
	check(fstat(s, &st) == 0 && S_ISSOCK(st.st_mode), "fstat says S_IFSOCK",
	      "mode %o", st.st_mode);
	close(s);
}

static void check_syn_timeout(const char *silent)
{
	struct sockaddr_in sa = at(inet_addr(silent), 80);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int v = 0;
	socklen_t vl = sizeof(v);

	check(getsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, &vl) == 0 && v == 6,
	      "TCP_SYNCNT is 6 by default", "%d", v);
	v = 0;
	errno = 0;
	int r0 = setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v));
	int e0 = errno;
	v = 128;
	errno = 0;
	int r1 = setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v));
	check(r0 < 0 && e0 == EINVAL && r1 < 0 && errno == EINVAL,
	      "TCP_SYNCNT 0 and 128 are EINVAL", "%d (%s), %d (%s)", r0,
	      strerror(e0), r1, strerror(errno));
	v = 1;
	setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v));
	v = 0;
	getsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, &vl);
	double t0 = now();
	errno = 0;
	int r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	check(v == 1 && r < 0 && e == ETIMEDOUT,
	      "connect to an address that drops SYNs, TCP_SYNCNT 1: ETIMEDOUT",
	      "TCP_SYNCNT %d, %d (%s) after %.1f s", v, r, strerror(e),
	      now() - t0);
	int err = -1;
	socklen_t el = sizeof(err);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
	check(err == 0, "SO_ERROR is 0 once connect has reported it", "%d",
	      err);
	close(s);
}

static void check_udp(int port)
{
	struct sockaddr_in sa = server;
	sa.sin_port = htons((uint16_t)port);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = {5, 0};
	setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char msg[1400], back[2048];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)pattern(i);
	ssize_t w =
	    sendto(u, msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa));
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t r =
	    recvfrom(u, back, sizeof(back), 0, (struct sockaddr *)&from, &fl);
	check(w == (ssize_t)sizeof(msg) && r == (ssize_t)sizeof(msg) &&
		  memcmp(msg, back, sizeof(msg)) == 0 &&
		  from.sin_addr.s_addr == sa.sin_addr.s_addr &&
		  from.sin_port == sa.sin_port,
	      "UDP sendto/recvfrom through an echo server, sender address",
	      "sent %zd got %zd", w, r);
	close(u);

	u = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int ok = connect(u, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	static char big[30000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)pattern(i + 7);
	static char bigback[40000];
	ok = ok && send(u, big, sizeof(big), 0) == (ssize_t)sizeof(big);
	r = recv(u, bigback, sizeof(bigback), 0);
	check(ok && r == (ssize_t)sizeof(big) &&
		  memcmp(big, bigback, sizeof(big)) == 0,
	      "connected UDP: a 30000-byte datagram, fragmented and back",
	      "got %zd", r);
	ok = send(u, big, 1000, 0) == 1000;
	struct msghdr m = {0};
	struct iovec iov = {bigback, 100};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	r = recvmsg(u, &m, 0);
	check(ok && r == 100 && (m.msg_flags & MSG_TRUNC),
	      "a datagram cut short says MSG_TRUNC", "got %zd flags %#x", r,
	      m.msg_flags);

	/* A bad header is refused before anything is received: the
	 * datagram is still there for the next call. */
	struct sockaddr_in name;
	ok = send(u, big, 50, 0) == 50;
	m.msg_name = &name;
	m.msg_namelen = (socklen_t)-1;
	iov.iov_len = sizeof(bigback);
	errno = 0;
	r = recvmsg(u, &m, 0);
	int e = errno;
	ssize_t again = recv(u, bigback, sizeof(bigback), 0);
	check(ok && r == -1 && e == EINVAL && again == 50,
	      "recvmsg with a negative msg_namelen: EINVAL, datagram kept",
	      "got %zd errno %d, then %zd", r, e, again);
	close(u);
}

/* A TCP connection to itself over 127.0.0.1, driven with poll. */
static void check_loopback(void)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = at(htonl(INADDR_LOOPBACK), 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int ok = bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		 listen(l, 4) == 0;
	socklen_t sl = sizeof(sa);
	ok = ok && getsockname(l, (struct sockaddr *)&sa, &sl) == 0 &&
	     sa.sin_port != 0;
	check(ok, "listen on 127.0.0.1 with an ephemeral port", "%s",
	      strerror(errno));
	int v = 0;
	socklen_t vl = sizeof(v);
	getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
	check(v == 1, "SO_ACCEPTCONN on a listener", "%d", v);

	int t = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	check(bind(t, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
		  errno == EADDRINUSE,
	      "binding a listening port again is EADDRINUSE", "%s",
	      strerror(errno));
	struct sockaddr_in far = at(inet_addr("10.9.9.9"), 0);
	errno = 0;
	check(bind(t, (struct sockaddr *)&far, sizeof(far)) < 0 &&
		  errno == EADDRNOTAVAIL,
	      "binding an address that is not ours is EADDRNOTAVAIL", "%s",
	      strerror(errno));
	close(t);

	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (struct sockaddr *)&sa, sizeof(sa));
	check(r == 0 || errno == EINPROGRESS, "connect to ourselves", "%s",
	      strerror(errno));
	struct pollfd p = {.fd = l, .events = POLLIN};
	check(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN),
	      "the listener polls readable", "revents %#x", p.revents);
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	int a = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK);
	check(a >= 0 && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "accept4 gives the peer 127.0.0.1", "%s", strerror(errno));
	errno = 0;
	check(accept(l, NULL, NULL) < 0 && errno == EAGAIN,
	      "a second accept on the non-blocking listener is EAGAIN", "%s",
	      strerror(errno));

	/* Both ends send LOOP_LEN bytes and read the other's. */
	static uint8_t out[LOOP_LEN], in[2][LOOP_LEN];
	for (size_t i = 0; i < LOOP_LEN; i++)
		out[i] = pattern(i * 3);
	int fds[2] = {c, a};
	size_t sent[2] = {0, 0}, got[2] = {0, 0};
	double t0 = now();
	while ((got[0] < LOOP_LEN || got[1] < LOOP_LEN) && now() - t0 < 20) {
		struct pollfd pf[2];
		for (int i = 0; i < 2; i++) {
			pf[i].fd = fds[i];
			pf[i].events =
			    (short)(POLLIN |
				    (sent[i] < LOOP_LEN ? POLLOUT : 0));
		}
		if (poll(pf, 2, 5000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			if ((pf[i].revents & POLLOUT) && sent[i] < LOOP_LEN) {
				ssize_t n = send(fds[i], out + sent[i],
						 LOOP_LEN - sent[i], 0);
				if (n > 0)
					sent[i] += (size_t)n;
			}
			if (pf[i].revents & POLLIN) {
				ssize_t n = recv(fds[i], in[i] + got[i],
						 LOOP_LEN - got[i], 0);
				if (n > 0)
					got[i] += (size_t)n;
			}
		}
	}
	check(got[0] == LOOP_LEN && got[1] == LOOP_LEN &&
		  memcmp(in[0], out, LOOP_LEN) == 0 &&
		  memcmp(in[1], out, LOOP_LEN) == 0,
	      "200 kB each way over loopback with poll", "got %zu and %zu",
	      got[0], got[1]);

	/* Orderly close: shutdown(SHUT_WR) is end of file at the other end,
	 * which can still send. */
	shutdown(c, SHUT_WR);
	p.fd = a;
	p.events = POLLIN | POLLRDHUP;
	int pr = poll(&p, 1, 5000);
	char b[8];
	ssize_t n = recv(a, b, sizeof(b), 0);
	check(pr == 1 && (p.revents & POLLRDHUP) && n == 0,
	      "shutdown(SHUT_WR): the peer sees POLLRDHUP and end of file",
	      "poll %d revents %#x recv %zd", pr, p.revents, n);
	n = send(a, "bye", 3, 0);
	p.fd = c;
	p.events = POLLIN;
	poll(&p, 1, 5000);
	ssize_t n2 = recv(c, b, sizeof(b), 0);
	check(n == 3 && n2 == 3 && memcmp(b, "bye", 3) == 0,
	      "a half-closed connection still carries the other way",
	      "send %zd recv %zd", n, n2);
	close(a);
	close(c);
	close(l);
}

/* A connected TCP pair over 127.0.0.1 (blocking ends); 0 or -1. */
static int loop_pair(int *c, int *a)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = at(htonl(INADDR_LOOPBACK), 0);
	socklen_t sl = sizeof(sa);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	*a = accept(l, NULL, NULL);
	close(l);
	return *a < 0 ? -1 : 0;
}

/* More of the API over loopback: sendmmsg/recvmmsg, MSG_PEEK, sendfile
 * to a socket, edge-triggered epoll, closing with unread data. */
static void check_loopback_more(void)
{
	int u1 = socket(AF_INET, SOCK_DGRAM, 0),
	    u2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = at(htonl(INADDR_LOOPBACK), 0);
	socklen_t sl = sizeof(sa);
	bind(u1, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(u1, (struct sockaddr *)&sa, &sl);
	char m[3][8] = {"one", "two!", "three"};
	struct iovec iv[3];
	struct mmsghdr mh[3];
	memset(mh, 0, sizeof(mh));
	for (int i = 0; i < 3; i++) {
		iv[i].iov_base = m[i];
		iv[i].iov_len = strlen(m[i]);
		mh[i].msg_hdr.msg_iov = &iv[i];
		mh[i].msg_hdr.msg_iovlen = 1;
		mh[i].msg_hdr.msg_name = &sa;
		mh[i].msg_hdr.msg_namelen = sizeof(sa);
	}
	int sent = sendmmsg(u2, mh, 3, 0);
	char peek[8] = "", in[3][8];
	struct timeval tv = {5, 0};
	setsockopt(u1, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t pk = recv(u1, peek, sizeof(peek), MSG_PEEK);
	memset(in, 0, sizeof(in));
	struct iovec ov[3];
	struct mmsghdr rh[3];
	memset(rh, 0, sizeof(rh));
	for (int i = 0; i < 3; i++) {
		ov[i].iov_base = in[i];
		ov[i].iov_len = sizeof(in[i]);
		rh[i].msg_hdr.msg_iov = &ov[i];
		rh[i].msg_hdr.msg_iovlen = 1;
	}
	int got = 0, tries = 0;
	while (got < 3 && tries++ < 3) {
		int r = recvmmsg(u1, rh + got, 3 - got, MSG_WAITFORONE, NULL);
		if (r <= 0)
			break;
		got += r;
	}
	check(sent == 3 && pk == 3 && memcmp(peek, "one", 3) == 0 && got == 3 &&
		  strcmp(in[0], "one") == 0 && strcmp(in[1], "two!") == 0 &&
		  strcmp(in[2], "three") == 0 && rh[1].msg_len == 4,
	      "sendmmsg, MSG_PEEK and recvmmsg over UDP loopback",
	      "sent %d peek %zd got %d", sent, pk, got);
	close(u1);
	close(u2);

	int c, a;
	if (loop_pair(&c, &a) < 0) {
		check(0, "a loopback pair", "%s", strerror(errno));
		return;
	}
	static char file[100000], back[100000];
	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (char)pattern(i + 11);
	int fd = open("/tmp/sendfile.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ssize_t fw = write(fd, file, sizeof(file));
	off_t off = 0;
	ssize_t sf = sendfile(c, fd, &off, sizeof(file));
	close(fd);
	ssize_t rd = recv(a, back, sizeof(back), MSG_WAITALL);
	check(fw == (ssize_t)sizeof(file) && sf == (ssize_t)sizeof(file) &&
		  rd == (ssize_t)sizeof(file) &&
		  memcmp(file, back, sizeof(file)) == 0,
	      "sendfile from a file to a socket", "sent %zd read %zd", sf, rd);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = a};
	struct epoll_event out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
	int n0 = epoll_wait(ep, out, 2, 0);
	send(c, "abcdef", 6, 0);
	int n1 = epoll_wait(ep, out, 2, 5000);
	char b[8];
	ssize_t r1 = recv(a, b, 2, 0);
	int n2 = epoll_wait(ep, out, 2, 0);
	send(c, "gh", 2, 0);
	int n3 = epoll_wait(ep, out, 2, 5000);
	ssize_t r2 = recv(a, b, sizeof(b), 0);
	check(n0 == 0 && n1 == 1 && (out[0].events & EPOLLIN) && r1 == 2 &&
		  n2 == 0 && n3 == 1 && r2 == 6,
	      "edge-triggered epoll on a socket: one event per arrival",
	      "%d %d %zd %d %d %zd", n0, n1, r1, n2, n3, r2);
	close(ep);

	send(c, "unread", 6, 0);
	usleep(100000);
	close(a);
	char x;
	errno = 0;
	ssize_t r = recv(c, &x, 1, 0);
	check(r < 0 && errno == ECONNRESET,
	      "closing with unread data resets the connection", "%zd (%s)", r,
	      strerror(errno));
	close(c);
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: net_client SERVER_NAME SERVER BASE "
				"MY_NAME MY_ADDR SILENT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int base = atoi(argv[3]);
	server = at(inet_addr(argv[2]), 0);

	errno = 0;
	check(socket(AF_INET6, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT,
	      "AF_INET6 is EAFNOSUPPORT", "%s", strerror(errno));
	check_resolve(argv[1], argv[2], argv[4], argv[5]);
	check_bulk(base);
	check_reset(base + 1);
	check_timeout(base + 2);
	check_refused(base + 3);
	check_syn_timeout(argv[6]);
	check_udp(base + 4);
	check_loopback();
	check_loopback_more();
	printf("net_client: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
