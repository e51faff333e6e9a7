#!/usr/bin/env node
// The `elysia-net` command. Each module adds its subcommands through a register function in src/cli/.
import { Command } from 'commander';
import { registerCoreCommands } from './core.js';
import { registerCaptureCommands } from './capture.js';
import { registerSimCommands } from './sim.js';
import { registerBpfCommands } from './bpf.js';
import { registerFilterCommands } from './filter.js';

const program = new Command();
program.name('elysia-net').description('elysia-net: packet codecs, captures, eBPF, offloads and congestion control for Node.js');
registerCoreCommands(program);
registerCaptureCommands(program);
registerSimCommands(program);
registerBpfCommands(program);
registerFilterCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? `elysia-net: ${e.message}` : e);
  process.exit(1);
});
