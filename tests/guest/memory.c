/*
 * Memory: anonymous and file-backed private mmap, MAP_FIXED, munmap,
 * mprotect (including running code from a page made executable), mremap
 * grow/shrink/move, brk grow and shrink, madvise(MADV_DONTNEED) zeroing
 * anonymous pages, and a 16 MiB malloc touched page by page.  argv[1] is
 * the sample file (see files.c).
 *
 * kiln-run-opts: --file tests/fixtures/sample.txt:/data/sample.txt
 * kiln-run-args: /data/sample.txt
 * native-run-args: tests/fixtures/sample.txt
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tap.h"

#define PG 4096UL
#define SAMPLE                                                                 \
	"kiln sample file\nsecond line: 0123456789\nthird line ends here\n"

static int all_bytes(const void *p, size_t n, unsigned char v)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != v)
			return 0;
	return 1;
}

static void *anon(size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Is [p, p+len) unmapped?  mprotect answers ENOMEM for unmapped pages. */
static int unmapped(void *p, size_t len)
{
	return mprotect(p, len, PROT_READ) == -1 && errno == ENOMEM;
}

static void test_anon(void)
{
	unsigned char *p = anon(PG, PROT_READ | PROT_WRITE);

	CHECK(p != MAP_FAILED, "mmap one anonymous page");
	if (p == MAP_FAILED)
		return;
	CHECK(((uintptr_t)p & (PG - 1)) == 0, "mmap result is page aligned");
	CHECK(all_bytes(p, PG, 0), "anonymous page is zero");
	memset(p, 0x5a, PG);
	CHECK(all_bytes(p, PG, 0x5a), "anonymous page is writable");
	CHECK_EQ("munmap one page", munmap(p, PG), 0);
	CHECK(unmapped(p, PG), "munmapped page is gone");

	p = anon(10 * PG, PROT_READ | PROT_WRITE);
	CHECK(p != MAP_FAILED, "mmap ten anonymous pages");
	if (p != MAP_FAILED) {
		for (int i = 0; i < 10; i++)
			p[i * PG + 7] = (unsigned char)i;
		int ok = 1;
		for (int i = 0; i < 10; i++)
			ok &= p[i * PG + 7] == i && p[i * PG] == 0;
		CHECK(ok, "each of ten pages holds its own byte");
		CHECK_EQ("munmap the middle page", munmap(p + 5 * PG, PG), 0);
		CHECK(unmapped(p + 5 * PG, PG) && p[4 * PG + 7] == 4 &&
			  p[6 * PG + 7] == 6,
		      "only the middle page is gone");
		CHECK_EQ("munmap the rest (a range with a hole)",
			 munmap(p, 10 * PG), 0);
	}

	/* Raw calls: musl rounds some arguments before the kernel sees them. */
	CHECK_ERR("munmap of an unaligned address is EINVAL",
		  syscall(SYS_munmap, (char *)p + 1, PG), EINVAL);
	CHECK_ERR("munmap of length 0 is EINVAL", syscall(SYS_munmap, p, 0),
		  EINVAL);
	CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		      MAP_FAILED &&
		  errno == EINVAL,
	      "mmap of length 0 is EINVAL");
	CHECK(mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
		  errno == EINVAL,
	      "mmap without MAP_PRIVATE or MAP_SHARED is EINVAL");
	CHECK(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED &&
		  errno == EBADF,
	      "file mmap of descriptor -1 is EBADF");

	/* MAP_FIXED inside a PROT_NONE reservation. */
	unsigned char *r = anon(4 * PG, PROT_NONE);
	CHECK(r != MAP_FAILED, "mmap a PROT_NONE reservation");
	if (r != MAP_FAILED) {
		unsigned char *f =
		    mmap(r + PG, PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		CHECK(f == r + PG, "MAP_FIXED returns the address asked for");
		if (f == r + PG) {
			f[0] = 1;
			CHECK(f[0] == 1 && all_bytes(f + 1, PG - 1, 0),
			      "MAP_FIXED page is zero and writable");
		}
		munmap(r, 4 * PG);
	}
}

static void test_file(const char *path)
{
	size_t len = strlen(SAMPLE);
	int fd = open(path, O_RDONLY);
	char back[16];

	CHECK_OK("open sample file", fd);
	if (fd < 0)
		return;
	char *m = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap a file PROT_READ MAP_PRIVATE");
	if (m != MAP_FAILED) {
		CHECK(memcmp(m, SAMPLE, len) == 0, "file mapping has its data");
		CHECK(all_bytes(m + len, PG - len, 0),
		      "bytes past end of file in the last page are zero");
		munmap(m, PG);
	}
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap a read-only file PROT_WRITE MAP_PRIVATE");
	if (m != MAP_FAILED) {
		memcpy(m, "KILN", 4);
		CHECK(memcmp(m, "KILN sample", 11) == 0,
		      "private file mapping is writable");
		CHECK(pread(fd, back, 4, 0) == 4 &&
			  memcmp(back, "kiln", 4) == 0,
		      "writing a private mapping leaves the file alone");
		munmap(m, PG);
	}
	m = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100);
	CHECK(m == MAP_FAILED && errno == EINVAL,
	      "file mmap at an unaligned offset is EINVAL");
	close(fd);
}

static int forty_two_code_ok(unsigned char *p)
{
	/* mov $42, %eax; ret */
	static const unsigned char code[] = {0xb8, 0x2a, 0, 0, 0, 0xc3};
	memcpy(p, code, sizeof(code));
	if (mprotect(p, PG, PROT_READ | PROT_EXEC) != 0)
		return 0;
	int (*fn)(void);
	memcpy(&fn, &p, sizeof(fn));
	return fn() == 42;
}

static void test_mprotect(void)
{
	unsigned char *p = anon(2 * PG, PROT_READ | PROT_WRITE);

	CHECK(p != MAP_FAILED, "mmap two pages for mprotect");
	if (p == MAP_FAILED)
		return;
	p[0] = 7;
	CHECK_EQ("mprotect PROT_READ", mprotect(p, PG, PROT_READ), 0);
	CHECK_EQ("read-only page still reads", p[0], 7);
	CHECK_EQ("mprotect back to PROT_READ|PROT_WRITE",
		 mprotect(p, PG, PROT_READ | PROT_WRITE), 0);
	p[0] = 8;
	CHECK_EQ("page is writable again", p[0], 8);
	CHECK_ERR("mprotect of an unaligned address is EINVAL",
		  syscall(SYS_mprotect, p + 1, PG, PROT_READ), EINVAL);
	CHECK(forty_two_code_ok(p + PG),
	      "code copied to a page made PROT_EXEC runs");
	munmap(p, 2 * PG);
	CHECK_ERR("mprotect of unmapped pages is ENOMEM",
		  mprotect(p, PG, PROT_READ), ENOMEM);
}

static void test_mremap(void)
{
	unsigned char *p = anon(PG, PROT_READ | PROT_WRITE), *q;

	CHECK(p != MAP_FAILED, "mmap a page to mremap");
	if (p == MAP_FAILED)
		return;
	memset(p, 0x11, PG);
	q = mremap(p, PG, 4 * PG, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED, "mremap grow with MREMAP_MAYMOVE");
	if (q == MAP_FAILED)
		return;
	CHECK(all_bytes(q, PG, 0x11), "mremap keeps the old contents");
	CHECK(all_bytes(q + PG, 3 * PG, 0), "mremap's new pages are zero");
	q[4 * PG - 1] = 3;
	CHECK_EQ("mremap's new pages are writable", q[4 * PG - 1], 3);
	munmap(q, 4 * PG);

	/* Grow in place into a hole we made. */
	p = anon(8 * PG, PROT_READ | PROT_WRITE);
	if (p != MAP_FAILED) {
		munmap(p + 2 * PG, 6 * PG);
		p[0] = 9;
		q = mremap(p, 2 * PG, 8 * PG, 0);
		CHECK(q == p, "mremap grows in place when the space is free");
		CHECK(q == p && p[0] == 9 && all_bytes(p + 2 * PG, 6 * PG, 0),
		      "in-place growth keeps data, new part zero");
		q = mremap(p, 8 * PG, PG, 0);
		CHECK(q == p, "mremap shrinks in place");
		CHECK(unmapped(p + PG, 7 * PG), "shrinking unmaps the tail");
		CHECK(mremap(p, PG, 2 * PG, 0) != MAP_FAILED,
		      "regrowing over the freed tail works");
		munmap(p, 2 * PG);
	}

	/* Growing without MREMAP_MAYMOVE when the next page is taken. */
	p = anon(2 * PG, PROT_READ | PROT_WRITE);
	if (p != MAP_FAILED) {
		CHECK(mremap(p, PG, 2 * PG, 0) == MAP_FAILED && errno == ENOMEM,
		      "mremap grow in place over a mapped page is ENOMEM");
		munmap(p, 2 * PG);
	}

	/* Move to a chosen address. */
	p = anon(2 * PG, PROT_READ | PROT_WRITE);
	unsigned char *dst = anon(2 * PG, PROT_READ | PROT_WRITE);
	if (p != MAP_FAILED && dst != MAP_FAILED) {
		memset(p, 0x22, 2 * PG);
		q = mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
			   dst);
		CHECK(q == dst, "mremap MREMAP_FIXED moves to the address");
		CHECK(q == dst && all_bytes(dst, 2 * PG, 0x22),
		      "moved pages keep their contents");
		CHECK(unmapped(p, 2 * PG), "the old address is unmapped");
		munmap(dst, 2 * PG);
	}
}

static void test_brk(void)
{
	/* Raw brk calls, and nothing printed until the break is back where
	 * it was: libc's malloc may also use the break. */
	uintptr_t b0 = (uintptr_t)syscall(SYS_brk, 0);
	uintptr_t grown = (uintptr_t)syscall(SYS_brk, b0 + (1 << 20));
	int wrote = 0, zero_again = 0;
	if (grown == b0 + (1 << 20)) {
		memset((void *)b0, 0x33, 1 << 20);
		wrote = all_bytes((void *)b0, 1 << 20, 0x33);
	}
	uintptr_t shrunk = (uintptr_t)syscall(SYS_brk, b0);
	uintptr_t regrown = (uintptr_t)syscall(SYS_brk, b0 + 64 * 1024);
	uintptr_t a = (b0 + PG - 1) & ~(PG - 1);
	if (regrown == b0 + 64 * 1024)
		zero_again = all_bytes((void *)a, b0 + 64 * 1024 - a, 0);
	uintptr_t back = (uintptr_t)syscall(SYS_brk, b0);
	uintptr_t low = (uintptr_t)syscall(SYS_brk, 1);

	CHECK(b0 != 0, "brk(0) returns the current break");
	CHECK(grown == b0 + (1 << 20), "brk grows by 1 MiB");
	CHECK(wrote, "grown break memory is writable");
	CHECK(shrunk == b0, "brk shrinks back");
	CHECK(zero_again, "memory given back and regrown is zero");
	CHECK(back == b0, "brk shrinks back again");
	CHECK(low == b0, "brk below the start fails, returning the break");
}

static void test_madvise(void)
{
	unsigned char *p = anon(4 * PG, PROT_READ | PROT_WRITE);

	CHECK(p != MAP_FAILED, "mmap four pages for madvise");
	if (p == MAP_FAILED)
		return;
	memset(p, 0xaa, 4 * PG);
	CHECK_EQ("madvise MADV_DONTNEED", madvise(p, 4 * PG, MADV_DONTNEED), 0);
	CHECK(all_bytes(p, 4 * PG, 0),
	      "MADV_DONTNEED anonymous pages read back as zero");
	p[0] = 1;
	CHECK_EQ("pages are usable after MADV_DONTNEED", p[0], 1);
	CHECK_ERR("madvise of an unaligned address is EINVAL",
		  syscall(SYS_madvise, p + 1, PG, MADV_DONTNEED), EINVAL);
	munmap(p, 4 * PG);
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* MAP_FIXED_NOREPLACE maps exactly there when the range is free and fails
 * with EEXIST, leaving the old mapping alone, when it is not. */
static void test_fixed_noreplace(void)
{
	size_t pg = 4096;
	char *a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED, "mmap 4 pages for MAP_FIXED_NOREPLACE");
	munmap(a + 2 * pg, 2 * pg);
	a[0] = 'x';
	errno = 0;
	void *p =
	    mmap(a + pg, pg, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(p == MAP_FAILED && errno == EEXIST,
	      "MAP_FIXED_NOREPLACE over a mapping fails with EEXIST");
	CHECK(a[0] == 'x', "... and the old mapping is untouched");
	p = mmap(a + 2 * pg, pg, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(p == a + 2 * pg,
	      "MAP_FIXED_NOREPLACE on a free range maps exactly there");
	munmap(a, 4 * pg);
}

static void test_malloc(void)
{
	size_t n = 16 << 20;
	unsigned char *p = malloc(n);

	CHECK(p != NULL, "malloc 16 MiB");
	if (!p)
		return;
	for (size_t i = 0; i < n; i += PG)
		p[i] = (unsigned char)(i / PG);
	unsigned long sum = 0, want = 0;
	for (size_t i = 0; i < n; i += PG) {
		sum += p[i];
		want += (unsigned char)(i / PG);
	}
	CHECK(sum == want, "every page of 16 MiB holds what was written");
	free(p);

	unsigned char *c = calloc(1, 1 << 20);
	CHECK(c && all_bytes(c, 1 << 20, 0), "calloc 1 MiB is zero");
	free(c);

	/* Many small allocations (malloc's brk/mmap paths). */
	void *v[1000];
	int ok = 1;
	for (int i = 0; i < 1000; i++) {
		v[i] = malloc(16 + i * 8);
		ok &= v[i] != NULL;
		if (v[i])
			memset(v[i], i & 0xff, 16 + i * 8);
	}
	for (int i = 0; i < 1000; i++) {
		if (v[i])
			ok &= all_bytes(v[i], 16 + i * 8, i & 0xff);
		free(v[i]);
	}
	CHECK(ok, "1000 small allocations keep their contents");
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/data/sample.txt";

	/* Print once first so stdio's buffer exists before the brk test. */
	puts("# memory");
	fflush(stdout);
	test_brk();
	test_anon();
	test_file(path);
	test_mprotect();
	test_mremap();
	test_madvise();
	test_fixed_noreplace();
	test_malloc();
	return tap_done("memory");
}
