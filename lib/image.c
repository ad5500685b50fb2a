/*
 * Images: digests, tags, the config and manifest JSON, the blob store and
 * the archive (see image.h; the format is in docs/image-format.md).
 *
 * Everything an image is made of is named by its SHA-256 (OpenSSL's EVP
 * interface), and everything that is hashed is written in one canonical
 * form: JSON compact with sorted keys (jansson), the archive a ustar tar
 * with fixed owners, modes and times in a fixed order (libarchive), the
 * rootfs the deterministic cpio of rootfs.c.  So the same inputs give the
 * same bytes, and the same image has one ID.
 *
 * Readers trust nothing: an archive arrives from a user or a socket, so
 * its members are checked one by one as they stream past (name, type,
 * size against the manifest, which must come first), every blob is hashed
 * while it is written to a nameless temp file and linked into the store
 * only once its digest matches, and the manifest blob, which makes the
 * image exist for image_load_stored(), goes in last.  A failure at any
 * point leaves at most whole, verified blobs behind.
 */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "kiln/abi.h"
#include "rootfs.h"

#define IMAGE_NAME_MAX	  128 /* the NAME part of a tag */
#define IMAGE_TAGPART_MAX 128
#define IMAGE_HEX	  64
#define IMAGE_PREFIX	  "sha256:"
#define IMAGE_COPY_BUF	  65536
#define IMAGE_BLOBS_DIR	  "blobs/sha256"

/* ---- small helpers ---- */

void image_config_init(struct image_config *c)
{
	memset(c, 0, sizeof(*c));
}

void image_config_release(struct image_config *c)
{
	free(c->exe);
	free(c->workdir);
	strv_release(&c->args);
	strv_release(&c->env);
	strv_release(&c->ports);
	memset(c, 0, sizeof(*c));
}

void image_init(struct image *img)
{
	memset(img, 0, sizeof(*img));
}

void image_release(struct image *img)
{
	image_config_release(&img->cfg);
	strv_release(&img->tags);
	memset(img, 0, sizeof(*img));
}

static int image_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int image_digest_valid(const char *s)
{
	size_t p = strlen(IMAGE_PREFIX);

	return s != NULL && strncmp(s, IMAGE_PREFIX, p) == 0 &&
	       strlen(s + p) == IMAGE_HEX && image_is_hex(s + p, IMAGE_HEX);
}

/* 1 if s is valid UTF-8 (what JSON strings can carry). */
static int image_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* ---- SHA-256 ---- */

static EVP_MD_CTX *image_hash_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	return md;
}

/* Finishes md into "sha256:<hex>" and frees it; -1 on failure. */
static int image_hash_end(EVP_MD_CTX *md, char out[IMAGE_DIGEST_MAX])
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int ok = EVP_DigestFinal_ex(md, raw, &n) == 1 && n == IMAGE_HEX / 2;

	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	strcpy(out, IMAGE_PREFIX);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + strlen(IMAGE_PREFIX) + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static int image_hash_buf(const void *p, size_t n, char out[IMAGE_DIGEST_MAX])
{
	EVP_MD_CTX *md = image_hash_new();

	if (md == NULL || EVP_DigestUpdate(md, p, n) != 1) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	return image_hash_end(md, out);
}

/* ---- tags, ports, references ---- */

static int image_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

static int image_tag_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int image_tag_normalize(const char *in, char *out, size_t outlen, char *err,
			size_t errlen)
{
	const char *colon = strchr(in, ':');
	size_t nlen = colon ? (size_t)(colon - in) : strlen(in);
	const char *tag = colon ? colon + 1 : "latest";
	size_t tlen = strlen(tag);

	if (in[0] == '\0')
		return util_err(err, errlen,
				"empty image tag (use NAME[:TAG])");
	if (nlen == 0)
		return util_err(err, errlen,
				"invalid image tag '%s': the name is empty "
				"(use NAME[:TAG])",
				in);
	if (nlen > IMAGE_NAME_MAX)
		return util_err(err, errlen,
				"invalid image tag '%s': the name is longer "
				"than %d characters",
				in, IMAGE_NAME_MAX);
	/* Segments separated by '/', each [a-z0-9][a-z0-9._-]*. */
	for (size_t i = 0; i < nlen; i++) {
		int start = i == 0 || in[i - 1] == '/';
		char c = in[i];

		if (c == '/' && !start && i + 1 < nlen)
			continue;
		if (start ? ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			  : image_name_char(c))
			continue;
		return util_err(err, errlen,
				"invalid image name '%.*s': use lowercase "
				"letters, digits, '.', '_' and '-', each "
				"'/'-separated part starting with a letter or "
				"digit",
				(int)nlen, in);
	}
	if (tlen == 0 || tlen > IMAGE_TAGPART_MAX || tag[0] == '.' ||
	    tag[0] == '-')
		goto bad_tag;
	for (size_t i = 0; i < tlen; i++)
		if (!image_tag_char(tag[i]))
			goto bad_tag;
	if (nlen + 1 + tlen + 1 > outlen)
		return util_err(err, errlen, "image tag '%s' is too long", in);
	snprintf(out, outlen, "%.*s:%s", (int)nlen, in, tag);
	return 0;
bad_tag:
	return util_err(err, errlen,
			"invalid tag '%s' in '%s': use up to %d letters, "
			"digits, '.', '_' and '-', not starting with '.' or "
			"'-'",
			tag, in, IMAGE_TAGPART_MAX);
}

int image_port_normalize(const char *in, char *out, size_t outlen, char *err,
			 size_t errlen)
{
	const char *slash = strchr(in, '/');
	const char *proto = slash ? slash + 1 : "tcp";
	size_t n = slash ? (size_t)(slash - in) : strlen(in);
	unsigned long port = 0;

	if (n == 0 || n > 5 || in[0] == '0')
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (in[i] < '0' || in[i] > '9')
			goto bad;
		port = port * 10 + (unsigned long)(in[i] - '0');
	}
	if (port < 1 || port > 65535 ||
	    (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0))
		goto bad;
	if ((size_t)snprintf(out, outlen, "%lu/%s", port, proto) >= outlen)
		return util_err(err, errlen, "port '%s': buffer too small", in);
	return 0;
bad:
	return util_err(err, errlen,
			"invalid port '%s' (use PORT, PORT/tcp or PORT/udp, "
			"PORT from 1 to 65535)",
			in);
}

int image_ref_parse(const char *ref, struct image_ref *r, char *err,
		    size_t errlen)
{
	size_t p = strlen(IMAGE_PREFIX), n;
	const char *hex = ref;
	char tagerr[256];
	int tag_ok;

	memset(r, 0, sizeof(*r));
	if (strncmp(ref, IMAGE_PREFIX, p) == 0) {
		hex = ref + p;
		n = strlen(hex);
		if (n < 4 || n > IMAGE_HEX || !image_is_hex(hex, n))
			return util_err(err, errlen,
					"invalid image ID '%s' (use 4 to 64 "
					"lowercase hex digits after "
					"'sha256:')",
					ref);
		memcpy(r->hex, hex, n + 1);
		r->full = n == IMAGE_HEX;
		return 0;
	}
	tag_ok = image_tag_normalize(ref, r->tag, sizeof(r->tag), tagerr,
				     sizeof(tagerr)) == 0;
	if (!tag_ok)
		r->tag[0] = '\0';
	n = strlen(ref);
	if (n >= 4 && n <= IMAGE_HEX && image_is_hex(ref, n)) {
		memcpy(r->hex, ref, n + 1);
		r->full = n == IMAGE_HEX;
	}
	if (!tag_ok && r->hex[0] == '\0')
		return util_err(err, errlen, "%s", tagerr);
	return 0;
}

int image_blob_path(const char *state_dir, const char *digest, char *out,
		    size_t outlen)
{
	if (!image_digest_valid(digest))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/" IMAGE_BLOBS_DIR "/%s",
			     state_dir,
			     digest + strlen(IMAGE_PREFIX)) >= outlen)
		return -1;
	return 0;
}

/* ---- config and manifest JSON ---- */

/* A JSON array of the strings in sv, or NULL (no memory, not UTF-8). */
static json_t *image_json_strv(const struct strv *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < sv->n; i++)
		if (json_array_append_new(a, json_string(sv->v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* json_dumps with the canonical flags, taking o; NULL if o is NULL. */
static char *image_json_dump(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

char *image_config_json(const struct image_config *c)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	/* json_object_set_new takes the value even when it fails, and a NULL
	 * value (a string that is not UTF-8) makes it fail. */
	if (json_object_set_new(o, "args", image_json_strv(&c->args)) < 0 ||
	    json_object_set_new(o, "env", image_json_strv(&c->env)) < 0 ||
	    json_object_set_new(o, "exe", json_string(c->exe ? c->exe : "")) <
		0 ||
	    json_object_set_new(o, "memory_mib",
				json_integer((json_int_t)c->memory_mib)) < 0 ||
	    json_object_set_new(o, "ports", image_json_strv(&c->ports)) < 0 ||
	    json_object_set_new(
		o, "workdir", json_string(c->workdir ? c->workdir : "/")) < 0) {
		json_decref(o);
		return NULL;
	}
	return image_json_dump(o);
}

/* Fills sv from a JSON array of strings named key; -1 + err otherwise. */
static int image_json_get_strv(json_t *a, const char *key, struct strv *sv,
			       char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return util_err(err, errlen, "'%s' is not an array", key);
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return util_err(err, errlen,
					"'%s' holds something other than "
					"strings",
					key);
		if (strv_push(sv, json_string_value(v)) < 0)
			return util_err(err, errlen, "out of memory");
	}
	return 0;
}

/* Parses text as a JSON object (duplicate keys refused). */
static json_t *image_json_load(const char *text, const char *what, char *err,
			       size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

	if (o == NULL) {
		util_err(err, errlen, "%s is not valid JSON: %s (line %d)",
			 what, jerr.text, jerr.line);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		util_err(err, errlen, "%s is not a JSON object", what);
		return NULL;
	}
	return o;
}

/* -1 + err unless o has exactly the keys in keys[] (NULL-terminated). */
static int image_json_keys(json_t *o, const char *const *keys, const char *what,
			   char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	json_object_foreach(o, k, v)
	{
		int known = 0;
		for (size_t i = 0; keys[i]; i++)
			known |= strcmp(keys[i], k) == 0;
		if (!known)
			return util_err(err, errlen, "unknown key '%s' in %s",
					k, what);
	}
	for (; keys[n]; n++)
		if (json_object_get(o, keys[n]) == NULL)
			return util_err(err, errlen, "%s has no '%s'", what,
					keys[n]);
	return 0;
}

int image_config_parse(const char *json, struct image_config *c, char *err,
		       size_t errlen)
{
	static const char *const keys[] = {
	    "args", "env", "exe", "memory_mib", "ports", "workdir", NULL};
	struct image_config n;
	char e[256];
	json_t *o, *v;
	int rc = -1;

	image_config_init(&n);
	o = image_json_load(json, "the image config", err, errlen);
	if (o == NULL)
		return -1;
	if (image_json_keys(o, keys, "the image config", err, errlen) < 0)
		goto out;
	if (image_json_get_strv(json_object_get(o, "args"), "args", &n.args, e,
				sizeof(e)) < 0 ||
	    image_json_get_strv(json_object_get(o, "env"), "env", &n.env, e,
				sizeof(e)) < 0 ||
	    image_json_get_strv(json_object_get(o, "ports"), "ports", &n.ports,
				e, sizeof(e)) < 0) {
		util_err(err, errlen, "bad image config: %s", e);
		goto out;
	}
	v = json_object_get(o, "exe");
	if (!json_is_string(v) || json_string_value(v)[0] != '/') {
		util_err(err, errlen,
			 "bad image config: 'exe' is not an absolute path");
		goto out;
	}
	n.exe = strdup(json_string_value(v));
	v = json_object_get(o, "workdir");
	if (!json_is_string(v) || json_string_value(v)[0] != '/') {
		util_err(err, errlen,
			 "bad image config: 'workdir' is not an absolute path");
		goto out;
	}
	n.workdir = strdup(json_string_value(v));
	if (n.exe == NULL || n.workdir == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	v = json_object_get(o, "memory_mib");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (json_integer_value(v) != 0 &&
	     (json_integer_value(v) < IMAGE_MEMORY_MIN_MIB ||
	      json_integer_value(v) > IMAGE_MEMORY_MAX_MIB))) {
		util_err(err, errlen,
			 "bad image config: 'memory_mib' is not 0 or a "
			 "size from %d to %d",
			 IMAGE_MEMORY_MIN_MIB, IMAGE_MEMORY_MAX_MIB);
		goto out;
	}
	n.memory_mib = (uint64_t)json_integer_value(v);
	if (n.args.n == 0) {
		util_err(err, errlen, "bad image config: 'args' is empty");
		goto out;
	}
	for (size_t i = 0; i < n.env.n; i++)
		if (n.env.v[i][0] == '=' || strchr(n.env.v[i], '=') == NULL) {
			util_err(err, errlen,
				 "bad image config: env entry '%s' is not "
				 "KEY=VALUE",
				 n.env.v[i]);
			goto out;
		}
	for (size_t i = 0; i < n.ports.n; i++) {
		char canon[16];
		if (image_port_normalize(n.ports.v[i], canon, sizeof(canon), e,
					 sizeof(e)) < 0 ||
		    strcmp(canon, n.ports.v[i]) != 0) {
			util_err(err, errlen,
				 "bad image config: port '%s' is not "
				 "PORT/tcp or PORT/udp",
				 n.ports.v[i]);
			goto out;
		}
	}
	image_config_release(c);
	*c = n;
	image_config_init(&n);
	rc = 0;
out:
	image_config_release(&n);
	json_decref(o);
	return rc;
}

static json_t *image_json_blob(const struct image_blob *b)
{
	json_t *o = json_object();

	if (o == NULL ||
	    json_object_set_new(o, "digest", json_string(b->digest)) < 0 ||
	    json_object_set_new(o, "size", json_integer((json_int_t)b->size)) <
		0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *image_manifest_json(const struct image *img)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "config", image_json_blob(&img->config)) <
		0 ||
	    json_object_set_new(o, "kernel", image_json_blob(&img->kernel)) <
		0 ||
	    json_object_set_new(o, "rootfs", image_json_blob(&img->rootfs)) <
		0 ||
	    json_object_set_new(o, "schema", json_integer(IMAGE_SCHEMA)) < 0) {
		json_decref(o);
		return NULL;
	}
	return image_json_dump(o);
}

static int image_manifest_blob(json_t *o, const char *key, struct image_blob *b,
			       char *err, size_t errlen)
{
	static const char *const keys[] = {"digest", "size", NULL};
	json_t *v = json_object_get(o, key), *d, *s;
	char what[64];

	snprintf(what, sizeof(what), "the manifest's '%s'", key);
	if (!json_is_object(v))
		return util_err(err, errlen, "%s is not an object", what);
	if (image_json_keys(v, keys, what, err, errlen) < 0)
		return -1;
	d = json_object_get(v, "digest");
	s = json_object_get(v, "size");
	if (!json_is_string(d) || !image_digest_valid(json_string_value(d)))
		return util_err(err, errlen,
				"%s has no valid digest (sha256:<64 hex>)",
				what);
	if (!json_is_integer(s) || json_integer_value(s) < 0)
		return util_err(err, errlen, "%s has no valid size", what);
	snprintf(b->digest, sizeof(b->digest), "%s", json_string_value(d));
	b->size = (uint64_t)json_integer_value(s);
	return 0;
}

/*
 * Parses manifest text into img's blobs and sets img->id to its digest.
 * The text must be canonical (what image_manifest_json writes), so one
 * image can never have two IDs.
 */
static int image_manifest_parse(const char *text, struct image *img, char *err,
				size_t errlen)
{
	static const char *const keys[] = {"config", "kernel", "rootfs",
					   "schema", NULL};
	json_t *o = image_json_load(text, "manifest.json", err, errlen), *v;
	char *canon = NULL;
	int rc = -1;

	if (o == NULL)
		return -1;
	v = json_object_get(o, "schema");
	if (json_is_integer(v) && json_integer_value(v) != IMAGE_SCHEMA) {
		util_err(err, errlen,
			 "image schema %lld is not supported (this kiln reads "
			 "schema %d; a newer kiln wrote it?)",
			 (long long)json_integer_value(v), IMAGE_SCHEMA);
		goto out;
	}
	if (image_json_keys(o, keys, "manifest.json", err, errlen) < 0)
		goto out;
	if (!json_is_integer(v)) {
		util_err(err, errlen,
			 "manifest.json: 'schema' is not a number");
		goto out;
	}
	if (image_manifest_blob(o, "kernel", &img->kernel, err, errlen) < 0 ||
	    image_manifest_blob(o, "rootfs", &img->rootfs, err, errlen) < 0 ||
	    image_manifest_blob(o, "config", &img->config, err, errlen) < 0)
		goto out;
	canon = image_manifest_json(img);
	if (canon == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	if (strcmp(canon, text) != 0) {
		util_err(err, errlen,
			 "manifest.json is not in canonical form (compact "
			 "JSON, sorted keys): the image ID would not be "
			 "unique");
		goto out;
	}
	if (image_hash_buf(text, strlen(text), img->id) < 0) {
		util_err(err, errlen, "cannot compute SHA-256");
		goto out;
	}
	rc = 0;
out:
	free(canon);
	json_decref(o);
	return rc;
}

/* ---- the blob store ---- */

/* An errno from writing -> the *fail kinds of image.h. */
static int image_fail_kind(int e)
{
	return e == ENOSPC || e == EDQUOT ? ENOSPC : EIO;
}

static int image_store_err(int e, const char *what, const char *path, int *fail,
			   char *err, size_t errlen)
{
	*fail = image_fail_kind(e);
	if (*fail == ENOSPC)
		return util_err(err, errlen,
				"no space left in the image store '%s' (%s): "
				"free some space or remove images",
				path, strerror(e));
	return util_err(err, errlen, "cannot %s '%s': %s", what, path,
			strerror(e));
}

static int image_mkdir(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Makes STATE/blobs/sha256 exist; its path into dir. */
static int image_store_dir(const char *state_dir, char *dir, size_t len,
			   int *fail, char *err, size_t errlen)
{
	if ((size_t)snprintf(dir, len, "%s/blobs", state_dir) >= len) {
		*fail = EINVAL;
		return util_err(err, errlen, "state directory path too long");
	}
	if (image_mkdir(state_dir) < 0 || image_mkdir(dir) < 0)
		return image_store_err(errno, "create", dir, fail, err, errlen);
	strcat(dir, "/sha256");
	if (image_mkdir(dir) < 0)
		return image_store_err(errno, "create", dir, fail, err, errlen);
	return 0;
}

/* DIR/<hex> for a valid digest (the blob's file in a store directory). */
static void image_store_path(char *out, size_t len, const char *dir,
			     const char *digest)
{
	if ((size_t)snprintf(out, len, "%s/%s", dir,
			     digest + strlen(IMAGE_PREFIX)) >= len)
		out[0] = '\0';
}

/*
 * A blob being written into the store: a nameless file (O_TMPFILE) in the
 * blob directory, linked under its digest only when complete and
 * verified, so no partial blob ever has a name, even if the process is
 * killed.  Filesystems without O_TMPFILE get a named ".tmp-" file that is
 * renamed into place (and removed on failure).
 */
struct image_sink {
	int fd;
	char dir[PATH_MAX];
	char tmp[PATH_MAX + 32]; /* named fallback, "" with O_TMPFILE */
	EVP_MD_CTX *md;
	uint64_t n;
};

static int image_sink_open(struct image_sink *s, const char *dir, int *fail,
			   char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
	if (s->fd < 0 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(s->tmp, sizeof(s->tmp), "%s/.tmp-XXXXXX", dir);
		s->fd = mkostemp(s->tmp, O_CLOEXEC);
		if (s->fd < 0)
			s->tmp[0] = '\0';
		else
			fchmod(s->fd, 0444);
	}
	if (s->fd < 0)
		return image_store_err(errno, "create a blob in", dir, fail,
				       err, errlen);
	s->md = image_hash_new();
	if (s->md == NULL) {
		*fail = EIO;
		close(s->fd);
		if (s->tmp[0])
			unlink(s->tmp);
		return util_err(err, errlen, "cannot start SHA-256");
	}
	return 0;
}

static void image_sink_abort(struct image_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp[0])
		unlink(s->tmp);
	EVP_MD_CTX_free(s->md);
	s->fd = -1;
	s->tmp[0] = '\0';
	s->md = NULL;
}

static int image_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int image_sink_write(struct image_sink *s, const void *p, size_t n,
			    int *fail, char *err, size_t errlen)
{
	if (image_write_all(s->fd, p, n) < 0)
		return image_store_err(errno, "write a blob in", s->dir, fail,
				       err, errlen);
	if (EVP_DigestUpdate(s->md, p, n) != 1) {
		*fail = EIO;
		return util_err(err, errlen, "SHA-256 failed");
	}
	s->n += n;
	return 0;
}

static int image_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Finishes the blob: its digest must be want (else EINVAL "damaged"), then
 * it is synced and given its name.  An identical blob already there is
 * kept.  The sink is closed either way.
 */
static int image_sink_commit(struct image_sink *s, const char *want,
			     const char *what, int *fail, char *err,
			     size_t errlen)
{
	char got[IMAGE_DIGEST_MAX], path[PATH_MAX + 80], proc[64];
	EVP_MD_CTX *md = s->md;
	int rc = -1;

	s->md = NULL;
	if (image_hash_end(md, got) < 0) {
		*fail = EIO;
		util_err(err, errlen, "SHA-256 failed");
		goto out;
	}
	if (strcmp(got, want) != 0) {
		*fail = EINVAL;
		util_err(err, errlen,
			 "%s does not match its digest %s (got %s): the "
			 "archive is damaged",
			 what, want, got);
		goto out;
	}
	image_store_path(path, sizeof(path), s->dir, want);
	if (fsync(s->fd) < 0) {
		image_store_err(errno, "write a blob in", s->dir, fail, err,
				errlen);
		goto out;
	}
	if (s->tmp[0]) {
		if (rename(s->tmp, path) < 0) {
			image_store_err(errno, "create", path, fail, err,
					errlen);
			goto out;
		}
		s->tmp[0] = '\0';
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) <
			0 &&
		    errno != EEXIST) {
			image_store_err(errno, "create", path, fail, err,
					errlen);
			goto out;
		}
	}
	if (image_fsync_dir(s->dir) < 0) {
		image_store_err(errno, "sync", s->dir, fail, err, errlen);
		goto out;
	}
	rc = 0;
out:
	image_sink_abort(s);
	return rc;
}

/* Stores a blob held in memory (manifest, config) under digest. */
static int image_store_mem(const char *dir, const char *digest, const void *p,
			   size_t n, int *fail, char *err, size_t errlen)
{
	struct image_sink s;
	char path[PATH_MAX + 80];

	image_store_path(path, sizeof(path), dir, digest);
	if (access(path, F_OK) == 0)
		return 0;
	if (image_sink_open(&s, dir, fail, err, errlen) < 0)
		return -1;
	if (image_sink_write(&s, p, n, fail, err, errlen) < 0) {
		image_sink_abort(&s);
		return -1;
	}
	return image_sink_commit(&s, digest, digest, fail, err, errlen);
}

/* Reads a whole small blob of the store, verifying its digest. */
static int image_read_blob(const char *state_dir, const char *digest,
			   const char *what, char **out, char *err,
			   size_t errlen)
{
	char path[PATH_MAX], got[IMAGE_DIGEST_MAX];
	struct stat st;
	size_t len;
	char *buf;

	if (image_blob_path(state_dir, digest, path, sizeof(path)) < 0)
		return util_err(err, errlen, "invalid digest '%s'", digest);
	if (stat(path, &st) < 0)
		return util_err(err, errlen, "cannot read %s '%s': %s", what,
				path, strerror(errno));
	if (st.st_size > IMAGE_JSON_MAX)
		return util_err(err, errlen, "%s '%s' is too large", what,
				path);
	if (util_read_file(path, &buf, &len, err, errlen) < 0)
		return -1;
	if (image_hash_buf(buf, len, got) < 0 || strcmp(got, digest) != 0 ||
	    strlen(buf) != len) {
		free(buf);
		return util_err(err, errlen,
				"%s '%s' does not match its digest (the image "
				"store is damaged)",
				what, path);
	}
	*out = buf;
	return 0;
}

int image_load_stored(const char *state_dir, const char *id, struct image *img,
		      char *err, size_t errlen)
{
	struct image n;
	char *manifest = NULL, *config = NULL, path[PATH_MAX];
	struct stat st;
	int rc = -1;

	image_init(&n);
	if (!image_digest_valid(id))
		return util_err(err, errlen,
				"invalid image ID '%s' (use sha256:<64 hex>)",
				id);
	if (image_read_blob(state_dir, id, "the manifest of image", &manifest,
			    err, errlen) < 0)
		goto out;
	if (image_manifest_parse(manifest, &n, err, errlen) < 0)
		goto out;
	if (image_read_blob(state_dir, n.config.digest, "the config blob",
			    &config, err, errlen) < 0)
		goto out;
	if (strlen(config) != n.config.size) {
		util_err(err, errlen,
			 "the config blob of %s has the wrong size", id);
		goto out;
	}
	if (image_config_parse(config, &n.cfg, err, errlen) < 0)
		goto out;
	{
		const struct image_blob *b[] = {&n.kernel, &n.rootfs};
		for (size_t i = 0; i < 2; i++) {
			image_blob_path(state_dir, b[i]->digest, path,
					sizeof(path));
			if (stat(path, &st) < 0) {
				util_err(err, errlen,
					 "blob '%s' of image %s is missing: "
					 "%s",
					 b[i]->digest, id, strerror(errno));
				goto out;
			}
			if ((uint64_t)st.st_size != b[i]->size) {
				util_err(err, errlen,
					 "blob '%s' of image %s has %llu "
					 "bytes, the manifest says %llu",
					 b[i]->digest, id,
					 (unsigned long long)st.st_size,
					 (unsigned long long)b[i]->size);
				goto out;
			}
		}
	}
	memcpy(img->id, n.id, sizeof(img->id));
	img->kernel = n.kernel;
	img->rootfs = n.rootfs;
	img->config = n.config;
	image_config_release(&img->cfg);
	img->cfg = n.cfg;
	image_config_init(&n.cfg);
	rc = 0;
out:
	free(manifest);
	free(config);
	image_release(&n);
	return rc;
}

/* ---- tags.json ---- */

static int image_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The tags of img, sorted and without duplicates, as a JSON array. */
static char *image_tags_json(const struct strv *tags)
{
	struct strv sorted = {0};
	char *s = NULL;

	for (size_t i = 0; i < tags->n; i++)
		if (strv_find(&sorted, tags->v[i]) < 0 &&
		    strv_push(&sorted, tags->v[i]) < 0)
			goto out;
	if (sorted.n > 1)
		qsort(sorted.v, sorted.n, sizeof(*sorted.v), image_strcmp);
	s = image_json_dump(image_json_strv(&sorted));
out:
	strv_release(&sorted);
	return s;
}

static int image_tags_parse(const char *text, struct strv *tags, char *err,
			    size_t errlen)
{
	json_error_t jerr;
	json_t *a = json_loads(text, 0, &jerr), *v;
	char tag[IMAGE_TAG_MAX], e[256];
	size_t i;
	int rc = -1;

	if (!json_is_array(a)) {
		util_err(err, errlen, "tags.json is not a JSON array%s%s",
			 a ? "" : ": ", a ? "" : jerr.text);
		goto out;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) ||
		    image_tag_normalize(json_string_value(v), tag, sizeof(tag),
					e, sizeof(e)) < 0) {
			util_err(err, errlen, "tags.json: %s",
				 json_is_string(v) ? e : "not a string");
			goto out;
		}
		if (strv_find(tags, tag) < 0 && strv_push(tags, tag) < 0) {
			util_err(err, errlen, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(a);
	return rc;
}

/* ---- writing archives ---- */

/* One blob to put in an archive: from fd (read with pread from 0) or
 * from memory. */
struct image_src {
	const char *digest;
	uint64_t size;
	int fd;
	const char *mem;
};

static int image_src_cmp(const void *a, const void *b)
{
	return strcmp(((const struct image_src *)a)->digest,
		      ((const struct image_src *)b)->digest);
}

/* A libarchive write failure; errno is left as ENOSPC for a full disk,
 * EIO otherwise (image_emit's callers tell the two apart). */
static int image_ar_err(struct archive *a, const char *what, char *err,
			size_t errlen)
{
	const char *msg = archive_error_string(a);
	int e = archive_errno(a);

	errno = e == ENOSPC || e == EDQUOT ? ENOSPC : EIO;
	if (errno == ENOSPC)
		return util_err(err, errlen, "cannot write %s: %s", what,
				strerror(ENOSPC));
	return util_err(err, errlen, "cannot write %s: %s", what,
			msg	? msg
			: e > 0 ? strerror(e)
				: "libarchive error");
}

/* A ustar header with everything that could vary fixed. */
static int image_ar_header(struct archive *a, const char *name, uint64_t size,
			   char *err, size_t errlen)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (e == NULL)
		return util_err(err, errlen, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0
			       : image_ar_err(a, "the archive", err, errlen);
}

static int image_ar_data(struct archive *a, const void *p, size_t n, char *err,
			 size_t errlen)
{
	la_ssize_t w = archive_write_data(a, p, n);

	return w == (la_ssize_t)n ? 0
				  : image_ar_err(a, "the archive", err, errlen);
}

static int image_ar_mem(struct archive *a, const char *name, const char *text,
			char *err, size_t errlen)
{
	size_t n = strlen(text);

	if (image_ar_header(a, name, n, err, errlen) < 0)
		return -1;
	return n ? image_ar_data(a, text, n, err, errlen) : 0;
}

/* Copies one blob into the archive, hashing it on the way: what is
 * written must be what the digest names. */
static int image_ar_blob(struct archive *a, const struct image_src *s,
			 char *err, size_t errlen)
{
	/* Failures other than the archive's own writes are EIO. */
	char name[80], got[IMAGE_DIGEST_MAX];
	EVP_MD_CTX *md;
	uint64_t off = 0;
	char *buf;
	int rc = -1;

	snprintf(name, sizeof(name), IMAGE_BLOBS_DIR "/%s",
		 s->digest + strlen(IMAGE_PREFIX));
	if (image_ar_header(a, name, s->size, err, errlen) < 0)
		return -1;
	if (s->mem != NULL) {
		if (image_hash_buf(s->mem, s->size, got) < 0 ||
		    strcmp(got, s->digest) != 0) {
			errno = EIO;
			return util_err(err, errlen,
					"blob %s does not match its digest",
					s->digest);
		}
		return image_ar_data(a, s->mem, s->size, err, errlen);
	}
	buf = malloc(IMAGE_COPY_BUF);
	md = image_hash_new();
	if (buf == NULL || md == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	while (off < s->size) {
		size_t want = s->size - off < IMAGE_COPY_BUF
				  ? (size_t)(s->size - off)
				  : IMAGE_COPY_BUF;
		ssize_t r = pread(s->fd, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			util_err(err, errlen, "cannot read blob %s: %s",
				 s->digest,
				 r < 0 ? strerror(errno) : "it got shorter");
			goto out;
		}
		if (EVP_DigestUpdate(md, buf, (size_t)r) != 1 ||
		    image_ar_data(a, buf, (size_t)r, err, errlen) < 0)
			goto out;
		off += (uint64_t)r;
	}
	{
		EVP_MD_CTX *m = md;
		md = NULL;
		if (image_hash_end(m, got) < 0 || strcmp(got, s->digest) != 0) {
			util_err(err, errlen,
				 "blob %s does not match its digest (it "
				 "changed while being read, or the store is "
				 "damaged)",
				 s->digest);
			goto out;
		}
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	if (rc < 0 && errno != ENOSPC)
		errno = EIO;
	return rc;
}

/*
 * Writes the archive: manifest.json first (so a reader can check every
 * member against it as it streams past), tags.json, then each distinct
 * blob in digest order.  ustar, mode 0644, owner 0, mtime 0, no padding
 * beyond the end-of-archive blocks: the same image gives the same bytes.
 */
static int image_emit(int out, const struct image *img, struct image_src *src,
		      size_t nsrc, int *fail, char *err, size_t errlen)
{
	struct archive *a = archive_write_new();
	char *manifest = image_manifest_json(img);
	char *tags = image_tags_json(&img->tags);
	int rc = -1;

	errno = 0;
	if (a == NULL || manifest == NULL || tags == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	qsort(src, nsrc, sizeof(*src), image_src_cmp);
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, out) != ARCHIVE_OK) {
		image_ar_err(a, "the archive", err, errlen);
		goto out;
	}
	if (image_ar_mem(a, "manifest.json", manifest, err, errlen) < 0 ||
	    image_ar_mem(a, "tags.json", tags, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < nsrc; i++) {
		if (i > 0 && strcmp(src[i].digest, src[i - 1].digest) == 0)
			continue;
		if (image_ar_blob(a, &src[i], err, errlen) < 0)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		image_ar_err(a, "the archive", err, errlen);
		goto out;
	}
	rc = 0;
out:
	/* errno is ENOSPC only when a write found the disk full. */
	*fail = rc == 0 ? 0 : errno == ENOSPC ? ENOSPC : EIO;
	if (a != NULL)
		archive_write_free(a);
	free(manifest);
	free(tags);
	return rc;
}

int image_archive_write(int fd, const char *state_dir, const struct image *img,
			char *err, size_t errlen)
{
	const struct image_blob *b[] = {&img->kernel, &img->rootfs,
					&img->config};
	struct image_src src[3];
	char path[PATH_MAX];
	struct stat st;
	int rc = -1, dummy;

	for (size_t i = 0; i < 3; i++)
		src[i].fd = -1;
	for (size_t i = 0; i < 3; i++) {
		src[i].digest = b[i]->digest;
		src[i].size = b[i]->size;
		src[i].mem = NULL;
		if (image_blob_path(state_dir, b[i]->digest, path,
				    sizeof(path)) < 0) {
			util_err(err, errlen, "invalid blob digest '%s'",
				 b[i]->digest);
			goto out;
		}
		src[i].fd = open(path, O_RDONLY | O_CLOEXEC);
		if (src[i].fd < 0 || fstat(src[i].fd, &st) < 0) {
			util_err(err, errlen, "cannot open blob '%s': %s", path,
				 strerror(errno));
			goto out;
		}
		if ((uint64_t)st.st_size != b[i]->size) {
			util_err(err, errlen,
				 "blob '%s' has %llu bytes, the manifest says "
				 "%llu (the image store is damaged)",
				 path, (unsigned long long)st.st_size,
				 (unsigned long long)b[i]->size);
			goto out;
		}
	}
	rc = image_emit(fd, img, src, 3, &dummy, err, errlen);
out:
	for (size_t i = 0; i < 3; i++)
		if (src[i].fd >= 0)
			close(src[i].fd);
	return rc;
}

/* ---- reading archives ---- */

/* What the reader knows about one blob of the manifest. */
struct image_want {
	const struct image_blob *blob;
	const char *role; /* "kernel", "rootfs", "config" */
	int seen;
};

static int image_bad(int *fail, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int image_bad(int *fail, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*fail = EINVAL;
	return util_err(err, errlen, "bad image archive: %s", msg);
}

/* Reads a whole small member (size already checked) as a C string. */
static char *image_read_member(struct archive *a, size_t size, int *fail,
			       char *err, size_t errlen)
{
	char *buf = malloc(size + 1);
	size_t got = 0;

	if (buf == NULL) {
		*fail = EIO;
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	while (got < size) {
		la_ssize_t r = archive_read_data(a, buf + got, size - got);
		if (r <= 0) {
			free(buf);
			image_bad(fail, err, errlen, "%s",
				  r < 0 ? archive_error_string(a)
					: "truncated member");
			return NULL;
		}
		got += (size_t)r;
	}
	buf[size] = '\0';
	if (strlen(buf) != size) {
		free(buf);
		image_bad(fail, err, errlen, "a JSON member holds a NUL byte");
		return NULL;
	}
	return buf;
}

/* A member name is safe: relative, no "..", ".", or empty component. */
static int image_name_safe(const char *name)
{
	const char *p = name;

	if (name[0] == '/' || name[0] == '\0')
		return 0;
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if ((n == 2 && p[0] == '.' && p[1] == '.') ||
		    (n == 1 && p[0] == '.'))
			return 0;
		p = *end ? end + 1 : end;
	}
	return 1;
}

/*
 * Streams one blob member into the store (or only hashes it when the
 * store already has it), then checks its digest.  w is the manifest
 * entry it matches; *keep gets the bytes of the config blob.
 */
static int image_read_blob_member(struct archive *a, const char *dir,
				  const struct image_want *w, char **keep,
				  int *fail, char *err, size_t errlen)
{
	char path[PATH_MAX + 80], what[96];
	struct image_sink s;
	int exists, rc = -1;
	char *buf = NULL;
	uint64_t got = 0;

	snprintf(what, sizeof(what), "the %s blob", w->role);
	image_store_path(path, sizeof(path), dir, w->blob->digest);
	exists = access(path, F_OK) == 0;
	if (exists) {
		memset(&s, 0, sizeof(s));
		s.fd = -1;
		s.md = image_hash_new();
		snprintf(s.dir, sizeof(s.dir), "%s", dir);
		if (s.md == NULL) {
			*fail = EIO;
			return util_err(err, errlen, "cannot start SHA-256");
		}
	} else if (image_sink_open(&s, dir, fail, err, errlen) < 0) {
		return -1;
	}
	if (keep != NULL) {
		*keep = malloc(w->blob->size + 1);
		if (*keep == NULL) {
			*fail = EIO;
			util_err(err, errlen, "out of memory");
			goto out;
		}
	}
	buf = malloc(IMAGE_COPY_BUF);
	if (buf == NULL) {
		*fail = EIO;
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		la_ssize_t r = archive_read_data(a, buf, IMAGE_COPY_BUF);
		if (r == 0)
			break;
		if (r < 0) {
			image_bad(fail, err, errlen, "%s: %s", what,
				  archive_error_string(a));
			goto out;
		}
		if (got + (uint64_t)r > w->blob->size) {
			image_bad(fail, err, errlen, "%s is longer than %llu",
				  what, (unsigned long long)w->blob->size);
			goto out;
		}
		if (keep != NULL)
			memcpy(*keep + got, buf, (size_t)r);
		got += (uint64_t)r;
		if (exists) {
			if (EVP_DigestUpdate(s.md, buf, (size_t)r) != 1) {
				*fail = EIO;
				util_err(err, errlen, "SHA-256 failed");
				goto out;
			}
		} else if (image_sink_write(&s, buf, (size_t)r, fail, err,
					    errlen) < 0) {
			goto out;
		}
	}
	if (got != w->blob->size) {
		image_bad(fail, err, errlen,
			  "%s has %llu bytes, the manifest says %llu "
			  "(truncated?)",
			  what, (unsigned long long)got,
			  (unsigned long long)w->blob->size);
		goto out;
	}
	if (keep != NULL)
		(*keep)[got] = '\0';
	if (exists) {
		char h[IMAGE_DIGEST_MAX];
		EVP_MD_CTX *md = s.md;
		s.md = NULL;
		if (image_hash_end(md, h) < 0) {
			*fail = EIO;
			util_err(err, errlen, "SHA-256 failed");
			goto out;
		}
		if (strcmp(h, w->blob->digest) != 0) {
			image_bad(fail, err, errlen,
				  "%s does not match its digest %s: the "
				  "archive is damaged",
				  what, w->blob->digest);
			goto out;
		}
		rc = 0;
		goto out;
	}
	rc = image_sink_commit(&s, w->blob->digest, what, fail, err, errlen);
	if (rc < 0 && *fail == EINVAL)
		image_bad(fail, err, errlen,
			  "%s does not match its digest %s: the archive is "
			  "damaged",
			  what, w->blob->digest);
	s.fd = -1;
	s.md = NULL;
out:
	if (exists)
		EVP_MD_CTX_free(s.md);
	else
		image_sink_abort(&s);
	free(buf);
	if (rc < 0 && keep != NULL) {
		free(*keep);
		*keep = NULL;
	}
	return rc;
}

int image_archive_read(int fd, const char *state_dir, struct image *img,
		       int *fail, char *err, size_t errlen)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct image n;
	struct image_want want[3];
	char dir[PATH_MAX], *manifest = NULL, *config = NULL;
	int have_manifest = 0, have_tags = 0, rc = -1, dummy;
	size_t nwant = 0;

	if (fail == NULL)
		fail = &dummy;
	*fail = 0;
	image_init(&n);
	if (a == NULL) {
		*fail = EIO;
		return util_err(err, errlen, "out of memory");
	}
	if (image_store_dir(state_dir, dir, sizeof(dir), fail, err, errlen) < 0)
		goto out;
	/* Plain tar only: no compression, no other formats. */
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, IMAGE_COPY_BUF) != ARCHIVE_OK) {
		image_bad(fail, err, errlen, "%s", archive_error_string(a));
		goto out;
	}
	for (;;) {
		int r = archive_read_next_header(a, &e);
		const char *name;
		la_int64_t size;

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			image_bad(fail, err, errlen, "%s",
				  archive_error_string(a));
			goto out;
		}
		name = archive_entry_pathname(e);
		if (name == NULL) {
			image_bad(fail, err, errlen, "a member has no name");
			goto out;
		}
		if (!image_name_safe(name)) {
			image_bad(fail, err, errlen,
				  "unsafe member name '%s' (absolute, or with "
				  "'..' or '.')",
				  name);
			goto out;
		}
		if (archive_entry_hardlink(e) != NULL ||
		    archive_entry_filetype(e) == AE_IFLNK) {
			image_bad(fail, err, errlen,
				  "member '%s' is a link (only regular files "
				  "are allowed)",
				  name);
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFDIR) {
			/* What `tar cf x.tar manifest.json tags.json blobs`
			 * adds; harmless. */
			if (strcmp(name, "blobs/") == 0 ||
			    strcmp(name, "blobs/sha256/") == 0 ||
			    strcmp(name, "blobs") == 0 ||
			    strcmp(name, "blobs/sha256") == 0)
				continue;
			image_bad(fail, err, errlen,
				  "unexpected directory '%s'", name);
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			image_bad(fail, err, errlen,
				  "member '%s' is a device or special file "
				  "(only regular files are allowed)",
				  name);
			goto out;
		}
		size = archive_entry_size(e);
		if (!archive_entry_size_is_set(e) || size < 0) {
			image_bad(fail, err, errlen, "member '%s' has no size",
				  name);
			goto out;
		}
		if (!have_manifest && strcmp(name, "manifest.json") != 0) {
			image_bad(fail, err, errlen,
				  "the first member must be 'manifest.json', "
				  "not '%s'",
				  name);
			goto out;
		}
		if (strcmp(name, "manifest.json") == 0 ||
		    strcmp(name, "tags.json") == 0) {
			int is_manifest = name[0] == 'm';
			char *text;

			if (is_manifest ? have_manifest : have_tags) {
				image_bad(fail, err, errlen,
					  "duplicate member '%s'", name);
				goto out;
			}
			if (size > IMAGE_JSON_MAX) {
				image_bad(fail, err, errlen,
					  "member '%s' is too large (%lld "
					  "bytes, at most %d)",
					  name, (long long)size,
					  IMAGE_JSON_MAX);
				goto out;
			}
			text = image_read_member(a, (size_t)size, fail, err,
						 errlen);
			if (text == NULL)
				goto out;
			if (is_manifest) {
				char e2[400];
				manifest = text;
				have_manifest = 1;
				if (image_manifest_parse(manifest, &n, e2,
							 sizeof(e2)) < 0) {
					image_bad(fail, err, errlen, "%s", e2);
					goto out;
				}
				if (n.config.size > IMAGE_JSON_MAX) {
					image_bad(
					    fail, err, errlen,
					    "the config blob is too "
					    "large (%llu bytes)",
					    (unsigned long long)n.config.size);
					goto out;
				}
				want[0] =
				    (struct image_want){&n.kernel, "kernel", 0};
				want[1] =
				    (struct image_want){&n.rootfs, "rootfs", 0};
				want[2] =
				    (struct image_want){&n.config, "config", 0};
				nwant = 3;
			} else {
				char e2[400];
				have_tags = 1;
				r = image_tags_parse(text, &n.tags, e2,
						     sizeof(e2));
				free(text);
				if (r < 0) {
					image_bad(fail, err, errlen, "%s", e2);
					goto out;
				}
			}
			continue;
		}
		if (strncmp(name, IMAGE_BLOBS_DIR "/",
			    strlen(IMAGE_BLOBS_DIR) + 1) == 0) {
			const char *hex = name + strlen(IMAGE_BLOBS_DIR) + 1;
			char digest[IMAGE_DIGEST_MAX];
			int matched = 0;

			snprintf(digest, sizeof(digest), IMAGE_PREFIX "%s",
				 hex);
			if (strlen(hex) != IMAGE_HEX ||
			    !image_digest_valid(digest)) {
				image_bad(fail, err, errlen,
					  "unknown member '%s'", name);
				goto out;
			}
			/* One member may serve several roles when two
			 * blobs are identical. */
			for (size_t i = 0; i < nwant; i++)
				if (strcmp(want[i].blob->digest, digest) == 0) {
					if (want[i].seen) {
						image_bad(fail, err, errlen,
							  "duplicate member "
							  "'%s'",
							  name);
						goto out;
					}
					if ((uint64_t)size !=
					    want[i].blob->size) {
						image_bad(
						    fail, err, errlen,
						    "member '%s' has %lld "
						    "bytes, the manifest says "
						    "%llu",
						    name, (long long)size,
						    (unsigned long long)want[i]
							.blob->size);
						goto out;
					}
					want[i].seen = 1;
					matched = 1;
				}
			if (!matched) {
				image_bad(fail, err, errlen,
					  "member '%s' is not named in the "
					  "manifest",
					  name);
				goto out;
			}
			if (image_read_blob_member(
				a, dir,
				&want[strcmp(digest, n.config.digest) == 0 ? 2
				      : strcmp(digest, n.kernel.digest) == 0
					  ? 0
					  : 1],
				strcmp(digest, n.config.digest) == 0 ? &config
								     : NULL,
				fail, err, errlen) < 0)
				goto out;
			continue;
		}
		image_bad(fail, err, errlen, "unknown member '%s'", name);
		goto out;
	}
	if (!have_manifest) {
		image_bad(fail, err, errlen, "no manifest.json (empty?)");
		goto out;
	}
	if (!have_tags) {
		image_bad(fail, err, errlen, "no tags.json");
		goto out;
	}
	for (size_t i = 0; i < nwant; i++)
		if (!want[i].seen) {
			image_bad(fail, err, errlen,
				  "the %s blob %s named in the manifest is "
				  "missing (truncated archive?)",
				  want[i].role, want[i].blob->digest);
			goto out;
		}
	{
		char e2[400];
		if (image_config_parse(config, &n.cfg, e2, sizeof(e2)) < 0) {
			image_bad(fail, err, errlen, "%s", e2);
			goto out;
		}
	}
	/* Last: the manifest blob makes the image exist in the store. */
	if (image_store_mem(dir, n.id, manifest, strlen(manifest), fail, err,
			    errlen) < 0)
		goto out;
	image_release(img);
	*img = n;
	image_init(&n);
	rc = 0;
out:
	archive_read_free(a);
	free(manifest);
	free(config);
	image_release(&n);
	return rc;
}

/* ---- building ---- */

void image_build_spec_init(struct image_build_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
}

void image_build_spec_release(struct image_build_spec *spec)
{
	free(spec->program);
	free(spec->workdir);
	free(spec->kernel);
	strv_release(&spec->args);
	strv_release(&spec->env);
	strv_release(&spec->files);
	strv_release(&spec->dirs);
	strv_release(&spec->ports);
	strv_release(&spec->tags);
	memset(spec, 0, sizeof(*spec));
}

/* A nameless read-write temp file under $TMPDIR (see cli/cmd_run.c). */
/* Hashes the whole file fd from offset 0; its size into *size. */
static int image_hash_fd(int fd, char out[IMAGE_DIGEST_MAX], uint64_t *size)
{
	EVP_MD_CTX *md = image_hash_new();
	char *buf = malloc(IMAGE_COPY_BUF);
	uint64_t off = 0;
	ssize_t r;

	if (md == NULL || buf == NULL)
		goto fail;
	while ((r = pread(fd, buf, IMAGE_COPY_BUF, (off_t)off)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || EVP_DigestUpdate(md, buf, (size_t)r) != 1)
			goto fail;
		off += (uint64_t)r;
	}
	free(buf);
	*size = off;
	return image_hash_end(md, out);
fail:
	EVP_MD_CTX_free(md);
	free(buf);
	return -1;
}

/* Splits "HOST:GUEST" at the last ":/" (as kiln run's --file does). */
static int image_split(const char *spec, char **host, const char **guest)
{
	const char *sep = NULL;

	for (const char *p = spec; (p = strstr(p, ":/")) != NULL; p++)
		sep = p;
	if (sep == NULL || sep == spec)
		return -1;
	*host = strndup(spec, (size_t)(sep - spec));
	*guest = sep + 1;
	return *host ? 0 : -1;
}

static int image_fail_errno(enum rootfs_fail f)
{
	switch (f) {
	case ROOTFS_FAIL_NOTFOUND:
		return ENOENT;
	case ROOTFS_FAIL_NOEXEC:
		return ENOEXEC;
	case ROOTFS_FAIL_INPUT:
		return EINVAL;
	default:
		return EIO;
	}
}

/* Fills cfg (exe, argv, env over the defaults, workdir, ports, memory)
 * from spec, validating what JSON and the guest need. */
static int image_build_config(const struct image_build_spec *spec,
			      struct image_config *cfg, int *kind, char *err,
			      size_t errlen)
{
	struct config c;
	int rc = -1;

	*kind = EINVAL;
	config_init(&c);
	if (spec->program == NULL || spec->program[0] != '/') {
		util_err(err, errlen,
			 "the program '%s' is not an absolute path",
			 spec->program ? spec->program : "");
		goto out;
	}
	if (!image_utf8_valid(spec->program)) {
		util_err(err, errlen, "the program path is not UTF-8 text");
		goto out;
	}
	for (size_t i = 0; i < spec->args.n; i++)
		if (!image_utf8_valid(spec->args.v[i])) {
			util_err(err, errlen,
				 "argument %zu is not UTF-8 text (image "
				 "configs are JSON)",
				 i + 1);
			goto out;
		}
	if (config_env_set(&c, "PATH=" IMAGE_DEFAULT_PATH, err, errlen) < 0 ||
	    config_env_set(&c, "HOME=/", err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < spec->env.n; i++) {
		if (!image_utf8_valid(spec->env.v[i])) {
			util_err(err, errlen,
				 "environment entry %zu is not UTF-8 text",
				 i + 1);
			goto out;
		}
		if (config_env_set(&c, spec->env.v[i], err, errlen) < 0)
			goto out;
	}
	if (spec->workdir != NULL &&
	    (spec->workdir[0] != '/' || !image_utf8_valid(spec->workdir))) {
		util_err(err, errlen,
			 "invalid working directory '%s' (use an absolute "
			 "path)",
			 spec->workdir);
		goto out;
	}
	if (spec->memory_mib != 0 &&
	    (spec->memory_mib < IMAGE_MEMORY_MIN_MIB ||
	     spec->memory_mib > IMAGE_MEMORY_MAX_MIB)) {
		util_err(err, errlen, "memory size %lluM is outside %dM to %dM",
			 (unsigned long long)spec->memory_mib,
			 IMAGE_MEMORY_MIN_MIB, IMAGE_MEMORY_MAX_MIB);
		goto out;
	}
	cfg->exe = strdup(spec->program);
	cfg->workdir =
	    spec->workdir ? util_path_join("/", spec->workdir) : strdup("/");
	if (cfg->exe == NULL || cfg->workdir == NULL ||
	    strv_push(&cfg->args, spec->program) < 0)
		goto nomem;
	for (size_t i = 0; i < spec->args.n; i++)
		if (strv_push(&cfg->args, spec->args.v[i]) < 0)
			goto nomem;
	for (size_t i = 0; i < c.env.n; i++)
		if (strv_push(&cfg->env, c.env.v[i]) < 0)
			goto nomem;
	for (size_t i = 0; i < spec->ports.n; i++) {
		char p[16];
		if (image_port_normalize(spec->ports.v[i], p, sizeof(p), err,
					 errlen) < 0)
			goto out;
		if (strv_find(&cfg->ports, p) < 0 &&
		    strv_push(&cfg->ports, p) < 0)
			goto nomem;
	}
	cfg->memory_mib = spec->memory_mib;
	rc = 0;
	goto out;
nomem:
	*kind = EIO;
	util_err(err, errlen, "out of memory");
out:
	config_release(&c);
	return rc;
}

/* The /.kiln/config text of cfg (the guest's view of the same facts). */
static char *image_guest_config(const struct image_config *cfg)
{
	struct config c;
	char *text = NULL;

	config_init(&c);
	c.exe = strdup(cfg->exe);
	c.cwd = strdup(cfg->workdir);
	if (c.exe == NULL || c.cwd == NULL)
		goto out;
	for (size_t i = 0; i < cfg->args.n; i++)
		if (strv_push(&c.args, cfg->args.v[i]) < 0)
			goto out;
	for (size_t i = 0; i < cfg->env.n; i++)
		if (strv_push(&c.env, cfg->env.v[i]) < 0)
			goto out;
	text = config_format(&c);
out:
	config_release(&c);
	return text;
}

/* Packs the rootfs into a new temp file; its fd, or -1 with *kind. */
static int image_build_rootfs(const struct image_build_spec *spec,
			      const struct image_config *cfg, int *kind,
			      char *err, size_t errlen)
{
	struct rootfs fs;
	char e[1024], *text = NULL;
	FILE *f = NULL;
	int fd = -1, wfd;

	rootfs_init(&fs);
	if (rootfs_add_program(&fs, spec->program, err, errlen) < 0)
		goto fail_fs;
	for (size_t i = 0; i < spec->files.n + spec->dirs.n; i++) {
		int is_dir = i >= spec->files.n;
		const char *s =
		    is_dir ? spec->dirs.v[i - spec->files.n] : spec->files.v[i];
		const char *guest;
		char *host;
		int r;

		if (image_split(s, &host, &guest) < 0) {
			*kind = EINVAL;
			util_err(err, errlen,
				 "invalid %s '%s' (use HOST:GUEST, GUEST an "
				 "absolute path)",
				 is_dir ? "directory" : "file", s);
			goto out;
		}
		r = is_dir ? rootfs_add_dir(&fs, guest, host, e, sizeof(e))
			   : rootfs_add_file(&fs, guest, host, e, sizeof(e));
		free(host);
		if (r < 0) {
			util_err(err, errlen, "%s '%s': %s",
				 is_dir ? "directory" : "file", s, e);
			goto fail_fs;
		}
	}
	/* The working directory exists in the guest, as Docker's WORKDIR
	 * makes it. */
	if (strcmp(cfg->workdir, "/") != 0 &&
	    rootfs_add_dir(&fs, cfg->workdir, NULL, e, sizeof(e)) < 0) {
		util_err(err, errlen, "working directory '%s': %s",
			 cfg->workdir, e);
		goto fail_fs;
	}
	text = image_guest_config(cfg);
	if (text == NULL) {
		*kind = EIO;
		util_err(err, errlen, "out of memory");
		goto out;
	}
	if (rootfs_add_data(&fs, KILN_CONFIG_PATH, text, strlen(text), 0644,
			    err, errlen) < 0)
		goto fail_fs;
	fd = util_temp_fd(NULL, "kiln-build");
	if (fd < 0) {
		*kind = image_fail_kind(errno);
		util_err(err, errlen, "cannot create a temporary file: %s",
			 strerror(errno));
		goto out;
	}
	wfd = dup(fd);
	f = wfd < 0 ? NULL : fdopen(wfd, "w");
	if (f == NULL && wfd >= 0)
		close(wfd);
	if (f == NULL) {
		*kind = EIO;
		util_err(err, errlen, "cannot write the rootfs: %s",
			 strerror(errno));
		goto fail_fd;
	}
	if (rootfs_write(&fs, f, NULL, e, sizeof(e)) < 0) {
		*kind = EIO;
		util_err(err, errlen, "cannot write the rootfs: %s", e);
		fclose(f);
		goto fail_fd;
	}
	errno = 0;
	if (fclose(f) != 0) {
		*kind = image_fail_kind(errno);
		util_err(err, errlen, "cannot write the rootfs: %s",
			 strerror(errno));
		goto fail_fd;
	}
	goto out;
fail_fs:
	*kind = image_fail_errno(fs.fail);
	goto out;
fail_fd:
	close(fd);
	fd = -1;
out:
	free(text);
	rootfs_release(&fs);
	return fd;
}

int image_build(const struct image_build_spec *spec, int archive_fd,
		struct image *img, char *err, size_t errlen)
{
	struct image n;
	struct image_src src[3];
	char *config = NULL;
	int kind = EINVAL, kfd = -1, rfd = -1, rc = -1;
	struct stat st;
	char magic[4];

	image_init(&n);
	for (size_t i = 0; i < spec->tags.n; i++) {
		char tag[IMAGE_TAG_MAX];
		if (image_tag_normalize(spec->tags.v[i], tag, sizeof(tag), err,
					errlen) < 0)
			goto out;
		if (strv_find(&n.tags, tag) < 0 && strv_push(&n.tags, tag) < 0)
			goto nomem;
	}
	if (image_build_config(spec, &n.cfg, &kind, err, errlen) < 0)
		goto out;

	/* The kernel: a readable ELF file (kiln.elf), checked before the
	 * slower packing. */
	kind = ENOENT;
	if (spec->kernel == NULL) {
		util_err(err, errlen, "no kernel given");
		goto out;
	}
	kfd = open(spec->kernel, O_RDONLY | O_CLOEXEC);
	if (kfd < 0) {
		kind = errno == ENOENT ? ENOENT : EIO;
		util_err(err, errlen, "cannot read the kernel '%s': %s",
			 spec->kernel, strerror(errno));
		goto out;
	}
	kind = EINVAL;
	if (fstat(kfd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(kfd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4) != 0) {
		util_err(err, errlen,
			 "the kernel '%s' is not an ELF file (use kiln.elf)",
			 spec->kernel);
		goto out;
	}
	if (image_hash_fd(kfd, n.kernel.digest, &n.kernel.size) < 0) {
		kind = EIO;
		util_err(err, errlen, "cannot read the kernel '%s': %s",
			 spec->kernel, strerror(errno));
		goto out;
	}

	/* The program must be executable, as execve would want it. */
	if (stat(spec->program, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 0111) == 0) {
		kind = ENOEXEC;
		util_err(err, errlen, "'%s' is not executable (chmod +x '%s')",
			 spec->program, spec->program);
		goto out;
	}
	rfd = image_build_rootfs(spec, &n.cfg, &kind, err, errlen);
	if (rfd < 0)
		goto out;
	if (image_hash_fd(rfd, n.rootfs.digest, &n.rootfs.size) < 0) {
		kind = EIO;
		util_err(err, errlen, "cannot read back the rootfs: %s",
			 strerror(errno));
		goto out;
	}
	config = image_config_json(&n.cfg);
	if (config == NULL)
		goto nomem;
	n.config.size = strlen(config);
	if (image_hash_buf(config, n.config.size, n.config.digest) < 0)
		goto nomem;
	{
		char *manifest = image_manifest_json(&n);
		if (manifest == NULL ||
		    image_hash_buf(manifest, strlen(manifest), n.id) < 0) {
			free(manifest);
			goto nomem;
		}
		free(manifest);
	}
	src[0] = (struct image_src){n.kernel.digest, n.kernel.size, kfd, NULL};
	src[1] = (struct image_src){n.rootfs.digest, n.rootfs.size, rfd, NULL};
	src[2] = (struct image_src){n.config.digest, n.config.size, -1, config};
	if (image_emit(archive_fd, &n, src, 3, &kind, err, errlen) < 0)
		goto out;
	image_release(img);
	*img = n;
	image_init(&n);
	rc = 0;
	goto out;
nomem:
	kind = EIO;
	util_err(err, errlen, "out of memory");
out:
	if (kfd >= 0)
		close(kfd);
	if (rfd >= 0)
		close(rfd);
	free(config);
	image_release(&n);
	if (rc < 0)
		errno = kind;
	return rc;
}
