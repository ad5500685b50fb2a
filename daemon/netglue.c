/*
 * An instance's network and published ports, as instance.c sees them.
 * TEMPORARY: until DNET's daemon/network.c and proxy.c are merged, kilnd
 * runs instances without a network device; any network or port is
 * refused with a clear error.  The merge replaces this file's bodies with
 * calls to network_attach/detach and proxy_open/close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kilnd.h"

int netglue_init(char *err, size_t errlen)
{
	return 0;
}

const char *netglue_default_network(void)
{
	return "";
}

int netglue_check_network(const char *network, char *err, size_t errlen)
{
	if (network == NULL || network[0] == '\0' ||
	    strcmp(network, "none") == 0)
		return 0;
	return util_err(err, errlen,
			"no such network '%s' (this kilnd runs instances "
			"without a network)",
			network);
}

int netglue_port_parse(const char *spec, char *out, size_t outlen, char *err,
		       size_t errlen)
{
	return util_err(err, errlen,
			"cannot publish '%s': this kilnd runs instances "
			"without a network",
			spec);
}

int netglue_ports_open(struct instance *inst, int *status, char *err,
		       size_t errlen)
{
	if (inst->ports.n == 0)
		return 0;
	*status = 400;
	return util_err(err, errlen, "this kilnd cannot publish ports");
}

void netglue_ports_close(struct instance *inst)
{
}

int netglue_attach(struct instance *inst, char *err, size_t errlen)
{
	return util_err(err, errlen, "this kilnd has no networks");
}

void netglue_detach(struct instance *inst, int release)
{
}

char *netglue_network_list(void)
{
	return strdup("[]");
}

int netglue_network_create(const char *name, const char *subnet, int *status,
			   char *err, size_t errlen)
{
	*status = 501;
	return util_err(err, errlen, "this kilnd has no networks");
}

int netglue_network_remove(const char *name, int *status, char *err,
			   size_t errlen)
{
	*status = 404;
	return util_err(err, errlen, "no such network '%s'", name);
}
