/*
 * Running the VM (see hypervisor.h).
 *
 * kiln-vmm inherits kiln's stdin/stdout/stderr and reports the program's
 * status as its own, so kiln only waits for it.  QEMU needs more care:
 *  - The console (COM1) goes to a pipe that kiln copies to its stdout.
 *    QEMU's stdio chardev would put a terminal in raw mode and read from
 *    it, and reopening /dev/stdout would truncate or seek a redirected
 *    file; a pipe avoids both, and QEMU never touches the terminal.
 *  - isa-debug-exit makes QEMU exit with (v << 1) | 1, which loses bit 7
 *    of the status and cannot be told from QEMU's own failure (exit 1) for
 *    v = 0.  So the kernel (kiln.exit=com2) also writes "kiln-exit N\n" to
 *    a second UART at 0x2f8, which goes to another pipe: that record wins.
 *  - QEMU's stderr is captured and shown only if QEMU itself failed.
 *  - --timeout is kiln's: it kills QEMU and returns 124.
 * The rootfs reaches either monitor as /dev/fd/N of an unlinked temp file,
 * so nothing is left on disk however kiln ends.
 *
 * Signals: kiln-vmm stays in kiln's process group, so a terminal's Ctrl-C
 * reaches both; QEMU gets a group of its own, so that only kiln sees a
 * SIGTERM sent to the group (below).  kiln kills the child itself (SIGTERM for
 * kiln-vmm, which then reports where the guest was; SIGKILL for QEMU; a second
 * signal always SIGKILL) so `kill PID` of kiln stops the VM too.  The
 * graceful stop: kiln-vmm passes a first SIGTERM on to a program that
 * handles it by itself; on QEMU kiln does, with one byte on COM2 once the
 * kernel has said it is ready (lib/hv.c).  Either way the program's own
 * status is then kiln's.  The
 * child gets PR_SET_PDEATHSIG so it dies with kiln even on SIGKILL.
 */
#include "hypervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kiln/abi.h"

static volatile sig_atomic_t hv_signal;	 /* first signal received */
static volatile sig_atomic_t hv_signals; /* how many */
/* 0: no child yet (a signal exits at once); > 0: running child to stop;
 * -1: child reaped (a signal is only recorded). */
static volatile pid_t hv_child;
static volatile sig_atomic_t hv_stop_sig = SIGKILL;
/* QEMU's graceful stop: kiln's end of COM2, whether the guest said it
 * passes SIGTERM on (set by the pump), whether a SIGTERM went that way. */
static volatile int hv_com2_fd = -1;
static volatile sig_atomic_t hv_com2_ready, hv_forwarded;

/*
 * timeout(1), service managers and `kill 0` deliver one stop request
 * twice: to the process and to its process group.  The same signal from
 * the same sender within HV_REPEAT_NS of the previous one is that request
 * again, not the second SIGTERM that means "stop at once".  Called from
 * the handler (clock_gettime is async-signal-safe).
 */
#define HV_REPEAT_NS 500000000LL

static int hv_is_repeat(int sig, const siginfo_t *si)
{
	static volatile sig_atomic_t last_sig;
	static volatile pid_t last_pid;
	static volatile long long last_ns;
	struct timespec now;
	long long ns;
	int repeat;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	repeat = last_sig == sig && si != NULL && si->si_pid == last_pid &&
		 ns - last_ns < HV_REPEAT_NS;
	last_sig = sig;
	last_pid = si != NULL ? si->si_pid : 0;
	last_ns = ns;
	return repeat;
}

static void hv_on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	pid_t child = hv_child;

	(void)uc;
	if (hv_is_repeat(sig, si))
		return;
	if (hv_signal == 0)
		hv_signal = sig;
	hv_signals++;
	if (child == 0)
		_exit(128 + sig);
	if (child > 0 &&
	    hv_qemu_forward_stop(hv_com2_fd, hv_com2_ready, sig, hv_signals))
		hv_forwarded = 1; /* the program decides when it ends */
	else if (child > 0)
		kill(child, hv_signals > 1 ? SIGKILL : hv_stop_sig);
	errno = saved;
}

/* Takes kiln's end of COM2 away from the signal handler before it is
 * closed, so a late SIGTERM never writes to a reused descriptor. */
static void hv_com2_forget(void)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	hv_com2_fd = -1;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Signals kiln stops the VM for, and whether each was ignored when kiln
 * started: a background job of a non-interactive shell starts with SIGINT
 * ignored and nohup ignores SIGHUP; like any well-behaved program, kiln
 * (and its monitor) then keep ignoring them. */
static const int hv_stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
static int hv_ignored[3];

void hypervisor_signals_install(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = hv_on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++) {
		int sig = hv_stop_signals[i];

		if (sig != SIGTERM && sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN) {
			hv_ignored[i] = 1;
			continue;
		}
		sigaction(sig, &sa, NULL);
	}
	/* A closed stdout pipe must not kill kiln before it stops the VM. */
	signal(SIGPIPE, SIG_IGN);
}

/*
 * fork + exec with the error of exec reported through a close-on-exec
 * pipe, signals blocked until hv_child is set.  keep_fds (terminated by
 * -1) lose FD_CLOEXEC in the child; out_fd/err_fd, when >= 0, become the
 * child's stdout/stderr and /dev/null its stdin.  Returns the pid, or -1
 * after printing why.
 */
static pid_t hv_spawn(char *const argv[], const int *keep_fds, int out_fd,
		      int err_fd)
{
	sigset_t block, old;
	int ep[2], e = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (pipe2(ep, O_CLOEXEC) < 0) {
		cli_error("cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			signal(hv_stop_signals[i],
			       hv_ignored[i] ? SIG_IGN : SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(KILN_EXIT_MONITOR);
		for (const int *k = keep_fds; k && *k >= 0; k++)
			fcntl(*k, F_SETFD, 0);
		if (out_fd >= 0) {
			int nul = open("/dev/null", O_RDONLY);

			/* QEMU in a process group of its own: a SIGTERM sent
			 * to kiln's group (timeout(1), a service manager)
			 * must reach only kiln, which decides whether the
			 * program gets it or QEMU stops. */
			setpgid(0, 0);
			if (nul < 0 || dup2(nul, 0) < 0 ||
			    dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
				goto child_fail;
		}
		execvp(argv[0], argv);
	child_fail:
		e = errno;
		n = write(ep[1], &e, sizeof(e));
		(void)n;
		_exit(KILN_EXIT_MONITOR);
	}
	if (pid > 0)
		hv_child = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		cli_error("cannot start '%s': %s", argv[0], strerror(errno));
		return -1;
	}
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		hv_child = -1;
		if (e == ENOENT && strchr(argv[0], '/') == NULL)
			cli_error(
			    "cannot run '%s': not found in $PATH "
			    "(install qemu-system-x86: sh scripts/deps.sh)",
			    argv[0]);
		else
			cli_error("cannot run '%s': %s", argv[0], strerror(e));
		return -1;
	}
	return pid;
}

/* Waits for the child, retrying on EINTR; marks it reaped. */
static int hv_wait(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	hv_child = -1;
	return st;
}

/* Saves the terminal state of stdin (if it is one) so that it can be put
 * back whatever the child did to it before dying. */
struct hv_tty {
	int saved;
	struct termios tio;
};

static void hv_tty_save(struct hv_tty *t)
{
	t->saved = isatty(0) && tcgetattr(0, &t->tio) == 0;
}

static void hv_tty_restore(const struct hv_tty *t)
{
	struct termios now;

	/* Only when something changed, and only from the foreground: a
	 * background kiln calling tcsetattr() would be stopped by SIGTTOU. */
	if (!t->saved || tcgetattr(0, &now) < 0 ||
	    memcmp(&now, &t->tio, sizeof(now)) == 0 ||
	    tcgetpgrp(0) != getpgrp())
		return;
	tcsetattr(0, TCSANOW, &t->tio);
}

int hypervisor_run_kiln(const struct hv_boot *b, const char *vmm)
{
	struct strv argv = {0};
	int keep[] = {b->initrd_fd, -1};
	int st;
	char msg[256];
	struct hv_tty tty;
	pid_t pid;

	if (hv_kiln_argv(b, vmm, &argv) < 0) {
		strv_release(&argv);
		cli_error("out of memory");
		return KILN_EXIT_MONITOR;
	}
	hv_stop_sig = SIGTERM;
	hv_tty_save(&tty);
	pid = hv_spawn(argv.v, keep, -1, -1);
	strv_release(&argv);
	if (pid < 0)
		return KILN_EXIT_MONITOR;
	st = hv_wait(pid);
	hv_tty_restore(&tty);
	/* One SIGTERM may have reached the program, which then ended the
	 * way it chose: kiln-vmm's status says how (143 if it did not
	 * handle it). */
	if (hv_signal &&
	    (hv_signals > 1 || hv_signal != SIGTERM || !WIFEXITED(st)))
		return 128 + hv_signal;
	st = hv_kiln_status(st, msg, sizeof(msg));
	if (msg[0] != '\0')
		cli_error("%s", msg);
	return st;
}

/* Writes all of buf to stdout; after the first failure (a closed pipe,
 * say) output is dropped so that the VM can still finish. */
static void hv_copy_out(const char *buf, size_t n, int *broken)
{
	while (n > 0 && !*broken) {
		ssize_t w = write(1, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*broken = 1;
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

static int64_t hv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints QEMU's captured stderr under a kiln message. */
static void hv_show_stderr(const char *buf, size_t n)
{
	if (n == 0)
		return;
	fwrite(buf, 1, n, stderr);
	if (buf[n - 1] != '\n')
		fputc('\n', stderr);
}

int hypervisor_run_qemu(const struct hv_boot *b, const char *qemu)
{
	/* ex is a socketpair: COM2 goes both ways (lib/hv.c) */
	int con[2] = {-1, -1}, ex[2] = {-1, -1}, er[2] = {-1, -1};
	struct hv_qemu_out *out = calloc(1, sizeof(*out));
	struct strv argv = {0};
	int status = KILN_EXIT_MONITOR, broken = 0, timed_out = 0, st;
	int64_t deadline = 0;
	struct hv_tty tty;
	pid_t pid;

	if (out == NULL || pipe2(con, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ex) < 0 ||
	    pipe2(er, O_CLOEXEC) < 0) {
		cli_error("cannot set up QEMU's pipes: %s", strerror(errno));
		goto out;
	}
	if (hv_qemu_argv(b, qemu, con[1], ex[1], &argv) < 0) {
		cli_error("out of memory");
		goto out;
	}
	{
		int keep[] = {b->initrd_fd, con[1], ex[1], -1};
		hv_stop_sig = SIGKILL;
		hv_tty_save(&tty);
		pid = hv_spawn(argv.v, keep, er[1], er[1]);
	}
	close(con[1]);
	close(ex[1]);
	close(er[1]);
	con[1] = ex[1] = er[1] = -1;
	if (pid < 0)
		goto out;
	hv_com2_fd = ex[0];
	if (b->timeout_s > 0)
		deadline = hv_now_ms() + (int64_t)b->timeout_s * 1000;

	/* Copy until QEMU closes all three pipes (it exited). */
	for (;;) {
		struct pollfd pfd[3] = {
		    {.fd = con[0], .events = POLLIN},
		    {.fd = ex[0], .events = POLLIN},
		    {.fd = er[0], .events = POLLIN},
		};
		int wait_ms = -1, r;
		char buf[65536];

		if (con[0] < 0 && ex[0] < 0 && er[0] < 0)
			break;
		if (deadline > 0 && !timed_out) {
			int64_t left = deadline - hv_now_ms();
			if (left <= 0) {
				timed_out = 1;
				kill(pid, SIGKILL);
			} else {
				wait_ms = left > 1000000 ? 1000000 : (int)left;
			}
		}
		r = poll(pfd, 3, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cli_error("poll: %s", strerror(errno));
			kill(pid, SIGKILL);
			break;
		}
		/* COM2 first: the kernel writes the ready record before the
		 * program prints anything after its sigaction(), so once a
		 * line is on kiln's stdout a SIGTERM is forwarded. */
		for (int k = 0; k < 3; k++) {
			int i = k == 0 ? 1 : k == 1 ? 0 : 2;
			ssize_t n;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (i == 1)
					hv_com2_forget();
				close(pfd[i].fd);
				*(i == 0   ? &con[0]
				  : i == 1 ? &ex[0]
					   : &er[0]) = -1;
				continue;
			}
			if (i == 0) {
				hv_copy_out(buf, (size_t)n, &broken);
			} else {
				hv_qemu_keep(out, i == 1, buf, (size_t)n);
				hv_com2_ready = out->ready;
			}
		}
	}
	st = hv_wait(pid);
	hv_tty_restore(&tty);

	if (hv_signal && (!hv_forwarded || hv_signals > 1)) {
		status = 128 + hv_signal;
	} else if (timed_out) {
		cli_error("the program ran past --timeout %u s; stopped the VM",
			  b->timeout_s);
		status = KILN_EXIT_TIMEOUT;
	} else {
		char msg[256];
		int show;

		status = hv_qemu_status(
		    st, hv_parse_record(out->rec, out->nrec), out->nerr > 0,
		    qemu, msg, sizeof(msg), &show);
		if (msg[0] != '\0')
			cli_error("%s", msg);
		if (show)
			hv_show_stderr(out->err, out->nerr);
	}
out:
	hv_com2_forget();
	for (int i = 0; i < 2; i++) {
		if (con[i] >= 0)
			close(con[i]);
		if (ex[i] >= 0)
			close(ex[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	strv_release(&argv);
	free(out);
	return status;
}
