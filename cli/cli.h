/*
 * Shared declarations of the kiln CLI: the command table entries and the
 * few helpers every command uses.  Each command is one cli/cmd_*.c file
 * and one row in main.c's commands[] table.
 */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stddef.h>

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

/* "kiln: MESSAGE\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The directory holding the running kiln binary (from /proc/self/exe), in
 * a static buffer; "." if it cannot be found. */
const char *cli_self_dir(void);

#endif /* KILN_CLI_H */
