/*
 * Talking to kilnd: where its state and socket are by default, and HTTP
 * requests over the unix socket with libcurl (CURLOPT_UNIX_SOCKET_PATH),
 * bodies from memory or streamed from a file descriptor, answers
 * collected in memory or streamed to a callback (kiln logs -f, kiln
 * events, kiln save).  The API itself is docs/api.md.  Never prints,
 * never exits.
 */
#ifndef KILN_CLIENT_H
#define KILN_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The state directory when no --state is given: $KILN_STATE, else
 * /var/lib/kiln for root, else ${XDG_DATA_HOME:-$HOME/.local/share}/kiln.
 * 0, or -1 when out is too small or there is no home directory.
 */
int client_default_state(char *out, size_t outlen);

/*
 * The API socket when no --host/--socket is given: $KILN_HOST, else
 * /run/kiln/kilnd.sock for root, else
 * ${XDG_RUNTIME_DIR:-/tmp}/kiln-$UID/kilnd.sock.  A "unix://" prefix is
 * accepted and dropped.  0, or -1 when out is too small.
 */
int client_default_host(char *out, size_t outlen);
/* The same for a host given by the user (drops "unix://"). */
int client_host_path(const char *host, char *out, size_t outlen);

/* Called with each piece of a streamed answer; return n to go on, any
 * other value to stop (the call then ends without error). */
typedef size_t (*client_sink)(const char *data, size_t n, void *cls);

/* One request.  Fill the first part, call client_call, read the rest;
 * client_call_release frees the answer. */
struct client_call {
	const char *method; /* "GET", "POST", "DELETE" */
	const char *path;   /* "/v1/instances?all=1", already escaped */
	const char *body;   /* a body from memory (JSON), or NULL */
	size_t body_len;    /* of body */
	int body_fd;	    /* or a body streamed from this fd; -1: none */
	const char *content_type; /* of the body */
	client_sink sink;	  /* stream a 2xx answer here; NULL: collect */
	void *sink_cls;
	/* When not NULL and set (by a signal handler), the call ends within
	 * a second and client_call returns 0 with the answer so far. */
	volatile sig_atomic_t *cancel;
	/* Out. */
	long status;	 /* HTTP status */
	char *resp;	 /* the collected answer (NUL-terminated) or NULL */
	size_t resp_len; /* its length */
	int unreachable; /* nothing answers on the socket */
};

/* Initializes c for method and path (no body, no sink). */
void client_call_init(struct client_call *c, const char *method,
		      const char *path);
/*
 * Sends the request to the kilnd at socket path host.  0 when an answer
 * came (any status: see c->status), -1 with err when none did; then
 * c->unreachable says the socket is missing or refuses connections (no
 * daemon), as opposed to a failure in the middle of an exchange.
 */
int client_call(const char *host, struct client_call *c, char *err,
		size_t errlen);
void client_call_release(struct client_call *c);

/* %-escapes s for one path segment or query value (a new string, NULL
 * when out of memory): everything but A-Z a-z 0-9 - . _ ~ and ':'. */
char *client_escape(const char *s);

#endif /* KILN_CLIENT_H */
