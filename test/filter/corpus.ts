// pcap-filter(7) expressions checked packet for packet against `tcpdump -r` on real captures.
export const FILTER_CORPUS: readonly string[] = [
  // protocols
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'ether proto \\ip', 'ether proto \\arp',
  'ether proto 0x86dd', 'ip proto 17', 'ip proto \\tcp', 'ip6 proto 58', 'ip6 proto \\udp', 'proto 6', 'proto \\icmp',
  'not ip', 'not tcp and not udp', 'ip and not icmp',
  // hosts and nets
  'host 10.1.0.1', 'src host 10.1.0.1', 'dst host 10.1.0.2', 'host 10.1.0.2 and icmp', 'src and dst host 10.1.0.1',
  'host fd00::1', 'src host fd00::2', 'dst host fd20::2', 'ip6 host fd00::1', 'host ::', 'host ff02::16',
  'net 10.1.0.0/24', 'net 10.10', 'src net 10.0.0.0/8', 'dst net 10.20.0.0 mask 255.255.0.0', 'net 10',
  'net fd00::/16', 'src net fd20::/64', 'ip6 net fe80::/10', 'not src net 10.0.0.0/8', 'arp host 10.1.0.2',
  'src host 10.1.0.1 or 10.1.0.2', 'host 10.1.0.1 and not host 10.1.0.2',
  // ether
  'ether broadcast', 'ether multicast', 'ether host ff:ff:ff:ff:ff:ff', 'ether dst 02:aa:bb:cc:dd:ee',
  'ether src 02:aa:bb:cc:dd:ee', 'not ether multicast', 'broadcast', 'multicast', 'ip multicast', 'ip6 multicast',
  'ip broadcast',
  // ports
  'port 80', 'tcp port 80', 'udp port 53', 'tcp dst port 80', 'tcp src port 443', 'port 443 or port 8080',
  'port http', 'tcp port https', 'udp port domain', 'portrange 1-100', 'tcp portrange 8000-9000',
  'udp portrange 5000-5001', 'src portrange 40000-65535', 'not port 22', 'port 9', 'tcp port 9 or udp port 53',
  'host 10.1.0.1 and port 80 or 443', 'tcp and not port 80 and 443', 'dst port 53 or 161',
  'tcp dst port 80 and not src net 10.0.0.0/8', 'ip6 and tcp', 'ip6 and udp port 53', 'ip and udp and port 5000',
  // vlan
  'vlan', 'vlan 10', 'vlan 20', 'vlan 100', 'vlan and tcp', 'vlan 10 and tcp', 'vlan 20 and ip6',
  'vlan 10 and tcp dst port 80', 'vlan and vlan 10', 'vlan 100 and vlan 10 and tcp', 'not vlan', 'vlan and udp port 161',
  'vlan 20 and udp', 'vlan and host 10.10.0.2',
  // lengths
  'less 60', 'greater 1000', 'len > 100', 'len <= 66', 'len - 14 > 1400', 'less 100 and tcp',
  // byte access and arithmetic
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', 'tcp[tcpflags] & tcp-fin != 0',
  'tcp[tcpflags] & tcp-rst != 0', 'tcp[tcpflags] & tcp-push != 0', 'tcp[tcpflags] & tcp-urg != 0',
  'tcp[tcpflags] & tcp-ece != 0', 'tcp[tcpflags] & tcp-cwr != 0', 'tcp[tcpflags] & tcp-ack != 0 and tcp[tcpflags] & tcp-push = 0',
  'tcp[13] = 0x12', 'tcp[13] == 2', 'tcp[12] >> 4 > 5', '(tcp[12] & 0xf0) >> 2 = 32', 'tcp[tcp[12] >> 4] = 1',
  'icmp[icmptype] = icmp-echo', 'icmp[icmptype] = icmp-echoreply', 'icmp[icmptype] = icmp-unreach',
  'icmp[0] != 8 and icmp[0] != 0', 'icmp6[icmp6type] = icmp6-echo', 'icmp6[icmp6type] = icmp6-neighborsolicit',
  'icmp6[0] = 136', 'ip[6:2] & 0x1fff != 0', 'ip[6] & 0x20 != 0', 'ip[8] = 64', 'ip[2:2] > 1000', 'ip[0] & 0xf > 5',
  'ip[9] = 17 and ip[6:2] & 0x1fff = 0', 'ether[12:2] = 0x8100', 'ether[0] & 1 != 0', 'ether[14:2] & 0xfff = 10',
  'ip6[6] = 44', 'ip6[40] = 58', 'udp[8:2] = 0x1234', 'udp[4:2] > 100', 'arp[6:2] = 1', 'arp[6:2] = 2',
  'ip[2:2] - 20 > len', 'len % 2 = 1', 'ip[8] * 2 + 1 = 129', 'ip[8] / 2 = 32', 'ip[1] ^ 0xff = 0xff',
  'ip[12:4] & 0xffffff00 = 0x0a010000', 'ip[16:4] | 1 = 0x0a010003', '-ip[8] = 0xffffffc0', 'ip[8] << 1 = 128',
  'tcp[100] = 0 or udp', 'not tcp[200:4] = 0',
  // boolean structure
  '(tcp or udp) and ip6', 'tcp or udp and ip6', 'not (tcp or udp)', '!tcp && !udp', 'tcp || icmp6',
  '(host 10.1.0.1 or host fd00::1) and (tcp port 80 or tcp port 8080)', 'ip and (icmp or udp) and not vlan',
  'arp or (ip6 and icmp6) or (vlan and ip)',
];
