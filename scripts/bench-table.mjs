#!/usr/bin/env node
// Turns `npm run bench -- --json FILE` output into the Markdown table the README quotes:
// node scripts/bench-table.mjs bench.json [--suites a,b,c]
import { readFileSync } from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/bench-table.mjs bench.json [--suites checksum,filter,…]');
  process.exit(2);
}
const only = rest[0] === '--suites' && rest[1] ? new Set(rest[1].split(',')) : null;
const doc = JSON.parse(readFileSync(file, 'utf8'));

function rate(r) {
  if (r.unit === 'bytes') return r.rate >= 1e9 ? `${(r.rate / 1e9).toFixed(2)} GB/s` : `${(r.rate / 1e6).toFixed(1)} MB/s`;
  const suffix = r.unit === 'packets' ? 'pps' : `${r.unit}/s`;
  if (r.rate >= 1e6) return `${(r.rate / 1e6).toFixed(2)} M${suffix}`;
  if (r.rate >= 1e3) return `${(r.rate / 1e3).toFixed(1)} K${suffix}`;
  return `${r.rate.toFixed(1)} ${suffix}`;
}

console.log(`Measured ${doc.date.slice(0, 10)} on ${doc.cpu} (Node ${doc.node}), medians of \`npm run bench\`.\n`);
console.log('| suite | case | variant | median | vs baseline |');
console.log('|---|---|---|---|---|');
for (const r of doc.results) {
  if (only && !only.has(r.suite)) continue;
  const ratio = r.ratio === null ? '' : `${r.ratio.toFixed(2)}× ${r.baseline}`;
  console.log(`| ${r.suite} | ${r.case.replace(/\|/g, '\\|')} | ${r.variant} | ${rate(r)} | ${ratio} |`);
}
