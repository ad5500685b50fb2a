/*
 * kilnd's HTTP layer over libmicrohttpd: a request as handlers see it,
 * the reply helpers, and the handlers of the route table (api_*.c).
 * Handlers run in the connection's own thread, so a handler may block
 * (a stop waiting for its timeout, a log stream waiting for output)
 * without holding up other requests.
 */
#ifndef KILND_HTTP_H
#define KILND_HTTP_H

#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_PARAMS_MAX 4

/* How a route takes its body. */
enum http_body {
	BODY_NONE,   /* any body is read and ignored */
	BODY_JSON,   /* application/json, at most KILND_JSON_BODY_MAX */
	BODY_UPLOAD, /* streamed to a temp file under STATE/tmp */
};

struct http_req;
typedef enum MHD_Result (*http_handler)(struct http_req *r);

struct http_route {
	const char *method;
	const char *pattern; /* "/v1/instances/{}/start": {} is one segment */
	enum http_body body;
	http_handler fn;
};

struct http_req {
	struct MHD_Connection *conn;
	const char *method;
	const struct http_route *route;
	char *param[HTTP_PARAMS_MAX]; /* the {} segments, %-decoded */
	/* Decided while the headers came in; answered once the body is
	 * read (a status and message), so the client always gets to send
	 * its whole body first. */
	int early_status;
	char early_msg[512];
	/* BODY_JSON */
	char *body;
	size_t body_len, body_cap;
	json_t *json; /* parsed body (an object) */
	/* BODY_UPLOAD */
	int upload_fd;
	uint64_t upload_len;
	int upload_errno; /* a write failed (ENOSPC, ...) */
};

/* Starts serving on the unix socket fd (already listening). */
int http_start(int listen_fd, char *err, size_t errlen);
void http_stop(void);

/* A query parameter, %-decoded (a new string the request owns), or
 * NULL. */
const char *http_query(struct http_req *r, const char *key);
/* 1 for "1", "true", "yes"; 0 when absent or "0"/"false"/"no"; -1
 * (after answering 400) for anything else. */
int http_query_bool(struct http_req *r, const char *key, int *out);

/* Replies; each queues the response and returns MHD's result. */
enum MHD_Result http_reply_json(struct http_req *r, unsigned status,
				json_t *j /* stolen */);
enum MHD_Result http_reply_error(struct http_req *r, unsigned status,
				 const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum MHD_Result http_reply_empty(struct http_req *r, unsigned status);
/* A body produced by cb (chunked), e.g. a log stream. */
enum MHD_Result http_reply_stream(struct http_req *r, const char *ctype,
				  MHD_ContentReaderCallback cb, void *cls,
				  MHD_ContentReaderFreeCallback free_cb);
/* A whole file (fd is taken over and closed by MHD). */
enum MHD_Result http_reply_fd(struct http_req *r, const char *ctype, int fd,
			      uint64_t size);

/* Has the client of this connection gone away?  (for streams that wait) */
int http_client_gone(struct MHD_Connection *conn);

/* api_system.c */
enum MHD_Result api_version(struct http_req *r);
enum MHD_Result api_networks_list(struct http_req *r);
enum MHD_Result api_networks_create(struct http_req *r);
enum MHD_Result api_networks_delete(struct http_req *r);
enum MHD_Result api_events(struct http_req *r);
/* api_instances.c */
enum MHD_Result api_instances_list(struct http_req *r);
enum MHD_Result api_instances_create(struct http_req *r);
enum MHD_Result api_instances_get(struct http_req *r);
enum MHD_Result api_instances_start(struct http_req *r);
enum MHD_Result api_instances_stop(struct http_req *r);
enum MHD_Result api_instances_restart(struct http_req *r);
enum MHD_Result api_instances_kill(struct http_req *r);
enum MHD_Result api_instances_delete(struct http_req *r);
enum MHD_Result api_instances_logs(struct http_req *r);
/* api_images.c */
enum MHD_Result api_images_load(struct http_req *r);
enum MHD_Result api_images_list(struct http_req *r);
enum MHD_Result api_images_get(struct http_req *r);
enum MHD_Result api_images_delete(struct http_req *r);
enum MHD_Result api_images_archive(struct http_req *r);
enum MHD_Result api_images_tag(struct http_req *r);

/* images.c: the image store as instances need it (lock held). */
struct image_use {
	char id[72];
	char kernel[PATH_MAX]; /* blob paths */
	char rootfs[PATH_MAX];
	uint64_t kernel_size, rootfs_size;
	uint64_t memory_mib; /* from the config; 0: default */
	char *name_hint;     /* the image's first tag's NAME, or NULL */
};
/* Resolves a user's reference (tag, ID, prefix) to an image ID; 0, or -1
 * with status (404, 400) and err. */
int images_resolve(const char *ref, char *id, size_t idlen, int *status,
		   char *err, size_t errlen);
/* What starting an instance of image id needs; -1 with err. */
int images_use(const char *id, struct image_use *u, char *err, size_t errlen);
void images_use_release(struct image_use *u);

#endif /* KILND_HTTP_H */
