// Outside programs the tests compare against (tcpdump, tshark, clang, objdump …). .ci/run installs them;
// in CI a missing tool fails the test loudly, elsewhere the test is skipped with a message saying why.
import { execFileSync, spawnSync } from 'node:child_process';
import { it } from 'vitest';
import { readCaptureSync } from '../../src/capture/file.js';

const cache = new Map<string, boolean>();

/** Whether `name` runs here (`name --version` or `-h` exits). */
export function hasTool(name: string): boolean {
  let ok = cache.get(name);
  if (ok === undefined) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    ok = r.status === 0 && r.stdout.trim().length > 0;
    cache.set(name, ok);
  }
  return ok;
}

/** Whether this process may create network namespaces (root with CAP_SYS_ADMIN and `ip`). */
export function canUseNetns(): boolean {
  if (!hasTool('ip') || process.getuid?.() !== 0) return false;
  const name = `elycheck${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', name]);
  if (r.status !== 0) return false;
  spawnSync('ip', ['netns', 'del', name]);
  return true;
}

/**
 * `it` that needs the given tools: in CI a missing tool is a failure; elsewhere the test is skipped and
 * the reason printed.
 */
export function itWithTools(tools: string[], name: string, fn: () => unknown | Promise<unknown>, timeout?: number): void {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) {
    it(name, fn, timeout);
  } else if (process.env.CI) {
    it(name, () => {
      throw new Error(`CI: required tool(s) missing: ${missing.join(', ')} — .ci/run should have installed them`);
    });
  } else {
    console.warn(`skipping "${name}": ${missing.join(', ')} not installed (.ci/run installs it)`);
    it.skip(`${name} [needs ${missing.join(', ')}]`, fn);
  }
}

/**
 * 0-based indices of the packets of `file` that `tcpdump -r file EXPR` keeps: tcpdump writes them with -w
 * and they are matched back in order by their bytes (tcpdump -w may round nanosecond timestamps; identical
 * frames get identical verdicts). A filter libpcap proves never matches ("expression rejects all packets")
 * keeps nothing.
 */
export function tcpdumpIndices(file: string, packets: readonly Uint8Array[], expr: string): number[] {
  let out: Buffer;
  try {
    out = execFileSync('tcpdump', ['-r', file, '-w', '-', '--', expr], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  } catch (e) {
    if (/expression rejects all packets/.test(String((e as { stderr?: Buffer }).stderr))) return [];
    throw e;
  }
  const kept = readCaptureSync(out);
  const idx: number[] = [];
  let j = 0;
  for (let i = 0; i < packets.length && j < kept.length; i++) {
    const k = kept[j]!.data;
    const p = packets[i]!;
    if (k.length === p.length && Buffer.compare(Buffer.from(k), Buffer.from(p)) === 0) {
      idx.push(i);
      j++;
    }
  }
  if (j !== kept.length) throw new Error(`could not match tcpdump's output for '${expr}' back to ${file}`);
  return idx;
}
