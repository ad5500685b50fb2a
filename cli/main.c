/*
 * kiln's entry point: finds the command in commands[] and runs it.  A
 * command is one cmd_*.c file plus one row here (Git's git.c, OpenBSD
 * vmctl's main.c); the row carries the usage text `kiln help` prints.
 * Exit statuses follow include/kiln/abi.h: 125 for kiln's own errors
 * (usage included), otherwise what the command returns.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "kiln/abi.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
    {"run", cmd_run, "run [OPTIONS] PROGRAM [ARGS...] | IMAGE",
     "boot a program in the foreground, or run an instance of an image"},
    {"pack", cmd_pack, "pack -o ROOTFS [OPTIONS] PROGRAM [ARGS...]",
     "pack a program into a rootfs for kiln-vmm or QEMU, without booting"},
    {"build", cmd_build, "build [OPTIONS] [PROGRAM [ARGS...]]",
     "build an image from a program and options, or from a Kilnfile"},
    {"ps", cmd_ps, "ps [-a] [-q] [--json]", "list instances"},
    {"logs", cmd_logs, "logs [-f] [--tail N] INSTANCE",
     "show an instance's console"},
    {"start", cmd_start, "start INSTANCE...", "start stopped instances"},
    {"stop", cmd_stop, "stop [-t SECONDS] INSTANCE...",
     "stop running instances"},
    {"restart", cmd_restart, "restart [-t SECONDS] INSTANCE...",
     "stop and start instances"},
    {"kill", cmd_kill, "kill [-s SIGNAL] INSTANCE...",
     "kill running instances"},
    {"rm", cmd_rm, "rm [-f] INSTANCE...", "remove instances"},
    {"inspect", cmd_inspect, "inspect [--type TYPE] NAME...",
     "show instances or images as JSON"},
    {"images", cmd_images, "images [-q] [--json]", "list images"},
    {"rmi", cmd_rmi, "rmi [-f] IMAGE...", "remove images or tags"},
    {"tag", cmd_tag, "tag IMAGE NAME[:TAG]", "tag an image"},
    {"save", cmd_save, "save [-o FILE] IMAGE", "write an image as an archive"},
    {"load", cmd_load, "load [-i FILE] [-t TAG]",
     "load an image archive into kilnd"},
    {"events", cmd_events, "events [--json]", "show kilnd's events live"},
    {"network", cmd_network, "network create|ls|rm ...",
     "manage kilnd's networks"},
    {"completion", cmd_completion, "completion bash",
     "print a bash completion script"},
    {"version", cmd_version, "version", "print kiln's version and ABI version"},
    {"help", cmd_help, "help [COMMAND]", "show help for kiln or a command"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kiln: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;
	char *slash;

	if (dir[0] != '\0')
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0) {
		strcpy(dir, ".");
		return dir;
	}
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	return dir;
}

static void main_usage(FILE *f)
{
	fprintf(f, "usage: kiln [-H SOCKET] COMMAND [ARGS...]\n\n"
		   "Runs ordinary Linux x86_64 programs as unikernels.\n\n"
		   "Options:\n"
		   "  -H, --host SOCKET  kilnd's socket (default $KILN_HOST, "
		   "else\n"
		   "                     /run/kiln/kilnd.sock as root)\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-11s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nRun 'kiln help COMMAND' or 'kiln COMMAND --help' for "
		   "details.\n");
}

static const struct command *main_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		main_usage(stdout);
		return 0;
	}
	c = main_find(argv[1]);
	if (c == NULL) {
		cli_error("unknown command '%s' (see 'kiln help')", argv[1]);
		return KILN_EXIT_MONITOR;
	}
	if (c->run == cmd_run || c->run == cmd_pack || c->run == cmd_build) {
		fputs(c->run == cmd_run	   ? cmd_run_help
		      : c->run == cmd_pack ? cmd_pack_help
					   : cmd_build_help,
		      stdout);
		return 0;
	}
	if (c->run != cmd_help && c->run != cmd_version) {
		char *args[] = {argv[1], "--help", NULL};
		return c->run(2, args);
	}
	printf("usage: kiln %s\n\n%s\n", c->usage, c->summary);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	if (argc > 1) {
		cli_error("'kiln version' takes no arguments");
		return KILN_EXIT_MONITOR;
	}
	printf("kiln %s (abi %d)\n", KILN_VERSION, KILN_ABI_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;

	/* Global options, before the command. */
	while (argc >= 2 && argv[1][0] == '-') {
		if ((strcmp(argv[1], "-H") == 0 ||
		     strcmp(argv[1], "--host") == 0) &&
		    argc >= 3) {
			cli_host_opt = argv[2];
			argc -= 2;
			argv += 2;
		} else if (strncmp(argv[1], "--host=", 7) == 0) {
			cli_host_opt = argv[1] + 7;
			argc--;
			argv++;
		} else if (strcmp(argv[1], "-H") == 0 ||
			   strcmp(argv[1], "--host") == 0) {
			cli_error("option '%s' needs a socket path", argv[1]);
			return KILN_EXIT_MONITOR;
		} else {
			break;
		}
	}
	if (argc < 2) {
		main_usage(stderr);
		return KILN_EXIT_MONITOR;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	c = main_find(argv[1]);
	if (c == NULL) {
		cli_error("unknown command '%s' (see 'kiln help')", argv[1]);
		return KILN_EXIT_MONITOR;
	}
	return c->run(argc - 1, argv + 1);
}
