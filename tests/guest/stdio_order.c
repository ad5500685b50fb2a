/* Alternates lines on stdout and stderr, flushing after each, so the one
 * console stream must show out 0, err 0, out 1, err 1, ... in that order;
 * tests/e2e/stdio.sh checks it. */
#include <stdio.h>

int main(void)
{
	for (int i = 0; i < 20; i++) {
		printf("out %d\n", i);
		fflush(stdout);
		fprintf(stderr, "err %d\n", i);
		fflush(stderr);
	}
	puts("stdio_order: done");
	return 0;
}
