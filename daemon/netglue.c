/*
 * An instance's network and published ports, as instance.c sees them,
 * over DNET's daemon/network.c (bridges, addresses, taps) and
 * daemon/proxy.c (the userspace port proxy).
 *
 * network.c gets a database connection of its own (network.h explains
 * why: its SAVEPOINTs must not swallow statements of other threads).
 *
 * An instance's address is leased when it is created (so `kiln ps` shows
 * it at once and its published ports can be bound then: a port in use is
 * a synchronous 409), kept across stops and restarts (the tap is deleted
 * when the monitor is gone, the address stays), and released when the
 * instance is removed.  Published ports are bound from create to rm; the
 * proxies live in kilnd, so they are opened again when kilnd restarts.
 */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kilnd.h"
#include "network.h"
#include "proxy.h"

static sqlite3 *netglue_db;

/* errno of a network_* or proxy_* failure -> HTTP status. */
static int netglue_status(int e)
{
	switch (e) {
	case EINVAL:
		return 400;
	case ENOENT:
		return 404;
	case EEXIST:
	case EBUSY:
	case EPERM:
	case ENOSPC:
	case EADDRINUSE:
	case EADDRNOTAVAIL:
	case EACCES:
		return 409;
	default:
		return 500;
	}
}

int netglue_init(char *err, size_t errlen)
{
	char path[PATH_MAX + 16], nerr[512];

	snprintf(path, sizeof(path), "%s/kiln.db", kd.state_dir);
	if (sqlite3_open_v2(path, &netglue_db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK)
		return util_err(err, errlen,
				"cannot open '%s' for networks: %s", path,
				sqlite3_errmsg(netglue_db));
	sqlite3_busy_timeout(netglue_db, 10000);
	/* WAL (set by db.c) with NORMAL: a commit is not an fsync; a crash
	 * of the host may lose the last transactions, never corrupt. */
	sqlite3_exec(netglue_db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (network_db_init(netglue_db, err, errlen) < 0)
		return -1;
	/* Without the right to make bridges (not root, no CAP_NET_ADMIN)
	 * kilnd still serves; instances without a network still run. */
	if (network_restore(netglue_db, nerr, sizeof(nerr)) < 0)
		kilnd_log("networks: %s (instances on it cannot start until "
			  "this is fixed)",
			  nerr);
	return 0;
}

const char *netglue_default_network(void)
{
	return NETWORK_DEFAULT;
}

int netglue_check_network(const char *network, char *err, size_t errlen)
{
	char *text;
	json_t *all, *v;
	size_t i;
	int found = 0;

	if (network == NULL || network[0] == '\0')
		return 0;
	text = network_list_json(netglue_db);
	all = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	json_array_foreach(all, i, v)
	{
		const char *name =
		    json_string_value(json_object_get(v, "name"));
		if (name != NULL && strcmp(name, network) == 0)
			found = 1;
	}
	json_decref(all);
	if (!found)
		return util_err(err, errlen,
				"no such network '%s' (see 'kiln network ls')",
				network);
	return 0;
}

int netglue_port_parse(const char *spec, char *out, size_t outlen, char *err,
		       size_t errlen)
{
	struct proxy_spec ps;

	if (proxy_spec_parse(spec, &ps, err, errlen) < 0)
		return -1;
	proxy_spec_format(&ps, out, outlen);
	return 0;
}

static void netglue_lease_copy(struct instance *inst,
			       const struct network_lease *l)
{
	snprintf(inst->ip, sizeof(inst->ip), "%s", l->ip);
	snprintf(inst->gateway, sizeof(inst->gateway), "%s", l->gateway);
	snprintf(inst->mac, sizeof(inst->mac), "%s", l->mac);
	snprintf(inst->tap, sizeof(inst->tap), "%s", l->tap);
	inst->prefix = l->prefix;
}

int netglue_attach(struct instance *inst, char *err, size_t errlen)
{
	struct network_lease lease;

	if (network_attach(netglue_db, inst->network, inst->id, &lease, err,
			   errlen) < 0)
		return -1;
	netglue_lease_copy(inst, &lease);
	for (size_t i = 0; i < inst->nproxies; i++)
		proxy_set_backend(inst->proxies[i], inst->ip);
	return 0;
}

void netglue_detach(struct instance *inst, int release)
{
	char err[512];

	if (network_detach(netglue_db, inst->id, release, err, sizeof(err)) < 0)
		kilnd_log("instance '%s': %s", inst->name, err);
	inst->tap[0] = '\0';
	if (release) {
		inst->ip[0] = '\0';
		inst->gateway[0] = '\0';
		inst->mac[0] = '\0';
		inst->prefix = 0;
	}
}

void netglue_ports_close(struct instance *inst)
{
	for (size_t i = 0; i < inst->nproxies; i++)
		proxy_close(inst->proxies[i]);
	inst->nproxies = 0;
}

int netglue_ports_open(struct instance *inst, int *status, char *err,
		       size_t errlen)
{
	if (inst->ports.n == 0)
		return 0;
	if (inst->ip[0] == '\0') {
		*status = 500;
		return util_err(err, errlen,
				"instance '%s' has no address to publish "
				"ports to",
				inst->name);
	}
	for (size_t i = 0; i < inst->ports.n && i < KILND_PORTS_MAX; i++) {
		struct proxy_spec ps;
		struct proxy *p;

		if (proxy_spec_parse(inst->ports.v[i], &ps, err, errlen) < 0) {
			*status = 400;
			goto fail;
		}
		p = proxy_open(&ps, inst->ip, err, errlen);
		if (p == NULL) {
			*status = netglue_status(errno);
			goto fail;
		}
		inst->proxies[inst->nproxies++] = p;
	}
	return 0;
fail:
	netglue_ports_close(inst);
	return -1;
}

/* The address of a new instance: leased now (see the top of this file);
 * keep_tap when it starts at once (its start finds the tap ready). */
int netglue_lease(struct instance *inst, int keep_tap, int *status, char *err,
		  size_t errlen)
{
	if (inst->network[0] == '\0')
		return 0;
	if (netglue_attach(inst, err, errlen) < 0) {
		*status = netglue_status(errno);
		return -1;
	}
	if (!keep_tap)
		netglue_detach(inst, 0);
	return 0;
}

char *netglue_network_list(void)
{
	return network_list_json(netglue_db);
}

int netglue_network_create(const char *name, const char *subnet, int *status,
			   char *err, size_t errlen)
{
	if (network_create(netglue_db, name, subnet, err, errlen) < 0) {
		*status = netglue_status(errno);
		return -1;
	}
	return 0;
}

int netglue_network_remove(const char *name, int *status, char *err,
			   size_t errlen)
{
	if (network_remove(netglue_db, name, err, errlen) < 0) {
		*status = netglue_status(errno);
		return -1;
	}
	return 0;
}
