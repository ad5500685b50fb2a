/*
 * `kiln inspect [--type instance|image] NAME...`: what kilnd knows about
 * instances or images, as a JSON array of the API's objects.  A name is
 * looked up as an instance first, then as an image, unless --type says
 * which.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "kiln/abi.h"

static const char cmd_inspect_help[] =
    "usage: kiln inspect [--type instance|image] NAME...\n"
    "\n"
    "Prints instances (by name, ID or ID prefix) or images (by tag, ID or\n"
    "ID prefix) as a JSON array (the objects of docs/api.md).  A NAME is\n"
    "an instance if there is one, else an image.\n"
    "\n"
    "Options:\n"
    "      --type TYPE   instance or image only\n"
    "  -h, --help        show this help\n";

int cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"type", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *type = NULL;
	json_t *out = json_array();
	int c, worst = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "instance") != 0 &&
			    strcmp(optarg, "image") != 0) {
				cli_error("invalid --type '%s' (instance or "
					  "image)",
					  optarg);
				return KILN_EXIT_MONITOR;
			}
			type = optarg;
			break;
		case 'h':
			fputs(cmd_inspect_help, stdout);
			return 0;
		default:
			return cli_usage_error("inspect", c, argv);
		}
	}
	if (optind >= argc) {
		cli_error("'kiln inspect' needs at least one name (see 'kiln "
			  "inspect --help')");
		return KILN_EXIT_MONITOR;
	}
	for (int i = optind; i < argc; i++) {
		struct cli_resp r;
		char *path;
		int st = 0, found = 0;

		memset(&r, 0, sizeof(r));
		if (type == NULL || strcmp(type, "instance") == 0) {
			path = cli_path("/v1/instances/%s", argv[i]);
			if (cli_api("GET", path, NULL, &r) < 0)
				st = KILN_EXIT_MONITOR;
			free(path);
			found = st == 0 && r.status == 200;
		}
		if (st == 0 && !found &&
		    (type == NULL || strcmp(type, "image") == 0) &&
		    (r.status == 404 || type != NULL)) {
			cli_resp_release(&r);
			path = cli_path("/v1/images/%s", argv[i]);
			if (cli_api("GET", path, NULL, &r) < 0)
				st = KILN_EXIT_MONITOR;
			free(path);
			found = st == 0 && r.status == 200;
		}
		if (found) {
			json_array_append(out, r.json);
		} else if (st == 0 && r.status == 404 && type == NULL) {
			cli_error(
			    "no such instance or image '%s' (see 'kiln ps "
			    "-a' and 'kiln images')",
			    argv[i]);
			st = CLI_EXIT_REFUSED;
		} else if (st == 0) {
			st = cli_api_error(&r);
		}
		cli_resp_release(&r);
		if (st == KILN_EXIT_MONITOR || (st != 0 && worst == 0))
			worst = st;
	}
	if (json_array_size(out) > 0 || worst == 0)
		cli_print_json(out);
	json_decref(out);
	return worst;
}
