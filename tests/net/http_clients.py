# Many concurrent keep-alive HTTP clients (tests/e2e/net_tcp.sh and the
# nested kiln-vmm suite, tests/nested/net.sh): N threads connect, wait for
# each other at a barrier (so all N connections are open at once), then
# send REQS requests each on their one connection and check every answer:
# status 200, the body equal to FILE, "Connection: keep-alive".
# Usage: http_clients.py HOST PORT N REQS FILE
# Prints "N clients ok, M failed" and the first failures; status 1 if any.
import http.client
import sys
import threading

host, port, n, reqs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
want = open(sys.argv[5], 'rb').read()
ok, bad, lock = [0], [], threading.Lock()
barrier = threading.Barrier(n)


def client(i):
    try:
        c = http.client.HTTPConnection(host, port, timeout=60)
        c.connect()
        barrier.wait(timeout=120)
        for _ in range(reqs):
            c.request('GET', '/index.html')
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or body != want or r.getheader('Connection') != 'keep-alive':
                raise Exception('status %d, %d bytes' % (r.status, len(body)))
        c.close()
        with lock:
            ok[0] += 1
    except Exception as e:
        with lock:
            bad.append('client %d: %r' % (i, e))


ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print('%d clients ok, %d failed' % (ok[0], len(bad)))
for b in bad[:5]:
    print(b)
sys.exit(0 if not bad else 1)
