/*
 * Console output in bulk: 1000 printf lines "data NNNNN PATTERN" through
 * stdio's buffer, 500 lines "bulk NNNNN PATTERN" in one 40 KiB write(2),
 * and a writev; then the return values.  The program cannot see what
 * reached the console, so tests/e2e/stdio.sh checks every line arrived
 * once and in order.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "tap.h"

#define PATTERN	   "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DATA_LINES 1000
#define BULK_LINES 500

int main(void)
{
	int printed = 1;
	for (int i = 0; i < DATA_LINES; i++)
		printed &= printf("data %05d %s\n", i, PATTERN) > 0;
	int flushed = fflush(stdout);

	size_t line = strlen("bulk 00000 " PATTERN "\n");
	char *bulk = malloc(line * BULK_LINES + 1);
	if (!bulk)
		return 2;
	for (int i = 0; i < BULK_LINES; i++)
		snprintf(bulk + i * line, line + 1, "bulk %05d %s\n", i,
			 PATTERN);
	ssize_t w = write(1, bulk, line * BULK_LINES);

	struct iovec iov[3] = {{"vec ", 4}, {"one two ", 8}, {"three\n", 6}};
	ssize_t wv = writev(1, iov, 3);
	ssize_t w0 = write(1, bulk, 0);
	errno = 0;
	ssize_t wbad = write(99, "x", 1);
	int ebadf = errno;

	CHECK(printed, "1000 printf calls succeed");
	CHECK_EQ("fflush(stdout)", flushed, 0);
	CHECK_EQ("one 40 KiB write(2) to stdout is written whole", w,
		 line * BULK_LINES);
	CHECK_EQ("writev of three buffers to stdout", wv, 18);
	CHECK_EQ("write of 0 bytes returns 0", w0, 0);
	CHECK(wbad == -1 && ebadf == EBADF, "write to fd 99 is EBADF");
	CHECK_EQ("write(2) to stderr",
		 write(2, "stdio: a line on stderr\n", 24), 24);
	free(bulk);
	return tap_done("stdio");
}
