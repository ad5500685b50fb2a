/*
 * Shared file mappings and the memory calls Debian's programs make beyond
 * memory.c: MAP_SHARED of a file is the file (stores reach read(2) and
 * other mappings, write(2) shows in the mapping, the data outlives the
 * mapping, the descriptor and the name), truncating and growing a file
 * under a mapping, MAP_PRIVATE beside it, madvise(MADV_DONTNEED) on a
 * shared mapping (the data stays), msync, mprotect refusing PROT_WRITE on
 * a shared mapping of a read-only descriptor, MREMAP_DONTUNMAP, and
 * Linux's overcommit heuristic: a private writable mapping larger than
 * the machine's RAM and swap is ENOMEM (malloc returns NULL), but not with
 * MAP_NORESERVE or PROT_NONE.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>

#include "tap.h"

#define PG 4096UL

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static int all_bytes(const void *p, size_t n, unsigned char v)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != v)
			return 0;
	return 1;
}

static int temp_file(char *path)
{
	strcpy(path, "/tmp/kiln-shared-XXXXXX");
	return mkstemp(path);
}

static void test_shared_file(void)
{
	char path[64], buf[PG];
	int fd = temp_file(path);

	CHECK_OK("create a temp file", fd);
	memset(buf, 'a', PG);
	CHECK_EQ("write page 0", pwrite(fd, buf, PG, 0), (long)PG);
	memset(buf, 'b', PG);
	CHECK_EQ("write page 1", pwrite(fd, buf, PG, PG), (long)PG);

	char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *m2 = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
	char *p =
	    mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && m2 != MAP_FAILED && p != MAP_FAILED,
	      "map the file shared twice and private once");
	if (m == MAP_FAILED || m2 == MAP_FAILED || p == MAP_FAILED)
		return;
	CHECK(all_bytes(m, PG, 'a') && all_bytes(m + PG, PG, 'b'),
	      "the shared mapping shows the file");

	memcpy(m + 10, "shared store", 12);
	CHECK(pread(fd, buf, 12, 10) == 12 &&
		  memcmp(buf, "shared store", 12) == 0,
	      "a store through MAP_SHARED is read back by pread");
	CHECK(memcmp(m2 + 10, "shared store", 12) == 0,
	      "another shared mapping sees the store");

	CHECK_EQ("pwrite into the mapped range", pwrite(fd, "WRITTEN", 7, 100),
		 7);
	CHECK(memcmp(m + 100, "WRITTEN", 7) == 0 &&
		  memcmp(m2 + 100, "WRITTEN", 7) == 0,
	      "pwrite shows in the shared mappings");

	p[PG] = 'P';
	CHECK(m[PG] == 'b' && pread(fd, buf, 1, PG) == 1 && buf[0] == 'b',
	      "a store to a MAP_PRIVATE page stays private");

	CHECK_EQ("msync MS_SYNC", msync(m, 2 * PG, MS_SYNC), 0);
	CHECK_EQ("madvise MADV_DONTNEED on the shared mapping",
		 madvise(m, 2 * PG, MADV_DONTNEED), 0);
	CHECK(memcmp(m + 10, "shared store", 12) == 0 && m[PG + 1] == 'b',
	      "after MADV_DONTNEED the shared pages still hold the file");

	/* Shrink to one page, grow back: the second page is new zeros in
	 * every shared mapping (touching it in between would be SIGBUS). */
	CHECK_EQ("ftruncate to one page", ftruncate(fd, PG), 0);
	CHECK_EQ("ftruncate back to two pages", ftruncate(fd, 2 * PG), 0);
	CHECK(all_bytes(m + PG, PG, 0) && all_bytes(m2 + PG, PG, 0),
	      "the regrown page reads as zeros through the mappings");
	CHECK(m[10] == 's', "the first page kept its data");
	m[PG + 5] = 'z';
	CHECK(pread(fd, buf, 1, PG + 5) == 1 && buf[0] == 'z',
	      "a store to the regrown page reaches the file");

	/* The data is the file's: it outlives the mapping, the descriptor
	 * and the name. */
	CHECK_EQ("munmap the second shared mapping", munmap(m2, 2 * PG), 0);
	CHECK_EQ("close the descriptor", close(fd), 0);
	CHECK_EQ("unlink the file", unlink(path), 0);
	memcpy(m + 200, "after close", 11);
	CHECK(memcmp(m + 200, "after close", 11) == 0,
	      "the mapping works after close and unlink");
	CHECK_EQ("munmap", munmap(m, 2 * PG), 0);
	CHECK_EQ("munmap the private mapping", munmap(p, 2 * PG), 0);

	fd = temp_file(path);
	memset(buf, 'c', PG);
	CHECK_EQ("write a new file", pwrite(fd, buf, PG, 0), (long)PG);
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "map it shared");
	if (m != MAP_FAILED) {
		memset(m, 'd', PG);
		CHECK_EQ("munmap", munmap(m, PG), 0);
	}
	CHECK(pread(fd, buf, PG, 0) == (long)PG && all_bytes(buf, PG, 'd'),
	      "stores made before munmap are in the file");
	close(fd);

	/* A read-only descriptor: shared and PROT_READ only. */
	fd = open(path, O_RDONLY);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "map a read-only descriptor shared PROT_READ");
	errno = 0;
	CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
		      MAP_FAILED &&
		  errno == EACCES,
	      "shared PROT_WRITE of a read-only descriptor is EACCES");
	if (m != MAP_FAILED) {
		CHECK_ERR("mprotect PROT_WRITE on it is EACCES",
			  (errno = 0, mprotect(m, PG, PROT_READ | PROT_WRITE)),
			  EACCES);
		munmap(m, PG);
	}
	close(fd);
	unlink(path);
}

static void test_dontunmap(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap two pages for MREMAP_DONTUNMAP");
	if (p == MAP_FAILED)
		return;
	memset(p, 0x33, 2 * PG);
	/* syscall(2): glibc's mremap passes a stray fifth argument, which
	 * Linux 6.18 refuses without MREMAP_FIXED. */
	char *q = (char *)syscall(SYS_mremap, p, 2 * PG, 2 * PG,
				  MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	if (q == MAP_FAILED)
		printf("# mremap: %s\n", strerror(errno));
	CHECK(q != MAP_FAILED && q != p, "MREMAP_DONTUNMAP moves the pages");
	if (q == MAP_FAILED)
		return;
	CHECK(all_bytes(q, 2 * PG, 0x33), "the new range has the data");
	CHECK(all_bytes(p, 2 * PG, 0), "the old range stays mapped, empty");
	p[0] = 1;
	CHECK(q[0] == 0x33, "and is memory of its own");
	errno = 0;
	CHECK(syscall(SYS_mremap, q, 2 * PG, 3 * PG,
		      MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0) == -1 &&
		  errno == EINVAL,
	      "MREMAP_DONTUNMAP with another size is EINVAL");
	munmap(p, 2 * PG);
	munmap(q, 2 * PG);
}

/* Linux's default heuristic (vm.overcommit_memory 0) refuses a single
 * commitment larger than RAM plus swap. */
static void test_overcommit(void)
{
	struct sysinfo si;
	char mode[4] = "";
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, mode, 3) < 0)
			mode[0] = '\0';
		close(fd);
	}
	if (mode[0] != '0') {
		tap_check(1, "overcommit: skipped, vm.overcommit_memory is "
			     "not 0 here");
		return;
	}
	CHECK_EQ("sysinfo", sysinfo(&si), 0);
	size_t big = ((size_t)si.totalram + si.totalswap) * si.mem_unit * 2;
	errno = 0;
	void *p = mmap(NULL, big, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p == MAP_FAILED && errno == ENOMEM,
	      "a writable mapping of twice RAM+swap is ENOMEM");
	if (p != MAP_FAILED)
		munmap(p, big);
	void *m = malloc(big);
	CHECK(m == NULL, "malloc of twice RAM+swap returns NULL");
	free(m);
	p = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "a PROT_NONE reservation of that size is fine");
	if (p != MAP_FAILED) {
		CHECK_ERR("making all of it writable is ENOMEM",
			  (errno = 0, mprotect(p, big, PROT_READ | PROT_WRITE)),
			  ENOMEM);
		CHECK_EQ("making one page of it writable is fine",
			 mprotect(p, PG, PROT_READ | PROT_WRITE), 0);
		((char *)p)[0] = 1;
		munmap(p, big);
	}
	p = mmap(NULL, big, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(p != MAP_FAILED, "with MAP_NORESERVE it is fine");
	if (p != MAP_FAILED) {
		((char *)p)[big / 2] = 1;
		munmap(p, big);
	}
	p = mmap(NULL, big, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(p != MAP_FAILED && mprotect(p, big, PROT_READ | PROT_WRITE) == 0,
	      "a MAP_NORESERVE reservation may be made writable whole");
	if (p != MAP_FAILED)
		munmap(p, big);
}

int main(void)
{
	test_shared_file();
	test_dontunmap();
	test_overcommit();
	return tap_done("mmap_shared");
}
