/*
 * Process-level syscalls for the one program: identity, limits, uname
 * and hostname, getrandom, prctl, and arch_prctl for TLS.  Threads are in
 * thread.c, signals in signal.c, futexes in futex.c.
 */
#include "../fs/vfs.h"

#include "arch.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "wait.h"
#include <asm/prctl.h>
#include <linux/resource.h>
#include <linux/utsname.h>

#define PID 1

static long sys_getpid(void)
{
	return PID;
}
SYSCALL_REGISTER(__NR_getpid, getpid, sys_getpid);

static long sys_getppid(void)
{
	return 0;
}
SYSCALL_REGISTER(__NR_getppid, getppid, sys_getppid);

static long sys_zero(void)
{
	return 0; /* root: uid, gid and friends */
}
SYSCALL_REGISTER(__NR_getuid, getuid, sys_zero);
SYSCALL_REGISTER(__NR_geteuid, geteuid, sys_zero);
SYSCALL_REGISTER(__NR_getgid, getgid, sys_zero);
SYSCALL_REGISTER(__NR_getegid, getegid, sys_zero);

static long sys_getresuid(int *r, int *e, int *s)
{
	int z = 0;
	if (copy_to_user(r, &z, sizeof(z)) || copy_to_user(e, &z, sizeof(z)) ||
	    copy_to_user(s, &z, sizeof(z)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_getresuid, getresuid, sys_getresuid);
SYSCALL_REGISTER(__NR_getresgid, getresgid, sys_getresuid);

static long sys_getgroups(int size, void *list)
{
	return size < 0 ? -EINVAL : 0;
}
SYSCALL_REGISTER(__NR_getgroups, getgroups, sys_getgroups);

static long sys_setid(void)
{
	return 0; /* already root; dropping privileges is a no-op */
}
SYSCALL_REGISTER(__NR_setuid, setuid, sys_setid);
SYSCALL_REGISTER(__NR_setgid, setgid, sys_setid);
SYSCALL_REGISTER(__NR_setgroups, setgroups, sys_setid);

static long sys_getpgid(long pid)
{
	return PID;
}
SYSCALL_REGISTER(__NR_getpgid, getpgid, sys_getpgid);
SYSCALL_REGISTER(__NR_getpgrp, getpgrp, sys_getpgid);
SYSCALL_REGISTER(__NR_getsid, getsid, sys_getpgid);

static long sys_setsid(void)
{
	return PID;
}
SYSCALL_REGISTER(__NR_setsid, setsid, sys_setsid);

static long sys_rseq(void)
{
	return -ENOSYS; /* glibc falls back silently */
}
SYSCALL_REGISTER(__NR_rseq, rseq, sys_rseq);

static long sys_arch_prctl(int code, uint64_t addr)
{
	switch (code) {
	case ARCH_SET_FS:
		if (addr >= USER_TOP)
			return -EPERM;
		current->arch.fs_base = addr;
		arch_set_fs_base(addr);
		return 0;
	case ARCH_GET_FS: {
		uint64_t v = arch_get_fs_base();
		return copy_to_user((void *)addr, &v, sizeof(v)) ? -EFAULT : 0;
	}
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		return -EINVAL; /* the kernel keeps GS */
	default:
		return -EINVAL;
	}
}
SYSCALL_REGISTER(__NR_arch_prctl, arch_prctl, sys_arch_prctl);

static long sys_uname(struct new_utsname *u)
{
	struct new_utsname k;
	memset(&k, 0, sizeof(k));
	strlcpy(k.sysname, "Linux", sizeof(k.sysname));
	strlcpy(k.nodename, proc_hostname(), sizeof(k.nodename));
	strlcpy(k.release, PROC_UNAME_RELEASE, sizeof(k.release));
	strlcpy(k.version, PROC_UNAME_VERSION, sizeof(k.version));
	strlcpy(k.machine, "x86_64", sizeof(k.machine));
	strlcpy(k.domainname, "(none)", sizeof(k.domainname));
	return copy_to_user(u, &k, sizeof(k)) ? -EFAULT : 0;
}
SYSCALL_REGISTER(__NR_uname, uname, sys_uname);

static char hostname[65] = "kiln";

const char *proc_hostname(void)
{
	return hostname;
}

void proc_set_hostname(const char *name, size_t len)
{
	len = MIN(len, sizeof(hostname) - 1);
	memcpy(hostname, name, len);
	hostname[len] = 0;
}

static long sys_sethostname(const char *name, long len)
{
	char k[64];
	if (len < 0 || len > (long)sizeof(k))
		return -EINVAL;
	if (copy_from_user(k, name, (size_t)len))
		return -EFAULT;
	proc_set_hostname(k, (size_t)len);
	return 0;
}
SYSCALL_REGISTER(__NR_sethostname, sethostname, sys_sethostname);

/* Resource limits, per process with Linux's defaults.  RLIMIT_NOFILE is
 * enforced by descriptor allocation (fd.c asks proc_nofile) and its hard
 * limit cannot pass the descriptor table (Linux's nr_open: EPERM); the
 * program is root (CAP_SYS_RESOURCE), so other hard limits may rise.
 * The others are reported and kept. */
static struct klimit {
	uint64_t cur, max;
} limits[RLIM_NLIMITS];

static void limits_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	for (int i = 0; i < RLIM_NLIMITS; i++)
		limits[i].cur = limits[i].max = RLIM_INFINITY;
	limits[RLIMIT_STACK].cur = USER_STACK_SIZE;
	limits[RLIMIT_NOFILE].cur = limits[RLIMIT_NOFILE].max = MAX_FDS;
	limits[RLIMIT_CORE].cur = 0;
	limits[RLIMIT_NPROC].cur = limits[RLIMIT_NPROC].max = 1024;
	limits[RLIMIT_SIGPENDING].cur = limits[RLIMIT_SIGPENDING].max = 1024;
	limits[RLIMIT_MSGQUEUE].cur = limits[RLIMIT_MSGQUEUE].max = 819200;
	limits[RLIMIT_MEMLOCK].cur = limits[RLIMIT_MEMLOCK].max = 8 << 20;
	limits[RLIMIT_NICE].cur = limits[RLIMIT_NICE].max = 0;
	limits[RLIMIT_RTPRIO].cur = limits[RLIMIT_RTPRIO].max = 0;
}

int proc_nofile(void)
{
	limits_init();
	return (int)MIN(limits[RLIMIT_NOFILE].cur, (uint64_t)MAX_FDS);
}

static long sys_prlimit64(long pid, unsigned res, const struct klimit *nw,
			  struct klimit *old)
{
	struct klimit n, o;

	limits_init();
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (nw && copy_from_user(&n, nw, sizeof(n)))
		return -EFAULT;
	if (pid != 0 && pid != PID)
		return -ESRCH;
	if (nw && n.cur > n.max)
		return -EINVAL;
	if (nw && res == RLIMIT_NOFILE && n.max > MAX_FDS)
		return -EPERM;
	o = limits[res];
	if (nw)
		limits[res] = n;
	/* Set even if the old value cannot be written back, as Linux. */
	if (old && copy_to_user(old, &o, sizeof(o)))
		return -EFAULT;
	return 0;
}
SYSCALL_REGISTER(__NR_prlimit64, prlimit64, sys_prlimit64);

static long sys_getrlimit(unsigned res, struct klimit *old)
{
	return sys_prlimit64(0, res, NULL, old);
}
SYSCALL_REGISTER(__NR_getrlimit, getrlimit, sys_getrlimit);

static long sys_setrlimit(unsigned res, const struct klimit *nw)
{
	return sys_prlimit64(0, res, nw, NULL);
}
SYSCALL_REGISTER(__NR_setrlimit, setrlimit, sys_setrlimit);

/* /proc/self/limits, Linux's table. */
static void gen_limits(struct gen_buf *g)
{
	static const char *const names[RLIM_NLIMITS][2] = {
	    {"Max cpu time", "seconds"},     {"Max file size", "bytes"},
	    {"Max data size", "bytes"},	     {"Max stack size", "bytes"},
	    {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
	    {"Max processes", "processes"},  {"Max open files", "files"},
	    {"Max locked memory", "bytes"},  {"Max address space", "bytes"},
	    {"Max file locks", "locks"},     {"Max pending signals", "signals"},
	    {"Max msgqueue size", "bytes"},  {"Max nice priority", NULL},
	    {"Max realtime priority", NULL}, {"Max realtime timeout", "us"},
	};

	limits_init();
	gen_printf(g, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit",
		   "Hard Limit", "Units");
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		char cur[24], max[24];
		snprintf(cur, sizeof(cur), "%lu", limits[i].cur);
		snprintf(max, sizeof(max), "%lu", limits[i].max);
		gen_printf(g, "%-25s %-20s %-20s ", names[i][0],
			   limits[i].cur == RLIM_INFINITY ? "unlimited" : cur,
			   limits[i].max == RLIM_INFINITY ? "unlimited" : max);
		if (names[i][1])
			gen_printf(g, "%-10s", names[i][1]);
		gen_append(g, "\n", 1);
	}
}

/* ---- arguments, environment, name ---- */

static uint64_t args_start, args_end, envs_start, envs_end;

void proc_set_args(uint64_t arg_start, uint64_t arg_end, uint64_t env_start,
		   uint64_t env_end)
{
	args_start = arg_start;
	args_end = arg_end;
	envs_start = env_start;
	envs_end = env_end;
}

/* Appends user memory [start, end) to g; with to_nul, stops after the
 * first NUL.  Returns whether a NUL was seen.  Read from the program's
 * memory as Linux does, so what the program wrote there shows. */
static bool gen_user(struct gen_buf *g, uint64_t start, uint64_t end,
		     bool to_nul)
{
	char chunk[256];

	while (start < end) {
		size_t n = MIN(end - start, sizeof(chunk));
		if (copy_from_user(chunk, (const void *)start, n))
			return true; /* unmapped: nothing more to show */
		if (to_nul) {
			size_t z = strnlen(chunk, n);
			if (z < n) {
				gen_append(g, chunk, z + 1);
				return true;
			}
		}
		gen_append(g, chunk, n);
		start += n;
	}
	return false;
}

static void gen_cmdline(struct gen_buf *g)
{
	char last = 0;

	if (args_end <= args_start)
		return;
	gen_user(g, args_start, args_end, false);
	if (g->len)
		last = g->data[g->len - 1];
	/* A program that wrote over its arguments (setproctitle) may run
	 * into the environment: Linux shows up to the first NUL there. */
	if (last && envs_end > envs_start)
		gen_user(g, envs_start, envs_end, true);
}

static void gen_environ(struct gen_buf *g)
{
	if (envs_end > envs_start)
		gen_user(g, envs_start, envs_end, false);
}

void proc_comm(const struct task *t, char out[16])
{
	if (t && t->comm[0]) {
		memcpy(out, t->comm, 16);
		out[15] = 0;
		return;
	}
	const char *exe = proc_exe_path(), *slash = strrchr(exe, '/');
	strlcpy(out, slash ? slash + 1 : exe, 16);
}

static void gen_comm(struct gen_buf *g)
{
	char comm[16];

	/* The process's name is its main thread's. */
	proc_comm(sched_find(1), comm);
	gen_printf(g, "%s\n", comm);
}

int proc_self_files(void)
{
	static const struct {
		const char *path;
		void (*gen)(struct gen_buf *g);
	} files[] = {
	    {"/proc/self/cmdline", gen_cmdline},
	    {"/proc/self/environ", gen_environ},
	    {"/proc/self/comm", gen_comm},
	    {"/proc/self/limits", gen_limits},
	};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int r = procfs_add_file(files[i].path, files[i].gen);
		if (r)
			return r;
	}
	return 0;
}

static long sys_getrandom(void *buf, size_t len, unsigned flags)
{
	char chunk[256];
	size_t done = 0;
	if (flags & ~7u) /* GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE */
		return -EINVAL;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	while (done < len) {
		size_t c = MIN(len - done, sizeof(chunk));
		random_bytes(chunk, c);
		if (copy_to_user((char *)buf + done, chunk, c))
			return done ? (long)done : -EFAULT;
		done += c;
	}
	return (long)done;
}
SYSCALL_REGISTER(__NR_getrandom, getrandom, sys_getrandom);

static bool no_new_privs;

static long sys_prctl(int option, unsigned long a2)
{
	struct task *t = current;
	char name[16];

	switch (option) {
	case 15: /* PR_SET_NAME: up to 15 bytes, the rest cut */
		if (strncpy_from_user(name, (const char *)a2, sizeof(name)) ==
		    -EFAULT)
			return -EFAULT;
		name[15] = 0; /* a longer name is cut, as on Linux */
		memcpy(t->comm, name, sizeof(name));
		if (!t->comm[0]) /* "" is a name, not "unset" */
			t->comm[1] = 1;
		return 0;
	case 16: /* PR_GET_NAME */
		proc_comm(t, name);
		return copy_to_user((void *)a2, name, sizeof(name)) ? -EFAULT
								    : 0;
	case 23: /* PR_CAPBSET_READ: root keeps every capability */
		return a2 <= 40 /* CAP_LAST_CAP */ ? 1 : -EINVAL;
	case 38: /* PR_SET_NO_NEW_PRIVS: kept, nothing to exec anyway */
		if (a2 != 1)
			return -EINVAL;
		no_new_privs = true;
		return 0;
	case 39: /* PR_GET_NO_NEW_PRIVS */
		return no_new_privs;
	case 4:	 /* PR_SET_DUMPABLE */
	case 1:	 /* PR_SET_PDEATHSIG: the parent is the VM, never dies first */
	case 36: /* PR_SET_CHILD_SUBREAPER: no children */
		return 0;
	case 21: /* PR_GET_SECCOMP: no filter */
		return 0;
	case 3: /* PR_GET_DUMPABLE */
		return 1;
	default:
		return -EINVAL;
	}
}
SYSCALL_REGISTER(__NR_prctl, prctl, sys_prctl);
