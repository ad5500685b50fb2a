/*
 * Published ports (kiln run -p [ADDR:]HOST:GUEST[/tcp|/udp]): a userspace
 * L4 proxy inside kilnd, like docker-proxy, so 127.0.0.1 works without
 * route_localnet and nothing is written into the host's firewall.  A
 * proxy listens on one host address and port and forwards each TCP
 * connection (both directions, half-close kept) or each UDP client's
 * datagrams (one flow per client address, closed after
 * PROXY_UDP_IDLE_SECONDS of silence) to its backend, the instance's
 * address and the guest port.
 *
 * One thread (started by the first proxy_open) serves every proxy with
 * epoll; the functions below may be called from any thread.  The thread
 * blocks all signals, so the daemon's signal handling is unaffected, and
 * it lives in the network namespace of the thread that started it (kilnd
 * calls setns() before any proxy_open).  Nothing here prints or exits.
 */
#ifndef KILN_DAEMON_PROXY_H
#define KILN_DAEMON_PROXY_H

#include <stddef.h>
#include <stdint.h>

/* A UDP client's flow is forgotten after this much silence. */
#define PROXY_UDP_IDLE_SECONDS 60
/* A backend that neither accepts nor refuses within this is given up. */
#define PROXY_CONNECT_TIMEOUT_SECONDS 10

enum proxy_proto { PROXY_TCP, PROXY_UDP };

/* One published port, as the user wrote it, parsed. */
struct proxy_spec {
	char host_addr[16];  /* "0.0.0.0" (all addresses) when not given */
	uint16_t host_port;  /* 1..65535 */
	uint16_t guest_port; /* 1..65535 */
	enum proxy_proto proto;
};

/* One listening address and its connections (opaque). */
struct proxy;

/*
 * "127.0.0.1:8080:8080/tcp", "8080:80", "53:53/udp" -> *out.  The form is
 * [ADDR:]HOST:GUEST[/tcp|/udp]: ADDR an IPv4 address (default 0.0.0.0),
 * ports 1 to 65535, protocol tcp by default.  -1 with err quoting the
 * spec and saying what is wrong ("invalid port spec '8080:0': the guest
 * port must be a number from 1 to 65535"), errno EINVAL; *out is left
 * alone then.
 */
int proxy_spec_parse(const char *spec, struct proxy_spec *out, char *err,
		     size_t errlen);

/* The canonical text of a spec, "0.0.0.0:8080:80/tcp", into buf (at
 * least 40 bytes; what kilnd stores and shows). */
void proxy_spec_format(const struct proxy_spec *spec, char *buf, size_t buflen);

/*
 * Binds spec's host address and port now, so a port already in use is
 * reported synchronously ("cannot publish 127.0.0.1:8080: address already
 * in use"), then serves it from the proxy thread, forwarding to
 * backend_ip (IPv4 text) at spec's guest port.  The returned proxy
 * belongs to the caller until proxy_close.  NULL with err on failure, and
 * errno: EADDRINUSE when the port is taken (kilnd: 409), EADDRNOTAVAIL
 * for an address the host lacks, EACCES for a port below 1024 without
 * the right, EINVAL for a bad address; others from the system.
 */
struct proxy *proxy_open(const struct proxy_spec *spec, const char *backend_ip,
			 char *err, size_t errlen);

/*
 * Points new connections (and new UDP flows) at backend_ip; connections
 * already made stay where they are.  A string that is not an IPv4
 * address is ignored (proxy_open checked the first one).
 */
void proxy_set_backend(struct proxy *p, const char *backend_ip);

/*
 * Stops listening (the port is free again when this returns), closes
 * every connection and flow of p and frees it.  NULL is a no-op.
 */
void proxy_close(struct proxy *p);

/* Sets how long a silent UDP flow lives, for every proxy (default
 * PROXY_UDP_IDLE_SECONDS; tests shorten it).  0 is taken as 1. */
void proxy_udp_idle_set(unsigned seconds);

/* Open TCP connections plus live UDP flows of p (for tests and kiln
 * inspect). */
unsigned proxy_active(struct proxy *p);

#endif /* KILN_DAEMON_PROXY_H */
