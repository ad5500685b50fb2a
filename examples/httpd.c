/*
 * httpd: a small static-file HTTP/1.1 server, the web server of kiln's
 * examples.  One thread, non-blocking sockets, epoll (level-triggered):
 * keep-alive, GET and HEAD, Content-Length and Content-Type, 404/403/405/
 * 400/414 answers, index.html for directories, files of any size streamed
 * in chunks under EPOLLOUT.  One line per request on stdout:
 *   GET /index.html 200 612
 *
 * Usage: httpd [-q] [-p PORT] [-a ADDRESS] [-r ROOT]   (defaults 8080,
 * 0.0.0.0, /srv); -q leaves out the per-request lines (bench/net_nested.sh
 * measures the network, not a console).
 *
 * It is an ordinary Linux program: it runs on the host as well as inside
 * kiln, which is how its behaviour is checked.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONNS  1024
#define REQ_MAX	   8192	       /* request head bytes */
#define CHUNK	   (64 * 1024) /* file bytes per write */
#define MAX_EVENTS 64

struct conn {
	int fd;
	char req[REQ_MAX + 1];
	size_t req_len;
	char head[1024]; /* response head, sent before the body */
	size_t head_len, head_off;
	int file; /* body source, -1 when none */
	off_t file_left;
	char buf[CHUNK];
	size_t buf_len, buf_off;
	int keep_alive;
	int active;
};

static struct conn conns[MAX_CONNS];
static const char *root = "/srv";
static int quiet;
static int epfd;

static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css"},
    {".js", "application/javascript"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".svg", "image/svg+xml"},
    {".ico", "image/x-icon"},
    {".wasm", "application/wasm"},
    {".pdf", "application/pdf"},
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static void conn_close(struct conn *c)
{
	if (c->file >= 0)
		close(c->file);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->active = 0;
}

static void set_events(struct conn *c, unsigned ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
}

/* Prepares a response with a small generated body. */
static void respond_text(struct conn *c, int status, const char *reason,
			 const char *method, const char *path, int head_only)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);
	c->head_len = (size_t)snprintf(
	    c->head, sizeof(c->head),
	    "HTTP/1.1 %d %s\r\nServer: kiln-httpd\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %d\r\nConnection: %s\r\n\r\n%s",
	    status, reason, n, c->keep_alive ? "keep-alive" : "close",
	    head_only ? "" : body);
	c->head_off = 0;
	if (!quiet)
		printf("%s %s %d %d\n", method, path, status,
		       head_only ? 0 : n);
}

/* Decodes %XX in place; -1 on a bad escape or an encoded NUL. */
static int url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%') {
			unsigned v;
			if (sscanf(s + 1, "%2x", &v) != 1 || v == 0 || !s[1] ||
			    !s[2])
				return -1;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
	return 0;
}

/* True when a segment of the path is "..": no escaping the root. */
static int has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == 0))
			return 1;
	return 0;
}

/* Parses one complete request head in c->req and sets up the response. */
static void handle_request(struct conn *c, char *end)
{
	char method[16], target[2048], version[16];
	*end = 0;
	if (sscanf(c->req, "%15s %2047s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		c->keep_alive = 0;
		respond_text(c, 400, "Bad Request", "?", "?", 0);
		return;
	}
	/* HTTP/1.1 keeps the connection unless told otherwise; 1.0 closes
	 * unless asked to keep it. */
	int v11 = strcmp(version, "HTTP/1.0") != 0;
	const char *connh = strcasestr(c->req, "\nconnection:");
	int close_req =
	    connh &&
	    strncasecmp(connh + 12 + strspn(connh + 12, " "), "close", 5) == 0;
	int keep_req =
	    connh && strncasecmp(connh + 12 + strspn(connh + 12, " "),
				 "keep-alive", 10) == 0;
	c->keep_alive = v11 ? !close_req : keep_req;

	int head_only = strcmp(method, "HEAD") == 0;
	if (!head_only && strcmp(method, "GET") != 0) {
		respond_text(c, 405, "Method Not Allowed", method, target, 0);
		return;
	}
	char *q = strchr(target, '?');
	if (q)
		*q = 0;
	char shown[2048];
	snprintf(shown, sizeof(shown), "%s", target);
	if (target[0] != '/' || url_decode(target) < 0 || has_dotdot(target)) {
		respond_text(c, 400, "Bad Request", method, shown, head_only);
		return;
	}
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s%s", root, target);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t len = strlen(path);
		snprintf(path + len, sizeof(path) - len, "%sindex.html",
			 path[len - 1] == '/' ? "" : "/");
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == EACCES)
			respond_text(c, 403, "Forbidden", method, shown,
				     head_only);
		else
			respond_text(c, 404, "Not Found", method, shown,
				     head_only);
		return;
	}
	c->head_len = (size_t)snprintf(
	    c->head, sizeof(c->head),
	    "HTTP/1.1 200 OK\r\nServer: kiln-httpd\r\nContent-Type: %s\r\n"
	    "Content-Length: %lld\r\nConnection: %s\r\n\r\n",
	    content_type(path), (long long)st.st_size,
	    c->keep_alive ? "keep-alive" : "close");
	c->head_off = 0;
	if (head_only || st.st_size == 0) {
		close(fd);
	} else {
		c->file = fd;
		c->file_left = st.st_size;
	}
	if (!quiet)
		printf("%s %s 200 %lld\n", method, shown,
		       head_only ? 0LL : (long long)st.st_size);
}

/* Sends what is pending; 1 when the response is complete, 0 when the
 * socket is full, -1 on error. */
static int flush_response(struct conn *c)
{
	while (c->head_off < c->head_len) {
		ssize_t n = send(c->fd, c->head + c->head_off,
				 c->head_len - c->head_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->head_off += (size_t)n;
	}
	while (c->file >= 0) {
		if (c->buf_off == c->buf_len) {
			ssize_t r =
			    read(c->file, c->buf,
				 c->file_left < CHUNK ? (size_t)c->file_left
						      : CHUNK);
			if (r <= 0)
				return -1; /* the file shrank under us */
			c->buf_len = (size_t)r;
			c->buf_off = 0;
			c->file_left -= r;
		}
		ssize_t n = send(c->fd, c->buf + c->buf_off,
				 c->buf_len - c->buf_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->buf_off += (size_t)n;
		if (c->buf_off == c->buf_len && c->file_left == 0) {
			close(c->file);
			c->file = -1;
			c->buf_len = c->buf_off = 0;
		}
	}
	return 1;
}

/* Serves every complete request in the buffer (pipelining). */
static void conn_progress(struct conn *c)
{
	for (;;) {
		if (c->head_off < c->head_len || c->file >= 0) {
			int r = flush_response(c);
			if (r < 0) {
				conn_close(c);
				return;
			}
			if (r == 0) {
				set_events(c, EPOLLOUT);
				return;
			}
			if (!c->keep_alive) {
				conn_close(c);
				return;
			}
		}
		char *end = memmem(c->req, c->req_len, "\r\n\r\n", 4);
		if (!end) {
			if (c->req_len == REQ_MAX) {
				c->keep_alive = 0;
				c->req_len = 0;
				respond_text(c, 414, "Request Too Large", "?",
					     "?", 0);
				continue;
			}
			set_events(c, EPOLLIN);
			return;
		}
		size_t used = (size_t)(end - c->req) + 4;
		handle_request(c, end);
		memmove(c->req, c->req + used, c->req_len - used);
		c->req_len -= used;
	}
}

static void conn_read(struct conn *c)
{
	for (;;) {
		if (c->req_len == REQ_MAX)
			break;
		ssize_t n =
		    recv(c->fd, c->req + c->req_len, REQ_MAX - c->req_len, 0);
		if (n == 0) {
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			conn_close(c);
			return;
		}
		c->req_len += (size_t)n;
	}
	conn_progress(c);
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				perror("httpd: accept");
			return;
		}
		struct conn *c = NULL;
		for (int i = 0; i < MAX_CONNS; i++)
			if (!conns[i].active) {
				c = &conns[i];
				break;
			}
		if (!c) {
			close(fd); /* full: the client retries */
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(c, 0, offsetof(struct conn, buf));
		c->fd = fd;
		c->file = -1;
		c->buf_len = c->buf_off = 0; /* after buf: not cleared above */
		c->active = 1;
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			c->active = 0;
		}
	}
}

int main(int argc, char **argv)
{
	const char *addr = "0.0.0.0";
	int port = 8080, opt;
	while ((opt = getopt(argc, argv, "qp:a:r:h")) != -1) {
		switch (opt) {
		case 'q':
			quiet = 1;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'a':
			addr = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: httpd [-q] [-p PORT] [-a ADDRESS] "
				"[-r ROOT]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "httpd: invalid port '%d'\n", port);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "httpd: invalid address '%s'\n", addr);
		return 2;
	}
	int lfd =
	    socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 512) < 0) {
		fprintf(stderr, "httpd: cannot listen on %s:%d: %s\n", addr,
			port, strerror(errno));
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &le) < 0) {
		perror("httpd: epoll");
		return 1;
	}
	printf("httpd: serving %s on %s:%d\n", root, addr, port);

	struct epoll_event ev[MAX_EVENTS];
	for (;;) {
		int n = epoll_wait(epfd, ev, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("httpd: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			if (!c) {
				accept_all(lfd);
				continue;
			}
			if (!c->active)
				continue;
			if (ev[i].events & (EPOLLERR | EPOLLHUP)) {
				conn_close(c);
			} else if (ev[i].events & EPOLLIN) {
				conn_read(c);
			} else if (ev[i].events & EPOLLOUT) {
				conn_progress(c);
			}
		}
	}
}
