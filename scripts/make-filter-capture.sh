#!/usr/bin/env bash
# Makes test/fixtures/filter/mix.pcap: real traffic between two network namespaces joined by a veth pair,
# captured with tcpdump on one end. It has IPv4 and IPv6, 802.1Q-tagged frames (VLAN 10 and 20), IPv4 and
# IPv6 fragments, ICMP/ICMPv6 (echo, port unreachable, neighbour discovery), ARP, and TCP with every flag
# (SYN, ACK, PSH, FIN, RST, URG via out-of-band data, ECE/CWR via ECN). Needs root, iproute2, tcpdump,
# ping, python3. The filter tests compare our compiled filters with `tcpdump -r` on this file.
set -euo pipefail
out=${1:-$(dirname "$0")/../test/fixtures/filter/mix.pcap}
A=elyfa$$
B=elyfb$$
cleanup() { ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add va netns "$A" type veth peer name vb netns "$B"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" addr add 10.1.0.1/24 dev va
ip -n "$B" addr add 10.1.0.2/24 dev vb
ip -n "$A" addr add fd00::1/64 dev va nodad
ip -n "$B" addr add fd00::2/64 dev vb nodad
ip -n "$A" link set va up
ip -n "$B" link set vb up
ip netns exec "$A" sysctl -qw net.ipv4.tcp_ecn=1
ip netns exec "$A" tcpdump -i va -U -s 262144 -w "$out" 2>/dev/null &
dump=$!
sleep 1

# Servers in B: TCP on 80, 443 and 8080 over IPv4 and IPv6; they read everything, then close.
ip netns exec "$B" python3 - <<'PY' &
import socket, threading
def serve(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(8)
    while True:
        c, _ = s.accept()
        c.settimeout(2)
        try:
            while True:
                try:
                    d = c.recv(65536)
                except socket.timeout:
                    break
                if not d: break
                c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
        finally:
            c.close()
for fam, addr in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
    for port in (80, 443, 8080):
        try:
            threading.Thread(target=serve, args=(fam, addr, port), daemon=True).start()
        except OSError:
            pass
threading.Event().wait(20)
PY
server=$!
sleep 1

run() { ip netns exec "$A" "$@"; }
run ping -c 2 -i 0.2 10.1.0.2 >/dev/null
run ping -c 1 -s 3000 10.1.0.2 >/dev/null            # IPv4 fragments
run ping -6 -c 2 -i 0.2 fd00::2 >/dev/null
run ping -6 -c 1 -s 3000 fd00::2 >/dev/null          # IPv6 fragment headers
# This kernel may lack 802.1Q interfaces, so tagged frames are sent through a raw packet socket on the
# veth: real frames on a real interface, with a checksummed IPv4/IPv6 payload inside the tags.
run python3 - <<'PY'
import socket, struct
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ip4(src, dst, proto, payload, ident=1, frag=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
def l4sum4(src, dst, proto, seg):
    return csum(socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, proto, len(seg)) + seg)
def tcp4(src, dst, sp, dp, flags, payload=b''):
    seg = struct.pack('!HHIIBBHHH', sp, dp, 1000, 0, 5 << 4, flags, 65535, 0, 0) + payload
    c = l4sum4(src, dst, 6, seg)
    return ip4(src, dst, 6, seg[:16] + struct.pack('!H', c) + seg[18:])
def udp4(src, dst, sp, dp, payload):
    seg = struct.pack('!HHHH', sp, dp, 8 + len(payload), 0) + payload
    c = l4sum4(src, dst, 17, seg)
    return ip4(src, dst, 17, seg[:6] + struct.pack('!H', c) + seg[8:])
def icmp4(src, dst):
    m = struct.pack('!BBHHH', 8, 0, 0, 7, 1) + b'vlan-ping'
    return ip4(src, dst, 1, m[:2] + struct.pack('!H', csum(m)) + m[4:])
def ip6udp(src, dst, sp, dp, payload):
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    seg = struct.pack('!HHHH', sp, dp, 8 + len(payload), 0) + payload
    c = csum(s6 + d6 + struct.pack('!IxxxB', len(seg), 17) + seg)
    seg = seg[:6] + struct.pack('!H', c) + seg[8:]
    return struct.pack('!IHBB', 0x60000000, len(seg), 17, 64) + s6 + d6 + seg
dst = bytes.fromhex('02aabbccddee'); src = open('/sys/class/net/va/address').read().strip()
src = bytes.fromhex(src.replace(':', ''))
def tag(tpid, vid, inner_type, payload):
    return struct.pack('!HH', tpid, vid) + struct.pack('!H', inner_type) + payload
frames = [
    tag(0x8100, 10, 0x0800, tcp4('10.10.0.1', '10.10.0.2', 40000, 80, 0x02)),
    tag(0x8100, 10, 0x0800, tcp4('10.10.0.1', '10.10.0.2', 40000, 80, 0x18, b'GET /vlan HTTP/1.1\r\n\r\n')),
    tag(0x8100, 10, 0x0800, icmp4('10.10.0.1', '10.10.0.2')),
    tag(0x8100, 20, 0x86dd, ip6udp('fd20::1', 'fd20::2', 5353, 53, b'\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x1c\x00\x01')),
    tag(0x8100, 20, 0x0800, udp4('10.20.0.1', '10.20.0.2', 1234, 161, b'public')),
    # 802.1ad outer tag 100 around 802.1Q tag 10 (QinQ).
    struct.pack('!HH', 0x88a8, 100) + tag(0x8100, 10, 0x0800, tcp4('10.10.0.1', '10.10.0.2', 40001, 443, 0x12)),
]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('va', 0))
for f in frames:
    s.send(dst + src + f)
PY
run python3 - <<'PY'
import socket, time
def tcp(fam, addr, port, payload, oob=False):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((addr, port))
        s.sendall(payload)
        if oob:
            s.send(b'!', socket.MSG_OOB)             # URG flag
        time.sleep(0.1)
        try: s.recv(100)
        except OSError: pass
    except OSError:
        pass
    finally:
        s.close()                                    # FIN
tcp(socket.AF_INET, '10.1.0.2', 80, b'GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')
tcp(socket.AF_INET, '10.1.0.2', 443, b'\x16\x03\x01\x00\x05hello', oob=True)
tcp(socket.AF_INET6, 'fd00::2', 8080, b'GET /v6 HTTP/1.1\r\nHost: v6.test\r\n\r\n')
tcp(socket.AF_INET, '10.10.0.2', 80, b'GET /vlan HTTP/1.1\r\n\r\n')
tcp(socket.AF_INET6, 'fd20::2', 443, b'x' * 100)
tcp(socket.AF_INET, '10.1.0.2', 9, b'closed')         # RST from a closed port
tcp(socket.AF_INET6, 'fd00::2', 9, b'closed')
# Reset an established connection: SO_LINGER 0 makes close() send RST.
import struct
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(('10.1.0.2', 8080)); s.sendall(b'abort')
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()
# UDP: DNS-like queries to closed ports draw ICMP/ICMPv6 port unreachable; a large datagram fragments.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01', ('10.1.0.2', 53))
u.sendto(b'y' * 4000, ('10.1.0.2', 5000))
u.sendto(b'v', ('10.20.0.2', 161))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.sendto(b'q' * 20, ('fd00::2', 53))
u6.sendto(b'z' * 3000, ('fd00::2', 5001))
time.sleep(0.5)
PY
sleep 1
kill "$dump" 2>/dev/null || true
wait "$dump" 2>/dev/null || true
kill "$server" 2>/dev/null || true
echo "wrote $out: $(tcpdump -r "$out" 2>/dev/null | wc -l) packets"
