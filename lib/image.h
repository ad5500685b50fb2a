/*
 * kiln images: content-addressed blobs, the manifest that names them, the
 * program's config as JSON, tags, and the single-file archive used by
 * `kiln build -o`, `kiln save` and `kiln load` (format: docs/image-format.md).
 *
 * An image is three blobs, each named by "sha256:<hex>" of its bytes: the
 * kernel (kiln.elf), the rootfs (the deterministic cpio of lib/rootfs.c,
 * /.kiln/config included) and the config (compact JSON, sorted keys).  The
 * manifest is compact JSON with sorted keys,
 *   {"config":{"digest":..,"size":N},"kernel":{..},"rootfs":{..},"schema":1}
 * and the image ID is "sha256:<hex of the manifest bytes>": the same inputs
 * give the same bytes and so the same ID.
 *
 * A store is a state directory holding blobs/sha256/<64 hex>, each written
 * through a temp file in the same directory, fsync'ed and renamed, so a
 * blob file is either whole and verified or absent.  The manifest is a
 * blob too (its digest is the image ID), so image_load_stored() needs
 * nothing but the store.  Tags and everything else about images live with
 * the caller (kilnd's database).
 *
 * Like all of lib/, nothing here prints or exits: failures return -1 with
 * a message in err.
 */
#ifndef KILN_IMAGE_H
#define KILN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define IMAGE_DIGEST_MAX 72  /* "sha256:" + 64 hex + NUL */
#define IMAGE_SCHEMA	 1   /* the manifest's "schema" */
#define IMAGE_TAG_MAX	 257 /* NAME (128) ":" TAG (128) + NUL */
/* The most a manifest, a config or tags.json may be (bytes): they are
 * read into memory, so an archive cannot make a reader allocate more. */
#define IMAGE_JSON_MAX (1024 * 1024)
/* A config's memory_mib, when not 0: kiln run's limits (guest RAM stays
 * below the 32-bit PCI hole, one RAM region on every monitor). */
#define IMAGE_MEMORY_MIN_MIB 2
#define IMAGE_MEMORY_MAX_MIB 3072
/* The environment every image starts from; ENV / -e add to it. */
#define IMAGE_DEFAULT_PATH                                                     \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What the program in an image is and how it runs by default.  Every
 * string is owned by the struct (freed by image_config_release). */
struct image_config {
	char *exe;	   /* absolute path of the program in the rootfs */
	struct strv args;  /* argv as the program gets it, argv[0] first */
	struct strv env;   /* "K=V", in order, defaults (PATH, HOME) included */
	char *workdir;	   /* working directory, "/" by default */
	struct strv ports; /* "8080/tcp", "53/udp" */
	uint64_t memory_mib; /* 0: kiln's default */
};

struct image_blob {
	char digest[IMAGE_DIGEST_MAX]; /* "sha256:<64 hex>" */
	uint64_t size;		       /* bytes */
};

struct image {
	char id[IMAGE_DIGEST_MAX]; /* "sha256:<hex of the manifest>" */
	struct image_blob kernel, rootfs, config;
	struct image_config cfg;
	struct strv tags; /* from the archive / the build, normalized */
};

void image_config_init(struct image_config *c);
void image_config_release(struct image_config *c);

/* Zeroes img; image_release() frees what the calls below put in it. */
void image_init(struct image *img);
void image_release(struct image *img);

/*
 * Validates and normalizes a tag "NAME[:TAG]" into out: "web" ->
 * "web:latest".  NAME is [a-z0-9][a-z0-9._-]* in '/'-separated segments
 * (no empty segment), at most 128 chars; TAG is
 * [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.  -1 + err when invalid or out is too
 * small (IMAGE_TAG_MAX always suffices).
 */
int image_tag_normalize(const char *in, char *out, size_t outlen, char *err,
			size_t errlen);

/* 1 if s is "sha256:" followed by exactly 64 lowercase hex digits. */
int image_digest_valid(const char *s);

/* Validates and normalizes an exposed port "PORT[/PROTO]" into out:
 * "8080" -> "8080/tcp", "53/udp" stays; PORT 1-65535 without leading
 * zeros, PROTO tcp or udp.  -1 + err when invalid or out (at least 10
 * bytes) is too small. */
int image_port_normalize(const char *in, char *out, size_t outlen, char *err,
			 size_t errlen);

/*
 * What a user's image reference can mean.  A reference is a tag, a full
 * ID, or an ID prefix of at least 4 hex digits, with or without
 * "sha256:".  A bare hex string like "abcd" can be both a tag (abcd:latest)
 * and an ID prefix: the caller looks the tag up first, then the prefix
 * (which must match exactly one image), as Docker does.  With "sha256:" it
 * is an ID or prefix only.
 */
struct image_ref {
	char tag[IMAGE_TAG_MAX]; /* normalized tag, or "" if not a tag */
	char hex[65];		 /* lowercase hex prefix (4-64), or "" */
	int full;		 /* hex is a whole ID (64 digits) */
};
/* Fills r; -1 + err when ref is neither a valid tag nor an ID prefix. */
int image_ref_parse(const char *ref, struct image_ref *r, char *err,
		    size_t errlen);

/* Path of a blob in a store: DIR/blobs/sha256/<hex>.  -1 when digest is
 * not valid (image_digest_valid) or out is too small. */
int image_blob_path(const char *state_dir, const char *digest, char *out,
		    size_t outlen);

/*
 * Reads an archive from fd, writing its blobs into state_dir's blob
 * store (existing identical blobs are kept), filling img.  On failure
 * nothing partial stays in the store except whole verified blobs;
 * errno-style cause in *fail: ENOSPC (disk full), EINVAL (bad
 * archive), EIO.
 *
 * Every blob's digest and size are checked against the manifest, the
 * config blob must parse, and anything else is refused: unknown or
 * duplicate members, paths with "..", absolute paths, links, devices,
 * members larger than the manifest says, truncated archives, bad JSON.
 * The manifest itself is stored as the blob named by the image ID.  img
 * must be initialized (image_init); its tags come from tags.json.
 */
int image_archive_read(int fd, const char *state_dir, struct image *img,
		       int *fail, char *err, size_t errlen);

/* Writes img (blobs taken from state_dir) as an archive to fd, with
 * img->tags as tags.json.  Blobs are re-verified while they are copied, so
 * a damaged store cannot produce an archive with a wrong blob. */
int image_archive_write(int fd, const char *state_dir, const struct image *img,
			char *err, size_t errlen);

/* The config as JSON text (caller frees) and back.  The text is compact
 * with sorted keys, so equal configs give equal bytes; NULL when out of
 * memory or a string is not UTF-8 (JSON cannot carry it; image_build
 * refuses such input first).  image_config_parse() fills an initialized c
 * (replacing what it held) and refuses unknown or missing keys, wrong
 * types and invalid values (relative paths, bad ports, env entries
 * without '=', memory outside the limits above). */
char *image_config_json(const struct image_config *c);
int image_config_parse(const char *json, struct image_config *c, char *err,
		       size_t errlen);

/* The manifest of img (its three blobs) as the exact bytes whose sha256
 * is the ID (caller frees), or NULL when out of memory. */
char *image_manifest_json(const struct image *img);

/* Loads manifest + config of an image already in the store by ID (full
 * "sha256:<hex>"), verifying both blobs' digests; the kernel and rootfs
 * blobs must exist with the sizes the manifest gives.  img must be
 * initialized; its tags are left as they are. */
int image_load_stored(const char *state_dir, const char *id, struct image *img,
		      char *err, size_t errlen);

/*
 * What `kiln build` and a Kilnfile describe.  Every pointer and list is
 * owned by the spec (image_build_spec_release frees it).
 */
struct image_build_spec {
	char *program;	     /* absolute host path of the program */
	struct strv args;    /* its arguments after argv[0] */
	struct strv env;     /* "K=V" over the defaults PATH and HOME */
	struct strv files;   /* "HOST:GUEST": one host file at GUEST */
	struct strv dirs;    /* "HOST:GUEST": a host directory tree at GUEST */
	char *workdir;	     /* absolute guest path; NULL: "/" */
	struct strv ports;   /* "8080", "8080/tcp", "53/udp" */
	uint64_t memory_mib; /* 0: kiln's default */
	struct strv tags;    /* as given; normalized into img->tags */
	char *kernel;	     /* host path of kiln.elf */
};

void image_build_spec_init(struct image_build_spec *spec);
void image_build_spec_release(struct image_build_spec *spec);

/*
 * Builds the image spec describes and writes it as an archive (the same
 * format image_archive_read takes) to archive_fd, filling img (initialized
 * by the caller) with its ID, blobs, config and normalized tags.  Temp
 * files are nameless (O_TMPFILE under $TMPDIR), so nothing is left behind
 * on any path.  On failure -1, err says why and errno says what kind:
 * ENOENT the program, a library, a file or the kernel is missing (kiln's
 * status 127 for the program and libraries), ENOEXEC not a runnable
 * x86_64 program (126), EINVAL bad input (a tag, a port, a path), ENOSPC
 * disk full, EIO anything else.
 */
int image_build(const struct image_build_spec *spec, int archive_fd,
		struct image *img, char *err, size_t errlen);

#endif /* KILN_IMAGE_H */
