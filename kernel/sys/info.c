/*
 * What a program can learn about the machine and about itself: sysinfo,
 * getrusage and times, and the generated files of /proc and /sys that
 * Debian's programs read (cpuinfo, meminfo, stat, uptime, loadavg,
 * version, self/maps, self/status, self/stat, self/statm, the sysctls in
 * /proc/sys, /sys/devices/system/cpu/online, ...).  Every answer comes
 * from the running kernel: CPUID, the page allocator, the address space,
 * the clocks.
 *
 * There is one process (pid 1) on one CPU.  The CPU belongs to the
 * program, so its CPU time is counted as the time since boot, user time
 * only, as the CPU-time clocks do (kernel/sys/time.c).
 */
#include "boot.h"
#include "fs.h"
#include "mm.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "uvm.h"
#include "x86.h"

#include <linux/resource.h>
#include <linux/sysinfo.h>
#include <linux/times.h>

#define NSEC	1000000000ULL
#define USER_HZ 100 /* clock ticks of times(2) and /proc (AT_CLKTCK) */

/* RAM as the program sees it: all of it, the rootfs archive (kept in
 * memory, like a tmpfs) included. */
static uint64_t info_ram_total(void)
{
	return phys_total_bytes() + ALIGN_UP(boot_info.initrd_size, PAGE_SIZE);
}

static uint64_t info_uptime_ns(void)
{
	return clock_monotonic_ns();
}

/* ---- syscalls ---- */

static long sys_sysinfo(struct sysinfo *u)
{
	struct sysinfo k;

	memset(&k, 0, sizeof(k));
	k.uptime = (long)(info_uptime_ns() / NSEC);
	k.totalram = info_ram_total();
	k.freeram = phys_free_bytes();
	k.sharedram = boot_info.initrd_size;
	k.procs = (unsigned short)sched_nr_threads();
	k.mem_unit = 1;
	return copy_to_user(u, &k, sizeof(k)) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_sysinfo, sysinfo, sys_sysinfo);

static void ns_to_timeval(uint64_t ns, struct __kernel_old_timeval *tv)
{
	tv->tv_sec = (long)(ns / NSEC);
	tv->tv_usec = (long)(ns % NSEC / 1000);
}

static long sys_getrusage(long who_arg, struct rusage *u)
{
	struct rusage k;
	struct uvm_stats st;
	int who = (int)who_arg; /* an int: the upper half is not defined */

	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN &&
	    who != RUSAGE_THREAD)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	if (who != RUSAGE_CHILDREN) { /* there are never children */
		uvm_stats(&st);
		ns_to_timeval(info_uptime_ns(), &k.ru_utime);
		k.ru_maxrss = (long)(st.peak / 1024);
		k.ru_minflt = (long)st.minor_faults;
	}
	return copy_to_user(u, &k, sizeof(k)) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_getrusage, getrusage, sys_getrusage);

static long sys_times(struct tms *u)
{
	uint64_t ticks = info_uptime_ns() / (NSEC / USER_HZ);
	struct tms k = {(long)ticks, 0, 0, 0};

	if (u && copy_to_user(u, &k, sizeof(k)))
		return -EFAULT;
	/* Linux counts from 2^32 - 300 s of jiffies; any origin will do,
	 * but the result must not look like an error (-4095..-1). */
	return (long)ticks;
}
SYSCALL_REGISTER(__NR_times, times, sys_times);

/* ---- /proc/cpuinfo ---- */

/* CPUID feature bits and the names Linux gives them.  Features the
 * kernel leaves off (CR4.OSXSAVE is clear: no XSAVE, so no AVX) are not
 * listed, as Linux hides what it does not enable. */
struct cpu_flag {
	uint8_t reg; /* 0: 1.EDX 1: 1.ECX 2: 7.EBX 3: 7.ECX 4: 7.EDX
			5: 0x80000001.EDX 6: 0x80000001.ECX */
	uint8_t bit;
	const char *name;
};

static const struct cpu_flag cpu_flags[] = {
    {0, 0, "fpu"},	   {0, 1, "vme"},	  {0, 2, "de"},
    {0, 3, "pse"},	   {0, 4, "tsc"},	  {0, 5, "msr"},
    {0, 6, "pae"},	   {0, 7, "mce"},	  {0, 8, "cx8"},
    {0, 9, "apic"},	   {0, 11, "sep"},	  {0, 12, "mtrr"},
    {0, 13, "pge"},	   {0, 14, "mca"},	  {0, 15, "cmov"},
    {0, 16, "pat"},	   {0, 17, "pse36"},	  {0, 19, "clflush"},
    {0, 23, "mmx"},	   {0, 24, "fxsr"},	  {0, 25, "sse"},
    {0, 26, "sse2"},	   {0, 28, "ht"},	  {5, 11, "syscall"},
    {5, 20, "nx"},	   {5, 22, "mmxext"},	  {5, 26, "pdpe1gb"},
    {5, 27, "rdtscp"},	   {5, 29, "lm"},	  {1, 0, "pni"},
    {1, 1, "pclmulqdq"},   {1, 9, "ssse3"},	  {1, 13, "cx16"},
    {1, 19, "sse4_1"},	   {1, 20, "sse4_2"},	  {1, 21, "x2apic"},
    {1, 22, "movbe"},	   {1, 23, "popcnt"},	  {1, 25, "aes"},
    {1, 30, "rdrand"},	   {1, 31, "hypervisor"}, {6, 0, "lahf_lm"},
    {6, 5, "abm"},	   {6, 6, "sse4a"},	  {6, 8, "3dnowprefetch"},
    {2, 0, "fsgsbase"},	   {2, 3, "bmi1"},	  {2, 7, "smep"},
    {2, 8, "bmi2"},	   {2, 9, "erms"},	  {2, 10, "invpcid"},
    {2, 18, "rdseed"},	   {2, 19, "adx"},	  {2, 20, "smap"},
    {2, 23, "clflushopt"}, {2, 24, "clwb"},	  {2, 29, "sha_ni"},
    {3, 22, "rdpid"},	   {4, 4, "fsrm"},
};

/* TSC and monotonic time when the files were registered (boot), for
 * the frequency in "cpu MHz". */
static uint64_t info_tsc0, info_ns0;

static uint64_t info_tsc_khz(void)
{
	uint64_t ns = clock_monotonic_ns() - info_ns0;
	uint64_t tsc = rdtsc() - info_tsc0;

	if (ns < 1000000) /* too early to tell: wait 1 ms */
		while ((ns = clock_monotonic_ns() - info_ns0) < 1000000)
			tsc = rdtsc() - info_tsc0;
	/* No 128-bit division in the kernel: microseconds while tsc * 1000
	 * cannot overflow, milliseconds after a second. */
	if (ns < NSEC)
		return tsc * 1000 / (ns / 1000);
	return tsc / (ns / 1000000);
}

static void gen_cpuinfo(struct gen_buf *g)
{
	uint32_t r[4], regs[7] = {0}, max, xmax, family, model, stepping;
	char vendor[13], brand[49];
	uint64_t khz = info_tsc_khz();

	cpuid(0, 0, r);
	max = r[0];
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = '\0';
	cpuid(1, 0, r);
	family = (r[0] >> 8) & 0xf;
	model = (r[0] >> 4) & 0xf;
	stepping = r[0] & 0xf;
	if (family == 0xf)
		family += (r[0] >> 20) & 0xff;
	if (family >= 6)
		model |= ((r[0] >> 16) & 0xf) << 4;
	regs[0] = r[3];
	regs[1] = r[2];
	uint32_t clflush = ((r[1] >> 8) & 0xff) * 8;
	if (max >= 7) {
		cpuid(7, 0, r);
		regs[2] = r[1];
		regs[3] = r[2];
		regs[4] = r[3];
	}
	cpuid(0x80000000, 0, r);
	xmax = r[0];
	if (xmax >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		regs[5] = r[3];
		regs[6] = r[2];
	}
	strlcpy(brand, "unknown", sizeof(brand));
	if (xmax >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002 + i, 0, r);
			memcpy(brand + 16 * i, r, 16);
		}
		brand[48] = '\0';
	}
	const char *b = brand;
	while (*b == ' ')
		b++;
	uint32_t cache_kb = 0, phys_bits = 40, virt_bits = 48;
	if (xmax >= 0x80000006) {
		cpuid(0x80000006, 0, r);
		cache_kb = r[2] >> 16;
	}
	if (xmax >= 0x80000008) {
		cpuid(0x80000008, 0, r);
		phys_bits = r[0] & 0xff;
		virt_bits = (r[0] >> 8) & 0xff;
	}

	gen_printf(g,
		   "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\n"
		   "model\t\t: %u\nmodel name\t: %s\nstepping\t: %u\n"
		   "cpu MHz\t\t: %lu.%03lu\ncache size\t: %u KB\n"
		   "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\n"
		   "cpu cores\t: 1\napicid\t\t: 0\ninitial apicid\t: 0\n"
		   "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\n"
		   "wp\t\t: yes\nflags\t\t:",
		   vendor, family, model, b, stepping, khz / 1000, khz % 1000,
		   cache_kb, max);
	for (size_t i = 0; i < ARRAY_SIZE(cpu_flags); i++)
		if (regs[cpu_flags[i].reg] & (1u << cpu_flags[i].bit))
			gen_printf(g, " %s", cpu_flags[i].name);
	gen_printf(g,
		   "\nbogomips\t: %lu.%02lu\nclflush size\t: %u\n"
		   "cache_alignment\t: %u\n"
		   "address sizes\t: %u bits physical, %u bits virtual\n"
		   "power management:\n\n",
		   khz * 2 / 1000, khz * 2 % 1000 / 10, clflush, clflush,
		   phys_bits, virt_bits);
}

/* ---- memory and the system ---- */

static void gen_meminfo(struct gen_buf *g)
{
	uint64_t total = info_ram_total() >> 10;
	uint64_t free = phys_free_bytes() >> 10;
	uint64_t rootfs = ALIGN_UP(boot_info.initrd_size, PAGE_SIZE) >> 10;
	struct uvm_stats st;

	uvm_stats(&st);
	gen_printf(g,
		   "MemTotal:       %8lu kB\nMemFree:        %8lu kB\n"
		   "MemAvailable:   %8lu kB\nBuffers:        %8lu kB\n"
		   "Cached:         %8lu kB\nSwapCached:     %8lu kB\n",
		   total, free, free, 0UL, rootfs, 0UL);
	gen_printf(g,
		   "AnonPages:      %8lu kB\nShmem:          %8lu kB\n"
		   "SwapTotal:      %8lu kB\nSwapFree:       %8lu kB\n"
		   "CommitLimit:    %8lu kB\nCommitted_AS:   %8lu kB\n"
		   "VmallocTotal:   %8lu kB\nHugePages_Total: %7lu\n"
		   "HugePages_Free: %8lu\nHugepagesize:   %8lu kB\n",
		   st.resident >> 10, rootfs, 0UL, 0UL, total, st.mapped >> 10,
		   0UL, 0UL, 0UL, HUGE_PAGE_SIZE >> 10);
}

static void gen_uptime(struct gen_buf *g)
{
	uint64_t cs = info_uptime_ns() / (NSEC / 100);

	gen_printf(g, "%lu.%02lu 0.00\n", cs / 100, cs % 100);
}

static void gen_loadavg(struct gen_buf *g)
{
	int n = sched_nr_threads();

	gen_printf(g, "0.00 0.00 0.00 1/%d %d\n", n, n);
}

static void gen_stat(struct gen_buf *g)
{
	uint64_t ticks = info_uptime_ns() / (NSEC / USER_HZ);
	uint64_t btime = (clock_realtime_ns() - clock_monotonic_ns()) / NSEC;

	for (int i = 0; i < 2; i++)
		gen_printf(g, "cpu%s %lu 0 0 0 0 0 0 0 0 0\n", i ? "0" : " ",
			   ticks);
	gen_printf(g,
		   "intr 0\nctxt 0\nbtime %lu\nprocesses 1\n"
		   "procs_running 1\nprocs_blocked 0\n"
		   "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
		   btime);
}

static void gen_version(struct gen_buf *g)
{
	gen_printf(g, "Linux version " PROC_UNAME_RELEASE
		      " (kiln) " PROC_UNAME_VERSION "\n");
}

/* ---- /proc/self ---- */

/* Linux's width of the part of a maps line before the name. */
#define MAPS_NAME_COLUMN 73

static void gen_maps(struct gen_buf *g)
{
	/* One CPU, and the kernel is not preempted: a static buffer. */
	static char name[MAX_PATH + 16];

	for (const struct vma *v = uvm_next(0); v; v = uvm_next(v->end)) {
		struct vfs_file_id id = {0, 0, 0};
		uint64_t off = 0;
		char head[128];
		int n;

		name[0] = '\0';
		if (v->file) {
			vfs_file_describe(v->file, name, sizeof(name), &id);
			off = v->file_off;
		} else if (v->flags & UVM_HEAP) {
			strlcpy(name, "[heap]", MAX_PATH);
		} else if (v->flags & UVM_STACK) {
			strlcpy(name, "[stack]", MAX_PATH);
		} else if (v->flags & UVM_VDSO) {
			strlcpy(name, "[vdso]", MAX_PATH);
		} else if (v->flags & UVM_VVAR) {
			strlcpy(name, "[vvar]", MAX_PATH);
		}
		n = snprintf(head, sizeof(head),
			     "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
			     v->start, v->end, v->prot & UVM_READ ? 'r' : '-',
			     v->prot & UVM_WRITE ? 'w' : '-',
			     v->prot & UVM_EXEC ? 'x' : '-',
			     v->flags & UVM_SHARED ? 's' : 'p', off,
			     id.dev_major, id.dev_minor, id.ino);
		gen_append(g, head, (size_t)n);
		if (name[0]) {
			for (; n < MAPS_NAME_COLUMN; n++)
				gen_append(g, " ", 1);
			gen_append(g, name, strlen(name));
		}
		gen_append(g, "\n", 1);
	}
}

/* The name Linux keeps for the process (comm): its main thread's. */
static void info_comm(char out[16])
{
	proc_comm(sched_find(1), out);
}

static void gen_status(struct gen_buf *g)
{
	struct uvm_stats st;
	char comm[16];
	int threads = sched_nr_threads();
	unsigned int mask = vfs_get_umask();

	uvm_stats(&st);
	info_comm(comm);
	/* (the kernel's printf has no %o) */
	gen_printf(g,
		   "Name:\t%s\nUmask:\t0%u%u%u\nState:\tR (running)\n"
		   "Tgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n"
		   "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\n"
		   "Groups:\t\n",
		   comm, (mask >> 6) & 7, (mask >> 3) & 7, mask & 7, MAX_FDS);
	gen_printf(g,
		   "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t%8lu kB\n"
		   "VmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\nVmData:\t%8lu kB\n"
		   "VmStk:\t%8lu kB\nVmSwap:\t%8lu kB\nThreads:\t%d\n",
		   st.mapped >> 10, st.mapped >> 10, 0UL, st.peak >> 10,
		   st.resident >> 10, (st.brk_end - st.brk_start) >> 10,
		   USER_STACK_SIZE >> 10, 0UL, threads);
	gen_printf(g, "Cpus_allowed:\t1\nCpus_allowed_list:\t0\n"
		      "Mems_allowed_list:\t0\n"
		      "voluntary_ctxt_switches:\t0\n"
		      "nonvoluntary_ctxt_switches:\t0\n");
}

/* proc(5)'s 52 fields; what kiln does not have is 0. */
static void gen_self_stat(struct gen_buf *g)
{
	struct uvm_stats st;
	char comm[16];
	uint64_t ticks = info_uptime_ns() / (NSEC / USER_HZ);

	uvm_stats(&st);
	info_comm(comm);
	gen_printf(g,
		   "1 (%s) R 0 1 1 0 -1 4194560 %lu 0 0 0 %lu 0 0 0 20 0 %d "
		   "0 0 %lu %lu 18446744073709551615 ",
		   comm, st.minor_faults, ticks, sched_nr_threads(), st.mapped,
		   st.resident / PAGE_SIZE);
	/* startcode endcode startstack kstkesp kstkeip signal blocked
	 * sigignore sigcatch wchan nswap cnswap exit_signal (17), then
	 * processor .. end_data, start_brk, the argument and environment
	 * ranges and exit_code */
	gen_printf(g,
		   "0 0 %lu 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 %lu 0 0 0 0 "
		   "0\n",
		   USER_STACK_TOP, st.brk_start);
}

static void gen_statm(struct gen_buf *g)
{
	struct uvm_stats st;

	uvm_stats(&st);
	gen_printf(g, "%lu %lu 0 0 0 %lu 0\n", st.mapped / PAGE_SIZE,
		   st.resident / PAGE_SIZE,
		   (st.brk_end - st.brk_start) / PAGE_SIZE);
}

/* ---- small files ---- */

static void gen_zero(struct gen_buf *g)
{
	gen_printf(g, "0\n");
}
static void gen_ostype(struct gen_buf *g)
{
	gen_printf(g, "Linux\n");
}
static void gen_osrelease(struct gen_buf *g)
{
	gen_printf(g, PROC_UNAME_RELEASE "\n");
}
static void gen_kversion(struct gen_buf *g)
{
	gen_printf(g, PROC_UNAME_VERSION "\n");
}
static void gen_hostname(struct gen_buf *g)
{
	gen_printf(g, "%s\n", proc_hostname());
}
static void gen_domainname(struct gen_buf *g)
{
	gen_printf(g, "(none)\n");
}
static void gen_pid_max(struct gen_buf *g)
{
	gen_printf(g, "4194304\n");
}
static void gen_ngroups_max(struct gen_buf *g)
{
	gen_printf(g, "65536\n");
}
static void gen_max_map_count(struct gen_buf *g)
{
	gen_printf(g, "%d\n", MAX_VMAS);
}
static void gen_nr_open(struct gen_buf *g)
{
	gen_printf(g, "%d\n", MAX_FDS);
}
/* lwIP's listen backlog is 8 bits: listen(2) clips to this. */
static void gen_somaxconn(struct gen_buf *g)
{
	gen_printf(g, "255\n");
}
static void gen_thp(struct gen_buf *g)
{
	gen_printf(g, "always madvise [never]\n");
}

/* A random UUID (version 4) in Linux's text form. */
static void uuid_text(char out[37])
{
	uint8_t b[16];
	static const char hex[] = "0123456789abcdef";
	int o = 0;

	random_bytes(b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

static char boot_id[37];
static void gen_boot_id(struct gen_buf *g)
{
	gen_printf(g, "%s\n", boot_id);
}
static void gen_uuid(struct gen_buf *g)
{
	char u[37];

	uuid_text(u);
	gen_printf(g, "%s\n", u);
}

static void gen_cpu_list(struct gen_buf *g)
{
	gen_printf(g, "0\n");
}

static const struct {
	const char *path;
	void (*gen)(struct gen_buf *g);
} info_files[] = {
    {"/proc/cpuinfo", gen_cpuinfo},
    {"/proc/meminfo", gen_meminfo},
    {"/proc/stat", gen_stat},
    {"/proc/uptime", gen_uptime},
    {"/proc/loadavg", gen_loadavg},
    {"/proc/version", gen_version},
    {"/proc/self/maps", gen_maps},
    {"/proc/self/status", gen_status},
    {"/proc/self/stat", gen_self_stat},
    {"/proc/self/statm", gen_statm},
    {"/proc/sys/kernel/ostype", gen_ostype},
    {"/proc/sys/kernel/osrelease", gen_osrelease},
    {"/proc/sys/kernel/version", gen_kversion},
    {"/proc/sys/kernel/hostname", gen_hostname},
    {"/proc/sys/kernel/domainname", gen_domainname},
    {"/proc/sys/kernel/pid_max", gen_pid_max},
    {"/proc/sys/kernel/ngroups_max", gen_ngroups_max},
    {"/proc/sys/kernel/random/boot_id", gen_boot_id},
    {"/proc/sys/kernel/random/uuid", gen_uuid},
    {"/proc/sys/vm/overcommit_memory", gen_zero},
    {"/proc/sys/vm/max_map_count", gen_max_map_count},
    {"/proc/sys/fs/nr_open", gen_nr_open},
    {"/proc/sys/net/core/somaxconn", gen_somaxconn},
    {"/sys/devices/system/cpu/online", gen_cpu_list},
    {"/sys/devices/system/cpu/possible", gen_cpu_list},
    {"/sys/devices/system/cpu/present", gen_cpu_list},
    {"/sys/devices/system/cpu/cpu0/topology/core_id", gen_zero},
    {"/sys/devices/system/cpu/cpu0/topology/physical_package_id", gen_zero},
    {"/sys/kernel/mm/transparent_hugepage/enabled", gen_thp},
    {"/proc/kiln/syscalls", syscall_gen_counts},
};

int procfs_system_files(void)
{
	info_tsc0 = rdtsc();
	info_ns0 = clock_monotonic_ns();
	uuid_text(boot_id);
	for (size_t i = 0; i < ARRAY_SIZE(info_files); i++) {
		int r = procfs_add_file(info_files[i].path, info_files[i].gen);
		if (r)
			return r;
	}
	return proc_self_files();
}
