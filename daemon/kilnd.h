/*
 * kilnd, kiln's daemon: what its files share.  docs/daemon.md tells the
 * design; in short:
 *
 *  - main.c parses flags, takes the state directory's lock, enters the
 *    network namespace, opens the database (db.c), finds running
 *    instances again (supervisor.c) and serves the API (http.c, api_*.c)
 *    on a unix socket with libmicrohttpd, one thread per connection.
 *  - Every instance runs under its own shim (shim.c: `kilnd shim`, a
 *    re-exec of this binary in its own session) which starts the monitor
 *    (kiln-vmm or QEMU), writes the console to instances/ID/console.log
 *    with rotation and records the exit status in instances/ID/exit.  So
 *    killing kilnd, even with SIGKILL, never kills an instance.
 *  - supervisor.c watches the shims through pidfds (which work for
 *    processes that are not our children too, after a restart) and
 *    applies restart policies with backoff.
 *
 * Locking: one mutex (kd.lock) covers the instance list, every instance's
 * fields and the database handle's use for instances and images; a
 * condition variable (kd.changed) is broadcast whenever an instance
 * changes, for handlers that wait (stop, rm -f, a start in progress).
 * Nothing slow runs under the lock except the few milliseconds of
 * starting a shim.
 */
#ifndef KILND_H
#define KILND_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct sqlite3;
struct MHD_Connection;

#define KILND_ID_LEN	      64 /* hex digits of an instance ID */
#define KILND_NAME_MAX	      63 /* characters of an instance name */
#define KILND_JSON_BODY_MAX   (64 * 1024)
#define KILND_DEFAULT_MEMORY  64 /* MiB, kiln run's default */
#define KILND_MEMORY_MIN      2
#define KILND_MEMORY_MAX      3072
#define KILND_STOP_TIMEOUT    10 /* seconds before SIGKILL */
#define KILND_BACKOFF_MIN_MS  100
#define KILND_BACKOFF_MAX_MS  10000
#define KILND_BACKOFF_RESET_S 10 /* a run this long resets the backoff */
#define KILND_START_TIMEOUT_S 30 /* shim handshake */
#define KILND_PORTS_MAX	      32
#define KILND_ENV_MAX	      128

/* Daemon-wide settings and state; one instance, kd. */
struct kilnd {
	char state_dir[PATH_MAX];
	char socket_path[PATH_MAX];
	char self_exe[PATH_MAX]; /* this binary, re-executed as the shim */
	char vmm[PATH_MAX];	 /* kiln-vmm: $KILN_VMM or beside kilnd */
	const char *netns;	 /* --netns NAME, or NULL */
	int debug;
	int kvm;      /* kiln-vmm possible: /dev/kvm usable (or KILN_KVM=1) */
	int qemu_kvm; /* QEMU gets -accel kvm: /dev/kvm really usable */
	char kvm_why[256];
	uint64_t log_max_size;	/* bytes of console.log before rotating */
	unsigned log_max_files; /* console.log + rotated files kept */
	uint64_t upload_max;	/* bytes of an image upload */
	struct sqlite3 *db;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct instance *instances; /* list, under lock */
	int wake_fd;		    /* eventfd: wakes the supervisor */
	volatile int stopping;	    /* kilnd is shutting down */
	int64_t started_ms;
};

extern struct kilnd kd;

enum instance_state {
	INST_CREATED,
	INST_RUNNING,
	INST_EXITED,
	INST_RESTARTING,
	INST_STOPPED,
};

enum restart_policy {
	RESTART_NO,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
};

struct proxy;

struct instance {
	struct instance *next;
	char id[KILND_ID_LEN + 1];
	char name[KILND_NAME_MAX + 1];
	char image[320];   /* the reference the user gave */
	char image_id[72]; /* "sha256:..." */
	char network[64];  /* "" : no network */
	char ip[16];	   /* while attached, and kept for display */
	int prefix;
	char gateway[16];
	char mac[18];
	char tap[16];
	struct strv ports; /* canonical "ADDR:HOST:GUEST/proto" */
	struct strv env;   /* "K=V" overrides */
	uint64_t memory_mib;
	enum restart_policy policy;
	int restart_max;     /* on-failure:N; 0 = no limit */
	char hypervisor[16]; /* "kiln-vmm" or "qemu" */
	enum instance_state state;
	int restart_count;
	int stop_requested; /* stop, kill or rm: no restart */
	int exit_code;	    /* -1: never exited */
	char error[512];    /* why the last start or run failed, or "" */
	pid_t shim_pid;
	pid_t pid;				     /* the monitor */
	int64_t created_at, started_at, finished_at; /* unix ms; 0 = never */

	/* Runtime only, not in the database. */
	int pidfd;   /* the shim's, while it runs */
	int busy;    /* a start or stop is under way (lock released) */
	int refs;    /* threads holding inst across a wait */
	int removed; /* destroyed; freed when refs drops to 0 */
	char kill_reason[128];	/* why kilnd SIGKILLed the run, or "" */
	int64_t restart_at;	/* monotonic ms of the next start */
	int backoff_ms;		/* next restart delay */
	int64_t run_start_mono; /* monotonic ms of the last start */
	struct proxy *proxies[KILND_PORTS_MAX];
	size_t nproxies;
};

/* main.c */
int64_t kilnd_now_ms(void);  /* wall clock, unix ms */
int64_t kilnd_mono_ms(void); /* monotonic ms */
void kilnd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kilnd_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "2026-11-25T10:00:00.123Z" into buf (at least 32 bytes). */
void kilnd_time_format(int64_t ms, char *buf, size_t len);
/* instances/ID (or a file in it, when name is not NULL). */
int kilnd_instance_path(const char *id, const char *name, char *out,
			size_t outlen);

/* db.c: open + migrate; the rest take the lock's protection. */
int db_open(const char *path, char *err, size_t errlen);
void db_close(void);
int db_instance_save(const struct instance *inst);
int db_instance_delete(const char *id);
/* Loads every instance into kd.instances (at start). */
int db_instances_load(char *err, size_t errlen);
/* Runs sql (no result rows); 0 or -1 with err. */
int db_exec(const char *sql, char *err, size_t errlen);

/* instance.c (all with kd.lock held unless said otherwise) */
const char *instance_state_name(enum instance_state s);
int instance_state_parse(const char *s, enum instance_state *out);
/* "no", "on-failure", "on-failure:3", "always" */
int instance_policy_parse(const char *s, enum restart_policy *p, int *max,
			  char *err, size_t errlen);
void instance_policy_format(const struct instance *inst, char *buf, size_t len);
struct instance *instance_new(void);
void instance_free(struct instance *inst);
/* By name, full ID or unique ID prefix (4+ hex digits).  NULL with an
 * HTTP status (404, 400 ambiguous) and err. */
struct instance *instance_find(const char *ref, int *status, char *err,
			       size_t errlen);
int instance_running(const struct instance *inst); /* shim alive */
/* Starts the shim; 0, or -1 with err and the HTTP status.  May release
 * and retake the lock (inst->busy is set meanwhile). */
int instance_start(struct instance *inst, int *status, char *err,
		   size_t errlen);
/* Signals the instance's process group (shim + monitor). */
void instance_signal(struct instance *inst, int sig);
/* Stop: SIGTERM, then SIGKILL after timeout_s; waits until the exit is
 * recorded.  Releases the lock while waiting; -1 if inst was removed
 * meanwhile (see instance_wait_idle). */
int instance_stop(struct instance *inst, unsigned timeout_s);
/* The shim ended (its pidfd fired, or it was found dead at start):
 * collects the status, applies the restart policy. */
void instance_exited(struct instance *inst);
/* Waits (lock released) while a start or stop is under way; -1 if inst
 * was removed meanwhile (it is then only valid until the lock is let
 * go). */
int instance_wait_idle(struct instance *inst);
/* Removes runtime resources, files and the row; inst is freed now, or
 * by the last thread that still holds a reference. */
void instance_destroy(struct instance *inst);
/* The restart the supervisor does when restart_at has come. */
void instance_restart_due(struct instance *inst);
/* The instance as JSON (a jansson json_t *, caller decrefs). */
void *instance_json(const struct instance *inst);
/* The events of an instance's life. */
void instance_event(const struct instance *inst, const char *action);

/* supervisor.c */
int supervisor_start(char *err, size_t errlen);
void supervisor_wake(void);
/* At start: finds each recorded instance's shim again, or collects its
 * exit.  Lock held. */
void supervisor_recover(void);
/* Is pid the shim of instance id?  (/proc/PID/cmdline) */
int supervisor_is_shim(pid_t pid, const char *id);

/* shim.c: `kilnd shim --id ID --dir DIR`, the whole life of one run. */
int shim_main(int argc, char **argv);

/* events.c */
void events_emit(const char *type, const char *action, const char *id,
		 const char *name, void *extra /* json_t *, stolen */);
/* The next event after *seq (blocking up to timeout_ms): a new string
 * (NDJSON line) or NULL on timeout. */
char *events_next(uint64_t *seq, int timeout_ms);
uint64_t events_last_seq(void);

/* netglue.c: the instance's network and published ports. */
int netglue_init(char *err, size_t errlen);
int netglue_check_network(const char *network, char *err, size_t errlen);
/* Leases a new instance's address (keeping its tap when keep_tap: it
 * starts at once); -1 with err and status. */
int netglue_lease(struct instance *inst, int keep_tap, int *status, char *err,
		  size_t errlen);
/* Publishes inst->ports (binds now); -1 with err and status. */
int netglue_ports_open(struct instance *inst, int *status, char *err,
		       size_t errlen);
void netglue_ports_close(struct instance *inst);
int netglue_attach(struct instance *inst, char *err, size_t errlen);
void netglue_detach(struct instance *inst, int release);
/* Parses and canonicalizes a -p spec into out. */
int netglue_port_parse(const char *spec, char *out, size_t outlen, char *err,
		       size_t errlen);
/* The default network for new instances ("" : none). */
const char *netglue_default_network(void);
/* The /v1/networks routes' work: a JSON array text (caller frees); 0 or
 * -1 with err and an HTTP status. */
char *netglue_network_list(void);
int netglue_network_create(const char *name, const char *subnet, int *status,
			   char *err, size_t errlen);
int netglue_network_remove(const char *name, int *status, char *err,
			   size_t errlen);

#endif /* KILND_H */
