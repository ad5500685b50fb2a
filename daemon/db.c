/*
 * kilnd's database: STATE/kiln.db, SQLite in WAL mode, opened serialized
 * (DNET's network.c uses the same handle from its own threads).  The
 * schema has a version (table schema_version) and one migration function
 * that brings any older database up to DB_VERSION step by step, each step
 * in its own transaction; a database newer than this kilnd is refused.
 *
 * Tables owned here: images (one row per image: its blobs), tags (tag ->
 * image), instances (every field of the instance JSON, so that a
 * restarted kilnd knows everything without asking the shims).  DNET's
 * networks and leases tables are created by network_db_init.
 */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kilnd.h"

#define DB_VERSION 1

static const char *const db_steps[DB_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE images ("
    " id TEXT PRIMARY KEY,"
    " kernel TEXT NOT NULL, kernel_size INTEGER NOT NULL,"
    " rootfs TEXT NOT NULL, rootfs_size INTEGER NOT NULL,"
    " config TEXT NOT NULL, config_size INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE tags ("
    " tag TEXT PRIMARY KEY,"
    " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX tags_image ON tags(image_id);"
    "CREATE TABLE instances ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " image TEXT NOT NULL, image_id TEXT NOT NULL,"
    " state TEXT NOT NULL, network TEXT NOT NULL,"
    " ip TEXT NOT NULL, prefix INTEGER NOT NULL, gateway TEXT NOT NULL,"
    " mac TEXT NOT NULL, tap TEXT NOT NULL,"
    " ports TEXT NOT NULL, env TEXT NOT NULL,"
    " memory_mib INTEGER NOT NULL, restart TEXT NOT NULL,"
    " restart_count INTEGER NOT NULL, exit_code INTEGER NOT NULL,"
    " error TEXT NOT NULL, shim_pid INTEGER NOT NULL,"
    " pid INTEGER NOT NULL, hypervisor TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, started_at INTEGER NOT NULL,"
    " finished_at INTEGER NOT NULL, stop_requested INTEGER NOT NULL);",
};

int db_exec(const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(kd.db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		util_err(err, errlen, "database: %s",
			 msg ? msg : sqlite3_errmsg(kd.db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int db_version(int *v, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (db_exec("CREATE TABLE IF NOT EXISTS schema_version ("
		    " version INTEGER NOT NULL)",
		    err, errlen) < 0)
		return -1;
	if (sqlite3_prepare_v2(kd.db, "SELECT max(version) FROM schema_version",
			       -1, &st, NULL) != SQLITE_OK)
		return util_err(err, errlen, "database: %s",
				sqlite3_errmsg(kd.db));
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

/* The one migration function: every step from the database's version up
 * to DB_VERSION, each in a transaction with its version bump. */
static int db_migrate(char *err, size_t errlen)
{
	int v = 0;

	if (db_version(&v, err, errlen) < 0)
		return -1;
	if (v > DB_VERSION)
		return util_err(err, errlen,
				"database schema version %d is newer than "
				"this kilnd understands (%d): use a newer "
				"kilnd or another --state",
				v, DB_VERSION);
	for (; v < DB_VERSION; v++) {
		char *sql = util_asprintf(
		    "BEGIN IMMEDIATE; %s DELETE FROM schema_version; "
		    "INSERT INTO schema_version VALUES (%d); COMMIT;",
		    db_steps[v], v + 1);
		int rc;

		if (sql == NULL)
			return util_err(err, errlen, "out of memory");
		rc = db_exec(sql, err, errlen);
		free(sql);
		if (rc < 0) {
			db_exec("ROLLBACK", NULL, 0);
			return -1;
		}
	}
	return 0;
}

int db_open(const char *path, char *err, size_t errlen)
{
	if (sqlite3_open_v2(path, &kd.db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		util_err(err, errlen, "cannot open the database '%s': %s", path,
			 kd.db ? sqlite3_errmsg(kd.db) : "out of memory");
		sqlite3_close(kd.db);
		kd.db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(kd.db, 5000);
	if (db_exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
		    "PRAGMA foreign_keys=ON;",
		    err, errlen) < 0 ||
	    db_migrate(err, errlen) < 0) {
		sqlite3_close(kd.db);
		kd.db = NULL;
		return -1;
	}
	return 0;
}

void db_close(void)
{
	if (kd.db != NULL)
		sqlite3_close(kd.db);
	kd.db = NULL;
}

static char *db_strv_json(const struct strv *sv)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; a && i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

static void db_strv_parse(const char *text, struct strv *sv)
{
	json_t *a = json_loads(text ? text : "[]", 0, NULL);
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		if (json_is_string(v))
			strv_push(sv, json_string_value(v));
	}
	json_decref(a);
}

int db_instance_save(const struct instance *inst)
{
	static const char sql[] =
	    "INSERT OR REPLACE INTO instances (id, name, image, image_id, "
	    "state, network, ip, prefix, gateway, mac, tap, ports, env, "
	    "memory_mib, restart, restart_count, exit_code, error, shim_pid, "
	    "pid, hypervisor, created_at, started_at, finished_at, "
	    "stop_requested) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	    "?,?,?,?,?)";
	char policy[32], *ports = db_strv_json(&inst->ports),
			 *env = db_strv_json(&inst->env);
	sqlite3_stmt *st = NULL;
	int i = 1, rc = -1;

	instance_policy_format(inst, policy, sizeof(policy));
	if (ports == NULL || env == NULL ||
	    sqlite3_prepare_v2(kd.db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, i++, inst->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, inst->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, inst->image, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, inst->image_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, instance_state_name(inst->state), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, i++, inst->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, inst->ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, inst->prefix);
	sqlite3_bind_text(st, i++, inst->gateway, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, inst->mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, inst->tap, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, ports, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, env, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)inst->memory_mib);
	sqlite3_bind_text(st, i++, policy, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, inst->restart_count);
	sqlite3_bind_int(st, i++, inst->exit_code);
	sqlite3_bind_text(st, i++, inst->error, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, inst->shim_pid);
	sqlite3_bind_int(st, i++, inst->pid);
	sqlite3_bind_text(st, i++, inst->hypervisor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, inst->created_at);
	sqlite3_bind_int64(st, i++, inst->started_at);
	sqlite3_bind_int64(st, i++, inst->finished_at);
	sqlite3_bind_int(st, i++, inst->stop_requested);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
out:
	if (rc < 0)
		kilnd_log("cannot save instance '%s': %s", inst->name,
			  sqlite3_errmsg(kd.db));
	sqlite3_finalize(st);
	free(ports);
	free(env);
	return rc;
}

int db_instance_delete(const char *id)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(kd.db, "DELETE FROM instances WHERE id = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

static void db_copy(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", s ? (const char *)s : "");
}

int db_instances_load(char *err, size_t errlen)
{
	static const char sql[] =
	    "SELECT id, name, image, image_id, state, network, ip, prefix, "
	    "gateway, mac, tap, ports, env, memory_mib, restart, "
	    "restart_count, exit_code, error, shim_pid, pid, hypervisor, "
	    "created_at, started_at, finished_at, stop_requested "
	    "FROM instances ORDER BY created_at DESC";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(kd.db, sql, -1, &st, NULL) != SQLITE_OK)
		return util_err(err, errlen, "database: %s",
				sqlite3_errmsg(kd.db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct instance *inst = instance_new();
		char state[32], policy[32], perr[128];
		int c = 0;

		if (inst == NULL) {
			sqlite3_finalize(st);
			return util_err(err, errlen, "out of memory");
		}
		db_copy(inst->id, sizeof(inst->id), st, c++);
		db_copy(inst->name, sizeof(inst->name), st, c++);
		db_copy(inst->image, sizeof(inst->image), st, c++);
		db_copy(inst->image_id, sizeof(inst->image_id), st, c++);
		db_copy(state, sizeof(state), st, c++);
		db_copy(inst->network, sizeof(inst->network), st, c++);
		db_copy(inst->ip, sizeof(inst->ip), st, c++);
		inst->prefix = sqlite3_column_int(st, c++);
		db_copy(inst->gateway, sizeof(inst->gateway), st, c++);
		db_copy(inst->mac, sizeof(inst->mac), st, c++);
		db_copy(inst->tap, sizeof(inst->tap), st, c++);
		db_strv_parse((const char *)sqlite3_column_text(st, c++),
			      &inst->ports);
		db_strv_parse((const char *)sqlite3_column_text(st, c++),
			      &inst->env);
		inst->memory_mib = (uint64_t)sqlite3_column_int64(st, c++);
		db_copy(policy, sizeof(policy), st, c++);
		inst->restart_count = sqlite3_column_int(st, c++);
		inst->exit_code = sqlite3_column_int(st, c++);
		db_copy(inst->error, sizeof(inst->error), st, c++);
		inst->shim_pid = sqlite3_column_int(st, c++);
		inst->pid = sqlite3_column_int(st, c++);
		db_copy(inst->hypervisor, sizeof(inst->hypervisor), st, c++);
		inst->created_at = sqlite3_column_int64(st, c++);
		inst->started_at = sqlite3_column_int64(st, c++);
		inst->finished_at = sqlite3_column_int64(st, c++);
		inst->stop_requested = sqlite3_column_int(st, c++);
		if (instance_state_parse(state, &inst->state) < 0)
			inst->state = INST_EXITED;
		if (instance_policy_parse(policy, &inst->policy,
					  &inst->restart_max, perr,
					  sizeof(perr)) < 0)
			inst->policy = RESTART_NO;
		inst->next = kd.instances;
		kd.instances = inst;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return util_err(err, errlen, "database: %s",
				sqlite3_errmsg(kd.db));
	return 0;
}
