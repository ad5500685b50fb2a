/*
 * The vDSO: AT_SYSINFO_EHDR names an ELF shared object that exports
 * __vdso_clock_gettime & co. with version LINUX_2.6 (parsed here the way
 * Go's runtime does), /proc/self/maps shows [vdso] and [vvar], the clocks
 * read through libc and through the vDSO directly agree with the syscall
 * and never go backward relative to it (interleaved, and across threads),
 * gettimeofday/time/clock_getres/getcpu agree with theirs, the CPU-time
 * clocks and bad ids still work (the vDSO hands them to the kernel), and,
 * under kiln, 100000 clock reads make no clock_gettime syscall (counted
 * by /proc/kiln/syscalls; on Linux that check is skipped).
 *
 * With the argument "novdso" (tests/e2e/vdso.sh boots with kiln.novdso)
 * it checks the opposite: no AT_SYSINFO_EHDR, no [vdso], and libc's clock
 * reads become syscalls that still work.
 */
#include <elf.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "tap.h"

#define NSEC	     1000000000LL
#define JAN_1_2024   1704067200LL
#define CALLS	     100000
#define THREADS	     4
#define THREAD_CALLS 20000

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static gettime_fn v_gettime, v_getres;
static gettimeofday_fn v_gettimeofday;
static time_fn v_time;
static getcpu_fn v_getcpu;

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NSEC + t->tv_nsec;
}

static int64_t sys_ns(clockid_t clk)
{
	struct timespec t = {0, 0};
	if (syscall(SYS_clock_gettime, clk, &t) != 0)
		return -1;
	return ns_of(&t);
}

static int64_t libc_ns(clockid_t clk)
{
	struct timespec t = {0, 0};
	if (clock_gettime(clk, &t) != 0)
		return -1;
	return ns_of(&t);
}

static int64_t vdso_ns(clockid_t clk)
{
	struct timespec t = {0, 0};
	if (v_gettime(clk, &t) != 0)
		return -1;
	return ns_of(&t);
}

/* ---- finding symbols the way Go's runtime (vdso_linux.go) does ---- */

static unsigned long elf_hash(const char *name)
{
	unsigned long h = 0, g;
	for (; *name; name++) {
		h = (h << 4) + (unsigned char)*name;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* Fills the v_ pointers from the vDSO at base; the number found. */
static int vdso_parse(uintptr_t base)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	uintptr_t load = 0;
	int found_load = 0;

	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !found_load) {
			load = base + ph[i].p_offset - ph[i].p_vaddr;
			found_load = 1;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
		}
	}
	CHECK(found_load && dyn, "vDSO has a PT_LOAD and a PT_DYNAMIC");
	if (!found_load || !dyn)
		return 0;

	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const Elf64_Word *hash = NULL;
	const Elf64_Half *versym = NULL;
	const Elf64_Verdef *verdef = NULL;
	int gnu_hash = 0;
	for (const Elf64_Dyn *d = dyn; d->d_tag != DT_NULL; d++) {
		uintptr_t p = load + d->d_un.d_ptr;
		switch (d->d_tag) {
		case DT_SYMTAB:
			sym = (const Elf64_Sym *)p;
			break;
		case DT_STRTAB:
			str = (const char *)p;
			break;
		case DT_HASH:
			hash = (const Elf64_Word *)p;
			break;
		case DT_GNU_HASH:
			gnu_hash = 1;
			break;
		case DT_VERSYM:
			versym = (const Elf64_Half *)p;
			break;
		case DT_VERDEF:
			verdef = (const Elf64_Verdef *)p;
			break;
		}
	}
	CHECK(sym && str, "vDSO has DT_SYMTAB and DT_STRTAB");
	CHECK(hash && gnu_hash, "vDSO has DT_HASH and DT_GNU_HASH");
	CHECK(versym && verdef, "vDSO has DT_VERSYM and DT_VERDEF");
	if (!sym || !str || !hash || !versym || !verdef)
		return 0;

	/* The index of version LINUX_2.6 in the verdefs. */
	int want_ver = -1;
	for (const Elf64_Verdef *vd = verdef;;
	     vd = (const Elf64_Verdef *)((const char *)vd + vd->vd_next)) {
		const Elf64_Verdaux *aux =
		    (const Elf64_Verdaux *)((const char *)vd + vd->vd_aux);
		if (!(vd->vd_flags & VER_FLG_BASE) &&
		    vd->vd_hash == elf_hash("LINUX_2.6") &&
		    strcmp(str + aux->vda_name, "LINUX_2.6") == 0)
			want_ver = vd->vd_ndx & 0x7fff;
		if (!vd->vd_next)
			break;
	}
	CHECK(want_ver > 0, "vDSO defines version LINUX_2.6");

	static const char *const names[] = {
	    "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
	    "__vdso_clock_getres", "__vdso_getcpu"};
	void *addr[5] = {0};
	int found = 0;
	Elf64_Word nchain = hash[1];
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		for (Elf64_Word i = 1; i < nchain; i++) {
			const Elf64_Sym *s = &sym[i];
			if (ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
			    s->st_shndx == SHN_UNDEF ||
			    strcmp(str + s->st_name, names[n]) != 0 ||
			    (versym[i] & 0x7fff) != want_ver)
				continue;
			addr[n] = (void *)(load + s->st_value);
			found++;
			break;
		}
		if (!addr[n])
			tap_check(0, "vDSO exports %s@LINUX_2.6", names[n]);
	}
	v_gettime = (gettime_fn)addr[0];
	v_gettimeofday = (gettimeofday_fn)addr[1];
	v_time = (time_fn)addr[2];
	v_getres = (gettime_fn)addr[3];
	v_getcpu = (getcpu_fn)addr[4];
	return found;
}

/* ---- /proc ---- */

/* Does /proc/self/maps have a line ending in name?  Its start in *start. */
static int maps_has(const char *name, uintptr_t *start)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		size_t n = strlen(line), k = strlen(name);
		if (n >= k && strcmp(line + n - k, name) == 0) {
			found = 1;
			if (start)
				*start = (uintptr_t)strtoull(line, NULL, 16);
			break;
		}
	}
	fclose(f);
	return found;
}

/* Are we inside kiln?  Its /proc/version says so. */
static int on_kiln(void)
{
	FILE *f = fopen("/proc/version", "r");
	char line[256] = "";
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return strstr(line, "(kiln)") != NULL;
}

/* The number of times the program called syscall name so far, from
 * /proc/kiln/syscalls; -1 without that file. */
static long syscall_count(const char *name)
{
	FILE *f = fopen("/proc/kiln/syscalls", "r");
	char line[128], n[64];
	long count = 0, c;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", n, &c) == 2 && !strcmp(n, name))
			count = c;
	fclose(f);
	return count;
}

/* ---- checks ---- */

static void check_clock(const char *name, clockid_t clk, int coarse)
{
	char what[160];
	int ordered = 1, ordered_v = 1, ok = 1;
	int64_t worst = 0;
	for (int i = 0; i < 1000; i++) {
		int64_t a = sys_ns(clk), b = libc_ns(clk), c = sys_ns(clk);
		int64_t d = vdso_ns(clk), e = sys_ns(clk);
		ok &= a > 0 && b > 0 && c > 0 && d > 0 && e > 0;
		if (!coarse) {
			ordered &= a <= b && b <= c;
			ordered_v &= c <= d && d <= e;
		} else {
			/* Linux's coarse clocks lag the precise ones by up
			 * to a tick; only closeness is asked of them. */
			int64_t lag = llabs(b - a) > llabs(d - c)
					  ? llabs(b - a)
					  : llabs(d - c);
			if (lag > worst)
				worst = lag;
		}
	}
	snprintf(what, sizeof(what), "%s: libc, vDSO and syscall all succeed",
		 name);
	CHECK(ok, what);
	if (!coarse) {
		snprintf(what, sizeof(what),
			 "%s: syscall <= libc <= syscall over 1000 rounds",
			 name);
		CHECK(ordered, what);
		snprintf(what, sizeof(what),
			 "%s: syscall <= vDSO <= syscall over 1000 rounds",
			 name);
		CHECK(ordered_v, what);
	} else {
		snprintf(what, sizeof(what),
			 "%s: within 100 ms of the syscall (worst %lld ns)",
			 name, (long long)worst);
		CHECK(worst < 100000000, what);
	}
}

static int64_t latest; /* highest MONOTONIC any thread has read */

static void *thread_main(void *arg)
{
	long backward = 0;
	(void)arg;
	for (int i = 0; i < THREAD_CALLS; i++) {
		int64_t seen = __atomic_load_n(&latest, __ATOMIC_SEQ_CST);
		int64_t t = (i & 1) ? vdso_ns(CLOCK_MONOTONIC)
				    : libc_ns(CLOCK_MONOTONIC);
		if (t < seen)
			backward++;
		int64_t cur = seen;
		while (t > cur && !__atomic_compare_exchange_n(
				      &latest, &cur, t, 0, __ATOMIC_SEQ_CST,
				      __ATOMIC_SEQ_CST))
			;
		if (i % 1000 == 0)
			sched_yield();
	}
	return (void *)backward;
}

static void check_threads(void)
{
	pthread_t th[THREADS];
	long backward = 0;
	int started = 0;
	for (int i = 0; i < THREADS; i++)
		started += pthread_create(&th[i], NULL, thread_main, NULL) == 0;
	CHECK_EQ("4 threads start", started, THREADS);
	for (int i = 0; i < started; i++) {
		void *r;
		pthread_join(th[i], &r);
		backward += (long)r;
	}
	CHECK_EQ("MONOTONIC never behind another thread's earlier read",
		 backward, 0);
}

static void check_other_calls(void)
{
	struct timeval tv;
	struct timespec r1, r2;

	int64_t a = sys_ns(CLOCK_REALTIME);
	CHECK_EQ("gettimeofday (libc)", gettimeofday(&tv, NULL), 0);
	int64_t c = sys_ns(CLOCK_REALTIME);
	int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	CHECK(us >= a / 1000 && us <= c / 1000,
	      "gettimeofday lies between two REALTIME syscalls");
	a = sys_ns(CLOCK_REALTIME);
	CHECK_EQ("gettimeofday (vDSO)", v_gettimeofday(&tv, NULL), 0);
	c = sys_ns(CLOCK_REALTIME);
	us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	CHECK(us >= a / 1000 && us <= c / 1000 && tv.tv_usec < 1000000,
	      "vDSO gettimeofday lies between two REALTIME syscalls");

	a = sys_ns(CLOCK_REALTIME);
	time_t t1 = time(NULL), t2 = 0, t3 = v_time(&t2);
	c = sys_ns(CLOCK_REALTIME);
	CHECK(t1 >= a / NSEC && t1 <= c / NSEC && t1 > JAN_1_2024,
	      "time (libc) lies between two REALTIME syscalls");
	CHECK(t3 == t2 && t3 >= a / NSEC && t3 <= c / NSEC,
	      "time (vDSO) returns and stores the REALTIME second");

	static const clockid_t res_ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,
					    CLOCK_BOOTTIME,
					    CLOCK_MONOTONIC_RAW};
	int same = 1;
	for (size_t i = 0; i < sizeof(res_ids) / sizeof(res_ids[0]); i++) {
		same &= v_getres(res_ids[i], &r1) == 0 &&
			syscall(SYS_clock_getres, res_ids[i], &r2) == 0 &&
			r1.tv_sec == r2.tv_sec && r1.tv_nsec == r2.tv_nsec &&
			r1.tv_sec == 0 && r1.tv_nsec > 0;
	}
	CHECK(same, "clock_getres (vDSO) equals the syscall's, under 1 s");
	CHECK_EQ("clock_getres (libc) MONOTONIC",
		 clock_getres(CLOCK_MONOTONIC, &r1), 0);
	CHECK_ERR("clock_getres of a bad id is EINVAL",
		  (errno = 0, clock_getres(12345, &r1)), EINVAL);
	CHECK_ERR("clock_gettime of a bad id is EINVAL",
		  (errno = 0, clock_gettime(12345, &r1)), EINVAL);
	CHECK_EQ("vDSO clock_gettime of a bad id returns -EINVAL",
		 v_gettime(12345, &r1), -EINVAL);

	CHECK_EQ("clock_gettime PROCESS_CPUTIME_ID (libc)",
		 clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &r1), 0);
	CHECK(r1.tv_nsec >= 0 && r1.tv_nsec < NSEC && ns_of(&r1) > 0,
	      "PROCESS_CPUTIME_ID is a time");
	CHECK_EQ("clock_gettime THREAD_CPUTIME_ID (vDSO)",
		 v_gettime(CLOCK_THREAD_CPUTIME_ID, &r2), 0);
	CHECK(r2.tv_nsec >= 0 && r2.tv_nsec < NSEC,
	      "THREAD_CPUTIME_ID is a time");

	unsigned cpu = 99999, node = 99999;
	CHECK_EQ("getcpu (vDSO)", v_getcpu(&cpu, &node, NULL), 0);
	CHECK(cpu < 4096 && node < 4096, "getcpu gives a CPU and a node");
	CHECK(sched_getcpu() >= 0, "sched_getcpu (libc) works");
}

/* Under kiln: reads that must not trap, and fallbacks that must. */
static void check_no_traps(void)
{
	struct timespec ts;
	struct timeval tv;
	if (!on_kiln()) {
		tap_check(1, "no-syscall checks skipped: not kiln (no "
			     "/proc/kiln/syscalls)");
		return;
	}
	long before = syscall_count("clock_gettime");
	CHECK(before >= 0, "/proc/kiln/syscalls exists");
	int ok = 1;
	for (int i = 0; i < CALLS; i++)
		ok &= clock_gettime(i & 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC,
				    &ts) == 0;
	long after = syscall_count("clock_gettime");
	CHECK(ok, "100000 libc clock_gettime calls succeed");
	CHECK_EQ("100000 libc clock_gettime calls make no syscall",
		 after - before, 0);

	before = syscall_count("clock_gettime");
	for (int i = 0; i < CALLS; i++)
		v_gettime(CLOCK_BOOTTIME, &ts);
	CHECK_EQ("100000 vDSO clock_gettime calls make no syscall",
		 syscall_count("clock_gettime") - before, 0);

	before = syscall_count("gettimeofday");
	long before_cg = syscall_count("clock_gettime");
	for (int i = 0; i < 1000; i++) {
		gettimeofday(&tv, NULL);
		v_gettimeofday(&tv, NULL);
	}
	CHECK_EQ("gettimeofday (libc and vDSO) makes no syscall",
		 syscall_count("gettimeofday") - before +
		     syscall_count("clock_gettime") - before_cg,
		 0);
	before = syscall_count("time");
	for (int i = 0; i < 1000; i++)
		v_time(NULL);
	CHECK_EQ("time (vDSO) makes no syscall", syscall_count("time") - before,
		 0);

	/* The vDSO hands the CPU-time clocks to the kernel: exactly one
	 * syscall each. */
	before = syscall_count("clock_gettime");
	for (int i = 0; i < 10; i++)
		v_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	CHECK_EQ("vDSO PROCESS_CPUTIME_ID is one syscall per call",
		 syscall_count("clock_gettime") - before, 10);
}

static void check_novdso(void)
{
	struct timespec ts;
	CHECK_EQ("no AT_SYSINFO_EHDR with kiln.novdso",
		 getauxval(AT_SYSINFO_EHDR), 0);
	CHECK(!maps_has("[vdso]", NULL) && !maps_has("[vvar]", NULL),
	      "no [vdso] or [vvar] in /proc/self/maps");
	long before = syscall_count("clock_gettime");
	int ok = 1;
	for (int i = 0; i < 1000; i++)
		ok &= clock_gettime(CLOCK_MONOTONIC, &ts) == 0;
	CHECK(ok, "libc clock_gettime works without a vDSO");
	CHECK_EQ("1000 libc clock_gettime calls are 1000 syscalls",
		 syscall_count("clock_gettime") - before, 1000);
	int64_t a = sys_ns(CLOCK_REALTIME) / NSEC;
	CHECK(a > JAN_1_2024, "REALTIME is after 2024 without a vDSO");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "novdso") == 0) {
		check_novdso();
		return tap_done("vdso");
	}
	uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR), start = 0;
	CHECK(base != 0, "AT_SYSINFO_EHDR is set");
	if (!base)
		return tap_done("vdso");
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
		  eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_type == ET_DYN &&
		  eh->e_machine == EM_X86_64,
	      "AT_SYSINFO_EHDR points at an x86_64 ELF shared object");
	CHECK(maps_has("[vdso]", &start) && start == base,
	      "/proc/self/maps shows [vdso] at AT_SYSINFO_EHDR");
	CHECK(maps_has("[vvar]", NULL), "/proc/self/maps shows [vvar]");
	if (vdso_parse(base) != 5)
		return tap_done("vdso");
	tap_check(1, "vDSO exports the five __vdso_ functions @LINUX_2.6");

	check_clock("REALTIME", CLOCK_REALTIME, 0);
	check_clock("MONOTONIC", CLOCK_MONOTONIC, 0);
	check_clock("BOOTTIME", CLOCK_BOOTTIME, 0);
	check_clock("MONOTONIC_RAW", CLOCK_MONOTONIC_RAW, 0);
	check_clock("REALTIME_COARSE", CLOCK_REALTIME_COARSE, 1);
	check_clock("MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE, 1);
	check_other_calls();
	check_threads();
	check_no_traps();
	return tap_done("vdso");
}
