// Every ```ts block of README.md and docs/*.md runs, as a user would run it: imports of 'elysia-net'
// resolve to this package (Node's self-reference through the exports map, i.e. the built dist/).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// One scratch folder per run: parallel runs must not overwrite each other's files.
const scratch = join(root, 'test', '.examples', String(process.pid));

interface Block {
  file: string;
  line: number;
  code: string;
}

function blocks(file: string): Block[] {
  const text = readFileSync(file, 'utf8');
  const out: Block[] = [];
  const re = /^```(ts|typescript)\s*$([\s\S]*?)^```\s*$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ file, line, code: m[2]! });
  }
  return out;
}

const docs = [join(root, 'README.md'), ...(existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f)) : [])];
const all = docs.flatMap(blocks);

describe('documentation examples run', () => {
  it('finds examples', () => {
    expect(all.length).toBeGreaterThan(0);
  });
  all.forEach((b, n) => {
    it(`${b.file.slice(root.length + 1)}:${b.line}`, () => {
      mkdirSync(scratch, { recursive: true });
      const js = ts.transpileModule(b.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      }).outputText;
      const path = join(scratch, `example-${n}.mjs`);
      writeFileSync(path, js);
      try {
        execFileSync(process.execPath, [path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, env: { ...process.env } });
      } catch (e) {
        const err = e as { stderr?: Buffer; stdout?: Buffer };
        throw new Error(`example at ${b.file}:${b.line} failed:\n${String(err.stderr ?? '')}${String(err.stdout ?? '')}`);
      } finally {
        rmSync(path, { force: true });
      }
    }, 90_000);
  });
});
