// `elysia-net info` and `elysia-net bench`.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { getBackend, nativeStatus } from '../backend.js';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function registerCoreCommands(program: Command): void {
  program.version(packageVersion());
  program
    .command('info')
    .description('show the backend in use, the native addon status and CPU features')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const status = nativeStatus();
      const info = {
        version: packageVersion(),
        backend: getBackend(),
        native: status,
        node: process.version,
        napi: process.versions.napi,
        v8: process.versions.v8,
        platform: `${process.platform}-${process.arch}`,
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
      };
      if (opts.json) {
        console.log(JSON.stringify(info, null, 2));
        return;
      }
      console.log(`elysia-net ${info.version}`);
      console.log(`backend:      ${info.backend}${process.env.ELYSIA_NET_BACKEND ? ` (ELYSIA_NET_BACKEND=${process.env.ELYSIA_NET_BACKEND})` : ''}`);
      console.log(`native addon: ${status.available ? `loaded from ${status.path}` : 'not available'}`);
      console.log(`  reason:     ${status.reason}`);
      if (status.cpu) {
        console.log(`  cpu:        ${status.cpu.arch}, avx2 ${status.cpu.avx2 ? 'yes' : 'no'}, sse4.2 ${status.cpu.sse42 ? 'yes' : 'no'}, bmi2 ${status.cpu.bmi2 ? 'yes' : 'no'}`);
      }
      console.log(`node:         ${info.node} (N-API ${info.napi}, V8 ${info.v8}) on ${info.platform}`);
      console.log(`machine:      ${info.cores} × ${info.cpu}`);
    });
  program
    .command('bench')
    .description('run the benchmarks (same as npm run bench)')
    .option('--json <file>', 'write machine-readable results')
    .option('--filter <name>', 'only suites or cases whose name contains this')
    .option('--quick', 'shorter runs')
    .option('--list', 'list the suites')
    .action(async (opts: { json?: string; filter?: string; quick?: boolean; list?: boolean }) => {
      // The harness lives beside src/ in dist/bench; loaded lazily so other commands stay fast.
      const { runBench } = (await import(new URL('../../bench/index.js', import.meta.url).href)) as typeof import('../../bench/index.js');
      await runBench(opts);
    });
}
