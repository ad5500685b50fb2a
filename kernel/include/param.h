/* Every limit of the kernel, one per line (xv6's param.h). */
#ifndef PARAM_H
#define PARAM_H

#define PAGE_SIZE	  4096UL       /* base page */
#define HUGE_PAGE_SIZE	  0x200000UL   /* direct map granule */
#define KERNEL_STACK_SIZE 32768	       /* kernel stack of each thread */
#define MAX_MEMMAP	  32	       /* memory map entries kept from boot */
#define MAX_CMDLINE	  4096	       /* kernel command line bytes */
#define MAX_ARGS	  256	       /* argv entries from the config */
#define MAX_ENVS	  256	       /* environment entries */
#define MAX_ARG_BYTES	  (128 * 1024) /* bytes of argv+envp strings */
#define MAX_PATH	  4096	       /* PATH_MAX */
#define MAX_NAME	  255	       /* NAME_MAX */
#define MAX_FDS		  1024 /* open file descriptors (RLIMIT_NOFILE) */
#define MAX_SYMLINKS	  40   /* symlink hops in one lookup (ELOOP) */
#define MAX_VMAS	  4096 /* user mappings */
#define USER_STACK_SIZE                                                        \
	(8UL << 20) /* main thread stack reservation (RLIMIT_STACK) */
#define USER_STACK_TOP	 0x7ffffffff000UL /* end of the stack mapping */
#define USER_MMAP_TOP	 0x7ff000000000UL /* mmap grows down from here */
#define USER_MMAP_BOTTOM 0x10000UL	  /* lowest address mmap hands out */
#define USER_PIE_BASE	 0x555555554000UL /* load base of PIE executables */
#define USER_INTERP_BASE                                                       \
	0x7fe000000000UL /* load base of ld.so (inside the mmap area) */
#define USER_TOP	   0x800000000000UL /* end of the lower half */
#define SCHED_SLICE_NS	   10000000ULL	    /* 10 ms: time slice of a thread */
#define SCHED_MIN_TIMER_NS 10000ULL	    /* 10 us: shortest timer armed */
#define MAX_THREADS	   4096		    /* live threads (clone: EAGAIN) */
#define FUTEX_HASH_SIZE	   64		    /* futex wait queue buckets */
/* At exit: longest wait for the peers to acknowledge the FINs sent. */
#define NET_EXIT_DRAIN_NS 200000000ULL /* 200 ms */

#endif
