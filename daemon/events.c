/*
 * The event stream (GET /v1/events, `kiln events`): what happened to
 * instances and images, one JSON object a line.  Events are kept in a
 * ring of the last EVENTS_RING; each has a sequence number, and a reader
 * asks for the next one after the last it saw, waiting on a condition
 * variable.  A reader that falls more than the ring behind skips ahead
 * (and is told how many it missed).  The ring has its own lock, so
 * emitting never waits for readers and may be done with kd.lock held.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kilnd.h"

#define EVENTS_RING 1024

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t events_cond;
static char *events_ring[EVENTS_RING];
static uint64_t events_seq; /* of the newest event; 0: none yet */
static int events_ready;

static void events_init_once(void)
{
	pthread_condattr_t a;

	if (events_ready)
		return;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&events_cond, &a);
	pthread_condattr_destroy(&a);
	events_ready = 1;
}

void events_emit(const char *type, const char *action, const char *id,
		 const char *name, void *extra)
{
	json_t *e = extra ? (json_t *)extra : json_object();
	char when[40], *line;

	kilnd_time_format(kilnd_now_ms(), when, sizeof(when));
	json_object_set_new(e, "time", json_string(when));
	json_object_set_new(e, "type", json_string(type));
	json_object_set_new(e, "action", json_string(action));
	if (id != NULL)
		json_object_set_new(e, "id", json_string(id));
	if (name != NULL)
		json_object_set_new(e, "name", json_string(name));
	line = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(e);
	if (line == NULL)
		return;
	kilnd_debug("event %s", line);
	pthread_mutex_lock(&events_lock);
	events_init_once();
	events_seq++;
	free(events_ring[events_seq % EVENTS_RING]);
	events_ring[events_seq % EVENTS_RING] = line;
	pthread_cond_broadcast(&events_cond);
	pthread_mutex_unlock(&events_lock);
}

uint64_t events_last_seq(void)
{
	uint64_t s;

	pthread_mutex_lock(&events_lock);
	s = events_seq;
	pthread_mutex_unlock(&events_lock);
	return s;
}

char *events_next(uint64_t *seq, int timeout_ms)
{
	struct timespec until;
	char *line = NULL;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&events_lock);
	events_init_once();
	while (events_seq <= *seq && !kd.stopping)
		if (pthread_cond_timedwait(&events_cond, &events_lock,
					   &until) != 0)
			break;
	if (events_seq > *seq) {
		uint64_t next = *seq + 1;
		if (events_seq - next >= EVENTS_RING) {
			uint64_t missed = events_seq - EVENTS_RING + 1 - next;
			line = util_asprintf(
			    "{\"action\":\"overflow\",\"missed\":%llu,"
			    "\"type\":\"kilnd\"}",
			    (unsigned long long)missed);
			*seq = events_seq - EVENTS_RING;
		} else {
			line = strdup(events_ring[next % EVENTS_RING]);
			*seq = next;
		}
	}
	pthread_mutex_unlock(&events_lock);
	return line;
}
