/*
 * Process-level syscalls for the one program: identity, limits, uname
 * and hostname, getrandom, prctl, and arch_prctl for TLS.  Threads are in
 * thread.c, signals in signal.c, futexes in futex.c.
 */
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

/* Resource limits: reported, and settable within what kiln enforces. */
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
}

static long sys_prlimit64(long pid, unsigned res, const struct klimit *nw,
			  struct klimit *old)
{
	limits_init();
	if (pid != 0 && pid != PID)
		return -ESRCH;
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	struct klimit n;
	if (nw && copy_from_user(&n, nw, sizeof(n)))
		return -EFAULT;
	if (nw && n.cur > n.max)
		return -EINVAL;
	if (old && copy_to_user(old, &limits[res], sizeof(*old)))
		return -EFAULT;
	if (nw)
		limits[res] = n;
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

static long sys_prctl(int option, unsigned long a2)
{
	switch (option) {
	case 15: /* PR_SET_NAME */
	case 16: /* PR_GET_NAME */
		if (option == 16)
			return copy_to_user((void *)a2, "kiln\0", 5) ? -EFAULT
								     : 0;
		return 0;
	case 38: /* PR_SET_NO_NEW_PRIVS */
	case 4:	 /* PR_SET_DUMPABLE */
		return 0;
	case 3: /* PR_GET_DUMPABLE */
		return 1;
	default:
		return -EINVAL;
	}
}
SYSCALL_REGISTER(__NR_prctl, prctl, sys_prctl);
