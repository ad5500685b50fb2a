/*
 * The ELF loader: static, static-pie and dynamic x86_64 executables.
 *
 * Each PT_LOAD becomes one file-backed mapping whose pages are read from
 * the rootfs on first touch; bytes past p_filesz read as zeros, which
 * covers .bss.  A dynamic program's PT_INTERP (ld.so) is loaded the same
 * way at its own base and started instead of the program, with AT_BASE,
 * AT_PHDR and AT_ENTRY telling it where the program is, exactly as Linux's
 * execve leaves things.  The initial stack follows the x86-64 psABI:
 * argc, argv[], NULL, envp[], NULL, auxv pairs, then the strings.  The
 * vDSO (exec/vdso.c) is mapped last and named by AT_SYSINFO_EHDR.
 */
#include "arch.h"
#include "exec.h"
#include "fs.h"
#include "proc.h"
#include "uaccess.h"
#include "uvm.h"
#include "x86.h"
#include <asm-generic/fcntl.h>
#include <linux/auxvec.h>
#include <linux/elf.h>

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	uint64_t bias;	  /* added to every p_vaddr */
	uint64_t end;	  /* highest mapped address (for brk) */
	uint64_t phdr_va; /* where the program headers are in memory */
};

static int load_headers(struct file *f, const char *path, struct image *im)
{
	ssize_t n = vfs_pread(f, &im->eh, sizeof(im->eh), 0);
	if (n < 4 || memcmp(im->eh.e_ident, ELFMAG, SELFMAG)) {
		klog("'%s' is not an ELF executable", path);
		return -ENOEXEC;
	}
	if (n < (ssize_t)sizeof(im->eh)) {
		klog("'%s' is a truncated ELF file", path);
		return -ENOEXEC;
	}
	if (im->eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    im->eh.e_machine != EM_X86_64) {
		klog("'%s' is not an x86_64 program (class %u, machine %u)",
		     path, im->eh.e_ident[EI_CLASS], im->eh.e_machine);
		return -ENOEXEC;
	}
	if (im->eh.e_type != ET_EXEC && im->eh.e_type != ET_DYN) {
		klog("'%s' is not an executable (ELF type %u)", path,
		     im->eh.e_type);
		return -ENOEXEC;
	}
	if (im->eh.e_phentsize != sizeof(Elf64_Phdr) || im->eh.e_phnum == 0 ||
	    im->eh.e_phnum > ARRAY_SIZE(im->ph)) {
		klog("'%s' has unusable program headers (%u of %u bytes)", path,
		     im->eh.e_phnum, im->eh.e_phentsize);
		return -ENOEXEC;
	}
	size_t sz = im->eh.e_phnum * sizeof(Elf64_Phdr);
	if (vfs_pread(f, im->ph, sz, im->eh.e_phoff) != (ssize_t)sz) {
		klog("'%s' is a truncated ELF file", path);
		return -ENOEXEC;
	}
	return 0;
}

static int prot_of(uint32_t flags)
{
	return (flags & PF_R ? UVM_READ : 0) | (flags & PF_W ? UVM_WRITE : 0) |
	       (flags & PF_X ? UVM_EXEC : 0);
}

/* Maps every PT_LOAD of an image at base (for ET_DYN). */
static int load_segments(struct file *f, const char *path, struct image *im,
			 uint64_t base)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_filesz > p->p_memsz ||
		    p->p_vaddr + p->p_memsz < p->p_vaddr ||
		    (p->p_vaddr - p->p_offset) % PAGE_SIZE) {
			klog("'%s' has a malformed segment %d", path, i);
			return -ENOEXEC;
		}
		lo = MIN(lo, ALIGN_DOWN(p->p_vaddr, PAGE_SIZE));
		hi = MAX(hi, p->p_vaddr + p->p_memsz);
	}
	if (hi == 0) {
		klog("'%s' has nothing to load", path);
		return -ENOEXEC;
	}
	im->bias = im->eh.e_type == ET_DYN ? base - lo : 0;
	if (hi + im->bias > USER_MMAP_TOP || lo + im->bias < USER_MMAP_BOTTOM) {
		klog("'%s' wants addresses kiln cannot give (0x%lx-0x%lx)",
		     path, lo + im->bias, hi + im->bias);
		return -ENOEXEC;
	}
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		uint64_t va = p->p_vaddr + im->bias;
		uint64_t start = ALIGN_DOWN(va, PAGE_SIZE);
		uint64_t end = ALIGN_UP(va + p->p_memsz, PAGE_SIZE);
		int r = uvm_map(&start, end - start, prot_of(p->p_flags), 0,
				true, f, ALIGN_DOWN(p->p_offset, PAGE_SIZE),
				va + p->p_filesz);
		if (r)
			return r;
		if (im->eh.e_phoff >= p->p_offset &&
		    im->eh.e_phoff < p->p_offset + p->p_filesz)
			im->phdr_va = va + (im->eh.e_phoff - p->p_offset);
	}
	for (int i = 0; i < im->eh.e_phnum; i++)
		if (im->ph[i].p_type == PT_PHDR)
			im->phdr_va = im->ph[i].p_vaddr + im->bias;
	im->end = ALIGN_UP(hi + im->bias, PAGE_SIZE);
	return 0;
}

static int open_image(const char *path, struct file **f, struct image *im)
{
	int r = vfs_open(path, O_RDONLY, 0, f);
	if (r) {
		/* The caller names a missing file: program or interpreter. */
		if (r != -ENOENT)
			klog("cannot open '%s' (error %d)", path, -r);
		return r;
	}
	r = load_headers(*f, path, im);
	if (r)
		file_put(*f);
	return r;
}

/* Pushes bytes onto the new stack (growing down); returns their address. */
static uint64_t push_bytes(uint64_t *sp, const void *data, size_t n, int *err)
{
	*sp -= n;
	if (copy_to_user((void *)*sp, data, n))
		*err = -EFAULT;
	return *sp;
}

static uint64_t hwcap(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return r[3];
}

static int stack_build(const struct image *exe, const struct image *interp,
		       uint64_t vdso, const char *path, char *const argv[],
		       int argc, char *const envp[], int envc, uint64_t *sp_out)
{
	uint64_t top = USER_STACK_TOP, base = top - USER_STACK_SIZE;
	int r = uvm_map(&base, USER_STACK_SIZE, UVM_READ | UVM_WRITE, UVM_STACK,
			true, NULL, 0, 0);
	if (r)
		return r;

	size_t bytes = 0;
	for (int i = 0; i < argc; i++)
		bytes += strlen(argv[i]) + 1;
	for (int i = 0; i < envc; i++)
		bytes += strlen(envp[i]) + 1;
	if (bytes > MAX_ARG_BYTES) {
		klog("arguments and environment too large (%lu bytes, limit "
		     "%lu)",
		     bytes, (unsigned long)MAX_ARG_BYTES);
		return -E2BIG;
	}

	int err = 0;
	uint64_t sp = top;
	uint64_t execfn = push_bytes(&sp, path, strlen(path) + 1, &err);
	uint64_t platform = push_bytes(&sp, "x86_64", 7, &err);
	uint64_t uargv[MAX_ARGS], uenvp[MAX_ENVS];
	for (int i = envc - 1; i >= 0; i--)
		uenvp[i] = push_bytes(&sp, envp[i], strlen(envp[i]) + 1, &err);
	for (int i = argc - 1; i >= 0; i--)
		uargv[i] = push_bytes(&sp, argv[i], strlen(argv[i]) + 1, &err);
	/* The strings lie in order, argv[0] lowest, each after the last. */
	uint64_t env_start = envc ? uenvp[0] : platform;
	proc_set_args(argc ? uargv[0] : env_start, env_start, env_start,
		      platform);
	uint8_t rnd[16];
	random_bytes(rnd, sizeof(rnd));
	sp = ALIGN_DOWN(sp, 16);
	uint64_t random = push_bytes(&sp, rnd, sizeof(rnd), &err);

	uint64_t auxv[][2] = {
	    {AT_PHDR, exe->phdr_va},
	    {AT_PHENT, sizeof(Elf64_Phdr)},
	    {AT_PHNUM, exe->eh.e_phnum},
	    {AT_PAGESZ, PAGE_SIZE},
	    {AT_BASE, interp ? interp->bias : 0},
	    {AT_FLAGS, 0},
	    {AT_ENTRY, exe->eh.e_entry + exe->bias},
	    {AT_UID, 0},
	    {AT_EUID, 0},
	    {AT_GID, 0},
	    {AT_EGID, 0},
	    {AT_SECURE, 0},
	    {AT_HWCAP, hwcap()},
	    {AT_HWCAP2, 0},
	    {AT_CLKTCK, 100},
	    {AT_PLATFORM, platform},
	    {AT_RANDOM, random},
	    {AT_EXECFN, execfn},
	    {AT_MINSIGSTKSZ, 2048},
	    {AT_SYSINFO_EHDR, vdso},
	    {AT_NULL, 0},
	};
	size_t nauxv = ARRAY_SIZE(auxv);
	if (!vdso) /* kiln.novdso: no entry, as Linux without a vDSO */
		auxv[--nauxv - 1][0] = AT_NULL;
	/* Keep the final sp 16-byte aligned: count the words below. */
	size_t words = 1 + (argc + 1) + (envc + 1) + 2 * nauxv;
	if (words & 1)
		sp -= 8;
	push_bytes(&sp, auxv, nauxv * sizeof(auxv[0]), &err);
	uint64_t zero = 0;
	push_bytes(&sp, &zero, 8, &err);
	for (int i = envc - 1; i >= 0; i--)
		push_bytes(&sp, &uenvp[i], 8, &err);
	push_bytes(&sp, &zero, 8, &err);
	for (int i = argc - 1; i >= 0; i--)
		push_bytes(&sp, &uargv[i], 8, &err);
	uint64_t c = (uint64_t)argc;
	push_bytes(&sp, &c, 8, &err);
	*sp_out = sp;
	return err;
}

int exec_load(const char *path, char *const argv[], int argc,
	      char *const envp[], int envc, uint64_t *entry, uint64_t *sp)
{
	static struct image exe, interp;
	struct file *f = NULL, *fi = NULL;
	bool has_interp = false;
	int r = open_image(path, &f, &exe);
	if (r) {
		if (r == -ENOENT)
			klog("cannot find program '%s' in the image", path);
		return r;
	}

	char interp_path[MAX_PATH];
	for (int i = 0; i < exe.eh.e_phnum; i++) {
		const Elf64_Phdr *p = &exe.ph[i];
		if (p->p_type != PT_INTERP)
			continue;
		if (p->p_filesz < 2 || p->p_filesz > sizeof(interp_path) ||
		    vfs_pread(f, interp_path, p->p_filesz, p->p_offset) !=
			(ssize_t)p->p_filesz) {
			klog("'%s' has a malformed PT_INTERP", path);
			r = -ENOEXEC;
			goto out;
		}
		interp_path[p->p_filesz - 1] = 0;
		has_interp = true;
	}

	r = load_segments(f, path, &exe, USER_PIE_BASE);
	if (r)
		goto out;
	uvm_brk_init(exe.end);
	if (has_interp) {
		r = open_image(interp_path, &fi, &interp);
		if (r) {
			if (r == -ENOENT)
				klog(
				    "'%s' needs the interpreter '%s', which is "
				    "not in the image",
				    path, interp_path);
			goto out;
		}
		if (interp.eh.e_type != ET_DYN) {
			klog("interpreter '%s' is not a shared object",
			     interp_path);
			r = -ENOEXEC;
			goto out;
		}
		r = load_segments(fi, interp_path, &interp, USER_INTERP_BASE);
		if (r)
			goto out;
	}
	uint64_t vdso;
	r = vdso_map(&vdso);
	if (r)
		goto out;
	r = stack_build(&exe, has_interp ? &interp : NULL, vdso, path, argv,
			argc, envp, envc, sp);
	if (r)
		goto out;
	*entry = has_interp ? interp.eh.e_entry + interp.bias
			    : exe.eh.e_entry + exe.bias;
out:
	/* The mappings hold their own references. */
	if (fi)
		file_put(fi);
	file_put(f);
	return r;
}
