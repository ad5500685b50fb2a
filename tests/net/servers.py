# The servers tests/net/net_client.c talks to, on HOST (tests/e2e/net_tcp.sh
# and tests/nested/net.sh):
#   BASE     TCP: reads an 8-byte big-endian length and that many bytes,
#            answers their FNV-1a hash as 16 hex digits and a newline, then
#            sends 1 MiB of a fixed pattern and closes
#   BASE+1   TCP: resets every connection at once (SO_LINGER 0)
#   BASE+2   TCP: accepts and never says anything
#   BASE+4   UDP: echoes every datagram
#   53/udp   DNS: A queries for NAME get HOST; other types for NAME an empty
#            answer; other names NXDOMAIN
# Writes "ready" to the file READY once every socket listens, then runs
# until killed.
# Usage: servers.py HOST BASE READY NAME
import socket
import struct
import sys
import threading

host, base, ready, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def pattern(n):
    return bytes((i * 31 + (i >> 8) + (i >> 16)) & 0xff for i in range(n))


BACK = pattern(1 << 20)


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def recv_exact(c, n):
    buf = bytearray()
    while len(buf) < n:
        d = c.recv(min(65536, n - len(buf)))
        if not d:
            raise EOFError('short: %d of %d' % (len(buf), n))
        buf += d
    return bytes(buf)


def bulk(c):
    n = struct.unpack('>Q', recv_exact(c, 8))[0]
    data = recv_exact(c, n)
    c.sendall(b'%016x\n' % fnv(data))
    c.sendall(BACK)
    c.close()


def reset(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    c.close()


quiet = []


def silent(c):
    quiet.append(c)


def tcp_server(port, handler):
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, port))
    lsock.listen(16)

    def loop():
        while True:
            c, _ = lsock.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def udp_echo(port):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, port))

    def loop():
        while True:
            d, a = u.recvfrom(70000)
            u.sendto(d, a)
    threading.Thread(target=loop, daemon=True).start()


def dns():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, 53))

    def loop():
        while True:
            q, a = u.recvfrom(4096)
            i, labels = 12, []
            while q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode())
                i += 1 + q[i]
            qtype = struct.unpack('>H', q[i + 1:i + 3])[0]
            question = q[12:i + 5]
            known = '.'.join(labels).lower() == name
            answer = b''
            if known and qtype == 1:
                answer = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + socket.inet_aton(host)
            flags = 0x8180 if known else 0x8183
            u.sendto(q[:2] + struct.pack('>HHHHH', flags, 1, 1 if answer else 0, 0, 0) + question + answer, a)
    threading.Thread(target=loop, daemon=True).start()


tcp_server(base, bulk)
tcp_server(base + 1, reset)
tcp_server(base + 2, silent)
udp_echo(base + 4)
dns()
open(ready, 'w').write('ready\n')
threading.Event().wait()
