// Where the shared eBPF conformance suite lives: ../shared/conformance/bpf beside the checkout (or
// ELYSIA_NET_SHARED_DIR). Missing in CI is an error; elsewhere the tests that need it skip and say why, once.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedDir = process.env.ELYSIA_NET_SHARED_DIR ?? join(repoRoot, '..', 'shared');

/** The conformance `tests/` directory and its `.data` files (sorted); none when the suite is absent. */
export function conformanceBpf(): { dir: string; files: string[] } {
  const dir = join(sharedDir, 'conformance', 'bpf', 'tests');
  if (existsSync(dir)) return { dir, files: readdirSync(dir).filter((f) => f.endsWith('.data')).sort() };
  const why = `eBPF conformance suite not found at ${dir} (place shared/ beside the checkout or set ELYSIA_NET_SHARED_DIR)`;
  if (process.env.CI) throw new Error(why);
  console.warn(`skipping conformance tests: ${why}`);
  return { dir, files: [] };
}
