/*
 * /proc/self/{cmdline,environ,comm,limits}, prctl(PR_SET_NAME,
 * PR_GET_NAME) and resource limits: cmdline is argv byte for byte (NUL
 * after each), environ the initial environment the same way, comm the
 * program's file name and then the name prctl sets (cut to 15 bytes);
 * RLIMIT_NOFILE's soft limit makes open fail with EMFILE, dup2 past it
 * EBADF and F_DUPFD past it EINVAL, and raising it again gives
 * descriptors back; the hard limit cannot pass nr_open (EPERM), soft above
 * hard is EINVAL; PR_CAPBSET_READ and PR_{SET,GET}_NO_NEW_PRIVS;
 * /proc/self/limits shows what getrlimit says; bad resource, bad
 * pointers.
 *
 * kiln-run-opts: -e KILN_PS_A=one -e KILN_PS_B=
 * kiln-run-args: first 2nd --third=x
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "tap.h"

#define BAD ((void *)16)

extern char **environ;

/* The whole file in buf (NUL-terminated past len); its length or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	return (long)len;
}

/* The strings of v joined, each with its NUL. */
static size_t join(char *const *v, char *out, size_t cap)
{
	size_t len = 0;

	for (; *v; v++) {
		size_t n = strlen(*v) + 1;
		if (len + n > cap)
			break;
		memcpy(out + len, *v, n);
		len += n;
	}
	return len;
}

static char got[65536], want[65536];

static void test_cmdline_environ(char **argv)
{
	size_t wlen = join(argv, want, sizeof(want));
	long glen = slurp("/proc/self/cmdline", got, sizeof(got));
	CHECK_EQ("cmdline length is argv's", glen, (long)wlen);
	CHECK(glen == (long)wlen && memcmp(got, want, wlen) == 0,
	      "cmdline is argv byte for byte");

	wlen = join(environ, want, sizeof(want));
	glen = slurp("/proc/self/environ", got, sizeof(got));
	CHECK_EQ("environ length is the environment's", glen, (long)wlen);
	CHECK(glen == (long)wlen && memcmp(got, want, wlen) == 0,
	      "environ is the environment byte for byte");
}

static void test_comm(void)
{
	char exe[4096], name[32], expect[32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	snprintf(expect, sizeof(expect), "%.15s\n", base);
	slurp("/proc/self/comm", got, sizeof(got));
	CHECK_STR("comm is the file name", got, expect);

	CHECK_OK("PR_SET_NAME", prctl(PR_SET_NAME, "kiln-name-is-too-long"));
	memset(name, 'x', sizeof(name));
	CHECK_OK("PR_GET_NAME", prctl(PR_GET_NAME, name));
	CHECK_STR("name cut to 15 bytes", name, "kiln-name-is-to");
	slurp("/proc/self/comm", got, sizeof(got));
	CHECK_STR("comm shows it", got, "kiln-name-is-to\n");
	slurp("/proc/self/status", got, sizeof(got));
	CHECK(strncmp(got, "Name:\tkiln-name-is-to\n", 22) == 0,
	      "status Name: shows it");
	CHECK_EQ("PR_CAPBSET_READ CAP_CHOWN", prctl(PR_CAPBSET_READ, 0), 1);
	CHECK_ERR("PR_CAPBSET_READ 99 EINVAL",
		  (errno = 0, prctl(PR_CAPBSET_READ, 99)), EINVAL);
	CHECK_OK("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK_EQ("PR_GET_NO_NEW_PRIVS then 1",
		 prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
	CHECK_ERR("PR_SET_NAME bad pointer EFAULT",
		  (errno = 0, prctl(PR_SET_NAME, BAD)), EFAULT);
	CHECK_ERR("PR_GET_NAME bad pointer EFAULT",
		  (errno = 0, prctl(PR_GET_NAME, BAD)), EFAULT);
}

static void test_nofile(void)
{
	struct rlimit rl, lim;
	int fds[64], n = 0, fd;

	CHECK_OK("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &rl));
	lim.rlim_cur = 32;
	lim.rlim_max = rl.rlim_max;
	CHECK_OK("lower the soft limit to 32", setrlimit(RLIMIT_NOFILE, &lim));
	errno = 0;
	while (n < 64 && (fd = open("/dev/null", O_RDONLY)) >= 0)
		fds[n++] = fd;
	CHECK_EQ("open past the limit EMFILE", errno, EMFILE);
	CHECK(n > 0 && n < 32, "some descriptors were given");
	CHECK_EQ("the last one is 31", n ? fds[n - 1] : -1, 31);
	CHECK_ERR("dup2 to 40 EBADF", (errno = 0, dup2(0, 40)), EBADF);
	CHECK_ERR("F_DUPFD from 40 EINVAL", (errno = 0, fcntl(0, F_DUPFD, 40)),
		  EINVAL);
	CHECK_OK("raise it back", setrlimit(RLIMIT_NOFILE, &rl));
	fd = open("/dev/null", O_RDONLY);
	CHECK_EQ("open works again", fd, 32);
	if (fd >= 0)
		close(fd);
	while (n > 0)
		close(fds[--n]);

	long nr_open = 0;
	if (slurp("/proc/sys/fs/nr_open", got, sizeof(got)) > 0)
		nr_open = atol(got);
	lim.rlim_cur = rl.rlim_cur;
	lim.rlim_max = (rlim_t)nr_open + 1;
	CHECK_ERR("hard limit past nr_open EPERM",
		  (errno = 0, setrlimit(RLIMIT_NOFILE, &lim)), EPERM);
	lim.rlim_cur = rl.rlim_max + 1;
	lim.rlim_max = rl.rlim_max;
	CHECK_ERR("soft above hard EINVAL",
		  (errno = 0, setrlimit(RLIMIT_NOFILE, &lim)), EINVAL);
	CHECK_OK("getrlimit NOFILE unchanged", getrlimit(RLIMIT_NOFILE, &lim));
	CHECK(lim.rlim_cur == rl.rlim_cur && lim.rlim_max == rl.rlim_max,
	      "still the old limits");

	/* /proc/self/limits agrees with getrlimit. */
	char line[128];
	snprintf(line, sizeof(line), "Max open files            %-20lu %-20lu ",
		 (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	slurp("/proc/self/limits", got, sizeof(got));
	CHECK(strncmp(got, "Limit                     Soft Limit", 36) == 0,
	      "limits has the header");
	CHECK(strstr(got, line), "limits shows Max open files as getrlimit");

	struct rlimit st;
	CHECK_OK("getrlimit STACK", getrlimit(RLIMIT_STACK, &st));
	CHECK(st.rlim_cur >= (1 << 20), "a stack soft limit of at least 1 MiB");
	CHECK_OK("prlimit64 on pid 0",
		 syscall(SYS_prlimit64, 0, RLIMIT_AS, NULL, &st));
	CHECK_ERR("resource 99 EINVAL",
		  (errno = 0, syscall(SYS_prlimit64, 0, 99, NULL, &st)),
		  EINVAL);
	CHECK_ERR("bad old pointer EFAULT",
		  (errno = 0, syscall(SYS_prlimit64, 0, RLIMIT_AS, NULL, BAD)),
		  EFAULT);
	CHECK_ERR("bad new pointer EFAULT",
		  (errno = 0, syscall(SYS_prlimit64, 0, RLIMIT_AS, BAD, NULL)),
		  EFAULT);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_cmdline_environ(argv);
	test_comm();
	test_nofile();
	return tap_done("procself");
}
