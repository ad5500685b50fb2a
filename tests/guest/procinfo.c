/*
 * Process information and the calls libc start-up makes: getpid/gettid/
 * getppid, the uid/gid family, uname, prlimit64, getrandom, arch_prctl FS
 * round trip, set_tid_address, set_robust_list, rt_sigaction and
 * rt_sigprocmask (recorded, old values returned), ioctl TCGETS/TIOCGWINSZ
 * on the console (ENOTTY), sched_yield.
 *
 * Run it with stdout redirected (as the runner does): on a terminal the
 * TCGETS check rightly fails.
 */
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>

#include "tap.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static long raw2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

static void test_ids(void)
{
	pid_t pid = getpid();

	CHECK(pid > 0, "getpid is positive");
	CHECK_EQ("getpid is stable", getpid(), pid);
	CHECK_EQ("gettid of the main thread is getpid", syscall(SYS_gettid),
		 pid);
	CHECK(getppid() >= 0, "getppid does not fail");
	CHECK_EQ("geteuid equals getuid", geteuid(), getuid());
	CHECK_EQ("getegid equals getgid", getegid(), getgid());
	CHECK(syscall(SYS_getuid) >= 0 && syscall(SYS_getgid) >= 0,
	      "raw getuid/getgid do not fail");
	long tid = syscall(SYS_set_tid_address, &(int){0});
	CHECK_EQ("set_tid_address returns the tid", tid, pid);
	CHECK_EQ("sched_yield", sched_yield(), 0);
}

static void test_uname(void)
{
	struct utsname u;

	memset(&u, 0, sizeof(u));
	CHECK_EQ("uname", uname(&u), 0);
	CHECK_STR("uname sysname", u.sysname, "Linux");
	CHECK_STR("uname machine", u.machine, "x86_64");
	CHECK(u.release[0] >= '1' && u.release[0] <= '9',
	      "uname release starts with a version number");
	CHECK(u.nodename[0] != '\0', "uname nodename is set");
}

static void test_limits(void)
{
	struct rlimit r;

	memset(&r, 0, sizeof(r));
	CHECK_EQ("prlimit64 RLIMIT_STACK",
		 syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &r), 0);
	CHECK(r.rlim_cur > 0 && (r.rlim_cur <= r.rlim_max),
	      "RLIMIT_STACK soft limit is positive and <= hard");
	memset(&r, 0, sizeof(r));
	CHECK_EQ("prlimit64 RLIMIT_NOFILE",
		 syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r), 0);
	CHECK(r.rlim_cur >= 3 && r.rlim_cur <= r.rlim_max,
	      "RLIMIT_NOFILE soft limit is >= 3 and <= hard");
	memset(&r, 0, sizeof(r));
	CHECK_EQ("getrlimit RLIMIT_STACK (libc)", getrlimit(RLIMIT_STACK, &r),
		 0);
	CHECK_ERR("prlimit64 of an unknown resource is EINVAL",
		  syscall(SYS_prlimit64, 0, 999, NULL, &r), EINVAL);
}

static void test_random(void)
{
	unsigned char a[64], b[64];
	int nonzero = 0;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_EQ("getrandom 64 bytes", syscall(SYS_getrandom, a, 64, 0), 64);
	for (int i = 0; i < 64; i++)
		nonzero |= a[i];
	CHECK(nonzero, "getrandom bytes are not all zero");
	CHECK_EQ("getrandom GRND_NONBLOCK 64 bytes",
		 syscall(SYS_getrandom, b, 64, 1), 64);
	CHECK(memcmp(a, b, 64) != 0, "two getrandom calls differ");
	CHECK_EQ("getrandom of 0 bytes", syscall(SYS_getrandom, a, 0, 0), 0);
	static unsigned char big[4096];
	CHECK_EQ("getrandom 4096 bytes",
		 syscall(SYS_getrandom, big, sizeof(big), 0), 4096);
	CHECK_ERR("getrandom with unknown flags is EINVAL",
		  syscall(SYS_getrandom, a, 8, 0x100), EINVAL);
}

static void test_arch_prctl(void)
{
	static char fake_tls[64];
	unsigned long old = 0, seen = 0, back = 0;
	long r_get, r_set, r_get2, r_restore;

	/* Between setting FS elsewhere and restoring it nothing may touch
	 * thread-local storage (errno, the stack protector's canary), so
	 * this is raw syscall instructions only. */
	r_get = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&old);
	r_set = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fake_tls);
	r_get2 = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&seen);
	r_restore = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)old);
	raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&back);

	CHECK_EQ("arch_prctl ARCH_GET_FS", r_get, 0);
	CHECK(old != 0, "FS base is set (TLS)");
	CHECK_EQ("arch_prctl ARCH_SET_FS", r_set, 0);
	CHECK_EQ("arch_prctl ARCH_GET_FS after set", r_get2, 0);
	CHECK(seen == (unsigned long)fake_tls,
	      "ARCH_GET_FS returns what ARCH_SET_FS set");
	CHECK(r_restore == 0 && back == old, "FS base restored");
	CHECK_ERR("arch_prctl with an unknown code is EINVAL",
		  syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void test_signals(void)
{
	struct sigaction sa, old, cur;
	sigset_t set, oldset;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	memset(&old, 0, sizeof(old));
	CHECK_EQ("rt_sigaction SIGUSR1", sigaction(SIGUSR1, &sa, &old), 0);
	CHECK(old.sa_handler == SIG_DFL, "old SIGUSR1 action was SIG_DFL");
	memset(&cur, 0, sizeof(cur));
	CHECK_EQ("rt_sigaction query", sigaction(SIGUSR1, NULL, &cur), 0);
	CHECK(cur.sa_handler == on_usr1, "recorded handler is returned");
	CHECK(cur.sa_flags & SA_RESTART, "recorded SA_RESTART is returned");
	CHECK(sigismember(&cur.sa_mask, SIGUSR2) == 1,
	      "recorded sa_mask is returned");
	sa.sa_handler = SIG_IGN;
	CHECK_EQ("rt_sigaction SIGUSR1 to SIG_IGN",
		 sigaction(SIGUSR1, &sa, &old), 0);
	CHECK(old.sa_handler == on_usr1, "old action returned on replace");
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &sa, NULL);
	CHECK_ERR("rt_sigaction on SIGKILL is EINVAL",
		  sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERR("rt_sigaction on signal 0 is EINVAL",
		  syscall(SYS_rt_sigaction, 0, NULL, &old, 8), EINVAL);
	CHECK_ERR("rt_sigaction with sigsetsize 4 is EINVAL",
		  syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK_EQ("rt_sigprocmask SIG_BLOCK",
		 sigprocmask(SIG_BLOCK, &set, &oldset), 0);
	CHECK(sigismember(&oldset, SIGUSR1) == 0,
	      "SIGUSR1 was not blocked before");
	CHECK_EQ("rt_sigprocmask query", sigprocmask(SIG_BLOCK, NULL, &oldset),
		 0);
	CHECK(sigismember(&oldset, SIGUSR1) == 1, "SIGUSR1 is now blocked");
	CHECK_EQ("rt_sigprocmask SIG_UNBLOCK",
		 sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
	sigprocmask(SIG_BLOCK, NULL, &oldset);
	CHECK(sigismember(&oldset, SIGUSR1) == 0, "SIGUSR1 is unblocked");
	uint64_t raw_set = 0;
	CHECK_ERR("rt_sigprocmask with a bad how is EINVAL",
		  syscall(SYS_rt_sigprocmask, 99, &raw_set, NULL, 8), EINVAL);
	CHECK_ERR("rt_sigprocmask with sigsetsize 4 is EINVAL",
		  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &raw_set, NULL, 4),
		  EINVAL);
}

static void test_ioctl(void)
{
	struct termios t;
	struct winsize w;

	CHECK_ERR("ioctl TCGETS on stdout is ENOTTY",
		  syscall(SYS_ioctl, 1, TCGETS, &t), ENOTTY);
	CHECK_ERR("ioctl TIOCGWINSZ on stdout is ENOTTY",
		  syscall(SYS_ioctl, 1, TIOCGWINSZ, &w), ENOTTY);
	int fd = open("/proc/self/exe", O_RDONLY);
	CHECK_OK("open /proc/self/exe", fd);
	if (fd >= 0) {
		CHECK_ERR("ioctl TCGETS on a regular file is ENOTTY",
			  syscall(SYS_ioctl, fd, TCGETS, &t), ENOTTY);
		close(fd);
	}
	CHECK_ERR("ioctl on a bad descriptor is EBADF",
		  syscall(SYS_ioctl, 999, TCGETS, &t), EBADF);
	CHECK(isatty(1) == 0, "isatty(1) is false");
}

static void test_robust_list(void)
{
	/* An empty robust list: head.next points at the head itself. */
	static long head[3];

	head[0] = (long)head;
	CHECK_EQ("set_robust_list",
		 syscall(SYS_set_robust_list, head, sizeof(head)), 0);
	CHECK_ERR("set_robust_list with a bad length is EINVAL",
		  syscall(SYS_set_robust_list, head, 7), EINVAL);
}

int main(void)
{
	test_ids();
	test_uname();
	test_limits();
	test_random();
	test_arch_prctl();
	test_signals();
	test_ioctl();
	test_robust_list();
	return tap_done("procinfo");
}
