import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { warningLinesAsKnown } from '../ems/warnings.ts';
import { loadCatalogue } from '../pki/build.ts';
import { AllureGenerator, allureReportName } from './allure-generate.ts';
import { diffRuns, type RunDiff, type Side } from './diff.ts';
import { applyDivergences, type TargetExpectations } from './divergences.ts';
import { evaluate, type Gates, type RunOutcome } from './gates.ts';
import { junitXml } from './junit.ts';
import { buildMatrix, renderMatrixHtml, renderMatrixMd } from './matrix.ts';
import { redactTree, Redactor, writeRedacted } from './redact.ts';
import type { ResultsFile } from './results.ts';
import { triage } from './triage.ts';

// The report step of a run (and of `conformance report` over a saved results.json): known
// divergences applied, gates evaluated, then results.json, junit.xml, matrix.html/.md and the
// Allure report written, every byte through the one redactor.

export interface ReportOptions {
  reportsDir: string;
  expectations: ReadonlyMap<string, TargetExpectations>;
  gates: Gates;
  /** Persistent Allure history file (JSONL); without it the report has no history. */
  history?: string;
  redactor: Redactor;
  /** A generator started ahead (it loads Allure, and read the results, while the run went on); else one is started here. */
  allure?: AllureGenerator;
  /** An earlier run (`--baseline FILE`): the matrix gets a "changes since baseline" section. */
  baseline?: Side;
}

export interface Artifact {
  what: string;
  path: string;
}

export interface Reported {
  doc: ResultsFile;
  outcome: RunOutcome;
  artifacts: Artifact[];
  /** Report steps that failed (the run's verdict stands; the artifact is missing). */
  problems: string[];
  /** Artifacts not written for want of input (a saved results.json without its allure-results). */
  skipped: string[];
  /** The changes since the baseline, when one was given. */
  changes?: RunDiff;
}

export async function writeReports(input: ResultsFile, o: ReportOptions): Promise<Reported> {
  const results = applyDivergences(input.results, o.expectations);
  const outcome = evaluate(results, o.gates);
  // A run's triage was made with the error maps it ran with; a saved file from before has none yet.
  const triaged = input.run.triage ?? triage(results, input.run.targets.map((t) => ({ id: t.id, errorMap: [...(t.errorMap ?? []), ...warningLinesAsKnown(t)] })));
  const doc: ResultsFile = { ...input, run: { ...input.run, outcome, triage: triaged }, results };
  const at = (name: string) => join(o.reportsDir, name);
  const matrix = buildMatrix(doc);
  const changes = o.baseline ? diffRuns(o.baseline, { label: 'this run', doc }) : undefined;
  const artifacts: Artifact[] = [
    { what: 'results', path: await writeRedacted(at('results.json'), JSON.stringify(doc, null, 2) + '\n', o.redactor) },
    { what: 'JUnit', path: await writeRedacted(at('junit.xml'), junitXml(doc), o.redactor) },
    { what: 'matrix (HTML)', path: await writeRedacted(at('matrix.html'), renderMatrixHtml(doc, matrix, changes), o.redactor) },
    { what: 'matrix (Markdown)', path: await writeRedacted(at('matrix.md'), renderMatrixMd(doc, matrix, changes), o.redactor) },
  ];
  const extra = changes ? { changes } : {};
  const problems: string[] = [];
  const skipped: string[] = [];
  const allureResults = at('allure-results');
  if (!(await stat(allureResults).catch(() => undefined))?.isDirectory()) {
    skipped.push(`Allure report: no ${allureResults}`);
    return { doc, outcome, artifacts, problems, skipped, ...extra };
  }
  try {
    // allure-mocha wrote these from redacted results, through the same redactor in the run; this
    // pass is a backstop. A file it has to change was read by a generator started ahead in its
    // old form: then every result is read again.
    const rewritten = await redactTree(allureResults, o.redactor);
    const index = await (o.allure ?? new AllureGenerator()).generate({
      resultsDir: allureResults,
      outputDir: at('allure-report'),
      name: allureReportName(doc.run.targets.map((t) => t.id)),
      ...(o.history ? { history: o.history } : {}),
    }, { reread: rewritten > 0 });
    artifacts.push({ what: 'Allure results', path: allureResults }, { what: 'Allure report', path: index });
  } catch (e) {
    problems.push(`Allure report: ${(e as Error).message}`);
  }
  return { doc, outcome, artifacts, problems, skipped, ...extra };
}

/**
 * The redactor for the report step: the catalogue's passphrases, the targets' own secrets (the
 * composition root reads them from the inventory: SSH passwords, key passphrases) and, built in,
 * private-key PEM blocks and secret-named fields.
 */
export async function reportRedactor(targetSecrets: Array<string | undefined>): Promise<Redactor> {
  return new Redactor().add(...Object.values((await loadCatalogue()).secrets), ...targetSecrets);
}
