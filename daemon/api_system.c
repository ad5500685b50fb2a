/*
 * The daemon-wide routes: /v1/version, the event stream /v1/events
 * (NDJSON, one event a line, until the client goes away), and
 * /v1/networks (the work is DNET's daemon/network.c, through netglue.c).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "kiln/abi.h"
#include "kilnd.h"

enum MHD_Result api_version(struct http_req *r)
{
	char since[40];

	kilnd_time_format(kd.started_ms, since, sizeof(since));
	return http_reply_json(
	    r, 200,
	    json_pack("{s:s, s:s, s:i, s:b, s:s, s:s, s:s, s:i, s:s}",
		      "version", "0.1.0", "api", "v1", "abi", KILN_ABI_VERSION,
		      "kvm", kd.kvm, "default_hypervisor",
		      kd.kvm ? "kiln-vmm" : "qemu", "state_dir", kd.state_dir,
		      "socket", kd.socket_path, "pid", (int)getpid(),
		      "started_at", since));
}

struct events_stream {
	uint64_t seq;
	struct MHD_Connection *conn;
	char *pending; /* a line that did not fit the last buffer */
	size_t off;
};

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct events_stream *s = cls;

	while (s->pending == NULL) {
		char *line;

		if (kd.stopping)
			return MHD_CONTENT_READER_END_OF_STREAM;
		line = events_next(&s->seq, 1000);
		if (line != NULL) {
			s->pending = util_asprintf("%s\n", line);
			free(line);
			s->off = 0;
			if (s->pending == NULL)
				return MHD_CONTENT_READER_END_WITH_ERROR;
		} else if (http_client_gone(s->conn)) {
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	{
		size_t left = strlen(s->pending + s->off);
		size_t n = left < max ? left : max;

		memcpy(buf, s->pending + s->off, n);
		s->off += n;
		if (s->off == strlen(s->pending)) {
			free(s->pending);
			s->pending = NULL;
		}
		return (ssize_t)n;
	}
}

static void events_free(void *cls)
{
	struct events_stream *s = cls;

	free(s->pending);
	free(s);
}

enum MHD_Result api_events(struct http_req *r)
{
	struct events_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return http_reply_error(r, 500, "out of memory");
	s->seq = events_last_seq();
	s->conn = r->conn;
	return http_reply_stream(r, "application/x-ndjson", events_read, s,
				 events_free);
}

enum MHD_Result api_networks_list(struct http_req *r)
{
	char *text = netglue_network_list();
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	if (j == NULL)
		return http_reply_error(r, 500, "cannot list the networks");
	return http_reply_json(r, 200, j);
}

enum MHD_Result api_networks_create(struct http_req *r)
{
	json_t *name = json_object_get(r->json, "name");
	json_t *subnet = json_object_get(r->json, "subnet");
	const char *key;
	json_t *v;
	char err[512];
	int status = 400;

	json_object_foreach(r->json, key, v)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "subnet") != 0)
			return http_reply_error(
			    r, 400, "unknown field '%s' (name, subnet)", key);
	}
	if (!json_is_string(name))
		return http_reply_error(r, 400,
					"missing 'name': the network's name");
	if (subnet != NULL && !json_is_null(subnet) && !json_is_string(subnet))
		return http_reply_error(r, 400,
					"'subnet' must be a string such as "
					"\"10.89.0.0/24\"");
	if (netglue_network_create(json_string_value(name),
				   json_string_value(subnet), &status, err,
				   sizeof(err)) < 0)
		return http_reply_error(r, (unsigned)status, "%s", err);
	events_emit("network", "create", NULL, json_string_value(name), NULL);
	{
		char *text = netglue_network_list();
		json_t *all = text ? json_loads(text, 0, NULL) : NULL;
		json_t *one = NULL;
		size_t i;

		free(text);
		json_array_foreach(all, i, v)
		{
			if (json_equal(json_object_get(v, "name"), name))
				one = json_incref(v);
		}
		json_decref(all);
		return http_reply_json(r, 201, one ? one : json_object());
	}
}

enum MHD_Result api_networks_delete(struct http_req *r)
{
	char err[512];
	int status = 400;

	if (netglue_network_remove(r->param[0], &status, err, sizeof(err)) < 0)
		return http_reply_error(r, (unsigned)status, "%s", err);
	events_emit("network", "remove", NULL, r->param[0], NULL);
	return http_reply_empty(r, 204);
}
