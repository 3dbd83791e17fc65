#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadFamilies } from './scenario/families.ts';
import { membersOf } from './scenario/model.ts';
import { expectationText } from './scenario/verdict.ts';
import { runConformanceSuite } from './mocha/run-mocha.ts';
import { AllureGenerator, allureReportName } from './report/allure-generate.ts';
import { loadExpectations, outcomeOf, type TargetExpectations } from './report/divergences.ts';
import type { Gates } from './report/gates.ts';
import { readResultsFile, type ResultsFile } from './report/results.ts';
import type { Redactor } from './report/redact.ts';
import { triage, triageText } from './report/triage.ts';
import { reportRedactor, writeReports } from './report/write.ts';
import { DEFAULT_EXPECTATIONS_DIR, DEFAULT_INVENTORY, inventorySecrets, loadTargets, readInventory } from '../targets/inventory.ts';

// `conformance`: the main job (run), the reports again from a saved results.json (report), the
// scenario catalogue without mocha (list) and gateways put back after an interrupted run (restore). Exit codes (docs/reports.md): 0 every result passed,
// was skipped or is a known divergence; 1 conformance failures or a gate not met; 2 broken
// (infrastructure, or input the harness cannot use) and no failures.

const program = new Command('conformance')
  .description('WS EMS secure-connection conformance harness')
  // A usage error is input the harness cannot use (2), never a conformance failure (1).
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));

withReportOptions(program
  .command('run')
  .description('run every scenario on every target of the inventory and write reports/')
  .option('--inventory <file>', 'inventory YAML', DEFAULT_INVENTORY)
  .option('--target <id...>', 'only these targets of the inventory')
  .option('--scenario <prefix...>', 'only scenarios whose id starts with one of these')
  .option('--jobs <n>', 'scenarios at once (default: CPU count)', positiveInt)
  .option('--accept-new-host-key', 'first contact with a gateway whose host key the inventory does not pin: accept the key it offers and pin it there')
  .option('--reports <dir>', 'where reports go', 'reports'))
  .action(async (o: { inventory: string; target?: string[]; scenario?: string[]; jobs?: number; acceptNewHostKey?: boolean; reports: string } & ReportFlags) => {
    const reports = resolve(o.reports);
    // Bad expectation files stop the job before any EMS starts, naming the file and the field.
    const planned = await catching(async () => {
      const targets = (await readInventory(resolve(o.inventory))).targets.map((t) => t.id).filter((id) => !o.target || o.target.includes(id));
      const scenarioIds = new Set((await loadFamilies()).flatMap((f) => f.scenarios.map((s) => s.id)));
      return { targets, expectations: await loadExpectations(resolve(o.expectations), targets, scenarioIds) };
    });
    if (!planned) return;
    Object.assign(process.env, {
      CONFORMANCE_EXPECTATIONS: resolve(o.expectations),
      CONFORMANCE_INVENTORY: resolve(o.inventory),
      CONFORMANCE_REPORTS: reports,
      ...(o.target ? { CONFORMANCE_TARGETS: o.target.join(',') } : {}),
      ...(o.scenario ? { CONFORMANCE_SCENARIOS: o.scenario.join(',') } : {}),
      ...(o.jobs ? { CONFORMANCE_JOBS: String(o.jobs) } : {}),
      ...(o.acceptNewHostKey ? { CONFORMANCE_ACCEPT_NEW_HOST_KEY: '1' } : {}),
    });
    const allureResults = join(reports, 'allure-results');
    await rm(allureResults, { recursive: true, force: true });
    await rm(join(reports, 'results.json'), { force: true });
    // The Allure report is started now and reads each result as it is written (redacted as the
    // report step redacts), so that after the last scenario only the report itself is left to make.
    const allure = new AllureGenerator();
    const redactor = await catching(async () => {
      allure.begin({ resultsDir: allureResults, outputDir: join(reports, 'allure-report'), name: allureReportName(planned.targets), ...(o.history ? { history: resolve(o.history) } : {}) });
      return reportRedactor(await inventorySecrets(resolve(o.inventory)));
    });
    if (!redactor) return;
    const writer = { redact: (text: string) => redactor.text(text), published: (file: string) => allure.add(file) };
    if ((await catching(() => runConformanceSuite({ allureResultsDir: allureResults, writer }))) === undefined) return;
    const doc = await catching(() => readResultsFile(join(reports, 'results.json')));
    if (doc) process.exitCode = await report(doc, reports, planned.expectations, o, { allure, redactor });
  });

withReportOptions(program
  .command('report')
  .description('write junit.xml, matrix.html/.md and the Allure report again from a saved results.json (divergences and gates re-applied)')
  .requiredOption('--results <file>', 'a results.json of an earlier run')
  .option('--reports <dir>', 'where reports go (default: the directory of --results)'))
  .action(async (o: { results: string; reports?: string } & ReportFlags) => {
    const inputs = await catching(async () => {
      const doc = await readResultsFile(resolve(o.results));
      return { doc, expectations: await loadExpectations(resolve(o.expectations), doc.run.targets.map((t) => t.id)) };
    });
    if (inputs) process.exitCode = await report(inputs.doc, resolve(o.reports ?? dirname(o.results)), inputs.expectations, o);
  });

program
  .command('triage')
  .description('the EMS log lines of a run no error-map entry matched, grouped by shape, with the errorMap entry to start from; and inventory errorMap entries that matched nothing')
  .requiredOption('--results <file>', 'a results.json of an earlier run')
  .option('--json', 'print the triage as JSON')
  .action(async (o: { results: string; json?: boolean }) => {
    const doc = await catching(() => readResultsFile(resolve(o.results)));
    if (!doc) return;
    const t = doc.run.triage ?? triage(doc.results, doc.run.targets.map((x) => ({ id: x.id, errorMap: x.errorMap ?? [] })));
    if (o.json) console.log(JSON.stringify(t, null, 2));
    else console.log((triageText(t).join('\n') || 'triage: every EMS error line of the refused and HANG results matched an error-map entry; no unused errorMap entries'));
  });

program
  .command('restore')
  .description('put a gateway back as it was before an interrupted run (replays the restore journal the run left there)')
  .requiredOption('--target <id...>', 'the targets to restore')
  .option('--inventory <file>', 'inventory YAML', DEFAULT_INVENTORY)
  .action(async (o: { target: string[]; inventory: string }) => {
    const targets = await catching(() => loadTargets(resolve(o.inventory), o.target));
    for (const t of targets ?? []) {
      if (!t.restore) {
        console.error(`${t.id}: nothing to restore (this kind of target changes nothing outside its session directories)`);
        continue;
      }
      try {
        for (const line of await t.restore()) console.error(`${t.id}: ${line}`);
      } catch (e) {
        console.error(`${t.id}: restore failed: ${(e as Error).message}`);
        process.exitCode = 2;
      }
    }
  });

program
  .command('list')
  .description('list the scenario catalogue (no EMS is started)')
  .option('--json', 'print the scenarios as JSON')
  .action(async (o: { json?: boolean }) => {
    const families = await loadFamilies();
    if (o.json) {
      console.log(JSON.stringify(families, null, 2));
      return;
    }
    for (const f of families) {
      console.log(`${f.name} (${f.scenarios.length})`);
      for (const s of f.scenarios) console.log(`  ${s.id.padEnd(48)} ${s.requirements.join(',').padEnd(28)} ${membersOf(s.expect).map(expectationText).join(' | ')}`);
      for (const inv of f.invalid) console.log(`  INVALID ${inv.error}`);
    }
  });

/** The options of the report step, shared by `run` and `report`. */
function withReportOptions(c: Command): Command {
  return c
  .option('--expectations <dir>', 'known divergences, one <target>.yaml per target', DEFAULT_EXPECTATIONS_DIR)
  .option('--history <file>', 'persistent Allure history file (JSONL), for trends across runs')
  .option('--min-pass-rate <percent>', 'release gate: passed ÷ (passed + failed + known) at least this', percent)
  .option('--max-failures <n>', 'release gate: tolerate up to n conformance failures (default 0)', wholeNumber)
  .option('--fail-on <what...>', 'release gate: these results fail the run too (weak: weak crypto accepted)', failOn);
}

/** Shapes of unmatched EMS lines the run's summary shows (all: `conformance triage`). */
const TRIAGE_SHOWN = 5;

interface ReportFlags {
  expectations: string;
  history?: string;
  minPassRate?: number;
  maxFailures?: number;
  failOn?: Array<'weak'>;
}

/** Writes every report, prints where each went and why the exit code is what it is; returns it. */
/** `ahead`: what the run prepared for the report step (a run's report redactor is the one its allure-results were written through). */
async function report(
  doc: ResultsFile, reportsDir: string, expectations: Map<string, TargetExpectations>, o: ReportFlags, ahead?: { allure: AllureGenerator; redactor: Redactor },
): Promise<number> {
  const gates: Gates = {
    ...(o.minPassRate !== undefined ? { minPassRate: o.minPassRate } : {}),
    ...(o.maxFailures !== undefined ? { maxFailures: o.maxFailures } : {}),
    ...(o.failOn?.includes('weak') ? { failOnWeak: true } : {}),
  };
  const r = await writeReports(doc, { reportsDir, expectations, gates, redactor: ahead?.redactor ?? (await reportRedactor(await inventorySecrets(doc.run.inventory))), ...(o.history ? { history: resolve(o.history) } : {}), ...(ahead ? { allure: ahead.allure } : {}) });
  const c = r.outcome.counts;
  for (const a of r.artifacts) console.error(`  ${a.what.padEnd(18)} ${a.path}`);
  for (const p of r.problems) console.error(`  not written: ${p}`);
  for (const p of r.skipped) console.error(`  skipped: ${p}`);
  for (const x of r.doc.results.filter((x) => x.divergence && x.divergence.state !== 'known')) console.error(`  ${x.target}/${x.scenario}: ${x.divergence!.note}`);
  console.error(`conformance: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.broken} broken, ${c.known} known${c.weak ? `, ${c.weak} weak` : ''}${r.outcome.passRate !== undefined ? ` (pass rate ${r.outcome.passRate}%)` : ''}`);
  for (const x of r.doc.results.filter((x) => x.weak && outcomeOf(x) === 'weak')) console.error(`  weak: ${x.target}/${x.scenario}: ${x.weak!.what} (${x.weak!.evidence})`);
  for (const reason of r.outcome.reasons) console.error(`  ${reason}`);
  if (r.doc.run.triage) for (const line of triageText(r.doc.run.triage, { limit: TRIAGE_SHOWN, results: join(reportsDir, 'results.json') })) console.error(`  ${line}`);
  // A missing report is the harness failing, not the product: never hide it behind exit 0.
  const code = r.outcome.exitCode === 0 && r.problems.length ? 2 : r.outcome.exitCode;
  console.error(`conformance: exit ${code}`);
  return code;
}

/** Runs a step whose error is bad input or a missing file: prints it and sets exit code 2. */
async function catching<T>(step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (e) {
    console.error(`conformance: ${(e as Error).message}`);
    process.exitCode = 2;
    return undefined;
  }
}

function percent(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a percentage from 0 to 100');
  return n;
}

function wholeNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of at least 0');
  return n;
}

/** `--fail-on weak` (repeatable; the only kind so far). */
function failOn(v: string, previous: Array<'weak'> = []): Array<'weak'> {
  if (v !== 'weak') throw new InvalidArgumentError('must be "weak" (results where weak crypto was accepted)');
  return [...previous, v];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

await program.parseAsync();
