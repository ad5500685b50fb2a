/* Exits with the status given as argv[1] (0 when absent), after saying so;
 * tests/e2e/exit_codes.sh checks that kiln run passes it through.  With
 * argv[2] "raw" it ends through the exit syscall (60) instead of libc's
 * exit_group (231): the last thread leaving ends the program too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;

	printf("exit_code: exiting with %d\n", code);
	fflush(stdout);
	if (argc > 2 && strcmp(argv[2], "raw") == 0)
		syscall(SYS_exit, code);
	exit(code);
}
