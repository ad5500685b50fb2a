/*
 * kilnd's networks and leases (see network.h): the records in SQLite and
 * the interfaces they stand for, kept in step.
 *
 * The database is the truth and the host follows it.  A network row means
 * "this bridge should exist with this gateway address, up"; a lease row
 * means "this instance owns this address and MAC on that network, and its
 * tap is called so".  Bridges and taps can vanish behind our back (a
 * reboot, someone's `ip link del`), so every operation that needs one
 * makes it exist again instead of trusting it is there: network_restore
 * for all bridges at start, network_attach for its bridge and tap.
 *
 * Each public call takes network_lock, so its netlink work and its
 * database changes are one step for every other caller (kilnd serves
 * requests on several threads); the database part runs inside a SAVEPOINT,
 * which is a transaction of its own or nests in the caller's.  Host
 * changes are undone when the database part fails, and the other way
 * round, so a failed call leaves neither a tap without a lease nor a lease
 * whose tap could not be made.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostnet.h"
#include "ipam.h"
#include "network.h"
#include "util.h"

#define NETWORK_ID_MAX 128 /* bytes of an instance id */

static pthread_mutex_t network_lock = PTHREAD_MUTEX_INITIALIZER;

/* One network's row. */
struct network_row {
	char name[NETWORK_NAME_MAX + 1];
	char subnet[24];
	char bridge[IFNAMSIZ];
	char gateway[16];
	struct ipam_subnet sn;
};

static const char network_schema[] =
    "CREATE TABLE IF NOT EXISTS networks ("
    " name TEXT PRIMARY KEY,"
    " subnet TEXT NOT NULL,"
    " bridge TEXT NOT NULL UNIQUE,"
    " gateway TEXT NOT NULL,"
    " created TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS leases ("
    " instance_id TEXT PRIMARY KEY,"
    " network TEXT NOT NULL REFERENCES networks(name),"
    " ip TEXT NOT NULL,"
    " mac TEXT NOT NULL,"
    " tap TEXT NOT NULL UNIQUE,"
    " UNIQUE (network, ip),"
    " UNIQUE (network, mac));";

/* Database plumbing ---------------------------------------------------- */

static int network_dberr(sqlite3 *db, char *err, size_t errlen)
{
	return util_err(err, errlen, "network database: %s",
			sqlite3_errmsg(db));
}

static int network_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	util_err(err, errlen, "network database: %s",
		 msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/*
 * Prepares sql and binds the NULL-terminated text arguments that follow
 * to its ?1, ?2...  NULL with err on failure.
 */
static sqlite3_stmt *network_stmt(sqlite3 *db, char *err, size_t errlen,
				  const char *sql, ...)
{
	sqlite3_stmt *st = NULL;
	const char *arg;
	va_list ap;
	int i = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		network_dberr(db, err, errlen);
		return NULL;
	}
	va_start(ap, sql);
	while ((arg = va_arg(ap, const char *)) != NULL)
		if (sqlite3_bind_text(st, i++, arg, -1, SQLITE_TRANSIENT) !=
		    SQLITE_OK) {
			network_dberr(db, err, errlen);
			sqlite3_finalize(st);
			st = NULL;
			break;
		}
	va_end(ap);
	return st;
}

/* Runs a statement that returns no rows; 0 or -1 with err. */
static int network_step_done(sqlite3 *db, sqlite3_stmt *st, char *err,
			     size_t errlen)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		network_dberr(db, err, errlen);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static void network_copy(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

/* SAVEPOINT: a transaction, or a nested one inside the caller's. */
static int network_begin(sqlite3 *db, char *err, size_t errlen)
{
	return network_exec(db, "SAVEPOINT dnet", err, errlen);
}

static int network_commit(sqlite3 *db, char *err, size_t errlen)
{
	return network_exec(db, "RELEASE dnet", err, errlen);
}

static void network_rollback(sqlite3 *db)
{
	char ignored[8];

	network_exec(db, "ROLLBACK TO dnet", ignored, sizeof(ignored));
	network_exec(db, "RELEASE dnet", ignored, sizeof(ignored));
}

/* Looks up network name: 1 found, 0 not, -1 database error. */
static int network_find(sqlite3 *db, const char *name, struct network_row *r,
			char *err, size_t errlen)
{
	sqlite3_stmt *st =
	    network_stmt(db, err, errlen,
			 "SELECT name, subnet, bridge, gateway FROM networks "
			 "WHERE name = ?1",
			 name, NULL);
	int rc, found = 0;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		network_copy(r->name, sizeof(r->name), st, 0);
		network_copy(r->subnet, sizeof(r->subnet), st, 1);
		network_copy(r->bridge, sizeof(r->bridge), st, 2);
		network_copy(r->gateway, sizeof(r->gateway), st, 3);
		found = 1;
		if (ipam_subnet_parse(r->subnet, &r->sn, err, errlen) < 0)
			found = -1; /* someone edited the database */
	} else if (rc != SQLITE_DONE) {
		found = network_dberr(db, err, errlen);
	}
	sqlite3_finalize(st);
	return found;
}

/* Like network_find for a network that must exist: 0 found, else -1 with
 * the user's message in err and *why ENOENT when it does not exist. */
static int network_get(sqlite3 *db, const char *name, struct network_row *r,
		       int *why, char *err, size_t errlen)
{
	int t = network_find(db, name, r, err, errlen);

	if (t > 0)
		return 0;
	if (t == 0) {
		util_err(err, errlen,
			 "no such network '%s' (see 'kiln network ls')", name);
		*why = ENOENT;
	}
	return -1;
}

static int network_lease_read(sqlite3 *db, const char *instance_id,
			      struct network_lease *l, char *err, size_t errlen)
{
	sqlite3_stmt *st = network_stmt(
	    db, err, errlen,
	    "SELECT l.network, l.tap, l.ip, l.mac, n.subnet, n.gateway "
	    "FROM leases l JOIN networks n ON n.name = l.network "
	    "WHERE l.instance_id = ?1",
	    instance_id, NULL);
	struct ipam_subnet sn;
	char subnet[24];
	int rc, found = 0;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(l, 0, sizeof(*l));
		network_copy(l->network, sizeof(l->network), st, 0);
		network_copy(l->tap, sizeof(l->tap), st, 1);
		network_copy(l->ip, sizeof(l->ip), st, 2);
		network_copy(l->mac, sizeof(l->mac), st, 3);
		network_copy(subnet, sizeof(subnet), st, 4);
		network_copy(l->gateway, sizeof(l->gateway), st, 5);
		found =
		    ipam_subnet_parse(subnet, &sn, err, errlen) < 0 ? -1 : 1;
		l->prefix = sn.prefix;
	} else if (rc != SQLITE_DONE) {
		found = network_dberr(db, err, errlen);
	}
	sqlite3_finalize(st);
	return found;
}

/* 1 if a row matches the query (text arguments, NULL-terminated), 0 if
 * none, -1 on error. */
static int network_exists(sqlite3 *db, char *err, size_t errlen,
			  const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st = network_stmt(db, err, errlen, sql, a, b, NULL);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : network_dberr(db, err, errlen);
}

static void network_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Host side ------------------------------------------------------------- */

/* Makes r's bridge exist, carry its gateway, be up. */
static int network_bridge_ensure(const struct network_row *r, char *err,
				 size_t errlen)
{
	if (hostnet_bridge_create(r->bridge, NULL, err, errlen) < 0 ||
	    hostnet_addr_add(r->bridge, ipam_gateway(&r->sn), r->sn.prefix, err,
			     errlen) < 0 ||
	    hostnet_link_up(r->bridge, err, errlen) < 0)
		return -1;
	return 0;
}

/* Puts existing tap on bridge, up. */
static int network_tap_plug(const char *tap, const char *bridge, char *err,
			    size_t errlen)
{
	if (hostnet_link_set_master(tap, bridge, err, errlen) < 0 ||
	    hostnet_link_up(tap, err, errlen) < 0)
		return -1;
	return 0;
}

/* Public API ------------------------------------------------------------- */

int network_db_init(sqlite3 *db, char *err, size_t errlen)
{
	char now[32];
	sqlite3_stmt *st;
	int ret;

	pthread_mutex_lock(&network_lock);
	ret = network_exec(db, network_schema, err, errlen);
	if (ret == 0) {
		network_now(now, sizeof(now));
		st = network_stmt(db, err, errlen,
				  "INSERT OR IGNORE INTO networks (name, "
				  "subnet, bridge, gateway, created) VALUES "
				  "(?1, ?2, ?1, '10.88.0.1', ?3)",
				  NETWORK_DEFAULT, NETWORK_DEFAULT_SUBNET, now,
				  NULL);
		ret = network_step_done(db, st, err, errlen);
	}
	pthread_mutex_unlock(&network_lock);
	return ret;
}

int network_restore(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char e[256];
	int rc, ret = 0;

	pthread_mutex_lock(&network_lock);
	st = network_stmt(db, err, errlen,
			  "SELECT name, subnet, bridge, gateway FROM networks "
			  "ORDER BY name",
			  NULL);
	if (st == NULL) {
		ret = -1;
		goto unlock;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct network_row r;
		network_copy(r.name, sizeof(r.name), st, 0);
		network_copy(r.subnet, sizeof(r.subnet), st, 1);
		network_copy(r.bridge, sizeof(r.bridge), st, 2);
		network_copy(r.gateway, sizeof(r.gateway), st, 3);
		/* Keep going: one broken network must not keep the others
		 * (and the daemon) down.  The first failure is reported. */
		if (ipam_subnet_parse(r.subnet, &r.sn, e, sizeof(e)) < 0 ||
		    network_bridge_ensure(&r, e, sizeof(e)) < 0) {
			if (ret == 0)
				util_err(err, errlen,
					 "cannot restore network '%s': %s",
					 r.name, e);
			ret = -1;
		}
	}
	if (rc != SQLITE_DONE && ret == 0)
		ret = network_dberr(db, err, errlen);
	sqlite3_finalize(st);

	/* Taps of instances that kept running while the daemon was away
	 * fell off a bridge that was deleted and made again. */
	st = network_stmt(db, err, errlen,
			  "SELECT l.tap, n.bridge FROM leases l JOIN networks "
			  "n ON n.name = l.network",
			  NULL);
	if (st == NULL) {
		ret = -1;
		goto unlock;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char tap[IFNAMSIZ], bridge[IFNAMSIZ];
		network_copy(tap, sizeof(tap), st, 0);
		network_copy(bridge, sizeof(bridge), st, 1);
		if (hostnet_link_kind(tap) != HOSTNET_TAP)
			continue;
		if (network_tap_plug(tap, bridge, e, sizeof(e)) < 0 &&
		    ret == 0) {
			util_err(err, errlen, "%s", e);
			ret = -1;
		}
	}
	if (rc != SQLITE_DONE && ret == 0)
		ret = network_dberr(db, err, errlen);
	sqlite3_finalize(st);
unlock:
	pthread_mutex_unlock(&network_lock);
	return ret;
}

static int network_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);
	int ok = n > 0 && n <= NETWORK_NAME_MAX &&
		 ((name[0] >= 'a' && name[0] <= 'z') ||
		  (name[0] >= '0' && name[0] <= '9'));

	for (size_t i = 1; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') ||
		     (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		     name[i] == '_' || name[i] == '.';
	if (!ok)
		return util_err(err, errlen,
				"invalid network name '%s' (lowercase letters, "
				"digits, '-', '_' and '.', starting with a "
				"letter or digit, at most %d characters)",
				name, NETWORK_NAME_MAX);
	return 0;
}

/*
 * A subnet for a new network must not share addresses with another
 * network's, nor with an address on any other interface of this
 * namespace (the host's own LAN, a VPN): routing would go one way or the
 * other and something would silently stop working.  0 if free, 1 if
 * taken (err says by what), -1 on error.
 */
static int network_subnet_taken(sqlite3 *db, const struct ipam_subnet *sn,
				char *err, size_t errlen)
{
	struct ifaddrs *ifa = NULL;
	char want[24], have[24];
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, taken = 0;

	ipam_subnet_format(sn, want, sizeof(want));
	st = network_stmt(db, err, errlen,
			  "SELECT name, subnet FROM networks ORDER BY name",
			  NULL);
	if (st == NULL)
		return -1;
	while (!taken && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ipam_subnet other;
		char name[NETWORK_NAME_MAX + 1], e[8];
		network_copy(name, sizeof(name), st, 0);
		network_copy(have, sizeof(have), st, 1);
		if (ipam_subnet_parse(have, &other, e, sizeof(e)) == 0 &&
		    ipam_overlaps(sn, &other)) {
			util_err(err, errlen,
				 "subnet %s overlaps network '%s' (%s)", want,
				 name, have);
			taken = 1;
		}
	}
	if (!taken && rc != SQLITE_DONE)
		taken = network_dberr(db, err, errlen);
	sqlite3_finalize(st);
	if (taken || getifaddrs(&ifa) < 0)
		return taken;
	for (struct ifaddrs *i = ifa; i && !taken; i = i->ifa_next) {
		struct ipam_subnet other;
		uint32_t a, m;
		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		m = ntohl(
		    ((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		other.net = a & m;
		other.prefix = __builtin_popcount(m);
		/* Loopback's 127/8 can never be chosen anyway; our own
		 * bridges were checked through the database. */
		if ((a >> 24) == 127 || !ipam_overlaps(sn, &other))
			continue;
		ipam_addr_format(a, have, sizeof(have));
		util_err(err, errlen,
			 "subnet %s overlaps address %s/%d on interface '%s'",
			 want, have, other.prefix, i->ifa_name);
		taken = 1;
	}
	freeifaddrs(ifa);
	return taken;
}

/* The first free 10.89.N.0/24 .. 10.255.255.0/24. */
static int network_subnet_pick(sqlite3 *db, struct ipam_subnet *sn, int *why,
			       char *err, size_t errlen)
{
	for (uint32_t a = (10u << 24) | (89u << 16); a < (11u << 24);
	     a += 256) {
		int t;
		sn->net = a;
		sn->prefix = 24;
		t = network_subnet_taken(db, sn, err, errlen);
		if (t <= 0)
			return t;
	}
	*why = ENOSPC;
	return util_err(err, errlen,
			"no free /24 left in 10.89.0.0 to 10.255.255.0; give "
			"a subnet");
}

/*
 * "kiln-" + name, cut to 15 characters; when that is taken (by another
 * network's bridge or any interface of this namespace) a "-N" suffix
 * replaces the end of the name until it is not.
 */
static int network_bridge_name(sqlite3 *db, const char *name, char *out,
			       char *err, size_t errlen)
{
	for (int i = 0; i < 1000; i++) {
		char suffix[8] = "";
		int keep, t;
		if (i > 0)
			snprintf(suffix, sizeof(suffix), "-%d", i);
		keep = (int)(IFNAMSIZ - 1 - strlen("kiln-") - strlen(suffix));
		snprintf(out, IFNAMSIZ, "kiln-%.*s%s", keep, name, suffix);
		t = network_exists(db, err, errlen,
				   "SELECT 1 FROM networks WHERE bridge = ?1",
				   out, NULL);
		if (t < 0)
			return -1;
		if (t == 0 && !hostnet_link_exists(out))
			return 0;
	}
	return util_err(err, errlen, "no free bridge name for network '%s'",
			name);
}

int network_create(sqlite3 *db, const char *name, const char *subnet, char *err,
		   size_t errlen)
{
	struct network_row r;
	char now[32], e[256];
	sqlite3_stmt *st;
	int t, why = EIO;

	memset(&r, 0, sizeof(r));
	if (network_name_check(name, err, errlen) < 0 ||
	    (subnet && ipam_subnet_parse(subnet, &r.sn, err, errlen) < 0)) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&network_lock);
	if (network_begin(db, err, errlen) < 0)
		goto unlock;
	t = network_find(db, name, &r, e, sizeof(e));
	if (t != 0) {
		if (t > 0) {
			util_err(err, errlen, "network '%s' already exists",
				 name);
			why = EEXIST;
		} else {
			util_err(err, errlen, "%s", e);
		}
		goto rollback;
	}
	if (subnet) {
		t = network_subnet_taken(db, &r.sn, e, sizeof(e));
		if (t > 0)
			why = EEXIST;
		if (t != 0) {
			util_err(err, errlen, "cannot create network '%s': %s",
				 name, e);
			goto rollback;
		}
	} else if (network_subnet_pick(db, &r.sn, &why, e, sizeof(e)) < 0) {
		util_err(err, errlen, "cannot create network '%s': %s", name,
			 e);
		goto rollback;
	}
	snprintf(r.name, sizeof(r.name), "%s", name);
	ipam_subnet_format(&r.sn, r.subnet, sizeof(r.subnet));
	ipam_addr_format(ipam_gateway(&r.sn), r.gateway, sizeof(r.gateway));
	if (network_bridge_name(db, name, r.bridge, err, errlen) < 0)
		goto rollback;
	if (network_bridge_ensure(&r, err, errlen) < 0)
		goto delete_bridge;
	network_now(now, sizeof(now));
	st = network_stmt(db, err, errlen,
			  "INSERT INTO networks (name, subnet, bridge, "
			  "gateway, created) VALUES (?1, ?2, ?3, ?4, ?5)",
			  r.name, r.subnet, r.bridge, r.gateway, now, NULL);
	if (network_step_done(db, st, err, errlen) < 0 ||
	    network_commit(db, err, errlen) < 0)
		goto delete_bridge;
	pthread_mutex_unlock(&network_lock);
	return 0;

delete_bridge:
	hostnet_link_delete(r.bridge, e, sizeof(e));
rollback:
	network_rollback(db);
unlock:
	pthread_mutex_unlock(&network_lock);
	errno = why;
	return -1;
}

int network_remove(sqlite3 *db, const char *name, char *err, size_t errlen)
{
	struct network_row r;
	sqlite3_stmt *st;
	char count[24];
	int n = 0, why = EIO;

	if (strcmp(name, NETWORK_DEFAULT) == 0) {
		errno = EPERM;
		return util_err(err, errlen,
				"cannot remove the default network '%s'", name);
	}
	pthread_mutex_lock(&network_lock);
	if (network_begin(db, err, errlen) < 0)
		goto unlock;
	if (network_get(db, name, &r, &why, err, errlen) < 0)
		goto rollback;
	st = network_stmt(db, err, errlen,
			  "SELECT count(*) FROM leases WHERE network = ?1",
			  name, NULL);
	if (st == NULL)
		goto rollback;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		n = network_dberr(db, err, errlen);
	sqlite3_finalize(st);
	if (n < 0)
		goto rollback;
	if (n > 0) {
		snprintf(count, sizeof(count), "%d instance%s", n,
			 n == 1 ? "" : "s");
		util_err(err, errlen,
			 "network '%s' is in use by %s (remove them first: "
			 "kiln rm)",
			 name, count);
		why = EBUSY;
		goto rollback;
	}
	/* The bridge first: if that fails the record stays, and removing
	 * again retries; the other order could leak a bridge. */
	if (hostnet_link_kind(r.bridge) == HOSTNET_BRIDGE &&
	    hostnet_link_delete(r.bridge, err, errlen) < 0)
		goto rollback;
	st = network_stmt(db, err, errlen,
			  "DELETE FROM networks WHERE name = ?1", name, NULL);
	if (network_step_done(db, st, err, errlen) < 0 ||
	    network_commit(db, err, errlen) < 0)
		goto rollback;
	pthread_mutex_unlock(&network_lock);
	return 0;

rollback:
	network_rollback(db);
unlock:
	pthread_mutex_unlock(&network_lock);
	errno = why;
	return -1;
}

char *network_list_json(sqlite3 *db)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();
	char *out = NULL, e[8];
	int rc;

	if (arr == NULL)
		return NULL;
	pthread_mutex_lock(&network_lock);
	st = network_stmt(db, e, sizeof(e),
			  "SELECT n.name, n.subnet, n.bridge, n.gateway, "
			  "n.created, (SELECT count(*) FROM leases l WHERE "
			  "l.network = n.name) FROM networks n ORDER BY n.name",
			  NULL);
	if (st == NULL)
		goto unlock;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:i}", "name",
		    (const char *)sqlite3_column_text(st, 0), "subnet",
		    (const char *)sqlite3_column_text(st, 1), "bridge",
		    (const char *)sqlite3_column_text(st, 2), "gateway",
		    (const char *)sqlite3_column_text(st, 3), "created",
		    (const char *)sqlite3_column_text(st, 4), "instances",
		    sqlite3_column_int(st, 5));
		if (o == NULL || json_array_append_new(arr, o) < 0)
			break;
	}
	if (rc == SQLITE_DONE)
		out = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_finalize(st);
unlock:
	pthread_mutex_unlock(&network_lock);
	json_decref(arr);
	return out;
}

/* FNV-1a over s and a salt byte. */
static uint64_t network_hash(const char *s, unsigned salt)
{
	uint64_t h = 14695981039346656037ull;

	for (const char *p = s; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ (uint8_t)salt) * 1099511628211ull;
	return h;
}

/* "kt" + the id's first 12 characters when they are lowercase hex, else
 * (or on the rare clash) "kt" + 12 hex digits of a hash. */
static void network_tap_name(const char *id, unsigned attempt, char *out)
{
	int hex = strlen(id) >= 12;

	for (int i = 0; hex && i < 12; i++)
		hex = (id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'f');
	if (hex && attempt == 0)
		snprintf(out, IFNAMSIZ, "kt%.12s", id);
	else
		snprintf(out, IFNAMSIZ, "kt%012llx",
			 (unsigned long long)(network_hash(id, attempt) &
					      0xffffffffffffull));
}

/* A new lease's address, MAC and tap for instance_id on r, recorded. */
static int network_lease_new(sqlite3 *db, const struct network_row *r,
			     const char *instance_id, struct network_lease *l,
			     int *why, char *err, size_t errlen)
{
	uint32_t *used = NULL, ip;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, t;

	st = network_stmt(db, err, errlen,
			  "SELECT ip FROM leases WHERE network = ?1", r->name,
			  NULL);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		if (n == cap) {
			uint32_t *nu;
			cap = cap ? 2 * cap : 64;
			nu = realloc(used, cap * sizeof(*used));
			if (nu == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			used = nu;
		}
		if (s && ipam_addr_parse(s, &used[n]) == 0)
			n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(used);
		return rc == SQLITE_NOMEM
			   ? util_err(err, errlen, "out of memory")
			   : network_dberr(db, err, errlen);
	}
	t = ipam_alloc(&r->sn, r->name, used, n, &ip, err, errlen);
	free(used);
	if (t < 0) {
		*why = ENOSPC;
		return -1;
	}

	memset(l, 0, sizeof(*l));
	snprintf(l->network, sizeof(l->network), "%s", r->name);
	ipam_addr_format(ip, l->ip, sizeof(l->ip));
	snprintf(l->gateway, sizeof(l->gateway), "%s", r->gateway);
	l->prefix = r->sn.prefix;
	/* Stable (the same id gives the same MAC) and unique in the
	 * network: the next salt on a clash. */
	for (unsigned salt = 0;; salt++) {
		uint64_t h = network_hash(instance_id, salt);
		if (salt == 256) {
			*why = ENOSPC;
			return util_err(err, errlen,
					"no free MAC address for instance "
					"'%s' on network '%s'",
					instance_id, r->name);
		}
		snprintf(l->mac, sizeof(l->mac), "52:54:00:%02x:%02x:%02x",
			 (unsigned)(h >> 16) & 0xff, (unsigned)(h >> 8) & 0xff,
			 (unsigned)h & 0xff);
		t = network_exists(db, err, errlen,
				   "SELECT 1 FROM leases WHERE network = ?1 "
				   "AND mac = ?2",
				   r->name, l->mac);
		if (t < 0)
			return -1;
		if (t == 0)
			break;
	}
	for (unsigned attempt = 0;; attempt++) {
		if (attempt == 256)
			return util_err(err, errlen,
					"no free tap name for instance '%s'",
					instance_id);
		network_tap_name(instance_id, attempt, l->tap);
		t = network_exists(db, err, errlen,
				   "SELECT 1 FROM leases WHERE tap = ?1",
				   l->tap, NULL);
		if (t < 0)
			return -1;
		if (t == 0)
			break;
	}
	st = network_stmt(db, err, errlen,
			  "INSERT INTO leases (instance_id, network, ip, mac, "
			  "tap) VALUES (?1, ?2, ?3, ?4, ?5)",
			  instance_id, l->network, l->ip, l->mac, l->tap, NULL);
	return network_step_done(db, st, err, errlen);
}

static int network_id_check(const char *id, char *err, size_t errlen)
{
	if (id == NULL || id[0] == '\0' || strlen(id) > NETWORK_ID_MAX) {
		errno = EINVAL;
		return util_err(err, errlen,
				"invalid instance id '%s' (1 to %d bytes)",
				id ? id : "", NETWORK_ID_MAX);
	}
	return 0;
}

int network_attach(sqlite3 *db, const char *network, const char *instance_id,
		   struct network_lease *lease, char *err, size_t errlen)
{
	struct network_lease l;
	struct network_row r;
	char e[256];
	int t, new_tap = 0, why = EIO;

	if (network == NULL || network[0] == '\0')
		network = NETWORK_DEFAULT;
	if (network_id_check(instance_id, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&network_lock);
	if (network_begin(db, err, errlen) < 0)
		goto unlock;
	if (network_get(db, network, &r, &why, err, errlen) < 0)
		goto rollback;
	t = network_lease_read(db, instance_id, &l, err, errlen);
	if (t < 0)
		goto rollback;
	if (t > 0 && strcmp(l.network, r.name) != 0) {
		util_err(err, errlen,
			 "instance '%s' already has an address on network "
			 "'%s' (%s)",
			 instance_id, l.network, l.ip);
		why = EEXIST;
		goto rollback;
	}
	if (t == 0 &&
	    network_lease_new(db, &r, instance_id, &l, &why, err, errlen) < 0)
		goto rollback;

	if (network_bridge_ensure(&r, err, errlen) < 0)
		goto rollback;
	new_tap = hostnet_link_kind(l.tap) == HOSTNET_NONE;
	if (hostnet_tap_create(l.tap, err, errlen) < 0)
		goto rollback;
	if (network_tap_plug(l.tap, r.bridge, err, errlen) < 0 ||
	    network_commit(db, err, errlen) < 0)
		goto delete_tap;
	pthread_mutex_unlock(&network_lock);
	*lease = l;
	return 0;

delete_tap:
	if (new_tap)
		hostnet_link_delete(l.tap, e, sizeof(e));
rollback:
	network_rollback(db);
unlock:
	pthread_mutex_unlock(&network_lock);
	errno = why;
	return -1;
}

int network_detach(sqlite3 *db, const char *instance_id, int release, char *err,
		   size_t errlen)
{
	struct network_lease l;
	sqlite3_stmt *st;
	int t, ret = -1;

	if (network_id_check(instance_id, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&network_lock);
	t = network_lease_read(db, instance_id, &l, err, errlen);
	if (t <= 0) {
		ret = t;
		goto unlock;
	}
	/* The tap first: a lease whose tap could not be deleted stays, so
	 * detaching again retries instead of leaking the interface. */
	if (hostnet_link_delete(l.tap, err, errlen) < 0)
		goto unlock;
	if (release) {
		st = network_stmt(db, err, errlen,
				  "DELETE FROM leases WHERE instance_id = ?1",
				  instance_id, NULL);
		if (network_step_done(db, st, err, errlen) < 0)
			goto unlock;
	}
	ret = 0;
unlock:
	pthread_mutex_unlock(&network_lock);
	if (ret < 0)
		errno = EIO;
	return ret;
}

int network_lease_get(sqlite3 *db, const char *instance_id,
		      struct network_lease *lease, char *err, size_t errlen)
{
	int t;

	if (network_id_check(instance_id, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&network_lock);
	t = network_lease_read(db, instance_id, lease, err, errlen);
	pthread_mutex_unlock(&network_lock);
	return t;
}
