/*
 * /.kiln/config writer and reader (see config.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
}

void config_release(struct config *c)
{
	free(c->exe);
	free(c->cwd);
	strv_release(&c->args);
	strv_release(&c->env);
	config_init(c);
}

int config_env_set(struct config *c, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	size_t klen;

	if (eq == NULL || eq == kv)
		return util_err(err, errlen,
				"invalid environment entry '%s' "
				"(use KEY=VALUE)",
				kv);
	klen = (size_t)(eq - kv) + 1; /* key and its '=' */
	for (size_t i = 0; i < c->env.n; i++) {
		if (strncmp(c->env.v[i], kv, klen) == 0) {
			char *copy = strdup(kv);
			if (copy == NULL)
				return util_err(err, errlen, "out of memory");
			free(c->env.v[i]);
			c->env.v[i] = copy;
			return 0;
		}
	}
	if (strv_push(&c->env, kv) < 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

static int config_must_escape(unsigned char ch)
{
	return ch == '%' || ch < 0x21 || ch >= 0x7f;
}

char *config_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	char *out, *o;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += config_must_escape(*p) ? 3 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (config_must_escape(*p)) {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

static int config_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int config_decode(const char *s, char **out, char *err, size_t errlen)
{
	char *buf = malloc(strlen(s) + 1), *o = buf;

	if (buf == NULL)
		return util_err(err, errlen, "out of memory");
	for (const char *p = s; *p; p++) {
		int hi, lo;

		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		hi = p[1] ? config_hexval(p[1]) : -1;
		lo = hi >= 0 && p[2] ? config_hexval(p[2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(buf);
			return util_err(err, errlen, "bad escape in '%s'", s);
		}
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	*out = buf;
	return 0;
}

/* Appends "key VALUE\n" with VALUE encoded. */
static int config_line(FILE *f, const char *key, const char *value)
{
	char *enc = config_encode(value);
	int rc;

	if (enc == NULL)
		return -1;
	rc = fprintf(f, "%s %s\n", key, enc) < 0 ? -1 : 0;
	free(enc);
	return rc;
}

char *config_format(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = 0;

	if (f == NULL)
		return NULL;
	if (c->exe != NULL)
		rc |= config_line(f, "exe", c->exe);
	for (size_t i = 0; i < c->args.n; i++)
		rc |= config_line(f, "arg", c->args.v[i]);
	for (size_t i = 0; i < c->env.n; i++)
		rc |= config_line(f, "env", c->env.v[i]);
	rc |= config_line(f, "cwd", c->cwd != NULL ? c->cwd : "/");
	if (fclose(f) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int config_parse(const char *text, struct config *c, char *err, size_t errlen)
{
	const char *line = text;
	int lineno = 0;

	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *copy = strndup(line, len), *sp, *val = NULL;
		int rc = 0;

		lineno++;
		if (copy == NULL)
			return util_err(err, errlen, "out of memory");
		sp = strchr(copy, ' ');
		if (len == 0) {
			free(copy);
			line += nl ? 1 : 0;
			continue;
		}
		if (sp == NULL) {
			free(copy);
			return util_err(err, errlen,
					"config line %d has no "
					"value",
					lineno);
		}
		*sp = '\0';
		if (config_decode(sp + 1, &val, err, errlen) < 0) {
			free(copy);
			return -1;
		}
		if (strcmp(copy, "exe") == 0) {
			free(c->exe);
			c->exe = val;
			val = NULL;
		} else if (strcmp(copy, "arg") == 0) {
			rc = strv_push_owned(&c->args, val);
			val = NULL;
		} else if (strcmp(copy, "env") == 0) {
			rc = config_env_set(c, val, err, errlen);
		} else if (strcmp(copy, "cwd") == 0) {
			free(c->cwd);
			c->cwd = val;
			val = NULL;
		}
		free(val);
		free(copy);
		if (rc < 0)
			return util_err(err, errlen,
					"config line %d: cannot "
					"store it",
					lineno);
		line += len + (nl ? 1 : 0);
	}
	return 0;
}
