/*
 * Access to the program's memory from syscalls.  Every pointer that comes
 * from the program goes through these: they check the range lies in the
 * lower half and is mapped (faulting pages in on demand) and return -EFAULT
 * instead of crashing.  Never dereference a user pointer directly.
 */
#ifndef UACCESS_H
#define UACCESS_H

#include "kernel.h"

/* 0 or -EFAULT.  n may be 0. */
int copy_from_user(void *dst, const void *usrc, size_t n);
int copy_to_user(void *udst, const void *src, size_t n);
int clear_user(void *udst, size_t n);
/* Copies a NUL-terminated string of at most max-1 bytes plus NUL into dst.
 * Returns its length, -EFAULT, or -ENAMETOOLONG when no NUL within max. */
long strncpy_from_user(char *dst, const char *usrc, size_t max);
/* True when [p, p+n) is inside the user half (mapping not checked). */
bool user_range_ok(const void *p, size_t n);

#endif
