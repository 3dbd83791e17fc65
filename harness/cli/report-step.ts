import { join, resolve } from 'node:path';
import type { AllureGenerator } from '../report/allure-generate.ts';
import { diffSummary, type Side } from '../report/diff.ts';
import { outcomeOf, type TargetExpectations } from '../report/divergences.ts';
import type { Gates } from '../report/gates.ts';
import type { Redactor } from '../report/redact.ts';
import { readResultsFile, type ResultsFile } from '../report/results.ts';
import { triageText } from '../report/triage.ts';
import { defectNote } from '../report/matrix.ts';
import type { ReportFlags } from './options.ts';
import { writeReports } from '../report/write.ts';

// What the commands that write reports share (run, report, merge): the report step with what it
// prints, the baseline, and how a bad input ends (exit 2). Exit codes: docs/reports.md.

/** The baseline run named by --baseline, read (errors name the file and field) before anything runs. */
export async function readBaseline(o: ReportFlags): Promise<Side | undefined> {
  return o.baseline ? { label: o.baseline, doc: await readResultsFile(resolve(o.baseline)) } : undefined;
}

/** Shapes of unmatched EMS lines the run's summary shows (all: `conformance triage`). */
const TRIAGE_SHOWN = 5;

/**
 * Writes every report, prints where each went and why the exit code is what it is; returns it.
 * `allure`: a generator the run started ahead (it read the results as they were written).
 */
export async function report(
  doc: ResultsFile, reportsDir: string, expectations: Map<string, TargetExpectations>, o: ReportFlags,
  step: { redactor: Redactor; baseline?: Side; allure?: AllureGenerator },
): Promise<number> {
  const gates: Gates = {
    ...(o.minPassRate !== undefined ? { minPassRate: o.minPassRate } : {}),
    ...(o.maxFailures !== undefined ? { maxFailures: o.maxFailures } : {}),
    ...(o.failOn?.includes('weak') ? { failOnWeak: true } : {}),
  };
  const r = await writeReports(doc, {
    reportsDir, expectations, gates, redactor: step.redactor,
    ...(o.history ? { history: resolve(o.history) } : {}),
    ...(step.allure ? { allure: step.allure } : {}),
    ...(step.baseline ? { baseline: step.baseline } : {}),
  });
  const c = r.outcome.counts;
  for (const a of r.artifacts) console.error(`  ${a.what.padEnd(18)} ${a.path}`);
  for (const p of r.problems) console.error(`  not written: ${p}`);
  for (const p of r.skipped) console.error(`  skipped: ${p}`);
  for (const x of r.doc.results.filter((x) => x.divergence && x.divergence.state !== 'known')) console.error(`  ${x.target}/${x.scenario}: ${x.divergence!.note}`);
  if (r.changes) console.error(`  changes since baseline ${r.changes.old}: ${diffSummary(r.changes)} (matrix.html#changes)`);
  console.error(`conformance: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.broken} broken, ${c.known} known${c.weak ? `, ${c.weak} weak` : ''}${r.outcome.passRate !== undefined ? ` (pass rate ${r.outcome.passRate}%)` : ''}`);
  for (const x of r.doc.results.filter((x) => x.weak && outcomeOf(x) === 'weak')) console.error(`  weak: ${x.target}/${x.scenario}: ${x.weak!.what} (${x.weak!.evidence})`);
  for (const reason of r.outcome.reasons) console.error(`  ${reason}`);
  if (defectNote(r.doc)) console.error(`  WARNING${defectNote(r.doc).slice(1)}`);
  if (r.doc.run.triage) for (const line of triageText(r.doc.run.triage, { limit: TRIAGE_SHOWN, results: join(reportsDir, 'results.json') })) console.error(`  ${line}`);
  // A missing report is the harness failing, not the product: never hide it behind exit 0.
  const code = r.outcome.exitCode === 0 && r.problems.length ? 2 : r.outcome.exitCode;
  console.error(`conformance: exit ${code}`);
  return code;
}

/** Runs a step whose error is bad input or a missing file: prints it and sets exit code 2. */
export async function catching<T>(step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (e) {
    console.error(`conformance: ${(e as Error).message}`);
    process.exitCode = 2;
    return undefined;
  }
}
