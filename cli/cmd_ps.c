/*
 * `kiln ps [-a] [-q] [--json]`: the instances kilnd keeps, one line each
 * (NAME IMAGE STATE IP PORTS UPTIME RESTARTS), running ones only unless
 * -a.  -q prints the names alone (for scripts: kiln rm -f $(kiln ps -aq)),
 * --json the API's objects.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "kiln/abi.h"

static const char cmd_ps_help[] =
    "usage: kiln ps [-a] [-q] [--json]\n"
    "\n"
    "Lists instances: NAME IMAGE STATE IP PORTS UPTIME RESTARTS.  STATE is\n"
    "created, running, restarting, exited (STATUS) or stopped (STATUS).\n"
    "\n"
    "Options:\n"
    "  -a, --all      all instances, not only running and restarting ones\n"
    "  -q, --quiet    names only, one a line\n"
    "      --json     the instances as a JSON array (docs/api.md)\n"
    "  -h, --help     show this help\n";

static const char *ps_str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && s[0] != '\0' ? s : dflt;
}

int cmd_ps(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int all = 0, quiet = 0, as_json = 0, c, status;
	struct cli_resp r;
	size_t i;
	json_t *v;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":aqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'h':
			fputs(cmd_ps_help, stdout);
			return 0;
		default:
			return cli_usage_error("ps", c, argv);
		}
	}
	if (optind < argc) {
		cli_error(
		    "'kiln ps' takes no arguments (see 'kiln ps --help')");
		return KILN_EXIT_MONITOR;
	}
	if (!cli_api_list(all ? "/v1/instances?all=1" : "/v1/instances",
			  as_json, &r, &status))
		return status;
	if (!quiet)
		printf("%-20s %-20s %-15s %-15s %-24s %-7s %s\n", "NAME",
		       "IMAGE", "STATE", "IP", "PORTS", "UPTIME", "RESTARTS");
	json_array_foreach(r.json, i, v)
	{
		const char *state = ps_str(v, "state", "?");
		json_t *code = json_object_get(v, "exit_code");
		json_t *ports = json_object_get(v, "ports");
		char st[32], up[16], pl[256] = "";
		size_t k;
		json_t *p;

		if (quiet) {
			printf("%s\n", ps_str(v, "name", "?"));
			continue;
		}
		if ((strcmp(state, "exited") == 0 ||
		     strcmp(state, "stopped") == 0) &&
		    json_is_integer(code))
			snprintf(st, sizeof(st), "%s (%d)", state,
				 (int)json_integer_value(code));
		else
			snprintf(st, sizeof(st), "%s", state);
		if (strcmp(state, "running") == 0)
			cli_since(ps_str(v, "started_at", NULL), up,
				  sizeof(up));
		else
			snprintf(up, sizeof(up), "-");
		json_array_foreach(ports, k, p)
		{
			const char *s = json_string_value(p);
			/* "0.0.0.0:8080:80/tcp" -> "0.0.0.0:8080->80/tcp" */
			const char *last = s ? strrchr(s, ':') : NULL;
			if (last == NULL)
				continue;
			snprintf(pl + strlen(pl), sizeof(pl) - strlen(pl),
				 "%s%.*s->%s", pl[0] ? "," : "",
				 (int)(last - s), s, last + 1);
		}
		printf("%-20s %-20s %-15s %-15s %-24s %-7s %d\n",
		       ps_str(v, "name", "?"), ps_str(v, "image", "?"), st,
		       ps_str(v, "ip", "-"), pl[0] ? pl : "-", up,
		       (int)json_integer_value(
			   json_object_get(v, "restart_count")));
	}
	cli_resp_release(&r);
	return 0;
}
