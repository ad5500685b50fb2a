# One HTTP GET: prints the status code and writes the body to OUT.
# Usage: http_get.py URL OUT
import http.client
import sys
import urllib.parse

u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
c.request('GET', u.path or '/')
r = c.getresponse()
open(sys.argv[2], 'wb').write(r.read())
print(r.status)
