/*
 * Helpers shared by the hosted programs (see util.h).  Only libc; no
 * global state.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

char *util_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

int util_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int strv_push_owned(struct strv *sv, char *s)
{
	if (s == NULL)
		return -1;
	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (v == NULL) {
			free(s);
			return -1;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

int strv_push(struct strv *sv, const char *s)
{
	return strv_push_owned(sv, strdup(s));
}

long strv_find(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return (long)i;
	return -1;
}

void strv_release(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int util_parse_mib(const char *s, uint64_t *mib, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t v = 0, unit_kib;

	if (*p < '0' || *p > '9')
		goto invalid;
	for (; *p >= '0' && *p <= '9'; p++) {
		/* Anything past 2^50 is absurd for guest RAM; refuse before
		 * the multiplication below can overflow. */
		if (v > (UINT64_C(1) << 50))
			goto invalid;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0':
		unit_kib = 1024;
		break;
	case 'k':
	case 'K':
		unit_kib = 1;
		break;
	case 'm':
	case 'M':
		unit_kib = 1024;
		break;
	case 'g':
	case 'G':
		unit_kib = 1024 * 1024;
		break;
	default:
		goto invalid;
	}
	if (*p != '\0') {
		p++;
		if (strcasecmp(p, "") != 0 && strcasecmp(p, "b") != 0 &&
		    strcasecmp(p, "ib") != 0)
			goto invalid;
	}
	*mib = (v * unit_kib + 1023) / 1024;
	return 0;
invalid:
	return util_err(err, errlen,
			"invalid memory size '%s' (use e.g. 64M or 1G)", s);
}

char *util_path_join(const char *base, const char *rel)
{
	size_t cap = (base ? strlen(base) : 0) + strlen(rel) + 3;
	char *tmp = malloc(cap), *out = malloc(cap);
	size_t n = 0;

	if (tmp == NULL || out == NULL) {
		free(tmp);
		free(out);
		return NULL;
	}
	if (rel[0] == '/' || base == NULL)
		snprintf(tmp, cap, "%s", rel);
	else
		snprintf(tmp, cap, "%s/%s", base, rel);

	/* out always starts with "/" (the result is absolute); components
	 * are appended as "/name" and ".." drops back to the previous '/'. */
	for (char *c = tmp; *c;) {
		char *end;
		size_t len;

		while (*c == '/')
			c++;
		if (*c == '\0')
			break;
		end = strchr(c, '/');
		len = end ? (size_t)(end - c) : strlen(c);
		if (len == 1 && c[0] == '.') {
			/* nothing */
		} else if (len == 2 && c[0] == '.' && c[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			out[n++] = '/';
			memcpy(out + n, c, len);
			n += len;
		}
		c += len;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	free(tmp);
	return out;
}

char *util_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int util_read_file(const char *path, char **buf, size_t *len, char *err,
		   size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *b;

	if (fd < 0)
		return util_err(err, errlen, "cannot open '%s': %s", path,
				strerror(errno));
	b = malloc(cap);
	if (b == NULL)
		goto nomem;
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = realloc(b, cap * 2);
			if (nb == NULL)
				goto nomem;
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			util_err(err, errlen, "cannot read '%s': %s", path,
				 strerror(errno));
			free(b);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	if (len != NULL)
		*len = n;
	return 0;
nomem:
	free(b);
	close(fd);
	return util_err(err, errlen, "out of memory reading '%s'", path);
}

int util_temp_fd(const char *dir, const char *prefix)
{
	char *tmpl;
	int fd, e;

	if (dir == NULL)
		dir = getenv("TMPDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	tmpl = util_asprintf("%s/%s.XXXXXX", dir, prefix);
	if (tmpl == NULL)
		return -1;
	fd = mkostemp(tmpl, O_CLOEXEC);
	e = errno;
	if (fd >= 0)
		unlink(tmpl);
	free(tmpl);
	errno = e;
	return fd;
}
