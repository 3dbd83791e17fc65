import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { classify, loadExpectations } from '../../harness/report/divergences.ts';
import { readResultsFile, type ResultsFile } from '../../harness/report/results.ts';
import { ConformanceRun } from '../../harness/scenario/conformance-run.ts';
import { loadFamilies, SANITY_ID } from '../../harness/scenario/families.ts';
import type { ScenarioResult } from '../../harness/scenario/run.ts';
import { DEFAULT_EXPECTATIONS_DIR, DEFAULT_INVENTORY, loadTargets } from '../../targets/inventory.ts';
import { ARMED_VALUE, ARMED_VARIABLE, DEFECT_VARIABLE } from '../../targets/simulator/defects.ts';
import { buildSimulator } from '../../targets/simulator/build.mjs';
import { readReview, runnableDefects, type Review, type ReviewedDefect, type ReviewRow } from './review.ts';

// `npm run mutation`: the scenario catalogue against every defect of docs/mutation-review.md, in
// ONE harness run: the defect-free default targets, and one `local` simulator target per defect
// with its test-only switch armed (targets/simulator/defects.ts). Each target runs the sanity gate
// and the scenarios the review names for it (`--wide`: every scenario naming one of its
// requirements). It asserts that every defect is killed by a failing scenario naming the defect's
// requirement (a recorded policy's defect: turned weak), that every claim of the review holds, and
// that the defect-free simulator fails none of those scenarios; it prints the mutation score.
// Exit 0 only at 100 %.

const { values: flags } = parseArgs({
  options: {
    wide: { type: 'boolean', default: false },
    jobs: { type: 'string' },
    only: { type: 'string' },
    reports: { type: 'string', default: 'reports/mutation' },
    judge: { type: 'string' },
  },
});

interface Verdict {
  defect: ReviewedDefect;
  /** Scenarios that failed naming the owner's requirement (or, recorded, turned weak naming it). */
  detectedBy: string[];
  problems: string[];
}

const t0 = performance.now();
const review = await readReview();
const only = flags.only?.split(',');
const defects = runnableDefects(review).filter((d) => !only || only.includes(d.name));
if (only && defects.length !== only.length) throw new Error(`--only: no such runnable defect in the review: ${only.filter((n) => !defects.some((d) => d.name === n)).join(', ')}`);

// --judge FILE: judge a saved run's results.json again (after editing the review) without running anything.
const doc = flags.judge ? await readResultsFile(resolve(flags.judge)) : await runDefects(defects);
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
const clean = await cleanProblems(doc.results, defects);
const verdicts = defects.map((d) => judgeDefect(d, doc.results.filter((r) => r.target === d.name), doc.results.filter((r) => r.target === d.owner.base)));
process.exitCode = printReport(review, verdicts, clean, doc.results.length, seconds) ? 0 : 1;

/** One harness run: every defect's target and the defect-free bases, each with its scenarios. */
async function runDefects(list: ReviewedDefect[]): Promise<ResultsFile> {
  await buildSimulator();
  const work = await mkdtemp(join(tmpdir(), 'wsems-mutation-'));
  try {
    const inventory = await writeInventory(work, list);
    const wanted = await scenariosPerTarget(list, flags.wide);
    const run = await ConformanceRun.prepare({
      targets: await loadTargets(inventory), inventory, reportsDir: resolve(flags.reports),
      select: (scenario, target) => wanted.get(target)?.has(scenario) ?? false,
      jobs: flags.jobs ? Number(flags.jobs) : Math.max(2, cpus().length),
      onResult: (_r, done, total) => {
        if (done % 100 === 0 || done === total) process.stderr.write(`mutation: ${done}/${total} cases\n`);
      },
    });
    return await run.finish();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The default inventory's simulator targets, and one per defect: its base with the switch armed. */
async function writeInventory(dir: string, list: ReviewedDefect[]): Promise<string> {
  const inv = parseYaml(await readFile(DEFAULT_INVENTORY, 'utf8')) as { targets: Array<Record<string, unknown>> };
  const bases = new Map(inv.targets.map((t): [string, Record<string, unknown>] => [t.id as string, { ...t, executable: resolve(dirname(DEFAULT_INVENTORY), t.executable as string) }]));
  const used = [...new Set(list.map((d) => d.owner.base))];
  const targets = [
    ...used.map((id) => bases.get(id) ?? missing(id)),
    ...list.map((d) => {
      const base = bases.get(d.owner.base)!;
      return {
        ...base, id: d.name, emsVersion: `simulator with defect ${d.name}`,
        env: { ...(base.env as Record<string, string> | undefined), [DEFECT_VARIABLE]: d.name, [ARMED_VARIABLE]: ARMED_VALUE },
      };
    }),
  ];
  const file = join(dir, 'inventory.yaml');
  await writeFile(file, toYaml({ targets }, { aliasDuplicateObjects: false }));
  return file;
}

function missing(id: string): never {
  throw new Error(`docs/mutation-review.md names base target ${id}, which the default inventory does not have`);
}

/** Per target id: the scenarios it runs (the sanity gate always runs too). */
async function scenariosPerTarget(list: ReviewedDefect[], wide: boolean): Promise<Map<string, Set<string>>> {
  const catalogue = (await loadFamilies()).flatMap((f) => f.scenarios);
  const per = new Map<string, Set<string>>();
  const add = (target: string, ids: Iterable<string>) => {
    const set = per.get(target) ?? new Set<string>();
    for (const id of ids) set.add(id);
    per.set(target, set);
  };
  for (const d of list) {
    const requirements = new Set(d.rows.map((r) => r.requirement));
    const ids = [
      ...d.rows.flatMap((r) => r.killers),
      ...(wide ? catalogue.filter((s) => s.requirements.some((q) => requirements.has(q))).map((s) => s.id) : []),
    ];
    add(d.name, ids);
    add(d.owner.base, ids); // the same scenarios without the defect: they must hold there
  }
  return per;
}

/** What the defect-free targets got wrong: any failure or broken result that is no known divergence. */
async function cleanProblems(results: ScenarioResult[], list: ReviewedDefect[]): Promise<string[]> {
  const bases = [...new Set(list.map((d) => d.owner.base))];
  const expectations = await loadExpectations(DEFAULT_EXPECTATIONS_DIR, bases);
  return results
    .filter((r) => bases.includes(r.target))
    .filter((r) => (r.status === 'failed' || r.status === 'broken') && classify(r, expectations.get(r.target))?.state !== 'known')
    .map((r) => `${r.target} (no defect): ${r.scenario} ${r.status}: ${r.message ?? r.actual.because}`);
}

function weak(r: ScenarioResult): boolean {
  return r.status === 'passed' && r.weak !== undefined;
}

function judgeDefect(d: ReviewedDefect, own: ScenarioResult[], clean: ScenarioResult[]): Verdict {
  const problems: string[] = [];
  const mode = (row: ReviewRow) => (row.status === 'recorded' || row.status === 'also-recorded' ? 'recorded' : 'killed');
  const detects = (r: ScenarioResult, row: ReviewRow) => r.requirements.includes(row.requirement as never) && (mode(row) === 'killed' ? r.status === 'failed' : weak(r));
  for (const r of own) {
    if (r.injectedDefect !== d.name && r.actual.verdict !== 'UNSUPPORTED') problems.push(`${r.scenario}: the result does not carry injectedDefect ${d.name} (got ${r.injectedDefect ?? 'none'})`);
  }
  const sanity = own.find((r) => r.scenario === SANITY_ID);
  if (sanity?.status !== 'passed' && !d.owner.killers.includes(SANITY_ID)) problems.push(`the sanity gate failed (${sanity?.message ?? 'no result'}): every other scenario is broken, so nothing names the requirement`);
  // Every claim the review makes of this defect, row by row, scenario by scenario.
  for (const row of d.rows) {
    for (const id of row.killers) {
      const r = own.find((x) => x.scenario === id);
      const without = clean.find((x) => x.scenario === id);
      if (!r) problems.push(`${row.where}: ${id} did not run against ${d.name} (not in the catalogue?)`);
      else if (!detects(r, row)) problems.push(`${row.where}: ${id} should ${mode(row) === 'killed' ? 'fail' : 'turn weak'} naming ${row.requirement}, but is ${r.status}${weak(r) ? ' (weak)' : ''}: ${r.message ?? r.actual.because}`);
      if (without && (without.status !== 'passed' && without.status !== 'skipped')) problems.push(`${row.where}: ${id} is ${without.status} without the defect too (on ${d.owner.base}): no evidence the defect is what it catches`);
      if (without && mode(row) === 'recorded' && weak(without)) problems.push(`${row.where}: ${id} is weak without the defect too (on ${d.owner.base})`);
    }
  }
  const detectedBy = own.filter((r) => detects(r, d.owner)).map((r) => r.scenario);
  if (detectedBy.length === 0) problems.push(`not ${mode(d.owner)}: no scenario ${mode(d.owner) === 'killed' ? 'failed' : 'turned weak'} naming ${d.owner.requirement}`);
  return { defect: d, detectedBy, problems };
}

function printReport(rev: Review, verdicts: Verdict[], clean: string[], cases: number, seconds: string): boolean {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`mutation: ${verdicts.length} defects of docs/mutation-review.md, ${cases} cases${flags.wide ? ' (wide: every scenario of their requirements)' : ''}, ${seconds} s`);
  for (const v of verdicts) {
    const mark = v.problems.length ? '✘' : '✔';
    const how = v.defect.owner.status === 'recorded' ? 'recorded weak by' : 'killed by';
    out(`  ${mark} ${v.defect.name} (${v.defect.owner.requirement}${v.defect.owner.base !== 'simulator' ? `, on ${v.defect.owner.base}` : ''}): ${v.detectedBy.length ? `${how} ${v.detectedBy.join(', ')}` : 'SURVIVED'}`);
    for (const p of v.problems) out(`      ${p}`);
  }
  for (const p of clean) out(`  ✘ ${p}`);
  const detected = verdicts.filter((v) => v.detectedBy.length > 0).length;
  const recorded = verdicts.filter((v) => v.detectedBy.length > 0 && v.defect.owner.status === 'recorded').length;
  const excluded = [...new Set(rev.rows.filter((r) => r.status === 'excluded').map((r) => r.defect))];
  const score = verdicts.length ? (100 * detected) / verdicts.length : 0;
  out(`mutation score: ${score.toFixed(score === 100 ? 0 : 1)}% (${detected} of ${verdicts.length} defects detected: ${detected - recorded} killed by a failing scenario, ${recorded} recorded weak)`);
  out(`  excluded by name, argued in the review: ${excluded.join(', ') || 'none'}`);
  const ok = score === 100 && verdicts.every((v) => v.problems.length === 0) && clean.length === 0;
  out(`mutation: ${ok ? 'pass' : 'FAIL'}${clean.length ? ` (the defect-free simulator failed ${clean.length})` : ''}`);
  return ok;
}
