/*
 * IPv4 address management for kilnd's networks: pure arithmetic on
 * subnets, no I/O.  A network's subnet is written "10.88.0.0/16"; its
 * first host address is the gateway (the bridge's own address) and
 * instances get the lowest addresses not in use after it, never the
 * network or broadcast address.  Addresses are uint32_t in host byte
 * order.  Nothing here prints or exits.
 */
#ifndef KILN_IPAM_H
#define KILN_IPAM_H

#include <stddef.h>
#include <stdint.h>

#define IPAM_PREFIX_MIN 8
#define IPAM_PREFIX_MAX 30 /* a /30 holds the gateway and one instance */

struct ipam_subnet {
	uint32_t net; /* host bits all zero */
	int prefix;   /* IPAM_PREFIX_MIN..IPAM_PREFIX_MAX */
};

/*
 * Parses "10.88.0.0/16".  Refuses host bits set ("subnet '10.88.0.1/16'
 * has host bits set (use 10.88.0.0/16)"), a prefix outside 8..30, and
 * addresses no bridge may use (0.0.0.0/8, loopback, link-local,
 * multicast, reserved).  0, or -1 with err quoting s.
 */
int ipam_subnet_parse(const char *s, struct ipam_subnet *out, char *err,
		      size_t errlen);

/* Parses a dotted IPv4 address; 0 or -1 (no message: callers quote). */
int ipam_addr_parse(const char *s, uint32_t *out);

/* Dotted text of addr into buf (at least 16 bytes). */
void ipam_addr_format(uint32_t addr, char *buf, size_t buflen);
/* "10.88.0.0/16" into buf (at least 19 bytes). */
void ipam_subnet_format(const struct ipam_subnet *s, char *buf, size_t buflen);

uint32_t ipam_mask(int prefix);
uint32_t ipam_gateway(const struct ipam_subnet *s);   /* net + 1 */
uint32_t ipam_broadcast(const struct ipam_subnet *s); /* last address */
/* Addresses instances can get: all but network, gateway and broadcast. */
uint32_t ipam_capacity(const struct ipam_subnet *s);
/* 1 if addr lies in s (network and broadcast included). */
int ipam_contains(const struct ipam_subnet *s, uint32_t addr);
/* 1 if a and b share any address. */
int ipam_overlaps(const struct ipam_subnet *a, const struct ipam_subnet *b);

/*
 * The lowest address of s after the gateway that is not in used[0..n)
 * (in any order; addresses outside s and the gateway are ignored) and is
 * not the broadcast address, into *out.  -1 with err when every address
 * is taken: "network 'NAME' has no free address (10.89.0.0/30: 1 host)".
 */
int ipam_alloc(const struct ipam_subnet *s, const char *name,
	       const uint32_t *used, size_t n, uint32_t *out, char *err,
	       size_t errlen);

#endif /* KILN_IPAM_H */
