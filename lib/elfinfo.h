/*
 * Reading ELF64 x86_64 files on the host, without running them: is this a
 * program kiln can run, which interpreter (PT_INTERP) does it ask for, and
 * which shared libraries (DT_NEEDED) with which search paths (DT_RPATH,
 * DT_RUNPATH).  The dynamic section is found through the program headers
 * and its string table through the PT_LOAD segment that maps it, so files
 * without section headers (stripped, sstrip'd) work.  Every offset and
 * size read from the file is checked against the file's length: the input
 * is untrusted and a malformed file gives a distinct error, never a crash.
 *
 * (Named elfinfo.h, not elf.h: lib/ is on the include path of every hosted
 * program, and a lib/elf.h would shadow the system <elf.h>.)
 */
#ifndef KILN_ELFINFO_H
#define KILN_ELFINFO_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Why elf_read() refused a file (the message in err says it for people). */
enum elf_error {
	ELF_ERR_NONE = 0,
	ELF_ERR_IO,	   /* cannot open or read; errno-style message */
	ELF_ERR_NOT_ELF,   /* no ELF magic (a script, data, an empty file) */
	ELF_ERR_TRUNCATED, /* a header or segment lies past the end of file */
	ELF_ERR_CLASS32,   /* ELFCLASS32: a 32-bit program */
	ELF_ERR_MACHINE,   /* not EM_X86_64 or not little-endian */
	ELF_ERR_TYPE,	   /* not ET_EXEC/ET_DYN (object file, core dump) */
	ELF_ERR_MALFORMED, /* inconsistent headers */
};

struct elf_info {
	int type;	      /* ET_EXEC or ET_DYN */
	uint64_t entry;	      /* e_entry */
	int has_dynamic;      /* a PT_DYNAMIC segment exists */
	char *interp;	      /* PT_INTERP path, or NULL (static) */
	struct strv needed;   /* DT_NEEDED names, in order */
	char *soname;	      /* DT_SONAME, or NULL */
	char *rpath;	      /* DT_RPATH string, or NULL */
	char *runpath;	      /* DT_RUNPATH string, or NULL */
	enum elf_error error; /* set when elf_read() fails */
	int sys_errno;	      /* with ELF_ERR_IO: the errno of the failure */
};

/*
 * Reads and validates the ELF file at path into info (which the caller
 * releases with elf_release() whether this succeeds or not).  On failure
 * returns -1, sets info->error and writes a message into err that quotes
 * the path, e.g. "'x' is a 32-bit program; kiln runs x86_64 programs
 * only" (no "kiln: " prefix).
 */
int elf_read(const char *path, struct elf_info *info, char *err, size_t errlen);

/* Frees what elf_read() allocated; info may be reused afterwards. */
void elf_release(struct elf_info *info);

/*
 * 1 if path is a regular file whose header says ELF64, little-endian,
 * x86_64, ET_DYN: what ld.so accepts as a shared library candidate (it
 * skips others and keeps searching); 0 otherwise, including when the file
 * does not exist.
 */
int elf_is_x86_64_library(const char *path);

/* A short name for an e_machine value ("aarch64"), or NULL if unknown. */
const char *elf_machine_name(unsigned machine);

#endif /* KILN_ELFINFO_H */
