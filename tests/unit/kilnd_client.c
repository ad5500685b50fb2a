/*
 * Unit tests of lib/client.c: the default state directory and socket
 * (KILN_STATE, KILN_HOST, root and non-root defaults, "unix://"), the
 * %-escaping of path segments, and a call to a socket nobody serves
 * (unreachable, so kiln may start kilnd) versus one that is not a socket.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "lib_test.h"

int main(void)
{
	char buf[4096], err[512], *e;
	struct client_call c;
	char *dir = lib_test_tmpdir(), *path;

	setenv("KILN_STATE", "/srv/kiln", 1);
	CHECK(client_default_state(buf, sizeof(buf)) == 0 &&
		  strcmp(buf, "/srv/kiln") == 0,
	      "KILN_STATE wins: %s", buf);
	unsetenv("KILN_STATE");
	setenv("HOME", "/home/u", 1);
	unsetenv("XDG_DATA_HOME");
	client_default_state(buf, sizeof(buf));
	CHECK(strcmp(buf, geteuid() == 0 ? "/var/lib/kiln"
					 : "/home/u/.local/share/kiln") == 0,
	      "the default state: %s", buf);
	setenv("KILN_HOST", "unix:///run/x.sock", 1);
	CHECK(client_default_host(buf, sizeof(buf)) == 0 &&
		  strcmp(buf, "/run/x.sock") == 0,
	      "KILN_HOST, unix:// dropped: %s", buf);
	unsetenv("KILN_HOST");
	client_default_host(buf, sizeof(buf));
	if (geteuid() == 0) {
		CHECK(strcmp(buf, "/run/kiln/kilnd.sock") == 0,
		      "root's default socket: %s", buf);
	} else {
		snprintf(err, sizeof(err), "/kiln-%u/kilnd.sock",
			 (unsigned)geteuid());
		CHECK(strstr(buf, err) != NULL, "a user's default socket: %s",
		      buf);
	}
	CHECK(client_default_host(buf, 4) < 0, "a too small buffer is -1");

	e = client_escape("library/web:1 a%b");
	CHECK(e != NULL && strcmp(e, "library%2Fweb:1%20a%25b") == 0,
	      "escape: %s", e);
	free(e);
	e = client_escape("");
	CHECK(e != NULL && e[0] == '\0', "escape of nothing");
	free(e);

	path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/nobody.sock", dir);
	client_call_init(&c, "GET", "/v1/version");
	CHECK(client_call(path, &c, err, sizeof(err)) == -1 && c.unreachable,
	      "a missing socket is unreachable: %s", err);
	client_call_release(&c);
	sprintf(path, "%s/file", dir);
	fclose(fopen(path, "w"));
	client_call_init(&c, "GET", "/v1/version");
	CHECK(client_call(path, &c, err, sizeof(err)) == -1 && c.unreachable,
	      "a file that is not a socket is unreachable too: %s", err);
	client_call_release(&c);
	unlink(path);
	free(path);
	lib_test_rmdir(dir);
	free(dir);
	return lib_test_done("kilnd_client");
}
