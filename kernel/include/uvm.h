/*
 * The program's address space: a sorted list of mappings (VMAs), each
 * anonymous or backed by a file, filled a page at a time on first touch.
 */
#ifndef UVM_H
#define UVM_H

#include "kernel.h"

struct file;

#define UVM_READ  1 /* PROT_READ */
#define UVM_WRITE 2 /* PROT_WRITE */
#define UVM_EXEC  4 /* PROT_EXEC */

#define UVM_SHARED 1 /* MAP_SHARED: file pages are the file's own */
#define UVM_STACK  2 /* the main thread's stack (shown as [stack]) */
#define UVM_HEAP   4 /* the brk area ([heap]) */
/* A shared file mapping of a read-only descriptor: mprotect may not add
 * PROT_WRITE (EACCES). */
#define UVM_NOWRITE 8
/* MAP_NORESERVE: making it writable commits nothing (mprotect). */
#define UVM_NORESERVE 16
/* The vDSO and its vvar page: kernel pages shown to the program (at the
 * physical address in file_off), never freed, never writable, never
 * moved or grown by mremap. */
#define UVM_VDSO   32
#define UVM_VVAR   64
#define UVM_KPAGES (UVM_VDSO | UVM_VVAR)

struct vma {
	uint64_t start, end; /* page aligned, [start, end) */
	int prot;	     /* UVM_READ | UVM_WRITE | UVM_EXEC */
	int flags;	   /* UVM_SHARED | UVM_STACK | UVM_HEAP | UVM_NOWRITE |
			      UVM_NORESERVE */
	struct file *file; /* NULL for anonymous memory; holds a reference */
	uint64_t file_off; /* file offset that maps to start (UVM_KPAGES:
			      the physical address that does) */
	uint64_t file_end; /* virtual address where file data ends (zeros
			      after, as for an ELF segment's .bss tail) */
	struct vma *next;
};

/* Maps [*addr, *addr + len).  Without fixed, *addr is a hint and the
 * chosen address is stored back; with fixed, existing mappings in the
 * range are replaced.  file may be NULL; the mapping takes its own
 * reference.  file_end is the virtual address where file bytes stop
 * (use UINT64_MAX for "whole pages from the file").  0 or -errno. */
int uvm_map(uint64_t *addr, uint64_t len, int prot, int flags, bool fixed,
	    struct file *file, uint64_t file_off, uint64_t file_end);
/* Maps the kernel's physically contiguous pages at phys at *addr
 * (fixed), flags UVM_VDSO or UVM_VVAR; never writable.  0 or -errno. */
int uvm_map_kpages(uint64_t addr, uint64_t len, int prot, int flags,
		   uint64_t phys);
int uvm_unmap(uint64_t addr, uint64_t len);
/* mprotect: -ENOMEM also when the private memory it makes writable
 * (not MAP_NORESERVE) is more than the guest's RAM, as Linux's overcommit
 * heuristic refuses it. */
int uvm_protect(uint64_t addr, uint64_t len, int prot);
/* Drops the pages (next touch reads zeros or the file again). */
int uvm_discard(uint64_t addr, uint64_t len);
/* mremap: 0 and the new address in *new_addr, or -errno.  dontunmap
 * (MREMAP_DONTUNMAP) leaves the old range mapped and empty. */
int uvm_remap(uint64_t old_addr, uint64_t old_len, uint64_t new_len,
	      bool may_move, bool fixed, bool dontunmap, uint64_t *new_addr);
/* Resolves a page fault at addr (x86 error code bits); 0 when the page is
 * now mapped, -EFAULT when the access is not allowed. */
int uvm_fault(uint64_t addr, uint64_t error);
/* Makes every page of [addr, addr+len) present and accessible for a read
 * (or write); 0 or -EFAULT.  Used by uaccess. */
int uvm_prefault(uint64_t addr, uint64_t len, bool write);
/* First mapping that ends above addr, or NULL (for /proc/self/maps). */
const struct vma *uvm_next(uint64_t addr);

/* The file whose identity is key (vfs_mmap_key) lost its pages from
 * byte offset from on (truncate): shared mappings of it drop them (the
 * next touch maps the file's new page, or faults past its end). */
void uvm_file_shrunk(const void *key, uint64_t from);

/* Memory use, for getrusage, sysinfo and /proc. */
struct uvm_stats {
	uint64_t resident;     /* bytes mapped in the page tables now */
	uint64_t peak;	       /* most resident bytes so far */
	uint64_t minor_faults; /* pages mapped on first touch */
	uint64_t mapped;       /* bytes of all mappings (VmSize) */
	uint64_t brk_start, brk_end;
};
void uvm_stats(struct uvm_stats *st);

/* brk area: set once by the ELF loader, moved by brk(2). */
void uvm_brk_init(uint64_t start);
uint64_t uvm_brk(uint64_t new_end);

#endif
