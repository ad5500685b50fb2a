/*
 * The program's address space.  Mappings are kept in a list sorted by
 * address; pages are allocated and filled only when the program (or a
 * syscall, through uaccess) first touches them, which is what lets an
 * 8 MiB stack reservation or glibc's 64 MiB malloc arenas cost nothing,
 * and a static program run in a 4 MiB guest.
 *
 * A private file mapping (MAP_PRIVATE) copies the file's bytes into a
 * page of its own on first touch.  A shared one (MAP_SHARED) maps the
 * file's own page (vfs_mmap_page), so stores through the mapping are the
 * file's content and write(2) is seen in the mapping at once; such a page
 * belongs to the file, so its PTE carries PTE_FILE and unmapping never
 * frees it, and when the file lets go of pages (truncate) it first calls
 * uvm_file_shrunk to take them out of every mapping.  Running out of
 * physical pages while resolving a fault ends the program like Linux's
 * OOM killer would, with status 137.
 */
#include "fs.h"
#include "mm.h"
#include "proc.h"
#include "uvm.h"
#include "vm.h"
#include "x86.h"
#include <kiln/abi.h>

/* A software bit of the PTE (ignored by the MMU): the page belongs to a
 * file (a MAP_SHARED mapping), not to the mapping. */
#define PTE_FILE (1UL << 9)

static struct vma *vmas;
static int nvmas;
static uint64_t brk_start, brk_end;
/* Pages mapped in the program's page tables now, at most so far, and the
 * faults that mapped a page (getrusage, /proc/self/status). */
static uint64_t resident_pages, resident_peak, minor_faults;

static void resident_add(void)
{
	resident_pages++;
	if (resident_pages > resident_peak)
		resident_peak = resident_pages;
}

static uint64_t pte_flags(int prot)
{
	uint64_t f = PTE_P | PTE_U;
	if (prot & UVM_WRITE)
		f |= PTE_W;
	if (!(prot & UVM_EXEC))
		f |= PTE_NX;
	return f;
}

static struct vma *vma_find(uint64_t addr)
{
	for (struct vma *v = vmas; v && v->start <= addr; v = v->next)
		if (addr < v->end)
			return v;
	return NULL;
}

void uvm_stats(struct uvm_stats *st)
{
	st->resident = resident_pages * PAGE_SIZE;
	st->peak = resident_peak * PAGE_SIZE;
	st->minor_faults = minor_faults;
	st->mapped = 0;
	for (struct vma *v = vmas; v; v = v->next)
		st->mapped += v->end - v->start;
	st->brk_start = brk_start;
	st->brk_end = brk_end;
}

const struct vma *uvm_next(uint64_t addr)
{
	for (struct vma *v = vmas; v; v = v->next)
		if (v->end > addr)
			return v;
	return NULL;
}

static void vma_insert(struct vma *n)
{
	struct vma **pp = &vmas;
	while (*pp && (*pp)->start < n->start)
		pp = &(*pp)->next;
	n->next = *pp;
	*pp = n;
	nvmas++;
}

static void vma_free(struct vma *v)
{
	if (v->file)
		file_put(v->file);
	kfree(v);
	nvmas--;
}

/* Unmaps and frees the pages of [s, e) (no VMA changes). */
static void pages_release(uint64_t s, uint64_t e)
{
	for (uint64_t va = s; va < e; va += PAGE_SIZE) {
		/* Skip whole missing page tables quickly. */
		uint64_t *pte = vm_pte(va, false, 0);
		if (!pte) {
			uint64_t next = ALIGN_UP(va + 1, HUGE_PAGE_SIZE);
			if (next > va + PAGE_SIZE)
				va = next - PAGE_SIZE;
			continue;
		}
		if (*pte & PTE_P) {
			if (!(*pte & PTE_FILE))
				page_free(phys_to_virt(*pte & PTE_ADDR_MASK));
			*pte = 0;
			vm_flush(va);
			resident_pages--;
		}
	}
}

/* Splits v at addr (inside it); v keeps the lower part.  -ENOMEM. */
static int vma_split(struct vma *v, uint64_t addr)
{
	if (nvmas >= MAX_VMAS)
		return -ENOMEM;
	struct vma *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *v;
	n->start = addr;
	if (n->file) {
		n->file_off += addr - v->start;
		file_get(n->file);
	} else if (n->flags & UVM_KPAGES) {
		n->file_off += addr - v->start;
	}
	v->end = addr;
	n->next = v->next;
	v->next = n;
	nvmas++;
	return 0;
}

/* Cuts [s, e) out of every mapping, splitting at the edges. */
static int range_remove(uint64_t s, uint64_t e)
{
	struct vma **pp = &vmas;
	while (*pp) {
		struct vma *v = *pp;
		if (v->end <= s) {
			pp = &v->next;
			continue;
		}
		if (v->start >= e)
			break;
		if (v->start < s) {
			int r = vma_split(v, s);
			if (r)
				return r;
			pp = &v->next;
			continue;
		}
		if (v->end > e) {
			int r = vma_split(v, e);
			if (r)
				return r;
		}
		pages_release(v->start, v->end);
		*pp = v->next;
		vma_free(v);
	}
	return 0;
}

static bool range_free(uint64_t s, uint64_t e)
{
	for (struct vma *v = vmas; v && v->start < e; v = v->next)
		if (v->end > s)
			return false;
	return true;
}

/* Highest free gap of len bytes below USER_MMAP_TOP. */
static uint64_t find_gap(uint64_t len)
{
	uint64_t top = USER_MMAP_TOP;
	for (;;) {
		if (top < len || top - len < USER_MMAP_BOTTOM)
			return 0;
		uint64_t s = top - len;
		struct vma *clash = NULL;
		for (struct vma *v = vmas; v && v->start < top; v = v->next)
			if (v->end > s)
				clash = v; /* the highest overlapping one */
		if (!clash)
			return s;
		top = clash->start;
	}
}

int uvm_map(uint64_t *addr, uint64_t len, int prot, int flags, bool fixed,
	    struct file *file, uint64_t file_off, uint64_t file_end)
{
	uint64_t a = *addr;
	if (len == 0)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (len == 0 || len > USER_TOP)
		return -ENOMEM;
	if (fixed) {
		if (!IS_ALIGNED(a, PAGE_SIZE))
			return -EINVAL;
		if (a < USER_MMAP_BOTTOM || a > USER_TOP - len)
			return -ENOMEM;
		int r = range_remove(a, a + len);
		if (r)
			return r;
	} else {
		a = ALIGN_DOWN(a, PAGE_SIZE);
		if (!a || a < USER_MMAP_BOTTOM || a > USER_TOP - len ||
		    !range_free(a, a + len))
			a = find_gap(len);
		if (!a)
			return -ENOMEM;
	}
	if (nvmas >= MAX_VMAS)
		return -ENOMEM;
	struct vma *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->start = a;
	v->end = a + len;
	v->prot = prot;
	v->flags = flags;
	if (file) {
		file_get(file);
		v->file = file;
		v->file_off = file_off;
		v->file_end = file_end;
	}
	vma_insert(v);
	*addr = a;
	return 0;
}

int uvm_map_kpages(uint64_t addr, uint64_t len, int prot, int flags,
		   uint64_t phys)
{
	int r = uvm_map(&addr, len, prot & ~UVM_WRITE, flags | UVM_NOWRITE,
			true, NULL, 0, 0);
	if (r)
		return r;
	vma_find(addr)->file_off = phys;
	return 0;
}

int uvm_unmap(uint64_t addr, uint64_t len)
{
	if (!IS_ALIGNED(addr, PAGE_SIZE) || len == 0)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (addr >= USER_TOP || len > USER_TOP - addr)
		return -EINVAL;
	return range_remove(addr, addr + len);
}

int uvm_protect(uint64_t addr, uint64_t len, int prot)
{
	if (!IS_ALIGNED(addr, PAGE_SIZE))
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (addr >= USER_TOP || len > USER_TOP - addr)
		return -ENOMEM;
	uint64_t e = addr + len;
	/* Linux: the whole range must be mapped. */
	uint64_t commit = 0;
	for (uint64_t a = addr; a < e;) {
		struct vma *v = vma_find(a);
		if (!v)
			return -ENOMEM;
		if ((prot & UVM_WRITE) && (v->flags & UVM_NOWRITE))
			return -EACCES;
		if ((prot & UVM_WRITE) && !(v->prot & UVM_WRITE) &&
		    !(v->flags & (UVM_SHARED | UVM_NORESERVE)))
			commit += MIN(v->end, e) - a;
		a = v->end;
	}
	if (commit > phys_total_bytes())
		return -ENOMEM;
	for (struct vma *v = vmas; v && v->start < e; v = v->next) {
		if (v->end <= addr)
			continue;
		if (v->start < addr) {
			int r = vma_split(v, addr);
			if (r)
				return r;
			continue;
		}
		if (v->end > e) {
			int r = vma_split(v, e);
			if (r)
				return r;
		}
		v->prot = prot;
		for (uint64_t va = v->start; va < v->end; va += PAGE_SIZE) {
			uint64_t *pte = vm_pte(va, false, 0);
			if (pte && (*pte & PTE_P)) {
				*pte = (*pte & (PTE_ADDR_MASK | PTE_FILE)) |
				       pte_flags(prot);
				if (!(prot & (UVM_READ | UVM_WRITE | UVM_EXEC)))
					*pte &= ~PTE_U; /* PROT_NONE */
				vm_flush(va);
			}
		}
	}
	return 0;
}

int uvm_discard(uint64_t addr, uint64_t len)
{
	if (!IS_ALIGNED(addr, PAGE_SIZE))
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (addr >= USER_TOP || len > USER_TOP - addr)
		return -EINVAL;
	for (uint64_t a = addr; a < addr + len; a += PAGE_SIZE)
		if (!vma_find(a))
			return -ENOMEM;
	pages_release(addr, addr + len);
	return 0;
}

/* Fills and maps the page at va (inside v).  0, -ENOMEM, or -EFAULT for
 * a page of a shared file mapping past the end of the file (Linux sends
 * SIGBUS there). */
static int page_fill(struct vma *v, uint64_t va)
{
	uint64_t *pte = vm_pte(va, true, PTE_W | PTE_U);
	if (!pte)
		return -ENOMEM;
	uint64_t f = pte_flags(v->prot);
	if (!(v->prot & (UVM_READ | UVM_WRITE | UVM_EXEC)))
		f &= ~PTE_U;
	if (v->flags & UVM_KPAGES) {
		/* The kernel's page: PTE_FILE keeps unmapping from freeing
		 * it. */
		*pte = (v->file_off + (va - v->start)) | f | PTE_FILE;
		resident_add();
		minor_faults++;
		return 0;
	}
	if (v->file && (v->flags & UVM_SHARED)) {
		void *fpage;
		int r = vfs_mmap_page(v->file, v->file_off + (va - v->start),
				      &fpage);
		if (r)
			return r == -ENOMEM ? r : -EFAULT;
		*pte = virt_to_phys(fpage) | f | PTE_FILE;
		resident_add();
		minor_faults++;
		return 0;
	}
	char *page = page_alloc();
	if (!page)
		return -ENOMEM;
	if (v->file && va < v->file_end) {
		uint64_t n = MIN(PAGE_SIZE, v->file_end - va);
		ssize_t got =
		    vfs_pread(v->file, page, n, v->file_off + (va - v->start));
		(void)got; /* beyond the end of the file reads as zeros */
	}
	*pte = virt_to_phys(page) | f;
	resident_add();
	minor_faults++;
	return 0;
}

void uvm_file_shrunk(const void *key, uint64_t from)
{
	for (struct vma *v = vmas; v; v = v->next) {
		if (!(v->flags & UVM_SHARED) || !v->file ||
		    vfs_mmap_key(v->file) != key)
			continue;
		uint64_t first = v->start;
		if (from > v->file_off)
			first = from - v->file_off >= v->end - v->start
				    ? v->end
				    : v->start + ALIGN_DOWN(from - v->file_off,
							    PAGE_SIZE);
		pages_release(first, v->end); /* PTE_FILE: not freed */
	}
}

static noreturn void out_of_memory(void)
{
	klog("out of memory: the program needs more than the guest's %lu MiB "
	     "(try a larger --memory); killed, exit status 137",
	     phys_total_bytes() >> 20);
	proc_exit(137);
}

static bool access_ok(const struct vma *v, bool write, bool exec)
{
	if (write)
		return v->prot & UVM_WRITE;
	if (exec)
		return v->prot & UVM_EXEC;
	return v->prot & (UVM_READ | UVM_WRITE | UVM_EXEC);
}

int uvm_fault(uint64_t addr, uint64_t error)
{
	bool write = error & 2, exec = error & 16;
	if (addr >= USER_TOP)
		return -EFAULT;
	struct vma *v = vma_find(addr);
	if (!v || !access_ok(v, write, exec))
		return -EFAULT;
	uint64_t va = ALIGN_DOWN(addr, PAGE_SIZE);
	uint64_t *pte = vm_pte(va, false, 0);
	if (pte && (*pte & PTE_P)) {
		/* Present and allowed by the VMA: a stale TLB entry after
		 * mprotect on another path; just retry. */
		vm_flush(va);
		return 0;
	}
	int r = page_fill(v, va);
	if (r == -ENOMEM)
		out_of_memory();
	return r;
}

int uvm_prefault(uint64_t addr, uint64_t len, bool write)
{
	if (len == 0)
		return 0;
	if (addr >= USER_TOP || len > USER_TOP - addr)
		return -EFAULT;
	for (uint64_t va = ALIGN_DOWN(addr, PAGE_SIZE); va < addr + len;
	     va += PAGE_SIZE) {
		uint64_t *pte = vm_pte(va, false, 0);
		if (pte && (*pte & PTE_P) && (*pte & PTE_U) &&
		    (!write || (*pte & PTE_W)))
			continue;
		struct vma *v = vma_find(va);
		if (!v || !access_ok(v, write, false) ||
		    !(v->prot & (UVM_READ | UVM_WRITE)))
			return -EFAULT;
		if (pte && (*pte & PTE_P))
			continue; /* present; permissions match the VMA */
		if (page_fill(v, va) == -ENOMEM)
			out_of_memory();
	}
	return 0;
}

int uvm_remap(uint64_t old_addr, uint64_t old_len, uint64_t new_len,
	      bool may_move, bool fixed, bool dontunmap, uint64_t *new_addr)
{
	if (!IS_ALIGNED(old_addr, PAGE_SIZE) || new_len == 0)
		return -EINVAL;
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	struct vma *v = vma_find(old_addr);
	if (!v || old_len == 0 || old_addr + old_len > v->end)
		return -EFAULT;
	/* Growing the vDSO would show the program kernel memory; moving it
	 * (Linux allows that) is not worth the risk. */
	if (v->flags & UVM_KPAGES)
		return -EINVAL;
	if (dontunmap) {
		/* Linux: a move of a private mapping that keeps the old
		 * range mapped and empty. */
		if (!may_move || old_len != new_len || (v->flags & UVM_SHARED))
			return -EINVAL;
		if (!fixed) {
			*new_addr = find_gap(new_len);
			if (!*new_addr)
				return -ENOMEM;
			goto move;
		}
	}
	if (fixed) {
		/* Move to *new_addr exactly. */
		if (!may_move || !IS_ALIGNED(*new_addr, PAGE_SIZE))
			return -EINVAL;
		uint64_t dst = *new_addr;
		if (dst < old_addr + old_len && old_addr < dst + new_len)
			return -EINVAL;
		int r = range_remove(dst, dst + new_len);
		if (r)
			return r;
		goto move;
	}
	if (new_len <= old_len) {
		if (new_len < old_len) {
			int r = range_remove(old_addr + new_len,
					     old_addr + old_len);
			if (r)
				return r;
		}
		*new_addr = old_addr;
		return 0;
	}
	/* Grow in place when the VMA ends here and the space after is free. */
	if (old_addr + old_len == v->end && old_addr + new_len <= USER_TOP &&
	    range_free(v->end, old_addr + new_len)) {
		v->end = old_addr + new_len;
		*new_addr = old_addr;
		return 0;
	}
	if (!may_move)
		return -ENOMEM;
	*new_addr = find_gap(new_len);
	if (!*new_addr)
		return -ENOMEM;
move:;
	/* New VMA with the same backing; page table entries move over, no
	 * copying of data. */
	uint64_t dst = *new_addr;
	struct vma *n = kzalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *v;
	n->start = dst;
	n->end = dst + new_len;
	n->flags &= ~(UVM_STACK | UVM_HEAP);
	if (n->file) {
		file_get(n->file);
		n->file_off = v->file_off + (old_addr - v->start);
		n->file_end =
		    v->file_end == UINT64_MAX
			? UINT64_MAX
			: dst + (v->file_end > old_addr ? v->file_end - old_addr
							: 0);
	}
	for (uint64_t off = 0; off < old_len && off < new_len;
	     off += PAGE_SIZE) {
		uint64_t *src = vm_pte(old_addr + off, false, 0);
		if (!src || !(*src & PTE_P))
			continue;
		uint64_t *d = vm_pte(dst + off, true, PTE_W | PTE_U);
		if (!d) {
			kfree(n);
			out_of_memory();
		}
		*d = *src;
		*src = 0;
		vm_flush(old_addr + off);
	}
	int r = dontunmap ? 0 : range_remove(old_addr, old_addr + old_len);
	vma_insert(n);
	return r;
}

void uvm_brk_init(uint64_t start)
{
	brk_start = brk_end = ALIGN_UP(start, PAGE_SIZE);
}

uint64_t uvm_brk(uint64_t new_end)
{
	if (new_end < brk_start)
		return brk_end;
	uint64_t old_top = ALIGN_UP(brk_end, PAGE_SIZE);
	uint64_t new_top = ALIGN_UP(new_end, PAGE_SIZE);
	if (new_top > old_top) {
		if (!range_free(old_top, new_top) || new_top > USER_MMAP_TOP)
			return brk_end;
		uint64_t a = old_top;
		if (uvm_map(&a, new_top - old_top, UVM_READ | UVM_WRITE,
			    UVM_HEAP, true, NULL, 0, 0))
			return brk_end;
	} else if (new_top < old_top) {
		range_remove(new_top, old_top);
	}
	brk_end = new_end;
	return brk_end;
}
