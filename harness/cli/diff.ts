import { resolve } from 'node:path';
import { diffRuns, renderDiffLines, type Side } from '../report/diff.ts';
import { readResultsFile } from '../report/results.ts';
import { catching } from './report-step.ts';

// `conformance diff OLD.json NEW.json` (two runs, case by case), `conformance diff RUN.json
// --targets A,B` (two targets of one run: A the oracle) or both (OLD's A against NEW's B).
// Exit 0: nothing regressed; 1: a case got worse; 2: input the harness cannot use.

export async function diffCommand(files: string[], o: { targets?: string }): Promise<void> {
  const sides = await catching(async () => {
    if (files.length < 1 || files.length > 2) throw new Error(`diff takes OLD.json NEW.json, or one RUN.json with --targets A,B (got ${files.length} files)`);
    const pair = o.targets?.split(',').map((t) => t.trim());
    if (pair && (pair.length !== 2 || pair.some((t) => !t))) throw new Error(`--targets "${o.targets}": name two targets, A,B (A is the one compared against)`);
    if (files.length === 1 && !pair) throw new Error('one results file: name the two targets to compare with --targets A,B');
    const docs = await Promise.all(files.map(async (f) => ({ file: f, doc: await readResultsFile(resolve(f)) })));
    const [a, b = a] = docs as [(typeof docs)[0], (typeof docs)[0]?];
    const side = (s: typeof a, target?: string): Side => {
      if (target !== undefined && !s.doc.run.targets.some((t) => t.id === target)) {
        throw new Error(`${s.file}: no target "${target}" in this run (it has ${s.doc.run.targets.map((t) => t.id).join(', ')})`);
      }
      return { label: target === undefined ? s.file : `${files.length === 2 ? `${s.file} ` : ''}${target}`.trim(), doc: s.doc, ...(target !== undefined ? { target } : {}) };
    };
    return [side(a, pair?.[0]), side(b, pair?.[1])] as const;
  });
  if (!sides) return;
  const d = diffRuns(...sides);
  for (const line of renderDiffLines(d)) console.log(line);
  console.error(`conformance diff: ${d.regressions ? `${d.regressions} regression${d.regressions === 1 ? '' : 's'}: exit 1` : 'nothing regressed: exit 0'}`);
  process.exitCode = d.regressions ? 1 : 0;
}
