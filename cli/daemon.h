/*
 * The CLI commands that talk to kilnd (docs/cli.md, docs/api.md), and the
 * helpers they share: which socket (-H/--host, $KILN_HOST, the default),
 * one API call with a JSON answer, streams, uploads, starting kilnd when
 * nothing answers, and the way errors are shown and turned into exit
 * statuses:
 *   0    done
 *   1    kilnd refused (no such instance, name in use, disk full, ...)
 *   125  kiln's own error: bad usage, kilnd unreachable or failing (500)
 */
#ifndef KILN_CLI_DAEMON_H
#define KILN_CLI_DAEMON_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#include "client.h"

#define CLI_EXIT_REFUSED 1 /* kilnd answered with an error */

/* -H/--host as given before the command, or NULL. */
extern const char *cli_host_opt;

/* The socket path (a static buffer). */
const char *cli_host(void);

/* An answer: HTTP status and, when it was JSON, the parsed body. */
struct cli_resp {
	long status;
	json_t *json;
	char *text; /* the raw body (NUL-terminated), or NULL */
};

void cli_resp_release(struct cli_resp *r);

/*
 * One request.  body (may be NULL) is sent as JSON.  0 when kilnd
 * answered (see r->status); -1 after printing why it could not be asked
 * (the caller returns KILN_EXIT_MONITOR).  Starts kilnd first when
 * nothing answers, unless KILN_NO_AUTOSTART=1.
 */
int cli_api(const char *method, const char *path, json_t *body,
	    struct cli_resp *r);

/* A request whose 2xx answer is streamed to sink; cancel, when set by a
 * signal handler, ends it (returns 0 with *cancel set). */
int cli_api_stream(const char *method, const char *path, client_sink sink,
		   void *cls, volatile sig_atomic_t *cancel,
		   struct cli_resp *r);

/* POST of the bytes of fd (an image archive). */
int cli_api_upload(const char *path, int fd, struct cli_resp *r);

/* Prints the error message of an answer ("kiln: no such instance 'x'
 * (see 'kiln ps -a')") and returns CLI_EXIT_REFUSED, or
 * KILN_EXIT_MONITOR when kilnd itself failed (500, 501). */
int cli_api_error(const struct cli_resp *r);

/*
 * GET of a list (instances, images, networks) for `ps`, `images`,
 * `network ls`.  1 when r->json is an array for the caller to print as a
 * table (then it releases r); 0 when nothing is left to do, with *status
 * the command's exit status: the list was printed as JSON (as_json), or
 * kilnd could not be asked or refused (the error was shown).
 */
int cli_api_list(const char *path, int as_json, struct cli_resp *r,
		 int *status);

/* printf into a new string, each %s argument %-escaped for a path
 * segment or query value (client_escape).  Aborts on out of memory. */
char *cli_path(const char *fmt, ...);

/* "3s", "5m", "2h", "4d" since an RFC 3339 time ("-" when unknown). */
void cli_since(const char *when, char *buf, size_t len);

/* An option error (unknown option, missing value) for command cmd,
 * printed from getopt's state; returns KILN_EXIT_MONITOR. */
int cli_usage_error(const char *cmd, int c, char **argv);

/* Prints j as pretty JSON to stdout. */
void cli_print_json(json_t *j);

int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_network(int argc, char **argv);
int cmd_completion(int argc, char **argv);

/*
 * kiln run with an image (cmd_run_image.c).  run_image_wanted() says
 * whether argv (kiln run's, argv[0] "run") is an image run: any of -d,
 * --name, -p, --restart, --network, --rm, --image, or a first argument
 * that is not a host program (docs/cli.md has the rule).  0: no, it is
 * `kiln run PROGRAM` as before.
 */
int run_image_wanted(int argc, char **argv);
int cmd_run_image(int argc, char **argv);

/*
 * Uploads an image archive (fd, positioned at its start) to kilnd, as
 * `kiln build -t` and `kiln load` do; prints "loaded IMAGE-ID (tags)"
 * unless quiet.  Returns an exit status.
 */
int cli_image_upload(int fd, const char *tag, int quiet);

#endif /* KILN_CLI_DAEMON_H */
