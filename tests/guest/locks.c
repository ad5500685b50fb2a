/*
 * File locks as one process sees them on Linux: POSIX record locks
 * (F_SETLK) belong to the process, so they never conflict with each
 * other and closing any descriptor of the file drops them; OFD locks
 * (F_OFD_SETLK) and flock belong to the open file description, so two
 * open()s of one file conflict, a dup shares, and the last close
 * releases; record locks and flock do not see each other.  F_GETLK
 * reports the conflicting lock (range, pid), F_SETLKW/F_OFD_SETLKW and
 * a blocking flock return at once when the lock is free.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>

#include "tap.h"

#ifndef F_OFD_GETLK
#define F_OFD_GETLK  36
#define F_OFD_SETLK  37
#define F_OFD_SETLKW 38
#endif

static int lk(int fd, int cmd, int type, off_t start, off_t len)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return fcntl(fd, cmd, &fl);
}

/* The type of the lock that would block a write lock on [start,
 * start+len) through fd (F_UNLCK: none), its details in *fl. */
static int getlk(int fd, int cmd, off_t start, off_t len, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	if (fcntl(fd, cmd, fl) != 0)
		return -1;
	return fl->l_type;
}

int main(void)
{
	char path[] = "/tmp/kiln-locks-XXXXXX";
	struct flock fl;
	int a = mkstemp(path);
	int b = open(path, O_RDWR);
	int c = open(path, O_RDONLY);

	CHECK(a >= 0 && b >= 0 && c >= 0, "open one file three times");
	char pad[100] = {0};
	CHECK_EQ("write 100 bytes", write(a, pad, sizeof(pad)), 100);

	CHECK_EQ("POSIX write lock on 0-99", lk(a, F_SETLK, F_WRLCK, 0, 100),
		 0);
	CHECK_EQ("F_GETLK through another open: no conflict with ourselves",
		 getlk(b, F_GETLK, 0, 0, &fl), F_UNLCK);
	CHECK_EQ("a POSIX lock through another open: same process",
		 lk(b, F_SETLKW, F_WRLCK, 10, 10), 0);
	CHECK_ERR("an OFD lock over the POSIX lock: EAGAIN",
		  (errno = 0, lk(b, F_OFD_SETLK, F_WRLCK, 50, 10)), EAGAIN);
	CHECK_EQ("F_OFD_GETLK sees the POSIX lock",
		 getlk(b, F_OFD_GETLK, 55, 1, &fl), F_WRLCK);
	CHECK(fl.l_start == 0 && fl.l_len == 100 && fl.l_pid == getpid(),
	      "the POSIX lock is 0-99, held by our pid");
	CHECK_EQ("close a third descriptor of the file", close(c), 0);
	CHECK_EQ("that dropped the POSIX locks: the OFD lock is granted",
		 lk(b, F_OFD_SETLKW, F_WRLCK, 50, 10), 0);

	CHECK_EQ("F_OFD_GETLK outside it: unlocked",
		 getlk(a, F_OFD_GETLK, 0, 50, &fl), F_UNLCK);
	CHECK_EQ("F_OFD_GETLK over it: locked",
		 getlk(a, F_OFD_GETLK, 0, 0, &fl), F_WRLCK);
	CHECK(fl.l_start == 50 && fl.l_len == 10 && fl.l_pid == -1,
	      "an OFD lock: 50+10, pid -1");
	CHECK_ERR("a POSIX read lock over it: EAGAIN",
		  (errno = 0, lk(a, F_SETLK, F_RDLCK, 55, 1)), EAGAIN);
	int d = dup(b);
	CHECK_EQ("a dup of the owner unlocks it",
		 lk(d, F_OFD_SETLK, F_UNLCK, 0, 0), 0);
	CHECK_EQ("then a's OFD write lock on everything is granted",
		 lk(a, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	CHECK_ERR("and b's is EAGAIN",
		  (errno = 0, lk(b, F_OFD_SETLK, F_WRLCK, 0, 1)), EAGAIN);
	close(d);
	close(a); /* the last reference to a's description */
	a = open(path, O_RDWR);
	CHECK_EQ("closing a released its OFD lock",
		 lk(b, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	CHECK_EQ("unlock", lk(b, F_OFD_SETLK, F_UNLCK, 0, 0), 0);

	CHECK_EQ("flock LOCK_EX", flock(a, LOCK_EX), 0);
	CHECK_ERR("flock LOCK_EX|LOCK_NB through another open: EWOULDBLOCK",
		  (errno = 0, flock(b, LOCK_EX | LOCK_NB)), EWOULDBLOCK);
	CHECK_ERR("LOCK_SH|LOCK_NB: EWOULDBLOCK",
		  (errno = 0, flock(b, LOCK_SH | LOCK_NB)), EWOULDBLOCK);
	CHECK_EQ("a record lock is not blocked by flock",
		 lk(b, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	CHECK_EQ("flock LOCK_SH (converts)", flock(a, LOCK_SH), 0);
	CHECK_EQ("a second LOCK_SH", flock(b, LOCK_SH | LOCK_NB), 0);
	CHECK_ERR("LOCK_EX while another holds LOCK_SH: EWOULDBLOCK",
		  (errno = 0, flock(a, LOCK_EX | LOCK_NB)), EWOULDBLOCK);
	CHECK_EQ("LOCK_UN", flock(b, LOCK_UN), 0);
	CHECK_EQ("then LOCK_EX", flock(a, LOCK_EX | LOCK_NB), 0);
	close(a);
	CHECK_EQ("closing the holder released the flock lock",
		 flock(b, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR("flock with a bad operation: EINVAL",
		  (errno = 0, flock(b, 3)), EINVAL);
	CHECK_ERR("flock on a closed descriptor: EBADF",
		  (errno = 0, flock(a, LOCK_EX)), EBADF);
	close(b);
	unlink(path);
	return tap_done("locks");
}
