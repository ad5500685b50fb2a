/*
 * `kiln run [OPTIONS] IMAGE`: an instance of an image, through kilnd.
 * With -d it is created and started and its name printed; without, the
 * console is streamed until the instance ends and kiln exits with its
 * status (Ctrl-C stops the instance, then kiln exits 130).
 *
 * kiln run also boots host programs directly (`kiln run ./prog`, in
 * cmd_run.c, no daemon).  Which one a command line means is decided by
 * run_image_wanted(), in this order:
 *   1. any of -d, --name, -p, --restart, --network, --rm, --image: IMAGE;
 *   2. the first argument contains '/' and names an existing file:
 *      PROGRAM; contains '/' but names nothing: IMAGE if it is a valid
 *      image reference ("library/web:1"), else PROGRAM (whose error then
 *      says it is missing);
 *   3. it contains ':' ("web:1", "sha256:ab12"): IMAGE;
 *   4. it is a name found in $PATH ("echo"): PROGRAM;
 *   5. anything else ("web", "3fa2c1"): IMAGE.
 * So `kiln run ./examples/hello` and `kiln run echo hi` behave exactly as
 * before; to run an image whose name is also a program in $PATH, give
 * its tag ("nginx:latest") or --image.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "image.h"
#include "kiln/abi.h"
#include "util.h"

enum {
	RI_NAME = 300,
	RI_RESTART,
	RI_NETWORK,
	RI_RM,
	RI_IMAGE,
	RI_HV,
	RI_PROGRAM_ONLY, /* options of `kiln run PROGRAM` only */
};

static const struct option run_image_longopts[] = {
    {"detach", no_argument, NULL, 'd'},
    {"name", required_argument, NULL, RI_NAME},
    {"publish", required_argument, NULL, 'p'},
    {"restart", required_argument, NULL, RI_RESTART},
    {"network", required_argument, NULL, RI_NETWORK},
    {"rm", no_argument, NULL, RI_RM},
    {"image", no_argument, NULL, RI_IMAGE},
    {"env", required_argument, NULL, 'e'},
    {"memory", required_argument, NULL, 'm'},
    {"hypervisor", required_argument, NULL, RI_HV},
    {"help", no_argument, NULL, 'h'},
    /* Known so that their values are skipped while deciding. */
    {"file", required_argument, NULL, RI_PROGRAM_ONLY},
    {"timeout", required_argument, NULL, RI_PROGRAM_ONLY},
    {"kernel", required_argument, NULL, RI_PROGRAM_ONLY},
    {"kernel-arg", required_argument, NULL, RI_PROGRAM_ONLY},
    {"keep-rootfs", required_argument, NULL, RI_PROGRAM_ONLY},
    {"net", required_argument, NULL, RI_PROGRAM_ONLY},
    {"ip", required_argument, NULL, RI_PROGRAM_ONLY},
    {"gw", required_argument, NULL, RI_PROGRAM_ONLY},
    {"dns", required_argument, NULL, RI_PROGRAM_ONLY},
    {"hostname", required_argument, NULL, RI_PROGRAM_ONLY},
    {"mac", required_argument, NULL, RI_PROGRAM_ONLY},
    {NULL, 0, NULL, 0},
};
#define RUN_IMAGE_SHORTOPTS "+:dp:e:m:h"

static const char cmd_run_image_help[] =
    "usage: kiln run [OPTIONS] IMAGE\n"
    "\n"
    "Runs an instance of IMAGE (a tag, an ID or a unique ID prefix; see\n"
    "'kiln images') through kilnd.  With -d it runs in the background and\n"
    "its name is printed; without, its console is shown until it ends and\n"
    "kiln exits with its status.  ('kiln run PROGRAM' boots a host program\n"
    "without kilnd: see 'kiln run --help'.)\n"
    "\n"
    "Options:\n"
    "  -d, --detach            run in the background, print the name\n"
    "      --name NAME         the instance's name and hostname (default:\n"
    "                          the image's name and a few ID digits)\n"
    "  -p, --publish SPEC      publish a port: [ADDR:]HOST:GUEST[/udp]\n"
    "                          (repeatable; ADDR defaults to 0.0.0.0)\n"
    "      --restart POLICY    no (default), on-failure[:N] or always\n"
    "      --network NAME      the network to join (default kiln0; none:\n"
    "                          no network device)\n"
    "  -e, --env KEY=VAL       set or override an environment variable\n"
    "                          (repeatable)\n"
    "  -m, --memory SIZE       guest RAM, e.g. 64M (default: the image's)\n"
    "      --hypervisor NAME   kiln (kiln-vmm, needs KVM) or qemu (default:\n"
    "                          kiln-vmm when kilnd has KVM, else qemu)\n"
    "      --rm                remove the instance when it ends (foreground\n"
    "                          runs only)\n"
    "      --image             IMAGE is an image even if a program of that\n"
    "                          name is in $PATH\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: with -d, 0 once the instance runs, 1 when kilnd refused\n"
    "(no such image, name in use, port taken), 125 kiln's own error.\n"
    "In the foreground, the instance's exit status.\n";

/* Is arg a program on the host (rules 2-4 above)? */
static int run_image_is_program(const char *arg)
{
	struct image_ref ref;
	char err[256];
	const char *path;

	if (strchr(arg, '/') != NULL) {
		struct stat st;
		if (stat(arg, &st) == 0)
			return 1;
		return image_ref_parse(arg, &ref, err, sizeof(err)) < 0;
	}
	if (strchr(arg, ':') != NULL || arg[0] == '\0')
		return arg[0] == '\0';
	path = getenv("PATH");
	if (path == NULL)
		path =
		    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:"
		    "/bin";
	for (const char *p = path; p != NULL;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *cand = util_asprintf("%.*s/%s", (int)n, n ? p : ".", arg);
		struct stat st;
		int found = cand != NULL && stat(cand, &st) == 0 &&
			    S_ISREG(st.st_mode) && access(cand, X_OK) == 0;

		free(cand);
		if (found)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int run_image_wanted(int argc, char **argv)
{
	int c, daemon_opt = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, RUN_IMAGE_SHORTOPTS,
				run_image_longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'p':
		case RI_NAME:
		case RI_RESTART:
		case RI_NETWORK:
		case RI_RM:
		case RI_IMAGE:
			daemon_opt = 1;
			break;
		case 'h':
			/* `kiln run -d --help` is about images. */
			optind = 1;
			return daemon_opt;
		case '?':
		case ':':
			optind = 1;
			return daemon_opt;
		default:
			break;
		}
	}
	c = daemon_opt ||
	    (optind < argc && !run_image_is_program(argv[optind]));
	optind = 1;
	return c;
}

static volatile sig_atomic_t run_image_signal;

static void run_image_on_signal(int sig)
{
	if (run_image_signal == 0)
		run_image_signal = sig;
}

static size_t run_image_sink(const char *data, size_t n, void *cls)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(1, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return n; /* stdout gone: keep the instance running */
		done += (size_t)w;
	}
	return n;
}

/* A request whose answer is only checked. */
static int run_image_call(const char *method, const char *fmt, const char *name)
{
	char *path = cli_path(fmt, name);
	struct cli_resp r;
	int st = 0;

	if (cli_api(method, path, NULL, &r) < 0)
		st = KILN_EXIT_MONITOR;
	else if (r.status >= 300)
		st = cli_api_error(&r);
	cli_resp_release(&r);
	free(path);
	return st;
}

/* Foreground: the console until the instance ends, then its status. */
static int run_image_attach(const char *name, int rm)
{
	struct sigaction sa;
	struct cli_resp r;
	char *path;
	int status = KILN_EXIT_MONITOR;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_image_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	path = cli_path("/v1/instances/%s/logs?follow=1", name);
	if (cli_api_stream("GET", path, run_image_sink, NULL, &run_image_signal,
			   &r) < 0) {
		free(path);
		return KILN_EXIT_MONITOR;
	}
	free(path);
	if (r.status != 200) {
		status = cli_api_error(&r);
		cli_resp_release(&r);
		return status;
	}
	cli_resp_release(&r);
	if (run_image_signal != 0) {
		run_image_call("POST", "/v1/instances/%s/stop", name);
		status = 128 + run_image_signal;
	} else {
		path = cli_path("/v1/instances/%s", name);
		if (cli_api("GET", path, NULL, &r) == 0 && r.status == 200) {
			json_t *code = json_object_get(r.json, "exit_code");
			const char *err =
			    json_string_value(json_object_get(r.json, "error"));
			if (json_is_integer(code))
				status = (int)json_integer_value(code);
			if (err != NULL && status == KILN_EXIT_MONITOR)
				cli_error("%s", err);
		}
		cli_resp_release(&r);
		free(path);
	}
	if (rm)
		run_image_call("DELETE", "/v1/instances/%s?force=1", name);
	return status;
}

int cmd_run_image(int argc, char **argv)
{
	json_t *body = json_object(), *env = json_array(),
	       *ports = json_array();
	const char *name = NULL, *restart = NULL, *network = NULL, *hv = NULL;
	int detach = 0, rm = 0, c, st, li = 0;
	uint64_t mib = 0;
	struct cli_resp r;
	char err[256], *made = NULL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, RUN_IMAGE_SHORTOPTS,
				run_image_longopts, &li)) != -1) {
		switch (c) {
		case 'd':
			detach = 1;
			break;
		case RI_NAME:
			name = optarg;
			break;
		case 'p':
			json_array_append_new(ports, json_string(optarg));
			break;
		case RI_RESTART:
			restart = optarg;
			break;
		case RI_NETWORK:
			network = optarg;
			break;
		case RI_RM:
			rm = 1;
			break;
		case RI_IMAGE:
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				cli_error("invalid environment entry '%s' (use "
					  "-e KEY=VALUE)",
					  optarg);
				goto usage;
			}
			json_array_append_new(env, json_string(optarg));
			break;
		case 'm':
			if (util_parse_mib(optarg, &mib, err, sizeof(err)) <
			    0) {
				cli_error("%s", err);
				goto usage;
			}
			if (mib < 2 || mib > 3072) {
				cli_error(
				    "memory size '%s' is outside 2M to 3G",
				    optarg);
				goto usage;
			}
			break;
		case RI_HV:
			if (strcmp(optarg, "kiln") != 0 &&
			    strcmp(optarg, "kiln-vmm") != 0 &&
			    strcmp(optarg, "qemu") != 0) {
				cli_error(
				    "unknown hypervisor '%s' (use kiln or "
				    "qemu)",
				    optarg);
				goto usage;
			}
			hv = optarg;
			break;
		case RI_PROGRAM_ONLY:
			cli_error(
			    "option '--%s' is for 'kiln run PROGRAM', not "
			    "for an image (an image carries its files and "
			    "settings: see 'kiln build')",
			    run_image_longopts[li].name);
			goto usage;
		case 'h':
			fputs(cmd_run_image_help, stdout);
			st = 0;
			goto out;
		default:
			st = cli_usage_error("run", c, argv);
			goto out;
		}
	}
	if (optind >= argc) {
		cli_error(
		    "'kiln run' needs an image or a program (see 'kiln run "
		    "--help')");
		goto usage;
	}
	if (argc - optind > 1) {
		cli_error("'kiln run IMAGE' takes no program arguments: they "
			  "are part of the image (kiln build)");
		goto usage;
	}
	{
		struct stat sb;
		if (strchr(argv[optind], '/') != NULL &&
		    stat(argv[optind], &sb) == 0) {
			cli_error(
			    "'%s' is a program, and 'kiln run' with -d, "
			    "--name, -p, --restart, --network or --rm runs "
			    "images: build one first (kiln build -t NAME "
			    "%s)",
			    argv[optind], argv[optind]);
			goto usage;
		}
	}
	if (rm && detach) {
		cli_error("--rm is for foreground runs (remove a background "
			  "instance with 'kiln rm')");
		goto usage;
	}
	json_object_set_new(body, "image", json_string(argv[optind]));
	if (name != NULL)
		json_object_set_new(body, "name", json_string(name));
	if (restart != NULL)
		json_object_set_new(body, "restart", json_string(restart));
	if (network != NULL)
		json_object_set_new(body, "network", json_string(network));
	if (hv != NULL)
		json_object_set_new(body, "hypervisor", json_string(hv));
	if (mib > 0)
		json_object_set_new(body, "memory_mib",
				    json_integer((json_int_t)mib));
	json_object_set(body, "env", env);
	json_object_set(body, "ports", ports);
	json_object_set_new(body, "start", json_true());
	if (cli_api("POST", "/v1/instances", body, &r) < 0) {
		st = KILN_EXIT_MONITOR;
		goto out;
	}
	if (r.status != 201) {
		st = cli_api_error(&r);
		cli_resp_release(&r);
		goto out;
	}
	made = strdup(json_string_value(json_object_get(r.json, "name")));
	cli_resp_release(&r);
	if (made == NULL) {
		st = KILN_EXIT_MONITOR;
		goto out;
	}
	if (detach) {
		printf("%s\n", made);
		st = 0;
	} else {
		fflush(stdout);
		st = run_image_attach(made, rm);
	}
	goto out;
usage:
	st = KILN_EXIT_MONITOR;
out:
	free(made);
	json_decref(body);
	json_decref(env);
	json_decref(ports);
	return st;
}
