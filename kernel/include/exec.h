/* Loading the program (exec/elf.c). */
#ifndef EXEC_H
#define EXEC_H

#include "kernel.h"

/* Maps the ELF at path (and its PT_INTERP, if any) into the empty address
 * space and builds the initial stack with argv, envp and the aux vector.
 * On success *entry is where to start (ld.so's entry for dynamic
 * programs) and *sp the stack pointer.  On failure a klog line says why
 * and the result is -ENOENT (file or interpreter missing), -ENOEXEC (not a
 * loadable x86_64 ELF), -EACCES, or -ENOMEM. */
int exec_load(const char *path, char *const argv[], int argc,
	      char *const envp[], int envc, uint64_t *entry, uint64_t *sp);

/* exec/vdso.c: maps [vvar] and [vdso] (kernel/vdso) into the program and
 * sets *base to the vDSO's ELF header, for AT_SYSINFO_EHDR; with
 * kiln.novdso on the command line (vdso_disabled) maps nothing and sets
 * *base to 0.  0 or -ENOMEM. */
extern bool vdso_disabled;
int vdso_map(uint64_t *base);

#endif
