/*
 * <string.h> for lwIP's sources inside the kernel: the kernel's own mem and
 * str functions (kernel/lib/string.c).  kernel/kernel.mk puts this
 * directory on the include path of lwIP's files and kernel/net only, so
 * libc's header is never seen.
 */
#ifndef KILN_LWIP_COMPAT_STRING_H
#define KILN_LWIP_COMPAT_STRING_H

#include "kernel.h"

#endif
