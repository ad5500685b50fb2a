/*
 * The one program this kernel runs: what the rest of the kernel may ask
 * about it, and services other subsystems use (implemented in the core).
 */
#ifndef PROC_H
#define PROC_H

#include "kernel.h"

struct task;

/* Absolute path of the program (what /proc/self/exe points to). */
const char *proc_exe_path(void);

/* The hostname uname(2) reports: "kiln" unless kiln.hostname= on the
 * command line or sethostname(2) changed it.  At most 64 bytes. */
const char *proc_hostname(void);
void proc_set_hostname(const char *name, size_t len);

/* Where exec put the argument and environment strings on the user stack
 * ([start, end) each), for /proc/self/cmdline and environ. */
void proc_set_args(uint64_t arg_start, uint64_t arg_end, uint64_t env_start,
		   uint64_t env_end);

/* Thread t's name (comm, prctl PR_SET_NAME): at most 15 bytes and a NUL;
 * the program's file name until the program sets one. */
void proc_comm(const struct task *t, char out[16]);

/* The soft RLIMIT_NOFILE: descriptors from it on are never allocated. */
int proc_nofile(void);

/* Adds /proc/self/{cmdline,environ,comm,limits} (called by
 * procfs_system_files). */
int proc_self_files(void);

/* Ends the program with this status (exit_group); never returns. */
noreturn void proc_exit(int status);

/* drivers/console.c: writes bytes to the console (the program's stdout
 * and stderr, and the kernel's own messages).  Never blocks for long. */
void console_write(const char *buf, size_t n);
/* Writes to COM2, the host's record channel on QEMU (kiln.exit=com2). */
void console_com2_write(const char *buf, size_t n);

/* drivers/random.c: fills buf from RDRAND when present, else a seeded
 * ChaCha-style generator; never fails. */
void random_bytes(void *buf, size_t n);

/* drivers/clock.c: nanoseconds since boot (monotonic) and since the Unix
 * epoch (realtime). */
uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);
/* The page the clock is computed from, mapped read-only into the program
 * as [vvar] (kernel/exec/vdso.c). */
struct vvar;
const struct vvar *clock_vvar(void);

/* What uname(2) and /proc/sys/kernel/osrelease and version say: a release
 * modern glibc accepts (kiln implements a subset of its ABI). */
#define PROC_UNAME_RELEASE "6.1.0-kiln"
#define PROC_UNAME_VERSION "#1 kiln"

#endif
