# Ten clients that ask for /big.bin, read about 100 kB of it and close,
# every other one with a RST (SO_LINGER 0): the server must survive them
# (the caller then checks that it still answers).
# Usage: http_abort.py HOST PORT
import socket
import struct
import sys

for i in range(10):
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
    s.sendall(b'GET /big.bin HTTP/1.1\r\nHost: kiln\r\n\r\n')
    got = 0
    while got < 100000:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
print('10 clients gave up mid-transfer')
