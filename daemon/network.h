/*
 * kilnd's networks: named bridges with an IPv4 subnet each, an address, a
 * MAC and a tap per instance.  State lives in two tables of the daemon's
 * SQLite database (networks, leases; created by network_db_init); the host
 * side (bridges, addresses, taps) is made with netlink (lib/hostnet.h) in
 * the daemon's network namespace.
 *
 * Every function here is safe to call from several threads at once: one
 * mutex in network.c covers each call's netlink work and its database
 * transaction (a SAVEPOINT).  The sqlite3 handle must be opened in
 * serialized mode (SQLITE_OPEN_FULLMUTEX).  Best give these functions a
 * connection of their own (a second sqlite3_open_v2 of kiln.db, with a
 * busy timeout; WAL lets both connections work): on a connection shared
 * with other threads, statements those threads run while a SAVEPOINT
 * here is open become part of it, and are undone with it if the call
 * fails.  Errors come back in err (lowercase, quoting the object, no
 * final period); nothing here prints or exits.
 *
 * On failure errno also says what kind of failure it was, for the HTTP
 * status: EINVAL bad input (400), ENOENT no such network (404), EEXIST
 * a name or subnet taken or the instance leased elsewhere (409), EBUSY a
 * network in use (409), EPERM removing kiln0 (409), ENOSPC no free
 * address or subnet (409 or 507, the daemon's choice), EIO the database
 * or the host failed (500).
 *
 * The default network "kiln0" (bridge kiln0, 10.88.0.0/16, gateway
 * 10.88.0.1) always exists and cannot be removed.  Other networks get a
 * bridge "kiln-<name>" (cut to 15 characters, made unique).  An instance's
 * tap is "kt" + the first 12 hex characters of its id; its MAC is
 * 52:54:00 + 3 bytes derived from the id, unique within its network.
 */
#ifndef KILN_DAEMON_NETWORK_H
#define KILN_DAEMON_NETWORK_H

#include <stddef.h>

struct sqlite3;

#define NETWORK_DEFAULT	       "kiln0"
#define NETWORK_DEFAULT_SUBNET "10.88.0.0/16"
#define NETWORK_NAME_MAX       63 /* characters of a network name */

/*
 * Creates DNET's tables if missing, and the default network "kiln0"
 * (bridge kiln0, 10.88.0.0/16, gateway 10.88.0.1) record.  Touches no
 * interface (network_restore does).  0, or -1 with err.
 */
int network_db_init(struct sqlite3 *db, char *err, size_t errlen);

/*
 * Makes every recorded network's bridge exist, carry its gateway address
 * and be up (after a daemon restart, a reboot, or someone deleting a
 * bridge by hand); existing ones are left as they are.  Taps of leases
 * that still exist (instances that kept running while the daemon was
 * away) are put back on their bridge.  Call once at daemon start, after
 * network_db_init.  0, or -1 with err naming the first network that could
 * not be restored (the others are still tried).
 */
int network_restore(struct sqlite3 *db, char *err, size_t errlen);

/*
 * Creates network name ([a-z0-9][a-z0-9_.-]*, at most NETWORK_NAME_MAX
 * characters) on subnet ("10.89.0.0/24"; prefix 8 to 30, no host bits
 * set, not overlapping another network), or on the first free
 * 10.89.N.0/24 when subnet is NULL.  Creates its bridge with the gateway
 * (the subnet's first host) and brings it up, then records it.  -1 with
 * err when the name is taken ("network 'x' already exists"), invalid, or
 * the subnet is bad or overlaps; nothing is left behind on failure.
 */
int network_create(struct sqlite3 *db, const char *name, const char *subnet,
		   char *err, size_t errlen);

/*
 * Deletes network name and its bridge.  Refuses "kiln0", unknown names,
 * and networks that still hold leases ("network 'x' is in use by 2
 * instances": stopped instances keep theirs until removed).  0 or -1.
 */
int network_remove(struct sqlite3 *db, const char *name, char *err,
		   size_t errlen);

/*
 * The networks as compact JSON text, sorted by name; the caller frees it
 * (free()).  NULL on a database error or when out of memory.
 *   [{"bridge":"kiln0","created":"2026-11-25T10:00:00Z","gateway":
 *     "10.88.0.1","instances":3,"name":"kiln0","subnet":"10.88.0.0/16"}]
 * "instances" counts leases (running and stopped instances alike).
 */
char *network_list_json(struct sqlite3 *db);

/*
 * One instance's place on a network: what the daemon passes to the
 * monitor (--net TAP --mac MAC) and the guest (kiln.ip=IP/PREFIX
 * kiln.gw=GATEWAY).
 */
struct network_lease {
	char network[NETWORK_NAME_MAX + 1];
	char tap[16];	  /* "kt0123456789ab" */
	char ip[16];	  /* "10.88.0.2" */
	int prefix;	  /* 16 */
	char gateway[16]; /* "10.88.0.1" */
	char mac[18];	  /* "52:54:00:12:34:56" */
};

/*
 * Allocates the lowest free address in network (NULL or "" means "kiln0")
 * for instance_id, or takes the address it already holds: a restarted
 * instance keeps its address and MAC.  Creates the instance's persistent
 * tap if it is missing (a tap kiln-vmm and QEMU can open: IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR), puts it on the network's bridge (creating
 * the bridge if someone deleted it) and brings it up; fills lease.
 * instance_id: any non-empty string up to 128 bytes; the tap is "kt" +
 * its first 12 characters when they are lowercase hex (kilnd's ids), else
 * "kt" + 12 hex digits of a hash of it.  -1 with err: unknown
 * network ("no such network 'x' (see 'kiln network ls')"), no free
 * address ("network 'x' has no free address (10.89.0.0/30: 1 host)"),
 * the instance already leased on another network, or a netlink failure
 * (nothing new is left behind then).
 */
int network_attach(struct sqlite3 *db, const char *network,
		   const char *instance_id, struct network_lease *lease,
		   char *err, size_t errlen);

/*
 * Deletes the instance's tap (after its monitor is gone: a held tap
 * vanishes only when the monitor closes it).  With release, frees its
 * address and MAC too (kiln rm); without, keeps them for the next
 * network_attach (kiln stop).  An instance without a lease is not an
 * error.  0, or -1 with err.
 */
int network_detach(struct sqlite3 *db, const char *instance_id, int release,
		   char *err, size_t errlen);

/*
 * The lease an instance holds, if any, without touching the host (for
 * kiln ps / inspect of stopped instances).  1 and lease filled when
 * there is one, 0 when none, -1 with err on a database error.
 */
int network_lease_get(struct sqlite3 *db, const char *instance_id,
		      struct network_lease *lease, char *err, size_t errlen);

#endif /* KILN_DAEMON_NETWORK_H */
