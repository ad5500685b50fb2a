/*
 * Basics every kernel file includes: fixed-width types, compiler helpers,
 * logging and panic.  The kernel is freestanding: no libc, only gcc's own
 * <stdint.h>/<stddef.h>/<stdarg.h>/<stdbool.h> and Linux uapi headers for
 * ABI constants (<asm/unistd.h>, <asm/errno.h>, <asm/stat.h> ...).
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <asm-generic/errno.h>

#include "param.h"

typedef int64_t ssize_t;
typedef int64_t off_t;

#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)
#define noreturn       _Noreturn
#define __packed       __attribute__((packed))
#define __aligned(n)   __attribute__((aligned(n)))
#define __maybe_unused __attribute__((unused))
#define __section(s)   __attribute__((section(s)))
#define __printf(a, b) __attribute__((format(printf, a, b)))

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a)-1)) == 0)
#define container_of(p, type, member)                                          \
	((type *)((char *)(p)-offsetof(type, member)))

/* lib/string.c: the usual mem and str functions (gcc may emit calls to
 * memcpy/memset/memmove/memcmp itself). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);
char *strdup(const char *s); /* kmalloc'd copy; NULL when out of memory */
char *strndup(const char *s, size_t n);
/* Decodes %XX escapes (the ABI's percent encoding) in place; returns the
 * new length. */
size_t percent_decode(char *s);

/* lib/printf.c: vsnprintf with %d %i %u %x %X %p %s %c %%, the l/ll/z
 * length modifiers, width, '-' and '0' flags and precision for %s. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Console output of the kernel itself.  kprintf writes the formatted text
 * to the console; klog prefixes "kiln: " and is what messages to the user
 * use ("kiln: syscall 'foo' (123) not implemented"). */
int kprintf(const char *fmt, ...) __printf(1, 2);
void klog(const char *fmt, ...) __printf(1, 2);
/* Set by kiln.debug on the command line. */
extern bool kernel_debug;
#define kdebug(...)                                                            \
	do {                                                                   \
		if (kernel_debug)                                              \
			klog(__VA_ARGS__);                                     \
	} while (0)

/* Stops the machine with a report and exit status KILN_EXIT_PANIC.  Only
 * for broken invariants; print the values that broke them. */
noreturn void panic(const char *fmt, ...) __printf(1, 2);
#define assert(c)                                                              \
	do {                                                                   \
		if (unlikely(!(c)))                                            \
			panic("assertion '%s' failed at %s:%d", #c, __FILE__,  \
			      __LINE__);                                       \
	} while (0)

/* Ends the guest with this status (port 0xf4, COM2 record on QEMU). */
noreturn void machine_exit(int status);

#endif
