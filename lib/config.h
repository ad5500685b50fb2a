/*
 * The program's configuration inside an image: /.kiln/config (format in
 * include/kiln/abi.h, explained in docs/image-format.md).  One directive
 * a line, "KEY VALUE", VALUE percent-encoded so that any byte string
 * (spaces, newlines, non-UTF-8) survives.  This file builds, formats and
 * parses it; the guest kernel has its own reader.
 */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <stddef.h>

#include "util.h"

struct config {
	char *exe;	  /* absolute path inside the rootfs */
	struct strv args; /* argv[0], argv[1], ... */
	struct strv env;  /* "K=V" entries, at most one per key */
	char *cwd;	  /* working directory; NULL means "/" */
};

void config_init(struct config *c);
void config_release(struct config *c);

/*
 * Sets one "K=V" environment entry: replaces the entry with the same key
 * in place (so order is stable), or appends.  -1 (message in err) if kv
 * has no '=' or an empty key.
 */
int config_env_set(struct config *c, const char *kv, char *err, size_t errlen);

/* The config file's text in a new buffer (caller frees), or NULL when out
 * of memory.  Keys come in the order exe, arg..., env..., cwd. */
char *config_format(const struct config *c);

/* Parses config text into c (initialized by the caller); unknown keys are
 * ignored, as the kernel does.  -1 with err on a malformed line. */
int config_parse(const char *text, struct config *c, char *err, size_t errlen);

/* Percent-encodes s (see abi.h) into a new string, or NULL (no memory). */
char *config_encode(const char *s);

/* Decodes %XX escapes into a new string; -1 with err when an escape is
 * malformed or would produce a NUL byte. */
int config_decode(const char *s, char **out, char *err, size_t errlen);

#endif /* KILN_CONFIG_H */
