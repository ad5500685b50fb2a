/*
 * Unknown syscalls get -ENOSYS and the program goes on: numbers past the
 * table (1000, 100000, 0x7fffffff), a negative one, and numbers Linux
 * reserves but never implemented (afs_syscall 183, tuxcall 184, security
 * 185).  The kernel logs each unknown number once; tests/e2e/kernel.sh
 * checks the log line for 1000, called twice here, appears once.
 */
#include <sys/syscall.h>

#include "tap.h"

int main(void)
{
	CHECK_ERR("syscall 1000 is ENOSYS", syscall(1000), ENOSYS);
	CHECK_ERR("syscall 1000 again is ENOSYS", syscall(1000, 1, 2, 3),
		  ENOSYS);
	CHECK_ERR("syscall 100000 is ENOSYS", syscall(100000), ENOSYS);
	CHECK_ERR("syscall 0x7fffffff is ENOSYS", syscall(0x7fffffffL), ENOSYS);
	CHECK_ERR("syscall -1 is ENOSYS", syscall(-1L), ENOSYS);
	CHECK_ERR("afs_syscall (183) is ENOSYS", syscall(183), ENOSYS);
	CHECK_ERR("tuxcall (184) is ENOSYS", syscall(184), ENOSYS);
	CHECK_ERR("security (185) is ENOSYS", syscall(185), ENOSYS);
	CHECK_EQ("a known syscall still works after them", syscall(SYS_getpid),
		 getpid());
	return tap_done("enosys");
}
