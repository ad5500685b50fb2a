/*
 * Wild pointers: every syscall that takes a user buffer or path must answer
 * a bad one with -EFAULT and keep the machine (and this program) running.
 * Pointers tried: NULL, (void *)1, the kernel half 0xffff800000000000, the
 * kernel image 0xffffffff80000000, the first non-canonical address above
 * user space 0x0000800000000000, and a freshly unmapped page.  Raw syscalls
 * throughout: libc wrappers (and the vDSO) would crash or hide the answer.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "tap.h"

static void *bad[5];
static const char *bad_name[5] = {"NULL", "1", "0xffff800000000000",
				  "0xffffffff80000000", "an unmapped page"};

static void test_one(int i)
{
	void *p = bad[i];
	char what[128], buf[64];
	int fd = open("/proc/self/exe", O_RDONLY);

#define TRY(call, desc)                                                        \
	do {                                                                   \
		snprintf(what, sizeof(what), "%s %s is EFAULT", desc,          \
			 bad_name[i]);                                         \
		CHECK_ERR(what, call, EFAULT);                                 \
	} while (0)
/* For arguments where NULL means "not given". */
#define TRY_NONNULL(call, desc)                                                \
	do {                                                                   \
		if (p)                                                         \
			TRY(call, desc);                                       \
	} while (0)

	TRY(syscall(SYS_read, fd, p, 10), "read into");
	TRY(syscall(SYS_pread64, fd, p, 10, 0), "pread64 into");
	TRY(syscall(SYS_write, 1, p, 10), "write from");
	TRY(syscall(SYS_open, p, O_RDONLY), "open of path");
	TRY(syscall(SYS_openat, AT_FDCWD, p, O_RDONLY), "openat of path");
	TRY(syscall(SYS_newfstatat, AT_FDCWD, p, buf, 0), "newfstatat path");
	TRY(syscall(SYS_newfstatat, AT_FDCWD, "/proc/self/exe", p, 0),
	    "newfstatat into");
	TRY(syscall(SYS_fstat, fd, p), "fstat into");
	TRY(syscall(SYS_statx, AT_FDCWD, "/proc/self/exe", 0, 0x7ff, p),
	    "statx into");
	TRY(syscall(SYS_access, p, F_OK), "access of path");
	TRY(syscall(SYS_readlink, "/proc/self/exe", p, 64), "readlink into");
	TRY(syscall(SYS_getcwd, p, 64), "getcwd into");
	TRY(syscall(SYS_chdir, p), "chdir to path");
	TRY(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p),
	    "clock_gettime into");
	TRY_NONNULL(syscall(SYS_gettimeofday, p, NULL), "gettimeofday into");
	TRY(syscall(SYS_nanosleep, p, NULL), "nanosleep from");
	TRY(syscall(SYS_uname, p), "uname into");
	TRY(syscall(SYS_getrandom, p, 16, 0), "getrandom into");
	TRY_NONNULL(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, p),
		    "prlimit64 old limit into");
	TRY_NONNULL(syscall(SYS_rt_sigaction, SIGUSR1, p, NULL, 8),
		    "rt_sigaction new action from");
	TRY_NONNULL(syscall(SYS_rt_sigprocmask, SIG_BLOCK, p, NULL, 8),
		    "rt_sigprocmask set from");
	TRY(syscall(SYS_writev, 1, p, 1), "writev iovec array at");
	struct iovec iov = {p, 10};
	TRY(syscall(SYS_writev, 1, &iov, 1), "writev buffer at");
	TRY(syscall(SYS_readv, fd, &iov, 1), "readv buffer at");
	int dfd = open("/", O_RDONLY | O_DIRECTORY);
	TRY(syscall(SYS_getdents64, dfd, p, 512), "getdents64 into");
	close(dfd);
	close(fd);
#undef TRY_NONNULL
#undef TRY
}

int main(void)
{
	/* An address that was mapped a moment ago. */
	void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);

	bad[0] = NULL;
	bad[1] = (void *)1;
	bad[2] = (void *)(uintptr_t)0xffff800000000000ULL;
	bad[3] = (void *)(uintptr_t)0xffffffff80000000ULL;
	bad[4] = gone;
	for (int i = 0; i < 5; i++)
		test_one(i);

	/* A non-canonical address (the first one above the lower half). */
	void *nc = (void *)(uintptr_t)0x0000800000000000ULL;
	int fd = open("/proc/self/exe", O_RDONLY);
	CHECK_ERR("read into 0x0000800000000000 is EFAULT",
		  syscall(SYS_read, fd, nc, 10), EFAULT);
	CHECK_ERR("write from 0x0000800000000000 is EFAULT",
		  syscall(SYS_write, 1, nc, 10), EFAULT);

	/* A buffer that starts on the stack (valid) and runs past the top of
	 * user space must be refused as a whole, not copied until it faults. */
	char here[16];
	memset(here, 'x', sizeof(here));
	size_t to_top = (size_t)(0x0000800000000000ULL - (uintptr_t)here);
	CHECK_ERR("read into a buffer running past the top of user space",
		  syscall(SYS_read, fd, here, to_top + 4096), EFAULT);
	CHECK_ERR("write from a buffer running past the top of user space",
		  syscall(SYS_write, 1, here, to_top + 4096), EFAULT);
	close(fd);

	/* Still alive: the kernel survived every bad pointer above. */
	CHECK(1, "the program runs after all the bad pointers");
	return tap_done("badptr");
}
