/*
 * The /v1/instances routes (docs/api.md): create (and optionally start),
 * list, inspect, start, stop, restart, kill and remove.  Requests are
 * checked whole before anything is created, each problem a 400/404/409
 * with a message that says what to change; the instance's life cycle
 * itself is instance.c's.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "http.h"
#include "kiln/abi.h"
#include "kilnd.h"

#define MIB (1024 * 1024)

/* An instance name is its hostname too: letters, digits, '-' and '.',
 * not starting or ending with '-' or '.'. */
static int api_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KILND_NAME_MAX || s[0] == '-' || s[0] == '.' ||
	    s[n - 1] == '-' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return 0;
	return 1;
}

static struct instance *api_find_name(const char *name)
{
	for (struct instance *i = kd.instances; i; i = i->next)
		if (strcmp(i->name, name) == 0)
			return i;
	return NULL;
}

static int api_new_id(char *id)
{
	unsigned char raw[KILND_ID_LEN / 2];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* "web-3f2a1c": the image's name (its last path segment, made a valid
 * hostname) and ID digits; more digits if that is taken. */
static void api_default_name(const char *hint, const char *id, char *out,
			     size_t outlen)
{
	char base[40];
	const char *h = hint ? strrchr(hint, '/') : NULL;
	size_t n = 0;

	h = h ? h + 1 : hint ? hint : "kiln";
	for (; *h && n < 32; h++)
		base[n++] = (*h == '_' || *h == '.') ? '-' : *h;
	while (n > 0 && base[n - 1] == '-')
		n--;
	base[n] = '\0';
	if (n == 0 || base[0] == '-')
		snprintf(base, sizeof(base), "kiln");
	for (int digits = 6; digits <= KILND_ID_LEN; digits += 2) {
		snprintf(out, outlen, "%s-%.*s", base, digits, id);
		if (api_find_name(out) == NULL)
			return;
	}
}

/* The instance named in the path, under kd.lock; NULL after replying. */
/* After a wait: the instance was removed by another request. */
static enum MHD_Result api_gone(struct http_req *r)
{
	pthread_mutex_unlock(&kd.lock);
	return http_reply_error(r, 404,
				"instance '%s' was removed meanwhile (see "
				"'kiln ps -a')",
				r->param[0]);
}

/*
 * Takes kd.lock and finds the instance the path names; with idle, also
 * waits until no start or stop of it is under way.  NULL (lock released,
 * *ret the 404 answer) when there is none, or it went away meanwhile.
 */
static struct instance *api_lookup(struct http_req *r, int idle,
				   enum MHD_Result *ret)
{
	char err[512];
	int status;
	struct instance *inst;

	pthread_mutex_lock(&kd.lock);
	inst = instance_find(r->param[0], &status, err, sizeof(err));
	if (inst == NULL) {
		pthread_mutex_unlock(&kd.lock);
		*ret = http_reply_error(r, (unsigned)status, "%s", err);
	} else if (idle && instance_wait_idle(inst) < 0) {
		*ret = api_gone(r);
		inst = NULL;
	}
	return inst;
}

static enum MHD_Result api_reply_instance(struct http_req *r, unsigned status,
					  struct instance *inst)
{
	json_t *j = instance_json(inst);

	pthread_mutex_unlock(&kd.lock);
	return http_reply_json(r, status, j);
}

static int api_cmp_created(const void *a, const void *b)
{
	const struct instance *x = *(struct instance *const *)a,
			      *y = *(struct instance *const *)b;

	if (x->created_at != y->created_at)
		return x->created_at > y->created_at ? -1 : 1;
	return strcmp(x->name, y->name);
}

enum MHD_Result api_instances_list(struct http_req *r)
{
	struct instance **v;
	size_t n = 0, k = 0;
	json_t *a;
	int all;

	if (http_query_bool(r, "all", &all) < 0)
		return MHD_YES;
	pthread_mutex_lock(&kd.lock);
	for (struct instance *i = kd.instances; i; i = i->next)
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, 500, "out of memory");
	}
	for (struct instance *i = kd.instances; i; i = i->next)
		if (all || i->state == INST_RUNNING ||
		    i->state == INST_RESTARTING)
			v[k++] = i;
	qsort(v, k, sizeof(*v), api_cmp_created);
	a = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(a, instance_json(v[i]));
	pthread_mutex_unlock(&kd.lock);
	free(v);
	return http_reply_json(r, 200, a);
}

enum MHD_Result api_instances_get(struct http_req *r)
{
	enum MHD_Result ret;
	struct instance *inst;

	inst = api_lookup(r, 0, &ret);
	if (inst == NULL)
		return ret;
	return api_reply_instance(r, 200, inst);
}

/* The fields of a create request, checked. */
struct api_create {
	const char *image, *name, *restart, *network, *hypervisor;
	json_t *env, *ports;
	json_int_t memory_mib;
	int start;
};

static int api_create_parse(json_t *body, struct api_create *c, char *err,
			    size_t errlen)
{
	static const char *const known[] = {
	    "image", "name",	"env",	      "memory_mib", "restart",
	    "ports", "network", "hypervisor", "start",
	};
	const char *key;
	json_t *v;

	memset(c, 0, sizeof(*c));
	json_object_foreach(body, key, v)
	{
		size_t i;
		for (i = 0; i < UTIL_ARRAY_SIZE(known); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == UTIL_ARRAY_SIZE(known))
			return util_err(err, errlen,
					"unknown field '%s' (see docs/api.md)",
					key);
	}
#define API_STR(field)                                                         \
	do {                                                                   \
		v = json_object_get(body, #field);                             \
		if (v != NULL && !json_is_null(v) && !json_is_string(v))       \
			return util_err(err, errlen,                           \
					"'" #field "' must be a string");      \
		c->field = json_string_value(v);                               \
	} while (0)
	API_STR(image);
	API_STR(name);
	API_STR(restart);
	API_STR(network);
	API_STR(hypervisor);
#undef API_STR
	if (c->image == NULL || c->image[0] == '\0')
		return util_err(err, errlen,
				"missing 'image': the image to run (a tag, an "
				"ID or an ID prefix)");
	c->env = json_object_get(body, "env");
	c->ports = json_object_get(body, "ports");
	if (c->env != NULL && !json_is_null(c->env) && !json_is_array(c->env))
		return util_err(err, errlen,
				"'env' must be an array of \"KEY=VALUE\" "
				"strings");
	if (c->ports != NULL && !json_is_null(c->ports) &&
	    !json_is_array(c->ports))
		return util_err(err, errlen,
				"'ports' must be an array of "
				"\"[ADDR:]HOST:GUEST[/udp]\" strings");
	v = json_object_get(body, "memory_mib");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) ||
		    json_integer_value(v) < KILND_MEMORY_MIN ||
		    json_integer_value(v) > KILND_MEMORY_MAX)
			return util_err(err, errlen,
					"invalid memory_mib %s: want a whole "
					"number of MiB from %d to %d",
					json_is_integer(v) ? "value" : "type",
					KILND_MEMORY_MIN, KILND_MEMORY_MAX);
		c->memory_mib = json_integer_value(v);
	}
	v = json_object_get(body, "start");
	if (v != NULL && !json_is_boolean(v))
		return util_err(err, errlen, "'start' must be true or false");
	c->start = json_is_true(v);
	return 0;
}

enum MHD_Result api_instances_create(struct http_req *r)
{
	struct api_create c;
	struct instance *inst = NULL, *other;
	struct image_use use;
	char err[1024], image_id[72];
	int status = 400;
	size_t i;
	json_t *v;

	memset(&use, 0, sizeof(use));
	if (api_create_parse(r->json, &c, err, sizeof(err)) < 0)
		return http_reply_error(r, 400, "%s", err);
	inst = instance_new();
	if (inst == NULL || api_new_id(inst->id) < 0) {
		instance_free(inst);
		return http_reply_error(r, 500, "cannot make an instance ID");
	}
	if (c.name != NULL && !api_name_valid(c.name)) {
		instance_free(inst);
		return http_reply_error(
		    r, 400,
		    "invalid instance name '%s' (letters, digits, '-' and "
		    "'.', at most %d characters, not starting or ending "
		    "with '-' or '.')",
		    c.name, KILND_NAME_MAX);
	}
	if (c.restart != NULL &&
	    instance_policy_parse(c.restart, &inst->policy, &inst->restart_max,
				  err, sizeof(err)) < 0)
		goto bad;
	json_array_foreach(c.env, i, v)
	{
		const char *kv = json_string_value(v);
		if (kv == NULL || strchr(kv, '=') == NULL || kv[0] == '=') {
			snprintf(err, sizeof(err),
				 "invalid environment entry %s%s%s (use "
				 "KEY=VALUE)",
				 kv ? "'" : "", kv ? kv : "(not a string)",
				 kv ? "'" : "");
			goto bad;
		}
		if (i >= KILND_ENV_MAX) {
			snprintf(err, sizeof(err),
				 "too many environment entries (at most %d)",
				 KILND_ENV_MAX);
			goto bad;
		}
		strv_push(&inst->env, kv);
	}
	json_array_foreach(c.ports, i, v)
	{
		const char *spec = json_string_value(v);
		char canon[64];

		if (spec == NULL) {
			snprintf(err, sizeof(err),
				 "'ports' entries must be strings");
			goto bad;
		}
		if (i >= KILND_PORTS_MAX) {
			snprintf(err, sizeof(err),
				 "too many published ports (at most %d)",
				 KILND_PORTS_MAX);
			goto bad;
		}
		if (netglue_port_parse(spec, canon, sizeof(canon), err,
				       sizeof(err)) < 0)
			goto bad;
		if (strv_find(&inst->ports, canon) >= 0) {
			snprintf(err, sizeof(err),
				 "port '%s' is published twice", spec);
			goto bad;
		}
		strv_push(&inst->ports, canon);
	}
	if (c.network != NULL && strcmp(c.network, "none") == 0)
		inst->network[0] = '\0';
	else
		snprintf(inst->network, sizeof(inst->network), "%s",
			 c.network ? c.network : netglue_default_network());
	if (inst->ports.n > 0 && inst->network[0] == '\0') {
		snprintf(err, sizeof(err),
			 "published ports need a network (drop --network "
			 "none)");
		goto bad;
	}
	if (c.hypervisor == NULL)
		snprintf(inst->hypervisor, sizeof(inst->hypervisor), "%s",
			 kd.kvm ? "kiln-vmm" : "qemu");
	else if (strcmp(c.hypervisor, "kiln") == 0 ||
		 strcmp(c.hypervisor, "kiln-vmm") == 0)
		snprintf(inst->hypervisor, sizeof(inst->hypervisor),
			 "kiln-vmm");
	else if (strcmp(c.hypervisor, "qemu") == 0)
		snprintf(inst->hypervisor, sizeof(inst->hypervisor), "qemu");
	else {
		snprintf(err, sizeof(err),
			 "unknown hypervisor '%s' (use kiln-vmm or qemu)",
			 c.hypervisor);
		goto bad;
	}
	if (strcmp(inst->hypervisor, "kiln-vmm") == 0 && !kd.kvm) {
		snprintf(err, sizeof(err),
			 "hypervisor kiln-vmm needs KVM: %s (use qemu)",
			 kd.kvm_why);
		goto bad;
	}

	pthread_mutex_lock(&kd.lock);
	if (netglue_check_network(inst->network, err, sizeof(err)) < 0) {
		status = 404;
		goto bad_locked;
	}
	if (images_resolve(c.image, image_id, sizeof(image_id), &status, err,
			   sizeof(err)) < 0 ||
	    images_use(image_id, &use, err, sizeof(err)) < 0)
		goto bad_locked;
	snprintf(inst->image, sizeof(inst->image), "%s", c.image);
	snprintf(inst->image_id, sizeof(inst->image_id), "%s", image_id);
	inst->memory_mib = c.memory_mib > 0	? (uint64_t)c.memory_mib
			   : use.memory_mib > 0 ? use.memory_mib
						: KILND_DEFAULT_MEMORY;
	{
		/* kiln run's rule: the first MiB, the kernel, the rootfs
		 * and a MiB for page tables, heap and stack must fit. */
		uint64_t need = (2 * (uint64_t)MIB + use.kernel_size +
				 use.rootfs_size + MIB - 1) /
				MIB;
		if (inst->memory_mib < need) {
			status = 400;
			snprintf(err, sizeof(err),
				 "not enough guest memory: image '%s' needs at "
				 "least %llu MiB but memory_mib is %llu",
				 c.image, (unsigned long long)need,
				 (unsigned long long)inst->memory_mib);
			goto bad_locked;
		}
	}
	if (c.name != NULL) {
		other = api_find_name(c.name);
		if (other != NULL) {
			status = 409;
			snprintf(err, sizeof(err),
				 "the name '%s' is already used by instance "
				 "%.12s (remove it with 'kiln rm %s', or "
				 "choose another --name)",
				 c.name, other->id, c.name);
			goto bad_locked;
		}
		snprintf(inst->name, sizeof(inst->name), "%s", c.name);
	} else {
		api_default_name(use.name_hint, inst->id, inst->name,
				 sizeof(inst->name));
	}
	images_use_release(&use);
	inst->state = INST_CREATED;
	inst->created_at = kilnd_now_ms();
	if (netglue_lease(inst, c.start, &status, err, sizeof(err)) < 0)
		goto bad_locked;
	if (netglue_ports_open(inst, &status, err, sizeof(err)) < 0)
		goto bad_release;
	if (db_instance_save(inst) < 0) {
		status = 500;
		snprintf(err, sizeof(err), "cannot record the instance");
		goto bad_release;
	}
	inst->next = kd.instances;
	kd.instances = inst;
	instance_event(inst, "create");
	if (c.start && instance_start(inst, &status, err, sizeof(err)) < 0) {
		char name[KILND_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%s", inst->name);
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(
		    r, (unsigned)status,
		    "instance '%s' was created but did not start: %s", name,
		    err);
	}
	return api_reply_instance(r, 201, inst);

bad_release:
	netglue_ports_close(inst);
	if (inst->network[0] != '\0')
		netglue_detach(inst, 1);
bad_locked:
	pthread_mutex_unlock(&kd.lock);
	images_use_release(&use);
	instance_free(inst);
	return http_reply_error(r, (unsigned)status, "%s", err);
bad:
	instance_free(inst);
	return http_reply_error(r, 400, "%s", err);
}

enum MHD_Result api_instances_start(struct http_req *r)
{
	enum MHD_Result ret;
	struct instance *inst;
	char err[1024];
	int status;

	inst = api_lookup(r, 1, &ret);
	if (inst == NULL)
		return ret;
	if (inst->state == INST_RUNNING || inst->state == INST_RESTARTING)
		return api_reply_instance(r, 200, inst);
	inst->backoff_ms = KILND_BACKOFF_MIN_MS;
	if (instance_start(inst, &status, err, sizeof(err)) < 0) {
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, (unsigned)status, "%s", err);
	}
	return api_reply_instance(r, 200, inst);
}

/* ?timeout=S for stop and restart; -1 after replying 400. */
static int api_timeout(struct http_req *r, unsigned *out)
{
	const char *t = http_query(r, "timeout");
	char *end;
	long v;

	*out = KILND_STOP_TIMEOUT;
	if (t == NULL)
		return 0;
	v = strtol(t, &end, 10);
	if (t[0] < '0' || t[0] > '9' || *end != '\0' || v < 0 || v > 3600) {
		http_reply_error(r, 400,
				 "invalid timeout '%s' (whole seconds, 0 to "
				 "3600)",
				 t);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

enum MHD_Result api_instances_stop(struct http_req *r)
{
	enum MHD_Result ret;
	struct instance *inst;
	unsigned timeout;

	if (api_timeout(r, &timeout) < 0)
		return MHD_YES;
	inst = api_lookup(r, 0, &ret);
	if (inst == NULL)
		return ret;
	if (instance_stop(inst, timeout) < 0)
		return api_gone(r);
	return api_reply_instance(r, 200, inst);
}

enum MHD_Result api_instances_restart(struct http_req *r)
{
	enum MHD_Result ret;
	struct instance *inst;
	unsigned timeout;
	char err[1024];
	int status;

	if (api_timeout(r, &timeout) < 0)
		return MHD_YES;
	inst = api_lookup(r, 0, &ret);
	if (inst == NULL)
		return ret;
	if (instance_stop(inst, timeout) < 0 || instance_wait_idle(inst) < 0)
		return api_gone(r);
	inst->backoff_ms = KILND_BACKOFF_MIN_MS;
	if (inst->state != INST_RUNNING &&
	    instance_start(inst, &status, err, sizeof(err)) < 0) {
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, (unsigned)status, "%s", err);
	}
	instance_event(inst, "restart");
	return api_reply_instance(r, 200, inst);
}

static const struct {
	const char *name;
	int sig;
} api_signals[] = {
    {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},
    {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

enum MHD_Result api_instances_kill(struct http_req *r)
{
	const char *name = http_query(r, "signal");
	enum MHD_Result ret;
	struct instance *inst;
	int sig = SIGKILL;

	if (name != NULL) {
		const char *n = strncmp(name, "SIG", 3) == 0 ? name + 3 : name;
		size_t i;
		for (i = 0; i < UTIL_ARRAY_SIZE(api_signals); i++)
			if (strcmp(n, api_signals[i].name) == 0)
				break;
		if (i == UTIL_ARRAY_SIZE(api_signals))
			return http_reply_error(
			    r, 400,
			    "unknown signal '%s' (use KILL, TERM, INT, HUP, "
			    "QUIT, USR1 or USR2)",
			    name);
		sig = api_signals[i].sig;
	}
	inst = api_lookup(r, 1, &ret);
	if (inst == NULL)
		return ret;
	if (inst->state == INST_RESTARTING) {
		instance_stop(inst, 0);
		return api_reply_instance(r, 200, inst);
	}
	if (!instance_running(inst)) {
		char n[KILND_NAME_MAX + 1];
		snprintf(n, sizeof(n), "%s", inst->name);
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, 409, "instance '%s' is not running",
					n);
	}
	inst->stop_requested = 1;
	db_instance_save(inst);
	if (sig == SIGKILL)
		snprintf(inst->kill_reason, sizeof(inst->kill_reason),
			 "killed with SIGKILL (kiln kill)");
	instance_signal(inst, sig);
	if (sig == SIGKILL) {
		inst->busy++;
		while (instance_running(inst))
			pthread_cond_wait(&kd.changed, &kd.lock);
		inst->busy--;
		pthread_cond_broadcast(&kd.changed);
	}
	return api_reply_instance(r, 200, inst);
}

enum MHD_Result api_instances_delete(struct http_req *r)
{
	enum MHD_Result ret;
	struct instance *inst;
	int force;

	if (http_query_bool(r, "force", &force) < 0)
		return MHD_YES;
	inst = api_lookup(r, 1, &ret);
	if (inst == NULL)
		return ret;
	if ((inst->state == INST_RUNNING || inst->state == INST_RESTARTING) &&
	    !force) {
		char n[KILND_NAME_MAX + 1];
		snprintf(n, sizeof(n), "%s", inst->name);
		pthread_mutex_unlock(&kd.lock);
		return http_reply_error(r, 409,
					"instance '%s' is %s (stop it first, "
					"or use 'kiln rm -f')",
					n, instance_state_name(inst->state));
	}
	if (inst->state == INST_RESTARTING) {
		inst->state = INST_STOPPED;
		inst->stop_requested = 1;
	}
	if (instance_running(inst)) {
		inst->stop_requested = 1;
		inst->busy++;
		instance_signal(inst, SIGKILL);
		while (instance_running(inst))
			pthread_cond_wait(&kd.changed, &kd.lock);
		inst->busy--;
		pthread_cond_broadcast(&kd.changed);
		if (instance_wait_idle(inst) < 0)
			return api_gone(r);
	}
	instance_destroy(inst);
	pthread_mutex_unlock(&kd.lock);
	return http_reply_empty(r, 204);
}
