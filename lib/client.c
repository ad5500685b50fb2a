/*
 * kilnd's client side (see client.h): default paths, and one request at
 * a time over the unix socket with libcurl.  A streamed answer goes to
 * the caller's sink only when its status is 2xx; an error answer is
 * always collected so that the caller can show its message.
 */
#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int client_put(char *out, size_t outlen, const char *fmt, const char *a,
		      const char *b)
{
	int n = snprintf(out, outlen, fmt, a, b);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int client_default_state(char *out, size_t outlen)
{
	const char *env = getenv("KILN_STATE"), *xdg, *home;

	if (env != NULL && env[0] != '\0')
		return client_put(out, outlen, "%s%s", env, "");
	if (geteuid() == 0)
		return client_put(out, outlen, "%s%s", "/var/lib/kiln", "");
	xdg = getenv("XDG_DATA_HOME");
	if (xdg != NULL && xdg[0] == '/')
		return client_put(out, outlen, "%s%s", xdg, "/kiln");
	home = getenv("HOME");
	if (home == NULL || home[0] != '/')
		return -1;
	return client_put(out, outlen, "%s%s", home, "/.local/share/kiln");
}

int client_host_path(const char *host, char *out, size_t outlen)
{
	if (strncmp(host, "unix://", 7) == 0)
		host += 7;
	return client_put(out, outlen, "%s%s", host, "");
}

int client_default_host(char *out, size_t outlen)
{
	const char *env = getenv("KILN_HOST"), *run;
	char uid[32];

	if (env != NULL && env[0] != '\0')
		return client_host_path(env, out, outlen);
	if (geteuid() == 0)
		return client_put(out, outlen, "%s%s", "/run/kiln/kilnd.sock",
				  "");
	run = getenv("XDG_RUNTIME_DIR");
	if (run == NULL || run[0] != '/')
		run = "/tmp";
	snprintf(uid, sizeof(uid), "/kiln-%u/kilnd.sock", (unsigned)geteuid());
	return client_put(out, outlen, "%s%s", run, uid);
}

void client_call_init(struct client_call *c, const char *method,
		      const char *path)
{
	memset(c, 0, sizeof(*c));
	c->method = method;
	c->path = path;
	c->body_fd = -1;
}

void client_call_release(struct client_call *c)
{
	free(c->resp);
	c->resp = NULL;
	c->resp_len = 0;
}

struct client_state {
	struct client_call *c;
	CURL *curl;
	int stopped; /* the sink asked to stop */
	int oom;
};

static size_t client_collect(struct client_state *s, const char *data, size_t n)
{
	char *r = realloc(s->c->resp, s->c->resp_len + n + 1);

	if (r == NULL) {
		s->oom = 1;
		return 0;
	}
	memcpy(r + s->c->resp_len, data, n);
	s->c->resp = r;
	s->c->resp_len += n;
	r[s->c->resp_len] = '\0';
	return n;
}

static int client_progress(void *cls, curl_off_t dltotal, curl_off_t dlnow,
			   curl_off_t ultotal, curl_off_t ulnow)
{
	struct client_state *s = cls;

	if (s->c->cancel != NULL && *s->c->cancel) {
		s->stopped = 1;
		return 1;
	}
	return 0;
}

static size_t client_write(char *data, size_t size, size_t nmemb, void *cls)
{
	struct client_state *s = cls;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (s->c->sink == NULL || status < 200 || status >= 300)
		return client_collect(s, data, n);
	if (s->c->sink(data, n, s->c->sink_cls) != n) {
		s->stopped = 1;
		return 0;
	}
	return n;
}

static size_t client_read(char *buf, size_t size, size_t nmemb, void *cls)
{
	struct client_state *s = cls;
	ssize_t n;

	do
		n = read(s->c->body_fd, buf, size * nmemb);
	while (n < 0 && errno == EINTR);
	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

int client_call(const char *host, struct client_call *c, char *err,
		size_t errlen)
{
	static int global_done;
	struct client_state s = {.c = c};
	struct curl_slist *hdrs = NULL;
	char url[4096], ctype[128], cerr[CURL_ERROR_SIZE] = "";
	struct stat st;
	CURLcode rc;
	int ret = -1;

	c->status = 0;
	c->unreachable = 0;
	if (!global_done) {
		curl_global_init(CURL_GLOBAL_NOTHING);
		global_done = 1;
	}
	s.curl = curl_easy_init();
	if (s.curl == NULL)
		return util_err(err, errlen, "cannot initialize libcurl");
	snprintf(url, sizeof(url), "http://kilnd%s", c->path);
	curl_easy_setopt(s.curl, CURLOPT_URL, url);
	curl_easy_setopt(s.curl, CURLOPT_UNIX_SOCKET_PATH, host);
	curl_easy_setopt(s.curl, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(s.curl, CURLOPT_WRITEFUNCTION, client_write);
	curl_easy_setopt(s.curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(s.curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(s.curl, CURLOPT_NOSIGNAL, 1L);
	if (c->cancel != NULL) {
		curl_easy_setopt(s.curl, CURLOPT_XFERINFOFUNCTION,
				 client_progress);
		curl_easy_setopt(s.curl, CURLOPT_XFERINFODATA, &s);
		curl_easy_setopt(s.curl, CURLOPT_NOPROGRESS, 0L);
	}
	if (c->content_type != NULL) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 c->content_type);
		hdrs = curl_slist_append(hdrs, ctype);
	}
	if (c->body != NULL) {
		curl_easy_setopt(s.curl, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(s.curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)c->body_len);
	} else if (c->body_fd >= 0) {
		curl_easy_setopt(s.curl, CURLOPT_POST, 1L);
		curl_easy_setopt(s.curl, CURLOPT_READFUNCTION, client_read);
		curl_easy_setopt(s.curl, CURLOPT_READDATA, &s);
		if (fstat(c->body_fd, &st) == 0 && S_ISREG(st.st_mode)) {
			off_t pos = lseek(c->body_fd, 0, SEEK_CUR);
			curl_easy_setopt(
			    s.curl, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(st.st_size - (pos > 0 ? pos : 0)));
		} else {
			hdrs = curl_slist_append(hdrs,
						 "Transfer-Encoding: chunked");
		}
	}
	/* The whole body goes at once: the daemon answers after it anyway. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(s.curl, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(s.curl);
	curl_easy_getinfo(s.curl, CURLINFO_RESPONSE_CODE, &c->status);
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && s.stopped) ||
	    (rc == CURLE_ABORTED_BY_CALLBACK && s.stopped)) {
		ret = 0;
	} else if (s.oom) {
		util_err(err, errlen, "out of memory");
	} else if (rc == CURLE_COULDNT_CONNECT && c->status == 0) {
		c->unreachable = 1;
		util_err(err, errlen, "cannot connect to kilnd at '%s': %s",
			 host, cerr[0] ? cerr : curl_easy_strerror(rc));
	} else if (rc == CURLE_READ_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) {
		util_err(err, errlen, "cannot read the data to send: %s",
			 strerror(errno));
	} else {
		util_err(err, errlen, "request to kilnd at '%s' failed: %s",
			 host, cerr[0] ? cerr : curl_easy_strerror(rc));
	}
	/* An answer that arrived before a broken upload still counts. */
	if (ret < 0 && c->status >= 400 && c->resp != NULL)
		ret = 0;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(s.curl);
	return ret;
}

char *client_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~' || *p == ':') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
