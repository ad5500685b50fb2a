/*
 * In-kernel channels: pipe/pipe2 and eventfd/eventfd2.  Pipes: a round
 * trip, end of file once every writer is closed (a dup keeps it open),
 * EPIPE with no reader, O_NONBLOCK's EAGAIN, the 64 KiB capacity and
 * PIPE_BUF atomicity, FIONREAD, fstat's S_IFIFO, the status and
 * close-on-exec flags, the errors; a 1 MiB transfer through one pipe
 * driven by poll.  eventfd: counter and semaphore reads, the 8-byte rules,
 * overflow, non-blocking EAGAIN, its flags.
 *
 * One thread, so nothing here may block: every wait is avoided by
 * O_NONBLOCK or by checking readiness first.  SIGPIPE is ignored so the
 * native run sees EPIPE as kiln (which delivers no signals yet) does.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "tap.h"

#define PIPE_CAPACITY 65536

static int pipe_nb(int fds[2])
{
	return pipe2(fds, O_NONBLOCK);
}

static int fionread(int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n) != 0)
		return -1;
	return n;
}

static void test_basics(void)
{
	int p[2];
	char buf[64];
	struct stat st;

	CHECK_EQ("pipe2 flags 0", pipe2(p, 0), 0);
	CHECK_EQ("write 'hello' to the write end", write(p[1], "hello", 5), 5);
	CHECK_EQ("FIONREAD counts 5 bytes", fionread(p[0]), 5);
	CHECK_EQ("FIONREAD on the write end too", fionread(p[1]), 5);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ("read returns what is there, not the count asked",
		 read(p[0], buf, sizeof(buf)), 5);
	CHECK_STR("the bytes come out in order", buf, "hello");
	CHECK_EQ("zero-length read of an empty pipe returns 0",
		 read(p[0], buf, 0), 0);
	CHECK_EQ("fstat of the read end", fstat(p[0], &st), 0);
	CHECK(S_ISFIFO(st.st_mode), "read end is S_IFIFO");
	CHECK_EQ("fstat of the write end", fstat(p[1], &st), 0);
	CHECK(S_ISFIFO(st.st_mode), "write end is S_IFIFO");
	CHECK_EQ("read end is O_RDONLY", fcntl(p[0], F_GETFL) & O_ACCMODE,
		 O_RDONLY);
	CHECK_EQ("write end is O_WRONLY", fcntl(p[1], F_GETFL) & O_ACCMODE,
		 O_WRONLY);
	CHECK_EQ("no O_NONBLOCK without the flag",
		 fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ("no FD_CLOEXEC without O_CLOEXEC", fcntl(p[0], F_GETFD), 0);
	errno = 0;
	CHECK_ERR("read from the write end is EBADF", read(p[1], buf, 1),
		  EBADF);
	errno = 0;
	CHECK_ERR("write to the read end is EBADF", write(p[0], "x", 1), EBADF);
	errno = 0;
	CHECK_ERR("lseek on a pipe is ESPIPE", lseek(p[0], 0, SEEK_SET),
		  ESPIPE);
	errno = 0;
	CHECK_ERR("pread on a pipe is ESPIPE", pread(p[0], buf, 1, 0), ESPIPE);

	char link[64], want[64];
	ssize_t n;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
	n = readlink(link, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "pipe:[%llu]",
		 (unsigned long long)st.st_ino);
	CHECK_STR("/proc/self/fd shows pipe:[inode]", buf, want);

	/* A dup keeps the write end open: no end of file yet. */
	int w2 = dup(p[1]);
	CHECK_OK("dup the write end", w2);
	CHECK_EQ("write 'abc'", write(w2, "abc", 3), 3);
	CHECK_EQ("close the original write end", close(p[1]), 0);
	CHECK_EQ("data written before the close is still read",
		 read(p[0], buf, sizeof(buf)), 3);
	CHECK_EQ("F_SETFL O_NONBLOCK on the read end",
		 fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	CHECK_ERR("empty with a writer left (the dup): EAGAIN, not EOF",
		  read(p[0], buf, sizeof(buf)), EAGAIN);
	CHECK_EQ("close the dup, the last writer", close(w2), 0);
	CHECK_EQ("then read is end of file (0)", read(p[0], buf, sizeof(buf)),
		 0);
	CHECK_EQ("and stays so", read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);

	/* End of file also when blocking: no wait with no writer. */
	CHECK_EQ("pipe()", syscall(SYS_pipe, p), 0);
	CHECK_EQ("write then close the writer", write(p[1], "xy", 2), 2);
	close(p[1]);
	CHECK_EQ("blocking read gets the data", read(p[0], buf, sizeof(buf)),
		 2);
	CHECK_EQ("blocking read at end of file returns 0",
		 read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);

	/* No reader: EPIPE (SIGPIPE ignored). */
	CHECK_EQ("pipe2 for EPIPE", pipe2(p, 0), 0);
	close(p[0]);
	errno = 0;
	CHECK_ERR("write with no reader is EPIPE", write(p[1], "x", 1), EPIPE);
	CHECK_EQ("a zero-length write with no reader returns 0",
		 write(p[1], "x", 0), 0);
	close(p[1]);
}

static void test_flags(void)
{
	int p[2];

	CHECK_EQ("pipe2 O_CLOEXEC", pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ("read end has FD_CLOEXEC", fcntl(p[0], F_GETFD), FD_CLOEXEC);
	CHECK_EQ("write end has FD_CLOEXEC", fcntl(p[1], F_GETFD), FD_CLOEXEC);
	CHECK_EQ("O_CLOEXEC is not a status flag",
		 fcntl(p[0], F_GETFL) & O_CLOEXEC, 0);
	close(p[0]);
	close(p[1]);
	CHECK_EQ("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK), 0);
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK, "read end has O_NONBLOCK");
	CHECK(fcntl(p[1], F_GETFL) & O_NONBLOCK, "write end has O_NONBLOCK");
	close(p[0]);
	close(p[1]);
	CHECK_EQ("pipe2 O_DIRECT is accepted", pipe2(p, O_DIRECT), 0);
	close(p[0]);
	close(p[1]);
	errno = 0;
	CHECK_ERR("pipe2 with O_APPEND is EINVAL",
		  syscall(SYS_pipe2, p, O_APPEND), EINVAL);
	errno = 0;
	CHECK_ERR("pipe2 to a bad pointer is EFAULT",
		  syscall(SYS_pipe2, (void *)8, 0), EFAULT);
}

static void test_capacity(void)
{
	static char chunk[4096];
	int p[2];
	long total = 0;
	ssize_t r;
	char c;

	memset(chunk, 'c', sizeof(chunk));
	CHECK_EQ("pipe2 O_NONBLOCK for the capacity test", pipe_nb(p), 0);
	errno = 0;
	CHECK_ERR("read of an empty non-blocking pipe is EAGAIN",
		  read(p[0], &c, 1), EAGAIN);
	while ((r = write(p[1], chunk, sizeof(chunk))) > 0)
		total += r;
	CHECK_EQ("a pipe holds 64 KiB", total, PIPE_CAPACITY);
	CHECK_EQ("the full pipe says EAGAIN", r == -1 ? errno : 0, EAGAIN);
	errno = 0;
	CHECK_ERR("even for one byte", write(p[1], "x", 1), EAGAIN);
	CHECK_EQ("FIONREAD says 65536", fionread(p[0]), PIPE_CAPACITY);

	/* PIPE_BUF atomicity: a write of <= 4096 bytes goes whole or not at
	 * all. */
	CHECK_EQ("read one byte back", read(p[0], &c, 1), 1);
	errno = 0;
	CHECK_ERR("4096 bytes do not fit: EAGAIN, nothing written",
		  write(p[1], chunk, sizeof(chunk)), EAGAIN);
	CHECK_EQ("FIONREAD unchanged", fionread(p[0]), PIPE_CAPACITY - 1);
	CHECK_EQ("read the rest of the first 4 KiB",
		 read(p[0], chunk, sizeof(chunk) - 1), (long)sizeof(chunk) - 1);
	CHECK_EQ("now 4096 bytes fit whole", write(p[1], chunk, sizeof(chunk)),
		 4096);
	CHECK_EQ("FIONREAD back at 65536", fionread(p[0]), PIPE_CAPACITY);

	/* A longer write to a full non-blocking pipe: EAGAIN; to one with
	 * some room: a short count no larger than the room. */
	static char big[3 * 4096];
	errno = 0;
	CHECK_ERR("12 KiB to the full pipe is EAGAIN",
		  write(p[1], big, sizeof(big)), EAGAIN);
	CHECK_EQ("drain 8 KiB", read(p[0], big, 8192), 8192);
	r = write(p[1], big, sizeof(big));
	CHECK(r > 0 && r <= 8192, "12 KiB into 8 KiB of room writes part");
	close(p[0]);
	close(p[1]);
}

/* 1 MiB through one pipe with both ends non-blocking, poll deciding who
 * moves next; checks every byte. */
static void test_transfer(void)
{
	enum { TOTAL = 1 << 20 };
	static unsigned char out[8192], in[5000];
	struct pollfd pf[2];
	long sent = 0, got = 0, polls = 0;
	int p[2], bad = 0, stuck = 0;

	CHECK_EQ("pipe2 O_NONBLOCK for the transfer", pipe_nb(p), 0);
	while (got < TOTAL && polls < 100000) {
		pf[0].fd = p[0];
		pf[0].events = POLLIN;
		pf[1].fd = sent < TOTAL ? p[1] : -1;
		pf[1].events = POLLOUT;
		int n = poll(pf, 2, 1000);
		polls++;
		if (n <= 0) {
			stuck = 1;
			break;
		}
		if (pf[1].revents & POLLOUT) {
			size_t want = sizeof(out);
			if (want > (size_t)(TOTAL - sent))
				want = (size_t)(TOTAL - sent);
			for (size_t i = 0; i < want; i++)
				out[i] = (unsigned char)((sent + (long)i) * 7);
			ssize_t w = write(p[1], out, want);
			if (w > 0)
				sent += w;
			else if (errno != EAGAIN)
				bad = 1;
		}
		if (pf[0].revents & POLLIN) {
			ssize_t r = read(p[0], in, sizeof(in));
			for (ssize_t i = 0; i < r; i++)
				if (in[i] != (unsigned char)((got + i) * 7))
					bad = 1;
			if (r > 0)
				got += r;
		}
	}
	CHECK(!stuck, "poll never timed out during the transfer");
	CHECK(!bad, "every byte arrived in order");
	CHECK_EQ("1 MiB went through", got, TOTAL);
	close(p[1]);
	pf[0].events = POLLIN;
	CHECK_EQ("after the writer closes, poll reports the read end",
		 poll(pf, 1, 0), 1);
	CHECK_EQ("as POLLHUP alone (no data left)", pf[0].revents, POLLHUP);
	close(p[0]);
}

static void test_vectors(void)
{
	int p[2];
	char a[4], b[8];
	struct iovec wv[2] = {{"abcd", 4}, {"efgh", 4}};
	struct iovec rv[2] = {{a, sizeof(a)}, {b, sizeof(b)}};

	CHECK_EQ("pipe2 for writev/readv", pipe2(p, 0), 0);
	CHECK_EQ("writev of 2 pieces", writev(p[1], wv, 2), 8);
	CHECK_EQ("write 4 more", write(p[1], "ijkl", 4), 4);
	CHECK_EQ("readv fills both buffers", readv(p[0], rv, 2), 12);
	CHECK(!memcmp(a, "abcd", 4) && !memcmp(b, "efghijkl", 8),
	      "readv bytes in order");
	/* Only the first buffer's worth is there: readv returns it rather
	 * than waiting for the second buffer (musl's fread uses readv). */
	CHECK_EQ("write 4 bytes", write(p[1], "mnop", 4), 4);
	CHECK_EQ("readv with less data than the buffers returns what is there",
		 readv(p[0], rv, 2), 4);
	CHECK(!memcmp(a, "mnop", 4), "readv partial bytes");
	close(p[0]);
	close(p[1]);
}

/* sendfile's input must have a position: from a pipe it is EINVAL, and
 * the bytes stay in the pipe. */
static void test_sendfile_from_pipe(void)
{
	int p[2];
	char buf[8];
	int out =
	    open("/tmp/kiln-sendfile.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK_EQ("pipe for sendfile", pipe(p), 0);
	CHECK_EQ("write 3 bytes", write(p[1], "abc", 3), 3);
	errno = 0;
	CHECK_EQ("sendfile from a pipe fails", sendfile(out, p[0], NULL, 3),
		 -1);
	CHECK_EQ("... with EINVAL", errno, EINVAL);
	CHECK_EQ("... and the bytes are still in the pipe", read(p[0], buf, 8),
		 3);
	close(out);
	unlink("/tmp/kiln-sendfile.out");
	close(p[0]);
	close(p[1]);
}

static void test_eventfd(void)
{
	uint64_t v;
	int fd;
	char small[4];

	fd = eventfd(5, 0);
	CHECK_OK("eventfd(5, 0)", fd);
	CHECK_EQ("eventfd is O_RDWR", fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ("read returns the counter", read(fd, &v, 8), 8);
	CHECK_EQ("... which was 5", v, 5);
	v = 3;
	CHECK_EQ("write 3", write(fd, &v, 8), 8);
	v = 4;
	CHECK_EQ("write 4", write(fd, &v, 8), 8);
	uint64_t big[2] = {0, 0};
	CHECK_EQ("a 16-byte read still returns 8", read(fd, big, sizeof(big)),
		 8);
	CHECK_EQ("the writes add up to 7", big[0], 7);
	errno = 0;
	CHECK_ERR("a 4-byte read is EINVAL", read(fd, small, 4), EINVAL);
	errno = 0;
	CHECK_ERR("a 4-byte write is EINVAL", write(fd, small, 4), EINVAL);
	v = UINT64_MAX;
	errno = 0;
	CHECK_ERR("writing 0xffffffffffffffff is EINVAL", write(fd, &v, 8),
		  EINVAL);
	errno = 0;
	CHECK_ERR("write from a bad pointer is EFAULT",
		  syscall(SYS_write, fd, (void *)8, 8), EFAULT);
	CHECK_EQ("F_SETFL O_NONBLOCK", fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	CHECK_ERR("read of a zero counter, non-blocking: EAGAIN",
		  read(fd, &v, 8), EAGAIN);
	v = UINT64_MAX - 1;
	CHECK_EQ("write the largest value, 2^64-2", write(fd, &v, 8), 8);
	v = 1;
	errno = 0;
	CHECK_ERR("one more would overflow: EAGAIN", write(fd, &v, 8), EAGAIN);
	v = 0;
	CHECK_EQ("adding 0 still fits", write(fd, &v, 8), 8);
	struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
	CHECK_EQ("poll of the full counter", poll(&pf, 1, 0), 1);
	CHECK_EQ("is readable, not writable", pf.revents, POLLIN);
	CHECK_EQ("read it all", read(fd, &v, 8), 8);
	CHECK_EQ("got 2^64-2", v == UINT64_MAX - 1, 1);
	pf.revents = 0;
	CHECK_EQ("poll of a zero counter", poll(&pf, 1, 0), 1);
	CHECK_EQ("is writable, not readable", pf.revents, POLLOUT);
	close(fd);

	fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK_OK("eventfd(3, SEMAPHORE|NONBLOCK|CLOEXEC)", fd);
	CHECK_EQ("EFD_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "EFD_NONBLOCK sets O_NONBLOCK");
	int ones = 0;
	for (int i = 0; i < 3; i++)
		if (read(fd, &v, 8) == 8 && v == 1)
			ones++;
	CHECK_EQ("a semaphore reads 1 three times", ones, 3);
	errno = 0;
	CHECK_ERR("then EAGAIN", read(fd, &v, 8), EAGAIN);
	v = 2;
	CHECK_EQ("post 2", write(fd, &v, 8), 8);
	eventfd_t ev = 0;
	CHECK_EQ("libc eventfd_read", eventfd_read(fd, &ev), 0);
	CHECK_EQ("decrements by one", ev, 1);
	CHECK_EQ("libc eventfd_write", eventfd_write(fd, 5), 0);
	CHECK_EQ("read", read(fd, &v, 8), 8);
	CHECK_EQ("still one at a time", v, 1);
	close(fd);

	errno = 0;
	CHECK_ERR("eventfd2 with an unknown flag is EINVAL",
		  syscall(SYS_eventfd2, 0, 0x10), EINVAL);
	fd = (int)syscall(SYS_eventfd, 9);
	CHECK_OK("old eventfd syscall", fd);
	CHECK_EQ("reads its initial value", read(fd, &v, 8) == 8 ? v : 0, 9);
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_basics();
	test_flags();
	test_capacity();
	test_transfer();
	test_vectors();
	test_sendfile_from_pipe();
	test_eventfd();
	return tap_done("pipes");
}
