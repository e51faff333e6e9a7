// Hot-path tests run once per backend: `describe.each(backends)('…', (backend) => …)` with
// `useBackend(backend)` in the body. Under ELYSIA_NET_BACKEND=ts only the TypeScript backend runs.
import { beforeAll, afterAll } from 'vitest';
import { availableBackends, getBackend, setBackend, type Backend } from '../../src/backend.js';

function selected(): Backend[] {
  if (process.env.ELYSIA_NET_BACKEND === 'ts') return ['ts'];
  const avail = availableBackends();
  // In CI the addon must have built: a silent fallback would hide a broken native build.
  if (process.env.CI && !avail.includes('native')) {
    throw new Error('CI: the native addon is not available, so native tests cannot run (see nativeStatus())');
  }
  return avail;
}

export const backends: Backend[] = selected();

/** Selects `backend` for the tests of the enclosing describe block. */
export function useBackend(backend: Backend): void {
  let prev: Backend;
  beforeAll(() => {
    prev = getBackend();
    setBackend(backend);
  });
  afterAll(() => setBackend(prev));
}
