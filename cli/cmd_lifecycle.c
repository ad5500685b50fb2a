/*
 * The commands that change an instance's state, each taking one or more
 * instances (names, IDs or unique ID prefixes) and printing each name as
 * it is done:
 *   kiln start INSTANCE...
 *   kiln stop [-t SECONDS] INSTANCE...      SIGTERM, SIGKILL after -t
 *   kiln restart [-t SECONDS] INSTANCE...
 *   kiln kill [-s SIGNAL] INSTANCE...       SIGKILL unless -s
 *   kiln rm [-f] INSTANCE...                -f: also a running one
 * The exit status is the worst of the instances' (0, 1 refused, 125).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "kiln/abi.h"
#include "util.h"

static const char cmd_start_help[] =
    "usage: kiln start INSTANCE...\n"
    "\n"
    "Starts created, exited or stopped instances again (same name, same\n"
    "address).  Starting a running instance does nothing.\n";

static const char cmd_stop_help[] =
    "usage: kiln stop [-t SECONDS] INSTANCE...\n"
    "\n"
    "Stops running instances: SIGTERM to the instance's monitor, then\n"
    "SIGKILL after SECONDS (default 10).  On kiln-vmm a program that\n"
    "handles SIGTERM gets it and may exit cleanly; on QEMU the VM ends at\n"
    "once (docs/daemon.md).  A stopped instance is not restarted by its\n"
    "restart policy.\n"
    "\n"
    "Options:\n"
    "  -t, --time SECONDS   wait this long before SIGKILL (0 to 3600)\n";

static const char cmd_restart_help[] =
    "usage: kiln restart [-t SECONDS] INSTANCE...\n"
    "\n"
    "Stops (as 'kiln stop') and starts instances again.\n"
    "\n"
    "Options:\n"
    "  -t, --time SECONDS   wait this long before SIGKILL (0 to 3600)\n";

static const char cmd_kill_help[] =
    "usage: kiln kill [-s SIGNAL] INSTANCE...\n"
    "\n"
    "Sends SIGNAL (default KILL) to running instances: KILL ends the\n"
    "monitor and its shim at once; TERM, INT, HUP, QUIT, USR1 and USR2\n"
    "go to the monitor.  A killed instance is not restarted by its restart\n"
    "policy.\n"
    "\n"
    "Options:\n"
    "  -s, --signal SIGNAL  KILL, TERM, INT, HUP, QUIT, USR1 or USR2\n";

static const char cmd_rm_help[] =
    "usage: kiln rm [-f] INSTANCE...\n"
    "\n"
    "Removes instances: their record, console logs, address and published\n"
    "ports.  A running instance is refused unless -f, which kills it first.\n"
    "\n"
    "Options:\n"
    "  -f, --force          remove running instances too\n";

struct lifecycle {
	const char *name;
	const char *help;
	const char *shortopts;
	const char *method;
	const char *path; /* "/v1/instances/%s/stop" */
};

static const struct lifecycle lifecycles[] = {
    {"start", cmd_start_help, ":h", "POST", "/v1/instances/%s/start"},
    {"stop", cmd_stop_help, ":t:h", "POST", "/v1/instances/%s/stop"},
    {"restart", cmd_restart_help, ":t:h", "POST", "/v1/instances/%s/restart"},
    {"kill", cmd_kill_help, ":s:h", "POST", "/v1/instances/%s/kill"},
    {"rm", cmd_rm_help, ":fh", "DELETE", "/v1/instances/%s"},
};

static int lifecycle_run(const struct lifecycle *l, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"time", required_argument, NULL, 't'},
	    {"timeout", required_argument, NULL, 't'},
	    {"signal", required_argument, NULL, 's'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *timeout = NULL, *sig = NULL;
	int force = 0, c, worst = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, l->shortopts, longopts, NULL)) !=
	       -1) {
		if (c != '?' && c != ':' && c != 'h' &&
		    strchr(l->shortopts, c) == NULL) {
			cli_error("option '%s' is not for 'kiln %s' (see 'kiln "
				  "%s --help')",
				  argv[optind - 1], l->name, l->name);
			return KILN_EXIT_MONITOR;
		}
		switch (c) {
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || v > 3600) {
				cli_error("invalid time '%s' (whole seconds, "
					  "0 to 3600)",
					  optarg);
				return KILN_EXIT_MONITOR;
			}
			timeout = optarg;
			break;
		}
		case 's':
			sig = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			fputs(l->help, stdout);
			return 0;
		default:
			return cli_usage_error(l->name, c, argv);
		}
	}
	if (optind >= argc) {
		cli_error("'kiln %s' needs at least one instance (see 'kiln %s "
			  "--help')",
			  l->name, l->name);
		return KILN_EXIT_MONITOR;
	}
	for (int i = optind; i < argc; i++) {
		char *base = cli_path(l->path, argv[i]), *query, *path;
		struct cli_resp r;
		int st = 0;

		if (timeout != NULL)
			query = cli_path("?timeout=%s", timeout);
		else if (sig != NULL)
			query = cli_path("?signal=%s", sig);
		else
			query = cli_path(force ? "?force=1" : "");
		path = util_asprintf("%s%s", base, query);
		free(base);
		free(query);
		if (path == NULL)
			abort();
		if (cli_api(l->method, path, NULL, &r) < 0)
			st = KILN_EXIT_MONITOR;
		else if (r.status >= 300)
			st = cli_api_error(&r);
		else
			printf("%s\n", argv[i]);
		cli_resp_release(&r);
		free(path);
		if (st == KILN_EXIT_MONITOR || (st != 0 && worst == 0))
			worst = st;
	}
	return worst;
}

int cmd_start(int argc, char **argv)
{
	return lifecycle_run(&lifecycles[0], argc, argv);
}

int cmd_stop(int argc, char **argv)
{
	return lifecycle_run(&lifecycles[1], argc, argv);
}

int cmd_restart(int argc, char **argv)
{
	return lifecycle_run(&lifecycles[2], argc, argv);
}

int cmd_kill(int argc, char **argv)
{
	return lifecycle_run(&lifecycles[3], argc, argv);
}

int cmd_rm(int argc, char **argv)
{
	return lifecycle_run(&lifecycles[4], argc, argv);
}
