/*
 * The shim: `kilnd shim --id ID --dir STATE/instances/ID`, one process
 * per run of an instance, started by kilnd and living in its own session
 * so that nothing that happens to kilnd (SIGKILL, a crash, an upgrade)
 * reaches the instance.
 *
 * It reads the run's settings from DIR/shim.json (written by kilnd just
 * before), starts the monitor as its child (kiln-vmm, or QEMU's microvm
 * machine; the command lines are lib/hv.c's, exactly as `kiln run` builds
 * them) with PR_SET_PDEATHSIG so the monitor never outlives it, and tells
 * kilnd on fd 3 "ok PID" once the monitor's exec succeeded (or "error
 * MESSAGE").  Then it copies the console into DIR/console.log, rotating
 * it by size (console.log.1, .2, ...), forwards SIGTERM/SIGINT to the
 * monitor (a second one is SIGKILL; kiln-vmm passes a first SIGTERM on
 * to a program that handles it, ABI 3, so its own exit status is the
 * run's; on QEMU the shim does that itself, with one byte on COM2 once
 * the kernel has said it is ready, ABI 4 and lib/hv.c, and otherwise
 * QEMU ends the VM at once), and when the monitor has ended
 * writes the instance's exit status to DIR/exit ("STATUS\n" and a line
 * saying why, when kiln rather than the program decided it) through a
 * temp file and rename, so kilnd finds it whole even if it was down
 * when the instance ended.  The status rules are `kiln run`'s
 * (lib/hv.h); messages of kiln's own go into the console log as
 * "kiln: ..." lines, where `kiln logs` shows them.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv.h"
#include "kiln/abi.h"
#include "kilnd.h"

/* The console log and its rotation. */
struct shim_log {
	int fd;
	uint64_t size, max;
	unsigned files;
	char path[PATH_MAX];
};

static void shim_log_open(struct shim_log *l, int truncate)
{
	struct stat st;

	l->fd = open(l->path,
		     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
			 (truncate ? O_TRUNC : 0),
		     0640);
	l->size =
	    l->fd >= 0 && fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* console.log -> console.log.1 -> ... -> console.log.(files-1); the
 * oldest falls off. */
static void shim_log_rotate(struct shim_log *l)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];

	if (l->fd >= 0)
		close(l->fd);
	for (unsigned i = l->files - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", l->path);
		else
			snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", l->path, i);
		rename(from, to);
	}
	shim_log_open(l, 1);
}

static void shim_log_append(struct shim_log *l, const char *buf, size_t n)
{
	while (n > 0 && l->fd >= 0) {
		ssize_t w = write(l->fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk loses console output only */
		buf += w;
		n -= (size_t)w;
		l->size += (uint64_t)w;
	}
}

/* Appends to the log; once it reaches its size, the rest of the line
 * still goes in and the next line starts a new file, so every kept file
 * begins at a line. */
static void shim_log_write(struct shim_log *l, const char *buf, size_t n)
{
	const char *nl;
	size_t head, from;

	if (l->max == 0 || l->size + n < l->max) {
		shim_log_append(l, buf, n);
		return;
	}
	/* The byte that reaches the size, or the first one if past it. */
	from = l->size < l->max ? (size_t)(l->max - l->size - 1) : 0;
	nl = memchr(buf + from, '\n', n - from);
	if (nl == NULL) {
		shim_log_append(l, buf, n);
		return;
	}
	head = (size_t)(nl - buf) + 1;
	shim_log_append(l, buf, head);
	if (l->files > 1) {
		shim_log_rotate(l);
	} else if (l->fd >= 0 && ftruncate(l->fd, 0) == 0) {
		/* One file only: start it again. */
		l->size = 0;
	}
	if (n > head)
		shim_log_write(l, buf + head, n - head);
}

static void shim_log_say(struct shim_log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void shim_log_say(struct shim_log *l, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	memcpy(line, "kiln: ", 6);
	va_start(ap, fmt);
	n = vsnprintf(line + 6, sizeof(line) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 6;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	shim_log_write(l, line, (size_t)n);
}

/* The run's settings, from shim.json. */
struct shim_spec {
	char *hypervisor; /* "kiln-vmm" or "qemu" */
	char *binary;	  /* the monitor */
	char *kernel, *rootfs, *tap, *mac;
	int kvm;
	uint64_t memory_mib;
	struct strv kernel_args;
	uint64_t log_max_size;
	unsigned log_max_files;
};

static char *shim_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int shim_spec_read(const char *dir, struct shim_spec *s, char *err,
			  size_t errlen)
{
	char path[PATH_MAX + 16];
	json_error_t je;
	json_t *o, *a, *v;
	size_t i;

	snprintf(path, sizeof(path), "%s/shim.json", dir);
	o = json_load_file(path, 0, &je);
	if (o == NULL)
		return util_err(err, errlen, "cannot read '%s': %s", path,
				je.text);
	s->hypervisor = shim_str(o, "hypervisor");
	s->binary = shim_str(o, "binary");
	s->kernel = shim_str(o, "kernel");
	s->rootfs = shim_str(o, "rootfs");
	s->tap = shim_str(o, "tap");
	s->mac = shim_str(o, "mac");
	s->kvm = json_is_true(json_object_get(o, "kvm"));
	s->memory_mib =
	    (uint64_t)json_integer_value(json_object_get(o, "memory_mib"));
	s->log_max_size =
	    (uint64_t)json_integer_value(json_object_get(o, "log_max_size"));
	s->log_max_files =
	    (unsigned)json_integer_value(json_object_get(o, "log_max_files"));
	a = json_object_get(o, "kernel_args");
	json_array_foreach(a, i, v)
	{
		if (json_is_string(v))
			strv_push(&s->kernel_args, json_string_value(v));
	}
	json_decref(o);
	if (s->hypervisor == NULL || s->binary == NULL || s->kernel == NULL ||
	    s->rootfs == NULL || s->memory_mib == 0)
		return util_err(err, errlen, "'%s' is incomplete", path);
	if (s->log_max_files == 0)
		s->log_max_files = 1;
	return 0;
}

/* Writes the handshake line to kilnd (fd 3) and closes it. */
static void shim_tell(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void shim_tell(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	ssize_t w;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	w = write(3, line, (size_t)n);
	(void)w;
	close(3);
}

/* DIR/exit, atomically: "STATUS\nWHY\n". */
static void shim_write_exit(const char *dir, int status, const char *why)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/exit.tmp", dir);
	snprintf(path, sizeof(path), "%s/exit", dir);
	f = fopen(tmp, "we");
	if (f == NULL)
		return;
	fprintf(f, "%d\n%s\n", status, why ? why : "");
	if (fflush(f) == 0)
		fsync(fileno(f));
	if (fclose(f) == 0)
		rename(tmp, path);
}

/* fork + exec of the monitor, exec errors through a pipe.  out and err
 * become its stdout and stderr; keep (terminated by -1) stay open. */
static pid_t shim_spawn(char *const argv[], int out, int errfd, const int *keep,
			const sigset_t *oldmask, char *msg, size_t msglen)
{
	int ep[2], e = 0;
	pid_t pid, parent = getpid();
	ssize_t n;

	if (pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(msg, msglen, "cannot create a pipe: %s",
			 strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int nul;

		sigprocmask(SIG_SETMASK, oldmask, NULL);
		signal(SIGPIPE, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(KILN_EXIT_MONITOR);
		nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 ||
		    dup2(errfd, 2) < 0)
			goto fail;
		for (const int *k = keep; k && *k >= 0; k++)
			fcntl(*k, F_SETFD, 0);
		execvp(argv[0], argv);
	fail:
		e = errno;
		n = write(ep[1], &e, sizeof(e));
		(void)n;
		_exit(KILN_EXIT_MONITOR);
	}
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		snprintf(msg, msglen, "cannot start '%s': %s", argv[0],
			 strerror(errno));
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
		if (e == ENOENT && strchr(argv[0], '/') == NULL)
			snprintf(msg, msglen,
				 "cannot run '%s': not found in $PATH (install "
				 "qemu-system-x86: sh scripts/deps.sh)",
				 argv[0]);
		else
			snprintf(msg, msglen, "cannot run '%s': %s", argv[0],
				 strerror(e));
		return -1;
	}
	return pid;
}

static int shim_usage(void)
{
	fprintf(stderr, "usage: kilnd shim --id ID --dir DIR (started by "
			"kilnd, not by hand)\n");
	return 2;
}

int shim_main(int argc, char **argv)
{
	const char *id = NULL, *dir = NULL;
	struct shim_spec spec;
	struct shim_log log;
	struct hv_boot boot;
	struct strv av = {0};
	/* 0 console (QEMU COM1, or kiln-vmm's stdout+stderr), 1 COM2 (a
	 * socketpair: it carries the stop byte back), 2 QEMU's stderr;
	 * [i][0] the shim's ends. */
	int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	int qemu, sfd, stop_sig = 0, nstops = 0, nkills = 0, wst = 0;
	char err[1024];
	struct hv_qemu_out *qout;
	sigset_t mask, old;
	pid_t pid;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--id") == 0)
			id = argv[i + 1];
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else
			return shim_usage();
	}
	if (id == NULL || dir == NULL)
		return shim_usage();
	/* Out of kilnd's session and process group: a signal to kilnd's
	 * group or terminal never reaches the instance. */
	setsid();
	if (chdir("/") < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	memset(&spec, 0, sizeof(spec));
	memset(&log, 0, sizeof(log));
	log.fd = -1;
	snprintf(log.path, sizeof(log.path), "%s/console.log", dir);
	if (shim_spec_read(dir, &spec, err, sizeof(err)) < 0) {
		shim_tell("error %s", err);
		shim_write_exit(dir, KILN_EXIT_MONITOR, err);
		return 1;
	}
	log.max = spec.log_max_size;
	log.files = spec.log_max_files;
	shim_log_open(&log, 0);
	qout = calloc(1, sizeof(*qout));
	qemu = strcmp(spec.hypervisor, "qemu") == 0;

	memset(&boot, 0, sizeof(boot));
	boot.kernel = spec.kernel;
	boot.initrd = spec.rootfs;
	boot.memory_mib = spec.memory_mib;
	boot.kernel_args = &spec.kernel_args;
	boot.kvm = spec.kvm;
	boot.tap = spec.tap;
	boot.mac = spec.mac;
	for (int i = 0; i < (qemu ? 3 : 1); i++)
		if ((i == 1 ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
					 p[i])
			    : pipe2(p[i], O_CLOEXEC)) < 0) {
			snprintf(err, sizeof(err), "cannot create a pipe: %s",
				 strerror(errno));
			goto fail;
		}
	if (qout == NULL ||
	    (qemu ? hv_qemu_argv(&boot, spec.binary, p[0][1], p[1][1], &av)
		  : hv_kiln_argv(&boot, spec.binary, &av)) < 0) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	{
		int keep[] = {p[0][1], p[1][1], -1};
		int out = qemu ? p[2][1] : p[0][1];
		pid = shim_spawn(av.v, out, out, qemu ? keep : NULL, &old, err,
				 sizeof(err));
	}
	for (int i = 0; i < 3; i++)
		if (p[i][1] >= 0) {
			close(p[i][1]);
			p[i][1] = -1;
		}
	if (pid < 0)
		goto fail;
	shim_tell("ok %d", (int)pid);

	/* Copy until the monitor closes every pipe (it exited). */
	for (;;) {
		struct pollfd pfd[4];
		char buf[65536];
		int np = 0, r;

		for (int i = 0; i < 3; i++)
			pfd[np++] =
			    (struct pollfd){.fd = p[i][0], .events = POLLIN};
		pfd[np++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		if (p[0][0] < 0 && p[1][0] < 0 && p[2][0] < 0)
			break;
		r = poll(pfd, (nfds_t)np, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		/* COM2 first, then the console, then signals: the kernel
		 * writes the ready record before the program prints anything
		 * after its sigaction(), so a stop that follows a line in the
		 * log is forwarded. */
		for (int k = 0; k < 3; k++) {
			int i = k == 0 ? 1 : k == 1 ? 0 : 2;
			ssize_t n;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(p[i][0]);
				p[i][0] = -1;
				continue;
			}
			if (i == 0)
				shim_log_write(&log, buf, (size_t)n);
			else
				hv_qemu_keep(qout, i == 1, buf, (size_t)n);
		}
		if (pfd[3].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (stop_sig == 0)
					stop_sig = sig;
				if (!hv_qemu_forward_stop(p[1][0], qout->ready,
							  sig, ++nstops))
					kill(pid,
					     ++nkills > 1 ? SIGKILL : SIGTERM);
			}
		}
	}
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	{
		int record = qemu ? hv_parse_record(qout->rec, qout->nrec) : -1;
		int status, show = 0;
		char msg[256];

		msg[0] = '\0';
		if (stop_sig != 0 && WIFSIGNALED(wst) &&
		    WTERMSIG(wst) == SIGKILL) {
			status = 128 + SIGKILL;
			snprintf(msg, sizeof(msg),
				 "stopped: the monitor did not end on SIGTERM "
				 "and was killed");
		} else if (stop_sig != 0 && qemu && record < 0) {
			/* QEMU ends the VM at once, and cleanly, on
			 * SIGTERM: stopped by the signal. */
			status = 128 + stop_sig;
		} else if (qemu) {
			status = hv_qemu_status(wst, record, qout->nerr > 0,
						spec.binary, msg, sizeof(msg),
						&show);
		} else {
			status = hv_kiln_status(wst, msg, sizeof(msg));
		}
		if (msg[0] != '\0')
			shim_log_say(&log, "%s", msg);
		if (show && qout->nerr > 0) {
			shim_log_write(&log, qout->err, qout->nerr);
			if (qout->err[qout->nerr - 1] != '\n')
				shim_log_write(&log, "\n", 1);
		}
		shim_write_exit(dir, status, msg);
	}
	free(qout);
	strv_release(&av);
	return 0;

fail:
	shim_tell("error %s", err);
	shim_log_say(&log, "%s", err);
	shim_write_exit(dir, KILN_EXIT_MONITOR, err);
	free(qout);
	strv_release(&av);
	return 1;
}
