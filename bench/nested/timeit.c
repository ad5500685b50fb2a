/*
 * timeit: runs a command N times and prints, per run, the CLOCK_MONOTONIC
 * nanoseconds from spawning it to the first appearance of a marker string
 * on its stdout ("exec to main": hello writes its line first thing in
 * main) and to waitpid() returning ("exec to exit"), plus its exit status.
 * It is the in-guest half of bench/boot_nested.sh: busybox has no
 * high-resolution timer, so this static (musl) program does the timing and
 * prints raw numbers; the host computes medians.  Lines starting with
 * "kiln-vmm: mark " on the command's stderr are passed on as M lines, so
 * kiln-vmm's --trace-boot marks come out with the run they belong to.
 *
 * Usage: timeit [-n RUNS] [-i FIRST] [-l LABEL] [-m MARKER] -- CMD [ARGS]
 * Output, one line each:
 *   T LABEL RUN STATUS MAIN_NS|- EXIT_NS    (MAIN_NS "-": marker never seen)
 *   M LABEL RUN NAME NS                     (a --trace-boot mark)
 *   O LABEL RUN TEXT, E LABEL RUN TEXT      (the first lines of stdout and
 *                                            stderr, only when the marker
 *                                            was not seen, for diagnosis)
 * Exit status: 0, or 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEIT_OUT_MAX 65536 /* stdout kept per run to find the marker */
#define TIMEIT_ERR_MAX 16384 /* stderr kept per run for the marks */

extern char **environ;

struct timeit_run {
	char out[TIMEIT_OUT_MAX + 1];
	size_t out_len;
	char err[TIMEIT_ERR_MAX + 1];
	size_t err_len;
};

static long long timeit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void timeit_die(const char *what)
{
	fprintf(stderr, "timeit: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Appends what one read() returned to buf, dropping what does not fit. */
static void timeit_keep(char *buf, size_t *len, size_t max, const char *p,
			size_t n)
{
	if (n > max - *len)
		n = max - *len;
	memcpy(buf + *len, p, n);
	*len += n;
	buf[*len] = '\0';
}

/* Prints the "kiln-vmm: mark NAME NS ns" lines of stderr as M lines. */
static void timeit_print_marks(const char *label, int run, const char *err)
{
	static const char tag[] = "kiln-vmm: mark ";
	const char *line = err;

	while (*line != '\0') {
		size_t len = strcspn(line, "\n");
		char name[64];
		long long ns;

		if (strncmp(line, tag, sizeof(tag) - 1) == 0 &&
		    sscanf(line + sizeof(tag) - 1, "%63s %lld", name, &ns) == 2)
			printf("M %s %d %s %lld\n", label, run, name, ns);
		line += len + (line[len] == '\n');
	}
}

/* Prints the start of stdout (tag O) or stderr (tag E) when the marker
 * was missing, so that a failed run shows why. */
static void timeit_print_output(char tag, const char *label, int run,
				const char *out)
{
	const char *line = out;

	for (int lines = 0; *line != '\0' && lines < 20; lines++) {
		size_t len = strcspn(line, "\n");

		printf("%c %s %d %.*s\n", tag, label, run, (int)len, line);
		line += len + (line[len] == '\n');
	}
}

/*
 * One run: spawn with stdin /dev/null and stdout/stderr on pipes, read
 * both to EOF (noting when the marker first appears), then wait.
 */
static void timeit_once(char **cmd, const char *label, int run,
			const char *marker, struct timeit_run *r)
{
	posix_spawn_file_actions_t fa;
	int out[2], err[2], status;
	long long t0, t_main = -1, t_exit;
	pid_t pid;
	struct pollfd pfd[2];
	int open_fds = 2;
	char buf[4096];

	r->out_len = r->err_len = 0;
	r->out[0] = r->err[0] = '\0';
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		timeit_die("pipe");
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
					     0) ||
	    posix_spawn_file_actions_adddup2(&fa, out[1], 1) ||
	    posix_spawn_file_actions_adddup2(&fa, err[1], 2))
		timeit_die("posix_spawn_file_actions");

	t0 = timeit_now();
	errno = posix_spawn(&pid, cmd[0], &fa, NULL, cmd, environ);
	if (errno != 0)
		timeit_die(cmd[0]);
	close(out[1]);
	close(err[1]);
	posix_spawn_file_actions_destroy(&fa);

	pfd[0] = (struct pollfd){.fd = out[0], .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = err[0], .events = POLLIN};
	while (open_fds > 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			timeit_die("poll");
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				long long t = timeit_now();

				timeit_keep(r->out, &r->out_len, TIMEIT_OUT_MAX,
					    buf, (size_t)n);
				if (t_main < 0 && strstr(r->out, marker))
					t_main = t - t0;
			} else {
				timeit_keep(r->err, &r->err_len, TIMEIT_ERR_MAX,
					    buf, (size_t)n);
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			timeit_die("waitpid");
	t_exit = timeit_now() - t0;

	if (WIFEXITED(status))
		status = WEXITSTATUS(status);
	else
		status = 128 + WTERMSIG(status);
	if (t_main < 0)
		printf("T %s %d %d - %lld\n", label, run, status, t_exit);
	else
		printf("T %s %d %d %lld %lld\n", label, run, status, t_main,
		       t_exit);
	timeit_print_marks(label, run, r->err);
	if (t_main < 0) {
		timeit_print_output('O', label, run, r->out);
		timeit_print_output('E', label, run, r->err);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct timeit_run r;
	const char *label = "run", *marker = "hello from kiln";
	int runs = 1, first = 0, opt;

	while ((opt = getopt(argc, argv, "+n:i:l:m:")) != -1) {
		switch (opt) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'i':
			first = atoi(optarg);
			break;
		case 'l':
			label = optarg;
			break;
		case 'm':
			marker = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || runs < 1)
		goto usage;
	for (int i = 0; i < runs; i++)
		timeit_once(argv + optind, label, first + i, marker, &r);
	return 0;
usage:
	fprintf(stderr, "usage: timeit [-n RUNS] [-i FIRST] [-l LABEL] "
			"[-m MARKER] -- CMD [ARGS]\n");
	return 2;
}
