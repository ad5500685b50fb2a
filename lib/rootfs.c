/*
 * Collecting an image's files and writing them as cpio (see rootfs.h).
 *
 * Two path walks do the work.  rootfs_walk_host() follows a host path one
 * component at a time with lstat(), the way the kernel resolves it: a
 * symlink is recorded as a symlink and the walk restarts at its target, so
 * every recorded path is free of symlinks in its parents and the image
 * mirrors the host's shape exactly where the program looks.
 * rootfs_resolve_guest() does the same walk over the entries already in
 * the image, for files whose place is given as a guest path (--file,
 * /.kiln/config), creating missing directories.
 *
 * Library resolution follows ld.so (glibc's or musl's, chosen by the
 * program's PT_INTERP): breadth-first over DT_NEEDED, each name loaded
 * once (a name matches an earlier library's name or DT_SONAME; the
 * interpreter counts as loaded, as it is in ld.so), searched in the
 * requester's RPATH chain / RUNPATH and then the system directories.
 */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "elfinfo.h"
#include "ldpath.h"

#define ROOTFS_MAX_HOPS 40 /* symlinks followed in one walk, as Linux */

void rootfs_init(struct rootfs *fs)
{
	memset(fs, 0, sizeof(*fs));
}

static void rootfs_entry_free(struct rootfs_entry *e)
{
	free(e->path);
	free(e->host);
	free(e->data);
}

void rootfs_release(struct rootfs *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		rootfs_entry_free(&fs->entries[i]);
	free(fs->entries);
	strv_release(&fs->libraries);
	fs->entries = NULL;
	fs->n = fs->cap = 0;
}

static int rootfs_fail(struct rootfs *fs, enum rootfs_fail kind)
{
	fs->fail = kind;
	return -1;
}

static int rootfs_nomem(struct rootfs *fs, char *err, size_t errlen)
{
	util_err(err, errlen, "out of memory");
	return rootfs_fail(fs, ROOTFS_FAIL_IO);
}

static long rootfs_find(const struct rootfs *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->entries[i].path, path) == 0)
			return (long)i;
	return -1;
}

static const char *rootfs_kind_name(enum rootfs_kind k)
{
	return k == ROOTFS_DIR	  ? "directory"
	       : k == ROOTFS_FILE ? "file"
				  : "symlink";
}

/*
 * Adds or updates the entry at path.  Adding what is already there is a
 * no-op; a different kind at the same path is a conflict; a FILE is
 * replaced only when replace is set (later --file wins).  host and data
 * are copied.
 */
static int rootfs_put(struct rootfs *fs, const char *path,
		      enum rootfs_kind kind, unsigned mode, const char *host,
		      const void *data, size_t len, int replace, char *err,
		      size_t errlen)
{
	struct rootfs_entry e = {
	    .kind = kind, .mode = mode & 07777, .len = len};
	long i = rootfs_find(fs, path);

	if (i >= 0) {
		struct rootfs_entry *old = &fs->entries[i];
		if (old->kind != kind) {
			util_err(err, errlen,
				 "'%s' would be both a %s and a %s "
				 "in the image",
				 path, rootfs_kind_name(old->kind),
				 rootfs_kind_name(kind));
			return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
		}
		if (kind == ROOTFS_DIR)
			return 0;
		if (kind == ROOTFS_SYMLINK) {
			if (old->len == len &&
			    memcmp(old->data, data, len) == 0)
				return 0;
			util_err(err, errlen,
				 "'%s' would be two different "
				 "symlinks in the image",
				 path);
			return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
		}
		if (!replace) {
			if (host != NULL && old->host != NULL &&
			    strcmp(host, old->host) == 0)
				return 0;
			util_err(err, errlen,
				 "'%s' would be two different "
				 "files in the image",
				 path);
			return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
		}
	}

	e.path = strdup(path);
	if (host != NULL)
		e.host = strdup(host);
	/* data gets a NUL after it so symlink targets are C strings. */
	if (data != NULL) {
		e.data = malloc(len + 1);
		if (e.data != NULL) {
			memcpy(e.data, data, len);
			e.data[len] = '\0';
		}
	}
	if (e.path == NULL || (host != NULL && e.host == NULL) ||
	    (data != NULL && e.data == NULL)) {
		rootfs_entry_free(&e);
		return rootfs_nomem(fs, err, errlen);
	}
	if (i >= 0) {
		rootfs_entry_free(&fs->entries[i]);
		fs->entries[i] = e;
		return 0;
	}
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 64;
		struct rootfs_entry *v = realloc(fs->entries, cap * sizeof(*v));
		if (v == NULL) {
			rootfs_entry_free(&e);
			return rootfs_nomem(fs, err, errlen);
		}
		fs->entries = v;
		fs->cap = cap;
	}
	fs->entries[fs->n++] = e;
	return 0;
}

/*
 * The path to continue a walk with after the symlink in directory dir
 * (symlink-free, "" for the root) pointing at target: target (absolute)
 * or dir/target, then "/rest" if anything remains.  Not normalized: the
 * walk resolves "." and ".." itself, after following earlier symlinks,
 * which is what POSIX path resolution means.
 */
static char *rootfs_restart_path(const char *dir, const char *target,
				 const char *rest)
{
	return util_asprintf("%s%s%s%s%s", target[0] == '/' ? "" : dir,
			     target[0] == '/' ? "" : "/", target,
			     *rest ? "/" : "", rest);
}

/* Drops the last component of a symlink-free path ("" is the root). */
static void rootfs_parent(char *cur)
{
	char *slash = strrchr(cur, '/');
	if (slash != NULL)
		*slash = '\0';
}

/*
 * One step of a walk along a path: skips slashes, resolves "." and ".."
 * against cur (a symlink-free prefix, "" for the root) and appends the
 * next component to cur.  1 with *p moved past that component, *rest at
 * what follows it and *last set when nothing does; 0 at the end of the
 * path; -1 when cur (cap bytes) cannot hold it.
 */
static int rootfs_step(char *cur, size_t cap, const char **p, const char **rest,
		       int *last)
{
	for (;;) {
		const char *end;
		size_t len;

		while (**p == '/')
			(*p)++;
		if (**p == '\0')
			return 0;
		end = strchrnul(*p, '/');
		len = (size_t)(end - *p);
		if (len == 2 && (*p)[0] == '.' && (*p)[1] == '.')
			rootfs_parent(cur);
		if ((len == 1 && (*p)[0] == '.') ||
		    (len == 2 && (*p)[0] == '.' && (*p)[1] == '.')) {
			*p = end;
			continue;
		}
		/* cur grows by at most the path's own length. */
		if (strlen(cur) + 1 + len + 1 > cap)
			return -1;
		strcat(cur, "/");
		strncat(cur, *p, len);
		for (*rest = end; **rest == '/'; (*rest)++)
			;
		*last = **rest == '\0';
		*p = end;
		return 1;
	}
}

static int rootfs_walk_host(struct rootfs *fs, const char *path, int hops,
			    char *err, size_t errlen)
{
	size_t cap = strlen(path) + 2;
	char *cur = calloc(1, cap); /* resolved prefix, "" for the root */
	const char *p = path;
	int rc = -1;

	if (cur == NULL)
		return rootfs_nomem(fs, err, errlen);
	for (;;) {
		const char *rest;
		struct stat st;
		int last, step = rootfs_step(cur, cap, &p, &rest, &last);

		if (step == 0)
			break;
		if (step < 0) {
			util_err(err, errlen, "path '%s' too long", path);
			rootfs_fail(fs, ROOTFS_FAIL_INPUT);
			goto out;
		}
		if (lstat(cur, &st) < 0) {
			util_err(err, errlen, "cannot find '%s': %s", cur,
				 strerror(errno));
			rootfs_fail(fs, errno == ENOENT || errno == ENOTDIR
					    ? ROOTFS_FAIL_NOTFOUND
					    : ROOTFS_FAIL_IO);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(cur, target, sizeof(target) - 1);
			char *next;

			if (n < 0) {
				util_err(err, errlen,
					 "cannot read symlink "
					 "'%s': %s",
					 cur, strerror(errno));
				rootfs_fail(fs, ROOTFS_FAIL_IO);
				goto out;
			}
			target[n] = '\0';
			if (rootfs_put(fs, cur, ROOTFS_SYMLINK, 0777, NULL,
				       target, (size_t)n, 0, err, errlen) < 0)
				goto out;
			if (hops + 1 > ROOTFS_MAX_HOPS) {
				util_err(err, errlen,
					 "too many symlinks "
					 "resolving '%s'",
					 path);
				rootfs_fail(fs, ROOTFS_FAIL_IO);
				goto out;
			}
			rootfs_parent(cur);
			next = rootfs_restart_path(cur, target, rest);
			if (next == NULL) {
				rootfs_nomem(fs, err, errlen);
				goto out;
			}
			rc = rootfs_walk_host(fs, next, hops + 1, err, errlen);
			free(next);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (rootfs_put(fs, cur, ROOTFS_DIR, st.st_mode, NULL,
				       NULL, 0, 0, err, errlen) < 0)
				goto out;
		} else if (!last) {
			util_err(err, errlen,
				 "cannot find '%s': '%s' is not "
				 "a directory",
				 path, cur);
			rootfs_fail(fs, ROOTFS_FAIL_NOTFOUND);
			goto out;
		} else if (S_ISREG(st.st_mode)) {
			if (rootfs_put(fs, cur, ROOTFS_FILE, st.st_mode, cur,
				       NULL, 0, 0, err, errlen) < 0)
				goto out;
		} else {
			util_err(err, errlen,
				 "'%s' is not a regular file, "
				 "directory or symlink",
				 cur);
			rootfs_fail(fs, ROOTFS_FAIL_INPUT);
			goto out;
		}
	}
	rc = 0;
out:
	free(cur);
	return rc;
}

int rootfs_add_host(struct rootfs *fs, const char *path, char *err,
		    size_t errlen)
{
	if (path[0] != '/') {
		util_err(err, errlen, "'%s' is not an absolute path", path);
		return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
	}
	return rootfs_walk_host(fs, path, 0, err, errlen);
}

/*
 * Resolves the guest path through the image's symlinks (the last
 * component too when follow_last), creating missing directories (0755)
 * on the way.  Returns the resolved path in a new string, or NULL.
 */
static char *rootfs_resolve_guest(struct rootfs *fs, const char *path,
				  int follow_last, int hops, char *err,
				  size_t errlen)
{
	size_t cap = strlen(path) + 2;
	char *cur = calloc(1, cap);
	const char *p = path;

	if (cur == NULL) {
		rootfs_nomem(fs, err, errlen);
		return NULL;
	}
	for (;;) {
		const char *rest;
		long i;
		int last, step = rootfs_step(cur, cap, &p, &rest, &last);

		if (step == 0)
			break;
		if (step < 0) {
			util_err(err, errlen, "path '%s' too long", path);
			goto fail_input;
		}
		i = rootfs_find(fs, cur);
		if (i >= 0 && fs->entries[i].kind == ROOTFS_SYMLINK &&
		    (!last || follow_last)) {
			char *next, *res;

			if (hops + 1 > ROOTFS_MAX_HOPS) {
				util_err(err, errlen,
					 "too many symlinks "
					 "resolving '%s' in the image",
					 path);
				goto fail_input;
			}
			rootfs_parent(cur);
			next =
			    rootfs_restart_path(cur, fs->entries[i].data, rest);
			free(cur);
			if (next == NULL) {
				rootfs_nomem(fs, err, errlen);
				return NULL;
			}
			res = rootfs_resolve_guest(fs, next, follow_last,
						   hops + 1, err, errlen);
			free(next);
			return res;
		}
		if (last)
			return cur;
		if (i >= 0 && fs->entries[i].kind != ROOTFS_DIR) {
			util_err(err, errlen,
				 "cannot place '%s' in the image: "
				 "'%s' is a file there, not a directory",
				 path, cur);
			goto fail_input;
		}
		if (i < 0 && rootfs_put(fs, cur, ROOTFS_DIR, 0755, NULL, NULL,
					0, 0, err, errlen) < 0) {
			free(cur);
			return NULL;
		}
	}
	util_err(err, errlen, "'%s' names the root directory, not a file",
		 path);
fail_input:
	free(cur);
	rootfs_fail(fs, ROOTFS_FAIL_INPUT);
	return NULL;
}

/* Puts a FILE at the guest path (resolved); exactly one of host, data. */
static int rootfs_put_guest_file(struct rootfs *fs, const char *guest,
				 const char *host, const void *data, size_t len,
				 unsigned mode, char *err, size_t errlen)
{
	char *at;
	long i;
	int rc;

	if (guest[0] != '/') {
		util_err(err, errlen, "'%s' is not an absolute path", guest);
		return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
	}
	at = rootfs_resolve_guest(fs, guest, 1, 0, err, errlen);
	if (at == NULL)
		return -1;
	i = rootfs_find(fs, at);
	if (i >= 0 && fs->entries[i].kind == ROOTFS_DIR) {
		util_err(err, errlen,
			 "cannot place a file at '%s': it is a "
			 "directory in the image",
			 guest);
		free(at);
		return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
	}
	rc = rootfs_put(fs, at, ROOTFS_FILE, mode, host, data, len, 1, err,
			errlen);
	free(at);
	return rc;
}

int rootfs_add_file(struct rootfs *fs, const char *guest, const char *host_path,
		    char *err, size_t errlen)
{
	struct stat st;

	if (stat(host_path, &st) < 0) {
		util_err(err, errlen, "cannot find '%s': %s", host_path,
			 strerror(errno));
		return rootfs_fail(fs, errno == ENOENT ? ROOTFS_FAIL_NOTFOUND
						       : ROOTFS_FAIL_IO);
	}
	if (!S_ISREG(st.st_mode)) {
		util_err(err, errlen, "'%s' is not a regular file", host_path);
		return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
	}
	return rootfs_put_guest_file(fs, guest, host_path, NULL, 0, st.st_mode,
				     err, errlen);
}

int rootfs_add_data(struct rootfs *fs, const char *guest, const void *data,
		    size_t len, unsigned mode, char *err, size_t errlen)
{
	/* A zero-length file still needs a non-NULL data pointer. */
	return rootfs_put_guest_file(fs, guest, NULL, data ? data : "", len,
				     mode, err, errlen);
}

/* ---- directory trees ---- */

static int rootfs_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in host directory path, sorted (so conflicts and errors come
 * out the same on every run); "." and ".." left out. */
static int rootfs_list_dir(struct rootfs *fs, const char *path,
			   struct strv *names, char *err, size_t errlen)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL) {
		util_err(err, errlen, "cannot open directory '%s': %s", path,
			 strerror(errno));
		return rootfs_fail(fs, errno == ENOENT ? ROOTFS_FAIL_NOTFOUND
						       : ROOTFS_FAIL_IO);
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strv_push(names, de->d_name) < 0) {
			closedir(d);
			return rootfs_nomem(fs, err, errlen);
		}
	}
	if (errno != 0) {
		util_err(err, errlen, "cannot read directory '%s': %s", path,
			 strerror(errno));
		closedir(d);
		return rootfs_fail(fs, ROOTFS_FAIL_IO);
	}
	closedir(d);
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), rootfs_name_cmp);
	return 0;
}

/*
 * Makes guest (unresolved) a directory in the image, with mode when it
 * is created; returns its resolved, symlink-free path (new string).
 */
static char *rootfs_guest_dir(struct rootfs *fs, const char *guest,
			      unsigned mode, char *err, size_t errlen)
{
	char *at = rootfs_resolve_guest(fs, guest, 1, 0, err, errlen);
	long i;

	if (at == NULL)
		return NULL;
	i = rootfs_find(fs, at);
	if (i >= 0 && fs->entries[i].kind != ROOTFS_DIR) {
		util_err(err, errlen,
			 "cannot place a directory at '%s': it is a file "
			 "in the image",
			 guest);
		free(at);
		rootfs_fail(fs, ROOTFS_FAIL_INPUT);
		return NULL;
	}
	if (i < 0 && rootfs_put(fs, at, ROOTFS_DIR, mode, NULL, NULL, 0, 0, err,
				errlen) < 0) {
		free(at);
		return NULL;
	}
	return at;
}

/* Copies the contents of host directory host below the image directory
 * at (symlink-free, "" for the root). */
static int rootfs_copy_tree(struct rootfs *fs, const char *at, const char *host,
			    char *err, size_t errlen)
{
	struct strv names = {0};
	int rc = -1;

	if (rootfs_list_dir(fs, host, &names, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < names.n; i++) {
		char *hpath = util_asprintf("%s/%s", host, names.v[i]);
		char *gpath = util_asprintf("%s/%s", at, names.v[i]);
		struct stat st;
		int r = -1;

		if (hpath == NULL || gpath == NULL) {
			rootfs_nomem(fs, err, errlen);
		} else if (lstat(hpath, &st) < 0) {
			util_err(err, errlen, "cannot read '%s': %s", hpath,
				 strerror(errno));
			rootfs_fail(fs, ROOTFS_FAIL_IO);
		} else if (S_ISDIR(st.st_mode)) {
			char *sub = rootfs_guest_dir(fs, gpath, st.st_mode, err,
						     errlen);
			if (sub != NULL)
				r = rootfs_copy_tree(fs, sub, hpath, err,
						     errlen);
			free(sub);
		} else if (S_ISREG(st.st_mode)) {
			r = rootfs_put_guest_file(fs, gpath, hpath, NULL, 0,
						  st.st_mode, err, errlen);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(hpath, target, sizeof(target) - 1);
			char *place = NULL;

			if (n < 0) {
				util_err(err, errlen,
					 "cannot read symlink '%s': %s", hpath,
					 strerror(errno));
				rootfs_fail(fs, ROOTFS_FAIL_IO);
			} else {
				target[n] = '\0';
				place = rootfs_resolve_guest(fs, gpath, 0, 0,
							     err, errlen);
			}
			if (place != NULL)
				r = rootfs_put(fs, place, ROOTFS_SYMLINK, 0777,
					       NULL, target, (size_t)n, 0, err,
					       errlen);
			free(place);
		} else {
			util_err(err, errlen,
				 "'%s' is not a regular file, directory or "
				 "symlink",
				 hpath);
			rootfs_fail(fs, ROOTFS_FAIL_INPUT);
		}
		free(hpath);
		free(gpath);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	strv_release(&names);
	return rc;
}

int rootfs_add_dir(struct rootfs *fs, const char *guest, const char *host_dir,
		   char *err, size_t errlen)
{
	struct stat st = {.st_mode = 0755};
	char *norm, *at;
	int rc;

	if (guest[0] != '/') {
		util_err(err, errlen, "'%s' is not an absolute path", guest);
		return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
	}
	if (host_dir != NULL) {
		if (stat(host_dir, &st) < 0) {
			util_err(err, errlen, "cannot find '%s': %s", host_dir,
				 strerror(errno));
			return rootfs_fail(fs, errno == ENOENT
						   ? ROOTFS_FAIL_NOTFOUND
						   : ROOTFS_FAIL_IO);
		}
		if (!S_ISDIR(st.st_mode)) {
			util_err(err, errlen, "'%s' is not a directory",
				 host_dir);
			return rootfs_fail(fs, ROOTFS_FAIL_INPUT);
		}
	}
	norm = util_path_join("/", guest);
	if (norm == NULL)
		return rootfs_nomem(fs, err, errlen);
	/* The root has no entry of its own: "" stands for it. */
	if (strcmp(norm, "/") == 0) {
		free(norm);
		return host_dir
			   ? rootfs_copy_tree(fs, "", host_dir, err, errlen)
			   : 0;
	}
	free(norm);
	at = rootfs_guest_dir(fs, guest, st.st_mode, err, errlen);
	if (at == NULL)
		return -1;
	rc = host_dir ? rootfs_copy_tree(fs, at, host_dir, err, errlen) : 0;
	free(at);
	return rc;
}

/* ---- programs and their libraries ---- */

/* One ELF object of the program: the program itself, then libraries. */
struct rootfs_obj {
	char *path;   /* where it was found */
	char *origin; /* $ORIGIN for its RPATH/RUNPATH */
	struct elf_info info;
	long parent; /* index of the object that needed it, -1 */
};

struct rootfs_objs {
	struct rootfs_obj *v;
	size_t n;
	size_t cap;
};

static void rootfs_objs_release(struct rootfs_objs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].path);
		free(o->v[i].origin);
		elf_release(&o->v[i].info);
	}
	free(o->v);
}

/* Takes ownership of path, origin and info's allocations. */
static int rootfs_objs_push(struct rootfs_objs *o, char *path, char *origin,
			    const struct elf_info *info, long parent)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct rootfs_obj *v = realloc(o->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n].path = path;
	o->v[o->n].origin = origin;
	o->v[o->n].info = *info;
	o->v[o->n].parent = parent;
	o->n++;
	return 0;
}

/* musl's loader answers these names itself (its dynlink.c "reserved"). */
static int rootfs_musl_builtin(const char *name)
{
	static const char *const reserved[] = {"c",  "pthread", "rt",  "m",
					       "dl", "util",	"xnet"};

	if (strncmp(name, "lib", 3) != 0)
		return 0;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(reserved); i++) {
		size_t n = strlen(reserved[i]);
		if (strncmp(name + 3, reserved[i], n) == 0 &&
		    name[3 + n] == '.')
			return 1;
	}
	return 0;
}

static const char *rootfs_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The directories object i searches before the system's (ldpath.h). */
static int rootfs_object_dirs(const struct rootfs_objs *o, size_t i,
			      enum ldpath_flavor flavor, struct strv *dirs)
{
	const struct rootfs_obj *req = &o->v[i];

	if (flavor == LDPATH_MUSL) {
		for (long j = (long)i; j >= 0; j = o->v[j].parent) {
			const char *list = o->v[j].info.runpath
					       ? o->v[j].info.runpath
					       : o->v[j].info.rpath;
			if (list != NULL &&
			    ldpath_expand(list, o->v[j].origin, dirs) < 0)
				return -1;
		}
		return 0;
	}
	if (req->info.runpath == NULL) {
		/* Up the chain of loaders to the program (index 0). */
		for (long j = (long)i; j >= 0; j = o->v[j].parent) {
			const struct rootfs_obj *l = &o->v[j];
			if (l->info.runpath == NULL && l->info.rpath != NULL &&
			    ldpath_expand(l->info.rpath, l->origin, dirs) < 0)
				return -1;
		}
		return 0;
	}
	return ldpath_expand(req->info.runpath, req->origin, dirs);
}

/* elf_read() failure -> rootfs failure kind. */
static int rootfs_elf_fail(struct rootfs *fs, const struct elf_info *info)
{
	if (info->error == ELF_ERR_IO)
		return rootfs_fail(fs, info->sys_errno == ENOENT ||
					       info->sys_errno == ENOTDIR
					   ? ROOTFS_FAIL_NOTFOUND
					   : ROOTFS_FAIL_IO);
	return rootfs_fail(fs, ROOTFS_FAIL_NOEXEC);
}

/*
 * glibc's ld.so in the guest has no ld.so.cache, only its built-in
 * directories.  A library found through an ld.so.conf directory outside
 * them (/usr/local/lib, say) gets a symlink in the first built-in
 * directory so the guest's loader finds it under the same name.
 */
static int rootfs_link_builtin(struct rootfs *fs, const char *name,
			       const char *found, char *err, size_t errlen)
{
	const char *dir = ldpath_glibc_builtin[0];
	char *guest, *at;
	struct stat st;
	int rc;

	/* Give the built-in directory the host's shape first (on merged-/usr
	 * hosts /lib is a symlink to usr/lib). */
	if (lstat(dir, &st) == 0 && rootfs_add_host(fs, dir, err, errlen) < 0)
		return -1;
	guest = util_asprintf("%s/%s", dir, name);
	if (guest == NULL)
		return rootfs_nomem(fs, err, errlen);
	at = rootfs_resolve_guest(fs, guest, 0, 0, err, errlen);
	free(guest);
	if (at == NULL)
		return -1;
	rc = 0;
	if (rootfs_find(fs, at) < 0)
		rc = rootfs_put(fs, at, ROOTFS_SYMLINK, 0777, NULL, found,
				strlen(found), 0, err, errlen);
	free(at);
	return rc;
}

int rootfs_add_program(struct rootfs *fs, const char *prog, char *err,
		       size_t errlen)
{
	struct rootfs_objs objs = {0};
	struct strv loaded = {0}, links = {0};
	struct ldpath lp;
	struct elf_info info;
	char real[PATH_MAX];
	int musl = 0, have_lp = 0, rc = -1;

	memset(&lp, 0, sizeof(lp));
	if (elf_read(prog, &info, err, errlen) < 0) {
		elf_release(&info);
		return rootfs_elf_fail(fs, &info);
	}
	if (rootfs_add_host(fs, prog, err, errlen) < 0) {
		elf_release(&info);
		return -1;
	}
	{
		char *path = strdup(prog);
		char *origin = realpath(prog, real) ? util_dirname(real) : NULL;
		if (path == NULL || origin == NULL ||
		    rootfs_objs_push(&objs, path, origin, &info, -1) < 0) {
			free(path);
			free(origin);
			elf_release(&info);
			return rootfs_nomem(fs, err, errlen);
		}
	}

	if (objs.v[0].info.interp != NULL) {
		const char *interp = objs.v[0].info.interp;
		struct elf_info ii;

		if (elf_read(interp, &ii, err, errlen) < 0) {
			if (ii.error == ELF_ERR_IO && ii.sys_errno == ENOENT)
				util_err(err, errlen,
					 "cannot find interpreter "
					 "'%s' needed by '%s'",
					 interp, prog);
			rootfs_elf_fail(fs, &ii);
			elf_release(&ii);
			goto out;
		}
		if (rootfs_add_host(fs, interp, err, errlen) < 0) {
			elf_release(&ii);
			goto out;
		}
		musl = strncmp(rootfs_basename(interp), "ld-musl-", 8) == 0;
		if (strv_push(&loaded, rootfs_basename(interp)) < 0 ||
		    (ii.soname != NULL && strv_push(&loaded, ii.soname) < 0)) {
			elf_release(&ii);
			rootfs_nomem(fs, err, errlen);
			goto out;
		}
		elf_release(&ii);
	}

	for (size_t i = 0; i < objs.n; i++) {
		for (size_t k = 0; k < objs.v[i].info.needed.n; k++) {
			const char *name = objs.v[i].info.needed.v[k];
			char found[PATH_MAX];
			struct strv dirs = {0};
			int hit;

			if (strv_find(&loaded, name) >= 0 ||
			    (musl && rootfs_musl_builtin(name)))
				continue;
			if (!have_lp) {
				if ((musl ? ldpath_init_musl(&lp, fs->musl_path,
							     err, errlen)
					  : ldpath_init_glibc(&lp, fs->ld_conf,
							      err, errlen)) <
				    0) {
					rootfs_fail(fs, ROOTFS_FAIL_IO);
					goto out;
				}
				have_lp = 1;
			}
			if (strchr(name, '/') != NULL) {
				/* ld.so opens such names as paths. */
				hit = name[0] == '/' &&
				      elf_is_x86_64_library(name);
				if (hit)
					snprintf(found, sizeof(found), "%s",
						 name);
			} else {
				if (rootfs_object_dirs(&objs, i, lp.flavor,
						       &dirs) < 0) {
					strv_release(&dirs);
					rootfs_nomem(fs, err, errlen);
					goto out;
				}
				hit = ldpath_find(&lp, name, &dirs, found,
						  sizeof(found));
			}
			if (hit != 1) {
				strv_release(&dirs);
				util_err(err, errlen,
					 "cannot find library '%s' "
					 "needed by '%s'",
					 name, objs.v[i].path);
				rootfs_fail(fs, ROOTFS_FAIL_NOTFOUND);
				goto out;
			}
			/* Remember libraries that only the host's cache
			 * (ld.so.conf) would find, for rootfs_link_builtin. */
			if (!musl && strchr(name, '/') == NULL) {
				char *dir = util_dirname(found);
				int builtin = 0;
				for (size_t b = 0;
				     dir && ldpath_glibc_builtin[b]; b++)
					builtin |=
					    strcmp(dir,
						   ldpath_glibc_builtin[b]) ==
					    0;
				if (dir != NULL && !builtin &&
				    strv_find(&dirs, dir) < 0) {
					char *pair =
					    util_asprintf("%s %s", name, found);
					if (strv_push_owned(&links, pair) < 0) {
						free(dir);
						strv_release(&dirs);
						rootfs_nomem(fs, err, errlen);
						goto out;
					}
				}
				free(dir);
			}
			strv_release(&dirs);

			if (elf_read(found, &info, err, errlen) < 0) {
				elf_release(&info);
				rootfs_elf_fail(fs, &info);
				goto out;
			}
			{
				char *path = strdup(found);
				char *origin = util_dirname(found);
				char *pair =
				    util_asprintf("%s %s", name, found);
				if (path == NULL || origin == NULL ||
				    strv_push(&loaded, name) < 0 ||
				    (info.soname != NULL &&
				     strv_push(&loaded, info.soname) < 0) ||
				    strv_push_owned(&fs->libraries, pair) < 0 ||
				    rootfs_objs_push(&objs, path, origin, &info,
						     (long)i) < 0) {
					free(path);
					free(origin);
					elf_release(&info);
					rootfs_nomem(fs, err, errlen);
					goto out;
				}
			}
			if (rootfs_add_host(fs, found, err, errlen) < 0)
				goto out;
		}
	}

	for (size_t i = 0; i < links.n; i++) {
		char *sp = strchr(links.v[i], ' ');
		*sp = '\0';
		if (rootfs_link_builtin(fs, links.v[i], sp + 1, err, errlen) <
		    0)
			goto out;
	}
	/* musl's loader reads its path file at run time. */
	if (musl && fs->musl_path == NULL) {
		struct stat st;
		if (stat("/etc/ld-musl-x86_64.path", &st) == 0 &&
		    rootfs_add_host(fs, "/etc/ld-musl-x86_64.path", err,
				    errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	if (have_lp)
		ldpath_release(&lp);
	strv_release(&loaded);
	strv_release(&links);
	rootfs_objs_release(&objs);
	return rc;
}

/* ---- writing ---- */

static int rootfs_cmp(const void *a, const void *b)
{
	const struct rootfs_entry *x = a, *y = b;
	return strcmp(x->path, y->path);
}

int rootfs_write(struct rootfs *fs, FILE *out, uint64_t *size, char *err,
		 size_t errlen)
{
	struct cpio_writer w;

	/* Sorted by path: deterministic, and a directory (a prefix of its
	 * children's paths) always comes before what it contains. */
	qsort(fs->entries, fs->n, sizeof(*fs->entries), rootfs_cmp);
	cpio_init(&w, out);
	for (size_t i = 0; i < fs->n; i++) {
		const struct rootfs_entry *e = &fs->entries[i];
		const char *name = e->path + 1; /* archive names are relative */
		int r;

		switch (e->kind) {
		case ROOTFS_DIR:
			r = cpio_add_dir(&w, name, e->mode, err, errlen);
			break;
		case ROOTFS_SYMLINK:
			r = cpio_add_symlink(&w, name, e->data, err, errlen);
			break;
		default:
			r = e->host != NULL
				? cpio_add_file(&w, name, e->mode, e->host, err,
						errlen)
				: cpio_add_data(&w, name, e->mode, e->data,
						e->len, err, errlen);
			break;
		}
		if (r < 0)
			return rootfs_fail(fs, ROOTFS_FAIL_IO);
	}
	if (cpio_finish(&w, err, errlen) < 0)
		return rootfs_fail(fs, ROOTFS_FAIL_IO);
	if (size != NULL)
		*size = w.offset;
	return 0;
}
