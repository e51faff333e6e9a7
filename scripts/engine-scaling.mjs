#!/usr/bin/env node
// How the ParallelPacketEngine scales from 1 to 2 workers, measured so that a shared machine does not decide
// the answer: the variants run interleaved, round after round, in one process, and besides wall time each
// round records every thread's CPU time and run-queue wait from /proc/self/task/*/schedstat (Linux
// Documentation/scheduler/sched-stats.rst: time on the CPU, time runnable but waiting, timeslices).
//
//   node scripts/engine-scaling.mjs [rounds=8] [batchesPerRound=8] [filter]
//   BASELINE_DIST=/path/to/other/dist node scripts/engine-scaling.mjs …   (A/B: the same rows for another build)
//
// Per variant it prints the median wall rate, the CPU time per packet of all threads (the work), the
// run-queue wait per packet (time threads wanted a core and another tenant had it), and the busiest
// worker's CPU per batch. "cpu-bound 2w/1w" = (1-worker CPU per batch) / (busiest 2-worker thread's CPU per
// batch): the speed-up two free cores would give, all else equal.
import { readdirSync, readFileSync } from 'node:fs';
import { makeBatch } from '../dist/bench/suites/parallel.js';
import { ParallelPacketEngine } from '../dist/src/parallel/index.js';

const baseline = process.env.BASELINE_DIST ? await import(`${process.env.BASELINE_DIST}/src/parallel/index.js`) : null;

const rounds = Number(process.argv[2] ?? 8);
const perRound = Number(process.argv[3] ?? 8);
const only = process.argv[4];
// The bench suite's batch: 64-byte UDP/IPv4 frames of 1024 flows, round robin, back to back.
const plain = makeBatch();
const PACKETS = plain.length;

/** ns on CPU and ns waiting on the run queue, per thread id. */
function schedstat() {
  const m = new Map();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      m.set(t, { run, wait });
    } catch {
      // the thread ended
    }
  }
  return m;
}

const variants = [];
function add(name, workers, zero, filter) {
  if (baseline) {
    addWith(baseline.ParallelPacketEngine, `base ${name}`, workers, zero, filter);
    name = `this ${name}`;
  }
  addWith(ParallelPacketEngine, name, workers, zero, filter);
}
function addWith(Engine, name, workers, zero, filter) {
  if (only && !name.includes(only)) return;
  const e = new Engine(workers, zero ? 1 << 20 : 32 << 20, { bufSize: 128, filter });
  let b = plain;
  if (zero) {
    b = e.createBatch({ capacity: PACKETS, byteCapacity: PACKETS * 64 });
    for (const p of plain) b.push(p);
  }
  variants.push({ name, workers, e, b, wall: [], cpu: [], wait: [], maxThread: [], main: [] });
}
for (const w of [1, 2]) add(`zero-copy ${w}w`, w, true);
for (const w of [1, 2]) add(`copying ${w}w`, w, false);
for (const w of [1, 2]) add(`zero-copy+filter(native) ${w}w`, w, true, { expression: 'udp', engine: 'native' });
for (const w of [1, 2]) add(`zero-copy+filter(js) ${w}w`, w, true, { expression: 'udp', engine: 'js' });
for (const w of [1, 2]) add(`copying+filter(native) ${w}w`, w, false, { expression: 'udp', engine: 'native' });

for (const v of variants) for (let k = 0; k < 24; k++) await v.e.processBatch(v.b);
const mainTid = String(process.pid);
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    const s0 = schedstat();
    const t0 = performance.now();
    for (let k = 0; k < perRound; k++) await v.e.processBatch(v.b);
    const ms = performance.now() - t0;
    const s1 = schedstat();
    let cpu = 0;
    let wait = 0;
    let maxThread = 0;
    let main = 0;
    for (const [t, a] of s1) {
      const b = s0.get(t) ?? { run: 0, wait: 0 };
      const run = a.run - b.run;
      cpu += run;
      wait += a.wait - b.wait;
      if (t === mainTid) main = run;
      else if (run > maxThread) maxThread = run;
    }
    const n = perRound * PACKETS;
    v.wall.push(n / ms / 1e3);
    v.cpu.push(cpu / n);
    v.wait.push(wait / n);
    v.maxThread.push(maxThread / perRound / 1e6);
    v.main.push(main / n);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${rounds} rounds × ${perRound} batches of ${PACKETS} 64-byte packets; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log('variant                              wall Mpps  (best)   ratio   cpu ns/pkt  main ns/pkt  runq-wait ns/pkt  busiest thread ms/batch  cpu-bound 2w/1w');
for (let i = 0; i < variants.length; i++) {
  const v = variants[i];
  const one = v.workers === 2 ? variants.find((o) => o.workers === 1 && o.name === v.name.replace(' 2w', ' 1w')) : null;
  const ratio = one ? (med(v.wall) / med(one.wall)).toFixed(2) + '×' : '';
  const cpuBound = one ? (med(one.maxThread) / med(v.maxThread)).toFixed(2) + '×' : '';
  console.log(
    `${v.name.padEnd(36)} ${med(v.wall).toFixed(2).padStart(9)}  ${Math.max(...v.wall).toFixed(2).padStart(6)}  ${ratio.padStart(6)}  ${med(v.cpu).toFixed(1).padStart(10)}  ${med(v.main).toFixed(1).padStart(11)}  ${med(v.wait).toFixed(1).padStart(16)}  ${med(v.maxThread).toFixed(2).padStart(23)}  ${cpuBound.padStart(15)}`,
  );
}
await Promise.all(variants.map((v) => v.e.close()));
