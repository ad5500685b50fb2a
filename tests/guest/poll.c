/*
 * Readiness with poll, ppoll, select and pselect6 on pipes, eventfds and
 * regular files: what each end reports (POLLIN, POLLOUT, POLLHUP once the
 * writer is gone, POLLERR once the reader is), POLLNVAL for a closed
 * descriptor, negative descriptors ignored, timeouts (zero returns at once;
 * 50 ms waits at least 50 ms by the monotonic clock; the time left is
 * written back by select, pselect6 and ppoll), the fd_set results and the
 * errors (EBADF, EINVAL, EFAULT).  Only lower bounds on time: how far a
 * wait overshoots is a benchmark question.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/select.h>
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

/* The kernel's timespec and timeval, for the raw calls. */
struct kts {
	int64_t sec, nsec;
};
struct ktv {
	int64_t sec, usec;
};

static void check_took(const char *what, int64_t t0, int64_t min_ns)
{
	int64_t took = now_ns() - t0;
	if (took >= min_ns)
		tap_check(1, "%s", what);
	else
		tap_check(0, "%s: took %lld ns", what, (long long)took);
}

static void test_poll(void)
{
	int p[2], efd, reg;
	struct pollfd pf[4];
	uint64_t v = 1;
	int64_t t0;

	CHECK_EQ("pipe2", pipe2(p, O_NONBLOCK), 0);
	pf[0] = (struct pollfd){p[0], POLLIN, 0};
	pf[1] = (struct pollfd){p[1], POLLOUT, 0};
	CHECK_EQ("empty pipe: only the write end is ready", poll(pf, 2, 0), 1);
	CHECK_EQ("read end revents 0", pf[0].revents, 0);
	CHECK_EQ("write end POLLOUT", pf[1].revents, POLLOUT);
	pf[1].events = POLLOUT | POLLWRNORM;
	poll(pf, 2, 0);
	CHECK_EQ("POLLWRNORM when asked", pf[1].revents, POLLOUT | POLLWRNORM);

	CHECK_EQ("write 3 bytes", write(p[1], "abc", 3), 3);
	pf[0].events = POLLIN | POLLRDNORM | POLLPRI;
	CHECK_EQ("now both ends are ready", poll(pf, 2, 0), 2);
	CHECK_EQ("read end POLLIN | POLLRDNORM (no POLLPRI)", pf[0].revents,
		 POLLIN | POLLRDNORM);
	pf[0].events = 0;
	CHECK_EQ("events 0: nothing reported", poll(pf, 1, 0), 0);

	/* Bad and ignored descriptors. */
	int closed = dup(p[0]);
	close(closed);
	pf[0] = (struct pollfd){closed, POLLIN, 0};
	pf[1] = (struct pollfd){-1, POLLIN, 0x7};
	pf[2] = (struct pollfd){p[0], POLLIN, 0};
	CHECK_EQ("closed fd counts, negative fd does not", poll(pf, 3, 0), 2);
	CHECK_EQ("closed fd is POLLNVAL", pf[0].revents, POLLNVAL);
	CHECK_EQ("negative fd gets revents 0", pf[1].revents, 0);
	CHECK_EQ("the pipe is still readable", pf[2].revents, POLLIN);

	/* Hang-up and error. */
	close(p[1]);
	pf[0] = (struct pollfd){p[0], POLLIN, 0};
	poll(pf, 1, 0);
	CHECK_EQ("writer gone with data left: POLLIN | POLLHUP", pf[0].revents,
		 POLLIN | POLLHUP);
	char buf[8];
	CHECK_EQ("drain", read(p[0], buf, sizeof(buf)), 3);
	pf[0].events = 0;
	poll(pf, 1, 0);
	CHECK_EQ("POLLHUP is reported even when not asked", pf[0].revents,
		 POLLHUP);
	close(p[0]);
	CHECK_EQ("pipe2", pipe2(p, O_NONBLOCK), 0);
	close(p[0]);
	pf[0] = (struct pollfd){p[1], 0, 0};
	poll(pf, 1, 0);
	CHECK_EQ("reader gone: POLLERR even when not asked", pf[0].revents,
		 POLLERR);
	close(p[1]);

	/* Files without readiness of their own are always ready. */
	reg = open("/dev/null", O_RDWR);
	pf[0] = (struct pollfd){reg, POLLIN | POLLOUT, 0};
	CHECK_EQ("/dev/null", poll(pf, 1, 0), 1);
	CHECK_EQ("is readable and writable", pf[0].revents, POLLIN | POLLOUT);
	close(reg);

	efd = eventfd(0, EFD_NONBLOCK);
	pf[0] = (struct pollfd){efd, POLLIN | POLLOUT, 0};
	poll(pf, 1, 0);
	CHECK_EQ("zero eventfd: POLLOUT", pf[0].revents, POLLOUT);
	CHECK_EQ("post 1", write(efd, &v, 8), 8);
	poll(pf, 1, 0);
	CHECK_EQ("then POLLIN | POLLOUT", pf[0].revents, POLLIN | POLLOUT);

	/* Timeouts. */
	CHECK_EQ("pipe2", pipe2(p, O_NONBLOCK), 0);
	pf[0] = (struct pollfd){p[0], POLLIN, 0};
	t0 = now_ns();
	CHECK_EQ("poll 50 ms on an empty pipe times out", poll(pf, 1, 50), 0);
	check_took("poll 50 ms took >= 50 ms", t0, 50 * MS);
	pf[1] = (struct pollfd){efd, POLLIN, 0};
	t0 = now_ns();
	CHECK_EQ("poll forever (-1) with one fd ready returns it",
		 poll(pf, 2, -1), 1);
	CHECK_EQ("nfds 0 and 20 ms: a sleep", poll(NULL, 0, 20), 0);
	check_took("which took >= 20 ms", t0, 20 * MS);

	struct kts ts = {0, 50 * MS};
	t0 = now_ns();
	CHECK_EQ("ppoll 50 ms times out",
		 syscall(SYS_ppoll, pf, 1, &ts, NULL, 8), 0);
	check_took("ppoll 50 ms took >= 50 ms", t0, 50 * MS);
	CHECK(ts.sec == 0 && ts.nsec == 0,
	      "ppoll wrote back the time left (0)");
	ts = (struct kts){5, 0};
	CHECK_EQ("ppoll 5 s with a ready fd returns at once",
		 syscall(SYS_ppoll, pf, 2, &ts, NULL, 8), 1);
	CHECK(ts.sec <= 4 || (ts.sec == 5 && ts.nsec == 0),
	      "ppoll's time left is below 5 s");
	CHECK(ts.sec >= 3, "ppoll's time left is most of the 5 s");
	sigset_t mask;
	sigemptyset(&mask);
	CHECK_EQ("ppoll with a signal mask", ppoll(pf, 2, NULL, &mask), 1);

	/* Errors. */
	errno = 0;
	CHECK_ERR("poll with more fds than RLIMIT_NOFILE is EINVAL",
		  syscall(SYS_poll, pf, 0x7fffffffU, 0), EINVAL);
	errno = 0;
	CHECK_ERR("poll on a bad pointer is EFAULT",
		  syscall(SYS_poll, (void *)8, 1, 0), EFAULT);
	ts = (struct kts){0, 1000000000};
	errno = 0;
	CHECK_ERR("ppoll with tv_nsec 1e9 is EINVAL",
		  syscall(SYS_ppoll, pf, 1, &ts, NULL, 8), EINVAL);
	ts = (struct kts){-1, 0};
	errno = 0;
	CHECK_ERR("ppoll with a negative time is EINVAL",
		  syscall(SYS_ppoll, pf, 1, &ts, NULL, 8), EINVAL);
	ts = (struct kts){0, 0};
	errno = 0;
	CHECK_ERR("ppoll with sigsetsize 4 is EINVAL",
		  syscall(SYS_ppoll, pf, 1, &ts, &mask, 4), EINVAL);
	close(p[0]);
	close(p[1]);
	close(efd);
}

static void test_select(void)
{
	int p[2], efd;
	fd_set r, w, e;
	struct ktv tv;
	int64_t t0;

	CHECK_EQ("pipe2", pipe2(p, O_NONBLOCK), 0);
	efd = eventfd(0, EFD_NONBLOCK);
	int n = (p[1] > efd ? p[1] : efd) + 1;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(p[0], &r);
	FD_SET(efd, &r);
	FD_SET(p[0], &e);
	tv = (struct ktv){0, 0};
	CHECK_EQ("select with nothing readable, timeout 0",
		 syscall(SYS_select, n, &r, &w, &e, &tv), 0);
	CHECK(!FD_ISSET(p[0], &r) && !FD_ISSET(efd, &r), "read set cleared");

	CHECK_EQ("write to the pipe", write(p[1], "x", 1), 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	FD_SET(efd, &r);
	FD_SET(p[1], &w);
	FD_SET(p[0], &e);
	CHECK_EQ("pipe readable, write end writable: 2",
		 select(n, &r, &w, &e, &(struct timeval){0, 0}), 2);
	CHECK(FD_ISSET(p[0], &r), "read end set in the read set");
	CHECK(!FD_ISSET(efd, &r), "zero eventfd not set");
	CHECK(FD_ISSET(p[1], &w), "write end set in the write set");
	CHECK(!FD_ISSET(p[0], &e), "no exceptional condition on a pipe");

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[0], &w);
	FD_SET(p[1], &w);
	CHECK_EQ("read end in the read and write sets, write end in write: 2",
		 select(n, &r, &w, NULL, NULL), 2);
	CHECK(FD_ISSET(p[0], &r) && !FD_ISSET(p[0], &w) && FD_ISSET(p[1], &w),
	      "read end readable only, write end writable");

	/* Timeouts and the time left. */
	char c;
	read(p[0], &c, 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct ktv){0, 50000};
	t0 = now_ns();
	CHECK_EQ("select 50 ms on an empty pipe times out",
		 syscall(SYS_select, n, &r, NULL, NULL, &tv), 0);
	check_took("select 50 ms took >= 50 ms", t0, 50 * MS);
	CHECK(tv.sec == 0 && tv.usec == 0, "select wrote back 0 time left");
	CHECK(!FD_ISSET(p[0], &r), "and cleared the set");

	FD_ZERO(&w);
	FD_SET(p[1], &w);
	tv = (struct ktv){0, 2500000};
	CHECK_EQ("tv_usec of 2.5 s is folded into seconds, not EINVAL",
		 syscall(SYS_select, n, NULL, &w, NULL, &tv), 1);
	CHECK(tv.sec >= 1 && tv.sec <= 2 && tv.usec < 1000000,
	      "time left is under 2.5 s, usec normalized");

	struct kts ts = {0, 50 * MS};
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	t0 = now_ns();
	CHECK_EQ("pselect6 50 ms times out",
		 syscall(SYS_pselect6, n, &r, NULL, NULL, &ts, NULL), 0);
	check_took("pselect6 50 ms took >= 50 ms", t0, 50 * MS);
	CHECK(ts.sec == 0 && ts.nsec == 0, "pselect6 wrote back 0 time left");
	sigset_t mask;
	sigemptyset(&mask);
	uint64_t v = 2;
	write(efd, &v, 8);
	FD_ZERO(&r);
	FD_SET(efd, &r);
	CHECK_EQ("pselect with a signal mask sees the eventfd",
		 pselect(n, &r, NULL, NULL, NULL, &mask), 1);
	struct {
		void *mask;
		size_t size;
	} sig = {&mask, 4};
	ts = (struct kts){0, 0};
	errno = 0;
	CHECK_ERR("pselect6 with sigsetsize 4 is EINVAL",
		  syscall(SYS_pselect6, n, &r, NULL, NULL, &ts, &sig), EINVAL);

	/* Errors. */
	int closed = dup(p[0]);
	close(closed);
	FD_ZERO(&r);
	FD_SET(closed, &r);
	errno = 0;
	CHECK_ERR("a closed fd in a set is EBADF",
		  select(closed + 1, &r, NULL, NULL, &(struct timeval){0, 0}),
		  EBADF);
	FD_ZERO(&r);
	FD_SET(closed, &r);
	CHECK_EQ("... but not when nfds leaves it out",
		 select(closed, &r, NULL, NULL, &(struct timeval){0, 0}), 0);
	errno = 0;
	CHECK_ERR("negative nfds is EINVAL",
		  syscall(SYS_select, -1, NULL, NULL, NULL, NULL), EINVAL);
	tv = (struct ktv){-1, 0};
	errno = 0;
	CHECK_ERR("negative timeout is EINVAL",
		  syscall(SYS_select, 0, NULL, NULL, NULL, &tv), EINVAL);
	errno = 0;
	CHECK_ERR("a set at a bad pointer is EFAULT",
		  syscall(SYS_select, 1, (void *)8, NULL, NULL, NULL), EFAULT);
	fd_set big[2];
	memset(big, 0, sizeof(big));
	FD_SET(p[1], &big[0]);
	tv = (struct ktv){0, 0};
	CHECK_EQ("nfds past FD_SETSIZE is clipped, not EINVAL",
		 syscall(SYS_select, 2 * FD_SETSIZE, NULL, big, NULL, &tv), 1);
	close(p[0]);
	close(p[1]);
	close(efd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_poll();
	test_select();
	return tap_done("poll");
}
