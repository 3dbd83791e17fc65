import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Which folders may import from where. Each rule: the sources under `folder` (but those under
// `roots`: the composition roots, which wire the parts together) may import, by a relative or
// absolute specifier, only what resolves under one of `allowed`; `exceptions` are single imports
// allowed anyway, each with its reason. Packages (ws, zod …) are not checked.

interface ImportRule {
  folder: string;
  roots?: string[];
  allowed: string[];
  exceptions: { file: string; specifier: string; why: string }[];
  why: string;
}

const RULES: ImportRule[] = [
  {
    folder: 'targets/simulator',
    allowed: ['targets/simulator'],
    exceptions: [],
    why: 'the simulator is the product\'s stand-in and shares no code with the oracle that judges it (DESIGN.md)',
  },
  {
    folder: 'harness',
    roots: ['harness/cli.ts', 'harness/mocha'],
    allowed: ['harness'],
    exceptions: [],
    why: 'the harness defines the ports it needs (harness/scenario/target.ts) and targets/ implements them; only the composition roots load the inventory',
  },
  {
    folder: 'scenarios',
    allowed: ['scenarios', 'harness/scenario', 'harness/endpoints/spec.ts'],
    exceptions: [],
    why: 'scenarios are data declared with the scenario model; they never reach into drivers or reports',
  },
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = /\.(ts|mts|cts|mjs|cjs|js)$/;
const SKIPPED = new Set(['dist', 'node_modules']); // build output and installed packages

// `import … from '…'`, `export … from '…'`, `import '…'`, `import('…')`, `require('…')`.
const SPECIFIER = /\bfrom\s*(['"])([^'"\n]+)\1|\bimport\s*(?:\(\s*)?(['"])([^'"\n]+)\3|\brequire\s*\(\s*(['"])([^'"\n]+)\5/g;

/** Every specifier in a source text with its 1-based line. */
function importsOf(text: string): { line: number; specifier: string }[] {
  return [...text.matchAll(SPECIFIER)].map((m) => ({
    line: text.slice(0, m.index).split('\n').length,
    specifier: (m[2] ?? m[4] ?? m[6]) as string,
  }));
}

function sourcesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory() && !SKIPPED.has(entry.name)) found.push(...sourcesUnder(path));
    else if (entry.isFile() && SOURCE.test(entry.name)) found.push(path);
  }
  return found;
}

const inside = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** `file:line: 'specifier' resolves to …` for every import of `rule.folder` that leaves its allowed roots. */
function violations(rule: ImportRule): string[] {
  const found: string[] = [];
  for (const file of sourcesUnder(rule.folder)) {
    if (rule.roots?.some((root) => inside(file, root))) continue;
    for (const { line, specifier } of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
      if (!/^\.{1,2}\/|^\//.test(specifier)) continue; // a package or node: built-in
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).split(sep).join('/');
      if (rule.allowed.some((root) => inside(target, root))) continue;
      if (rule.exceptions.some((e) => e.file === file && e.specifier === specifier)) continue;
      found.push(`${file}:${line}: '${specifier}' resolves to ${target}, outside ${rule.allowed.join(', ')}`);
    }
  }
  return found;
}

describe('import rules', () => {
  it('finds static, re-exported, side-effect, dynamic and multi-line imports with their lines', () => {
    const text = [
      "import { a } from './a.ts';",
      "export { b } from \"../b.ts\";",
      "import './c.ts';",
      'const d = await import(\'../../d.ts\');',
      'import {',
      '  e,',
      "} from '../e.ts';",
      "const f = require('node:f');",
    ].join('\n');
    assert.deepEqual(importsOf(text), [
      { line: 1, specifier: './a.ts' },
      { line: 2, specifier: '../b.ts' },
      { line: 3, specifier: './c.ts' },
      { line: 4, specifier: '../../d.ts' },
      { line: 7, specifier: '../e.ts' },
      { line: 8, specifier: 'node:f' },
    ]);
  });

  for (const rule of RULES) {
    it(`${rule.folder}/ imports only from ${rule.allowed.join(', ')}: ${rule.why}`, () => {
      assert.ok(sourcesUnder(rule.folder).length > 0, `${rule.folder}/ has no sources: the rule checks nothing`);
      const found = violations(rule);
      assert.deepEqual(found, [], `imports leaving their allowed roots:\n  ${found.join('\n  ')}`);
    });
  }
});
