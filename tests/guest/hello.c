/* The smallest guest: one line, then exit 0.  The line is written and
 * flushed first thing in main so that bench/boot.py can time "exec to
 * main" as "exec to the first byte on stdout". */
#include <stdio.h>

int main(void)
{
	fputs("hello from kiln\n", stdout);
	fflush(stdout);
	return 0;
}
