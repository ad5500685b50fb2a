/*
 * kilnd's entry point: flags, the state directory and its lock, the
 * network namespace, the database, finding running instances again, the
 * API socket, and shutdown.  `kilnd shim ...` is the per-instance shim
 * instead (shim.c).  docs/daemon.md describes all of it.
 *
 * SIGTERM and SIGINT end kilnd cleanly (the socket is removed); instances
 * keep running either way and are found again at the next start, as they
 * are after a SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "hv.h"
#include "http.h"
#include "kiln/abi.h"
#include "kilnd.h"

#define KILND_VERSION "0.1.0"

struct kilnd kd;

static const char kilnd_usage[] =
    "usage: kilnd [OPTIONS]\n"
    "\n"
    "kiln's daemon: keeps images and instances, supervises them and serves\n"
    "the API (docs/api.md) on a unix socket.  Instances keep running when\n"
    "kilnd stops or is killed; the next kilnd finds them again.\n"
    "\n"
    "Options:\n"
    "      --state DIR          state directory (default $KILN_STATE, else\n"
    "                           /var/lib/kiln as root, else\n"
    "                           ~/.local/share/kiln)\n"
    "      --socket PATH        API socket (default $KILN_HOST, else\n"
    "                           /run/kiln/kilnd.sock as root, else\n"
    "                           $XDG_RUNTIME_DIR/kiln-UID/kilnd.sock)\n"
    "      --netns NAME         enter network namespace /run/netns/NAME\n"
    "                           first: bridges, taps, published ports and\n"
    "                           monitors all live there\n"
    "      --log FILE           append kilnd's own log to FILE (default\n"
    "                           stderr)\n"
    "      --log-max-size SIZE  rotate an instance's console.log at SIZE\n"
    "                           (default 1M; K, M, G suffixes)\n"
    "      --log-max-files N    console logs kept per instance, the\n"
    "                           current one included (default 3)\n"
    "      --max-upload SIZE    largest image upload (default 4G)\n"
    "      --debug              log every request and event\n"
    "      --version            print the version\n"
    "  -h, --help               show this help\n";

int64_t kilnd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kilnd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kilnd_time_format(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void kilnd_vlog(const char *fmt, va_list ap)
{
	char when[40], line[2048];

	kilnd_time_format(kilnd_now_ms(), when, sizeof(when));
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s kilnd: %s\n", when, line);
}

void kilnd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kilnd_vlog(fmt, ap);
	va_end(ap);
}

void kilnd_debug(const char *fmt, ...)
{
	va_list ap;

	if (!kd.debug)
		return;
	va_start(ap, fmt);
	kilnd_vlog(fmt, ap);
	va_end(ap);
}

int kilnd_instance_path(const char *id, const char *name, char *out,
			size_t outlen)
{
	int n =
	    name ? snprintf(out, outlen, "%s/instances/%s/%s", kd.state_dir, id,
			    name)
		 : snprintf(out, outlen, "%s/instances/%s", kd.state_dir, id);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static void kilnd_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2))) __attribute__((noreturn));

static void kilnd_die(const char *fmt, ...)
{
	va_list ap;

	fputs("kilnd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(KILN_EXIT_MONITOR);
}

/* mkdir -p with mode for the directories it creates. */
static int kilnd_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void kilnd_enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(name, '/') != NULL)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		kilnd_die("cannot open network namespace '%s': %s (create it "
			  "with: ip netns add %s)",
			  path, strerror(errno), name);
	if (setns(fd, CLONE_NEWNET) < 0)
		kilnd_die("cannot enter network namespace '%s': %s", path,
			  strerror(errno));
	close(fd);
}

/* STATE/kilnd.lock, held (flock) for kilnd's life: two daemons on one
 * state directory would corrupt each other's instances. */
static void kilnd_lock_state(void)
{
	char path[PATH_MAX + 16], pid[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/kilnd.lock", kd.state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		kilnd_die("cannot open '%s': %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			kilnd_die("cannot lock '%s': %s", path,
				  strerror(errno));
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		kilnd_die("state directory '%s' is in use by another kilnd%s%s "
			  "(stop it, or use another --state)",
			  kd.state_dir, pid[0] ? ", pid " : "", pid);
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		kilnd_die("cannot write '%s': %s", path, strerror(errno));
	/* fd stays open (and locked) until kilnd exits. */
}

/* Binds the API socket: 0660, its directory created if missing.  A
 * socket file nobody answers on is stale and replaced. */
static int kilnd_listen(void)
{
	struct sockaddr_un sa;
	char dir[PATH_MAX];
	char *slash;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(kd.socket_path) >= sizeof(sa.sun_path))
		kilnd_die("socket path '%s' is too long (at most %zu bytes)",
			  kd.socket_path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, kd.socket_path);
	snprintf(dir, sizeof(dir), "%s", kd.socket_path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (kilnd_mkdirs(dir, 0755) < 0)
			kilnd_die("cannot create '%s': %s", dir,
				  strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		kilnd_die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		kilnd_die("another kilnd is serving '%s' (stop it, or use "
			  "another --socket)",
			  kd.socket_path);
	close(fd);
	unlink(kd.socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		kilnd_die("cannot bind '%s': %s", kd.socket_path,
			  strerror(errno));
	if (chmod(kd.socket_path, 0660) < 0 || listen(fd, 256) < 0)
		kilnd_die("cannot listen on '%s': %s", kd.socket_path,
			  strerror(errno));
	return fd;
}

/* "65536", "64K", "1M", "4G" (optionally "KiB", "MB"...) -> bytes. */
static uint64_t kilnd_size_arg(const char *opt, const char *s)
{
	unsigned long long v, unit = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && errno == 0) {
		switch (*end == '\0' ? 0 : (*end | 0x20)) {
		case 0:
			break;
		case 'k':
			unit = 1ULL << 10;
			end++;
			break;
		case 'm':
			unit = 1ULL << 20;
			end++;
			break;
		case 'g':
			unit = 1ULL << 30;
			end++;
			break;
		default:
			unit = 0;
		}
		if (unit > 1 &&
		    (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0))
			end += strlen(end);
		if (unit != 0 && *end == '\0' && v > 0 && v <= (~0ULL) / unit)
			return v * unit;
	}
	kilnd_die("invalid %s '%s' (use e.g. 64K, 1M or 4G)", opt, s);
}

static void kilnd_paths(void)
{
	char self[PATH_MAX - 16], *slash;
	const char *vmm = getenv("KILN_VMM");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		kilnd_die("cannot find my own binary (/proc/self/exe): %s",
			  strerror(errno));
	self[n] = '\0';
	snprintf(kd.self_exe, sizeof(kd.self_exe), "%s", self);
	slash = strrchr(self, '/');
	*slash = '\0';
	if (vmm != NULL && vmm[0] != '\0')
		snprintf(kd.vmm, sizeof(kd.vmm), "%s", vmm);
	else
		snprintf(kd.vmm, sizeof(kd.vmm), "%s/kiln-vmm", self);
}

int main(int argc, char **argv)
{
	enum {
		OPT_STATE = 256,
		OPT_SOCKET,
		OPT_NETNS,
		OPT_LOG,
		OPT_LOGSIZE,
		OPT_LOGFILES,
		OPT_UPLOAD,
		OPT_DEBUG,
		OPT_VERSION
	};
	static const struct option longopts[] = {
	    {"state", required_argument, NULL, OPT_STATE},
	    {"socket", required_argument, NULL, OPT_SOCKET},
	    {"netns", required_argument, NULL, OPT_NETNS},
	    {"log", required_argument, NULL, OPT_LOG},
	    {"log-max-size", required_argument, NULL, OPT_LOGSIZE},
	    {"log-max-files", required_argument, NULL, OPT_LOGFILES},
	    {"max-upload", required_argument, NULL, OPT_UPLOAD},
	    {"debug", no_argument, NULL, OPT_DEBUG},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *state = NULL, *sock = NULL, *logfile = NULL;
	char err[1024], path[PATH_MAX + 16];
	pthread_condattr_t ca;
	sigset_t sigs;
	int c, listen_fd, sig;

	if (argc > 1 && strcmp(argv[1], "shim") == 0)
		return shim_main(argc - 1, argv + 1);

	kd.log_max_size = 1024 * 1024;
	kd.log_max_files = 3;
	kd.upload_max = 4ULL * 1024 * 1024 * 1024;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STATE:
			state = optarg;
			break;
		case OPT_SOCKET:
			sock = optarg;
			break;
		case OPT_NETNS:
			kd.netns = optarg;
			break;
		case OPT_LOG:
			logfile = optarg;
			break;
		case OPT_LOGSIZE:
			kd.log_max_size =
			    kilnd_size_arg("--log-max-size", optarg);
			break;
		case OPT_LOGFILES: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 100)
				kilnd_die("invalid --log-max-files '%s' (1 to "
					  "100)",
					  optarg);
			kd.log_max_files = (unsigned)v;
			break;
		}
		case OPT_UPLOAD:
			kd.upload_max = kilnd_size_arg("--max-upload", optarg);
			break;
		case OPT_DEBUG:
			kd.debug = 1;
			break;
		case OPT_VERSION:
			printf("kilnd %s (abi %d)\n", KILND_VERSION,
			       KILN_ABI_VERSION);
			return 0;
		case 'h':
			fputs(kilnd_usage, stdout);
			return 0;
		case ':':
			kilnd_die("option '%s' needs a value (see 'kilnd "
				  "--help')",
				  argv[optind - 1]);
		default:
			kilnd_die("unknown option '%s' (see 'kilnd --help')",
				  argv[optind - 1]);
		}
	}
	if (optind < argc)
		kilnd_die("unexpected argument '%s' (see 'kilnd --help')",
			  argv[optind]);

	/* First, while there is one thread: setns() changes only the
	 * calling thread's namespace, and every later thread, the shims and
	 * the monitors inherit it. */
	if (kd.netns != NULL)
		kilnd_enter_netns(kd.netns);
	if (logfile != NULL) {
		int fd = open(logfile,
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0)
			kilnd_die("cannot open log '%s': %s", logfile,
				  strerror(errno));
		dup2(fd, 2);
		close(fd);
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (state != NULL)
		snprintf(kd.state_dir, sizeof(kd.state_dir), "%s", state);
	else if (client_default_state(kd.state_dir, sizeof(kd.state_dir)) < 0)
		kilnd_die("no state directory: set --state or $KILN_STATE");
	if (sock != NULL)
		client_host_path(sock, kd.socket_path, sizeof(kd.socket_path));
	else if (client_default_host(kd.socket_path, sizeof(kd.socket_path)) <
		 0)
		kilnd_die("no socket path: set --socket or $KILN_HOST");
	if (kd.state_dir[0] != '/') {
		char cwd[PATH_MAX], *abs;
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (abs = util_path_join(cwd, kd.state_dir)) == NULL)
			kilnd_die("cannot resolve '%s'", kd.state_dir);
		snprintf(kd.state_dir, sizeof(kd.state_dir), "%s", abs);
		free(abs);
	}
	kilnd_paths();
	kd.kvm = hv_kvm_choose(kd.kvm_why, sizeof(kd.kvm_why));
	{
		/* QEMU asks the kernel itself: KILN_KVM=1 (a stand-in
		 * kiln-vmm for tests) must not make it try -accel kvm. */
		char why[256];
		kd.qemu_kvm = hv_kvm_usable(why, sizeof(why));
	}

	if (kilnd_mkdirs(kd.state_dir, 0700) < 0)
		kilnd_die("cannot create the state directory '%s': %s",
			  kd.state_dir, strerror(errno));
	kilnd_lock_state();
	for (int i = 0; i < 3; i++) {
		static const char *const sub[] = {"tmp", "instances", "blobs"};
		snprintf(path, sizeof(path), "%s/%s", kd.state_dir, sub[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			kilnd_die("cannot create '%s': %s", path,
				  strerror(errno));
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* Blocked here, so every thread has them blocked; main takes them
	 * with sigwait below. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	pthread_mutex_init(&kd.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&kd.changed, &ca);
	kd.started_ms = kilnd_now_ms();

	snprintf(path, sizeof(path), "%s/kiln.db", kd.state_dir);
	if (db_open(path, err, sizeof(err)) < 0)
		kilnd_die("%s", err);
	if (netglue_init(err, sizeof(err)) < 0)
		kilnd_die("%s", err);
	if (db_instances_load(err, sizeof(err)) < 0)
		kilnd_die("%s", err);
	pthread_mutex_lock(&kd.lock);
	supervisor_recover();
	pthread_mutex_unlock(&kd.lock);
	if (supervisor_start(err, sizeof(err)) < 0)
		kilnd_die("%s", err);
	listen_fd = kilnd_listen();
	if (http_start(listen_fd, err, sizeof(err)) < 0)
		kilnd_die("%s", err);
	kilnd_log("serving on '%s', state in '%s'%s%s; hypervisor: %s",
		  kd.socket_path, kd.state_dir,
		  kd.netns ? ", network namespace " : "",
		  kd.netns ? kd.netns : "",
		  kd.kvm ? "kiln-vmm (KVM)" : "QEMU without KVM (no /dev/kvm)");

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			continue;
		break;
	}
	kilnd_log("stopping on signal %d (%s); instances keep running", sig,
		  strsignal(sig));
	kd.stopping = 1;
	supervisor_wake();
	http_stop();
	unlink(kd.socket_path);
	pthread_mutex_lock(&kd.lock);
	db_close();
	return 0;
}
