/*
 * What a program learns about the machine and itself: sysinfo,
 * getrusage (maximum RSS and page faults grow as memory is touched),
 * times, sysconf's processor and memory counts (glibc reads
 * /sys/devices/system/cpu/online, musl sched_getaffinity), and the files
 * of /proc and /sys that Debian's programs read, checked against each
 * other and against the syscalls: /proc/meminfo's MemTotal is sysinfo's
 * totalram, /proc/self/maps has the program, its stack and a file just
 * mapped, /proc/self/stat and /proc/PID/stat name this process,
 * /proc/sys/kernel/osrelease is uname's release, boot_id is stable and
 * uuid is not, mountinfo lists / and /proc, statfs knows /proc and /sys.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>

#include "tap.h"

#define PG 4096UL

/* The whole content of a small file, NUL-terminated ("" if missing). */
static char *slurp(const char *path)
{
	static char bufs[4][65536];
	static int next;
	char *buf = bufs[next++ % 4];
	int fd = open(path, O_RDONLY);
	size_t n = 0;
	ssize_t r;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	while (n < sizeof(bufs[0]) - 1 &&
	       (r = read(fd, buf + n, sizeof(bufs[0]) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* The number after "key" at the start of a line, or -1. */
static long long field(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (strncmp(l, key, k) == 0)
			return strtoll(l + k, NULL, 10);
	}
	return -1;
}

static void test_sysinfo(void)
{
	struct sysinfo si;

	CHECK_EQ("sysinfo", sysinfo(&si), 0);
	CHECK(si.totalram > 0 && si.mem_unit >= 1, "sysinfo: some RAM");
	CHECK(si.freeram <= si.totalram, "sysinfo: free RAM <= total");
	CHECK(si.procs >= 1, "sysinfo: at least one process");
	CHECK_ERR("sysinfo(NULL) is EFAULT",
		  (errno = 0, syscall(SYS_sysinfo, NULL)), EFAULT);

	long long memtotal = field(slurp("/proc/meminfo"), "MemTotal:");
	CHECK_EQ("/proc/meminfo MemTotal is sysinfo's totalram", memtotal,
		 (long long)si.totalram * si.mem_unit / 1024);
	CHECK(field(slurp("/proc/meminfo"), "MemFree:") > 0,
	      "/proc/meminfo has MemFree");
	long pages = sysconf(_SC_PHYS_PAGES);
	CHECK_EQ("sysconf(_SC_PHYS_PAGES) is totalram in pages", pages,
		 (long)((unsigned long long)si.totalram * si.mem_unit /
			(unsigned long)sysconf(_SC_PAGESIZE)));
	CHECK(sysconf(_SC_NPROCESSORS_ONLN) >= 1 &&
		  sysconf(_SC_NPROCESSORS_CONF) >= 1,
	      "sysconf: at least one processor");
}

static void test_rusage(void)
{
	struct rusage a, b;
	struct tms t;

	CHECK_EQ("getrusage RUSAGE_SELF", getrusage(RUSAGE_SELF, &a), 0);
	CHECK(a.ru_maxrss > 0, "maximum RSS is positive");
	char *p = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap 8 MiB");
	if (p != MAP_FAILED) {
		for (size_t i = 0; i < (8 << 20); i += PG)
			p[i] = 1;
		CHECK_EQ("getrusage again", getrusage(RUSAGE_SELF, &b), 0);
		printf("# maxrss %ld -> %ld KiB, minflt %ld -> %ld\n",
		       a.ru_maxrss, b.ru_maxrss, a.ru_minflt, b.ru_minflt);
		/* Linux's RSS counters are per-CPU approximations: ask
		 * for half. */
		CHECK(b.ru_maxrss >= a.ru_maxrss + 4 * 1024,
		      "touching 8 MiB raises the maximum RSS by 4 MiB or more");
		CHECK(b.ru_minflt >= a.ru_minflt + 1024,
		      "and counts the page faults");
		char *st = slurp("/proc/self/status");
		CHECK(field(st, "VmRSS:") >= 4 * 1024,
		      "/proc/self/status VmRSS counts them");
		CHECK(field(st, "VmHWM:") >= field(st, "VmRSS:"),
		      "VmHWM >= VmRSS");
		munmap(p, 8 << 20);
	}
	CHECK_EQ("getrusage RUSAGE_CHILDREN", getrusage(RUSAGE_CHILDREN, &b),
		 0);
	CHECK(b.ru_maxrss == 0 && b.ru_utime.tv_sec == 0,
	      "no children: nothing used");
	CHECK_EQ("getrusage RUSAGE_THREAD",
		 syscall(SYS_getrusage, 1 /* RUSAGE_THREAD */, &b), 0);
	CHECK_ERR("getrusage(5) is EINVAL", (errno = 0, getrusage(5, &b)),
		  EINVAL);
	CHECK_ERR("getrusage to a bad pointer is EFAULT",
		  (errno = 0, syscall(SYS_getrusage, RUSAGE_SELF, (void *)8)),
		  EFAULT);
	clock_t c = times(&t);
	CHECK(c != (clock_t)-1, "times succeeds");
	CHECK(syscall(SYS_times, NULL) >= 0, "times(NULL) is allowed");
}

static void test_proc_self(void)
{
	char exe[4096], want[64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int local = 0;

	exe[n > 0 ? n : 0] = '\0';
	char *maps = slurp("/proc/self/maps");
	CHECK(n > 0 && strstr(maps, exe) != NULL,
	      "/proc/self/maps names the program");
	CHECK(strstr(maps, "r-xp") != NULL, "and has its code (r-xp)");
	int in_stack = 0;
	for (char *l = maps; *l; l = strchr(l, '\n') + 1) {
		unsigned long s, e;
		if (sscanf(l, "%lx-%lx", &s, &e) == 2 &&
		    strstr(l, "[stack]") < strchr(l, '\n') &&
		    strstr(l, "[stack]") && (uintptr_t)&local >= s &&
		    (uintptr_t)&local < e)
			in_stack = 1;
		if (!strchr(l, '\n'))
			break;
	}
	CHECK(in_stack, "a local variable lies in the [stack] line");

	int fd = open("/proc/self/exe", O_RDONLY);
	char *m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, PG);
	CHECK(m != MAP_FAILED, "map a page of the program shared");
	if (m != MAP_FAILED) {
		char line[128];
		snprintf(line, sizeof(line), "%lx-%lx r--s %08lx ",
			 (unsigned long)m, (unsigned long)m + PG, PG);
		maps = slurp("/proc/self/maps");
		char *l = strstr(maps, line);
		CHECK(l != NULL, "the new mapping is listed (r--s, offset)");
		CHECK(l && strstr(l, exe) && strstr(l, exe) < strchr(l, '\n'),
		      "with the file's path");
		munmap(m, PG);
	}
	close(fd);

	char *status = slurp("/proc/self/status");
	CHECK_EQ("/proc/self/status Pid is getpid()", field(status, "Pid:"),
		 getpid());
	CHECK(field(status, "Threads:") >= 1, "/proc/self/status Threads");
	const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	snprintf(want, sizeof(want), "%d (%.15s) R ", getpid(), base);
	CHECK(strncmp(slurp("/proc/self/stat"), want, strlen(want)) == 0,
	      "/proc/self/stat starts with pid, (comm) and R");
	snprintf(exe, sizeof(exe), "/proc/%d/stat", getpid());
	CHECK(strncmp(slurp(exe), want, strlen(want)) == 0,
	      "/proc/PID/stat is the same process");
	unsigned long size, rss;
	CHECK(sscanf(slurp("/proc/self/statm"), "%lu %lu", &size, &rss) == 2 &&
		  size >= rss && rss > 0,
	      "/proc/self/statm: size >= resident > 0");
}

static void test_proc_system(void)
{
	struct utsname u;
	char osrel[128], id1[64], id2[64];

	char *ci = slurp("/proc/cpuinfo");
	CHECK(strncmp(ci, "processor\t: 0\n", 14) == 0,
	      "/proc/cpuinfo starts with processor 0");
	CHECK(strstr(ci, "\nmodel name\t: ") && strstr(ci, "\nflags\t\t: ") &&
		  strstr(ci, " fpu "),
	      "/proc/cpuinfo has a model name and flags (fpu)");
	char *stat = slurp("/proc/stat");
	CHECK(strncmp(stat, "cpu ", 4) == 0 && strstr(stat, "\ncpu0 "),
	      "/proc/stat has the cpu and cpu0 lines");
	long long btime = field(stat, "btime ");
	double up = -1;
	sscanf(slurp("/proc/uptime"), "%lf", &up);
	CHECK(up >= 0, "/proc/uptime parses");
	long long boot = (long long)time(NULL) - (long long)up;
	CHECK(btime > 0 && btime >= boot - 5 && btime <= boot + 5,
	      "/proc/stat btime is now minus /proc/uptime");
	double l1, l5, l15;
	int run, total;
	CHECK(sscanf(slurp("/proc/loadavg"), "%lf %lf %lf %d/%d", &l1, &l5,
		     &l15, &run, &total) == 5 &&
		  total >= 1,
	      "/proc/loadavg has five fields");
	CHECK(strncmp(slurp("/proc/version"), "Linux version ", 14) == 0,
	      "/proc/version");
	uname(&u);
	snprintf(osrel, sizeof(osrel), "%s\n", u.release);
	CHECK_STR("/proc/sys/kernel/osrelease is uname's release",
		  slurp("/proc/sys/kernel/osrelease"), osrel);
	snprintf(osrel, sizeof(osrel), "%s\n", u.nodename);
	CHECK_STR("/proc/sys/kernel/hostname is uname's nodename",
		  slurp("/proc/sys/kernel/hostname"), osrel);
	strcpy(id1, slurp("/proc/sys/kernel/random/boot_id"));
	strcpy(id2, slurp("/proc/sys/kernel/random/boot_id"));
	CHECK(strlen(id1) == 37 && strcmp(id1, id2) == 0,
	      "boot_id is a UUID and stays the same");
	strcpy(id1, slurp("/proc/sys/kernel/random/uuid"));
	strcpy(id2, slurp("/proc/sys/kernel/random/uuid"));
	CHECK(strlen(id1) == 37 && id1[14] == '4' && strcmp(id1, id2) != 0,
	      "uuid is a new version 4 UUID each time");
	CHECK(field(slurp("/proc/sys/net/core/somaxconn"), "") > 0,
	      "/proc/sys/net/core/somaxconn");
	CHECK(field(slurp("/proc/sys/vm/overcommit_memory"), "") >= 0,
	      "/proc/sys/vm/overcommit_memory");

	char *online = slurp("/sys/devices/system/cpu/online");
	CHECK(online[0] == '0', "/sys/devices/system/cpu/online lists cpu 0");
	CHECK(strstr(slurp("/sys/kernel/mm/transparent_hugepage/enabled"),
		     "never") != NULL,
	      "transparent_hugepage/enabled");

	char *mi = slurp("/proc/self/mountinfo");
	CHECK(strstr(mi, " / / ") && strstr(mi, " /proc ") &&
		  strstr(mi, " - proc "),
	      "/proc/self/mountinfo has / and /proc (df reads it)");
	struct statfs sf;
	CHECK(statfs("/proc", &sf) == 0 && sf.f_type == 0x9fa0,
	      "statfs /proc: PROC_SUPER_MAGIC");
	CHECK(statfs("/sys", &sf) == 0 && sf.f_type == 0x62656572,
	      "statfs /sys: SYSFS_MAGIC");
}

int main(void)
{
	test_sysinfo();
	test_rusage();
	test_proc_self();
	test_proc_system();
	return tap_done("sysinfo");
}
