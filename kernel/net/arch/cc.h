/*
 * lwIP's compiler and platform port for the kiln kernel: freestanding,
 * x86_64, little endian, gcc.  lwIP's arch.h includes this first.  No libc
 * headers: the types come from gcc's <stdint.h>/<stddef.h> through
 * kernel.h, and the few libc functions lwIP calls (memcpy, strlen, atoi)
 * from kernel/net/compat/.
 */
#ifndef KILN_LWIP_ARCH_CC_H
#define KILN_LWIP_ARCH_CC_H

#include "kernel.h"

#define BYTE_ORDER LITTLE_ENDIAN

/* kernel.h defines ssize_t; SSIZE_MAX tells lwIP so, and there is no
 * unistd.h to include. */
#define SSIZE_MAX	   INT64_MAX
#define LWIP_NO_UNISTD_H   1
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H	   1

/* printf formats of lwIP's types, for kprintf. */
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define PACK_STRUCT_STRUCT __attribute__((packed))

#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* lwIP's diagnostics and assertions.  LWIP_PLATFORM_DIAG takes a
 * parenthesised printf argument list. */
#define LWIP_PLATFORM_DIAG(x)                                                  \
	do {                                                                   \
		kprintf x;                                                     \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                \
	panic("lwip assertion '%s' failed at %s:%d", x, __FILE__, __LINE__)

/* kernel/net/sys_arch.c: 32 random bits for ports and TCP sequence
 * numbers. */
uint32_t net_rand32(void);
#define LWIP_RAND() net_rand32()

#endif
