/*
 * GET /v1/instances/{x}/logs[?follow=1&tail=N]: an instance's console as
 * text/plain, from the rotated files (console.log.N ... .1) and then
 * console.log, which the shim writes.
 *
 * tail=N starts N lines before the end (counted backwards across the
 * files).  follow=1 keeps the answer open and sends what the shim writes
 * next, following console.log through rotations (a new inode under the
 * same name: the old file is read to its end first), and ends once the
 * instance has stopped and everything it wrote was sent, when the
 * instance is removed, when kilnd stops, or when the client goes away.
 * Each stream runs in its connection's own thread (http.c), so sleeping
 * here between polls of the file holds up no one else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "kilnd.h"

#define LOGS_FILES_MAX 101
#define LOGS_POLL_MS   100

struct logs_stream {
	char id[KILND_ID_LEN + 1];
	int follow;
	int fds[LOGS_FILES_MAX];
	int nfds; /* the last one is console.log (or -1, not there yet) */
	int cur;
	char path[PATH_MAX]; /* console.log */
	struct MHD_Connection *conn;
};

static void logs_sleep(void)
{
	struct timespec ts = {0, LOGS_POLL_MS * 1000000L};

	nanosleep(&ts, NULL);
}

/* Finds where the last n lines start: *file (index into fds) and *off. */
static void logs_tail(struct logs_stream *s, long n, int *file, off_t *off)
{
	char buf[65536];
	long seen = 0;
	int first_byte = 1;

	*file = 0;
	*off = 0;
	for (int f = s->nfds - 1; f >= 0; f--) {
		struct stat st;
		off_t end;

		if (s->fds[f] < 0 || fstat(s->fds[f], &st) < 0)
			continue;
		end = st.st_size;
		while (end > 0) {
			off_t start = end > (off_t)sizeof(buf)
					  ? end - (off_t)sizeof(buf)
					  : 0;
			ssize_t got =
			    pread(s->fds[f], buf, (size_t)(end - start), start);
			if (got <= 0)
				break;
			for (ssize_t i = got - 1; i >= 0; i--) {
				if (buf[i] != '\n')
					continue;
				/* The newline ending the last line does not
				 * start a line. */
				if (first_byte && start + i == end - 1 &&
				    f == s->nfds - 1) {
					first_byte = 0;
					continue;
				}
				if (++seen == n) {
					*file = f;
					*off = start + i + 1;
					return;
				}
			}
			first_byte = 0;
			end = start;
		}
		first_byte = 0;
	}
}

/* Is the instance done (no more output will come)? */
static int logs_instance_done(const char *id)
{
	int done = 1;

	pthread_mutex_lock(&kd.lock);
	for (struct instance *i = kd.instances; i; i = i->next)
		if (strcmp(i->id, id) == 0) {
			done = !(i->state == INST_RUNNING ||
				 i->state == INST_RESTARTING || i->busy > 0);
			break;
		}
	pthread_mutex_unlock(&kd.lock);
	return done;
}

/* console.log was replaced (rotated) or appeared: switch to the new one
 * once the old one is read to its end (the caller just got EOF). */
static void logs_reopen(struct logs_stream *s)
{
	struct stat now, held;
	int last = s->nfds - 1;
	int fd;

	if (stat(s->path, &now) < 0)
		return;
	if (s->fds[last] >= 0 && fstat(s->fds[last], &held) == 0 &&
	    held.st_ino == now.st_ino && held.st_dev == now.st_dev)
		return;
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (s->fds[last] >= 0)
		close(s->fds[last]);
	s->fds[last] = fd;
}

static ssize_t logs_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct logs_stream *s = cls;

	for (;;) {
		int fd = s->fds[s->cur];
		ssize_t n = fd >= 0 ? read(fd, buf, max) : 0;
		int done;

		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			return n;
		if (n < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (s->cur < s->nfds - 1) {
			s->cur++;
			continue;
		}
		if (!s->follow)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Caught up with the live file. */
		done = logs_instance_done(s->id);
		logs_reopen(s);
		if (s->fds[s->cur] != fd)
			continue; /* a new file: read it */
		if (done) {
			/* Whatever was written before the end is in. */
			n = fd >= 0 ? read(fd, buf, max) : 0;
			return n > 0 ? n : MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (kd.stopping)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (http_client_gone(s->conn))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		logs_sleep();
	}
}

static void logs_free(void *cls)
{
	struct logs_stream *s = cls;

	for (int i = 0; i < s->nfds; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	free(s);
}

enum MHD_Result api_instances_logs(struct http_req *r)
{
	const char *tail = http_query(r, "tail");
	struct logs_stream *s;
	struct instance *inst;
	char err[512], path[PATH_MAX + 16];
	long ntail = -1;
	int status, follow;

	if (http_query_bool(r, "follow", &follow) < 0)
		return MHD_YES;
	if (tail != NULL && strcmp(tail, "all") != 0) {
		char *end;
		ntail = strtol(tail, &end, 10);
		if (tail[0] < '0' || tail[0] > '9' || *end != '\0' ||
		    ntail < 0) {
			return http_reply_error(r, 400,
						"invalid tail '%s' (a number "
						"of lines, or all)",
						tail);
		}
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return http_reply_error(r, 500, "out of memory");
	pthread_mutex_lock(&kd.lock);
	inst = instance_find(r->param[0], &status, err, sizeof(err));
	if (inst == NULL) {
		pthread_mutex_unlock(&kd.lock);
		free(s);
		return http_reply_error(r, (unsigned)status, "%s", err);
	}
	snprintf(s->id, sizeof(s->id), "%s", inst->id);
	pthread_mutex_unlock(&kd.lock);

	s->follow = follow;
	s->conn = r->conn;
	kilnd_instance_path(s->id, "console.log", s->path, sizeof(s->path));
	for (unsigned i = kd.log_max_files - 1;
	     i >= 1 && s->nfds < LOGS_FILES_MAX - 1; i--) {
		int fd;
		snprintf(path, sizeof(path), "%s.%u", s->path, i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			s->fds[s->nfds++] = fd;
	}
	s->fds[s->nfds++] = open(s->path, O_RDONLY | O_CLOEXEC);
	if (ntail >= 0) {
		int file;
		off_t off;

		if (ntail == 0) {
			file = s->nfds - 1;
			off = s->fds[file] >= 0
				  ? lseek(s->fds[file], 0, SEEK_END)
				  : 0;
		} else {
			logs_tail(s, ntail, &file, &off);
		}
		s->cur = file;
		if (s->fds[file] >= 0)
			lseek(s->fds[file], off, SEEK_SET);
	}
	return http_reply_stream(r, "text/plain; charset=utf-8", logs_read, s,
				 logs_free);
}
