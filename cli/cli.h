/*
 * Shared declarations of the kiln CLI: the command table entries and the
 * few helpers every command uses.  Each command is one cli/cmd_*.c file
 * and one row in main.c's commands[] table.
 */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define KILN_VERSION "0.1.0"

struct command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *usage;   /* "run [OPTIONS] PROGRAM [ARGS...]" */
	const char *summary; /* one line for `kiln help` */
};

int cmd_run(int argc, char **argv);
extern const char cmd_run_help[];
int cmd_pack(int argc, char **argv);
extern const char cmd_pack_help[];

int cmd_build(int argc, char **argv);
extern const char cmd_build_help[];

/*
 * What kiln run, kiln pack and kiln build share (cmd_run.c).  Each prints
 * its own one-line error (cli_error) and returns -1 or NULL.
 */
/* Makes sure fds 0-2 are open, so pipes and temp files never take them. */
void run_std_fds(void);
/* -e KEY=VAL: checked and appended (copied) to env. */
int run_parse_env(const char *arg, struct strv *env);
/* -m SIZE: parsed into MiB and checked against kiln's limits (2M-3G). */
int run_parse_memory(const char *arg, uint64_t *mib);
/* The program as given on the command line -> its absolute host path (new
 * string; also its guest path); *shown (new string) is the path to quote
 * in messages.  Status for the failure in *status (125, 126 or 127). */
char *run_find_program(const char *prog, char **shown, int *status);
/* The program must be an x86_64 ELF kiln can run, with an execute bit;
 * -1 with *status 126 or 127 otherwise. */
int run_check_program(const char *shown, const char *exe, int *status);
/* Splits "HOST:GUEST" at the last ":/": *host is a new string, *guest
 * points into spec.  -1 when there is no such split. */
int run_split_file(const char *spec, char **host, const char **guest);
/* The kernel: opt (--kernel), $KILN_KERNEL, kiln.elf beside kiln, or the
 * system's; a new string, or NULL after printing why. */
char *run_find_kernel(const char *opt);

/* "kiln: MESSAGE\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The directory holding the running kiln binary (from /proc/self/exe), in
 * a static buffer; "." if it cannot be found. */
const char *cli_self_dir(void);

#endif /* KILN_CLI_H */
