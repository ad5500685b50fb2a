/*
 * Waiting, and telling waiters that something changed.
 *
 * The kernel runs the program's syscalls on one CPU with interrupts off,
 * so a wait needs no queue of sleepers: a blocked thread's condition is
 * re-checked by the scheduler (kernel/sched/sched.c) whenever something
 * may have changed (sched_kick, an interrupt, a deadline), and meanwhile
 * other threads run or the CPU halts.  Drivers that learn about new input
 * by looking rather than by interrupt (lwIP's input and timers) register
 * a poller, run before every check.
 *
 * Blocking waits need nothing more.  epoll's edge triggering needs to know
 * that a file's readiness *may have changed* since it last looked, so files
 * whose readiness changes (pipes, eventfds, epoll instances, sockets) call
 * file_notify(): it runs the callbacks of the watchers attached to that
 * file (an epoll item attaches one per watched file).  This is Linux's
 * wake-up with a key: the events passed are the ones that may have risen.
 */
#ifndef WAIT_H
#define WAIT_H

#include "kernel.h"

struct file;

/* Blocks the calling thread until ready(arg) returns true (0), the
 * monotonic clock reaches deadline_ns (-ETIMEDOUT; UINT64_MAX waits
 * forever), or a signal is pending for the thread (-EINTR: the caller
 * returns -EINTR or a restart code, see signal.h).  ready is called with
 * interrupts disabled, after the pollers, at least once (so a past
 * deadline is a non-blocking check), then whenever the scheduler sees
 * that something may have changed, possibly while another thread runs
 * (so it must look only at the kernel objects arg points to); it may
 * have side effects (epoll harvests events in it) since the wait ends as
 * soon as it returns true, and it is not called again for that wait.
 * Other threads run meanwhile, so after the wait the caller re-checks
 * what it needs (another thread may have taken the data).  A wait
 * nothing can end hangs, as on Linux. */
int wait_until(bool (*ready)(void *arg), void *arg, uint64_t deadline_ns);
/* The same, but a signal does not end it (for waits that must finish). */
int wait_until_uninterruptible(bool (*ready)(void *arg), void *arg,
			       uint64_t deadline_ns);

/* Adds a poller: fn runs before every readiness check of every wait
 * (and in wait_run_pollers), with interrupts disabled.  next, if not
 * NULL, returns the monotonic time (ns) by which fn must run again even
 * if no interrupt comes (lwIP's timers: net_poll_deadline), UINT64_MAX
 * for "only after an interrupt"; waits arm their timer no later than
 * that.  A poller without next is run at least every WAIT_POLL_PERIOD_NS
 * while a wait lasts.  Up to WAIT_MAX_POLLERS, for the kernel's
 * lifetime. */
void wait_register_poller(void (*fn)(void), uint64_t (*next)(void));
/* Runs every poller once (a non-blocking socket operation calls this
 * before looking at its queue). */
void wait_run_pollers(void);
/* The earliest time (monotonic ns) a poller must run again; UINT64_MAX
 * when none needs to. */
uint64_t wait_pollers_due(uint64_t now);

#define WAIT_MAX_POLLERS    8		  /* registered pollers */
#define WAIT_POLL_PERIOD_NS 10000000ULL	  /* 10 ms: pollers without next */
#define WAIT_MAX_SLEEP_NS   1000000000ULL /* 1 s: longest single halt */

/* Sleeps until the monotonic clock reaches deadline_ns (0) or a signal
 * arrives (-EINTR); other threads and the pollers (the network) run
 * meanwhile. */
int wait_sleep_until(uint64_t deadline_ns);

/* Reads the program's struct timespec at uts as nanoseconds: 0, -EFAULT,
 * or -EINVAL for a negative time or tv_nsec outside [0, 1e9).  Values
 * too large for 64 bits saturate at UINT64_MAX. */
int user_timespec_ns(const void *uts, uint64_t *ns);

/* Converts a relative timeout in nanoseconds to a deadline for
 * wait_until, saturating at UINT64_MAX (forever). */
uint64_t wait_deadline_after(uint64_t ns);

/* For the syscalls that wait (ppoll, pselect6, epoll_pwait2): reads the
 * program's struct timespec at uts and sets *deadline to now plus it
 * (UINT64_MAX for a NULL uts: no timeout).  0, -EFAULT, or -EINVAL for a
 * negative time or tv_nsec outside [0, 1e9). */
int wait_user_timespec(const void *uts, uint64_t *deadline);
/* The signal mask argument of ppoll, pselect6 and epoll_pwait: NULL is
 * fine, else size must be 8 (-EINVAL) and the mask readable (-EFAULT), as
 * Linux checks it.  On success the mask replaces the thread's blocked
 * set for the call: signal_restore_mask() puts the old one back unless a
 * signal handler runs first (then sigreturn does, as on Linux). */
int wait_user_sigmask(const void *umask, size_t size);

/* ---- readiness ---- */

/* f's ready mask (POLLIN, POLLOUT, POLLHUP...) from its poll op; files
 * without one (regular files, devices) are always readable and writable:
 * POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, Linux's DEFAULT_POLLMASK. */
unsigned int file_poll(struct file *f);

/* Key meaning "the file is going away": watchers must detach. */
#define WAIT_POLLFREE 0x4000u

/* One watcher of one file's readiness; embedded in its owner (an epoll
 * item), which the callback finds with container_of.  events is the
 * notify key: the poll bits that may have risen, 0 for "anything", or
 * WAIT_POLLFREE when the file is released (the watcher is already
 * detached when its callback sees WAIT_POLLFREE). */
struct file_watch {
	struct file_watch *next;
	void (*notify)(struct file_watch *w, unsigned int events);
};

/* Attaches or detaches a watcher (the caller owns w's memory; detaching
 * one that is not attached does nothing). */
void file_watch_add(struct file *f, struct file_watch *w);
void file_watch_del(struct file *f, struct file_watch *w);

/* Tells f's watchers that events (POLLIN, POLLOUT, POLLHUP...; 0: not
 * known which) may have become ready.  Call it from any file whose
 * readiness can rise: after data arrives, space frees up, the peer
 * closes.  Cheap when nobody watches. */
void file_notify(struct file *f, unsigned int events);

/* Detaches every watcher of f, calling each with WAIT_POLLFREE.  Every
 * file type with a poll op calls this from its release op (epoll does not
 * hold references to the files it watches, as on Linux, so it must learn
 * when one goes away). */
void file_watch_release(struct file *f);

#endif
