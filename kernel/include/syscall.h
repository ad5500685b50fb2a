/*
 * Syscall registration.  A handler is an ordinary C function taking up to
 * six integer or pointer arguments and returning a long (result or -errno);
 * SYSCALL_REGISTER puts it into the table by number, from any file:
 *
 *   static long sys_getpid(void) { return 1; }
 *   SYSCALL_REGISTER(__NR_getpid, getpid, sys_getpid);
 *
 * Numbers come from <asm/unistd.h> (x86_64).  Unregistered numbers return
 * -ENOSYS and log their name once.
 */
#ifndef SYSCALL_H
#define SYSCALL_H

#include "kernel.h"
#include <asm/unistd.h>

typedef long (*syscall_fn_t)(long, long, long, long, long, long);

struct syscall_desc {
	long nr;
	const char *name;
	syscall_fn_t fn;
};

#define SYSCALL_REGISTER(nr_, name_, fn_)                                      \
	static const struct syscall_desc __syscall_##name_                     \
	    __attribute__((used, section(".syscalls"), aligned(8))) = {        \
		(nr_), #name_, (syscall_fn_t)(void (*)(void))(fn_)}

/* sys/syscall.c */
void syscall_init(void);
/* kiln.strace on the command line: log every syscall and its result. */
extern bool syscall_trace;
/* The generator of /proc/kiln/syscalls (one "NAME COUNT" line per
 * syscall number the program has called). */
struct gen_buf;
void syscall_gen_counts(struct gen_buf *g);
/* Name of a syscall number, from the kernel's name table ("?" if none). */
const char *syscall_name(long nr);

#endif
