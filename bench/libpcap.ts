// The libpcap baseline shared by the eBPF suites: bench/c/bpf_filter_bench.c runs libpcap's bpf_filter() with
// the program `tcpdump -dd EXPR` prints, over fixed-size packets; built once per run when cc and libpcap-dev
// are present (.ci/run installs libpcap-dev).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Seconds per hot batch and per whole stream (one number per sample) and how many packets matched. */
export interface LibpcapTiming {
  hot: number[];
  stream: number[];
  accepted: number;
}

const here = dirname(fileURLToPath(import.meta.url));
let workDir: string | null = null;
let exe: string | null | undefined;

/** `tcpdump -dd EXPR` (libpcap's own compiler), or null without tcpdump. */
export function tcpdumpDd(expr: string): string | null {
  const r = spawnSync('tcpdump', ['-dd', '--', expr], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('{') ? r.stdout : null;
}

/** Builds the C baseline once; null (with a note on stderr) when cc or libpcap-dev is missing. */
export function libpcapBaseline(): string | null {
  if (exe !== undefined) return exe;
  exe = null;
  const src = [join(here, '..', '..', 'bench', 'c', 'bpf_filter_bench.c'), join(here, 'c', 'bpf_filter_bench.c')].find((p) => existsSync(p));
  if (!src) return null;
  if (!existsSync('/usr/include/pcap/pcap.h') && !existsSync('/usr/include/pcap.h')) {
    console.error('bench: libpcap-dev not installed: no libpcap baseline');
    return null;
  }
  if (!workDir) {
    const dir = mkdtempSync(join(tmpdir(), 'elysia-bpfbench-'));
    workDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const out = join(workDir, 'bpf_filter_bench');
  const r = spawnSync('cc', ['-O2', '-o', out, src, '-lpcap'], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`bench: could not build the libpcap baseline: ${r.stderr || r.error?.message}`);
    return null;
  }
  exe = out;
  return exe;
}

/**
 * Times libpcap's bpf_filter() running `dd` over `packets` (packets of `pktSize` bytes back to back), the
 * first `hotCount` of them as the hot batch. Null when the baseline cannot run here.
 */
export function runLibpcap(dd: string, packets: Uint8Array, pktSize: number, hotCount: number, samples = 7): LibpcapTiming | null {
  const bin = libpcapBaseline();
  if (!bin || !workDir) return null;
  const tag = Math.random().toString(36).slice(2);
  const progFile = join(workDir, `${tag}.dd`);
  const packetsFile = join(workDir, `${tag}.bin`);
  writeFileSync(progFile, dd);
  writeFileSync(packetsFile, packets);
  const r = spawnSync(bin, [progFile, packetsFile, String(pktSize), String(hotCount), String(samples)], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`bench: libpcap baseline failed: ${r.stderr}`);
    return null;
  }
  return JSON.parse(r.stdout) as LibpcapTiming;
}

/** Seconds per pass over a buffer of `mib` MiB (one number per sample): plain read, one word per 64-byte line, memcpy. */
export interface MemBandwidth {
  read: number[];
  line: number[];
  copy: number[];
  readGBps: number;
  lineTouchGBps: number;
  memcpyGBps: number;
}

let memExe: string | null | undefined;

/**
 * bench/c/mem_bandwidth.c: what one core's memory reads allow, the ceiling of the streaming cases (the stream's
 * packets are read once each from DRAM). Null without a C compiler.
 */
export function runMemBandwidth(mib: number, samples = 5): MemBandwidth | null {
  if (memExe === undefined) {
    memExe = null;
    const src = [join(here, '..', '..', 'bench', 'c', 'mem_bandwidth.c'), join(here, 'c', 'mem_bandwidth.c')].find((p) => existsSync(p));
    if (src) {
      if (!workDir) {
        const dir = mkdtempSync(join(tmpdir(), 'elysia-bpfbench-'));
        workDir = dir;
        process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      }
      const out = join(workDir, 'mem_bandwidth');
      const r = spawnSync('cc', ['-O2', '-o', out, src], { encoding: 'utf8' });
      if (r.status === 0) memExe = out;
      else console.error(`bench: could not build the memory-bandwidth probe: ${r.stderr || r.error?.message}`);
    }
  }
  if (!memExe) return null;
  const r = spawnSync(memExe, [String(mib), String(samples)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout) as MemBandwidth;
}
