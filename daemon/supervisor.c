/*
 * Supervision: one thread polls every running instance's shim through a
 * pidfd (pidfd_open works on any process, so shims started by an earlier
 * kilnd are watched the same way as our own children), plus an eventfd
 * that other threads write to when the set changes, with a timeout for
 * the nearest pending restart.  An ended shim goes to instance_exited();
 * a due restart to instance_restart_due().
 *
 * At start, supervisor_recover() looks at every instance the database
 * says is running: its shim is adopted when the recorded pid is alive AND
 * its /proc/PID/cmdline is "kilnd shim --id ID ..." for that instance (a
 * reused pid is never mistaken for a shim); otherwise the instance ended
 * while kilnd was away, and the status the shim left in
 * instances/ID/exit is collected and the restart policy applied as if
 * kilnd had been there.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "kilnd.h"

#define SUPERVISOR_MAX 4096

static pthread_t supervisor_thread;

void supervisor_wake(void)
{
	uint64_t one = 1;
	ssize_t n;

	if (kd.wake_fd > 0) {
		n = write(kd.wake_fd, &one, sizeof(one));
		(void)n;
	}
}

int supervisor_is_shim(pid_t pid, const char *id)
{
	char path[64], buf[1024];
	const char *arg[5] = {0};
	ssize_t n;
	int fd, k = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n && k < 5; i += (ssize_t)strlen(buf + i) + 1)
		arg[k++] = buf + i;
	return k >= 4 && strcmp(arg[1], "shim") == 0 &&
	       strcmp(arg[2], "--id") == 0 && strcmp(arg[3], id) == 0;
}

void supervisor_recover(void)
{
	char err[512];
	struct instance *inst;

	for (inst = kd.instances; inst; inst = inst->next) {
		/* Published ports live in kilnd: open them again. */
		int status;
		if (inst->ports.n > 0 &&
		    netglue_ports_open(inst, &status, err, sizeof(err)) < 0)
			kilnd_log("instance '%s': %s", inst->name, err);
		if (inst->state != INST_RUNNING && inst->shim_pid > 0) {
			/* kilnd died while this instance was starting: its
			 * shim never became a run kilnd knows of. */
			if (supervisor_is_shim(inst->shim_pid, inst->id)) {
				kilnd_log("instance '%s': ending the shim (pid "
					  "%d) of a start kilnd did not finish",
					  inst->name, (int)inst->shim_pid);
				kill(-inst->shim_pid, SIGKILL);
			}
			if (inst->network[0] != '\0')
				netglue_detach(inst, 0);
			inst->shim_pid = 0;
			inst->pid = 0;
			db_instance_save(inst);
		}
		if (inst->state == INST_RESTARTING) {
			inst->restart_at = kilnd_mono_ms();
			continue;
		}
		if (inst->state != INST_RUNNING)
			continue;
		if (inst->shim_pid > 0) {
			int fd = (int)pidfd_open(inst->shim_pid, 0);
			if (fd >= 0 &&
			    supervisor_is_shim(inst->shim_pid, inst->id)) {
				inst->pidfd = fd;
				/* Backoff is counted from now: the run's real
				 * start is unknown to this process's clock. */
				inst->run_start_mono =
				    kilnd_mono_ms() -
				    (kilnd_now_ms() - inst->started_at);
				kilnd_log("instance '%s' is running (shim pid "
					  "%d, monitor pid %d)",
					  inst->name, (int)inst->shim_pid,
					  (int)inst->pid);
				continue;
			}
			if (fd >= 0)
				close(fd);
		}
		kilnd_log("instance '%s' ended while kilnd was away",
			  inst->name);
		instance_exited(inst);
	}
}

static void *supervisor_run(void *arg)
{
	struct pollfd *pfd = calloc(SUPERVISOR_MAX + 1, sizeof(*pfd));
	char(*ids)[KILND_ID_LEN + 1] = calloc(SUPERVISOR_MAX + 1, sizeof(*ids));

	if (pfd == NULL || ids == NULL) {
		kilnd_log("supervisor: out of memory");
		return NULL;
	}
	for (;;) {
		int64_t next = -1, now;
		nfds_t n = 1;
		int timeout = -1;
		struct instance *inst;

		pthread_mutex_lock(&kd.lock);
		if (kd.stopping) {
			pthread_mutex_unlock(&kd.lock);
			break;
		}
		pfd[0] = (struct pollfd){.fd = kd.wake_fd, .events = POLLIN};
		for (inst = kd.instances; inst; inst = inst->next) {
			if (inst->pidfd >= 0 && n <= SUPERVISOR_MAX) {
				pfd[n] = (struct pollfd){.fd = inst->pidfd,
							 .events = POLLIN};
				memcpy(ids[n], inst->id, sizeof(ids[n]));
				n++;
			}
			if (inst->state == INST_RESTARTING &&
			    (next < 0 || inst->restart_at < next))
				next = inst->restart_at;
		}
		pthread_mutex_unlock(&kd.lock);
		if (next >= 0) {
			int64_t left = next - kilnd_mono_ms();
			timeout = left < 0	 ? 0
				  : left > 60000 ? 60000
						 : (int)left;
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
			kilnd_log("supervisor: poll: %s", strerror(errno));
			sleep(1);
			continue;
		}

		pthread_mutex_lock(&kd.lock);
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(kd.wake_fd, &v, sizeof(v));
			(void)r;
		}
		for (nfds_t i = 1; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			for (inst = kd.instances; inst; inst = inst->next)
				if (inst->pidfd == pfd[i].fd &&
				    strcmp(inst->id, ids[i]) == 0) {
					instance_exited(inst);
					break;
				}
		}
	again:
		now = kilnd_mono_ms();
		for (inst = kd.instances; inst && !kd.stopping;
		     inst = inst->next) {
			if (inst->state == INST_RESTARTING &&
			    inst->restart_at <= now && inst->busy == 0) {
				/* Starting lets go of the lock: the list may
				 * change, so look again from the start. */
				instance_restart_due(inst);
				goto again;
			}
		}
		pthread_mutex_unlock(&kd.lock);
	}
	free(pfd);
	free(ids);
	return NULL;
}

int supervisor_start(char *err, size_t errlen)
{
	kd.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kd.wake_fd < 0)
		return util_err(err, errlen, "eventfd: %s", strerror(errno));
	if (pthread_create(&supervisor_thread, NULL, supervisor_run, NULL) != 0)
		return util_err(err, errlen, "cannot start the supervisor");
	pthread_detach(supervisor_thread);
	return 0;
}
