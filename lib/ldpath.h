/*
 * Where the dynamic loader would find a shared library, decided on the
 * host by reading configuration files, never by running ld.so or ldd.
 *
 * glibc's ld.so searches, for a DT_NEEDED name without a '/': the DT_RPATH
 * of the requesting object and of the objects that loaded it (only when
 * the requester has no DT_RUNPATH), LD_LIBRARY_PATH, the requester's
 * DT_RUNPATH, /etc/ld.so.cache, then its built-in directories.  kiln packs
 * images for another machine, so the host's LD_LIBRARY_PATH is ignored,
 * and instead of the binary cache we read what it is built from:
 * /etc/ld.so.conf with its "include" globs, in order.  The object-specific
 * part (RPATH/RUNPATH with $ORIGIN) is the caller's; ldpath_expand() turns
 * one such string into directories.
 *
 * musl's loader searches RPATH and RUNPATH alike along the chain of
 * loaders, LD_LIBRARY_PATH, then the directories of
 * /etc/ld-musl-x86_64.path (or /lib:/usr/local/lib:/usr/lib).
 */
#ifndef KILN_LDPATH_H
#define KILN_LDPATH_H

#include <stddef.h>

#include "util.h"

enum ldpath_flavor {
	LDPATH_GLIBC,
	LDPATH_MUSL,
};

struct ldpath {
	enum ldpath_flavor flavor;
	struct strv dirs; /* system directories in search order, no dups */
	size_t nconf;	  /* how many of dirs came from configuration */
};

/* glibc's built-in directories on Debian x86_64 (what ld.so searches
 * without a cache), a NULL-terminated list. */
extern const char *const ldpath_glibc_builtin[];

/*
 * glibc: dirs = the directories of conf (NULL means "/etc/ld.so.conf";
 * a missing file is not an error), then /lib/x86_64-linux-gnu,
 * /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64, /lib, /usr/lib.
 * Release with ldpath_release() whether this succeeds or not.
 */
int ldpath_init_glibc(struct ldpath *lp, const char *conf, char *err,
		      size_t errlen);

/* musl: dirs = the lines/colon-separated entries of path_file (NULL means
 * "/etc/ld-musl-x86_64.path"), or /lib:/usr/local/lib:/usr/lib when that
 * file does not exist. */
int ldpath_init_musl(struct ldpath *lp, const char *path_file, char *err,
		     size_t errlen);

void ldpath_release(struct ldpath *lp);

/*
 * Splits a DT_RPATH/DT_RUNPATH string at ':' and appends each directory
 * to out, expanding $ORIGIN / ${ORIGIN} to origin (the directory of the
 * object that carries the string), $LIB to lib/x86_64-linux-gnu and
 * $PLATFORM to x86_64.  Empty entries (which mean the current directory
 * to ld.so) are dropped.  Returns 0 or -1 when out of memory.
 */
int ldpath_expand(const char *list, const char *origin, struct strv *out);

/*
 * Searches for the library name in first (the object's own directories,
 * may be NULL) and then lp->dirs.  A candidate counts only if it is an
 * ELF64 x86_64 shared object (others are skipped, as ld.so does).  Writes
 * the path where it was found (not resolved through symlinks) to out and
 * returns 1; returns 0 when it is nowhere.
 */
int ldpath_find(const struct ldpath *lp, const char *name,
		const struct strv *first, char *out, size_t outlen);

#endif /* KILN_LDPATH_H */
