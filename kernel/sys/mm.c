/*
 * Memory syscalls: thin argument checking over mm/uvm.c.
 *
 * Memory is given on first touch, so a mapping costs nothing until used,
 * but a request that could never be backed fails at once with ENOMEM, as
 * under Linux's default overcommit heuristic (vm.overcommit_memory = 0):
 * a private writable or shared anonymous mapping without MAP_NORESERVE
 * that is larger than all of the guest's RAM (there is no swap).  So
 * malloc(1 GiB) in a 64 MiB guest returns NULL instead of the program
 * being killed later.
 */
#include "fs.h"
#include "mm.h"
#include "syscall.h"
#include "uvm.h"
#include <asm-generic/mman-common.h>
#include <linux/mman.h>

/* Could len bytes of committed memory ever be backed?  (Linux's
 * __vm_enough_memory in heuristic mode: more than RAM + swap fails.) */
static bool mm_may_commit(uint64_t len)
{
	return len <= phys_total_bytes();
}

static long sys_mmap(uint64_t addr, uint64_t len, long prot, long flags,
		     long fd, uint64_t off)
{
	int type = flags & MAP_TYPE;
	if (len == 0 || (type != MAP_PRIVATE && type != MAP_SHARED &&
			 type != MAP_SHARED_VALIDATE))
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	if (ALIGN_UP(len, PAGE_SIZE) < len)
		return -ENOMEM;
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	if (fixed && (addr & (PAGE_SIZE - 1)))
		return -EINVAL;
	if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED)) {
		/* Fail instead of replacing: the first mapping that ends above
		 * addr must start at or after the range's end. */
		const struct vma *v = uvm_next(addr);
		if (v && v->start < addr + ALIGN_UP(len, PAGE_SIZE))
			return -EEXIST;
	}

	struct file *f = NULL;
	bool may_write = true;
	if (!(flags & MAP_ANONYMOUS)) {
		f = fd_get((int)fd);
		if (!f)
			return -EBADF;
		int r = vfs_mmap_check(f, (int)prot, (int)flags, &may_write);
		if (r < 0) {
			file_put(f);
			return r;
		}
		if (r == 1) { /* /dev/zero: anonymous memory */
			file_put(f);
			f = NULL;
		}
	}
	/* What Linux accounts: private writable memory, shared anonymous
	 * memory (shmem), unless MAP_NORESERVE. */
	bool commit = type == MAP_PRIVATE ? (prot & PROT_WRITE) : !f;
	if (commit && !(flags & MAP_NORESERVE) &&
	    !mm_may_commit(ALIGN_UP(len, PAGE_SIZE))) {
		if (f)
			file_put(f);
		return -ENOMEM;
	}
	int uflags = type == MAP_PRIVATE ? 0 : UVM_SHARED;
	if (f && uflags && !may_write)
		uflags |= UVM_NOWRITE;
	if (flags & MAP_NORESERVE)
		uflags |= UVM_NORESERVE;
	if (flags & MAP_GROWSDOWN)
		uflags |= UVM_STACK;
	int r =
	    uvm_map(&addr, len, (int)prot, uflags, fixed, f, off, UINT64_MAX);
	if (f)
		file_put(f);
	return r ? r : (long)addr;
}
SYSCALL_REGISTER(__NR_mmap, mmap, sys_mmap);

static long sys_munmap(uint64_t addr, uint64_t len)
{
	return uvm_unmap(addr, len);
}
SYSCALL_REGISTER(__NR_munmap, munmap, sys_munmap);

static long sys_mprotect(uint64_t addr, uint64_t len, long prot)
{
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN |
		     PROT_GROWSUP))
		return -EINVAL;
	return uvm_protect(addr, len, (int)(prot & 7));
}
SYSCALL_REGISTER(__NR_mprotect, mprotect, sys_mprotect);

static long sys_mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len,
		       long flags, uint64_t new_addr)
{
	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (new_len > old_len && !mm_may_commit(ALIGN_UP(new_len, PAGE_SIZE)))
		return -ENOMEM;
	uint64_t out = new_addr;
	int r = uvm_remap(old_addr, old_len, new_len, flags & MREMAP_MAYMOVE,
			  flags & MREMAP_FIXED, flags & MREMAP_DONTUNMAP, &out);
	return r ? r : (long)out;
}
SYSCALL_REGISTER(__NR_mremap, mremap, sys_mremap);

static long sys_brk(uint64_t end)
{
	uint64_t cur = uvm_brk(0);
	/* A break that could never be backed stays where it is. */
	if (end > cur && !mm_may_commit(ALIGN_UP(end - cur, PAGE_SIZE)))
		return (long)cur;
	return (long)uvm_brk(end);
}
SYSCALL_REGISTER(__NR_brk, brk, sys_brk);

static long sys_madvise(uint64_t addr, uint64_t len, long advice)
{
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_FREE:
		return uvm_discard(addr, len);
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
		return 0;
	default:
		return -EINVAL;
	}
}
SYSCALL_REGISTER(__NR_madvise, madvise, sys_madvise);

static long sys_msync(uint64_t addr, uint64_t len, long flags)
{
	return (addr & (PAGE_SIZE - 1)) ? -EINVAL : 0;
}
SYSCALL_REGISTER(__NR_msync, msync, sys_msync);

static long sys_mlock(void)
{
	return 0; /* nothing is ever swapped out */
}
SYSCALL_REGISTER(__NR_mlock, mlock, sys_mlock);
SYSCALL_REGISTER(__NR_munlock, munlock, sys_mlock);
SYSCALL_REGISTER(__NR_mlockall, mlockall, sys_mlock);
SYSCALL_REGISTER(__NR_munlockall, munlockall, sys_mlock);
