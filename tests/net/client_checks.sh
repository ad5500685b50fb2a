# The verdicts drawn from one run of tests/net/net_client (the guest as a
# TCP/UDP client of tests/net/servers.py), shared by tests/e2e/net_tcp.sh
# (QEMU) and tests/e2e/vmm_net.sh (kiln-vmm): one check per path issue 3
# names.  Sourced after tests/lib.sh.
# shellcheck shell=sh

# client_check NAME REGEX...: one check ($NC_PREFIX NAME); every REGEX
# must match an "ok - " line of net_client's output ($NC_OUT).
client_check() {
	check_begin "$NC_PREFIX$1"
	shift
	if [ -f "$NC_OUT" ]; then
		cp "$NC_OUT" "$KOUT"
		: >"$KERR"
		cat "$KOUT" >>"$CHECK_LOG"
		for re in "$@"; do
			want_out "^ok - $re"
		done
	else
		fail_because "net_client did not run"
	fi
	check_end
}
# net_client_verdicts FILE [PREFIX]: the checks, on net_client's output in
# FILE (missing when net_client did not run: every check fails saying so),
# their names starting with PREFIX.
net_client_verdicts() {
	NC_OUT=$1
	NC_PREFIX=${2:-}
	client_check "the guest resolves names through /etc/hosts and the DNS server" \
		'the hostname resolves through /etc/hosts' \
		"the server's name resolves through the configured DNS server"
	client_check "the guest sends and receives 1 MiB intact over TCP" \
		'a blocking write of 1 MiB sends it all' \
		'the server got the 1 MiB intact' '1 MiB from the server, intact'
	client_check "connection refused is ECONNREFUSED, blocking or not" \
		'blocking connect to a closed port is ECONNREFUSED' \
		'poll says POLLOUT\|POLLERR' 'SO_ERROR is ECONNREFUSED'
	client_check "a reset connection is ECONNRESET, then end of file, then EPIPE" \
		'recv after a RST is ECONNRESET' 'then recv is end of file' \
		'send after a reset is EPIPE'
	client_check "a connect whose SYNs are dropped is ETIMEDOUT after TCP_SYNCNT" \
		'TCP_SYNCNT is 6 by default' 'TCP_SYNCNT 0 and 128 are EINVAL' \
		'connect to an address that drops SYNs, TCP_SYNCNT 1: ETIMEDOUT' \
		'SO_ERROR is 0 once connect has reported it'
	client_check "a receive timeout is EAGAIN after SO_RCVTIMEO" \
		'a silent peer: recv gives EAGAIN after SO_RCVTIMEO'
	client_check "UDP as a client: addresses, fragments, MSG_TRUNC" \
		'UDP sendto/recvfrom through an echo server' \
		'connected UDP: a 30000-byte datagram' 'a datagram cut short'
	client_check "TCP over the guest's loopback with poll and half-close" \
		'200 kB each way over loopback with poll' \
		'shutdown\(SHUT_WR\): the peer sees POLLRDHUP'
	client_check "sendmmsg/recvmmsg, MSG_PEEK, sendfile, edge-triggered epoll, RST on close" \
		'sendmmsg, MSG_PEEK and recvmmsg over UDP loopback' \
		'sendfile from a file to a socket' \
		'edge-triggered epoll on a socket' \
		'closing with unread data resets the connection'
}
