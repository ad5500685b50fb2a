/*
 * Library search paths (see ldpath.h): ld.so.conf parsing with includes,
 * musl's path file, $ORIGIN expansion and the search itself.
 */
#include "ldpath.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfinfo.h"

/* Nested "include" deeper than this is a loop (glibc's ldconfig has no
 * limit but would recurse forever). */
#define LDPATH_MAX_INCLUDE_DEPTH 8

const char *const ldpath_glibc_builtin[] = {
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib",
    "/usr/lib",
    NULL,
};

static const char *const ldpath_glibc_defaults[] = {
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    NULL,
};

static const char *const ldpath_musl_defaults[] = {
    "/lib",
    "/usr/local/lib",
    "/usr/lib",
    NULL,
};

/* Adds dir unless present; trailing slashes are dropped so that "/lib/"
 * and "/lib" count as one. */
static int ldpath_add_dir(struct ldpath *lp, const char *dir)
{
	size_t len = strlen(dir);
	char *d;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 0)
		return 0;
	d = strndup(dir, len);
	if (d == NULL)
		return -1;
	if (strv_find(&lp->dirs, d) >= 0) {
		free(d);
		return 0;
	}
	return strv_push_owned(&lp->dirs, d);
}

static int ldpath_parse_conf(struct ldpath *lp, const char *path, int depth,
			     char *err, size_t errlen);

/* "include PATTERN": a relative pattern is relative to the including
 * file's directory; matches are read in glob's (sorted) order. */
static int ldpath_include(struct ldpath *lp, const char *from,
			  const char *pattern, int depth, char *err,
			  size_t errlen)
{
	char *full = NULL, *dir;
	glob_t g;
	int rc = 0, gr;

	if (pattern[0] == '/') {
		full = strdup(pattern);
	} else {
		dir = util_dirname(from);
		if (dir != NULL)
			full = util_asprintf("%s/%s", dir, pattern);
		free(dir);
	}
	if (full == NULL)
		return util_err(err, errlen, "out of memory");
	gr = glob(full, 0, NULL, &g);
	if (gr == 0) {
		for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
			rc = ldpath_parse_conf(lp, g.gl_pathv[i], depth + 1,
					       err, errlen);
		globfree(&g);
	} else if (gr != GLOB_NOMATCH) {
		rc = util_err(err, errlen,
			      "cannot expand '%s' included from "
			      "'%s'",
			      full, from);
	}
	free(full);
	return rc;
}

static int ldpath_parse_conf(struct ldpath *lp, const char *path, int depth,
			     char *err, size_t errlen)
{
	char *text, *line, *next;
	int rc = 0;

	if (depth > LDPATH_MAX_INCLUDE_DEPTH)
		return util_err(err, errlen,
				"'%s': includes nested too deep "
				"(a loop?)",
				path);
	if (util_read_file(path, &text, NULL, err, errlen) < 0)
		return -1;
	for (line = text; line != NULL && rc == 0; line = next) {
		char *hash, *word, *save = NULL;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		word = strtok_r(line, " \t\r", &save);
		if (word == NULL)
			continue;
		if (strcmp(word, "include") == 0) {
			char *pat;
			while (rc == 0 &&
			       (pat = strtok_r(NULL, " \t\r", &save)) != NULL)
				rc = ldpath_include(lp, path, pat, depth, err,
						    errlen);
			continue;
		}
		if (strcmp(word, "hwcap") == 0)
			continue; /* obsolete; ldconfig ignores it too */
		/* Directories; the old format allowed several per line
		 * separated by ',' or ':' and a "=TYPE" suffix. */
		for (; word != NULL && rc == 0;
		     word = strtok_r(NULL, " \t\r", &save)) {
			char *s2 = NULL, *dir;
			for (dir = strtok_r(word, ",:", &s2); dir != NULL;
			     dir = strtok_r(NULL, ",:", &s2)) {
				char *eq = strchr(dir, '=');
				if (eq != NULL)
					*eq = '\0';
				if (dir[0] != '/')
					continue; /* ldconfig ignores these */
				if (ldpath_add_dir(lp, dir) < 0) {
					rc = util_err(err, errlen,
						      "out of memory");
					break;
				}
			}
		}
	}
	free(text);
	return rc;
}

int ldpath_init_glibc(struct ldpath *lp, const char *conf, char *err,
		      size_t errlen)
{
	FILE *probe;

	memset(lp, 0, sizeof(*lp));
	lp->flavor = LDPATH_GLIBC;
	if (conf == NULL)
		conf = "/etc/ld.so.conf";
	probe = fopen(conf, "r");
	if (probe != NULL) {
		fclose(probe);
		if (ldpath_parse_conf(lp, conf, 0, err, errlen) < 0)
			return -1;
	}
	lp->nconf = lp->dirs.n;
	for (size_t i = 0; ldpath_glibc_defaults[i] != NULL; i++)
		if (ldpath_add_dir(lp, ldpath_glibc_defaults[i]) < 0)
			return util_err(err, errlen, "out of memory");
	return 0;
}

int ldpath_init_musl(struct ldpath *lp, const char *path_file, char *err,
		     size_t errlen)
{
	char *text = NULL, *save = NULL;
	FILE *probe;

	memset(lp, 0, sizeof(*lp));
	lp->flavor = LDPATH_MUSL;
	if (path_file == NULL)
		path_file = "/etc/ld-musl-x86_64.path";
	probe = fopen(path_file, "r");
	if (probe == NULL) {
		for (size_t i = 0; ldpath_musl_defaults[i] != NULL; i++)
			if (ldpath_add_dir(lp, ldpath_musl_defaults[i]) < 0)
				return util_err(err, errlen, "out of memory");
		return 0;
	}
	fclose(probe);
	if (util_read_file(path_file, &text, NULL, err, errlen) < 0)
		return -1;
	for (char *d = strtok_r(text, ":\n", &save); d != NULL;
	     d = strtok_r(NULL, ":\n", &save)) {
		if (ldpath_add_dir(lp, d) < 0) {
			free(text);
			return util_err(err, errlen, "out of memory");
		}
	}
	free(text);
	lp->nconf = lp->dirs.n;
	return 0;
}

void ldpath_release(struct ldpath *lp)
{
	strv_release(&lp->dirs);
}

/* Appends to *buf (growing it) n bytes of s. */
static int ldpath_append(char **buf, size_t *len, size_t *cap, const char *s,
			 size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*len + n + 1) * 2;
		char *b = realloc(*buf, ncap);
		if (b == NULL)
			return -1;
		*buf = b;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Expands the dynamic string tokens of one directory entry. */
static char *ldpath_expand_one(const char *entry, size_t n, const char *origin)
{
	static const struct {
		const char *name;
		const char *value;
	} tokens[] = {
	    {"ORIGIN", NULL}, /* value: origin */
	    {"LIB", "lib/x86_64-linux-gnu"},
	    {"PLATFORM", "x86_64"},
	};
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (ldpath_append(&buf, &len, &cap, "", 0) < 0)
		return NULL;
	for (size_t i = 0; i < n;) {
		int matched = 0;

		if (entry[i] == '$') {
			for (size_t t = 0; t < UTIL_ARRAY_SIZE(tokens); t++) {
				const char *name = tokens[t].name;
				const char *val =
				    tokens[t].value ? tokens[t].value : origin;
				size_t nl = strlen(name), skip = 0;

				if (i + 1 + nl <= n &&
				    strncmp(entry + i + 1, name, nl) == 0) {
					/* $NAME must not run into more name
					 * characters ($ORIGINAL is not it). */
					char c = i + 1 + nl < n
						     ? entry[i + 1 + nl]
						     : '\0';
					if (c == '_' ||
					    (c >= 'A' && c <= 'Z') ||
					    (c >= 'a' && c <= 'z') ||
					    (c >= '0' && c <= '9'))
						continue;
					skip = 1 + nl;
				} else if (i + 3 + nl <= n &&
					   entry[i + 1] == '{' &&
					   strncmp(entry + i + 2, name, nl) ==
					       0 &&
					   entry[i + 2 + nl] == '}') {
					skip = 3 + nl;
				}
				if (skip) {
					if (ldpath_append(&buf, &len, &cap, val,
							  strlen(val)) < 0)
						goto nomem;
					i += skip;
					matched = 1;
					break;
				}
			}
		}
		if (!matched) {
			if (ldpath_append(&buf, &len, &cap, entry + i, 1) < 0)
				goto nomem;
			i++;
		}
	}
	return buf;
nomem:
	free(buf);
	return NULL;
}

int ldpath_expand(const char *list, const char *origin, struct strv *out)
{
	const char *p = list;

	while (*p != '\0') {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);

		if (n > 0) {
			char *dir = ldpath_expand_one(p, n, origin);
			if (dir == NULL)
				return -1;
			if (strv_find(out, dir) >= 0)
				free(dir);
			else if (strv_push_owned(out, dir) < 0)
				return -1;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return 0;
}

/* Tries dir/name; 1 if it is an acceptable library (path in out). */
static int ldpath_try(const char *dir, const char *name, char *out,
		      size_t outlen)
{
	int n;

	if (dir[0] != '/')
		return 0; /* relative: ld.so would use the guest's cwd */
	n = snprintf(out, outlen, "%s%s%s", dir,
		     dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return elf_is_x86_64_library(out);
}

int ldpath_find(const struct ldpath *lp, const char *name,
		const struct strv *first, char *out, size_t outlen)
{
	/* A candidate whose path does not fit in out is skipped like a
	 * missing one. */
	if (first != NULL)
		for (size_t i = 0; i < first->n; i++)
			if (ldpath_try(first->v[i], name, out, outlen) == 1)
				return 1;
	for (size_t i = 0; i < lp->dirs.n; i++)
		if (ldpath_try(lp->dirs.v[i], name, out, outlen) == 1)
			return 1;
	return 0;
}
