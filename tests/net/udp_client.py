# The client of tests/net/udp_echo.c: random datagrams of 1 byte to 65507
# bytes (the largest UDP payload; fragmented both ways), each twice, every
# echo compared with what was sent and where it came from; a lost datagram
# is retried (up to 3 times) since UDP may drop.  Then "quit" ends the
# echo server.
# Usage: udp_client.py HOST PORT [TIMEOUT]
# Prints "22 datagrams echoed, M wrong"; status 1 if M > 0.
import os
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]) if len(sys.argv) > 3 else 2)
sizes = [1, 10, 100, 512, 1400, 1472, 1473, 4000, 8000, 30000, 65507]
bad = 0
for n in sizes * 2:
    data = os.urandom(n)
    for attempt in range(3):
        s.sendto(data, (host, port))
        try:
            back, addr = s.recvfrom(70000)
        except socket.timeout:
            print('%d bytes: no answer (attempt %d)' % (n, attempt + 1))
            continue
        break
    else:
        back, addr = None, None
    if back != data or addr != (host, port):
        print('%d bytes: wrong echo (%s from %s)' % (n, None if back is None else len(back), addr))
        bad += 1
s.sendto(b'quit', (host, port))
print('%d datagrams echoed, %d wrong' % (2 * len(sizes), bad))
sys.exit(1 if bad else 0)
