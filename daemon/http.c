/*
 * kilnd's HTTP server (see http.h): libmicrohttpd on the unix socket
 * main.c binds, one thread per connection, and the route table.
 *
 * A request's body is always read to its end before the answer goes out,
 * even when the answer was decided on the headers (unknown route, wrong
 * content type, a declared length over the limit): a client that is
 * still writing its body when the server closes would see a broken pipe
 * instead of the error.  JSON bodies are kept in memory up to
 * KILND_JSON_BODY_MAX; image uploads go to a nameless temp file under
 * STATE/tmp (O_TMPFILE, or unlinked at once) up to kd.upload_max.
 *
 * Paths are split on '/' before any %-decoding (libmicrohttpd's own
 * unescaping is turned off), so an image reference with a '/' in it
 * travels as one segment, "library%2Fweb:1".
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kilnd.h"

#define HTTP_QUERY_MAX 8

static const struct http_route http_routes[] = {
    {"GET", "/v1/version", BODY_NONE, api_version},
    {"GET", "/v1/events", BODY_NONE, api_events},
    {"POST", "/v1/images/load", BODY_UPLOAD, api_images_load},
    {"GET", "/v1/images", BODY_NONE, api_images_list},
    {"GET", "/v1/images/{}", BODY_NONE, api_images_get},
    {"DELETE", "/v1/images/{}", BODY_NONE, api_images_delete},
    {"GET", "/v1/images/{}/archive", BODY_NONE, api_images_archive},
    {"POST", "/v1/images/{}/tag", BODY_NONE, api_images_tag},
    {"GET", "/v1/instances", BODY_NONE, api_instances_list},
    {"POST", "/v1/instances", BODY_JSON, api_instances_create},
    {"GET", "/v1/instances/{}", BODY_NONE, api_instances_get},
    {"DELETE", "/v1/instances/{}", BODY_NONE, api_instances_delete},
    {"POST", "/v1/instances/{}/start", BODY_NONE, api_instances_start},
    {"POST", "/v1/instances/{}/stop", BODY_NONE, api_instances_stop},
    {"POST", "/v1/instances/{}/restart", BODY_NONE, api_instances_restart},
    {"POST", "/v1/instances/{}/kill", BODY_NONE, api_instances_kill},
    {"GET", "/v1/instances/{}/logs", BODY_NONE, api_instances_logs},
    {"GET", "/v1/networks", BODY_NONE, api_networks_list},
    {"POST", "/v1/networks", BODY_JSON, api_networks_create},
    {"DELETE", "/v1/networks/{}", BODY_NONE, api_networks_delete},
};

static struct MHD_Daemon *http_daemon;

/* The strings http_query() handed out, freed with the request. */
struct http_req_full {
	struct http_req r;
	char *query[HTTP_QUERY_MAX];
	size_t nquery;
};

static int http_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decodes s in place ('+' is a space when plus is set); -1 on a
 * malformed escape or a NUL byte. */
static int http_decode(char *s, int plus)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			int h = http_hex(s[1]), l = h < 0 ? -1 : http_hex(s[2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			*o++ = (char)(h * 16 + l);
			s += 2;
		} else if (*s == '+' && plus) {
			*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

/* libmicrohttpd's unescaping, turned off: see the top of this file. */
static size_t http_no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* Does url match pattern?  Fills r->param with the {} segments.  1 on a
 * match, 0 if not, -1 on a malformed escape. */
static int http_match(const char *pattern, const char *url, struct http_req *r)
{
	const char *p = pattern, *u = url;
	int np = 0;

	while (*p && *u) {
		if (p[0] == '{' && p[1] == '}') {
			size_t n = strcspn(u, "/");
			char *seg;

			if (n == 0 || np >= HTTP_PARAMS_MAX)
				return 0;
			seg = strndup(u, n);
			if (seg == NULL || http_decode(seg, 0) < 0 ||
			    seg[0] == '\0') {
				free(seg);
				for (int i = 0; i < np; i++) {
					free(r->param[i]);
					r->param[i] = NULL;
				}
				return seg == NULL ? 0 : -1;
			}
			r->param[np++] = seg;
			p += 2;
			u += n;
			continue;
		}
		if (*p != *u)
			break;
		p++;
		u++;
	}
	/* A trailing slash is forgiven: "/v1/instances/". */
	if (*p == '\0' && (*u == '\0' || (u[0] == '/' && u[1] == '\0')))
		return 1;
	for (int i = 0; i < np; i++) {
		free(r->param[i]);
		r->param[i] = NULL;
	}
	return 0;
}

/* Finds the route; sets an early status when there is none. */
static void http_route(struct http_req *r, const char *url, const char *method)
{
	int path_known = 0;
	char allow[64] = "";

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(http_routes); i++) {
		int m = http_match(http_routes[i].pattern, url, r);

		if (m < 0) {
			r->early_status = MHD_HTTP_BAD_REQUEST;
			snprintf(r->early_msg, sizeof(r->early_msg),
				 "malformed %%-escape in '%s'", url);
			return;
		}
		if (m == 0)
			continue;
		if (strcmp(http_routes[i].method, method) == 0) {
			r->route = &http_routes[i];
			return;
		}
		for (int k = 0; k < HTTP_PARAMS_MAX; k++) {
			free(r->param[k]);
			r->param[k] = NULL;
		}
		path_known = 1;
		if (strlen(allow) + strlen(http_routes[i].method) + 3 <
		    sizeof(allow))
			snprintf(allow + strlen(allow),
				 sizeof(allow) - strlen(allow), "%s%s",
				 allow[0] ? ", " : "", http_routes[i].method);
	}
	if (path_known) {
		r->early_status = MHD_HTTP_METHOD_NOT_ALLOWED;
		snprintf(r->early_msg, sizeof(r->early_msg),
			 "method %s is not allowed on '%s' (allowed: %s)",
			 method, url, allow);
	} else {
		r->early_status = MHD_HTTP_NOT_FOUND;
		snprintf(r->early_msg, sizeof(r->early_msg),
			 "no such route: %s %s (see docs/api.md)", method, url);
	}
}

/* The media type without parameters, lowercase, into buf. */
static void http_media_type(const char *ctype, char *buf, size_t len)
{
	size_t n = strcspn(ctype, ";");

	while (n > 0 && (ctype[n - 1] == ' ' || ctype[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] =
		    (char)((ctype[i] >= 'A' && ctype[i] <= 'Z') ? ctype[i] + 32
								: ctype[i]);
	buf[n] = '\0';
}

/* Header-time checks of the body: content type, declared length. */
static void http_check_body(struct http_req *r)
{
	const char *ctype = MHD_lookup_connection_value(
	    r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *clen = MHD_lookup_connection_value(
	    r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long declared = clen ? strtoull(clen, NULL, 10) : 0;
	char mt[64];

	if (r->route->body == BODY_NONE || ctype == NULL)
		goto length;
	http_media_type(ctype, mt, sizeof(mt));
	if (r->route->body == BODY_JSON &&
	    strcmp(mt, "application/json") != 0) {
		r->early_status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
		snprintf(r->early_msg, sizeof(r->early_msg),
			 "content type '%.100s' is not accepted here: send "
			 "application/json",
			 mt);
		return;
	}
	if (r->route->body == BODY_UPLOAD &&
	    strcmp(mt, "application/x-tar") != 0 &&
	    strcmp(mt, "application/octet-stream") != 0) {
		r->early_status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
		snprintf(r->early_msg, sizeof(r->early_msg),
			 "content type '%.100s' is not accepted here: send "
			 "an image archive as application/x-tar",
			 mt);
		return;
	}
length:
	if (r->route->body == BODY_JSON && declared > KILND_JSON_BODY_MAX) {
		r->early_status = MHD_HTTP_CONTENT_TOO_LARGE;
		snprintf(r->early_msg, sizeof(r->early_msg),
			 "request body of %llu bytes is too large (at most "
			 "%d bytes of JSON)",
			 declared, KILND_JSON_BODY_MAX);
	} else if (r->route->body == BODY_UPLOAD && declared > kd.upload_max) {
		r->early_status = MHD_HTTP_CONTENT_TOO_LARGE;
		snprintf(r->early_msg, sizeof(r->early_msg),
			 "upload of %llu bytes is too large (at most %llu "
			 "bytes; see kilnd --max-upload)",
			 declared, (unsigned long long)kd.upload_max);
	}
}

/* Takes one piece of the body. */
static void http_body_chunk(struct http_req *r, const char *data, size_t n)
{
	if (r->early_status != 0)
		return; /* read and dropped */
	if (r->route->body == BODY_JSON) {
		if (r->body_len + n > KILND_JSON_BODY_MAX) {
			r->early_status = MHD_HTTP_CONTENT_TOO_LARGE;
			snprintf(r->early_msg, sizeof(r->early_msg),
				 "request body is too large (at most %d "
				 "bytes of JSON)",
				 KILND_JSON_BODY_MAX);
			return;
		}
		if (r->body_len + n + 1 > r->body_cap) {
			size_t cap = (r->body_len + n + 1) * 2;
			char *b = realloc(r->body, cap);
			if (b == NULL) {
				r->early_status =
				    MHD_HTTP_INTERNAL_SERVER_ERROR;
				snprintf(r->early_msg, sizeof(r->early_msg),
					 "out of memory");
				return;
			}
			r->body = b;
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, data, n);
		r->body_len += n;
		r->body[r->body_len] = '\0';
	} else if (r->route->body == BODY_UPLOAD) {
		if (r->upload_len + n > kd.upload_max) {
			r->early_status = MHD_HTTP_CONTENT_TOO_LARGE;
			snprintf(r->early_msg, sizeof(r->early_msg),
				 "upload is too large (at most %llu bytes; "
				 "see kilnd --max-upload)",
				 (unsigned long long)kd.upload_max);
			return;
		}
		if (r->upload_errno != 0)
			return;
		while (n > 0) {
			ssize_t w = write(r->upload_fd, data, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r->upload_errno = w < 0 ? errno : EIO;
				return;
			}
			data += w;
			n -= (size_t)w;
			r->upload_len += (uint64_t)w;
		}
	}
}

/* The body is complete: parse or check it; 0 when the handler may run. */
static int http_body_done(struct http_req *r)
{
	if (r->early_status != 0)
		return -1;
	if (r->route->body == BODY_JSON) {
		json_error_t je;

		if (r->body_len == 0) {
			r->json = json_object();
			return 0;
		}
		r->json = json_loadb(r->body, r->body_len, 0, &je);
		if (r->json == NULL) {
			r->early_status = MHD_HTTP_BAD_REQUEST;
			snprintf(r->early_msg, sizeof(r->early_msg),
				 "malformed JSON in the request body: %s "
				 "(line %d, column %d)",
				 je.text, je.line, je.column);
			return -1;
		}
		if (!json_is_object(r->json)) {
			r->early_status = MHD_HTTP_BAD_REQUEST;
			snprintf(r->early_msg, sizeof(r->early_msg),
				 "the request body must be a JSON object");
			return -1;
		}
	} else if (r->route->body == BODY_UPLOAD && r->upload_errno != 0) {
		int e = r->upload_errno;
		r->early_status = (e == ENOSPC || e == EDQUOT)
				      ? MHD_HTTP_INSUFFICIENT_STORAGE
				      : MHD_HTTP_INTERNAL_SERVER_ERROR;
		snprintf(r->early_msg, sizeof(r->early_msg),
			 "cannot store the upload in '%.150s/tmp': %s%s",
			 kd.state_dir, strerror(e),
			 e == ENOSPC ? " (free some space, e.g. 'kiln rmi')"
				     : "");
		return -1;
	}
	return 0;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	struct http_req *r = *con_cls;

	if (r == NULL) {
		struct http_req_full *f = calloc(1, sizeof(*f));
		if (f == NULL)
			return MHD_NO;
		r = &f->r;
		r->conn = conn;
		r->method = method;
		r->upload_fd = -1;
		http_route(r, url, method);
		if (r->route != NULL)
			http_check_body(r);
		if (r->route != NULL && r->early_status == 0 &&
		    r->route->body == BODY_UPLOAD) {
			char dir[PATH_MAX + 8];

			snprintf(dir, sizeof(dir), "%s/tmp", kd.state_dir);
			r->upload_fd = util_temp_fd(dir, "upload");
			if (r->upload_fd < 0)
				r->upload_errno = errno;
		}
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (r->route != NULL)
			http_body_chunk(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->route == NULL || http_body_done(r) < 0)
		return http_reply_error(r, (unsigned)r->early_status, "%s",
					r->early_msg);
	if (r->upload_fd >= 0)
		lseek(r->upload_fd, 0, SEEK_SET);
	return r->route->fn(r);
}

static void http_completed(void *cls, struct MHD_Connection *conn,
			   void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_req_full *f = *con_cls;

	if (f == NULL)
		return;
	for (int i = 0; i < HTTP_PARAMS_MAX; i++)
		free(f->r.param[i]);
	for (size_t i = 0; i < f->nquery; i++)
		free(f->query[i]);
	if (f->r.upload_fd >= 0)
		close(f->r.upload_fd);
	free(f->r.body);
	if (f->r.json != NULL)
		json_decref(f->r.json);
	free(f);
	*con_cls = NULL;
}

static void http_logger(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	kilnd_debug("libmicrohttpd: %s", buf);
}

int http_start(int listen_fd, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ERROR_LOG;

	http_daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, http_access, NULL, MHD_OPTION_EXTERNAL_LOGGER,
	    http_logger, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, http_no_unescape, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300, MHD_OPTION_END);
	if (http_daemon == NULL)
		return util_err(err, errlen, "cannot start the HTTP server");
	return 0;
}

void http_stop(void)
{
	if (http_daemon != NULL)
		MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
}

const char *http_query(struct http_req *r, const char *key)
{
	struct http_req_full *f = (struct http_req_full *)r;
	const char *v =
	    MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	char *copy;

	if (v == NULL || f->nquery >= HTTP_QUERY_MAX)
		return NULL;
	copy = strdup(v);
	if (copy == NULL || http_decode(copy, 1) < 0) {
		free(copy);
		return NULL;
	}
	f->query[f->nquery++] = copy;
	return copy;
}

int http_query_bool(struct http_req *r, const char *key, int *out)
{
	const char *v = http_query(r, key);

	*out = 0;
	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "no") == 0)
		return 0;
	if (v[0] == '\0' || strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "yes") == 0) {
		*out = 1;
		return 0;
	}
	http_reply_error(r, MHD_HTTP_BAD_REQUEST,
			 "invalid value '%s' for '%s' (use 1 or 0)", v, key);
	return -1;
}

static enum MHD_Result http_queue(struct http_req *r, unsigned status,
				  struct MHD_Response *resp, const char *ctype)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	if (ctype != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					ctype);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	kilnd_debug("%s %s -> %u", r->method,
		    r->route ? r->route->pattern : "?", status);
	return ret;
}

enum MHD_Result http_reply_json(struct http_req *r, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	char *body;
	size_t len;

	if (j != NULL)
		json_decref(j);
	if (text == NULL)
		return MHD_NO;
	len = strlen(text);
	body = realloc(text, len + 2);
	if (body == NULL) {
		free(text);
		return MHD_NO;
	}
	body[len] = '\n';
	body[len + 1] = '\0';
	return http_queue(r, status,
			  MHD_create_response_from_buffer(
			      len + 1, body, MHD_RESPMEM_MUST_FREE),
			  "application/json");
}

enum MHD_Result http_reply_error(struct http_req *r, unsigned status,
				 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status >= 500)
		kilnd_log("%s %s: %u %s", r->method,
			  r->route ? r->route->pattern : "?", status, msg);
	return http_reply_json(r, status, json_pack("{s:s}", "message", msg));
}

enum MHD_Result http_reply_empty(struct http_req *r, unsigned status)
{
	return http_queue(
	    r, status,
	    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT),
	    NULL);
}

enum MHD_Result http_reply_stream(struct http_req *r, const char *ctype,
				  MHD_ContentReaderCallback cb, void *cls,
				  MHD_ContentReaderFreeCallback free_cb)
{
	return http_queue(r, MHD_HTTP_OK,
			  MHD_create_response_from_callback(
			      MHD_SIZE_UNKNOWN, 65536, cb, cls, free_cb),
			  ctype);
}

enum MHD_Result http_reply_fd(struct http_req *r, const char *ctype, int fd,
			      uint64_t size)
{
	return http_queue(r, MHD_HTTP_OK,
			  MHD_create_response_from_fd64(size, fd), ctype);
}

int http_client_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd p;

	if (ci == NULL)
		return 0;
	p.fd = ci->connect_fd;
	p.events = POLLRDHUP;
	p.revents = 0;
	return poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}
