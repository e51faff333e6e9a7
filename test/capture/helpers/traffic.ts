// Real traffic for the tool comparisons: a private network namespace with only `lo`, tcpdump (pcap) and
// dumpcap (pcapng) capturing, and a Node script making HTTP, UDP, ICMP and TLS ClientHello traffic over
// IPv4 and IPv6. The namespace is deleted afterwards, whatever happens.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TRAFFIC_SCRIPT = String.raw`
import http from 'node:http';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';

function httpRound(host) {
  return new Promise((resolve, reject) => {
    const srv = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello ' + req.url); });
    srv.listen(0, host, () => {
      const port = srv.address().port;
      const req = http.request({ host, port, path: '/index.html?q=1', method: 'GET', headers: { Host: 'example.test:' + port, Connection: 'close' } }, (res) => {
        res.resume();
        res.on('end', () => srv.close(() => resolve()));
      });
      req.on('error', reject);
      req.end();
    });
  });
}

// A DNS query (RFC 1035 §4.1) and a made-up answer, so tshark and our DPI both see dns.qry.name/type.
function dnsQuery(id, name, qtype) {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, qtype >> 8, qtype & 255, 0, 1]);
}

function udpRound(family, host) {
  return new Promise((resolve, reject) => {
    const srv = dgram.createSocket(family);
    srv.on('message', (msg, rinfo) => {
      const reply = Buffer.from(msg);
      reply[2] = 0x81; reply[3] = 0x80;
      srv.send(reply, rinfo.port, rinfo.address);
    });
    srv.bind(53, host, () => {
      const cli = dgram.createSocket(family);
      cli.on('message', () => { cli.close(); srv.close(); resolve(); });
      cli.on('error', reject);
      cli.send(dnsQuery(0x1234, 'www.example.test', family === 'udp6' ? 28 : 1), 53, host);
    });
  });
}

function tlsHello(host) {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => { s.once('data', () => s.destroy()); });
    srv.listen(0, host, () => {
      const port = srv.address().port;
      const c = tls.connect({ host, port, servername: 'tls.example.test', ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false });
      c.on('error', () => {});
      c.on('close', () => srv.close(() => resolve()));
    });
  });
}

// A QUIC-looking long-header Initial (RFC 9000 §17.2) to UDP 443: tshark dissects the header fields.
function quicInitial(host, family) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(family);
    const dcid = Buffer.from('0123456789abcdef', 'hex');
    const scid = Buffer.from('a1a2a3a4', 'hex');
    const pkt = Buffer.concat([Buffer.from([0xc3, 0, 0, 0, 1, dcid.length]), dcid, Buffer.from([scid.length]), scid, Buffer.from([0, 0x41, 0x00]), Buffer.alloc(1200 - 30, 0)]);
    s.send(pkt, 443, host, () => { s.close(); resolve(); });
  });
}

await httpRound('127.0.0.1');
await httpRound('::1');
await udpRound('udp4', '127.0.0.1');
await udpRound('udp6', '::1');
await tlsHello('127.0.0.1');
await quicInitial('127.0.0.1', 'udp4');
`;

export interface TrafficCaptures {
  dir: string;
  /** tcpdump -i lo: pcap, Ethernet (lo's link type on Linux), µs timestamps. */
  pcap: string;
  /** dumpcap -i lo: pcapng. */
  pcapng: string;
  /** tcpdump -i any -y LINUX_SLL2 with ns timestamps. */
  sll2: string;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

function startCapture(ns: string, args: string[], readyText: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${err}`)), 15000);
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (readyText.test(err)) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited early (${code}): ${err}`));
    });
  });
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    p.removeAllListeners('exit');
    p.on('exit', () => resolve());
    p.kill('SIGINT');
  });
}

/** Makes the traffic in a fresh namespace and returns the capture files (in a new temp dir). */
export async function captureTraffic(): Promise<TrafficCaptures> {
  const dir = mkdtempSync(join(tmpdir(), 'elysia-cap-'));
  const ns = `elycap${process.pid}`;
  const script = join(dir, 'traffic.mjs');
  writeFileSync(script, TRAFFIC_SCRIPT);
  const out: TrafficCaptures = { dir, pcap: join(dir, 'lo.pcap'), pcapng: join(dir, 'lo.pcapng'), sll2: join(dir, 'any-sll2.pcap') };
  spawnSync('ip', ['netns', 'del', ns]);
  run('ip', ['netns', 'add', ns]);
  const procs: ChildProcess[] = [];
  try {
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    // --immediate-mode: hand packets over at once (TPACKET_V3 blocks otherwise wait up to a second).
    procs.push(await startCapture(ns, ['tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-w', out.pcap], /listening on/));
    procs.push(await startCapture(ns, ['tcpdump', '-i', 'any', '-y', 'LINUX_SLL2', '--time-stamp-precision=nano', '--immediate-mode', '-U', '-w', out.sll2], /listening on/));
    procs.push(await startCapture(ns, ['dumpcap', '-i', 'lo', '-w', out.pcapng], /Capturing on/));
    // The banners come just before the capture loops run: give them a moment.
    await new Promise((r) => setTimeout(r, 500));
    run('ip', ['netns', 'exec', ns, 'ping', '-c', '2', '-i', '0.2', '127.0.0.1']);
    run('ip', ['netns', 'exec', ns, 'ping', '-6', '-c', '2', '-i', '0.2', '::1']);
    run('ip', ['netns', 'exec', ns, process.execPath, script]);
    // Let the capturers drain their buffers before stopping them (dumpcap reads with a 250 ms timeout).
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    for (const p of procs) await stop(p);
    spawnSync('ip', ['netns', 'del', ns]);
  }
  return out;
}
