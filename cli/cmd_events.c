/*
 * `kiln events [--json]`: what happens in kilnd from now on, one line an
 * event (an instance created, started, died, restarted, stopped or
 * destroyed; an image loaded, tagged, untagged or deleted; a network
 * created or removed), until Ctrl-C.
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

static const char cmd_events_help[] =
    "usage: kiln events [--json]\n"
    "\n"
    "Prints kilnd's events as they happen, until interrupted:\n"
    "  TIME TYPE ACTION NAME (details)\n"
    "e.g. '2026-11-25T10:00:00.123Z instance die web-1 (exit 3)'.\n"
    "\n"
    "Options:\n"
    "      --json     one JSON object a line, as the API sends them\n"
    "  -h, --help     show this help\n";

struct events_out {
	int json;
	char line[65536];
	size_t n;
};

static int events_print(struct events_out *o, const char *line)
{
	json_t *e;
	const char *name, *id;
	json_t *code;

	if (o->json) {
		printf("%s\n", line);
		return fflush(stdout) == 0 ? 0 : -1;
	}
	e = json_loads(line, 0, NULL);
	if (e == NULL)
		return 0;
	name = json_string_value(json_object_get(e, "name"));
	id = json_string_value(json_object_get(e, "id"));
	code = json_object_get(e, "exit_code");
	printf("%s %s %s %s", json_string_value(json_object_get(e, "time")),
	       json_string_value(json_object_get(e, "type")),
	       json_string_value(json_object_get(e, "action")),
	       name ? name
	       : id ? id
		    : "-");
	if (json_is_integer(code))
		printf(" (exit %d)", (int)json_integer_value(code));
	else if (json_is_integer(json_object_get(e, "restart_count")))
		printf(" (restart %d)", (int)json_integer_value(json_object_get(
					    e, "restart_count")));
	printf("\n");
	json_decref(e);
	return fflush(stdout) == 0 ? 0 : -1;
}

static size_t events_sink(const char *data, size_t n, void *cls)
{
	struct events_out *o = cls;

	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			o->line[o->n] = '\0';
			if (events_print(o, o->line) < 0)
				return 0;
			o->n = 0;
		} else if (o->n + 1 < sizeof(o->line)) {
			o->line[o->n++] = data[i];
		}
	}
	return n;
}

static volatile sig_atomic_t events_stop;

static void events_on_signal(int sig)
{
	events_stop = 1;
}

int cmd_events(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct events_out *o = calloc(1, sizeof(*o));
	struct cli_resp r;
	int c, st = 0;

	if (o == NULL)
		return KILN_EXIT_MONITOR;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'h':
			fputs(cmd_events_help, stdout);
			free(o);
			return 0;
		default:
			free(o);
			return cli_usage_error("events", c, argv);
		}
	}
	if (optind < argc) {
		cli_error("'kiln events' takes no arguments");
		free(o);
		return KILN_EXIT_MONITOR;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, events_on_signal);
	signal(SIGTERM, events_on_signal);
	if (cli_api_stream("GET", "/v1/events", events_sink, o, &events_stop,
			   &r) < 0)
		st = KILN_EXIT_MONITOR;
	else if (r.status != 200)
		st = cli_api_error(&r);
	cli_resp_release(&r);
	free(o);
	return st;
}
