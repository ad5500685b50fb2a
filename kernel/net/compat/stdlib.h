/*
 * <stdlib.h> for lwIP's sources inside the kernel: netif.c parses an
 * interface number with atoi; memory comes from kmalloc through
 * lwipopts.h, never from malloc.
 */
#ifndef KILN_LWIP_COMPAT_STDLIB_H
#define KILN_LWIP_COMPAT_STDLIB_H

#include "kernel.h"

static inline int atoi(const char *s)
{
	int neg = 0, v = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return neg ? -v : v;
}

#endif
