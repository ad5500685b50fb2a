/*
 * ns per clock read, for bench/clock.sh: libc's clock_gettime (the vDSO
 * when there is one), the raw clock_gettime syscall, and libc's
 * gettimeofday, each timed over batches of calls with CLOCK_MONOTONIC;
 * prints one line per method with the median of the batches:
 *   clock_ns METHOD MEDIAN_NS_PER_CALL
 * Usage: clock_ns [BATCHES [CALLS_PER_BATCH]] (default 15 x 100000).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { LIBC, SYSCALL, GETTIMEOFDAY, METHODS };

static const char *const method_names[METHODS] = {"clock_gettime", "syscall",
						  "gettimeofday"};

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void run(int method, long calls)
{
	struct timespec ts;
	struct timeval tv;
	for (long i = 0; i < calls; i++) {
		switch (method) {
		case LIBC:
			clock_gettime(CLOCK_MONOTONIC, &ts);
			break;
		case SYSCALL:
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
			break;
		default:
			gettimeofday(&tv, NULL);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	int batches = argc > 1 ? atoi(argv[1]) : 15;
	long calls = argc > 2 ? atol(argv[2]) : 100000;
	if (batches < 1 || batches > 1000 || calls < 1) {
		fprintf(stderr,
			"usage: clock_ns [BATCHES [CALLS_PER_BATCH]]\n");
		return 2;
	}
	double *per = calloc((size_t)batches, sizeof(*per));
	if (!per)
		return 1;
	for (int m = 0; m < METHODS; m++) {
		run(m, calls / 10 + 1); /* warm up */
		for (int b = 0; b < batches; b++) {
			double t0 = now_ns();
			run(m, calls);
			per[b] = (now_ns() - t0) / (double)calls;
		}
		qsort(per, (size_t)batches, sizeof(*per), cmp_double);
		printf("clock_ns %s %.1f\n", method_names[m], per[batches / 2]);
	}
	free(per);
	return 0;
}
