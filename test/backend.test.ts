import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { availableBackends, getBackend, nativeStatus, setBackend, withBackend } from '../src/backend.js';
import { NetworkError } from '../src/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function runChild(code: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('backend switch', () => {
  it('reports a status that explains itself', () => {
    const s = nativeStatus();
    expect(typeof s.available).toBe('boolean');
    expect(s.reason.length).toBeGreaterThan(0);
    if (s.available) {
      expect(s.path).toMatch(/\.node$/);
      expect(typeof s.cpu?.avx2).toBe('boolean');
    }
  });

  it('switches and restores', () => {
    const prev = getBackend();
    withBackend('ts', () => expect(getBackend()).toBe('ts'));
    expect(getBackend()).toBe(prev);
    expect(() => setBackend('gpu' as never)).toThrow(NetworkError);
    if (!availableBackends().includes('native')) {
      expect(() => setBackend('native')).toThrow(/cannot use the native backend/);
    }
  });

  it('works with the addon absent: imports, falls back to ts and says why', () => {
    const out = runChild(
      `const m = await import('./dist/src/index.js');
       const s = m.nativeStatus();
       let err = '';
       try { m.setBackend('native'); } catch (e) { err = e.code; }
       console.log(JSON.stringify({ backend: m.getBackend(), available: s.available, reason: s.reason, err, sum: m.internetChecksum(Uint8Array.of(0,1,0xf2,3,0xf4,0xf5,0xf6,0xf7)) }));`,
      { ELYSIA_NET_NATIVE_DIR: '/nonexistent/elysia-net-addon', ELYSIA_NET_BACKEND: '' },
    );
    const r = JSON.parse(out) as { backend: string; available: boolean; reason: string; err: string; sum: number };
    expect(r.backend).toBe('ts');
    expect(r.available).toBe(false);
    expect(r.reason).toMatch(/native addon not loaded from \/nonexistent\/elysia-net-addon/);
    expect(r.err).toBe('NATIVE_UNAVAILABLE');
    expect(r.sum).toBe(0x220d);
  });

  it('reads ELYSIA_NET_BACKEND at load', () => {
    const out = runChild(`const m = await import('./dist/src/index.js'); console.log(m.getBackend());`, { ELYSIA_NET_BACKEND: 'ts' });
    expect(out.trim()).toBe('ts');
    expect(() => runChild(`await import('./dist/src/index.js');`, { ELYSIA_NET_BACKEND: 'fpga' })).toThrow(/must be 'ts' or 'native'/);
  });
});
