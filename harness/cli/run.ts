import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runInterrupt } from '../interrupt.ts';
import { runConformanceSuite } from '../mocha/run-mocha.ts';
import { allureReportName, type AllureGenerator } from '../report/allure-generate.ts';
import { loadExpectations } from '../report/divergences.ts';
import { readResultsFile } from '../report/results.ts';
import { reportRedactor } from '../report/write.ts';
import { loadFamilies } from '../scenario/families.ts';
import { checkPrefixes, readDurations } from '../scenario/selection.ts';
import type { Shard } from '../scenario/shard.ts';
import type { ReportFlags } from './options.ts';
import { catching, readBaseline, report } from './report-step.ts';

// `conformance run`: every input checked first (a typo is an error naming what exists, exit 2,
// never a run of something else), then the conformance suite through mocha, then the report step.
// Ctrl-C (harness/interrupt.ts) stops the run, puts the gateways back and still writes the reports: exit 2.

export interface RunFlags extends ReportFlags {
  inventory: string;
  target?: string[];
  scenario?: string[];
  shard?: Shard;
  durations?: string;
  jobs?: number;
  gateways?: number;
  acceptNewHostKey?: boolean;
  reports: string;
}

/** What the run needs from targets/ (harness/ does not import it: the composition root, harness/cli.ts, hands these over). */
export interface RunDeps {
  /** The ids of the inventory's targets a run uses; an unknown id is an error listing what it has. */
  targetIds(file: string, only?: readonly string[]): Promise<string[]>;
  inventorySecrets(file: string): Promise<Array<string | undefined>>;
  /** What the targets need before a run (the simulator built); its error stops the run (exit 2). */
  prepare(): Promise<unknown>;
}

/** `allure`: the report generator, started by the caller as early as it could (it loads Allure meanwhile). */
export async function runCommand(o: RunFlags, deps: RunDeps, allure: AllureGenerator): Promise<void> {
  // Ctrl-C from here on: the run stops and puts the gateways back; twice: leave at once.
  runInterrupt.install((line) => console.error(line));
  const reports = resolve(o.reports);
  const planned = await catching(async () => {
    const targets = await deps.targetIds(resolve(o.inventory), o.target);
    await deps.prepare();
    const families = await loadFamilies();
    checkPrefixes(families, o.scenario);
    if (o.durations && !o.shard) throw new Error('--durations only balances shards: give --shard i/n too');
    if (o.durations) await readDurations(resolve(o.durations));
    const scenarioIds = new Set(families.flatMap((f) => f.scenarios.map((s) => s.id)));
    return { targets, expectations: await loadExpectations(resolve(o.expectations), targets, scenarioIds), baseline: await readBaseline(o) };
  });
  if (!planned) return;
  // The mocha adapter (harness/mocha/conformance.spec.ts) reads its settings from the environment,
  // so that `npm test` and this command share it.
  Object.assign(process.env, {
    CONFORMANCE_EXPECTATIONS: resolve(o.expectations),
    CONFORMANCE_INVENTORY: resolve(o.inventory),
    CONFORMANCE_REPORTS: reports,
    ...(o.target ? { CONFORMANCE_TARGETS: o.target.join(',') } : {}),
    ...(o.scenario ? { CONFORMANCE_SCENARIOS: o.scenario.join(',') } : {}),
    ...(o.shard ? { CONFORMANCE_SHARD: `${o.shard.index}/${o.shard.count}` } : {}),
    ...(o.durations ? { CONFORMANCE_DURATIONS: resolve(o.durations) } : {}),
    ...(o.jobs ? { CONFORMANCE_JOBS: String(o.jobs) } : {}),
    ...(o.gateways ? { CONFORMANCE_GATEWAYS: String(o.gateways) } : {}),
    // Per-target progress on stderr: a live block on a terminal (then no spec reporter), plain lines in a log.
    CONFORMANCE_PROGRESS: process.stderr.isTTY ? 'tty' : 'plain',
    ...(o.acceptNewHostKey ? { CONFORMANCE_ACCEPT_NEW_HOST_KEY: '1' } : {}),
  });
  const allureResults = join(reports, 'allure-results');
  await rm(allureResults, { recursive: true, force: true });
  await rm(join(reports, 'results.json'), { force: true });
  // The Allure report is begun now and reads each result as it is written (redacted as the report
  // step redacts), so that after the last scenario only the report itself is left to make.
  const redactor = await catching(async () => {
    allure.begin({ resultsDir: allureResults, outputDir: join(reports, 'allure-report'), name: allureReportName(planned.targets), ...(o.history ? { history: resolve(o.history) } : {}) });
    return reportRedactor(await deps.inventorySecrets(resolve(o.inventory)));
  });
  if (!redactor) return;
  const writer = { redact: (text: string) => redactor.text(text), published: (file: string) => allure.add(file) };
  if ((await catching(() => runConformanceSuite({ allureResultsDir: allureResults, writer, spec: !process.stderr.isTTY }))) === undefined) return;
  const doc = await catching(() => readResultsFile(join(reports, 'results.json')));
  if (doc) process.exitCode = await report(doc, reports, planned.expectations, o, { allure, redactor, ...(planned.baseline ? { baseline: planned.baseline } : {}) });
  if (runInterrupt.received) {
    console.error(`conformance: interrupted (${runInterrupt.received}): the scenarios it kept from running are reported broken, not run; exit 2`);
    process.exitCode = 2;
  }
}
