/*
 * `kiln network create|ls|rm`: kilnd's networks (a bridge and a subnet
 * each; the default "kiln0" is 10.88.0.0/16).  Instances join one with
 * `kiln run --network NAME`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "kiln/abi.h"

static const char cmd_network_help[] =
    "usage: kiln network create [--subnet CIDR] NAME\n"
    "       kiln network ls [-q] [--json]\n"
    "       kiln network rm NAME...\n"
    "\n"
    "Networks are Linux bridges kilnd makes, each with an IPv4 subnet;\n"
    "every instance on one gets an address from it, passed to the guest\n"
    "on its kernel command line.  'kiln0' (10.88.0.0/16) always exists.\n"
    "A network that instances still use (stopped ones included) cannot be\n"
    "removed.\n"
    "\n"
    "Options:\n"
    "      --subnet CIDR   e.g. 10.89.0.0/24 (default: the next free\n"
    "                      10.89.N.0/24)\n"
    "  -q, --quiet         ls: names only\n"
    "      --json          ls: the networks as a JSON array\n"
    "  -h, --help          show this help\n";

int cmd_network(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"subnet", required_argument, NULL, 's'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *sub, *subnet = NULL;
	int quiet = 0, as_json = 0, c, st = 0;
	struct cli_resp r;
	size_t k;
	json_t *v;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(cmd_network_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? KILN_EXIT_MONITOR : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
		sub = "ls";
	else if (strcmp(sub, "remove") == 0)
		sub = "rm";
	if (strcmp(sub, "create") != 0 && strcmp(sub, "ls") != 0 &&
	    strcmp(sub, "rm") != 0) {
		cli_error("unknown network command '%s' (create, ls or rm)",
			  argv[1]);
		return KILN_EXIT_MONITOR;
	}
	opterr = 0;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			subnet = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'h':
			fputs(cmd_network_help, stdout);
			return 0;
		default:
			return cli_usage_error("network", c, argv);
		}
	}
	if ((subnet && strcmp(sub, "create") != 0) ||
	    ((quiet || as_json) && strcmp(sub, "ls") != 0)) {
		cli_error("that option is not for 'kiln network %s' (see 'kiln "
			  "network --help')",
			  sub);
		return KILN_EXIT_MONITOR;
	}
	if (strcmp(sub, "create") == 0) {
		json_t *body;
		if (argc - optind != 1) {
			cli_error("'kiln network create' needs one name");
			return KILN_EXIT_MONITOR;
		}
		body = json_pack("{s:s}", "name", argv[optind]);
		if (subnet != NULL)
			json_object_set_new(body, "subnet",
					    json_string(subnet));
		if (cli_api("POST", "/v1/networks", body, &r) < 0)
			st = KILN_EXIT_MONITOR;
		else if (r.status != 201)
			st = cli_api_error(&r);
		else
			printf("%s\n", argv[optind]);
		json_decref(body);
		cli_resp_release(&r);
		return st;
	}
	if (strcmp(sub, "rm") == 0) {
		if (optind >= argc) {
			cli_error("'kiln network rm' needs at least one name");
			return KILN_EXIT_MONITOR;
		}
		for (int i = optind; i < argc; i++) {
			char *path = cli_path("/v1/networks/%s", argv[i]);
			int one = 0;
			if (cli_api("DELETE", path, NULL, &r) < 0)
				one = KILN_EXIT_MONITOR;
			else if (r.status != 204)
				one = cli_api_error(&r);
			else
				printf("%s\n", argv[i]);
			cli_resp_release(&r);
			free(path);
			if (one == KILN_EXIT_MONITOR || (one && !st))
				st = one;
		}
		return st;
	}
	if (optind < argc) {
		cli_error("'kiln network ls' takes no arguments");
		return KILN_EXIT_MONITOR;
	}
	if (!cli_api_list("/v1/networks", as_json, &r, &st))
		return st;
	if (!quiet)
		printf("%-20s %-18s %-15s %-15s %s\n", "NAME", "SUBNET",
		       "GATEWAY", "BRIDGE", "INSTANCES");
	json_array_foreach(r.json, k, v)
	{
		const char *name =
		    json_string_value(json_object_get(v, "name"));
		if (quiet) {
			printf("%s\n", name ? name : "?");
			continue;
		}
		printf(
		    "%-20s %-18s %-15s %-15s %d\n", name ? name : "?",
		    json_string_value(json_object_get(v, "subnet")),
		    json_string_value(json_object_get(v, "gateway")),
		    json_string_value(json_object_get(v, "bridge")),
		    (int)json_integer_value(json_object_get(v, "instances")));
	}
	cli_resp_release(&r);
	return 0;
}
