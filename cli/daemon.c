/*
 * The CLI's side of the API (see daemon.h): requests through
 * lib/client.c, JSON answers, error messages and exit statuses, and
 * starting kilnd when nothing answers on the socket.
 *
 * Autostart: `kilnd --socket HOST --log STATE/kilnd.log` is started from
 * beside the kiln binary, detached (its own session, a double fork, stdio
 * on /dev/null), with kiln's environment, so $KILN_STATE and friends
 * reach it; kiln then waits until the socket answers (or kilnd dies, in
 * which case the end of its log is shown).  KILN_NO_AUTOSTART=1 turns
 * this off: scripts and tests that manage their own daemon set it.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kiln/abi.h"

#define CLI_AUTOSTART_WAIT_MS 15000

const char *cli_host_opt;

const char *cli_host(void)
{
	static char host[4096];

	if (host[0] != '\0')
		return host;
	if (cli_host_opt != NULL)
		client_host_path(cli_host_opt, host, sizeof(host));
	else if (client_default_host(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "/run/kiln/kilnd.sock");
	return host;
}

void cli_resp_release(struct cli_resp *r)
{
	if (r->json != NULL)
		json_decref(r->json);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* Shows the last lines of kilnd's log (after it died at start). */
static void cli_show_log_tail(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t n;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	{
		/* The last three lines. */
		char *p = buf + n;
		int lines = 0;
		while (p > buf && lines < 4)
			if (*--p == '\n')
				lines++;
		if (*p == '\n')
			p++;
		fprintf(stderr, "%s", p);
	}
}

/* Starts kilnd detached; 0 once its socket answers. */
static int cli_autostart(const char *host)
{
	char kilnd[4096], state[4096], log[4200];
	int pp[2];
	pid_t child, pid = -1;
	int pfd = -1, st;
	struct timespec pause = {0, 50 * 1000 * 1000};

	snprintf(kilnd, sizeof(kilnd), "%s/kilnd", cli_self_dir());
	if (access(kilnd, X_OK) < 0) {
		cli_error("no kilnd answers on '%s' and there is no kilnd "
			  "beside kiln to start ('%s': %s); start one with: "
			  "kilnd --socket %s",
			  host, kilnd, strerror(errno), host);
		return -1;
	}
	if (client_default_state(state, sizeof(state)) < 0) {
		cli_error("no kilnd answers on '%s' and no state directory is "
			  "known (set $KILN_STATE)",
			  host);
		return -1;
	}
	mkdir(state, 0700);
	snprintf(log, sizeof(log), "%s/kilnd.log", state);
	if (pipe2(pp, O_CLOEXEC) < 0) {
		cli_error("cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	child = fork();
	if (child == 0) {
		int nul = open("/dev/null", O_RDWR);
		pid_t g;

		setsid();
		g = fork();
		if (g != 0) {
			ssize_t w = write(pp[1], &g, sizeof(g));
			(void)w;
			_exit(g < 0);
		}
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		execl(kilnd, "kilnd", "--socket", host, "--log", log,
		      (char *)NULL);
		_exit(KILN_EXIT_MONITOR);
	}
	close(pp[1]);
	if (child > 0) {
		if (read(pp[0], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			pid = -1;
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
	}
	close(pp[0]);
	if (child < 0 || pid <= 0) {
		cli_error("cannot start kilnd: %s", strerror(errno));
		return -1;
	}
	fprintf(stderr, "kiln: started kilnd (pid %d, log %s)\n", (int)pid,
		log);
	pfd = (int)pidfd_open(pid, 0);
	for (int waited = 0; waited < CLI_AUTOSTART_WAIT_MS; waited += 50) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		struct client_call c;
		char err[512];

		client_call_init(&c, "GET", "/v1/version");
		if (client_call(host, &c, err, sizeof(err)) == 0) {
			client_call_release(&c);
			if (pfd >= 0)
				close(pfd);
			return 0;
		}
		client_call_release(&c);
		if (pfd >= 0 && poll(&p, 1, 0) > 0) {
			cli_error("kilnd exited at start; the end of its log "
				  "(%s):",
				  log);
			cli_show_log_tail(log);
			close(pfd);
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	if (pfd >= 0)
		close(pfd);
	cli_error("kilnd (pid %d) did not answer on '%s' within %d s (see %s)",
		  (int)pid, host, CLI_AUTOSTART_WAIT_MS / 1000, log);
	return -1;
}

/* One exchange, with one autostart attempt when nothing answers. */
static int cli_exchange(struct client_call *c, struct cli_resp *r)
{
	const char *host = cli_host();
	const char *no = getenv("KILN_NO_AUTOSTART");
	char err[1024];
	int rc;

	memset(r, 0, sizeof(*r));
	rc = client_call(host, c, err, sizeof(err));
	if (rc < 0 && c->unreachable && c->body_fd < 0 &&
	    !(no != NULL && strcmp(no, "1") == 0)) {
		if (cli_autostart(host) < 0)
			return -1;
		client_call_release(c);
		rc = client_call(host, c, err, sizeof(err));
	}
	if (rc < 0) {
		if (c->unreachable)
			cli_error(
			    "cannot reach kilnd at '%s' (is it running? "
			    "start it with 'kilnd', or set -H/$KILN_HOST)",
			    host);
		else
			cli_error("%s", err);
		return -1;
	}
	r->status = c->status;
	r->text = c->resp;
	c->resp = NULL;
	if (r->text != NULL && (r->text[0] == '{' || r->text[0] == '['))
		r->json = json_loads(r->text, 0, NULL);
	return 0;
}

int cli_api(const char *method, const char *path, json_t *body,
	    struct cli_resp *r)
{
	struct client_call c;
	char *text = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	client_call_init(&c, method, path);
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			cli_error("out of memory");
			return -1;
		}
		c.body = text;
		c.body_len = strlen(text);
		c.content_type = "application/json";
	}
	rc = cli_exchange(&c, r);
	client_call_release(&c);
	free(text);
	return rc;
}

int cli_api_stream(const char *method, const char *path, client_sink sink,
		   void *cls, volatile sig_atomic_t *cancel, struct cli_resp *r)
{
	struct client_call c;
	int rc;

	memset(r, 0, sizeof(*r));
	client_call_init(&c, method, path);
	c.sink = sink;
	c.sink_cls = cls;
	c.cancel = cancel;
	rc = cli_exchange(&c, r);
	client_call_release(&c);
	return rc;
}

int cli_api_upload(const char *path, int fd, struct cli_resp *r)
{
	struct client_call c;
	struct cli_resp probe;
	int rc;

	memset(r, 0, sizeof(*r));
	/* A streamed body cannot be sent twice: make sure kilnd is up
	 * (starting it if need be) before sending it. */
	if (cli_api("GET", "/v1/version", NULL, &probe) < 0)
		return -1;
	cli_resp_release(&probe);
	client_call_init(&c, "POST", path);
	c.body_fd = fd;
	c.content_type = "application/x-tar";
	rc = cli_exchange(&c, r);
	client_call_release(&c);
	return rc;
}

int cli_api_error(const struct cli_resp *r)
{
	const char *msg = NULL;

	if (r->json != NULL)
		msg = json_string_value(json_object_get(r->json, "message"));
	if (msg != NULL)
		cli_error("%s", msg);
	else
		cli_error("kilnd answered %ld%s%.200s", r->status,
			  r->text ? ": " : "", r->text ? r->text : "");
	/* A full disk (507) is a refusal the user can act on; 500 is
	 * kilnd failing. */
	return r->status == 500 || r->status == 501 ? KILN_EXIT_MONITOR
						    : CLI_EXIT_REFUSED;
}

int cli_api_list(const char *path, int as_json, struct cli_resp *r, int *status)
{
	*status = 0;
	if (cli_api("GET", path, NULL, r) < 0) {
		*status = KILN_EXIT_MONITOR;
		return 0;
	}
	if (r->status != 200 || !json_is_array(r->json))
		*status = cli_api_error(r);
	else if (as_json)
		cli_print_json(r->json);
	else
		return 1;
	cli_resp_release(r);
	return 0;
}

char *cli_path(const char *fmt, ...)
{
	char out[8192];
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p && n + 1 < sizeof(out); p++) {
		if (p[0] == '%' && p[1] == 's') {
			char *e = client_escape(va_arg(ap, const char *));
			if (e == NULL)
				abort();
			n +=
			    (size_t)snprintf(out + n, sizeof(out) - n, "%s", e);
			free(e);
			p++;
		} else if (p[0] == '%' && p[1] == 'u') {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%u",
					      va_arg(ap, unsigned));
			p++;
		} else {
			out[n++] = *p;
		}
		if (n >= sizeof(out))
			n = sizeof(out) - 1;
	}
	va_end(ap);
	out[n] = '\0';
	{
		char *s = strdup(out);
		if (s == NULL)
			abort();
		return s;
	}
}

void cli_since(const char *when, char *buf, size_t len)
{
	struct tm tm;
	time_t t, now = time(NULL);
	long d;

	memset(&tm, 0, sizeof(tm));
	if (when == NULL || strptime(when, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	t = timegm(&tm);
	d = (long)(now - t);
	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(buf, len, "%lds", d);
	else if (d < 3600)
		snprintf(buf, len, "%ldm", d / 60);
	else if (d < 86400)
		snprintf(buf, len, "%ldh", d / 3600);
	else
		snprintf(buf, len, "%ldd", d / 86400);
}

int cli_usage_error(const char *cmd, int c, char **argv)
{
	extern int optind, optopt;

	if (c == ':')
		cli_error("option '%s' needs a value (see 'kiln %s --help')",
			  argv[optind - 1], cmd);
	else if (optopt != 0)
		cli_error("unknown option '-%c' (see 'kiln %s --help')", optopt,
			  cmd);
	else
		cli_error("unknown option '%s' (see 'kiln %s --help')",
			  argv[optind - 1], cmd);
	return KILN_EXIT_MONITOR;
}

void cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		puts(s);
		free(s);
	}
}
