// Outside programs the tests compare against (tcpdump, tshark, clang, objdump …). .ci/run installs them;
// in CI a missing tool fails the test loudly, elsewhere the test is skipped with a message saying why.
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

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
