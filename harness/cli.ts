#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { diffCommand } from './cli/diff.ts';
import { mergeCommand } from './cli/merge.ts';
import { catching, positiveInt, readBaseline, report, shard, withReportOptions, type ReportFlags } from './cli/report-step.ts';
import { loadFamilies } from './scenario/families.ts';
import { runConformanceSuite } from './mocha/run-mocha.ts';
import { AllureGenerator, allureReportName } from './report/allure-generate.ts';
import { loadExpectations } from './report/divergences.ts';
import { readResultsFile } from './report/results.ts';
import { reportRedactor } from './report/write.ts';
import { checkPrefixes, readDurations, type Shard } from './scenario/selection.ts';
import { DEFAULT_EXPECTATIONS_DIR, DEFAULT_INVENTORY, inventorySecrets, loadTargets, readInventory, targetIds } from '../targets/inventory.ts';

// `conformance`: the main job (run), the reports again from a saved results.json (report), runs
// merged into one (merge), what changed between runs or targets (diff), the scenario catalogue
// without mocha (list) and gateways put back after an interrupted run (restore). Exit codes
// (docs/reports.md): 0 every result passed, was skipped or is a known divergence; 1 conformance
// failures or a gate not met; 2 broken (infrastructure, or input the harness cannot use) and no
// failures. The commands' own modules are in harness/cli/; only this file imports targets/.

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
  .option('--shard <i/n>', 'only part i of n of the scenario × target cases (the sanity scenario runs in every part); `merge` joins the parts', shard)
  .option('--durations <file>', 'with --shard: a results.json of an earlier run, to split by its durations')
  .option('--jobs <n>', 'scenarios at once (default: CPU count)', positiveInt)
  .option('--accept-new-host-key', 'first contact with a gateway whose host key the inventory does not pin: accept the key it offers and pin it there')
  .option('--reports <dir>', 'where reports go', 'reports'), { expectations: DEFAULT_EXPECTATIONS_DIR })
  .action(async (o: { inventory: string; target?: string[]; scenario?: string[]; shard?: Shard; durations?: string; jobs?: number; acceptNewHostKey?: boolean; reports: string } & ReportFlags) => {
    const reports = resolve(o.reports);
    // Every input is checked before any EMS starts: a typo is an error naming what exists (exit 2),
    // never a run of something else.
    const planned = await catching(async () => {
      const inventory = resolve(o.inventory);
      const targets = targetIds(await readInventory(inventory), inventory, o.target);
      const families = await loadFamilies();
      checkPrefixes(families, o.scenario);
      if (o.durations && !o.shard) throw new Error('--durations only balances shards: give --shard i/n too');
      if (o.durations) await readDurations(resolve(o.durations));
      const scenarioIds = new Set(families.flatMap((f) => f.scenarios.map((s) => s.id)));
      return { targets, expectations: await loadExpectations(resolve(o.expectations), targets, scenarioIds), baseline: await readBaseline(o) };
    });
    if (!planned) return;
    Object.assign(process.env, {
      CONFORMANCE_EXPECTATIONS: resolve(o.expectations),
      CONFORMANCE_INVENTORY: resolve(o.inventory),
      CONFORMANCE_REPORTS: reports,
      ...(o.target ? { CONFORMANCE_TARGETS: o.target.join(',') } : {}),
      ...(o.scenario ? { CONFORMANCE_SCENARIOS: o.scenario.join(',') } : {}),
      ...(o.shard ? { CONFORMANCE_SHARD: `${o.shard.index}/${o.shard.count}` } : {}),
      ...(o.durations ? { CONFORMANCE_DURATIONS: resolve(o.durations) } : {}),
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
    if (doc) process.exitCode = await report(doc, reports, planned.expectations, o, { allure, redactor, ...(planned.baseline ? { baseline: planned.baseline } : {}) });
  });

withReportOptions(program
  .command('report')
  .description('write junit.xml, matrix.html/.md and the Allure report again from a saved results.json (divergences and gates re-applied)')
  .requiredOption('--results <file>', 'a results.json of an earlier run')
  .option('--reports <dir>', 'where reports go (default: the directory of --results)'), { expectations: DEFAULT_EXPECTATIONS_DIR })
  .action(async (o: { results: string; reports?: string } & ReportFlags) => {
    const inputs = await catching(async () => {
      const doc = await readResultsFile(resolve(o.results));
      return {
        doc,
        expectations: await loadExpectations(resolve(o.expectations), doc.run.targets.map((t) => t.id)),
        baseline: await readBaseline(o),
        redactor: await reportRedactor(await inventorySecrets(doc.run.inventory)),
      };
    });
    if (inputs) process.exitCode = await report(inputs.doc, resolve(o.reports ?? dirname(o.results)), inputs.expectations, o, { redactor: inputs.redactor, ...(inputs.baseline ? { baseline: inputs.baseline } : {}) });
  });

withReportOptions(program
  .command('merge')
  .description('merge the results.json of shards (--shard i/n) or of several harness hosts into one run and write every report for the whole')
  .argument('<results...>', 'results.json files (each with its allure-results next to it, for the Allure report)')
  .requiredOption('--reports <dir>', 'where the merged results.json and reports go'), { expectations: DEFAULT_EXPECTATIONS_DIR })
  .action((files: string[], o: { reports: string } & ReportFlags) => mergeCommand(files, o, { inventorySecrets }));

program
  .command('diff')
  .description('what changed between two runs (OLD.json NEW.json), or between two targets (--targets A,B); exit 1 when a case got worse')
  .argument('<results...>', 'OLD.json NEW.json, or one results.json with --targets')
  .option('--targets <a,b>', 'compare target B against target A (the oracle), scenario by scenario')
  .action((files: string[], o: { targets?: string }) => diffCommand(files, o));

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
      for (const s of f.scenarios) console.log(`  ${s.id.padEnd(48)} ${s.requirements.join(',').padEnd(28)} ${s.expect.outcome === 'connects' ? 'connects' : `refuses: ${s.expect.class}`}`);
      for (const inv of f.invalid) console.log(`  INVALID ${inv.error}`);
    }
  });

await program.parseAsync();
