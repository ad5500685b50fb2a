/*
 * The host side of kilnd's networks: Linux bridges, their addresses, and
 * persistent taps enslaved to them, made over rtnetlink (libnl-route-3)
 * and /dev/net/tun in the calling thread's network namespace.  Each call
 * opens and closes its own netlink socket, so calls are independent; the
 * caller serializes calls that must not interleave.
 *
 * Link with: pkg-config --libs libnl-route-3.0.  Nothing here prints or
 * exits: -1 comes back with err quoting the interface and the kernel's
 * reason ("cannot create bridge 'kiln0': operation not permitted").
 */
#ifndef KILN_HOSTNET_H
#define KILN_HOSTNET_H

#include <stddef.h>
#include <stdint.h>

/* What a link is, as rtnetlink's IFLA_INFO_KIND says. */
enum hostnet_kind {
	HOSTNET_NONE,	/* no such link */
	HOSTNET_BRIDGE, /* "bridge" */
	HOSTNET_TAP,	/* "tun" in tap mode */
	HOSTNET_OTHER,	/* anything else (a tun in tun mode included) */
};

/*
 * Creates bridge name (STP off, so ports forward at once) with a fixed
 * MAC address (mac, or one derived from the name when NULL) so the
 * bridge's address does not change as taps come and go.  An existing
 * bridge of that name is fine (0, left as it is); an existing link of
 * another kind is an error.
 */
int hostnet_bridge_create(const char *name, const uint8_t *mac, char *err,
			  size_t errlen);

/*
 * Creates tap name, persistent (it outlives this call and waits for a
 * monitor to open it), with the flags kiln-vmm's tap_open and QEMU use
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, single queue), owned by no user
 * in particular.  An existing tap of that name is fine (0); another kind
 * of link is an error.
 */
int hostnet_tap_create(const char *name, char *err, size_t errlen);

/* Deletes link name (bridge, tap, anything).  A missing link is fine. */
int hostnet_link_delete(const char *name, char *err, size_t errlen);

/* Sets IFF_UP on link name. */
int hostnet_link_up(const char *name, char *err, size_t errlen);

/* Makes link name a port of bridge master (no-op if it already is). */
int hostnet_link_set_master(const char *name, const char *master, char *err,
			    size_t errlen);

/* Adds addr/prefix (host byte order) with its broadcast address to link
 * name; an address already there is fine. */
int hostnet_addr_add(const char *name, uint32_t addr, int prefix, char *err,
		     size_t errlen);

/* What link name is (HOSTNET_NONE when it does not exist, or on a
 * netlink failure). */
enum hostnet_kind hostnet_link_kind(const char *name);

/* 1 if link name exists, else 0. */
int hostnet_link_exists(const char *name);

#endif /* KILN_HOSTNET_H */
