/*
 * Default signal actions.  Without arguments: the checks that leave the
 * program alive (ignored signals, a blocked fatal signal stays pending,
 * SIG_IGN discards it).  With one argument it dies the way the argument
 * names, and tests/e2e/signals.sh checks the exit status (128 + signal):
 *   pipe    write to a pipe nobody reads        141 (SIGPIPE)
 *   term    raise(SIGTERM)                      143
 *   abort   abort()                             134 (SIGABRT)
 *   kill    kill(getpid(), SIGKILL)             137
 *   thread  another thread tgkills the main one with SIGTERM      143
 *   unblock SIGTERM raised while blocked, then unblocked          143
 *   alarm   alarm(1), then pause()              142 (SIGALRM)
 * Each prints "sigdefault: dying by NAME" first and "still alive" if it
 * survives (which it must not).  For the graceful stop on kiln-vmm
 * (tests/e2e/vmm.sh sends SIGTERM to the monitor after "ready"):
 *   wait-term    catches SIGTERM, prints who sent it, exits 42
 *   wait-ignore  ignores SIGTERM (the monitor's second SIGTERM stops it)
 *   wait-default keeps the default (the monitor stops at once: 143)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tap.h"

static pid_t main_tid;

static void *kill_main(void *arg)
{
	syscall(SYS_tgkill, getpid(), main_tid, SIGTERM);
	return NULL;
}

static void on_term(int sig, siginfo_t *si, void *uc)
{
	printf("sigdefault: got SIGTERM from pid %d\n", (int)si->si_pid);
	fflush(stdout);
	_exit(42);
}

/* Waits for the monitor's SIGTERM with the given disposition. */
static void wait_for_stop(const char *how)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	if (!strcmp(how, "wait-term")) {
		sa.sa_sigaction = on_term;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGTERM, &sa, NULL);
	} else if (!strcmp(how, "wait-ignore")) {
		signal(SIGTERM, SIG_IGN);
	}
	printf("sigdefault: ready for SIGTERM (%s)\n", how);
	fflush(stdout);
	for (;;)
		pause();
}

static void die(const char *how)
{
	if (!strncmp(how, "wait-", 5))
		wait_for_stop(how);
	printf("sigdefault: dying by %s\n", how);
	fflush(stdout);
	if (!strcmp(how, "pipe")) {
		int fds[2];
		pipe(fds);
		close(fds[0]);
		write(fds[1], "x", 1);
	} else if (!strcmp(how, "term")) {
		raise(SIGTERM);
	} else if (!strcmp(how, "abort")) {
		abort();
	} else if (!strcmp(how, "kill")) {
		kill(getpid(), SIGKILL);
	} else if (!strcmp(how, "thread")) {
		pthread_t t;
		main_tid = (pid_t)syscall(SYS_gettid);
		pthread_create(&t, NULL, kill_main, NULL);
		for (;;)
			pause();
	} else if (!strcmp(how, "unblock")) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		raise(SIGTERM);
		printf("sigdefault: blocked SIGTERM pending\n");
		fflush(stdout);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	} else if (!strcmp(how, "alarm")) {
		alarm(1);
		pause();
	} else {
		printf("sigdefault: unknown way to die '%s'\n", how);
		exit(2);
	}
	printf("sigdefault: still alive\n");
	exit(3);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		die(argv[1]);

	signal(SIGTERM, SIG_IGN);
	CHECK_EQ("raise(SIGTERM) with SIG_IGN returns", raise(SIGTERM), 0);
	signal(SIGTERM, SIG_DFL);
	CHECK_EQ("SIGCHLD's default action ignores it", raise(SIGCHLD), 0);
	CHECK_EQ("SIGWINCH's default action ignores it", raise(SIGWINCH), 0);

	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	CHECK_EQ("a blocked SIGTERM does not kill", raise(SIGTERM), 0);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGTERM), "... it stays pending");
	signal(SIGTERM, SIG_IGN);
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGTERM), "SIG_IGN discards it");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGTERM, SIG_DFL);
	CHECK(1, "unblocking after that is harmless");
	return tap_done("sigdefault");
}
