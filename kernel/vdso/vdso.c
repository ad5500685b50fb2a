/*
 * The vDSO: a small shared object the kernel maps into every program
 * (kernel/exec/vdso.c) and names in the auxiliary vector (AT_SYSINFO_EHDR),
 * so that glibc, musl and Go read the clock without a syscall.  It is
 * built freestanding by kernel/vdso/vdso.mk, never linked into the kernel,
 * and reads the vvar page the kernel maps one page below it (vvar.h) with
 * the very code the kernel's clock uses.  The clocks the page cannot
 * answer (CPU time clocks, invalid ids) and a page in VVAR_MODE_SYSCALL go
 * to the real syscall, as Linux's vDSO does.
 *
 * Exported as Linux's x86_64 vDSO is, version LINUX_2.6 (vdso.lds): the
 * __vdso_ names, which libcs and Go look up, and the plain names.  The
 * code runs on the caller's stack (Go's is small): no large locals.
 */
#include "vvar.h"

#define NSEC 1000000000ULL

/* <linux/time.h>'s ids; the vDSO sees no system headers. */
#define CLOCK_REALTIME	       0
#define CLOCK_MONOTONIC	       1
#define CLOCK_MONOTONIC_RAW    4
#define CLOCK_REALTIME_COARSE  5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME	       7
#define CLOCK_TAI	       11

#define NR_gettimeofday	 96
#define NR_time		 201
#define NR_clock_gettime 228
#define NR_clock_getres	 229

struct vdso_timespec {
	long tv_sec, tv_nsec;
};

struct vdso_timeval {
	long tv_sec, tv_usec;
};

struct vdso_timezone {
	int tz_minuteswest, tz_dsttime;
};

/* Defined by the linker script: the page right below the vDSO's first. */
extern const volatile struct vvar vvar_page
    __attribute__((visibility("hidden")));

static long vdso_syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

/* 0 and the time in *ns for a clock the page answers, -1 otherwise. */
static int vdso_read(long id, uint64_t *ns)
{
	uint64_t mono, base;
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI:
		if (vvar_read(&vvar_page, &mono, &base) == VVAR_MODE_SYSCALL)
			return -1;
		*ns = base + mono;
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		if (vvar_read(&vvar_page, &mono, &base) == VVAR_MODE_SYSCALL)
			return -1;
		*ns = mono;
		return 0;
	default:
		return -1;
	}
}

int __vdso_clock_gettime(long id, struct vdso_timespec *ts);
int __vdso_clock_gettime(long id, struct vdso_timespec *ts)
{
	uint64_t ns;
	if (vdso_read(id, &ns))
		return (int)vdso_syscall2(NR_clock_gettime, id, (long)ts);
	ts->tv_sec = (long)(ns / NSEC);
	ts->tv_nsec = (long)(ns % NSEC);
	return 0;
}

int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz);
int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
	uint64_t ns;
	if (vdso_read(CLOCK_REALTIME, &ns))
		return (int)vdso_syscall2(NR_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = (long)(ns / NSEC);
		tv->tv_usec = (long)(ns % NSEC / 1000);
	}
	if (tz) {
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

long __vdso_time(long *t);
long __vdso_time(long *t)
{
	uint64_t ns;
	if (vdso_read(CLOCK_REALTIME, &ns))
		return vdso_syscall2(NR_time, (long)t, 0);
	long s = (long)(ns / NSEC);
	if (t)
		*t = s;
	return s;
}

/* The kernel's resolution for every clock it has is 1 ns (its clocks are
 * all the TSC's); an id the page does not answer asks the kernel, which
 * knows which ones are valid. */
int __vdso_clock_getres(long id, struct vdso_timespec *res);
int __vdso_clock_getres(long id, struct vdso_timespec *res)
{
	uint64_t ns;
	if (vdso_read(id, &ns))
		return (int)vdso_syscall2(NR_clock_getres, id, (long)res);
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

/* kiln runs a program on one vCPU: CPU 0, node 0. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache);
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	(void)cache;
	if (cpu)
		*cpu = 0;
	if (node)
		*node = 0;
	return 0;
}

int clock_gettime(long id, struct vdso_timespec *ts)
    __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz)
    __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *t) __attribute__((weak, alias("__vdso_time")));
int clock_getres(long id, struct vdso_timespec *res)
    __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *cpu, unsigned *node, void *cache)
    __attribute__((weak, alias("__vdso_getcpu")));
