/*
 * Images in kilnd: the /v1/images routes and what instances need from
 * the store.  The blobs and archives are lib/image.c's (IMG); this file
 * keeps the database side: table images (an image's blobs) and tags (a
 * tag names one image; tagging moves it), resolution of a user's
 * reference (tag first, then a full ID or a unique ID prefix of at least
 * 4 hex digits), and garbage collection of blobs no image uses any more.
 *
 * Loading reads the upload (already in a nameless temp file, see http.c)
 * with image_archive_read() outside kd.lock, since hashing a big rootfs
 * takes a while; images_lock keeps a load and a removal from crossing
 * (a removal must not delete a blob a concurrent load has just found in
 * the store and counts on).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "image.h"
#include "kilnd.h"

static pthread_mutex_t images_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- database ---- */

static sqlite3_stmt *images_prepare(const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(kd.db, sql, -1, &st, NULL) != SQLITE_OK) {
		kilnd_log("database: %s", sqlite3_errmsg(kd.db));
		return NULL;
	}
	return st;
}

/* The tags of image id, sorted, into a JSON array. */
static json_t *images_tags_json(const char *id)
{
	sqlite3_stmt *st =
	    images_prepare("SELECT tag FROM tags WHERE image_id = ? "
			   "ORDER BY tag");
	json_t *a = json_array();

	if (st == NULL)
		return a;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    a, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	return a;
}

/* One image row as the API's JSON (without the config). */
static json_t *images_row_json(sqlite3_stmt *st)
{
	const char *id = (const char *)sqlite3_column_text(st, 0);
	int64_t ks = sqlite3_column_int64(st, 2),
		rs = sqlite3_column_int64(st, 4),
		cs = sqlite3_column_int64(st, 6);
	char when[40];

	kilnd_time_format(sqlite3_column_int64(st, 7), when, sizeof(when));
	return json_pack(
	    "{s:s, s:o, s:s, s:I, s:{s:{s:s, s:I}, s:{s:s, s:I}, s:{s:s, "
	    "s:I}}}",
	    "id", id, "tags", images_tags_json(id), "created_at", when, "size",
	    (json_int_t)(ks + rs + cs), "blobs", "kernel", "digest",
	    (const char *)sqlite3_column_text(st, 1), "size", (json_int_t)ks,
	    "rootfs", "digest", (const char *)sqlite3_column_text(st, 3),
	    "size", (json_int_t)rs, "config", "digest",
	    (const char *)sqlite3_column_text(st, 5), "size", (json_int_t)cs);
}

#define IMAGES_COLUMNS                                                         \
	"id, kernel, kernel_size, rootfs, rootfs_size, config, config_size, "  \
	"created_at"

/* The image with id as JSON, or NULL. */
static json_t *images_json(const char *id, int with_config)
{
	sqlite3_stmt *st = images_prepare("SELECT " IMAGES_COLUMNS
					  " FROM images WHERE id = ?");
	json_t *j = NULL;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		j = images_row_json(st);
	sqlite3_finalize(st);
	if (j != NULL && with_config) {
		struct image img;
		char err[256];

		image_init(&img);
		if (image_load_stored(kd.state_dir, id, &img, err,
				      sizeof(err)) == 0) {
			char *cfg = image_config_json(&img.cfg);
			json_t *c = cfg ? json_loads(cfg, 0, NULL) : NULL;
			if (c != NULL)
				json_object_set_new(j, "config", c);
			free(cfg);
		} else {
			json_object_set_new(j, "error", json_string(err));
		}
		image_release(&img);
	}
	return j;
}

static int images_exists(const char *id)
{
	sqlite3_stmt *st = images_prepare("SELECT 1 FROM images WHERE id = ?");
	int found;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int images_insert(const struct image *img)
{
	sqlite3_stmt *st =
	    images_prepare("INSERT OR IGNORE INTO images (" IMAGES_COLUMNS
			   ") VALUES (?,?,?,?,?,?,?,?)");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, img->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, img->kernel.digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)img->kernel.size);
	sqlite3_bind_text(st, 4, img->rootfs.digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)img->rootfs.size);
	sqlite3_bind_text(st, 6, img->config.digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)img->config.size);
	sqlite3_bind_int64(st, 8, kilnd_now_ms());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Points tag at id (moving it from another image). */
static int images_tag_set(const char *tag, const char *id)
{
	sqlite3_stmt *st = images_prepare(
	    "INSERT OR REPLACE INTO tags (tag, image_id) VALUES (?, ?)");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* A single-text-column query with one text parameter: the first row's
 * value into out (or "" when none); the number of rows. */
static int images_query1(const char *sql, const char *arg, char *out,
			 size_t outlen)
{
	sqlite3_stmt *st = images_prepare(sql);
	int n = 0;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == 0 && out != NULL)
			snprintf(out, outlen, "%s",
				 (const char *)sqlite3_column_text(st, 0));
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

/* ---- what the rest of kilnd uses ---- */

int images_resolve(const char *ref, char *id, size_t idlen, int *status,
		   char *err, size_t errlen)
{
	struct image_ref r;
	char like[80];
	int n;

	*status = 400;
	if (image_ref_parse(ref, &r, err, errlen) < 0)
		return -1;
	if (r.tag[0] != '\0' &&
	    images_query1("SELECT image_id FROM tags WHERE tag = ?", r.tag, id,
			  idlen) > 0)
		return 0;
	if (r.hex[0] != '\0') {
		snprintf(like, sizeof(like), "sha256:%s%s", r.hex,
			 r.full ? "" : "%");
		n = images_query1(r.full ? "SELECT id FROM images WHERE id = ?"
					 : "SELECT id FROM images WHERE id "
					   "LIKE ?",
				  like, id, idlen);
		if (n == 1)
			return 0;
		if (n > 1)
			return util_err(err, errlen,
					"image ID prefix '%s' is ambiguous (%d "
					"images; give more digits)",
					ref, n);
	}
	*status = 404;
	return util_err(err, errlen, "no such image '%s' (see 'kiln images')",
			ref);
}

int images_use(const char *id, struct image_use *u, char *err, size_t errlen)
{
	struct image img;
	char tag[IMAGE_TAG_MAX];

	memset(u, 0, sizeof(*u));
	image_init(&img);
	if (!images_exists(id)) {
		return util_err(
		    err, errlen,
		    "image %.19s is no longer in the store (removed "
		    "with 'kiln rmi -f'?)",
		    id);
	}
	if (image_load_stored(kd.state_dir, id, &img, err, errlen) < 0) {
		image_release(&img);
		return -1;
	}
	snprintf(u->id, sizeof(u->id), "%s", id);
	image_blob_path(kd.state_dir, img.kernel.digest, u->kernel,
			sizeof(u->kernel));
	image_blob_path(kd.state_dir, img.rootfs.digest, u->rootfs,
			sizeof(u->rootfs));
	u->kernel_size = img.kernel.size;
	u->rootfs_size = img.rootfs.size;
	u->memory_mib = img.cfg.memory_mib;
	image_release(&img);
	if (images_query1("SELECT tag FROM tags WHERE image_id = ? ORDER BY "
			  "tag",
			  id, tag, sizeof(tag)) > 0) {
		tag[strcspn(tag, ":")] = '\0';
		u->name_hint = strdup(tag);
	}
	return 0;
}

void images_use_release(struct image_use *u)
{
	free(u->name_hint);
	u->name_hint = NULL;
}

/* Deletes blob digest unless another image still refers to it. */
static void images_blob_gc(const char *digest)
{
	char path[PATH_MAX];

	if (images_query1("SELECT id FROM images WHERE kernel = ?1 OR "
			  "rootfs = ?1 OR config = ?1 OR id = ?1",
			  digest, NULL, 0) > 0)
		return;
	if (image_blob_path(kd.state_dir, digest, path, sizeof(path)) == 0 &&
	    unlink(path) < 0 && errno != ENOENT)
		kilnd_log("cannot remove blob '%s': %s", path, strerror(errno));
}

/* ---- routes ---- */

static enum MHD_Result images_db_error(struct http_req *r)
{
	return http_reply_error(r, 500, "database: %s", sqlite3_errmsg(kd.db));
}

enum MHD_Result api_images_load(struct http_req *r)
{
	const char *want = http_query(r, "tag");
	char tag[IMAGE_TAG_MAX], err[1024];
	struct image img;
	int fail = 0, rc;
	json_t *j;

	if (want != NULL &&
	    image_tag_normalize(want, tag, sizeof(tag), err, sizeof(err)) < 0)
		return http_reply_error(r, 400, "%s", err);
	if (r->upload_len == 0)
		return http_reply_error(r, 400,
					"empty upload: send an image archive "
					"(made by 'kiln build -o' or 'kiln "
					"save')");
	image_init(&img);
	pthread_mutex_lock(&images_lock);
	rc = image_archive_read(r->upload_fd, kd.state_dir, &img, &fail, err,
				sizeof(err));
	if (rc < 0) {
		pthread_mutex_unlock(&images_lock);
		image_release(&img);
		return http_reply_error(
		    r,
		    fail == ENOSPC   ? 507
		    : fail == EINVAL ? 400
				     : 500,
		    "%s%s", err,
		    fail == ENOSPC ? " (free some space, e.g. 'kiln rmi')"
				   : "");
	}
	pthread_mutex_lock(&kd.lock);
	rc = db_exec("BEGIN IMMEDIATE", NULL, 0);
	if (rc == 0)
		rc = images_insert(&img);
	for (size_t i = 0; rc == 0 && i < img.tags.n; i++)
		rc = images_tag_set(img.tags.v[i], img.id);
	if (rc == 0 && want != NULL)
		rc = images_tag_set(tag, img.id);
	if (rc == 0)
		rc = db_exec("COMMIT", NULL, 0);
	else
		db_exec("ROLLBACK", NULL, 0);
	if (rc < 0) {
		enum MHD_Result ret = images_db_error(r);
		pthread_mutex_unlock(&kd.lock);
		pthread_mutex_unlock(&images_lock);
		image_release(&img);
		return ret;
	}
	j = images_json(img.id, 1);
	pthread_mutex_unlock(&kd.lock);
	pthread_mutex_unlock(&images_lock);
	events_emit("image", "load", img.id, want ? tag : NULL, NULL);
	image_release(&img);
	return http_reply_json(r, 201, j);
}

enum MHD_Result api_images_list(struct http_req *r)
{
	sqlite3_stmt *st;
	json_t *a = json_array();

	pthread_mutex_lock(&kd.lock);
	st = images_prepare("SELECT " IMAGES_COLUMNS
			    " FROM images ORDER BY created_at DESC, id");
	if (st == NULL) {
		pthread_mutex_unlock(&kd.lock);
		json_decref(a);
		return images_db_error(r);
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, images_row_json(st));
	sqlite3_finalize(st);
	pthread_mutex_unlock(&kd.lock);
	return http_reply_json(r, 200, a);
}

enum MHD_Result api_images_get(struct http_req *r)
{
	char id[IMAGE_DIGEST_MAX], err[512];
	int status;
	json_t *j;

	pthread_mutex_lock(&kd.lock);
	if (images_resolve(r->param[0], id, sizeof(id), &status, err,
			   sizeof(err)) < 0) {
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, (unsigned)status, "%s", err);
	}
	j = images_json(id, 1);
	pthread_mutex_unlock(&kd.lock);
	if (j == NULL)
		return images_db_error(r);
	return http_reply_json(r, 200, j);
}

enum MHD_Result api_images_tag(struct http_req *r)
{
	const char *want = http_query(r, "tag");
	char id[IMAGE_DIGEST_MAX], tag[IMAGE_TAG_MAX], err[512];
	int status;
	json_t *j;

	if (want == NULL)
		return http_reply_error(r, 400,
					"missing ?tag=NAME[:TAG] (e.g. "
					"?tag=web:2)");
	if (image_tag_normalize(want, tag, sizeof(tag), err, sizeof(err)) < 0)
		return http_reply_error(r, 400, "%s", err);
	pthread_mutex_lock(&kd.lock);
	if (images_resolve(r->param[0], id, sizeof(id), &status, err,
			   sizeof(err)) < 0) {
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, (unsigned)status, "%s", err);
	}
	if (images_tag_set(tag, id) < 0) {
		enum MHD_Result ret = images_db_error(r);
		pthread_mutex_unlock(&kd.lock);
		return ret;
	}
	j = images_json(id, 0);
	pthread_mutex_unlock(&kd.lock);
	events_emit("image", "tag", id, tag, NULL);
	return http_reply_json(r, 201, j);
}

/* The first instance using image id (any state), or NULL; *running is
 * set when one of them is running or restarting. */
static struct instance *images_user(const char *id, int *running)
{
	struct instance *first = NULL;

	*running = 0;
	for (struct instance *i = kd.instances; i; i = i->next) {
		if (strcmp(i->image_id, id) != 0)
			continue;
		if (first == NULL)
			first = i;
		if (i->state == INST_RUNNING || i->state == INST_RESTARTING ||
		    i->busy) {
			*running = 1;
			first = i;
			break;
		}
	}
	return first;
}

enum MHD_Result api_images_delete(struct http_req *r)
{
	char id[IMAGE_DIGEST_MAX], err[512], tag[IMAGE_TAG_MAX];
	char blobs[3][IMAGE_DIGEST_MAX];
	const char *ref = r->param[0];
	struct image_ref ir;
	struct instance *user;
	int status, force, running, ntags;
	json_t *out, *tags;

	if (http_query_bool(r, "force", &force) < 0)
		return MHD_YES;
	pthread_mutex_lock(&images_lock);
	pthread_mutex_lock(&kd.lock);
	if (images_resolve(ref, id, sizeof(id), &status, err, sizeof(err)) <
	    0) {
		pthread_mutex_unlock(&kd.lock);
		pthread_mutex_unlock(&images_lock);
		return http_reply_error(r, (unsigned)status, "%s", err);
	}
	tags = images_tags_json(id);
	ntags = (int)json_array_size(tags);
	/* A tag of an image that has others: only the tag goes. */
	if (image_ref_parse(ref, &ir, err, sizeof(err)) == 0 &&
	    ir.tag[0] != '\0' && ntags > 1 &&
	    images_query1("SELECT image_id FROM tags WHERE tag = ?", ir.tag,
			  NULL, 0) > 0) {
		snprintf(tag, sizeof(tag), "%s", ir.tag);
		images_query1("DELETE FROM tags WHERE tag = ?", tag, NULL, 0);
		pthread_mutex_unlock(&kd.lock);
		pthread_mutex_unlock(&images_lock);
		json_decref(tags);
		events_emit("image", "untag", id, tag, NULL);
		return http_reply_json(
		    r, 200,
		    json_pack("{s:[s], s:n}", "untagged", tag, "deleted"));
	}
	user = images_user(id, &running);
	if (user != NULL && (!force || running)) {
		pthread_mutex_unlock(&kd.lock);
		pthread_mutex_unlock(&images_lock);
		json_decref(tags);
		if (running)
			return http_reply_error(
			    r, 409,
			    "image '%s' is used by running instance '%s' "
			    "(stop and remove it first)",
			    ref, user->name);
		return http_reply_error(r, 409,
					"image '%s' is used by instance '%s' "
					"(remove it first, or use 'kiln rmi "
					"-f')",
					ref, user->name);
	}
	{
		sqlite3_stmt *st =
		    images_prepare("SELECT kernel, rootfs, config FROM images "
				   "WHERE id = ?");
		if (st != NULL) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				for (int i = 0; i < 3; i++)
					snprintf(
					    blobs[i], sizeof(blobs[i]), "%s",
					    (const char *)sqlite3_column_text(
						st, i));
			sqlite3_finalize(st);
		}
	}
	if (images_query1("DELETE FROM images WHERE id = ?", id, NULL, 0) < 0) {
		enum MHD_Result ret = images_db_error(r);
		pthread_mutex_unlock(&kd.lock);
		pthread_mutex_unlock(&images_lock);
		json_decref(tags);
		return ret;
	}
	for (int i = 0; i < 3; i++)
		images_blob_gc(blobs[i]);
	images_blob_gc(id); /* the manifest */
	pthread_mutex_unlock(&kd.lock);
	pthread_mutex_unlock(&images_lock);
	events_emit("image", "delete", id, NULL, NULL);
	out = json_pack("{s:o, s:s}", "untagged", tags, "deleted", id);
	return http_reply_json(r, 200, out);
}

enum MHD_Result api_images_archive(struct http_req *r)
{
	char id[IMAGE_DIGEST_MAX], err[1024], dir[PATH_MAX + 8];
	struct image img;
	json_t *tags, *t;
	struct stat st;
	size_t i;
	int status, fd;

	pthread_mutex_lock(&kd.lock);
	if (images_resolve(r->param[0], id, sizeof(id), &status, err,
			   sizeof(err)) < 0) {
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, (unsigned)status, "%s", err);
	}
	tags = images_tags_json(id);
	pthread_mutex_unlock(&kd.lock);

	image_init(&img);
	json_array_foreach(tags, i, t)
	    strv_push(&img.tags, json_string_value(t));
	json_decref(tags);
	snprintf(dir, sizeof(dir), "%s/tmp", kd.state_dir);
	fd = util_temp_fd(dir, "save");
	if (fd < 0) {
		image_release(&img);
		return http_reply_error(r, errno == ENOSPC ? 507 : 500,
					"cannot create a temp file in '%s': %s",
					dir, strerror(errno));
	}
	pthread_mutex_lock(&images_lock);
	if (image_load_stored(kd.state_dir, id, &img, err, sizeof(err)) < 0 ||
	    image_archive_write(fd, kd.state_dir, &img, err, sizeof(err)) < 0) {
		int e = errno;
		pthread_mutex_unlock(&images_lock);
		close(fd);
		image_release(&img);
		return http_reply_error(r, e == ENOSPC ? 507 : 500, "%s", err);
	}
	pthread_mutex_unlock(&images_lock);
	image_release(&img);
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return http_reply_error(r, 500, "cannot read the archive: %s",
					strerror(errno));
	}
	return http_reply_fd(r, "application/x-tar", fd, (uint64_t)st.st_size);
}
