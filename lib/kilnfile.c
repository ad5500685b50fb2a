/*
 * The Kilnfile parser (see kilnfile.h).  It only reads text and fills an
 * image_build_spec; nothing on the host is looked at except the file
 * itself (kilnfile_load), so errors about missing files come from the
 * build, with the path the user can check.
 */
#include "kilnfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int kilnfile_words(const char *s, struct strv *words, char *err, size_t errlen)
{
	size_t cap = strlen(s) + 1;
	char *w = malloc(cap);
	const char *p = s;
	int rc = -1;

	if (w == NULL)
		return util_err(err, errlen, "out of memory");
	for (;;) {
		size_t n = 0;
		int any = 0; /* '' is a word, though empty */

		while (*p == ' ' || *p == '\t')
			p++;
		/* As in a shell, '#' starting a word starts a comment. */
		if (*p == '\0' || *p == '#')
			break;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (end == NULL) {
					util_err(err, errlen,
						 "unterminated ' quote");
					goto out;
				}
				memcpy(w + n, p + 1, (size_t)(end - p - 1));
				n += (size_t)(end - p - 1);
				p = end + 1;
				any = 1;
			} else if (*p == '"') {
				p++;
				while (*p != '"') {
					if (*p == '\0') {
						util_err(err, errlen,
							 "unterminated \" "
							 "quote");
						goto out;
					}
					if (*p == '\\' && p[1] != '\0' &&
					    strchr("\"\\$`", p[1]) != NULL)
						p++;
					w[n++] = *p++;
				}
				p++;
				any = 1;
			} else if (*p == '\\') {
				if (p[1] == '\0') {
					util_err(err, errlen,
						 "the line ends with a "
						 "backslash (lines do not "
						 "continue)");
					goto out;
				}
				w[n++] = p[1];
				p += 2;
				any = 1;
			} else {
				w[n++] = *p++;
				any = 1;
			}
		}
		if (any) {
			w[n] = '\0';
			if (strv_push(words, w) < 0) {
				util_err(err, errlen, "out of memory");
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(w);
	return rc;
}

/* An absolute host path for a path written in the Kilnfile. */
static char *kilnfile_host(const char *dir, const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	return util_asprintf("%s/%s", dir, p);
}

/* FILE and DIR: "HOST GUEST" -> "HOST:GUEST" with HOST absolute. */
static int kilnfile_pair(const char *what, struct strv *w, const char *dir,
			 struct strv *out, char *err, size_t errlen)
{
	char *host;

	if (w->n != 3)
		return util_err(err, errlen,
				"%s takes a host path and a guest path, got "
				"%zu word%s (quote paths with spaces)",
				what, w->n - 1, w->n == 2 ? "" : "s");
	if (w->v[1][0] == '\0')
		return util_err(err, errlen, "%s: empty host path", what);
	if (w->v[2][0] != '/')
		return util_err(err, errlen,
				"%s: guest path '%s' is not absolute (start "
				"it with '/')",
				what, w->v[2]);
	if (strstr(w->v[2], ":/") != NULL)
		return util_err(err, errlen,
				"%s: guest path '%s' must not contain ':/'",
				what, w->v[2]);
	host = kilnfile_host(dir, w->v[1]);
	if (host == NULL ||
	    strv_push_owned(out, util_asprintf("%s:%s", host, w->v[2])) < 0) {
		free(host);
		return util_err(err, errlen, "out of memory");
	}
	free(host);
	return 0;
}

/* One instruction, its words in w (w->v[0] the instruction).  first_*
 * remember the line of the once-only instructions. */
struct kilnfile_once {
	int program, workdir, memory;
};

static int kilnfile_line(struct strv *w, const char *dir,
			 struct image_build_spec *spec,
			 struct kilnfile_once *once, int line, char *err,
			 size_t errlen)
{
	const char *ins = w->v[0];
	char buf[IMAGE_TAG_MAX], e[256];

#define KF_IS(s) (strcasecmp(ins, (s)) == 0)
	if (KF_IS("PROGRAM")) {
		if (once->program)
			return util_err(err, errlen,
					"PROGRAM given twice (first on line "
					"%d)",
					once->program);
		if (w->n != 2 || w->v[1][0] == '\0')
			return util_err(err, errlen,
					"PROGRAM takes one program (a path or "
					"a name on PATH), got %zu words",
					w->n - 1);
		once->program = line;
		free(spec->program);
		spec->program = strchr(w->v[1], '/')
				    ? kilnfile_host(dir, w->v[1])
				    : strdup(w->v[1]);
		return spec->program ? 0
				     : util_err(err, errlen, "out of memory");
	}
	if (KF_IS("ARGS")) {
		for (size_t i = 1; i < w->n; i++)
			if (strv_push(&spec->args, w->v[i]) < 0)
				return util_err(err, errlen, "out of memory");
		return 0;
	}
	if (KF_IS("ENV")) {
		if (w->n < 2)
			return util_err(err, errlen,
					"ENV needs KEY=VALUE (one or more)");
		for (size_t i = 1; i < w->n; i++) {
			if (w->v[i][0] == '=' || strchr(w->v[i], '=') == NULL)
				return util_err(err, errlen,
						"ENV entry '%s' is not "
						"KEY=VALUE",
						w->v[i]);
			if (strv_push(&spec->env, w->v[i]) < 0)
				return util_err(err, errlen, "out of memory");
		}
		return 0;
	}
	if (KF_IS("FILE"))
		return kilnfile_pair("FILE", w, dir, &spec->files, err, errlen);
	if (KF_IS("DIR"))
		return kilnfile_pair("DIR", w, dir, &spec->dirs, err, errlen);
	if (KF_IS("WORKDIR")) {
		if (once->workdir)
			return util_err(err, errlen,
					"WORKDIR given twice (first on line "
					"%d)",
					once->workdir);
		if (w->n != 2 || w->v[1][0] != '/')
			return util_err(err, errlen,
					"WORKDIR takes one absolute guest "
					"path");
		once->workdir = line;
		free(spec->workdir);
		spec->workdir = strdup(w->v[1]);
		return spec->workdir ? 0
				     : util_err(err, errlen, "out of memory");
	}
	if (KF_IS("EXPOSE")) {
		if (w->n < 2)
			return util_err(err, errlen,
					"EXPOSE needs PORT[/tcp|/udp] (one or "
					"more)");
		for (size_t i = 1; i < w->n; i++) {
			if (image_port_normalize(w->v[i], buf, sizeof(buf), e,
						 sizeof(e)) < 0)
				return util_err(err, errlen, "%s", e);
			if (strv_push(&spec->ports, buf) < 0)
				return util_err(err, errlen, "out of memory");
		}
		return 0;
	}
	if (KF_IS("MEMORY")) {
		uint64_t mib;

		if (once->memory)
			return util_err(err, errlen,
					"MEMORY given twice (first on line %d)",
					once->memory);
		if (w->n != 2)
			return util_err(err, errlen,
					"MEMORY takes one size, e.g. 64M");
		if (util_parse_mib(w->v[1], &mib, e, sizeof(e)) < 0)
			return util_err(err, errlen, "%s", e);
		if (mib < IMAGE_MEMORY_MIN_MIB || mib > IMAGE_MEMORY_MAX_MIB)
			return util_err(err, errlen,
					"memory size '%s' is outside %dM to "
					"3G",
					w->v[1], IMAGE_MEMORY_MIN_MIB);
		once->memory = line;
		spec->memory_mib = mib;
		return 0;
	}
	if (KF_IS("TAG")) {
		if (w->n < 2)
			return util_err(err, errlen,
					"TAG needs NAME[:TAG] (one or more)");
		for (size_t i = 1; i < w->n; i++) {
			if (image_tag_normalize(w->v[i], buf, sizeof(buf), e,
						sizeof(e)) < 0)
				return util_err(err, errlen, "%s", e);
			if (strv_push(&spec->tags, buf) < 0)
				return util_err(err, errlen, "out of memory");
		}
		return 0;
	}
#undef KF_IS
	return util_err(err, errlen,
			"unknown instruction '%s' (use PROGRAM, ARGS, ENV, "
			"FILE, DIR, WORKDIR, EXPOSE, MEMORY or TAG)",
			ins);
}

int kilnfile_parse(const char *text, const char *name, const char *dir,
		   struct image_build_spec *spec, char *err, size_t errlen)
{
	struct kilnfile_once once = {0, 0, 0};
	const char *p = text;
	char e[512];
	int line = 0;

	while (*p != '\0') {
		const char *end = strchrnul(p, '\n');
		size_t len = (size_t)(end - p);
		struct strv w = {0};
		char *copy, *ins;
		int r;

		line++;
		if (len > 0 && p[len - 1] == '\r')
			len--; /* CRLF files */
		copy = strndup(p, len);
		p = *end ? end + 1 : end;
		if (copy == NULL)
			return util_err(err, errlen, "out of memory");
		ins = copy + strspn(copy, " \t");
		if (*ins == '\0' || *ins == '#') {
			free(copy);
			continue;
		}
		/* The instruction is a plain word; the rest is split like
		 * a shell's words. */
		{
			char *rest = ins + strcspn(ins, " \t");
			char save = *rest;
			*rest = '\0';
			r = strv_push(&w, ins);
			*rest = save;
			if (r == 0)
				r = kilnfile_words(rest, &w, e, sizeof(e));
			else
				snprintf(e, sizeof(e), "out of memory");
		}
		if (r == 0)
			r = kilnfile_line(&w, dir, spec, &once, line, e,
					  sizeof(e));
		free(copy);
		strv_release(&w);
		if (r < 0)
			return util_err(err, errlen, "%s:%d: %s", name, line,
					e);
	}
	if (!once.program)
		return util_err(err, errlen,
				"%s: no PROGRAM line (say which program to "
				"pack, e.g. PROGRAM ./server)",
				name);
	return 0;
}

int kilnfile_load(const char *path, struct image_build_spec *spec, char *err,
		  size_t errlen)
{
	char *text = NULL, *dir = NULL, real[PATH_MAX], e[512];
	size_t len;
	int rc = -1;

	if (util_read_file(path, &text, &len, e, sizeof(e)) < 0) {
		int saved = errno;
		return util_err(err, errlen,
				"cannot read the Kilnfile '%s': %s", path,
				strerror(saved));
	}
	if (strlen(text) != len) {
		util_err(err, errlen,
			 "%s: not a text file (it holds a NUL byte)", path);
		goto out;
	}
	/* Relative paths are the Kilnfile's, wherever kiln runs from. */
	if (realpath(path, real) == NULL ||
	    (dir = util_dirname(real)) == NULL) {
		util_err(err, errlen, "cannot resolve '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	rc = kilnfile_parse(text, path, dir, spec, err, errlen);
out:
	free(text);
	free(dir);
	return rc;
}
