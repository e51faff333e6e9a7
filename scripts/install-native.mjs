// npm install hook: build the optional addon. A failed build never fails the install: the TypeScript
// backend takes over and nativeStatus() reports the reason recorded here.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const record = join(root, '.native-build.json');
const require = createRequire(import.meta.url);

function done(ok, error) {
  writeFileSync(record, JSON.stringify({ ok, error, at: new Date().toISOString() }) + '\n');
  if (!ok) console.warn(`elysia-net: native addon not built (${error}); the TypeScript backend will be used.`);
  process.exit(0);
}

if (process.env.ELYSIA_NET_SKIP_NATIVE === '1') done(false, 'ELYSIA_NET_SKIP_NATIVE=1');

// A prebuilt binary for this platform (prebuilds/, as a published package carries) makes compiling
// unnecessary. A build/ left by an earlier build does not: in a checkout the sources may have changed.
try {
  const gypBuild = require('node-gyp-build');
  const found = gypBuild.path(root);
  if (found.split(sep).includes('prebuilds')) done(true, undefined);
} catch {
  // No usable binary: compile below.
}

// npm points npm_config_node_gyp at its bundled node-gyp during install scripts; otherwise look beside npm.
function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmCli = process.env.npm_execpath;
  const candidates = [];
  if (npmCli) candidates.push(join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}
const gyp = findNodeGyp();
const cmd = gyp ? process.execPath : 'node-gyp';
const args = gyp ? [gyp, 'rebuild'] : ['rebuild'];
// Build against the headers that ship with this Node when npm has not said where they are (no download).
const localHeaders = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(localHeaders, 'include', 'node', 'node.h'))) args.push(`--nodedir=${localHeaders}`);
const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error) done(false, `could not run node-gyp: ${r.error.message}`);
if (r.status !== 0) {
  rmSync(join(root, 'build'), { recursive: true, force: true });
  done(false, `node-gyp rebuild exited with ${r.status}`);
}
done(true, undefined);
