/*
 * `kiln logs [-f] [--tail N] INSTANCE`: an instance's console (what the
 * program and the kernel printed, and kiln's own "kiln: " lines), from
 * the rotated files kilnd keeps; -f follows it live until the instance
 * stops.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "kiln/abi.h"

static const char cmd_logs_help[] =
    "usage: kiln logs [-f] [--tail N] INSTANCE\n"
    "\n"
    "Prints the console of INSTANCE (a name, an ID or a unique ID prefix):\n"
    "the program's output and kiln's own 'kiln: ' lines, across restarts\n"
    "and from the rotated log files kilnd keeps.\n"
    "\n"
    "Options:\n"
    "  -f, --follow     keep printing new output until the instance stops\n"
    "  -n, --tail N     start N lines before the end (default: all)\n"
    "  -h, --help       show this help\n";

/* Writes a piece of the stream to stdout; a closed stdout ends it. */
static size_t logs_sink(const char *data, size_t n, void *cls)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(1, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		done += (size_t)w;
	}
	return n;
}

int cmd_logs(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"tail", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *tail = NULL;
	struct cli_resp r;
	char *path;
	int follow = 0, c, st = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":fn:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			follow = 1;
			break;
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (strcmp(optarg, "all") != 0 &&
			    (optarg[0] < '0' || optarg[0] > '9' ||
			     *end != '\0' || v < 0)) {
				cli_error("invalid --tail '%s' (a number of "
					  "lines, or all)",
					  optarg);
				return KILN_EXIT_MONITOR;
			}
			tail = optarg;
			break;
		}
		case 'h':
			fputs(cmd_logs_help, stdout);
			return 0;
		default:
			return cli_usage_error("logs", c, argv);
		}
	}
	if (argc - optind != 1) {
		cli_error("'kiln logs' needs one instance (see 'kiln logs "
			  "--help')");
		return KILN_EXIT_MONITOR;
	}
	signal(SIGPIPE, SIG_IGN);
	path = cli_path("/v1/instances/%s/logs?follow=%s&tail=%s", argv[optind],
			follow ? "1" : "0", tail ? tail : "all");
	if (cli_api_stream("GET", path, logs_sink, NULL, NULL, &r) < 0) {
		free(path);
		return KILN_EXIT_MONITOR;
	}
	free(path);
	if (r.status != 200)
		st = cli_api_error(&r);
	cli_resp_release(&r);
	return st;
}
