/* Exits with the status given as argv[1] (0 when absent), after saying so;
 * tests/e2e/exit_codes.sh checks that kiln run passes it through. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;

	printf("exit_code: exiting with %d\n", code);
	fflush(stdout);
	exit(code);
}
