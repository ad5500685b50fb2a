/*
 * Unit tests of lib/image.c: tag, port and reference rules; the config
 * JSON (exact text, round trip, each refusal); building (the same inputs
 * twice give the same bytes and ID, a changed input another ID); archive
 * write -> read round trip into a blob store and back out byte for byte;
 * the reader refusing damaged and hostile archives (a flipped byte, wrong
 * sizes, extra, duplicate, unsafe, link and device members, truncation,
 * garbage, bad JSON) while leaving only whole verified blobs in the store;
 * and a store on a full / read-only tmpfs giving ENOSPC / EIO with no
 * partial file.  Archives are crafted with libarchive itself.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "lib_test.h"
#include "rootfs.h"

static char *tmp; /* scratch directory */
static char kernel[4200], hello[4200];

/* ---- helpers ---- */

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char raw[32];
	unsigned len = 0;

	EVP_Digest(p, n, raw, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL, err[256];
	size_t n = 0;

	if (util_read_file(path, &buf, &n, err, sizeof(err)) < 0)
		return NULL;
	if (len)
		*len = n;
	return buf;
}

/* One member of a crafted archive. */
struct member {
	const char *name;
	const char *data; /* NULL: none */
	size_t len;
	int type;	      /* AE_IFREG if 0 */
	const char *link;     /* symlink target */
	const char *hardlink; /* hard link target */
	long long size;	      /* header size if > 0 and != len (lying) */
};

/* Writes members as a ustar archive to path with libarchive. */
static int write_tar(const char *path, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();
	int ok = 1;

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_none(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, m[i].type ? (unsigned)m[i].type
							: AE_IFREG);
		archive_entry_set_perm(e, 0644);
		if (m[i].link)
			archive_entry_set_symlink(e, m[i].link);
		if (m[i].hardlink)
			archive_entry_set_hardlink(e, m[i].hardlink);
		if (m[i].type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		archive_entry_set_size(e, m[i].data ? (la_int64_t)m[i].len : 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			ok = 0;
		if (m[i].data && m[i].len &&
		    archive_write_data(a, m[i].data, m[i].len) !=
			(la_ssize_t)m[i].len)
			ok = 0;
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		ok = 0;
	archive_write_free(a);
	return ok ? 0 : -1;
}

/* The members of a good archive, read into memory (names and data). */
struct good {
	char *manifest, *tags;
	char *blob_name[3], *blob[3];
	size_t blob_len[3], nblobs;
	size_t manifest_len, tags_len;
};

static int read_good(const char *path, struct good *g)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	memset(g, 0, sizeof(*g));
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return -1;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		size_t n = (size_t)archive_entry_size(e);
		char *buf = malloc(n + 1);
		archive_read_data(a, buf, n);
		buf[n] = '\0';
		if (strcmp(archive_entry_pathname(e), "manifest.json") == 0) {
			g->manifest = buf;
			g->manifest_len = n;
		} else if (strcmp(archive_entry_pathname(e), "tags.json") ==
			   0) {
			g->tags = buf;
			g->tags_len = n;
		} else if (g->nblobs < 3) {
			g->blob_name[g->nblobs] =
			    strdup(archive_entry_pathname(e));
			g->blob[g->nblobs] = buf;
			g->blob_len[g->nblobs++] = n;
		} else {
			free(buf);
		}
	}
	archive_read_free(a);
	return g->manifest && g->tags && g->nblobs == 3 ? 0 : -1;
}

static void good_release(struct good *g)
{
	free(g->manifest);
	free(g->tags);
	for (size_t i = 0; i < g->nblobs; i++) {
		free(g->blob_name[i]);
		free(g->blob[i]);
	}
}

/* Index of the largest blob (the rootfs in these tests). */
static size_t good_largest(const struct good *g)
{
	size_t best = 0;
	for (size_t i = 1; i < g->nblobs; i++)
		if (g->blob_len[i] > g->blob_len[best])
			best = i;
	return best;
}

/* The standard members of g, in order, into m (returns the count). */
static size_t good_members(const struct good *g, struct member *m)
{
	size_t n = 0;

	m[n++] = (struct member){
	    "manifest.json", g->manifest, g->manifest_len, 0, NULL, NULL, 0};
	m[n++] = (struct member){"tags.json", g->tags, g->tags_len, 0, NULL,
				 NULL,	      0};
	for (size_t i = 0; i < g->nblobs; i++)
		m[n++] = (struct member){g->blob_name[i],
					 g->blob[i],
					 g->blob_len[i],
					 0,
					 NULL,
					 NULL,
					 0};
	return n;
}

/*
 * Checks the store invariant: every file under DIR/blobs/sha256 is named
 * by the SHA-256 of its content (no temp or partial file), and returns
 * how many there are (-1 when one is wrong).
 */
static int store_check(const char *state)
{
	char dir[4300];
	DIR *d;
	struct dirent *de;
	int n = 0, bad = 0;

	snprintf(dir, sizeof(dir), "%s/blobs/sha256", state);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[4600], hex[65], *buf;
		size_t len;

		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
		     (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf = slurp(path, &len);
		if (buf == NULL) {
			bad = 1;
			continue;
		}
		sha256_hex(buf, len, hex);
		if (strcmp(hex, de->d_name) != 0) {
			NOTE("store file %s is not a whole blob", de->d_name);
			bad = 1;
		}
		free(buf);
		n++;
	}
	closedir(d);
	return bad ? -1 : n;
}

/* Reads the archive at path into a fresh store; returns image_archive_read
 * and leaves fail/err for the caller. */
static int read_into(const char *path, const char *state, struct image *img,
		     int *fail, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return -2;
	rc = image_archive_read(fd, state, img, fail, err, errlen);
	close(fd);
	return rc;
}

/* ---- rules ---- */

static void test_tags(void)
{
	static const struct {
		const char *in, *out; /* out NULL: invalid */
	} cases[] = {
	    {"web", "web:latest"},
	    {"web:1", "web:1"},
	    {"my.org/team/web:v1.2_rc-3", "my.org/team/web:v1.2_rc-3"},
	    {"a", "a:latest"},
	    {"0web:_x", "0web:_x"},
	    {"web:Latest", "web:Latest"},
	    {"", NULL},
	    {":1", NULL},
	    {"Web", NULL},
	    {"web:", NULL},
	    {"web:.x", NULL},
	    {"web:-x", NULL},
	    {"-web", NULL},
	    {".web", NULL},
	    {"web/", NULL},
	    {"/web", NULL},
	    {"a//b", NULL},
	    {"a/_b", NULL},
	    {"web:1:2", NULL},
	    {"we b", NULL},
	    {"web:a/b", NULL},
	    {"web@sha", NULL},
	};
	char out[IMAGE_TAG_MAX], err[256], name[300], tag[200];

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(cases); i++) {
		int r = image_tag_normalize(cases[i].in, out, sizeof(out), err,
					    sizeof(err));
		if (cases[i].out)
			CHECK(r == 0 && strcmp(out, cases[i].out) == 0,
			      "tag '%s' -> '%s' (got '%s')", cases[i].in,
			      cases[i].out, r == 0 ? out : err);
		else
			CHECK(r < 0 && lib_test_has(err, cases[i].in),
			      "tag '%s' refused, quoted: %s", cases[i].in, err);
	}
	/* Length limits: NAME 128, TAG 128. */
	memset(name, 'a', 128);
	name[128] = '\0';
	CHECK(image_tag_normalize(name, out, sizeof(out), err, sizeof(err)) ==
		  0,
	      "a 128-character name is accepted");
	memset(name, 'a', 129);
	name[129] = '\0';
	CHECK(image_tag_normalize(name, out, sizeof(out), err, sizeof(err)) <
		      0 &&
		  lib_test_has(err, "128"),
	      "a 129-character name is refused: %s", err);
	memset(tag, 'b', 128);
	tag[128] = '\0';
	snprintf(name, sizeof(name), "x:%s", tag);
	CHECK(image_tag_normalize(name, out, sizeof(out), err, sizeof(err)) ==
		  0,
	      "a 128-character tag is accepted");
	snprintf(name, sizeof(name), "x:%sb", tag);
	CHECK(image_tag_normalize(name, out, sizeof(out), err, sizeof(err)) < 0,
	      "a 129-character tag is refused");
	CHECK(image_tag_normalize("web", out, 5, err, sizeof(err)) < 0,
	      "too small an output buffer is an error, not a truncation");
}

static void test_ports(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"8080", "8080/tcp"},
	    {"8080/tcp", "8080/tcp"},
	    {"53/udp", "53/udp"},
	    {"1", "1/tcp"},
	    {"65535", "65535/tcp"},
	    {"0", NULL},
	    {"65536", NULL},
	    {"080", NULL},
	    {"80/sctp", NULL},
	    {"80/TCP", NULL},
	    {"", NULL},
	    {"/tcp", NULL},
	    {"80/", NULL},
	    {"x", NULL},
	    {"-1", NULL},
	    {"123456", NULL},
	};
	char out[16], err[256];

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(cases); i++) {
		int r = image_port_normalize(cases[i].in, out, sizeof(out), err,
					     sizeof(err));
		if (cases[i].out)
			CHECK(r == 0 && strcmp(out, cases[i].out) == 0,
			      "port '%s' -> '%s'", cases[i].in, cases[i].out);
		else
			CHECK(r < 0 && lib_test_has(err, "invalid port"),
			      "port '%s' refused: %s", cases[i].in, err);
	}
}

static void test_refs(void)
{
	struct image_ref r;
	char err[256], full[80], path[256];
	const char *hex64 =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	CHECK(image_ref_parse("web:1", &r, err, sizeof(err)) == 0 &&
		  strcmp(r.tag, "web:1") == 0 && r.hex[0] == '\0',
	      "'web:1' is a tag only");
	CHECK(image_ref_parse("abcd", &r, err, sizeof(err)) == 0 &&
		  strcmp(r.tag, "abcd:latest") == 0 &&
		  strcmp(r.hex, "abcd") == 0 && !r.full,
	      "'abcd' is a tag and an ID prefix");
	CHECK(image_ref_parse("abc", &r, err, sizeof(err)) == 0 &&
		  r.hex[0] == '\0',
	      "'abc' is too short to be an ID prefix");
	CHECK(image_ref_parse("sha256:abcd", &r, err, sizeof(err)) == 0 &&
		  r.tag[0] == '\0' && strcmp(r.hex, "abcd") == 0,
	      "'sha256:abcd' is an ID prefix only");
	snprintf(full, sizeof(full), "sha256:%s", hex64);
	CHECK(image_ref_parse(full, &r, err, sizeof(err)) == 0 && r.full &&
		  strcmp(r.hex, hex64) == 0,
	      "a full sha256: ID");
	CHECK(image_ref_parse(hex64, &r, err, sizeof(err)) == 0 && r.full,
	      "64 hex digits are a full ID");
	CHECK(image_ref_parse("sha256:abc", &r, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "invalid image ID"),
	      "'sha256:abc' refused: %s", err);
	CHECK(image_ref_parse("sha256:ABCD", &r, err, sizeof(err)) < 0,
	      "upper-case hex after sha256: refused");
	CHECK(image_ref_parse("Web!", &r, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "Web!"),
	      "'Web!' is neither: %s", err);

	CHECK(image_digest_valid(full) && !image_digest_valid("sha256:abcd") &&
		  !image_digest_valid(hex64) && !image_digest_valid(NULL),
	      "image_digest_valid");
	CHECK(image_blob_path("/s", full, path, sizeof(path)) == 0 &&
		  strcmp(path + strlen(path) - 64, hex64) == 0 &&
		  strncmp(path, "/s/blobs/sha256/", 16) == 0,
	      "blob path /s/blobs/sha256/<hex>: %s", path);
	CHECK(image_blob_path("/s", "sha256:../../etc", path, sizeof(path)) < 0,
	      "blob path refuses a bad digest");
	CHECK(image_blob_path("/s", full, path, 20) < 0,
	      "blob path refuses a short buffer");
}

/* ---- config JSON ---- */

static void test_config(void)
{
	struct image_config c, back;
	char *json, *json2, err[256] = "";

	image_config_init(&c);
	image_config_init(&back);
	c.exe = strdup("/srv/httpd");
	strv_push(&c.args, "/srv/httpd");
	strv_push(&c.args, "-r");
	strv_push(&c.args, "a \"quoted\" arg\n\xc3\xa9");
	strv_push(&c.env, "PATH=/bin");
	strv_push(&c.env, "X=");
	c.workdir = strdup("/srv");
	strv_push(&c.ports, "8080/tcp");
	strv_push(&c.ports, "53/udp");
	c.memory_mib = 64;
	json = image_config_json(&c);
	CHECK(json != NULL &&
		  strcmp(json, "{\"args\":[\"/srv/httpd\",\"-r\",\"a "
			       "\\\"quoted\\\" arg\\n\xc3\xa9\"],"
			       "\"env\":[\"PATH=/bin\",\"X=\"],"
			       "\"exe\":\"/srv/httpd\",\"memory_mib\":64,"
			       "\"ports\":[\"8080/tcp\",\"53/udp\"],"
			       "\"workdir\":\"/srv\"}") == 0,
	      "config JSON is compact with sorted keys: %s",
	      json ? json : "(null)");
	CHECK(image_config_parse(json, &back, err, sizeof(err)) == 0,
	      "config parses back: %s", err);
	json2 = image_config_json(&back);
	CHECK(json2 && json && strcmp(json, json2) == 0 && back.args.n == 3 &&
		  strcmp(back.args.v[2], c.args.v[2]) == 0 &&
		  back.memory_mib == 64 && strcmp(back.workdir, "/srv") == 0,
	      "parse(json(c)) == c");
	free(json2);
	free(json);

	strv_push(&c.args, "\xff not utf-8");
	CHECK(image_config_json(&c) == NULL,
	      "a non-UTF-8 argument cannot be JSON (NULL)");
	image_config_release(&c);

	static const struct {
		const char *json, *why;
	} bad[] = {
	    {"{", "not valid JSON"},
	    {"[]", "not a JSON object"},
	    {"{\"args\":[\"/x\"],\"env\":[],\"exe\":\"/x\",\"memory_mib\":0,"
	     "\"ports\":[],\"workdir\":\"/\",\"user\":\"root\"}",
	     "unknown key 'user'"},
	    {"{\"args\":[\"/x\"],\"env\":[],\"exe\":\"/x\",\"memory_mib\":0,"
	     "\"ports\":[]}",
	     "no 'workdir'"},
	    {"{\"args\":\"/x\",\"env\":[],\"exe\":\"/x\",\"memory_mib\":0,"
	     "\"ports\":[],\"workdir\":\"/\"}",
	     "'args' is not an array"},
	    {"{\"args\":[1],\"env\":[],\"exe\":\"/x\",\"memory_mib\":0,"
	     "\"ports\":[],\"workdir\":\"/\"}",
	     "other than strings"},
	    {"{\"args\":[],\"env\":[],\"exe\":\"/x\",\"memory_mib\":0,"
	     "\"ports\":[],\"workdir\":\"/\"}",
	     "'args' is empty"},
	    {"{\"args\":[\"x\"],\"env\":[],\"exe\":\"x\",\"memory_mib\":0,"
	     "\"ports\":[],\"workdir\":\"/\"}",
	     "'exe' is not an absolute path"},
	    {"{\"args\":[\"x\"],\"env\":[],\"exe\":\"/x\",\"memory_mib\":0,"
	     "\"ports\":[],\"workdir\":\"srv\"}",
	     "'workdir' is not an absolute path"},
	    {"{\"args\":[\"x\"],\"env\":[\"NOEQ\"],\"exe\":\"/x\","
	     "\"memory_mib\":0,\"ports\":[],\"workdir\":\"/\"}",
	     "'NOEQ' is not KEY=VALUE"},
	    {"{\"args\":[\"x\"],\"env\":[],\"exe\":\"/x\",\"memory_mib\":0,"
	     "\"ports\":[\"8080\"],\"workdir\":\"/\"}",
	     "port '8080'"},
	    {"{\"args\":[\"x\"],\"env\":[],\"exe\":\"/x\",\"memory_mib\":1,"
	     "\"ports\":[],\"workdir\":\"/\"}",
	     "'memory_mib'"},
	    {"{\"args\":[\"x\"],\"env\":[],\"exe\":\"/x\",\"memory_mib\":-5,"
	     "\"ports\":[],\"workdir\":\"/\"}",
	     "'memory_mib'"},
	    {"{\"args\":[\"x\"],\"env\":[],\"exe\":\"/x\",\"memory_mib\":"
	     "\"64\",\"ports\":[],\"workdir\":\"/\"}",
	     "'memory_mib'"},
	    {"{\"args\":[\"x\"],\"args\":[\"y\"],\"env\":[],\"exe\":\"/x\","
	     "\"memory_mib\":0,\"ports\":[],\"workdir\":\"/\"}",
	     "not valid JSON"},
	};
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
		image_config_init(&c);
		CHECK(image_config_parse(bad[i].json, &c, err, sizeof(err)) <
			      0 &&
			  lib_test_has(err, bad[i].why),
		      "config refused (%s): %s", bad[i].why, err);
		image_config_release(&c);
	}
	image_config_release(&back);
}

/* ---- building ---- */

static void spec_hello(struct image_build_spec *s)
{
	image_build_spec_init(s);
	s->program = strdup(hello);
	s->kernel = strdup(kernel);
	strv_push(&s->args, "one");
	strv_push(&s->args, "two words");
	strv_push(&s->env, "GREETING=hello world");
	strv_push(&s->ports, "8080");
	strv_push(&s->ports, "8080/tcp"); /* the same port: kept once */
	strv_push(&s->tags, "hello");
	strv_push(&s->tags, "hello:1");
	s->memory_mib = 32;
}

static int build_to(const struct image_build_spec *s, const char *path,
		    struct image *img, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc;

	if (fd < 0)
		return -1;
	rc = image_build(s, fd, img, err, errlen);
	close(fd);
	return rc;
}

static char archive1[4200], archive2[4200];
static struct image built;

static void test_build(void)
{
	struct image_build_spec s;
	struct image img2;
	char err[1024] = "", *a, *b, path[4300], id[80];
	size_t la, lb;
	struct good g;

	spec_hello(&s);
	image_init(&built);
	image_init(&img2);
	snprintf(archive1, sizeof(archive1), "%s/a1.tar", tmp);
	snprintf(archive2, sizeof(archive2), "%s/a2.tar", tmp);
	CHECK(build_to(&s, archive1, &built, err, sizeof(err)) == 0,
	      "build hello: %s", err);
	CHECK(build_to(&s, archive2, &img2, err, sizeof(err)) == 0,
	      "build hello again");
	a = slurp(archive1, &la);
	b = slurp(archive2, &lb);
	CHECK(a && b && la == lb && memcmp(a, b, la) == 0,
	      "the same inputs give the same archive bytes (%zu)", la);
	CHECK(strcmp(built.id, img2.id) == 0 && image_digest_valid(built.id),
	      "and the same image ID %s", built.id);
	free(a);
	free(b);
	CHECK(built.tags.n == 2 &&
		  strcmp(built.tags.v[0], "hello:latest") == 0 &&
		  strcmp(built.tags.v[1], "hello:1") == 0,
	      "tags normalized");
	CHECK(built.cfg.ports.n == 1 &&
		  strcmp(built.cfg.ports.v[0], "8080/tcp") == 0,
	      "ports normalized, duplicates dropped");
	CHECK(built.cfg.args.n == 3 &&
		  strcmp(built.cfg.args.v[0], hello) == 0 &&
		  strcmp(built.cfg.args.v[2], "two words") == 0 &&
		  built.cfg.env.n == 3 &&
		  strcmp(built.cfg.env.v[2], "GREETING=hello world") == 0 &&
		  strcmp(built.cfg.env.v[1], "HOME=/") == 0 &&
		  built.cfg.memory_mib == 32 &&
		  strcmp(built.cfg.workdir, "/") == 0,
	      "config: argv[0] is the program, env over the defaults");

	if (read_good(archive1, &g) == 0) {
		char *m = image_manifest_json(&built);
		char hex[65];
		sha256_hex(g.manifest, g.manifest_len, hex);
		snprintf(id, sizeof(id), "sha256:%s", hex);
		CHECK(strcmp(id, built.id) == 0 && m &&
			  strcmp(m, g.manifest) == 0,
		      "the ID is the SHA-256 of manifest.json's bytes");
		CHECK(strcmp(g.tags, "[\"hello:1\",\"hello:latest\"]") == 0,
		      "tags.json sorted: %s", g.tags);
		free(m);
		good_release(&g);
	} else {
		CHECK(0, "the built archive reads with libarchive");
	}
	snprintf(path, sizeof(path), "tar -tvf '%s' > '%s/list' 2>&1", archive1,
		 tmp);
	CHECK(lib_test_sh(path), "GNU tar lists the archive");
	snprintf(path, sizeof(path), "%s/list", tmp);
	a = slurp(path, NULL);
	if (!CHECK(a && strncmp(a, "-rw-r--r-- 0/0", 14) == 0 &&
		       lib_test_has(a, "1970-01-01 00:00 manifest.json\n") &&
		       strstr(a, "manifest.json") < strstr(a, "tags.json") &&
		       strstr(a, "tags.json") < strstr(a, "blobs/sha256/"),
		   "ustar, 0644 root, mtime 0, manifest first"))
		NOTE("tar -tv says:\n%s", a ? a : "");
	free(a);

	/* A changed input gives another ID. */
	image_release(&img2);
	image_init(&img2);
	strv_push(&s.env, "GREETING=bye");
	snprintf(path, sizeof(path), "%s/a3.tar", tmp);
	CHECK(build_to(&s, path, &img2, err, sizeof(err)) == 0 &&
		  strcmp(img2.id, built.id) != 0 &&
		  strcmp(img2.rootfs.digest, built.rootfs.digest) != 0 &&
		  strcmp(img2.kernel.digest, built.kernel.digest) == 0,
	      "another env: another rootfs and ID, same kernel blob");
	image_release(&img2);
	image_build_spec_release(&s);

	/* Build refusals, errno telling the kind. */
	static const struct {
		const char *what, *want;
		int errno_;
	} bad[] = {
	    {"tag", "invalid image name", EINVAL},
	    {"port", "invalid port", EINVAL},
	    {"workdir", "working directory", EINVAL},
	    {"memory", "outside", EINVAL},
	    {"kernel", "cannot read the kernel", ENOENT},
	    {"notelf-kernel", "not an ELF file", EINVAL},
	    {"program", "No such file", ENOENT},
	    {"noexec", "not executable", ENOEXEC},
	    {"notelf", "not an ELF", ENOEXEC},
	    {"file", "cannot find", ENOENT},
	    {"file-over-dir", "directory", EINVAL},
	    {"utf8", "not UTF-8", EINVAL},
	    {"env", "KEY=VALUE", EINVAL},
	};
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
		const char *w = bad[i].what;
		struct image img;
		char out[4300];
		int r, e;

		spec_hello(&s);
		image_init(&img);
		if (strcmp(w, "tag") == 0)
			strv_push(&s.tags, "Bad");
		else if (strcmp(w, "port") == 0)
			strv_push(&s.ports, "99999");
		else if (strcmp(w, "workdir") == 0)
			s.workdir = strdup("srv");
		else if (strcmp(w, "memory") == 0)
			s.memory_mib = 1;
		else if (strcmp(w, "kernel") == 0) {
			free(s.kernel);
			s.kernel = strdup("/nonexistent/kiln.elf");
		} else if (strcmp(w, "notelf-kernel") == 0) {
			free(s.kernel);
			s.kernel = strdup("/etc/passwd");
		} else if (strcmp(w, "program") == 0) {
			free(s.program);
			s.program = strdup("/nonexistent/prog");
		} else if (strcmp(w, "noexec") == 0) {
			snprintf(out, sizeof(out), "%s/noexec", tmp);
			lib_test_write(out, "x", 1);
			chmod(out, 0644);
			free(s.program);
			s.program = strdup(out);
		} else if (strcmp(w, "notelf") == 0) {
			snprintf(out, sizeof(out), "%s/notelf", tmp);
			lib_test_write(out, "#!/bin/sh\n", 10);
			chmod(out, 0755);
			free(s.program);
			s.program = strdup(out);
		} else if (strcmp(w, "file") == 0)
			strv_push(&s.files, "/nonexistent/x:/x");
		else if (strcmp(w, "file-over-dir") == 0)
			strv_push(&s.files, "/etc/passwd:/.kiln");
		else if (strcmp(w, "utf8") == 0)
			strv_push(&s.args, "\xff");
		else if (strcmp(w, "env") == 0)
			strv_push(&s.env, "=x");
		snprintf(out, sizeof(out), "%s/bad.tar", tmp);
		r = build_to(&s, out, &img, err, sizeof(err));
		e = errno;
		CHECK(r < 0 && e == bad[i].errno_ &&
			  lib_test_has(err, bad[i].want),
		      "build refuses bad %s (errno %d): %s", w, e, err);
		image_release(&img);
		image_build_spec_release(&s);
	}
}

/* ---- DIR ---- */

static void test_build_dir(void)
{
	struct image_build_spec s;
	struct image img;
	char err[1024] = "", site[4300], path[4400], *cmd, *list;

	snprintf(site, sizeof(site), "%s/site", tmp);
	cmd = util_asprintf(
	    "mkdir -p '%s/sub/deeper' && echo hi > '%s/index.html' && "
	    "echo x > '%s/sub/deeper/x.txt' && chmod 600 '%s/sub/deeper/"
	    "x.txt' && ln -s index.html '%s/link'",
	    site, site, site, site, site);
	CHECK(lib_test_sh(cmd), "make a site tree");
	free(cmd);
	spec_hello(&s);
	image_init(&img);
	snprintf(path, sizeof(path), "%s:/srv/www", site);
	strv_push(&s.dirs, path);
	s.workdir = strdup("/data/work");
	snprintf(path, sizeof(path), "%s/dir.tar", tmp);
	CHECK(build_to(&s, path, &img, err, sizeof(err)) == 0,
	      "build with a DIR and a WORKDIR: %s", err);
	cmd = util_asprintf(
	    "cd '%s' && tar -xOf dir.tar 'blobs/sha256/%s' | cpio -itv "
	    "2>/dev/null | awk '{print $1, $NF}' > dirlist",
	    tmp, img.rootfs.digest + 7);
	CHECK(lib_test_sh(cmd), "list the rootfs blob with cpio");
	free(cmd);
	snprintf(path, sizeof(path), "%s/dirlist", tmp);
	list = slurp(path, NULL);
	if (!CHECK(lib_test_has(list, "drwxr-xr-x srv/www\n") &&
		       lib_test_has(list, "-rw-r--r-- srv/www/index.html\n") &&
		       lib_test_has(list,
				    "-rw------- srv/www/sub/deeper/x.txt\n") &&
		       lib_test_has(list, "lrwxrwxrwx index.html\n") &&
		       lib_test_has(list, "drwxr-xr-x data/work\n"),
		   "the tree is at /srv/www with modes and the symlink, and "
		   "the workdir exists"))
		NOTE("cpio -itv says:\n%s", list ? list : "");
	free(list);
	image_release(&img);
	image_build_spec_release(&s);

	/* A fifo in the tree is refused. */
	cmd = util_asprintf("mkfifo '%s/fifo'", site);
	lib_test_sh(cmd);
	free(cmd);
	spec_hello(&s);
	image_init(&img);
	snprintf(path, sizeof(path), "%s:/srv", site);
	strv_push(&s.dirs, path);
	snprintf(path, sizeof(path), "%s/bad.tar", tmp);
	CHECK(build_to(&s, path, &img, err, sizeof(err)) < 0 &&
		  errno == EINVAL &&
		  lib_test_has(err, "not a regular file, directory or symlink"),
	      "a fifo in a DIR is refused: %s", err);
	image_release(&img);
	image_build_spec_release(&s);
	snprintf(path, sizeof(path), "%s/fifo", site);
	unlink(path);
}

/* The index of the entry at path of that kind in fs, or -1. */
static long fs_has(const struct rootfs *fs, const char *path,
		   enum rootfs_kind kind)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->entries[i].path, path) == 0 &&
		    fs->entries[i].kind == kind)
			return (long)i;
	return -1;
}

/* rootfs_add_dir on its own: the root, through an image symlink, over a
 * file, an empty directory. */
static void test_rootfs_dir(void)
{
	struct rootfs fs;
	char err[1024] = "", site[4300], target[64];
	long i;

	snprintf(site, sizeof(site), "%s/site", tmp);
	rootfs_init(&fs);
	CHECK(rootfs_add_dir(&fs, "/", site, err, sizeof(err)) == 0 &&
		  fs_has(&fs, "/index.html", ROOTFS_FILE) >= 0 &&
		  fs_has(&fs, "/sub/deeper/x.txt", ROOTFS_FILE) >= 0 &&
		  fs_has(&fs, "/link", ROOTFS_SYMLINK) >= 0,
	      "a tree copied at / lands at the root: %s", err);
	rootfs_release(&fs);

	rootfs_init(&fs);
	/* On a merged-/usr host /lib is a symlink to usr/lib, and adding
	 * it puts that symlink in the image. */
	if (readlink("/lib", target, sizeof(target)) > 0 &&
	    rootfs_add_host(&fs, "/lib", err, sizeof(err)) == 0) {
		CHECK(rootfs_add_dir(&fs, "/lib/site", site, err,
				     sizeof(err)) == 0 &&
			  fs_has(&fs, "/usr/lib/site/index.html",
				 ROOTFS_FILE) >= 0 &&
			  fs_has(&fs, "/lib/site", ROOTFS_DIR) < 0,
		      "a guest path through an image symlink is resolved: %s",
		      err);
	} else {
		NOTE("SKIP symlink case: /lib is not a symlink here");
	}
	CHECK(rootfs_add_data(&fs, "/srv", "x", 1, 0644, err, sizeof(err)) ==
		      0 &&
		  rootfs_add_dir(&fs, "/srv", site, err, sizeof(err)) < 0 &&
		  fs.fail == ROOTFS_FAIL_INPUT &&
		  lib_test_has(err, "it is a file in the image"),
	      "a tree over a file is refused: %s", err);
	i = -1;
	CHECK(rootfs_add_dir(&fs, "/empty/dir", NULL, err, sizeof(err)) == 0 &&
		  (i = fs_has(&fs, "/empty/dir", ROOTFS_DIR)) >= 0 &&
		  fs.entries[i].mode == 0755,
	      "no host directory: an empty directory, 0755");
	CHECK(rootfs_add_dir(&fs, "rel", site, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "not an absolute path"),
	      "a relative guest path is refused");
	CHECK(rootfs_add_dir(&fs, "/x", "/etc/hostname", err, sizeof(err)) <
		      0 &&
		  lib_test_has(err, "is not a directory"),
	      "a host file is not a directory: %s", err);
	rootfs_release(&fs);
}

/* ---- archives: round trip ---- */

static void test_roundtrip(void)
{
	char state[4300], err[1024] = "", out[4400], path[4400];
	struct image img, img2;
	int fail = -1, fd;
	char *a, *b;
	size_t la, lb;
	struct stat st;

	snprintf(state, sizeof(state), "%s/state", tmp);
	image_init(&img);
	CHECK(read_into(archive1, state, &img, &fail, err, sizeof(err)) == 0 &&
		  fail == 0,
	      "read the built archive into a store: %s", err);
	CHECK(strcmp(img.id, built.id) == 0 &&
		  strcmp(img.rootfs.digest, built.rootfs.digest) == 0 &&
		  img.rootfs.size == built.rootfs.size &&
		  strcmp(img.kernel.digest, built.kernel.digest) == 0 &&
		  strcmp(img.config.digest, built.config.digest) == 0,
	      "same ID and blobs as built");
	CHECK(img.tags.n == 2 && strv_find(&img.tags, "hello:1") >= 0 &&
		  strv_find(&img.tags, "hello:latest") >= 0,
	      "tags from tags.json");
	CHECK(img.cfg.args.n == 3 && strcmp(img.cfg.exe, hello) == 0 &&
		  img.cfg.memory_mib == 32,
	      "config from the config blob");
	CHECK(store_check(state) == 4,
	      "the store holds 4 whole blobs (kernel, rootfs, config, "
	      "manifest)");
	image_blob_path(state, img.rootfs.digest, path, sizeof(path));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0444 &&
		  (uint64_t)st.st_size == img.rootfs.size,
	      "blob files are read-only (0444) with the manifest's size");

	/* Loading again with the blobs there keeps them and succeeds. */
	image_init(&img2);
	CHECK(read_into(archive1, state, &img2, &fail, err, sizeof(err)) == 0 &&
		  strcmp(img2.id, img.id) == 0 && store_check(state) == 4,
	      "reading it again: same image, same 4 blobs");
	image_release(&img2);

	image_init(&img2);
	CHECK(image_load_stored(state, img.id, &img2, err, sizeof(err)) == 0 &&
		  strcmp(img2.rootfs.digest, img.rootfs.digest) == 0 &&
		  img2.cfg.args.n == 3 && img2.cfg.memory_mib == 32,
	      "image_load_stored by ID: %s", err);
	image_release(&img2);
	image_init(&img2);
	CHECK(image_load_stored(state,
				"sha256:00000000000000000000000000000000000000"
				"00000000000000000000000000",
				&img2, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "No such file"),
	      "image_load_stored of an unknown ID: %s", err);
	image_release(&img2);

	/* Out of the store again: byte for byte the built archive. */
	snprintf(out, sizeof(out), "%s/saved.tar", tmp);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(image_archive_write(fd, state, &img, err, sizeof(err)) == 0,
	      "image_archive_write: %s", err);
	close(fd);
	a = slurp(archive1, &la);
	b = slurp(out, &lb);
	CHECK(a && b && la == lb && memcmp(a, b, la) == 0,
	      "the saved archive equals the built one");
	free(a);
	free(b);

	/* A damaged store: write refuses to export a wrong blob. */
	{
		char cmd[9000];
		image_blob_path(state, img.config.digest, path, sizeof(path));
		snprintf(cmd, sizeof(cmd),
			 "chmod 644 '%s' && printf 'X' | dd of='%s' bs=1 "
			 "seek=3 conv=notrunc 2>/dev/null",
			 path, path);
		lib_test_sh(cmd);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		CHECK(image_archive_write(fd, state, &img, err, sizeof(err)) <
			      0 &&
			  lib_test_has(err, "does not match its digest"),
		      "a damaged blob is not exported: %s", err);
		close(fd);
		image_init(&img2);
		CHECK(image_load_stored(state, img.id, &img2, err,
					sizeof(err)) < 0 &&
			  lib_test_has(err, "does not match its digest"),
		      "nor loaded: %s", err);
		image_release(&img2);
		unlink(path);
	}
	image_release(&img);
}

/* ---- archives: refusals ---- */

static int count_tmp = 0;

/* Reads tarball path into a new store; 1 if it was refused with EINVAL,
 * a message containing want, and the store still sound without the
 * image. */
static int refused(const char *path, const char *want, char *err, size_t errlen)
{
	char state[4300];
	struct image img;
	int fail = 0, rc, n;

	snprintf(state, sizeof(state), "%s/refuse%d", tmp, count_tmp++);
	image_init(&img);
	rc = read_into(path, state, &img, &fail, err, errlen);
	image_release(&img);
	n = store_check(state);
	if (rc == 0 || fail != EINVAL || !lib_test_has(err, want) || n < 0)
		return 0;
	/* The manifest goes in last: no image can have been stored. */
	image_init(&img);
	rc = image_load_stored(state, built.id, &img, NULL, 0);
	image_release(&img);
	return rc < 0;
}

static void test_refusals(void)
{
	struct good g;
	struct member m[12];
	char path[4300], err[1024];
	size_t n, big;

	if (read_good(archive1, &g) < 0) {
		CHECK(0, "read the good archive's members");
		return;
	}
	snprintf(path, sizeof(path), "%s/bad.tar", tmp);
	big = good_largest(&g);

	/* A flipped byte in a blob. */
	n = good_members(&g, m);
	g.blob[big][g.blob_len[big] / 2] ^= 1;
	write_tar(path, m, n);
	CHECK(refused(path, "does not match its digest", err, sizeof(err)),
	      "flipped byte in a blob: %s", err);
	g.blob[big][g.blob_len[big] / 2] ^= 1;

	/* The same blob shorter than the manifest says. */
	n = good_members(&g, m);
	m[2 + big].len -= 1;
	write_tar(path, m, n);
	CHECK(refused(path, "the manifest says", err, sizeof(err)),
	      "a blob shorter than the manifest says: %s", err);

	/* Longer (oversized member): refused from its header. */
	{
		char *longer = malloc(g.blob_len[big] + 100);
		memcpy(longer, g.blob[big], g.blob_len[big]);
		memset(longer + g.blob_len[big], 0, 100);
		n = good_members(&g, m);
		m[2 + big].data = longer;
		m[2 + big].len = g.blob_len[big] + 100;
		write_tar(path, m, n);
		CHECK(refused(path, "the manifest says", err, sizeof(err)),
		      "an oversized member: %s", err);
		free(longer);
	}

	/* Extra members of every kind. */
	static const struct {
		struct member m;
		const char *want;
	} extra[] = {
	    {{"extra.txt", "x", 1, 0, NULL, NULL, 0}, "unknown member"},
	    {{"../x", "x", 1, 0, NULL, NULL, 0}, "unsafe member name '../x'"},
	    {{"blobs/../../x", "x", 1, 0, NULL, NULL, 0}, "unsafe"},
	    {{"/etc/x", "x", 1, 0, NULL, NULL, 0}, "unsafe"},
	    {{"./manifest.json", "x", 1, 0, NULL, NULL, 0}, "unsafe"},
	    {{"link", NULL, 0, AE_IFLNK, "/etc/passwd", NULL, 0}, "is a link"},
	    {{"hard", NULL, 0, AE_IFREG, NULL, "manifest.json", 0},
	     "is a link"},
	    {{"dev", NULL, 0, AE_IFCHR, NULL, NULL, 0}, "device or special"},
	    {{"fifo", NULL, 0, AE_IFIFO, NULL, NULL, 0}, "device or special"},
	    {{"etc/", NULL, 0, AE_IFDIR, NULL, NULL, 0},
	     "unexpected directory"},
	    {{"blobs/sha256/0000000000000000000000000000000000000000000000000"
	      "000000000000000",
	      "x", 1, 0, NULL, NULL, 0},
	     "not named in the manifest"},
	    {{"blobs/sha256/short", "x", 1, 0, NULL, NULL, 0},
	     "unknown member"},
	};
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(extra); i++) {
		n = good_members(&g, m);
		m[n++] = extra[i].m;
		write_tar(path, m, n);
		CHECK(refused(path, extra[i].want, err, sizeof(err)),
		      "extra member '%s': %s", extra[i].m.name, err);
	}
	/* Directory entries a re-packing tar adds are fine. */
	{
		struct member d[12];
		size_t k = 0;
		struct image img;
		char state[4300];
		int fail;

		good_members(&g, m);
		d[k++] = m[0];
		d[k++] = m[1];
		d[k++] =
		    (struct member){"blobs/", NULL, 0, AE_IFDIR, NULL, NULL, 0};
		d[k++] = (struct member){
		    "blobs/sha256/", NULL, 0, AE_IFDIR, NULL, NULL, 0};
		for (size_t i = 2; i < 5; i++)
			d[k++] = m[i];
		write_tar(path, d, k);
		snprintf(state, sizeof(state), "%s/dirs-state", tmp);
		image_init(&img);
		CHECK(read_into(path, state, &img, &fail, err, sizeof(err)) ==
			      0 &&
			  strcmp(img.id, built.id) == 0,
		      "'blobs/' and 'blobs/sha256/' directory entries are "
		      "accepted: %s",
		      err);
		image_release(&img);
	}

	/* A duplicate blob member. */
	n = good_members(&g, m);
	m[n] = m[n - 1];
	n++;
	write_tar(path, m, n);
	CHECK(refused(path, "duplicate member", err, sizeof(err)),
	      "duplicate blob member: %s", err);
	n = good_members(&g, m);
	m[n++] = m[1];
	write_tar(path, m, n);
	CHECK(refused(path, "duplicate member 'tags.json'", err, sizeof(err)),
	      "duplicate tags.json: %s", err);

	/* Manifest not first; missing tags.json; missing blob. */
	n = good_members(&g, m);
	{
		struct member t = m[0];
		m[0] = m[1];
		m[1] = t;
	}
	write_tar(path, m, n);
	CHECK(refused(path, "first member must be 'manifest.json'", err,
		      sizeof(err)),
	      "manifest.json not first: %s", err);
	n = good_members(&g, m);
	memmove(&m[1], &m[2], (n - 2) * sizeof(m[0]));
	write_tar(path, m, n - 1);
	CHECK(refused(path, "no tags.json", err, sizeof(err)),
	      "no tags.json: %s", err);
	n = good_members(&g, m);
	write_tar(path, m, n - 1);
	CHECK(refused(path, "is missing", err, sizeof(err)),
	      "a blob missing: %s", err);

	/* Bad JSON: manifest, tags, a non-canonical manifest, a schema from
	 * the future, a config blob that is not a config. */
	static const struct {
		const char *manifest, *tags, *want;
	} js[] = {
	    {"{not json", NULL, "not valid JSON"},
	    {"[1]", NULL, "not a JSON object"},
	    {NULL, "{\"a\":1}", "tags.json is not a JSON array"},
	    {NULL, "[\"Bad Tag\"]", "tags.json: invalid image name"},
	    {NULL, "[1]", "tags.json: not a string"},
	    {"{\"schema\":2}", NULL, "schema 2 is not supported"},
	    {"{\"config\":{},\"kernel\":{},\"rootfs\":{},\"schema\":1,"
	     "\"x\":1}",
	     NULL, "unknown key 'x'"},
	};
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(js); i++) {
		n = good_members(&g, m);
		if (js[i].manifest) {
			m[0].data = js[i].manifest;
			m[0].len = strlen(js[i].manifest);
		}
		if (js[i].tags) {
			m[1].data = js[i].tags;
			m[1].len = strlen(js[i].tags);
		}
		write_tar(path, m, n);
		CHECK(refused(path, js[i].want, err, sizeof(err)),
		      "bad JSON (%s): %s", js[i].want, err);
	}
	{
		/* The same manifest with a space: another ID for the same
		 * image, so refused. */
		char *spaced = malloc(g.manifest_len + 2);
		spaced[0] = '{';
		spaced[1] = ' ';
		memcpy(spaced + 2, g.manifest + 1, g.manifest_len - 1);
		spaced[g.manifest_len + 1] = '\0';
		n = good_members(&g, m);
		m[0].data = spaced;
		m[0].len = g.manifest_len + 1;
		write_tar(path, m, n);
		CHECK(refused(path, "canonical", err, sizeof(err)),
		      "a non-canonical manifest: %s", err);
		free(spaced);
	}

	/* Truncated: in the middle of the big blob, and at a member
	 * boundary (a whole blob missing, end blocks gone). */
	{
		char *a;
		size_t la;
		FILE *f;
		a = slurp(archive1, &la);
		f = fopen(path, "wb");
		fwrite(a, 1, la - la / 3, f);
		fclose(f);
		CHECK(refused(path, "bad image archive", err, sizeof(err)),
		      "an archive cut short: %s", err);
		f = fopen(path, "wb");
		fwrite(a, 1, 2048, f); /* manifest + tags, no blobs */
		fclose(f);
		CHECK(refused(path, "is missing", err, sizeof(err)),
		      "an archive cut after tags.json: %s", err);
		f = fopen(path, "wb");
		fwrite(a, 1, 700, f);
		fclose(f);
		CHECK(refused(path, "bad image archive", err, sizeof(err)),
		      "an archive cut inside a header: %s", err);
		free(a);
	}

	/* Garbage and nothing at all. */
	{
		char junk[8192];
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)(i * 7 + 3);
		lib_test_write(path, junk, sizeof(junk));
		CHECK(refused(path, "bad image archive", err, sizeof(err)),
		      "garbage: %s", err);
		lib_test_write(path, "", 0);
		CHECK(refused(path, "bad image archive", err, sizeof(err)),
		      "an empty file: %s", err);
		lib_test_write(path, "\x1f\x8b\x08\x00", 4);
		CHECK(refused(path, "bad image archive", err, sizeof(err)),
		      "a gzip header: %s", err);
	}
	good_release(&g);
}

/* ---- a full or read-only store ---- */

static void test_store_failures(void)
{
	char mnt[4300], err[1024], opts[64];
	struct image img;
	int fail = 0, r;

	snprintf(mnt, sizeof(mnt), "%s/small", tmp);
	mkdir(mnt, 0755);
	/* A mount namespace of our own: the tmpfs goes away with this
	 * process whatever happens to it. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		NOTE("SKIP full and read-only store: no mount namespace: %s "
		     "(needs root)",
		     strerror(errno));
		return;
	}
	/* Too small for the two big blobs together. */
	snprintf(opts, sizeof(opts), "size=%lluk",
		 (unsigned long long)((built.kernel.size + built.rootfs.size) /
				      2048));
	if (mount("kiln-test", mnt, "tmpfs", 0, opts) < 0) {
		NOTE("SKIP full and read-only store: cannot mount tmpfs: %s "
		     "(needs root)",
		     strerror(errno));
		return;
	}
	image_init(&img);
	r = read_into(archive1, mnt, &img, &fail, err, sizeof(err));
	CHECK(r < 0 && fail == ENOSPC && lib_test_has(err, "no space left"),
	      "a full store: ENOSPC: %s", err);
	r = store_check(mnt);
	CHECK(r >= 0 && r < 4,
	      "only whole, verified blobs are left (%d), no temp files", r);
	image_release(&img);
	image_init(&img);
	CHECK(image_load_stored(mnt, built.id, &img, NULL, 0) < 0,
	      "and the image does not exist in the store");
	image_release(&img);
	umount2(mnt, MNT_DETACH);

	if (mount("kiln-test", mnt, "tmpfs", MS_RDONLY, "size=64k") < 0) {
		NOTE("SKIP read-only store: %s", strerror(errno));
		return;
	}
	image_init(&img);
	r = read_into(archive1, mnt, &img, &fail, err, sizeof(err));
	CHECK(r < 0 && fail == EIO && lib_test_has(err, "Read-only"),
	      "a read-only store: EIO: %s", err);
	CHECK(store_check(mnt) == 0, "nothing written");
	image_release(&img);
	umount2(mnt, MNT_DETACH);
}

int main(void)
{
	tmp = lib_test_tmpdir();
	if (tmp == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* A stand-in kernel: any ELF file will do for the image code. */
	snprintf(kernel, sizeof(kernel), "%s/kiln.elf", tmp);
	{
		static char k[300000];
		memcpy(k, "\177ELF", 4);
		for (size_t i = 4; i < sizeof(k); i++)
			k[i] = (char)(i * 31);
		lib_test_write(kernel, k, sizeof(k));
	}
	snprintf(hello, sizeof(hello), "%s/examples/hello", LIB_TEST_ROOT);

	test_tags();
	test_ports();
	test_refs();
	test_config();
	test_build();
	test_build_dir();
	test_rootfs_dir();
	test_roundtrip();
	test_refusals();
	test_store_failures();

	image_release(&built);
	lib_test_rmdir(tmp);
	free(tmp);
	return lib_test_done("lib_image");
}
