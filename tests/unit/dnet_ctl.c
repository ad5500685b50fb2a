/*
 * dnet_ctl: kilnd's networking functions (daemon/network.c, proxy.c) as a
 * command, so tests/e2e/daemon_net.sh can drive them inside a network
 * namespace and check the host with `ip` as a user would.  Not installed,
 * not a user tool.
 *
 *   dnet_ctl DB init | restore | ls
 *   dnet_ctl DB create NAME [SUBNET] | rm NAME
 *   dnet_ctl DB attach NETWORK ID | detach ID [release] | lease ID
 *   dnet_ctl DB attach-many NETWORK IDPREFIX COUNT THREADS
 *   dnet_ctl - proxy          (commands on stdin, one answer line each)
 *
 * DB is an SQLite file, opened as kilnd opens its own (serialized, WAL).
 * A lease prints as "network=N tap=T ip=I prefix=P gateway=G mac=M".
 * Errors go to stderr as "dnet_ctl: MESSAGE", status 1, and the errno the
 * function left to stdout as "errno=ENAME" (kilnd's HTTP status).
 *
 * Proxy commands (each answered by one line: "ok", a number, or
 * "error: MESSAGE"):
 *   open NAME SPEC BACKEND_IP   proxy_open under a name of the test's
 *   backend NAME IP             proxy_set_backend
 *   active NAME                 proxy_active
 *   close NAME                  proxy_close
 *   udp-idle - SECONDS          proxy_udp_idle_set
 * End of input closes every proxy still open and exits 0.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network.h"
#include "proxy.h"

static sqlite3 *ctl_db;

static int ctl_fail(const char *msg)
{
	const char *name = strerrorname_np(errno);

	printf("errno=%s\n", name ? name : "?");
	fprintf(stderr, "dnet_ctl: %s\n", msg);
	return 1;
}

static void ctl_print_lease(const struct network_lease *l)
{
	printf("network=%s tap=%s ip=%s prefix=%d gateway=%s mac=%s\n",
	       l->network, l->tap, l->ip, l->prefix, l->gateway, l->mac);
}

/* attach-many: COUNT instances "IDPREFIX-N" attached from THREADS
 * threads at once, as kilnd's request threads would. */
struct ctl_many {
	const char *network, *prefix;
	int count, threads, index;
	struct network_lease *leases;
	char **errs;
};

static void *ctl_many_thread(void *arg)
{
	struct ctl_many *m = arg;

	for (int i = m->index; i < m->count; i += m->threads) {
		char id[64], err[512];
		snprintf(id, sizeof(id), "%s-%d", m->prefix, i);
		if (network_attach(ctl_db, m->network, id, &m->leases[i], err,
				   sizeof(err)) < 0)
			m->errs[i] = strdup(err);
	}
	return NULL;
}

static int ctl_attach_many(const char *network, const char *prefix, int count,
			   int threads)
{
	struct ctl_many *m = calloc((size_t)threads, sizeof(*m));
	struct network_lease *leases = calloc((size_t)count, sizeof(*leases));
	char **errs = calloc((size_t)count, sizeof(*errs));
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	int failed = 0;

	if (!m || !leases || !errs || !t)
		return ctl_fail("out of memory");
	for (int i = 0; i < threads; i++) {
		m[i] = (struct ctl_many){network, prefix, count, threads,
					 i,	  leases, errs};
		pthread_create(&t[i], NULL, ctl_many_thread, &m[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < count; i++) {
		if (errs[i]) {
			fprintf(stderr, "dnet_ctl: %s-%d: %s\n", prefix, i,
				errs[i]);
			failed = 1;
			continue;
		}
		printf("%s-%d ", prefix, i);
		ctl_print_lease(&leases[i]);
	}
	return failed;
}

/* The proxy command loop. */
#define CTL_PROXIES 64

static int ctl_proxy(void)
{
	struct {
		char name[32];
		struct proxy *p;
	} px[CTL_PROXIES];
	char line[512];
	int n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[32] = "", name[32] = "", a[256] = "", b[64] = "";
		char err[256];
		int i,
		    k = sscanf(line, "%31s %31s %255s %63s", cmd, name, a, b);

		if (k < 2) {
			printf("error: bad command '%s'\n", cmd);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(px[i].name, name) == 0)
				break;
		if (strcmp(cmd, "udp-idle") == 0 && k == 3) {
			proxy_udp_idle_set((unsigned)atoi(a));
			printf("ok\n");
		} else if (strcmp(cmd, "open") == 0 && k == 4) {
			struct proxy_spec spec;
			struct proxy *p;
			if (i < n) {
				printf("error: proxy '%s' is open\n", name);
				continue;
			}
			if (n == CTL_PROXIES) {
				printf("error: too many proxies\n");
				continue;
			}
			if (proxy_spec_parse(a, &spec, err, sizeof(err)) < 0 ||
			    (p = proxy_open(&spec, b, err, sizeof(err))) ==
				NULL) {
				printf("error: %s (%s)\n", err,
				       strerrorname_np(errno));
				continue;
			}
			snprintf(px[n].name, sizeof(px[n].name), "%s", name);
			px[n++].p = p;
			printf("ok\n");
		} else if (i == n) {
			printf("error: no proxy '%s'\n", name);
		} else if (strcmp(cmd, "backend") == 0 && k == 3) {
			proxy_set_backend(px[i].p, a);
			printf("ok\n");
		} else if (strcmp(cmd, "active") == 0) {
			printf("%u\n", proxy_active(px[i].p));
		} else if (strcmp(cmd, "close") == 0) {
			proxy_close(px[i].p);
			px[i] = px[--n];
			printf("ok\n");
		} else {
			printf("error: bad command '%s'\n", cmd);
		}
	}
	while (n > 0)
		proxy_close(px[--n].p);
	return 0;
}

int main(int argc, char **argv)
{
	struct network_lease l;
	char err[512];
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: dnet_ctl DB COMMAND [ARGS...]\n");
		return 2;
	}
	if (strcmp(argv[2], "proxy") == 0)
		return ctl_proxy();
	if (sqlite3_open_v2(argv[1], &ctl_db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK)
		return ctl_fail(sqlite3_errmsg(ctl_db));
	sqlite3_busy_timeout(ctl_db, 10000);
	sqlite3_exec(ctl_db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	/* Every command starts as kilnd does: tables ready. */
	if (network_db_init(ctl_db, err, sizeof(err)) < 0)
		return ctl_fail(err);

	const char *cmd = argv[2];
	if (strcmp(cmd, "init") == 0) {
		;
	} else if (strcmp(cmd, "restore") == 0) {
		rc = network_restore(ctl_db, err, sizeof(err));
	} else if (strcmp(cmd, "ls") == 0) {
		char *j = network_list_json(ctl_db);
		if (j == NULL)
			return ctl_fail("network_list_json failed");
		printf("%s\n", j);
		free(j);
	} else if (strcmp(cmd, "create") == 0 && (argc == 4 || argc == 5)) {
		rc = network_create(ctl_db, argv[3], argc == 5 ? argv[4] : NULL,
				    err, sizeof(err));
	} else if (strcmp(cmd, "rm") == 0 && argc == 4) {
		rc = network_remove(ctl_db, argv[3], err, sizeof(err));
	} else if (strcmp(cmd, "attach") == 0 && argc == 5) {
		rc = network_attach(ctl_db, argv[3], argv[4], &l, err,
				    sizeof(err));
		if (rc == 0)
			ctl_print_lease(&l);
	} else if (strcmp(cmd, "detach") == 0 && (argc == 4 || argc == 5)) {
		rc =
		    network_detach(ctl_db, argv[3],
				   argc == 5 && strcmp(argv[4], "release") == 0,
				   err, sizeof(err));
	} else if (strcmp(cmd, "lease") == 0 && argc == 4) {
		rc = network_lease_get(ctl_db, argv[3], &l, err, sizeof(err));
		if (rc == 1)
			ctl_print_lease(&l);
		else if (rc == 0)
			printf("none\n");
		rc = rc < 0 ? -1 : 0;
	} else if (strcmp(cmd, "attach-many") == 0 && argc == 7) {
		rc = ctl_attach_many(argv[3], argv[4], atoi(argv[5]),
				     atoi(argv[6]));
		sqlite3_close(ctl_db);
		return rc;
	} else {
		fprintf(stderr, "dnet_ctl: bad command or arguments: %s\n",
			cmd);
		return 2;
	}
	if (rc < 0)
		return ctl_fail(err);
	sqlite3_close(ctl_db);
	return 0;
}
