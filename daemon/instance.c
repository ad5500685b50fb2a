/*
 * Instances: their life cycle under kd.lock (see kilnd.h).
 *
 *   created --start--> running --(monitor ends)--> exited
 *                         |                  \--> restarting --> running
 *                         +--stop/kill--> stopped
 *
 * Starting writes STATE/instances/ID/shim.json and runs the shim (a
 * re-exec of kilnd, see shim.c) with a pipe on its fd 3; the shim answers
 * "ok PID" once the monitor runs, or "error MESSAGE".  The lock is let go
 * while kilnd waits for that answer (inst->busy says a start or stop is
 * under way; other requests on the instance wait for it), so starting
 * many instances at once overlaps their exec()s.
 *
 * When the shim ends, instance_exited() reads the status the shim wrote
 * (STATE/instances/ID/exit), detaches the network and applies the restart
 * policy: no | on-failure[:N] | always, with a delay of 100 ms doubling
 * to 10 s, back to 100 ms after a run of at least 10 s.  A stop, kill or
 * rm is never undone by the policy.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hv.h"
#include "http.h"
#include "kiln/abi.h"
#include "kilnd.h"

static const char *const instance_states[] = {
    [INST_CREATED] = "created", [INST_RUNNING] = "running",
    [INST_EXITED] = "exited",	[INST_RESTARTING] = "restarting",
    [INST_STOPPED] = "stopped",
};

const char *instance_state_name(enum instance_state s)
{
	return instance_states[s];
}

int instance_state_parse(const char *s, enum instance_state *out)
{
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(instance_states); i++)
		if (strcmp(s, instance_states[i]) == 0) {
			*out = (enum instance_state)i;
			return 0;
		}
	return -1;
}

int instance_policy_parse(const char *s, enum restart_policy *p, int *max,
			  char *err, size_t errlen)
{
	*max = 0;
	if (strcmp(s, "no") == 0 || s[0] == '\0') {
		*p = RESTART_NO;
		return 0;
	}
	if (strcmp(s, "always") == 0) {
		*p = RESTART_ALWAYS;
		return 0;
	}
	if (strncmp(s, "on-failure", 10) == 0) {
		*p = RESTART_ON_FAILURE;
		if (s[10] == '\0')
			return 0;
		if (s[10] == ':' && s[11] >= '1' && s[11] <= '9') {
			char *end;
			long v = strtol(s + 11, &end, 10);
			if (*end == '\0' && v > 0 && v <= 1000000) {
				*max = (int)v;
				return 0;
			}
		}
	}
	return util_err(err, errlen,
			"invalid restart policy '%s' (use no, on-failure, "
			"on-failure:N or always)",
			s);
}

void instance_policy_format(const struct instance *inst, char *buf, size_t len)
{
	switch (inst->policy) {
	case RESTART_ALWAYS:
		snprintf(buf, len, "always");
		break;
	case RESTART_ON_FAILURE:
		if (inst->restart_max > 0)
			snprintf(buf, len, "on-failure:%d", inst->restart_max);
		else
			snprintf(buf, len, "on-failure");
		break;
	default:
		snprintf(buf, len, "no");
	}
}

struct instance *instance_new(void)
{
	struct instance *inst = calloc(1, sizeof(*inst));

	if (inst == NULL)
		return NULL;
	inst->exit_code = -1;
	inst->pidfd = -1;
	inst->backoff_ms = KILND_BACKOFF_MIN_MS;
	return inst;
}

void instance_free(struct instance *inst)
{
	if (inst == NULL)
		return;
	if (inst->pidfd >= 0)
		close(inst->pidfd);
	strv_release(&inst->ports);
	strv_release(&inst->env);
	free(inst);
}

static int instance_is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

struct instance *instance_find(const char *ref, int *status, char *err,
			       size_t errlen)
{
	struct instance *found = NULL;
	size_t len = strlen(ref), n = 0;

	for (struct instance *i = kd.instances; i; i = i->next)
		if (strcmp(i->name, ref) == 0 || strcmp(i->id, ref) == 0)
			return i;
	if (len >= 4 && len < KILND_ID_LEN && instance_is_hex(ref)) {
		for (struct instance *i = kd.instances; i; i = i->next)
			if (strncmp(i->id, ref, len) == 0) {
				found = i;
				n++;
			}
		if (n == 1)
			return found;
		if (n > 1) {
			*status = 400;
			util_err(err, errlen,
				 "instance ID prefix '%s' is ambiguous (%zu "
				 "instances; give more digits or the name)",
				 ref, n);
			return NULL;
		}
	}
	*status = 404;
	util_err(err, errlen, "no such instance '%s' (see 'kiln ps -a')", ref);
	return NULL;
}

int instance_running(const struct instance *inst)
{
	return inst->pidfd >= 0;
}

void instance_event(const struct instance *inst, const char *action)
{
	json_t *extra = json_object();

	json_object_set_new(extra, "image", json_string(inst->image));
	json_object_set_new(extra, "state",
			    json_string(instance_state_name(inst->state)));
	if (inst->exit_code >= 0 && strcmp(action, "die") == 0)
		json_object_set_new(extra, "exit_code",
				    json_integer(inst->exit_code));
	if (strcmp(action, "restart") == 0)
		json_object_set_new(extra, "restart_count",
				    json_integer(inst->restart_count));
	events_emit("instance", action, inst->id, inst->name, extra);
}

/* Waits (the lock is let go meanwhile) until no start or stop of inst is
 * under way.  The reference keeps inst allocated if another thread
 * removes it meanwhile. */
int instance_wait_idle(struct instance *inst)
{
	inst->refs++;
	while (inst->busy > 0 && !inst->removed)
		pthread_cond_wait(&kd.changed, &kd.lock);
	inst->refs--;
	if (inst->removed) {
		if (inst->refs == 0)
			instance_free(inst);
		return -1;
	}
	return 0;
}

/* Waits for kd.changed until deadline (monotonic ms; 0: none); 0, or -1
 * once the deadline passed. */
static int instance_wait_change(int64_t deadline)
{
	struct timespec ts;

	if (deadline == 0) {
		pthread_cond_wait(&kd.changed, &kd.lock);
		return 0;
	}
	if (kilnd_mono_ms() >= deadline)
		return -1;
	ts.tv_sec = (time_t)(deadline / 1000);
	ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
	pthread_cond_timedwait(&kd.changed, &kd.lock, &ts);
	return 0;
}

/* The kernel command line words of a run: hostname, network, env. */
static int instance_kernel_args(const struct instance *inst, struct strv *args)
{
	int rc = 0;

	rc |= strv_push_owned(args,
			      util_asprintf("kiln.hostname=%s", inst->name));
	if (inst->tap[0] != '\0') {
		rc |= strv_push_owned(
		    args,
		    util_asprintf("kiln.ip=%s/%d", inst->ip, inst->prefix));
		if (inst->gateway[0] != '\0')
			rc |= strv_push_owned(
			    args, util_asprintf("kiln.gw=%s", inst->gateway));
	}
	for (size_t i = 0; i < inst->env.n; i++) {
		char *enc = config_encode(inst->env.v[i]);
		rc |= enc ? strv_push_owned(args,
					    util_asprintf("kiln.env=%s", enc))
			  : -1;
		free(enc);
	}
	return rc ? -1 : 0;
}

/* STATE/instances/ID/shim.json for the coming run. */
static int instance_write_spec(const struct instance *inst,
			       const struct image_use *u, char *err,
			       size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct strv args = {0};
	json_t *o, *a;
	int qemu = strcmp(inst->hypervisor, "qemu") == 0, rc;

	if (instance_kernel_args(inst, &args) < 0) {
		strv_release(&args);
		return util_err(err, errlen, "out of memory");
	}
	a = json_array();
	for (size_t i = 0; i < args.n; i++)
		json_array_append_new(a, json_string(args.v[i]));
	strv_release(&args);
	o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:I, s:o, s:I, s:I}",
		      "hypervisor", qemu ? "qemu" : "kiln-vmm", "binary",
		      qemu ? hv_qemu_binary() : kd.vmm, "kvm", kd.qemu_kvm,
		      "kernel", u->kernel, "rootfs", u->rootfs, "memory_mib",
		      (json_int_t)inst->memory_mib, "kernel_args", a,
		      "log_max_size", (json_int_t)kd.log_max_size,
		      "log_max_files", (json_int_t)kd.log_max_files);
	if (o == NULL)
		return util_err(err, errlen, "out of memory");
	if (inst->tap[0] != '\0') {
		json_object_set_new(o, "tap", json_string(inst->tap));
		json_object_set_new(o, "mac", json_string(inst->mac));
	}
	kilnd_instance_path(inst->id, "shim.json.tmp", tmp, sizeof(tmp));
	kilnd_instance_path(inst->id, "shim.json", path, sizeof(path));
	rc = json_dump_file(o, tmp, JSON_COMPACT);
	json_decref(o);
	if (rc < 0 || rename(tmp, path) < 0)
		return util_err(err, errlen, "cannot write '%s': %s", path,
				strerror(errno));
	return 0;
}

/* Reads the shim's one-line answer within KILND_START_TIMEOUT_S. */
static int instance_read_answer(int fd, char *buf, size_t len)
{
	size_t n = 0;
	int64_t deadline = kilnd_mono_ms() + KILND_START_TIMEOUT_S * 1000;

	while (n + 1 < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - kilnd_mono_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return -1;
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return n > 0 ? 0 : -1;
}

/* Forks and execs the shim with the answer pipe on fd 3. */
static pid_t instance_spawn_shim(const struct instance *inst, int answer_w)
{
	char dir[PATH_MAX];
	char *argv[] = {"kilnd", "shim", "--id", (char *)inst->id,
			"--dir", dir,	 NULL};
	pid_t pid;

	kilnd_instance_path(inst->id, NULL, dir, sizeof(dir));
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here: kilnd has
		 * threads. */
		int nul = open("/dev/null", O_RDWR);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
		    dup2(nul, 2) < 0 || dup2(answer_w, 3) < 0)
			_exit(KILN_EXIT_MONITOR);
		close_range(4, ~0U, 0);
		execv(kd.self_exe, argv);
		_exit(KILN_EXIT_MONITOR);
	}
	return pid;
}

int instance_start(struct instance *inst, int *status, char *err, size_t errlen)
{
	struct image_use use;
	char dir[PATH_MAX], path[PATH_MAX], answer[1024];
	int hs[2] = {-1, -1}, ok;
	pid_t shim;

	*status = 500;
	memset(&use, 0, sizeof(use));
	if (inst->state == INST_RUNNING)
		return 0;
	if (strcmp(inst->hypervisor, "kiln-vmm") == 0 && !kd.kvm) {
		*status = 409;
		util_err(err, errlen,
			 "instance '%s' runs on kiln-vmm, which needs KVM: %s "
			 "(recreate it with --hypervisor qemu)",
			 inst->name, kd.kvm_why);
		goto fail;
	}
	if (images_use(inst->image_id, &use, err, errlen) < 0) {
		*status = 409;
		goto fail;
	}
	kilnd_instance_path(inst->id, NULL, dir, sizeof(dir));
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		util_err(err, errlen, "cannot create '%s': %s", dir,
			 strerror(errno));
		goto fail;
	}
	kilnd_instance_path(inst->id, "exit", path, sizeof(path));
	unlink(path);
	if (inst->network[0] != '\0' && netglue_attach(inst, err, errlen) < 0)
		goto fail;
	if (instance_write_spec(inst, &use, err, errlen) < 0)
		goto fail_net;
	if (pipe2(hs, O_CLOEXEC) < 0) {
		util_err(err, errlen, "cannot create a pipe: %s",
			 strerror(errno));
		goto fail_net;
	}
	shim = instance_spawn_shim(inst, hs[1]);
	close(hs[1]);
	if (shim < 0) {
		util_err(err, errlen, "cannot start the shim: %s",
			 strerror(errno));
		close(hs[0]);
		goto fail_net;
	}
	/* Recorded now: should kilnd die before the answer, the next one
	 * finds and ends this unfinished start (supervisor_recover). */
	inst->shim_pid = shim;
	db_instance_save(inst);

	/* Let go of the lock while the shim starts the monitor. */
	inst->busy++;
	pthread_mutex_unlock(&kd.lock);
	ok = instance_read_answer(hs[0], answer, sizeof(answer));
	close(hs[0]);
	pthread_mutex_lock(&kd.lock);
	inst->busy--;
	pthread_cond_broadcast(&kd.changed);

	if (ok == 0 && strncmp(answer, "ok ", 3) == 0) {
		inst->shim_pid = shim;
		inst->pid = (pid_t)atoi(answer + 3);
		inst->pidfd = (int)pidfd_open(shim, 0);
		inst->state = INST_RUNNING;
		inst->started_at = kilnd_now_ms();
		inst->run_start_mono = kilnd_mono_ms();
		inst->stop_requested = 0;
		inst->error[0] = '\0';
		db_instance_save(inst);
		instance_event(inst, "start");
		images_use_release(&use);
		supervisor_wake();
		return 0;
	}
	/* The shim failed before the monitor ran: it has ended or ends now. */
	kill(shim, SIGKILL);
	while (waitpid(shim, NULL, 0) < 0 && errno == EINTR)
		;
	inst->shim_pid = 0;
	if (ok == 0 && strncmp(answer, "error ", 6) == 0)
		util_err(err, errlen, "%s", answer + 6);
	else
		util_err(err, errlen,
			 "the shim of instance '%s' did not answer (see the "
			 "kilnd log)",
			 inst->name);
fail_net:
	if (inst->network[0] != '\0')
		netglue_detach(inst, 0);
fail:
	images_use_release(&use);
	inst->state = INST_EXITED;
	inst->exit_code = KILN_EXIT_MONITOR;
	inst->finished_at = kilnd_now_ms();
	snprintf(inst->error, sizeof(inst->error), "%s", err);
	db_instance_save(inst);
	pthread_cond_broadcast(&kd.changed);
	return -1;
}

/* Is the shim's pidfd readable (the shim ended)? */
static int instance_shim_ended(const struct instance *inst)
{
	struct pollfd p = {.fd = inst->pidfd, .events = POLLIN};

	return inst->pidfd < 0 || (poll(&p, 1, 0) > 0 && (p.revents & POLLIN));
}

void instance_signal(struct instance *inst, int sig)
{
	if (inst->pidfd < 0 || instance_shim_ended(inst))
		return;
	if (sig == SIGKILL) {
		/* The shim leads its own session and process group; the
		 * monitor is in it. */
		kill(-inst->shim_pid, SIGKILL);
		return;
	}
	pidfd_send_signal(inst->pidfd, sig, NULL, 0);
}

int instance_stop(struct instance *inst, unsigned timeout_s)
{
	int64_t deadline;

	if (instance_wait_idle(inst) < 0)
		return -1;
	if (inst->state == INST_RESTARTING) {
		inst->state = INST_STOPPED;
		inst->stop_requested = 1;
		db_instance_save(inst);
		instance_event(inst, "stop");
		pthread_cond_broadcast(&kd.changed);
		return 0;
	}
	if (!instance_running(inst))
		return 0;
	inst->busy++;
	inst->stop_requested = 1;
	db_instance_save(inst);
	instance_signal(inst, SIGTERM);
	deadline = kilnd_mono_ms() + (int64_t)timeout_s * 1000;
	while (instance_running(inst))
		if (instance_wait_change(deadline) < 0)
			break;
	if (instance_running(inst)) {
		kilnd_log("instance '%s' did not stop within %u s of SIGTERM: "
			  "killing it",
			  inst->name, timeout_s);
		snprintf(inst->kill_reason, sizeof(inst->kill_reason),
			 "stopped with SIGKILL: it did not end within %u s of "
			 "SIGTERM",
			 timeout_s);
		instance_signal(inst, SIGKILL);
		while (instance_running(inst))
			instance_wait_change(0);
	}
	inst->busy--;
	pthread_cond_broadcast(&kd.changed);
	return 0;
}

/* Reads STATE/instances/ID/exit: status and why. */
static int instance_read_exit(const struct instance *inst, int *status,
			      char *why, size_t whylen, int64_t *when)
{
	char path[PATH_MAX], buf[1024];
	struct stat st;
	FILE *f;
	int rc = -1;

	kilnd_instance_path(inst->id, "exit", path, sizeof(path));
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		*status = atoi(buf);
		rc = 0;
		why[0] = '\0';
		if (fgets(why, (int)whylen, f) != NULL)
			why[strcspn(why, "\n")] = '\0';
	}
	if (fstat(fileno(f), &st) == 0)
		*when = (int64_t)st.st_mtim.tv_sec * 1000 +
			st.st_mtim.tv_nsec / 1000000;
	fclose(f);
	return rc;
}

/* The monitor must be gone before its tap is deleted or reused; after a
 * shim was killed, PR_SET_PDEATHSIG kills it, but not synchronously. */
static void instance_reap_monitor(struct instance *inst)
{
	char path[64], cmd[256];
	int fd, pfd;
	ssize_t n;
	const char *base;

	if (inst->pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)inst->pid);
	pfd = (int)pidfd_open(inst->pid, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pfd < 0)
		goto out;
	n = read(fd, cmd, sizeof(cmd) - 1);
	if (n <= 0)
		goto out;
	cmd[n] = '\0';
	base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
	/* Only a monitor of ours: a reused pid is left alone. */
	if (strcmp(base, "kiln-vmm") != 0 && strncmp(base, "qemu-", 5) != 0 &&
	    strstr(cmd, "vmm") == NULL)
		goto out;
	pidfd_send_signal(pfd, SIGKILL, NULL, 0);
	{
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		poll(&p, 1, 2000);
	}
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
}

/* Decides what follows a run that ended (or a start that failed). */
static void instance_apply_policy(struct instance *inst)
{
	int again = 0;

	if (inst->stop_requested) {
		inst->state = INST_STOPPED;
		return;
	}
	if (inst->policy == RESTART_ALWAYS)
		again = 1;
	else if (inst->policy == RESTART_ON_FAILURE)
		again = inst->exit_code != 0 &&
			(inst->restart_max == 0 ||
			 inst->restart_count < inst->restart_max);
	if (!again || kd.stopping) {
		inst->state = INST_EXITED;
		return;
	}
	if (inst->run_start_mono > 0 &&
	    kilnd_mono_ms() - inst->run_start_mono >=
		KILND_BACKOFF_RESET_S * 1000)
		inst->backoff_ms = KILND_BACKOFF_MIN_MS;
	inst->state = INST_RESTARTING;
	inst->restart_at = kilnd_mono_ms() + inst->backoff_ms;
	inst->backoff_ms *= 2;
	if (inst->backoff_ms > KILND_BACKOFF_MAX_MS)
		inst->backoff_ms = KILND_BACKOFF_MAX_MS;
}

void instance_exited(struct instance *inst)
{
	int status = -1, wst = 0, reaped = 0;
	char why[512] = "";
	int64_t when = kilnd_now_ms();

	if (inst->pidfd >= 0) {
		close(inst->pidfd);
		inst->pidfd = -1;
	}
	if (inst->shim_pid > 0 && waitpid(inst->shim_pid, &wst, WNOHANG) > 0)
		reaped = 1;
	if (instance_read_exit(inst, &status, why, sizeof(why), &when) < 0) {
		/* The shim was killed before it could write a status. */
		status = reaped && WIFSIGNALED(wst) ? 128 + WTERMSIG(wst)
						    : 128 + SIGKILL;
		if (inst->kill_reason[0] != '\0')
			snprintf(why, sizeof(why), "%s", inst->kill_reason);
		else
			snprintf(why, sizeof(why),
				 "the instance's shim (pid %d) ended without "
				 "recording an exit status (killed?)",
				 (int)inst->shim_pid);
		instance_reap_monitor(inst);
	}
	inst->kill_reason[0] = '\0';
	inst->exit_code = status;
	inst->finished_at = when;
	snprintf(inst->error, sizeof(inst->error), "%s", why);
	inst->shim_pid = 0;
	inst->pid = 0;
	if (inst->network[0] != '\0')
		netglue_detach(inst, 0);
	instance_apply_policy(inst);
	db_instance_save(inst);
	instance_event(inst, "die");
	if (inst->state == INST_STOPPED)
		instance_event(inst, "stop");
	pthread_cond_broadcast(&kd.changed);
	if (inst->state == INST_RESTARTING)
		supervisor_wake();
}

void instance_restart_due(struct instance *inst)
{
	char err[1024];
	int status;

	inst->restart_count++;
	if (instance_start(inst, &status, err, sizeof(err)) == 0) {
		db_instance_save(inst);
		instance_event(inst, "restart");
		return;
	}
	kilnd_log("cannot restart instance '%s': %s", inst->name, err);
	/* A failed start counts as a failed run. */
	instance_apply_policy(inst);
	db_instance_save(inst);
	instance_event(inst, "die");
	if (inst->state == INST_RESTARTING)
		supervisor_wake();
}

/* Removes STATE/instances/ID and what is in it (flat). */
static void instance_remove_dir(const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	DIR *d;
	struct dirent *e;

	kilnd_instance_path(id, NULL, dir, sizeof(dir));
	d = opendir(dir);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

void instance_destroy(struct instance *inst)
{
	struct instance **pp;

	netglue_ports_close(inst);
	if (inst->network[0] != '\0')
		netglue_detach(inst, 1);
	instance_remove_dir(inst->id);
	db_instance_delete(inst->id);
	for (pp = &kd.instances; *pp; pp = &(*pp)->next)
		if (*pp == inst) {
			*pp = inst->next;
			break;
		}
	instance_event(inst, "destroy");
	inst->removed = 1;
	pthread_cond_broadcast(&kd.changed);
	if (inst->refs == 0)
		instance_free(inst);
}

static json_t *instance_time_json(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return json_null();
	kilnd_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *instance_strv_json(const struct strv *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

void *instance_json(const struct instance *inst)
{
	char policy[32];
	json_t *o;

	instance_policy_format(inst, policy, sizeof(policy));
	o = json_object();
	json_object_set_new(o, "id", json_string(inst->id));
	json_object_set_new(o, "name", json_string(inst->name));
	json_object_set_new(o, "image", json_string(inst->image));
	json_object_set_new(o, "image_id", json_string(inst->image_id));
	json_object_set_new(o, "state",
			    json_string(instance_state_name(inst->state)));
	json_object_set_new(o, "ip",
			    inst->ip[0] ? json_string(inst->ip) : json_null());
	json_object_set_new(o, "network",
			    inst->network[0] ? json_string(inst->network)
					     : json_null());
	json_object_set_new(
	    o, "mac", inst->mac[0] ? json_string(inst->mac) : json_null());
	json_object_set_new(o, "ports", instance_strv_json(&inst->ports));
	json_object_set_new(o, "env", instance_strv_json(&inst->env));
	json_object_set_new(o, "restart", json_string(policy));
	json_object_set_new(o, "restart_count",
			    json_integer(inst->restart_count));
	json_object_set_new(o, "exit_code",
			    inst->exit_code >= 0 ? json_integer(inst->exit_code)
						 : json_null());
	json_object_set_new(o, "error",
			    inst->error[0] ? json_string(inst->error)
					   : json_null());
	json_object_set_new(
	    o, "pid", inst->pid > 0 ? json_integer(inst->pid) : json_null());
	json_object_set_new(o, "shim_pid",
			    inst->shim_pid > 0 ? json_integer(inst->shim_pid)
					       : json_null());
	json_object_set_new(o, "created_at",
			    instance_time_json(inst->created_at));
	json_object_set_new(o, "started_at",
			    instance_time_json(inst->started_at));
	json_object_set_new(o, "finished_at",
			    instance_time_json(inst->finished_at));
	json_object_set_new(o, "hypervisor", json_string(inst->hypervisor));
	json_object_set_new(o, "memory_mib",
			    json_integer((json_int_t)inst->memory_mib));
	return o;
}
