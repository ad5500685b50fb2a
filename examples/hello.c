/*
 * The first example: prints a greeting and its arguments, then exits 0.
 * examples/examples.mk builds it static with musl-gcc into examples/hello,
 * so `kiln run ./examples/hello a b` works from the repository's root.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("hello from kiln\n");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	return 0;
}
