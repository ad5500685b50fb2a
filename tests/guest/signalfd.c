/*
 * signalfd and the signal-waiting calls: a signalfd with SFD_NONBLOCK and
 * SFD_CLOEXEC reads EAGAIN while nothing is pending, becomes readable in
 * epoll and poll when a blocked signal in its mask arrives, and read
 * returns it as a struct signalfd_siginfo (kill: SI_USER and our pid;
 * sigqueue: SI_QUEUE and the value; a POSIX timer: SI_TIMER, its id and
 * value), several per read when they fit; signalfd on an existing
 * descriptor replaces its mask; a blocking read waits for a signal sent
 * by another thread; rt_sigpending and sigtimedwait see blocked signals;
 * and bad input (flags, mask size, not a signalfd, bad fd, bad pointer,
 * short buffer, write).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>

#include "tap.h"

#define BAD ((void *)16)

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
	nanosleep(&ts, NULL);
}

static void *late_kill(void *arg)
{
	(void)arg;
	sleep_ms(30);
	kill(getpid(), SIGUSR1);
	return NULL;
}

static void test_timer_record(int sfd)
{
	struct {
		union sigval value;
		int signo, notify, tid, pad[11];
	} ev;
	struct itimerspec its = {{0, 0}, {0, 5000000}};
	struct signalfd_siginfo si;
	struct pollfd pfd = {sfd, POLLIN, 0};
	int id = -1;

	memset(&ev, 0, sizeof(ev));
	ev.notify = SIGEV_SIGNAL;
	ev.signo = SIGUSR1;
	ev.value.sival_int = 31;
	CHECK_OK("timer for the signalfd",
		 syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
	syscall(SYS_timer_settime, id, 0, &its, NULL);
	CHECK_EQ("poll waits for the timer's signal", poll(&pfd, 1, 10000), 1);
	memset(&si, 0, sizeof(si));
	CHECK_EQ("read the timer's record", read(sfd, &si, sizeof(si)),
		 sizeof(si));
	CHECK_EQ("ssi_code SI_TIMER", si.ssi_code, SI_TIMER);
	CHECK_EQ("ssi_tid is the timer id", si.ssi_tid, id);
	CHECK_EQ("ssi_int is the value", si.ssi_int, 31);
	CHECK_EQ("ssi_overrun 0", si.ssi_overrun, 0);
	syscall(SYS_timer_delete, id);
}

int main(void)
{
	struct signalfd_siginfo si, two[2];
	struct epoll_event ev, out;
	sigset_t set, pend;
	int sfd, ep;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK_OK("signalfd with SFD_NONBLOCK|SFD_CLOEXEC", sfd);
	CHECK(fcntl(sfd, F_GETFD) & FD_CLOEXEC, "FD_CLOEXEC set");
	CHECK(fcntl(sfd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK set");
	CHECK_ERR("read with nothing pending EAGAIN",
		  (errno = 0, read(sfd, &si, sizeof(si))), EAGAIN);

	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.u64 = 77;
	CHECK_OK("epoll_ctl ADD signalfd",
		 epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev));
	CHECK_EQ("not ready before a signal", epoll_wait(ep, &out, 1, 0), 0);

	kill(getpid(), SIGUSR1);
	CHECK_EQ("ready after kill", epoll_wait(ep, &out, 1, 10000), 1);
	CHECK((out.events & EPOLLIN) && out.data.u64 == 77,
	      "EPOLLIN with our data");
	sigemptyset(&pend);
	syscall(SYS_rt_sigpending, &pend, 8);
	CHECK(sigismember(&pend, SIGUSR1), "rt_sigpending shows it");
	memset(&si, 0, sizeof(si));
	CHECK_EQ("read one record", read(sfd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ("ssi_signo", si.ssi_signo, SIGUSR1);
	CHECK_EQ("ssi_code SI_USER", si.ssi_code, SI_USER);
	CHECK_EQ("ssi_pid our pid", si.ssi_pid, getpid());
	CHECK_ERR("then EAGAIN", (errno = 0, read(sfd, &si, sizeof(si))),
		  EAGAIN);
	CHECK_EQ("epoll: no longer ready", epoll_wait(ep, &out, 1, 0), 0);

	union sigval v = {.sival_int = 1234};
	sigqueue(getpid(), SIGUSR1, v);
	memset(&si, 0, sizeof(si));
	CHECK_EQ("read a queued signal", read(sfd, &si, sizeof(si)),
		 sizeof(si));
	CHECK_EQ("ssi_code SI_QUEUE", si.ssi_code, SI_QUEUE);
	CHECK_EQ("ssi_int the value", si.ssi_int, 1234);

	/* SIGUSR2 is outside the mask until the mask is replaced. */
	kill(getpid(), SIGUSR2);
	CHECK_ERR("signal outside the mask not read",
		  (errno = 0, read(sfd, &si, sizeof(si))), EAGAIN);
	sigaddset(&set, SIGUSR2);
	CHECK_EQ("signalfd on the fd replaces the mask", signalfd(sfd, &set, 0),
		 sfd);
	CHECK_EQ("epoll sees the newly covered signal",
		 epoll_wait(ep, &out, 1, 10000), 1);
	memset(&si, 0, sizeof(si));
	CHECK_EQ("read it", read(sfd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ("it is SIGUSR2", si.ssi_signo, SIGUSR2);

	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR2);
	CHECK_EQ("two records in one read", read(sfd, two, sizeof(two)),
		 sizeof(two));
	CHECK(two[0].ssi_signo == SIGUSR1 && two[1].ssi_signo == SIGUSR2,
	      "lowest number first");
	CHECK_ERR("buffer under 128 bytes EINVAL",
		  (errno = 0, read(sfd, &si, 64)), EINVAL);
	CHECK_ERR("write EINVAL", (errno = 0, write(sfd, &si, sizeof(si))),
		  EINVAL);

	test_timer_record(sfd);

	/* A blocking signalfd waits for another thread's kill. */
	int bfd = signalfd(-1, &set, 0);
	pthread_t th;
	pthread_create(&th, NULL, late_kill, NULL);
	memset(&si, 0, sizeof(si));
	CHECK_EQ("blocking read waits for the signal",
		 read(bfd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ("and gets it", si.ssi_signo, SIGUSR1);
	pthread_join(th, NULL);
	close(bfd);

	/* sigtimedwait: a timeout, then a pending one. */
	struct timespec ts = {0, 10000000};
	siginfo_t info;
	CHECK_ERR("sigtimedwait times out EAGAIN",
		  (errno = 0, sigtimedwait(&set, &info, &ts)), EAGAIN);
	kill(getpid(), SIGUSR2);
	CHECK_EQ("sigwaitinfo takes a pending one", sigwaitinfo(&set, &info),
		 SIGUSR2);

	int p[2];
	pipe(p);
	CHECK_ERR("bad flags EINVAL",
		  (errno = 0, syscall(SYS_signalfd4, -1, &set, 8, 0x1000)),
		  EINVAL);
	CHECK_ERR("mask size 4 EINVAL",
		  (errno = 0, syscall(SYS_signalfd4, -1, &set, 4, 0)), EINVAL);
	CHECK_ERR("a pipe is not a signalfd EINVAL",
		  (errno = 0, syscall(SYS_signalfd4, p[0], &set, 8, 0)),
		  EINVAL);
	CHECK_ERR("closed fd EBADF",
		  (errno = 0, syscall(SYS_signalfd4, 900, &set, 8, 0)), EBADF);
	CHECK_ERR("bad mask pointer EFAULT",
		  (errno = 0, syscall(SYS_signalfd4, -1, BAD, 8, 0)), EFAULT);
	kill(getpid(), SIGUSR1);
	CHECK_ERR("bad read buffer EFAULT",
		  (errno = 0, syscall(SYS_read, sfd, BAD, sizeof(si))), EFAULT);
	close(p[0]);
	close(p[1]);
	close(ep);
	close(sfd);
	return tap_done("signalfd");
}
