/*
 * timerfd: create with each clock and flag (bad ones EINVAL), a one-shot
 * relative timer fires once and read returns 1 as a u64, a non-blocking
 * read before expiry is EAGAIN, an interval timer counts every expiry
 * since the last read, TFD_TIMER_ABSTIME on MONOTONIC and REALTIME
 * (a past time fires at once), gettime reports the time left and the
 * interval, settime returns the old setting and disarming stops it, poll
 * and epoll see the descriptor readable only after expiry, a blocking
 * read waits for it, and the error cases (short buffer, write, not a
 * timerfd, bad timespec, bad fd, bad pointer).  Only lower bounds on
 * time: never how late a timer may be.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#include "tap.h"

#define MS 1000000LL

static int64_t now_ns(clockid_t clk)
{
	struct timespec t = {0, 0};
	if (syscall(SYS_clock_gettime, clk, &t) != 0)
		return -1;
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct itimerspec its_ms(long value_ms, long interval_ms)
{
	struct itimerspec its;
	its.it_value.tv_sec = value_ms / 1000;
	its.it_value.tv_nsec = value_ms % 1000 * MS;
	its.it_interval.tv_sec = interval_ms / 1000;
	its.it_interval.tv_nsec = interval_ms % 1000 * MS;
	return its;
}

static int64_t its_value_ns(const struct itimerspec *its)
{
	return (int64_t)its->it_value.tv_sec * 1000000000 +
	       its->it_value.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * MS};
	nanosleep(&ts, NULL);
}

int main(void)
{
	uint64_t v = 0;
	struct itimerspec its, old;
	int fd;

	/* create */
	fd = timerfd_create(CLOCK_MONOTONIC, 0);
	CHECK_OK("timerfd_create MONOTONIC", fd);
	int rt = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	CHECK_OK("timerfd_create REALTIME, NONBLOCK|CLOEXEC", rt);
	CHECK_EQ("TFD_CLOEXEC sets FD_CLOEXEC", fcntl(rt, F_GETFD), FD_CLOEXEC);
	CHECK(fcntl(rt, F_GETFL) & O_NONBLOCK, "TFD_NONBLOCK sets O_NONBLOCK");
	CHECK_EQ("without TFD_CLOEXEC no FD_CLOEXEC", fcntl(fd, F_GETFD), 0);
	int bt = timerfd_create(CLOCK_BOOTTIME, 0);
	CHECK_OK("timerfd_create BOOTTIME", bt);
	close(bt);
	CHECK_ERR("timerfd_create bad clock",
		  (errno = 0, timerfd_create(42, 0)), EINVAL);
	CHECK_ERR("timerfd_create CLOCK_PROCESS_CPUTIME_ID",
		  (errno = 0, timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0)),
		  EINVAL);
	CHECK_ERR("timerfd_create bad flags",
		  (errno = 0, timerfd_create(CLOCK_MONOTONIC, 0x10)), EINVAL);

	/* a new timer is disarmed */
	CHECK_EQ("gettime of a new timer", timerfd_gettime(fd, &its), 0);
	CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0 &&
		  its.it_interval.tv_sec == 0 && its.it_interval.tv_nsec == 0,
	      "a new timer is disarmed (all zero)");
	CHECK_ERR("nonblocking read of a disarmed timer",
		  (errno = 0, read(rt, &v, sizeof(v))), EAGAIN);

	/* one-shot, relative */
	int nb = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	its = its_ms(200, 0);
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ("settime 200 ms one-shot", timerfd_settime(nb, 0, &its, NULL),
		 0);
	CHECK_ERR("read before expiry: EAGAIN",
		  (errno = 0, read(nb, &v, sizeof(v))), EAGAIN);
	struct pollfd pfd = {nb, POLLIN, 0};
	CHECK_EQ("poll before expiry: not readable", poll(&pfd, 1, 0), 0);
	CHECK_EQ("gettime while armed", timerfd_gettime(nb, &old), 0);
	CHECK(its_value_ns(&old) > 0 && its_value_ns(&old) <= 200 * MS,
	      "gettime: time left in (0, 200 ms]");
	pfd.revents = 0;
	CHECK_EQ("poll waits for the expiry", poll(&pfd, 1, 10000), 1);
	CHECK_EQ("poll: POLLIN", pfd.revents & POLLIN, POLLIN);
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 200 * MS,
	      "poll returned no earlier than 200 ms");
	CHECK_EQ("read after expiry returns 8", read(nb, &v, sizeof(v)), 8);
	CHECK_EQ("one expiry", v, 1);
	CHECK_ERR("read again: EAGAIN (count was reset)",
		  (errno = 0, read(nb, &v, sizeof(v))), EAGAIN);
	CHECK_EQ("gettime of an expired one-shot", timerfd_gettime(nb, &old),
		 0);
	CHECK_EQ("expired one-shot: value 0", its_value_ns(&old), 0);

	/* blocking read */
	its = its_ms(100, 0);
	t0 = now_ns(CLOCK_MONOTONIC);
	timerfd_settime(fd, 0, &its, NULL);
	v = 0;
	CHECK_EQ("blocking read returns 8", read(fd, &v, sizeof(v)), 8);
	CHECK_EQ("blocking read: one expiry", v, 1);
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 100 * MS,
	      "blocking read waited 100 ms");

	/* interval */
	its = its_ms(50, 50);
	t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ("settime 50 ms interval", timerfd_settime(nb, 0, &its, NULL),
		 0);
	sleep_ms(330);
	int64_t waited = now_ns(CLOCK_MONOTONIC) - t0;
	CHECK_EQ("read of an interval timer", read(nb, &v, sizeof(v)), 8);
	/* at least 6 expiries in 330 ms; at most one per 50 ms elapsed */
	CHECK(v >= 6 && (int64_t)v <= waited / (50 * MS),
	      "interval: every expiry since the start counted");
	CHECK_EQ("gettime of an interval timer", timerfd_gettime(nb, &old), 0);
	CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_nsec == 50 * MS,
	      "gettime: interval 50 ms");
	CHECK(its_value_ns(&old) > 0 && its_value_ns(&old) <= 50 * MS,
	      "gettime: next expiry within the interval");
	v = 0;
	CHECK_EQ("blocking-style wait for the next tick (poll)",
		 poll(&pfd, 1, 10000), 1);
	CHECK_EQ("next tick read", read(nb, &v, sizeof(v)), 8);
	CHECK(v >= 1, "next tick counted");

	/* settime returns the old setting; disarm */
	its = its_ms(0, 0);
	CHECK_EQ("settime 0 disarms, returns the old setting",
		 timerfd_settime(nb, 0, &its, &old), 0);
	CHECK(old.it_interval.tv_nsec == 50 * MS, "old setting: interval");
	CHECK(its_value_ns(&old) > 0, "old setting: armed");
	sleep_ms(120);
	CHECK_ERR("disarmed: no more expiries",
		  (errno = 0, read(nb, &v, sizeof(v))), EAGAIN);

	/* settime resets the count */
	its = its_ms(10, 0);
	timerfd_settime(nb, 0, &its, NULL);
	sleep_ms(50);
	its = its_ms(5000, 0);
	timerfd_settime(nb, 0, &its, NULL);
	CHECK_ERR("settime discards expiries not read",
		  (errno = 0, read(nb, &v, sizeof(v))), EAGAIN);

	/* absolute times */
	struct itimerspec abs_its = {{0, 0}, {0, 0}};
	int64_t when = now_ns(CLOCK_MONOTONIC) + 100 * MS;
	abs_its.it_value.tv_sec = when / 1000000000;
	abs_its.it_value.tv_nsec = when % 1000000000;
	CHECK_EQ("settime ABSTIME MONOTONIC",
		 timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs_its, NULL), 0);
	CHECK_EQ("ABSTIME MONOTONIC read", read(fd, &v, sizeof(v)), 8);
	CHECK(now_ns(CLOCK_MONOTONIC) >= when,
	      "ABSTIME MONOTONIC fired no earlier than asked");
	when = now_ns(CLOCK_REALTIME) + 100 * MS;
	abs_its.it_value.tv_sec = when / 1000000000;
	abs_its.it_value.tv_nsec = when % 1000000000;
	CHECK_EQ("settime ABSTIME|CANCEL_ON_SET REALTIME",
		 timerfd_settime(rt,
				 TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
				 &abs_its, NULL),
		 0);
	CHECK_ERR("ABSTIME REALTIME not yet", (errno = 0, read(rt, &v, 8)),
		  EAGAIN);
	pfd.fd = rt;
	CHECK_EQ("poll REALTIME timer", poll(&pfd, 1, 10000), 1);
	CHECK(now_ns(CLOCK_REALTIME) >= when,
	      "ABSTIME REALTIME fired no earlier than asked");
	CHECK_EQ("ABSTIME REALTIME read", read(rt, &v, 8), 8);
	CHECK_EQ("ABSTIME REALTIME: one expiry", v, 1);
	abs_its.it_value.tv_sec = 1; /* 1970: long past */
	abs_its.it_value.tv_nsec = 0;
	timerfd_settime(rt, TFD_TIMER_ABSTIME, &abs_its, NULL);
	CHECK_EQ("ABSTIME in the past fires at once", read(rt, &v, 8), 8);

	/* epoll, level- and edge-triggered */
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 7};
	CHECK_EQ("epoll_ctl ADD timerfd", epoll_ctl(ep, EPOLL_CTL_ADD, nb, &ev),
		 0);
	struct epoll_event got = {0, {0}};
	CHECK_EQ("epoll_wait: armed far ahead, nothing",
		 epoll_wait(ep, &got, 1, 0), 0);
	its = its_ms(100, 0);
	t0 = now_ns(CLOCK_MONOTONIC);
	timerfd_settime(nb, 0, &its, NULL);
	CHECK_EQ("epoll_wait waits for the expiry",
		 epoll_wait(ep, &got, 1, 10000), 1);
	CHECK(got.data.u64 == 7 && (got.events & EPOLLIN),
	      "epoll_wait: EPOLLIN with the data");
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 100 * MS,
	      "epoll_wait returned no earlier than 100 ms");
	CHECK_EQ("edge-triggered: not again before a read",
		 epoll_wait(ep, &got, 1, 0), 0);
	read(nb, &v, 8);
	its = its_ms(20, 20);
	timerfd_settime(nb, 0, &its, NULL);
	CHECK_EQ("edge-triggered interval: fires",
		 epoll_wait(ep, &got, 1, 10000), 1);
	read(nb, &v, 8);
	CHECK_EQ("edge-triggered interval: fires again after a read",
		 epoll_wait(ep, &got, 1, 10000), 1);
	its = its_ms(0, 0);
	timerfd_settime(nb, 0, &its, NULL);
	close(ep);

	/* errors */
	CHECK_ERR("read of 4 bytes: EINVAL", (errno = 0, read(fd, &v, 4)),
		  EINVAL);
	CHECK_ERR("write: EINVAL", (errno = 0, write(fd, &v, 8)), EINVAL);
	its = its_ms(100, 0);
	CHECK_ERR("settime bad flags",
		  (errno = 0, timerfd_settime(fd, 0x100, &its, NULL)), EINVAL);
	its.it_value.tv_nsec = 1000000000;
	CHECK_ERR("settime tv_nsec 1e9",
		  (errno = 0, timerfd_settime(fd, 0, &its, NULL)), EINVAL);
	its = its_ms(100, 0);
	its.it_interval.tv_sec = -1;
	CHECK_ERR("settime negative interval",
		  (errno = 0, timerfd_settime(fd, 0, &its, NULL)), EINVAL);
	its = its_ms(100, 0);
	int p[2];
	CHECK_EQ("pipe", pipe(p), 0);
	CHECK_ERR("settime on a pipe: EINVAL",
		  (errno = 0, timerfd_settime(p[0], 0, &its, NULL)), EINVAL);
	close(p[0]);
	close(p[1]);
	CHECK_ERR("settime on a closed fd: EBADF",
		  (errno = 0, timerfd_settime(999, 0, &its, NULL)), EBADF);
	CHECK_ERR("gettime on a closed fd: EBADF",
		  (errno = 0, timerfd_gettime(999, &its)), EBADF);
	CHECK_ERR(
	    "settime bad new pointer: EFAULT",
	    (errno = 0, syscall(SYS_timerfd_settime, fd, 0, (void *)8, NULL)),
	    EFAULT);
	CHECK_ERR("gettime bad pointer: EFAULT",
		  (errno = 0, syscall(SYS_timerfd_gettime, fd, (void *)8)),
		  EFAULT);
	its = its_ms(0, 0);
	its.it_value.tv_nsec = 1;
	timerfd_settime(fd, 0, &its, NULL);
	sleep_ms(5);
	CHECK_ERR("read into a bad pointer: EFAULT",
		  (errno = 0, syscall(SYS_read, fd, (void *)8, 8)), EFAULT);

	close(fd);
	close(nb);
	close(rt);
	return tap_done("timerfd");
}
