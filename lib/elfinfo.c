/*
 * ELF64 reading for the host side (see elfinfo.h).  The file is read with
 * pread() piece by piece (header, program headers, PT_INTERP, PT_DYNAMIC,
 * single strings), never mapped or loaded whole, so a 100 MB library costs
 * a few small reads.  The order of the checks decides which error a broken
 * file gets: magic, then class (a 52-byte ELF32 header is "32-bit", not
 * "truncated"), then the rest of the header, machine and type, then the
 * program headers and what they point to.
 */
#include "elfinfo.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits on what we read from untrusted files (all far beyond real ones). */
#define ELF_MAX_STRING 4096  /* PT_INTERP, DT_NEEDED, DT_RUNPATH text */
#define ELF_MAX_DYN    65536 /* entries of the dynamic section */

struct elf_file {
	int fd;
	uint64_t size;
	const char *path;
};

const char *elf_machine_name(unsigned machine)
{
	switch (machine) {
	case EM_386:
		return "i386";
	case EM_X86_64:
		return "x86_64";
	case EM_AARCH64:
		return "aarch64";
	case EM_ARM:
		return "arm";
	case EM_RISCV:
		return "riscv";
	case EM_PPC64:
		return "ppc64";
	case EM_PPC:
		return "ppc";
	case EM_S390:
		return "s390";
	case EM_MIPS:
		return "mips";
	case EM_SPARCV9:
		return "sparc64";
	case EM_LOONGARCH:
		return "loongarch";
	default:
		return NULL;
	}
}

/* Reads exactly len bytes at off, which the caller has bounds-checked. */
static int elf_pread(const struct elf_file *f, void *buf, size_t len,
		     uint64_t off, char *err, size_t errlen)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(f->fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return util_err(err, errlen, "cannot read '%s': %s",
					f->path, strerror(errno));
		if (r == 0)
			return util_err(err, errlen,
					"'%s' is a truncated ELF file "
					"(it shrank while being read)",
					f->path);
		done += (size_t)r;
	}
	return 0;
}

/* off + len within the file, without overflow. */
static int elf_in_file(const struct elf_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

/*
 * Reads the NUL-terminated string at off, which must end before limit
 * (the end of its segment or table) and within ELF_MAX_STRING bytes.
 */
static int elf_read_string(const struct elf_file *f, uint64_t off,
			   uint64_t limit, char **out, struct elf_info *info,
			   char *err, size_t errlen)
{
	char buf[ELF_MAX_STRING];
	uint64_t avail;
	char *nul;

	if (limit > f->size)
		limit = f->size;
	if (off >= limit) {
		info->error = ELF_ERR_MALFORMED;
		return util_err(err, errlen,
				"'%s' is a malformed ELF file "
				"(a string lies outside its table)",
				f->path);
	}
	avail = limit - off;
	if (avail > sizeof(buf))
		avail = sizeof(buf);
	if (elf_pread(f, buf, (size_t)avail, off, err, errlen) < 0) {
		info->error = ELF_ERR_IO;
		return -1;
	}
	nul = memchr(buf, '\0', (size_t)avail);
	if (nul == NULL) {
		info->error = ELF_ERR_MALFORMED;
		return util_err(err, errlen,
				"'%s' is a malformed ELF file "
				"(an unterminated or overlong string)",
				f->path);
	}
	*out = strdup(buf);
	if (*out == NULL) {
		info->error = ELF_ERR_IO;
		return util_err(err, errlen, "out of memory");
	}
	return 0;
}

/* Checks the identification and header; fills info->type and entry. */
static int elf_check_header(const struct elf_file *f, Elf64_Ehdr *eh,
			    struct elf_info *info, char *err, size_t errlen)
{
	unsigned char ident[EI_NIDENT] = {0};
	size_t n = f->size < EI_NIDENT ? (size_t)f->size : EI_NIDENT;
	const char *mname;

	if (n > 0 && elf_pread(f, ident, n, 0, err, errlen) < 0) {
		info->error = ELF_ERR_IO;
		return -1;
	}
	if (n < SELFMAG || memcmp(ident, ELFMAG, SELFMAG) != 0) {
		info->error = ELF_ERR_NOT_ELF;
		if (f->size == 0)
			return util_err(err, errlen,
					"'%s' is not an ELF "
					"executable (it is empty)",
					f->path);
		if (n >= 2 && ident[0] == '#' && ident[1] == '!')
			return util_err(err, errlen,
					"'%s' is not an ELF "
					"executable (it is a '#!' script)",
					f->path);
		return util_err(err, errlen, "'%s' is not an ELF executable",
				f->path);
	}
	if (n <= EI_CLASS) {
		info->error = ELF_ERR_TRUNCATED;
		return util_err(err, errlen, "'%s' is a truncated ELF file",
				f->path);
	}
	if (ident[EI_CLASS] == ELFCLASS32) {
		info->error = ELF_ERR_CLASS32;
		return util_err(err, errlen,
				"'%s' is a 32-bit program; kiln "
				"runs x86_64 programs only",
				f->path);
	}
	if (ident[EI_CLASS] != ELFCLASS64) {
		info->error = ELF_ERR_MALFORMED;
		return util_err(err, errlen,
				"'%s' is a malformed ELF file "
				"(unknown class %u)",
				f->path, ident[EI_CLASS]);
	}
	if (f->size < sizeof(*eh)) {
		info->error = ELF_ERR_TRUNCATED;
		return util_err(err, errlen, "'%s' is a truncated ELF file",
				f->path);
	}
	if (elf_pread(f, eh, sizeof(*eh), 0, err, errlen) < 0) {
		info->error = ELF_ERR_IO;
		return -1;
	}
	if (ident[EI_DATA] != ELFDATA2LSB) {
		info->error = ELF_ERR_MACHINE;
		return util_err(err, errlen,
				"'%s' is a big-endian program; "
				"kiln runs x86_64 programs only",
				f->path);
	}
	if (eh->e_machine != EM_X86_64) {
		info->error = ELF_ERR_MACHINE;
		mname = elf_machine_name(eh->e_machine);
		if (mname != NULL)
			return util_err(err, errlen,
					"'%s' is a program for "
					"%s; kiln runs x86_64 programs only",
					f->path, mname);
		return util_err(err, errlen,
				"'%s' is a program for machine "
				"%u; kiln runs x86_64 programs only",
				f->path, eh->e_machine);
	}
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) {
		info->error = ELF_ERR_TYPE;
		return util_err(
		    err, errlen, "'%s' is %s, not an executable", f->path,
		    eh->e_type == ET_REL    ? "a relocatable object file"
		    : eh->e_type == ET_CORE ? "a core dump"
					    : "an ELF file of unknown type");
	}
	if (eh->e_phnum == 0) {
		info->error = ELF_ERR_MALFORMED;
		return util_err(err, errlen,
				"'%s' is a malformed ELF file "
				"(no program headers)",
				f->path);
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
		info->error = ELF_ERR_MALFORMED;
		return util_err(err, errlen,
				"'%s' is a malformed ELF file "
				"(program header size %u, want %zu)",
				f->path, eh->e_phentsize, sizeof(Elf64_Phdr));
	}
	if (!elf_in_file(f, eh->e_phoff,
			 (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))) {
		info->error = ELF_ERR_TRUNCATED;
		return util_err(err, errlen,
				"'%s' is a truncated ELF file "
				"(its program headers lie past the end)",
				f->path);
	}
	info->type = eh->e_type;
	info->entry = eh->e_entry;
	return 0;
}

/* The file offset of virtual address addr, through the PT_LOAD segment
 * whose file-backed part contains it; -1 if none does. */
static int elf_vaddr_to_offset(const Elf64_Phdr *ph, unsigned phnum,
			       uint64_t addr, uint64_t *off, uint64_t *room)
{
	for (unsigned i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (addr >= ph[i].p_vaddr &&
		    addr - ph[i].p_vaddr < ph[i].p_filesz) {
			*off = ph[i].p_offset + (addr - ph[i].p_vaddr);
			*room = ph[i].p_filesz - (addr - ph[i].p_vaddr);
			return 0;
		}
	}
	return -1;
}

/* Walks PT_DYNAMIC: DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH. */
static int elf_read_dynamic(const struct elf_file *f, const Elf64_Phdr *ph,
			    unsigned phnum, const Elf64_Phdr *dyn,
			    struct elf_info *info, char *err, size_t errlen)
{
	size_t count = (size_t)(dyn->p_filesz / sizeof(Elf64_Dyn));
	uint64_t strtab = 0, strsz = 0, stroff, room;
	int have_strtab = 0, rc = -1;
	Elf64_Dyn *d;

	if (count > ELF_MAX_DYN)
		count = ELF_MAX_DYN;
	d = calloc(count ? count : 1, sizeof(*d));
	if (d == NULL) {
		info->error = ELF_ERR_IO;
		return util_err(err, errlen, "out of memory");
	}
	if (elf_pread(f, d, count * sizeof(*d), dyn->p_offset, err, errlen) <
	    0) {
		info->error = ELF_ERR_IO;
		goto out_free;
	}
	for (size_t i = 0; i < count && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag == DT_STRTAB) {
			strtab = d[i].d_un.d_ptr;
			have_strtab = 1;
		} else if (d[i].d_tag == DT_STRSZ) {
			strsz = d[i].d_un.d_val;
		}
	}
	if (!have_strtab) {
		rc = 0; /* no strings, so nothing that names another file */
		goto out_free;
	}
	if (elf_vaddr_to_offset(ph, phnum, strtab, &stroff, &room) < 0) {
		info->error = ELF_ERR_MALFORMED;
		util_err(err, errlen,
			 "'%s' is a malformed ELF file (its "
			 "dynamic string table is not in any segment)",
			 f->path);
		goto out_free;
	}
	if (strsz > room)
		strsz = room;
	for (size_t i = 0; i < count && d[i].d_tag != DT_NULL; i++) {
		char *s = NULL, **slot = NULL;
		int64_t tag = d[i].d_tag;

		if (tag != DT_NEEDED && tag != DT_SONAME && tag != DT_RPATH &&
		    tag != DT_RUNPATH)
			continue;
		if (d[i].d_un.d_val >= strsz) {
			info->error = ELF_ERR_MALFORMED;
			util_err(err, errlen,
				 "'%s' is a malformed ELF file (a "
				 "dynamic entry points outside the string "
				 "table)",
				 f->path);
			goto out_free;
		}
		if (elf_read_string(f, stroff + d[i].d_un.d_val, stroff + strsz,
				    &s, info, err, errlen) < 0)
			goto out_free;
		if (tag == DT_NEEDED) {
			if (strv_push_owned(&info->needed, s) < 0) {
				info->error = ELF_ERR_IO;
				util_err(err, errlen, "out of memory");
				goto out_free;
			}
			continue;
		}
		slot = tag == DT_SONAME	 ? &info->soname
		       : tag == DT_RPATH ? &info->rpath
					 : &info->runpath;
		free(*slot);
		*slot = s;
	}
	rc = 0;
out_free:
	free(d);
	return rc;
}

int elf_read(const char *path, struct elf_info *info, char *err, size_t errlen)
{
	struct elf_file f = {.fd = -1, .path = path};
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	const Elf64_Phdr *dyn = NULL;
	struct stat st;
	int rc = -1;

	memset(info, 0, sizeof(*info));
	f.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f.fd < 0) {
		info->error = ELF_ERR_IO;
		info->sys_errno = errno;
		return util_err(err, errlen, "cannot open '%s': %s", path,
				strerror(errno));
	}
	if (fstat(f.fd, &st) < 0) {
		info->error = ELF_ERR_IO;
		util_err(err, errlen, "cannot stat '%s': %s", path,
			 strerror(errno));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		info->error = ELF_ERR_NOT_ELF;
		util_err(err, errlen,
			 "'%s' is a directory, not an ELF "
			 "executable",
			 path);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		info->error = ELF_ERR_NOT_ELF;
		util_err(err, errlen,
			 "'%s' is not a regular file, so not an "
			 "ELF executable",
			 path);
		goto out_close;
	}
	f.size = (uint64_t)st.st_size;

	if (elf_check_header(&f, &eh, info, err, errlen) < 0)
		goto out_close;

	ph = calloc(eh.e_phnum, sizeof(*ph));
	if (ph == NULL) {
		info->error = ELF_ERR_IO;
		util_err(err, errlen, "out of memory");
		goto out_close;
	}
	if (elf_pread(&f, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff, err,
		      errlen) < 0) {
		info->error = ELF_ERR_IO;
		goto out_free;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type != PT_LOAD && p->p_type != PT_INTERP &&
		    p->p_type != PT_DYNAMIC)
			continue;
		if (!elf_in_file(&f, p->p_offset, p->p_filesz)) {
			info->error = ELF_ERR_TRUNCATED;
			util_err(err, errlen,
				 "'%s' is a truncated ELF file "
				 "(a segment lies past the end)",
				 path);
			goto out_free;
		}
		if (p->p_type == PT_LOAD && p->p_filesz > p->p_memsz) {
			info->error = ELF_ERR_MALFORMED;
			util_err(err, errlen,
				 "'%s' is a malformed ELF file "
				 "(a segment is larger in the file than in "
				 "memory)",
				 path);
			goto out_free;
		}
		if (p->p_type == PT_INTERP) {
			if (info->interp != NULL) {
				info->error = ELF_ERR_MALFORMED;
				util_err(err, errlen,
					 "'%s' is a malformed ELF "
					 "file (two PT_INTERP)",
					 path);
				goto out_free;
			}
			if (elf_read_string(
				&f, p->p_offset, p->p_offset + p->p_filesz,
				&info->interp, info, err, errlen) < 0)
				goto out_free;
			if (info->interp[0] == '\0') {
				info->error = ELF_ERR_MALFORMED;
				util_err(err, errlen,
					 "'%s' is a malformed ELF "
					 "file (empty PT_INTERP)",
					 path);
				goto out_free;
			}
		}
		if (p->p_type == PT_DYNAMIC)
			dyn = p;
	}
	if (dyn != NULL) {
		info->has_dynamic = 1;
		if (elf_read_dynamic(&f, ph, eh.e_phnum, dyn, info, err,
				     errlen) < 0)
			goto out_free;
	}
	rc = 0;
out_free:
	free(ph);
out_close:
	close(f.fd);
	return rc;
}

void elf_release(struct elf_info *info)
{
	free(info->interp);
	free(info->soname);
	free(info->rpath);
	free(info->runpath);
	strv_release(&info->needed);
	info->interp = info->soname = info->rpath = info->runpath = NULL;
}

int elf_is_x86_64_library(const char *path)
{
	Elf64_Ehdr eh;
	struct stat st;
	int fd, ok = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh))
		ok = memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
		     eh.e_ident[EI_CLASS] == ELFCLASS64 &&
		     eh.e_ident[EI_DATA] == ELFDATA2LSB &&
		     eh.e_machine == EM_X86_64 && eh.e_type == ET_DYN;
	close(fd);
	return ok;
}
