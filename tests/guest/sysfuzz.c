/*
 * Syscall fuzzer for the kiln kernel: calls every syscall number from 0 to
 * 511 (and a few beyond) with argument combinations drawn from wild
 * pointers, kernel addresses, odd sizes and bad descriptors.  Whatever the
 * kernel answers is fine; what it must never do is crash, hang or stop the
 * program.  It ends by printing "sysfuzz: survived N calls" and exits 0.
 *
 * NEVER run this natively: on a real Linux it would close descriptors,
 * change signal state and worse.  The test runner only boots it in kiln
 * (it does not include tap.h, so the host tier skips it), and it refuses to
 * start unless uname says kiln's release.
 *
 * Skipped numbers end the program or block it on purpose, or would break
 * the fuzzer's own state: exit and exit_group, the kill family, pause and
 * the sleeps (a random timespec can ask for years), rt_sigreturn,
 * arch_prctl (a random FS base breaks TLS), and the calls that change the
 * address space (mmap, munmap, mremap, mprotect, madvise, brk, shmdt):
 * with a wild address and length they legitimately unmap the fuzzer's own
 * code, as Linux would.  tests/guest/memory covers those with real checks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SCRATCH (1 << 20)

/* Filled in main: a writable buffer with a PROT_NONE page after it (so an
 * over-long write stops with EFAULT instead of trampling the fuzzer), and
 * path strings, so calls get past their argument checks. */
static long wild[] = {
    0, /* scratch */
    0, /* "/tmp/fz" */
    0, /* "/" */
    3,
    64,
    0,
    1,
    -1,
    4096,
    0x7fffffffffffL,
    (long)0xffff800000000000UL, /* kiln's direct map */
    (long)0xffffffff80100000UL, /* kiln's kernel image */
    (long)0x8000000000000000UL,
    0x10000,
    1000,
    (long)0xdeadbeefcafeUL,
};

static int skip(long nr)
{
	switch (nr) {
	case SYS_exit:
	case SYS_exit_group:
	case SYS_kill:
	case SYS_tkill:
	case SYS_tgkill:
	case SYS_rt_sigreturn:
	case SYS_pause:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_arch_prctl:
	case SYS_rt_sigsuspend:
	case SYS_rt_sigtimedwait:
	case SYS_select:
	case SYS_pselect6:
	case SYS_poll:
	case SYS_ppoll:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_wait4:
	case SYS_waitid:
	case SYS_futex:
	case SYS_read: /* fd 0 of a future kernel may block */
	case SYS_readv:
	case SYS_close: /* could close the console */
	case SYS_close_range:
	case SYS_dup2:
	case SYS_dup3:
	case SYS_accept:
	case SYS_accept4:
	case SYS_recvfrom:
	case SYS_recvmsg:
	case SYS_msgrcv:
	case SYS_semop:
	case SYS_semtimedop:
	case SYS_clone:
	case SYS_clone3:
	case SYS_fork:
	case SYS_vfork:
	case SYS_execve:
	case SYS_execveat:
	case SYS_setitimer:
	case SYS_alarm:
	case SYS_timer_settime:
	case SYS_timerfd_settime:
	case SYS_sched_setaffinity:
	case SYS_prctl:
	case SYS_seccomp:
	case SYS_personality:
	case SYS_rt_sigprocmask: /* a blocked SIGSEGV would hide a crash */
	case SYS_sigaltstack:
	case SYS_rt_sigaction:
	case SYS_setrlimit:
	case SYS_prlimit64:
	case SYS_chdir: /* harmless, but keeps later paths stable */
	case SYS_fchdir:
	case SYS_umask:
	case SYS_mmap:
	case SYS_munmap:
	case SYS_mremap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
	case SYS_madvise:
	case SYS_brk:
	case SYS_shmdt:
	case SYS_remap_file_pages:
	/* A blocking read or write on a pipe or eventfd the fuzzer made
	 * itself would wait forever, as on Linux. */
	case SYS_pipe:
	case SYS_pipe2:
	case SYS_eventfd:
	case SYS_eventfd2:
	case SYS_epoll_pwait2:
	case SYS_socket:
	case SYS_socketpair:
		return 1;
	default:
		return 0;
	}
}

int main(void)
{
	struct utsname u;
	if (uname(&u) != 0 || strstr(u.release, "kiln") == NULL) {
		fprintf(stderr, "sysfuzz: refusing to run outside kiln\n");
		return 2;
	}
	char *scratch = mmap(NULL, SCRATCH + 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED ||
	    mprotect(scratch + SCRATCH, 4096, PROT_NONE) != 0) {
		perror("sysfuzz: scratch");
		return 2;
	}
	wild[0] = (long)scratch;
	wild[1] = (long)"/tmp/fz";
	wild[2] = (long)"/";
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	long calls = 0;
	const int nwild = sizeof(wild) / sizeof(wild[0]);
	for (long nr = 0; nr < 520; nr++) {
		if (skip(nr))
			continue;
		for (int round = 0; round < 24; round++) {
			long a[6];
			for (int i = 0; i < 6; i++) {
				state ^= state << 13;
				state ^= state >> 7;
				state ^= state << 17;
				a[i] = wild[state % nwild];
			}
			/* Never hand stdout/stderr to calls that could
			 * redirect or truncate them by accident. */
			if (a[0] == 1)
				a[0] = 1000;
			/* Strings must stay strings: refresh the scratch
			 * buffer's head so paths read from it end. */
			scratch[0] = '/';
			scratch[1] = 0;
			syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
			calls++;
		}
	}
	printf("sysfuzz: survived %ld calls\n", calls);
	return 0;
}
