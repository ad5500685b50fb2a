/*
 * AF_UNIX sockets: socketpair and socket for SOCK_STREAM, SOCK_DGRAM and
 * SOCK_SEQPACKET; names on paths (a socket inode stat sees, unlink
 * removes), abstract names and autobind; listen/accept/connect with
 * several clients and the backlog; data calls with MSG_PEEK, MSG_TRUNC,
 * MSG_DONTWAIT, MSG_NOSIGNAL; shutdown and the peer's close (EOF, EPIPE
 * with SIGPIPE, ECONNRESET); SCM_RIGHTS passing a pipe end and a file,
 * MSG_CTRUNC, SCM_CREDENTIALS; the options; FIONREAD; poll, epoll (level
 * and edge, EPOLLRDHUP/EPOLLHUP); two threads talking through blocking
 * calls, a blocked writer woken as the reader drains; EINTR and
 * SA_RESTART; the error paths.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include "tap.h"

#define PATH1 "/tmp/kiln-unix-test.sock"
#define PATH2 "/tmp/kiln-unix-test-dgram.sock"
#define BIG   (1 << 20)

static volatile int got_sigpipe, got_alarm;

static void on_sigpipe(int sig)
{
	got_sigpipe++;
}

static void on_alarm(int sig)
{
	got_alarm++;
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			   strlen(path) + 1);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void test_pair_basics(void)
{
	int sv[2], v;
	socklen_t len;
	char buf[64];
	struct stat st;
	struct sockaddr_un a;
	struct ucred cred;

	CHECK_EQ("socketpair(AF_UNIX, SOCK_STREAM)",
		 socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ("write to one end", write(sv[0], "hello", 5), 5);
	v = -1;
	CHECK_EQ("FIONREAD", ioctl(sv[1], FIONREAD, &v), 0);
	CHECK_EQ("FIONREAD counts 5 bytes", v, 5);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ("MSG_PEEK sees the bytes",
		 recv(sv[1], buf, sizeof(buf), MSG_PEEK), 5);
	CHECK_EQ("read gets them from the other end",
		 read(sv[1], buf, sizeof(buf)), 5);
	CHECK_STR("in order", buf, "hello");
	CHECK_EQ("and back the other way", write(sv[1], "xy", 2), 2);
	CHECK_EQ("read it", read(sv[0], buf, sizeof(buf)), 2);
	CHECK_EQ("fstat", fstat(sv[0], &st), 0);
	CHECK(S_ISSOCK(st.st_mode), "fstat says S_IFSOCK");
	len = sizeof(v);
	CHECK_EQ("SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len),
		 0);
	CHECK_EQ("SO_TYPE is SOCK_STREAM", v, SOCK_STREAM);
	len = sizeof(v);
	getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &len);
	CHECK_EQ("SO_DOMAIN is AF_UNIX", v, AF_UNIX);
	len = sizeof(v);
	getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &len);
	CHECK_EQ("SO_ERROR is 0", v, 0);
	len = sizeof(v);
	getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len);
	CHECK(v > 4096, "SO_SNDBUF is a real size");
	len = sizeof(cred);
	CHECK_EQ("SO_PEERCRED",
		 getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
	CHECK_EQ("SO_PEERCRED pid is ours", cred.pid, getpid());
	CHECK_EQ("SO_PEERCRED uid is ours", cred.uid, getuid());
	len = sizeof(a);
	CHECK_EQ("getsockname of an unnamed socket",
		 getsockname(sv[0], (struct sockaddr *)&a, &len), 0);
	CHECK_EQ("its length is the family alone", len, sizeof(sa_family_t));
	len = sizeof(a);
	CHECK_EQ("getpeername of a pair",
		 getpeername(sv[0], (struct sockaddr *)&a, &len), 0);
	CHECK_EQ("unnamed too", len, sizeof(sa_family_t));
	close(sv[0]);
	close(sv[1]);

	CHECK_EQ("socketpair with SOCK_NONBLOCK|SOCK_CLOEXEC",
		 socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0, sv),
		 0);
	CHECK(fcntl(sv[0], F_GETFL) & O_NONBLOCK, "O_NONBLOCK is set");
	CHECK_EQ("FD_CLOEXEC is set", fcntl(sv[1], F_GETFD), FD_CLOEXEC);
	CHECK_ERR("empty non-blocking read is EAGAIN",
		  (errno = 0, read(sv[0], buf, 1)), EAGAIN);
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ("socket(AF_UNIX, SOCK_STREAM)",
		 (v = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0, 1);
	close(v);
}

static void test_shutdown_close(void)
{
	int sv[2], ep, v;
	char buf[16];
	struct pollfd pfd;
	struct epoll_event ev, out;
	struct sigaction sa;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	CHECK_EQ("shutdown(SHUT_WR)", shutdown(sv[0], SHUT_WR), 0);
	CHECK_EQ("the peer reads end of file", read(sv[1], buf, sizeof(buf)),
		 0);
	pfd.fd = sv[1];
	pfd.events = POLLIN | POLLRDHUP;
	CHECK_EQ("poll after the peer's SHUT_WR", poll(&pfd, 1, 0), 1);
	CHECK(pfd.revents & POLLRDHUP, "POLLRDHUP");
	CHECK_ERR("send after SHUT_WR is EPIPE",
		  (errno = 0, send(sv[0], "x", 1, MSG_NOSIGNAL)), EPIPE);
	CHECK_EQ("the other direction still works", write(sv[1], "ok", 2), 2);
	CHECK_EQ("read it", read(sv[0], buf, sizeof(buf)), 2);
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ep = epoll_create1(0);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = sv[1];
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
	CHECK_EQ("epoll: nothing yet", epoll_wait(ep, &out, 1, 0), 0);
	close(sv[0]);
	CHECK_EQ("epoll: the peer's close", epoll_wait(ep, &out, 1, 1000), 1);
	CHECK(out.events & EPOLLRDHUP, "EPOLLRDHUP");
	CHECK(out.events & EPOLLHUP, "EPOLLHUP");
	CHECK_EQ("read after the peer's close is end of file",
		 read(sv[1], buf, sizeof(buf)), 0);
	CHECK_ERR("send with MSG_NOSIGNAL is EPIPE",
		  (errno = 0, send(sv[1], "x", 1, MSG_NOSIGNAL)), EPIPE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
	got_sigpipe = 0;
	CHECK_ERR("write is EPIPE", (errno = 0, write(sv[1], "x", 1)), EPIPE);
	CHECK_EQ("and raised SIGPIPE", got_sigpipe, 1);
	CHECK_ERR("send without MSG_NOSIGNAL is EPIPE",
		  (errno = 0, send(sv[1], "x", 1, 0)), EPIPE);
	CHECK_EQ("and raised SIGPIPE again", got_sigpipe, 2);
	signal(SIGPIPE, SIG_IGN);
	close(sv[1]);
	close(ep);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "unread", 6);
	close(sv[1]);
	CHECK_ERR("closing with unread data: the peer gets ECONNRESET",
		  (errno = 0, read(sv[0], buf, sizeof(buf))), ECONNRESET);
	CHECK_EQ("then end of file", read(sv[0], buf, sizeof(buf)), 0);
	close(sv[0]);

	/* Edge-triggered epoll: one event per arrival. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	ep = epoll_create1(0);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.fd = sv[1];
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
	write(sv[0], "a", 1);
	CHECK_EQ("EPOLLET: an event for the data",
		 epoll_wait(ep, &out, 1, 1000), 1);
	CHECK_EQ("EPOLLET: none again for the same data",
		 epoll_wait(ep, &out, 1, 0), 0);
	write(sv[0], "b", 1);
	CHECK_EQ("EPOLLET: a new event for new data",
		 epoll_wait(ep, &out, 1, 1000), 1);
	/* Fill the buffer: EAGAIN, then POLLOUT once the reader drains. */
	{
		static char chunk[4096];
		long total = 0;
		ssize_t r;
		while ((r = write(sv[0], chunk, sizeof(chunk))) > 0)
			total += r;
		CHECK_ERR("a full socket gives EAGAIN", r, EAGAIN);
		CHECK(total >= 65536, "it took at least 64 KiB first");
		pfd.fd = sv[0];
		pfd.events = POLLOUT;
		CHECK_EQ("not writable while full", poll(&pfd, 1, 0), 0);
		while (read(sv[1], chunk, sizeof(chunk)) > 0)
			;
		CHECK_EQ("writable once drained", poll(&pfd, 1, 1000), 1);
		v = 0;
		ioctl(sv[1], FIONREAD, &v);
		CHECK_EQ("FIONREAD 0 once drained", v, 0);
	}
	close(sv[0]);
	close(sv[1]);
	close(ep);
}

static void test_dgram_seqpacket(void)
{
	int sv[2];
	char buf[64];
	struct iovec iov = {buf, 4};
	struct msghdr mh = {0};

	CHECK_EQ("socketpair(SOCK_DGRAM)",
		 socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	send(sv[0], "ab", 2, 0);
	send(sv[0], "cde", 3, 0);
	send(sv[0], "0123456789", 10, 0);
	CHECK_EQ("first datagram alone", recv(sv[1], buf, sizeof(buf), 0), 2);
	CHECK_EQ("MSG_PEEK the second", recv(sv[1], buf, sizeof(buf), MSG_PEEK),
		 3);
	CHECK_EQ("second datagram alone", recv(sv[1], buf, sizeof(buf), 0), 3);
	CHECK_EQ("MSG_TRUNC reports the full length",
		 recv(sv[1], buf, 4, MSG_PEEK | MSG_TRUNC), 10);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	CHECK_EQ("a short buffer takes 4 bytes", recvmsg(sv[1], &mh, 0), 4);
	CHECK(mh.msg_flags & MSG_TRUNC, "msg_flags has MSG_TRUNC");
	CHECK_ERR("the rest is gone",
		  (errno = 0, recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)),
		  EAGAIN);
	CHECK_EQ("zero-length datagram", send(sv[0], "", 0, 0), 0);
	CHECK_EQ("arrives as 0 bytes", recv(sv[1], buf, sizeof(buf), 0), 0);
	close(sv[0]);
	close(sv[1]);

	CHECK_EQ("socketpair(SOCK_SEQPACKET)",
		 socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	send(sv[0], "one", 3, 0);
	send(sv[0], "two!", 4, 0);
	CHECK_EQ("seqpacket record 1", recv(sv[1], buf, sizeof(buf), 0), 3);
	CHECK_EQ("seqpacket record 2", recv(sv[1], buf, sizeof(buf), 0), 4);
	close(sv[0]);
	CHECK_EQ("seqpacket end of file after close",
		 recv(sv[1], buf, sizeof(buf), 0), 0);
	CHECK_ERR("seqpacket send after close is EPIPE",
		  (errno = 0, send(sv[1], "x", 1, MSG_NOSIGNAL)), EPIPE);
	close(sv[1]);
}

static void test_path_listener(void)
{
	struct sockaddr_un a, b;
	socklen_t alen, len;
	int l, l2, c[3], s[3], i, n;
	struct stat st;
	char buf[32];
	struct pollfd pfd;

	unlink(PATH1);
	alen = path_addr(&a, PATH1);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ("bind to a path", bind(l, (struct sockaddr *)&a, alen), 0);
	CHECK_EQ("stat the path", stat(PATH1, &st), 0);
	CHECK(S_ISSOCK(st.st_mode), "the path is S_IFSOCK");
	l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR("a second bind to it is EADDRINUSE",
		  (errno = 0, bind(l2, (struct sockaddr *)&a, alen)),
		  EADDRINUSE);
	CHECK_ERR("connect before listen is ECONNREFUSED",
		  (errno = 0, connect(l2, (struct sockaddr *)&a, alen)),
		  ECONNREFUSED);
	close(l2);
	CHECK_EQ("listen", listen(l, 8), 0);
	len = sizeof(b);
	getsockname(l, (struct sockaddr *)&b, &len);
	CHECK_EQ("getsockname length is family + path + NUL", len, alen);
	CHECK_STR("getsockname path", b.sun_path, PATH1);
	for (i = 0; i < 3; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK_EQ("a client connects",
			 connect(c[i], (struct sockaddr *)&a, alen), 0);
		n = 'A' + i;
		write(c[i], &n, 1);
	}
	pfd.fd = l;
	pfd.events = POLLIN;
	CHECK_EQ("the listener polls readable", poll(&pfd, 1, 1000), 1);
	for (i = 0; i < 3; i++) {
		len = sizeof(b);
		s[i] = accept(l, (struct sockaddr *)&b, &len);
		CHECK(s[i] >= 0, "accept");
		CHECK_EQ("an unnamed client's address is the family alone", len,
			 sizeof(sa_family_t));
		n = 0;
		CHECK_EQ("data sent before accept is there", read(s[i], &n, 1),
			 1);
		CHECK_EQ("from the right client", n, 'A' + i);
	}
	len = sizeof(b);
	getpeername(c[0], (struct sockaddr *)&b, &len);
	CHECK_EQ("the client's getpeername is the listener's path", len, alen);
	len = sizeof(b);
	getsockname(s[0], (struct sockaddr *)&b, &len);
	CHECK_STR("the accepted socket's name is the path", b.sun_path, PATH1);
	write(s[2], "reply", 5);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ("the client reads the reply", read(c[2], buf, sizeof(buf)), 5);
	for (i = 0; i < 3; i++) {
		close(c[i]);
		close(s[i]);
	}
	/* syscall: musl's accept4 falls back to a blocking accept. */
	CHECK_ERR("accept4 with a bad flag is EINVAL",
		  (errno = 0, syscall(SYS_accept4, l, NULL, NULL, 0x1)),
		  EINVAL);
	/* Backlog: listen(1) lets two connections wait, like Linux. */
	listen(l, 1);
	for (i = 0; i < 3; i++)
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ("backlog 1: first connect",
		 connect(c[0], (struct sockaddr *)&a, alen), 0);
	CHECK_EQ("backlog 1: second connect",
		 connect(c[1], (struct sockaddr *)&a, alen), 0);
	CHECK_ERR("backlog 1: third non-blocking connect is EAGAIN",
		  (errno = 0, connect(c[2], (struct sockaddr *)&a, alen)),
		  EAGAIN);
	s[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	CHECK(s[0] >= 0, "accept4 one of them");
	CHECK_EQ("then the third gets in",
		 connect(c[2], (struct sockaddr *)&a, alen), 0);
	close(s[0]);
	close(l);
	CHECK_ERR("a pending client sees ECONNRESET once the listener closes",
		  (errno = 0, read(c[1], buf, 1)), ECONNRESET);
	for (i = 0; i < 3; i++)
		close(c[i]);
	l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR("the closed listener's path: ECONNREFUSED",
		  (errno = 0, connect(l2, (struct sockaddr *)&a, alen)),
		  ECONNREFUSED);
	CHECK_EQ("unlink removes the name", unlink(PATH1), 0);
	CHECK_ERR("connect to a missing path is ENOENT",
		  (errno = 0, connect(l2, (struct sockaddr *)&a, alen)),
		  ENOENT);
	close(l2);
}

static void test_abstract_dgram_names(void)
{
	struct sockaddr_un a, b;
	socklen_t alen, len;
	int l, c, s, d1, d2;
	char buf[32];
	static const char name[] = "\0kiln-abstract-test";

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, name, sizeof(name) - 1);
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			   sizeof(name) - 1);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ("bind an abstract name", bind(l, (struct sockaddr *)&a, alen),
		 0);
	CHECK_EQ("listen on it", listen(l, 4), 0);
	len = sizeof(b);
	getsockname(l, (struct sockaddr *)&b, &len);
	CHECK_EQ("abstract getsockname length", len, alen);
	CHECK(memcmp(b.sun_path, name, sizeof(name) - 1) == 0,
	      "abstract getsockname bytes");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR("the abstract name is in use",
		  (errno = 0, bind(s, (struct sockaddr *)&a, alen)),
		  EADDRINUSE);
	close(s);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ("connect to the abstract name",
		 connect(c, (struct sockaddr *)&a, alen), 0);
	s = accept(l, NULL, NULL);
	write(c, "abs", 3);
	CHECK_EQ("data through it", read(s, buf, sizeof(buf)), 3);
	close(c);
	close(s);
	close(l);

	/* Autobind: a bare family picks an abstract name. */
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_EQ("autobind",
		 bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)), 0);
	len = sizeof(b);
	getsockname(s, (struct sockaddr *)&b, &len);
	CHECK_EQ("autobind names 5 hex digits", len,
		 offsetof(struct sockaddr_un, sun_path) + 6);
	CHECK_EQ("autobind name is abstract", b.sun_path[0], 0);
	CHECK_ERR("binding twice is EINVAL",
		  (errno = 0, bind(s, (struct sockaddr *)&a, alen)), EINVAL);
	close(s);

	/* Datagrams to a path: the source address comes with them. */
	unlink(PATH2);
	alen = path_addr(&a, PATH2);
	d1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_EQ("bind a datagram socket",
		 bind(d1, (struct sockaddr *)&a, alen), 0);
	d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_EQ("sendto the path",
		 sendto(d2, "hi", 2, 0, (struct sockaddr *)&a, alen), 2);
	len = sizeof(b);
	CHECK_EQ("recvfrom",
		 recvfrom(d1, buf, sizeof(buf), 0, (struct sockaddr *)&b, &len),
		 2);
	CHECK_EQ("an unnamed sender has no address", len, 0);
	bind(d2, (struct sockaddr *)&b, sizeof(sa_family_t)); /* autobind */
	sendto(d2, "hey", 3, 0, (struct sockaddr *)&a, alen);
	len = sizeof(b);
	recvfrom(d1, buf, sizeof(buf), 0, (struct sockaddr *)&b, &len);
	CHECK_EQ("a named sender's address", len,
		 offsetof(struct sockaddr_un, sun_path) + 6);
	CHECK_EQ("reply to it",
		 sendto(d1, "back", 4, 0, (struct sockaddr *)&b, len), 4);
	CHECK_EQ("the reply arrives", recv(d2, buf, sizeof(buf), 0), 4);
	CHECK_EQ("connect a datagram socket",
		 connect(d2, (struct sockaddr *)&a, alen), 0);
	CHECK_EQ("send without an address", send(d2, "c", 1, 0), 1);
	CHECK_EQ("arrives", recv(d1, buf, sizeof(buf), 0), 1);
	CHECK_ERR("listen on SOCK_DGRAM is EOPNOTSUPP",
		  (errno = 0, listen(d1, 1)), EOPNOTSUPP);
	close(d1);
	close(d2);
	unlink(PATH2);
}

static void test_scm(void)
{
	int sv[2], p[2], fd, v;
	char buf[64];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) +
		       CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct iovec iov = {buf, 1};
	struct msghdr mh = {0};
	struct cmsghdr *cm;
	int fds[2];
	static const char tmpf[] = "/tmp/kiln-unix-scm.txt";

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	fd = open(tmpf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "file-content", 12);
	lseek(fd, 0, SEEK_SET);
	fds[0] = p[1];
	fds[1] = fd;
	memset(&ctl, 0, sizeof(ctl));
	buf[0] = 'F';
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = CMSG_SPACE(2 * sizeof(int));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	CHECK_EQ("sendmsg with SCM_RIGHTS", sendmsg(sv[0], &mh, 0), 1);
	close(p[1]);
	close(fd);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_controllen = sizeof(ctl.b);
	CHECK_EQ("recvmsg", recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC), 1);
	cm = CMSG_FIRSTHDR(&mh);
	CHECK(cm && cm->cmsg_type == SCM_RIGHTS &&
		  cm->cmsg_len == CMSG_LEN(2 * sizeof(int)),
	      "an SCM_RIGHTS message with two descriptors");
	if (cm) {
		memcpy(fds, CMSG_DATA(cm), sizeof(fds));
		CHECK_EQ("the passed pipe end works", write(fds[0], "pp", 2),
			 2);
		CHECK_EQ("read from the pipe", read(p[0], buf, sizeof(buf)), 2);
		memset(buf, 0, sizeof(buf));
		CHECK_EQ("the passed file reads", read(fds[1], buf, 12), 12);
		CHECK_STR("its content", buf, "file-content");
		CHECK_EQ("MSG_CMSG_CLOEXEC sets FD_CLOEXEC",
			 fcntl(fds[0], F_GETFD), FD_CLOEXEC);
		close(fds[0]);
		close(fds[1]);
	}
	CHECK_EQ("the pipe's last writer was the passed one: EOF",
		 read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);

	/* A control buffer with room for one of two: MSG_CTRUNC. */
	fds[0] = 0;
	fds[1] = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = CMSG_SPACE(2 * sizeof(int));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	sendmsg(sv[0], &mh, 0);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_controllen = CMSG_LEN(sizeof(int));
	mh.msg_flags = 0;
	CHECK_EQ("recvmsg with a short control buffer", recvmsg(sv[1], &mh, 0),
		 1);
	CHECK(mh.msg_flags & MSG_CTRUNC, "MSG_CTRUNC");
	cm = CMSG_FIRSTHDR(&mh);
	CHECK(cm && cm->cmsg_len == CMSG_LEN(sizeof(int)),
	      "one descriptor delivered");
	if (cm) {
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		close(fd);
	}
	mh.msg_control = ctl.b;
	mh.msg_controllen = CMSG_SPACE(sizeof(int));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	fd = 9999;
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	CHECK_ERR("passing a bad descriptor is EBADF",
		  (errno = 0, sendmsg(sv[0], &mh, 0)), EBADF);

	/* SO_PASSCRED: the sender's credentials come along. */
	v = 1;
	CHECK_EQ("SO_PASSCRED",
		 setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)), 0);
	send(sv[0], "c", 1, 0);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_controllen = sizeof(ctl.b);
	CHECK_EQ("recvmsg with SO_PASSCRED", recvmsg(sv[1], &mh, 0), 1);
	cm = CMSG_FIRSTHDR(&mh);
	CHECK(cm && cm->cmsg_type == SCM_CREDENTIALS,
	      "an SCM_CREDENTIALS message");
	if (cm) {
		struct ucred uc;
		memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
		CHECK_EQ("with our pid", uc.pid, getpid());
	}
	close(sv[0]);
	close(sv[1]);
	unlink(tmpf);
}

static void *big_reader(void *arg)
{
	int fd = *(int *)arg;
	static char buf[8192];
	long total = 0, sum = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			sum += (unsigned char)buf[i];
		total += r;
	}
	return (void *)(total == BIG ? sum : -1);
}

static void *late_writer(void *arg)
{
	int fd = *(int *)arg;
	sleep_ms(300);
	write(fd, "late", 4);
	return NULL;
}

static void test_threads(void)
{
	int sv[2];
	pthread_t t;
	char *big = malloc(BIG), buf[16];
	long sum = 0;
	void *ret;
	struct sigaction sa;
	struct itimerval it = {{0, 0}, {0, 50000}};

	for (int i = 0; i < BIG; i++) {
		big[i] = (char)(i * 7);
		sum += (unsigned char)big[i];
	}
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pthread_create(&t, NULL, big_reader, &sv[1]);
	/* One blocking write of 1 MiB: it waits for the reader to drain. */
	CHECK_EQ("a 1 MiB blocking write to a reading thread",
		 write(sv[0], big, BIG), BIG);
	close(sv[0]);
	pthread_join(t, &ret);
	CHECK_EQ("the thread read every byte in order", (long)ret, sum);
	close(sv[1]);
	free(big);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pthread_create(&t, NULL, late_writer, &sv[1]);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ("a blocking read waits for the other thread",
		 read(sv[0], buf, sizeof(buf)), 4);
	CHECK_STR("its data", buf, "late");
	pthread_join(t, NULL);

	/* A signal without SA_RESTART interrupts a blocking read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	got_alarm = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK_ERR("a blocking read interrupted is EINTR",
		  (errno = 0, read(sv[0], buf, sizeof(buf))), EINTR);
	CHECK_EQ("the handler ran", got_alarm, 1);
	/* With SA_RESTART the read goes on and gets the data. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	pthread_create(&t, NULL, late_writer, &sv[1]);
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK_EQ("with SA_RESTART the read resumes",
		 read(sv[0], buf, sizeof(buf)), 4);
	pthread_join(t, NULL);
	signal(SIGALRM, SIG_DFL);
	close(sv[0]);
	close(sv[1]);
}

static void test_errors(void)
{
	int s, sv[2];
	struct sockaddr_un a;
	char buf[4];
	socklen_t len = sizeof(a);

	s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR("send on an unconnected stream is ENOTCONN",
		  (errno = 0, send(s, "x", 1, MSG_NOSIGNAL)), ENOTCONN);
	CHECK_ERR("getpeername unconnected is ENOTCONN",
		  (errno = 0, getpeername(s, (struct sockaddr *)&a, &len)),
		  ENOTCONN);
	CHECK_ERR("listen unbound is EINVAL", (errno = 0, listen(s, 1)),
		  EINVAL);
	a.sun_family = AF_UNIX;
	CHECK_ERR("bind with length 1 is EINVAL",
		  (errno = 0, bind(s, (struct sockaddr *)&a, 1)), EINVAL);
	CHECK_ERR("bind with a length past sockaddr_un is EINVAL",
		  (errno = 0, bind(s, (struct sockaddr *)&a, sizeof(a) + 1)),
		  EINVAL);
	CHECK_ERR("bind with a bad pointer is EFAULT",
		  (errno = 0, syscall(SYS_bind, s, (void *)8, 20)), EFAULT);
	a.sun_family = AF_INET;
	CHECK_ERR("bind with another family is EINVAL",
		  (errno = 0, bind(s, (struct sockaddr *)&a, 20)), EINVAL);
	path_addr(&a, "/tmp/no/such/dir/sock");
	CHECK_ERR("bind under a missing directory is ENOENT",
		  (errno = 0, bind(s, (struct sockaddr *)&a, sizeof(a))),
		  ENOENT);
	close(open("/tmp/kiln-unix-regular", O_WRONLY | O_CREAT, 0600));
	path_addr(&a, "/tmp/kiln-unix-regular");
	CHECK_ERR("connect to a regular file is ECONNREFUSED",
		  (errno = 0, connect(s, (struct sockaddr *)&a, sizeof(a))),
		  ECONNREFUSED);
	CHECK_ERR("bind to an existing file is EADDRINUSE",
		  (errno = 0, bind(s, (struct sockaddr *)&a, sizeof(a))),
		  EADDRINUSE);
	CHECK_ERR("accept on a non-listening socket is EINVAL",
		  (errno = 0, accept(s, NULL, NULL)), EINVAL);
	close(s);
	unlink("/tmp/kiln-unix-regular");
	CHECK_ERR("socketpair with a bad pointer is EFAULT",
		  (errno = 0,
		   syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (void *)8)),
		  EFAULT);
	CHECK_ERR("socket(AF_UNIX, 7) is ESOCKTNOSUPPORT",
		  (errno = 0, socket(AF_UNIX, 7, 0)), ESOCKTNOSUPPORT);
	CHECK_ERR("socket(AF_UNIX, SOCK_STREAM, 6) is EPROTONOSUPPORT",
		  (errno = 0, socket(AF_UNIX, SOCK_STREAM, 6)),
		  EPROTONOSUPPORT);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	CHECK_ERR("recv into a bad pointer is EFAULT",
		  (errno = 0, write(sv[0], "x", 1),
		   syscall(SYS_recvfrom, sv[1], (void *)8, 1, 0, NULL, NULL)),
		  EFAULT);
	CHECK_EQ("the byte is still there", read(sv[1], buf, 1), 1);
	CHECK_ERR("shutdown with a bad how is EINVAL",
		  (errno = 0, shutdown(sv[0], 7)), EINVAL);
	CHECK_ERR("sendto on a connected stream is EISCONN",
		  (errno = 0,
		   sendto(sv[0], "x", 1, 0, (struct sockaddr *)&a, sizeof(a))),
		  EISCONN);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_pair_basics();
	test_shutdown_close();
	test_dgram_seqpacket();
	test_path_listener();
	test_abstract_dgram_names();
	test_scm();
	test_threads();
	test_errors();
	return tap_done("unix");
}
