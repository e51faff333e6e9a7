import { NetworkError } from './errors.js';
import { nativeAddon, nativeLoadStatus, type NativeAddon, type NativeStatus } from './native.js';

/** Which implementation of the hot paths runs. */
export type Backend = 'native' | 'ts';

const listeners = new Set<(b: Backend) => void>();

function initialBackend(): Backend {
  const env = process.env.ELYSIA_NET_BACKEND;
  if (env === undefined || env === '') return nativeAddon ? 'native' : 'ts';
  if (env === 'ts') return 'ts';
  if (env === 'native') {
    if (!nativeAddon) {
      throw new NetworkError('NATIVE_UNAVAILABLE', `ELYSIA_NET_BACKEND=native but ${nativeLoadStatus.reason}`);
    }
    return 'native';
  }
  throw new NetworkError('INVALID_ARGUMENT', `ELYSIA_NET_BACKEND must be 'ts' or 'native', got '${env}'`);
}

let current: Backend = initialBackend();

/** The backend in use now. */
export function getBackend(): Backend {
  return current;
}

/** Switches backend; asking for 'native' when the addon is absent throws NATIVE_UNAVAILABLE. */
export function setBackend(backend: Backend): void {
  if (backend !== 'native' && backend !== 'ts') {
    throw new NetworkError('INVALID_ARGUMENT', `backend must be 'native' or 'ts', got '${String(backend)}'`);
  }
  if (backend === 'native' && !nativeAddon) {
    throw new NetworkError('NATIVE_UNAVAILABLE', `cannot use the native backend: ${nativeLoadStatus.reason}`);
  }
  current = backend;
  for (const l of listeners) l(backend);
}

/** Whether the addon loaded, why not, where from, and the CPU features it found. */
export function nativeStatus(): NativeStatus {
  return { ...nativeLoadStatus, cpu: nativeLoadStatus.cpu ? { ...nativeLoadStatus.cpu } : null };
}

/** The backends usable in this process: always 'ts', plus 'native' when the addon loaded. */
export function availableBackends(): Backend[] {
  return nativeAddon ? ['native', 'ts'] : ['ts'];
}

/** Runs fn with the given backend selected, then restores the previous one. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = current;
  setBackend(backend);
  try {
    return fn();
  } finally {
    setBackend(prev);
  }
}

/** Calls l whenever the backend changes (modules that cache a dispatch table use this). */
export function onBackendChange(l: (b: Backend) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The addon when the native backend is selected, else null: the dispatch test every hot path uses. */
export function activeNative(): NativeAddon | null {
  return current === 'native' ? nativeAddon : null;
}
