/*
 * epoll on pipes and eventfds: level triggering (reported again while
 * ready), edge triggering (a second epoll_wait after a partial read
 * reports nothing until new data arrives), one-shot items and their
 * re-arming with EPOLL_CTL_MOD, EPOLL_CTL_DEL, the user's data returned
 * verbatim, EPOLLHUP/EPOLLERR reported unasked, items leaving the set
 * when their file is closed (and staying while a dup keeps it open),
 * round-robin among ready items when maxevents is small, nested
 * instances (and ELOOP for a cycle), timeouts of epoll_wait, epoll_pwait
 * and epoll_pwait2, and the errors of every call.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>

#include "tap.h"

#define MS 1000000LL

static int64_t now_ns(void)
{
	struct timespec t;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void check_took(const char *what, int64_t t0, int64_t min_ns)
{
	int64_t took = now_ns() - t0;
	if (took >= min_ns)
		tap_check(1, "%s", what);
	else
		tap_check(0, "%s: took %lld ns", what, (long long)took);
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* epoll_wait with no wait; fills *ev with the first event. */
static int ep_poll(int ep, struct epoll_event *ev)
{
	struct epoll_event tmp[8];
	int n = epoll_wait(ep, tmp, 8, 0);
	if (n > 0 && ev)
		*ev = tmp[0];
	return n;
}

static void test_level_edge(void)
{
	int ep, p[2], q[2];
	struct epoll_event ev;
	char buf[16];

	ep = epoll_create1(0);
	CHECK_OK("epoll_create1(0)", ep);
	CHECK_EQ("pipe2", pipe2(p, O_NONBLOCK), 0);
	CHECK_EQ("ADD the read end, level-triggered",
		 ep_add(ep, p[0], EPOLLIN, 0x1122334455667788ULL), 0);
	CHECK_EQ("empty pipe: no event", ep_poll(ep, &ev), 0);
	CHECK_EQ("write 10 bytes", write(p[1], "0123456789", 10), 10);
	memset(&ev, 0, sizeof(ev));
	CHECK_EQ("one event", ep_poll(ep, &ev), 1);
	CHECK_EQ("EPOLLIN", ev.events, EPOLLIN);
	CHECK(ev.data.u64 == 0x1122334455667788ULL, "data returned verbatim");
	CHECK_EQ("level: reported again without reading", ep_poll(ep, &ev), 1);
	CHECK_EQ("read 5", read(p[0], buf, 5), 5);
	CHECK_EQ("level: still reported after a partial read", ep_poll(ep, &ev),
		 1);
	CHECK_EQ("read the rest", read(p[0], buf, sizeof(buf)), 5);
	CHECK_EQ("level: nothing once drained", ep_poll(ep, &ev), 0);

	CHECK_EQ("pipe2 for the edge-triggered item", pipe2(q, O_NONBLOCK), 0);
	CHECK_EQ("ADD EPOLLIN | EPOLLET",
		 ep_add(ep, q[0], EPOLLIN | EPOLLET, 7), 0);
	CHECK_EQ("edge: nothing yet", ep_poll(ep, &ev), 0);
	CHECK_EQ("write 10 bytes", write(q[1], "0123456789", 10), 10);
	CHECK_EQ("edge: one event", ep_poll(ep, &ev), 1);
	CHECK_EQ("for the right item", ev.data.u64, 7);
	CHECK_EQ("edge: not again without new data", ep_poll(ep, &ev), 0);
	CHECK_EQ("partial read of 5", read(q[0], buf, 5), 5);
	CHECK_EQ("edge: a partial read does not re-arm it", ep_poll(ep, &ev),
		 0);
	CHECK_EQ("new data: 1 byte", write(q[1], "x", 1), 1);
	CHECK_EQ("edge: new data reports again", ep_poll(ep, &ev), 1);
	CHECK_EQ("EPOLLIN", ev.events, EPOLLIN);
	CHECK_EQ("edge: and only once", ep_poll(ep, &ev), 0);
	close(q[1]);
	CHECK_EQ("edge: the writer closing is an edge", ep_poll(ep, &ev), 1);
	CHECK_EQ("EPOLLIN | EPOLLHUP (data left)", ev.events,
		 EPOLLIN | EPOLLHUP);
	close(q[0]);

	/* EPOLLHUP and EPOLLERR are reported without being asked for. */
	CHECK_EQ("pipe2", pipe2(q, O_NONBLOCK), 0);
	CHECK_EQ("ADD the read end with EPOLLOUT only (never true)",
		 ep_add(ep, q[0], EPOLLOUT, 8), 0);
	CHECK_EQ("ADD the write end with events 0", ep_add(ep, q[1], 0, 9), 0);
	CHECK_EQ("nothing to report", ep_poll(ep, &ev), 0);
	close(q[1]);
	CHECK_EQ("the writer closed: the read end hangs up", ep_poll(ep, &ev),
		 1);
	CHECK_EQ("as EPOLLHUP", ev.events, EPOLLHUP);
	CHECK_EQ("for its item", ev.data.u64, 8);
	close(q[0]);
	CHECK_EQ("closed: nothing left", ep_poll(ep, &ev), 0);
	CHECK_EQ("pipe2", pipe2(q, O_NONBLOCK), 0);
	CHECK_EQ("ADD the write end with events 0", ep_add(ep, q[1], 0, 10), 0);
	close(q[0]);
	CHECK_EQ("the reader closed: the write end errs", ep_poll(ep, &ev), 1);
	CHECK_EQ("as EPOLLERR", ev.events, EPOLLERR);
	close(q[1]);

	close(p[0]);
	close(p[1]);
	close(ep);
}

static void test_oneshot_del(void)
{
	int ep, p[2], efd;
	struct epoll_event ev;
	uint64_t v = 1;

	ep = epoll_create(1);
	CHECK_OK("epoll_create(1)", ep);
	efd = eventfd(0, EFD_NONBLOCK);
	CHECK_EQ("ADD an eventfd EPOLLIN | EPOLLONESHOT",
		 ep_add(ep, efd, EPOLLIN | EPOLLONESHOT, 42), 0);
	CHECK_EQ("post", write(efd, &v, 8), 8);
	CHECK_EQ("one-shot: reported once", ep_poll(ep, &ev), 1);
	CHECK_EQ("with its data", ev.data.u64, 42);
	CHECK_EQ("one-shot: then disabled though still ready", ep_poll(ep, &ev),
		 0);
	CHECK_EQ("post again", write(efd, &v, 8), 8);
	CHECK_EQ("one-shot: new events do not wake it", ep_poll(ep, &ev), 0);
	CHECK_EQ("MOD re-arms it", ep_mod(ep, efd, EPOLLIN | EPOLLONESHOT, 43),
		 0);
	CHECK_EQ("reported again", ep_poll(ep, &ev), 1);
	CHECK_EQ("with the new data", ev.data.u64, 43);
	CHECK_EQ("MOD to EPOLLOUT, level", ep_mod(ep, efd, EPOLLOUT, 44), 0);
	CHECK_EQ("writable", ep_poll(ep, &ev), 1);
	CHECK_EQ("EPOLLOUT only (EPOLLIN not asked)", ev.events, EPOLLOUT);

	CHECK_EQ("DEL", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), 0);
	CHECK_EQ("nothing after DEL", ep_poll(ep, &ev), 0);
	errno = 0;
	CHECK_ERR("DEL again is ENOENT",
		  epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), ENOENT);
	errno = 0;
	CHECK_ERR("MOD of an absent item is ENOENT",
		  ep_mod(ep, efd, EPOLLIN, 0), ENOENT);
	CHECK_EQ("ADD", ep_add(ep, efd, EPOLLIN, 1), 0);
	errno = 0;
	CHECK_ERR("ADD twice is EEXIST", ep_add(ep, efd, EPOLLIN, 1), EEXIST);

	/* Closing the file removes the item; a dup keeps the file. */
	CHECK_EQ("pipe2", pipe2(p, O_NONBLOCK), 0);
	CHECK_EQ("ADD a pipe", ep_add(ep, p[0], EPOLLIN, 50), 0);
	CHECK_EQ("DEL the eventfd", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), 0);
	write(p[1], "x", 1);
	CHECK_EQ("the pipe is reported", ep_poll(ep, &ev), 1);
	int d = dup(p[0]);
	int old = p[0];
	close(p[0]);
	CHECK_EQ("closed but dup'ed: still reported", ep_poll(ep, &ev), 1);
	CHECK_EQ("under the old data", ev.data.u64, 50);
	errno = 0;
	CHECK_ERR("DEL by the closed number is EBADF",
		  epoll_ctl(ep, EPOLL_CTL_DEL, old, NULL), EBADF);
	close(d);
	CHECK_EQ("last descriptor closed: the item is gone", ep_poll(ep, &ev),
		 0);
	int r2 = dup(p[1]); /* takes a freed number */
	CHECK_EQ("ADD a new file under a reused number",
		 ep_add(ep, r2, EPOLLOUT, 51), 0);
	CHECK_EQ("reported", ep_poll(ep, &ev), 1);
	CHECK_EQ("with the new data", ev.data.u64, 51);
	close(r2);
	close(p[1]);
	close(efd);
	close(ep);
}

static void test_many(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int efd[3];
	uint64_t v = 1;
	struct epoll_event evs[4];
	int seen[3] = {0, 0, 0};

	CHECK_EQ("EPOLL_CLOEXEC sets FD_CLOEXEC", fcntl(ep, F_GETFD),
		 FD_CLOEXEC);
	for (int i = 0; i < 3; i++) {
		efd[i] = eventfd(1, EFD_NONBLOCK);
		ep_add(ep, efd[i], EPOLLIN, (uint64_t)i);
	}
	CHECK_EQ("three ready items, maxevents 4: 3", epoll_wait(ep, evs, 4, 0),
		 3);
	for (int i = 0; i < 3; i++) {
		int n = epoll_wait(ep, evs, 1, 0);
		if (n == 1 && evs[0].data.u64 < 3)
			seen[evs[0].data.u64]++;
	}
	CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1,
	      "maxevents 1 three times: each item once (round robin)");
	(void)v;

	/* Nesting: an epoll instance inside another. */
	int outer = epoll_create1(0);
	CHECK_EQ("ADD an epoll fd into another", ep_add(outer, ep, EPOLLIN, 99),
		 0);
	CHECK_EQ("outer sees the inner one ready", ep_poll(outer, evs), 1);
	CHECK_EQ("as EPOLLIN", evs[0].events, EPOLLIN);
	CHECK_EQ("with its data", evs[0].data.u64, 99);
	struct pollfd pf = {ep, POLLIN, 0};
	CHECK_EQ("poll() on an epoll fd", poll(&pf, 1, 0), 1);
	CHECK_EQ("says POLLIN", pf.revents, POLLIN);
	errno = 0;
	CHECK_ERR("a cycle is ELOOP", ep_add(ep, outer, EPOLLIN, 0), ELOOP);
	errno = 0;
	CHECK_ERR("an epoll fd in itself is EINVAL",
		  ep_add(outer, outer, EPOLLIN, 0), EINVAL);
	for (int i = 0; i < 3; i++)
		close(efd[i]);
	CHECK_EQ("inner empty: outer reports nothing", ep_poll(outer, evs), 0);
	pf.revents = 0;
	CHECK_EQ("and poll() on the inner fd neither", poll(&pf, 1, 0), 0);
	close(ep);
	CHECK_EQ("inner closed: outer is empty", ep_poll(outer, evs), 0);
	close(outer);
}

static void test_errors_timeouts(void)
{
	int ep = epoll_create1(0), p[2], reg;
	struct epoll_event ev = {EPOLLIN, {0}}, evs[2];
	int64_t t0;

	pipe2(p, O_NONBLOCK);
	errno = 0;
	CHECK_ERR("epoll_create(0) is EINVAL", syscall(SYS_epoll_create, 0),
		  EINVAL);
	errno = 0;
	CHECK_ERR("epoll_create1 with an unknown flag is EINVAL",
		  epoll_create1(1), EINVAL);
	int closed = dup(p[0]);
	close(closed);
	errno = 0;
	CHECK_ERR("ctl on a bad epfd is EBADF",
		  epoll_ctl(closed, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	errno = 0;
	CHECK_ERR("ctl of a bad fd is EBADF",
		  epoll_ctl(ep, EPOLL_CTL_ADD, closed, &ev), EBADF);
	errno = 0;
	CHECK_ERR("ctl on a pipe instead of an epoll fd is EINVAL",
		  epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev), EINVAL);
	reg = open("/dev/null", O_RDONLY);
	errno = 0;
	CHECK_ERR("a file without poll (/dev/null) is EPERM",
		  epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM);
	close(reg);
	errno = 0;
	CHECK_ERR("an unknown op is EINVAL", epoll_ctl(ep, 99, p[0], &ev),
		  EINVAL);
	errno = 0;
	CHECK_ERR("ADD with a bad event pointer is EFAULT",
		  syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], (void *)8),
		  EFAULT);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	errno = 0;
	CHECK_ERR("EPOLLEXCLUSIVE with EPOLLONESHOT is EINVAL",
		  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK_EQ("EPOLLEXCLUSIVE is accepted on ADD",
		 epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	ev.events = EPOLLIN;
	errno = 0;
	CHECK_ERR("MOD of an exclusive item is EINVAL",
		  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
	ev.events = EPOLLOUT | EPOLLEXCLUSIVE;
	errno = 0;
	CHECK_ERR("MOD with EPOLLEXCLUSIVE is EINVAL",
		  epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), EINVAL);

	errno = 0;
	CHECK_ERR("epoll_wait maxevents 0 is EINVAL", epoll_wait(ep, evs, 0, 0),
		  EINVAL);
	errno = 0;
	CHECK_ERR(
	    "epoll_wait to a kernel address is EFAULT",
	    syscall(SYS_epoll_wait, ep, (void *)0xffff800000000000UL, 2, 0),
	    EFAULT);
	errno = 0;
	CHECK_ERR("epoll_wait on a bad fd is EBADF",
		  epoll_wait(closed, evs, 2, 0), EBADF);
	errno = 0;
	CHECK_ERR("epoll_wait on a pipe is EINVAL", epoll_wait(p[0], evs, 2, 0),
		  EINVAL);
	errno = 0;
	CHECK_ERR("read of an epoll fd is EINVAL", read(ep, evs, sizeof(evs)),
		  EINVAL);

	t0 = now_ns();
	CHECK_EQ("epoll_wait 50 ms on an empty pipe times out",
		 epoll_wait(ep, evs, 2, 50), 0);
	check_took("epoll_wait 50 ms took >= 50 ms", t0, 50 * MS);
	sigset_t mask;
	sigemptyset(&mask);
	t0 = now_ns();
	CHECK_EQ("epoll_pwait 30 ms with a mask times out",
		 epoll_pwait(ep, evs, 2, 30, &mask), 0);
	check_took("epoll_pwait 30 ms took >= 30 ms", t0, 30 * MS);
	errno = 0;
	CHECK_ERR("epoll_pwait with sigsetsize 4 is EINVAL",
		  syscall(SYS_epoll_pwait, ep, evs, 2, 0, &mask, 4), EINVAL);
	struct timespec ts = {0, 50 * MS};
	t0 = now_ns();
	CHECK_EQ("epoll_pwait2 50 ms times out",
		 syscall(SYS_epoll_pwait2, ep, evs, 2, &ts, NULL, 8), 0);
	check_took("epoll_pwait2 50 ms took >= 50 ms", t0, 50 * MS);
	ts.tv_nsec = 1000000000;
	errno = 0;
	CHECK_ERR("epoll_pwait2 with tv_nsec 1e9 is EINVAL",
		  syscall(SYS_epoll_pwait2, ep, evs, 2, &ts, NULL, 8), EINVAL);
	write(p[1], "x", 1);
	CHECK_EQ("epoll_wait forever (-1) returns the ready item",
		 epoll_wait(ep, evs, 2, -1), 1);
	CHECK_EQ("epoll_pwait2 with a NULL timeout too",
		 syscall(SYS_epoll_pwait2, ep, evs, 2, NULL, NULL, 8), 1);
	close(p[0]);
	close(p[1]);
	close(ep);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_level_edge();
	test_oneshot_del();
	test_many();
	test_errors_timeouts();
	return tap_done("epoll");
}
