#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { resolve } from 'node:path';
import { positiveInt, shard, withReportOptions, type ReportFlags } from './cli/options.ts';
import type { RunFlags } from './cli/run.ts';
import { AllureGenerator } from './report/allure-generate.ts';
import { DEFAULT_EXPECTATIONS_DIR, DEFAULT_INVENTORY } from '../targets/defaults.ts';

// `conformance`: the main job (run), the reports again from a saved results.json (report), runs
// merged into one (merge), what changed between runs or targets (diff), the scenario catalogue
// without mocha (list), the EMS lines no error-map entry matched (triage) and gateways put back after an interrupted run (restore). Exit codes
// (docs/reports.md): 0 every result passed, was skipped or is a known divergence; 1 conformance
// failures or a gate not met; 2 broken (infrastructure, or input the harness cannot use) and no
// failures. Each command's module (harness/cli/) is loaded when that command runs: a quick run
// starts sooner. This file is the composition root: the only one here that imports targets/.

const program = new Command('conformance')
  .description('WS EMS secure-connection conformance harness')
  // A usage error is input the harness cannot use (2), never a conformance failure (1).
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));

const inventoryModule = () => import('../targets/inventory.ts');

withReportOptions(program
  .command('run')
  .description('run every scenario on every target of the inventory and write reports/')
  .option('--inventory <file>', 'inventory YAML', DEFAULT_INVENTORY)
  .option('--target <id...>', 'only these targets of the inventory')
  .option('--scenario <prefix...>', 'only scenarios whose id starts with one of these')
  .option('--shard <i/n>', 'only part i of n of the scenario × target cases (the sanity scenario runs in every part); `merge` joins the parts', shard)
  .option('--durations <file>', 'with --shard: a results.json of an earlier run, to split by its durations')
  .option('--jobs <n>', 'scenarios at once on this host, i.e. local EMS processes (default: CPU count)', positiveInt)
  .option('--gateways <n>', 'gateways in use at once, one scenario each (default: all)', positiveInt)
  .option('--accept-new-host-key', 'first contact with a gateway whose host key the inventory does not pin: accept the key it offers and pin it there')
  .option('--reports <dir>', 'where reports go', 'reports'), { expectations: DEFAULT_EXPECTATIONS_DIR })
  .action(async (o: RunFlags) => {
    // First of all: Allure's report engine takes longer to load than the rest of the harness.
    const allure = new AllureGenerator();
    const [{ runCommand }, inv, simulator] = await Promise.all([import('./cli/run.ts'), inventoryModule(), import('../targets/simulator/build.mjs')]);
    await runCommand(o, {
      targetIds: async (file, only) => inv.targetIds(await inv.readInventory(file), file, only),
      inventorySecrets: inv.inventorySecrets,
      // The bundled simulator as its sources are (cached by their hash: a check when nothing changed).
      prepare: () => simulator.buildSimulator(),
    }, allure);
  });

withReportOptions(program
  .command('report')
  .description('write junit.xml, matrix.html/.md and the Allure report again from a saved results.json (divergences and gates re-applied)')
  .requiredOption('--results <file>', 'a results.json of an earlier run')
  .option('--reports <dir>', 'where reports go (default: the directory of --results)'), { expectations: DEFAULT_EXPECTATIONS_DIR })
  .action(async (o: { results: string; reports?: string } & ReportFlags) => {
    const [{ reportCommand }, { inventorySecrets }] = await Promise.all([import('./cli/report.ts'), inventoryModule()]);
    await reportCommand(o, { inventorySecrets });
  });

withReportOptions(program
  .command('merge')
  .description('merge the results.json of shards (--shard i/n) or of several harness hosts into one run and write every report for the whole')
  .argument('<results...>', 'results.json files (each with its allure-results next to it, for the Allure report)')
  .requiredOption('--reports <dir>', 'where the merged results.json and reports go'), { expectations: DEFAULT_EXPECTATIONS_DIR })
  .action(async (files: string[], o: { reports: string } & ReportFlags) => {
    const [{ mergeCommand }, { inventorySecrets }] = await Promise.all([import('./cli/merge.ts'), inventoryModule()]);
    await mergeCommand(files, o, { inventorySecrets });
  });

program
  .command('diff')
  .description('what changed between two runs (OLD.json NEW.json), or between two targets (--targets A,B); exit 1 when a case got worse')
  .argument('<results...>', 'OLD.json NEW.json, or one results.json with --targets')
  .option('--targets <a,b>', 'compare target B against target A (the oracle), scenario by scenario')
  .action(async (files: string[], o: { targets?: string }) => (await import('./cli/diff.ts')).diffCommand(files, o));

program
  .command('triage')
  .description('the EMS log lines of a run no error-map entry matched, grouped by shape, with the errorMap entry to start from; and inventory errorMap entries that matched nothing')
  .requiredOption('--results <file>', 'a results.json of an earlier run')
  .option('--json', 'print the triage as JSON')
  .action(async (o: { results: string; json?: boolean }) => (await import('./cli/triage.ts')).triageCommand(o));

program
  .command('restore')
  .description('put a gateway back as it was before an interrupted run (replays the restore journal the run left there)')
  .requiredOption('--target <id...>', 'the targets to restore')
  .option('--inventory <file>', 'inventory YAML', DEFAULT_INVENTORY)
  .action(async (o: { target: string[]; inventory: string }) => {
    const [{ catching }, { loadTargets }] = await Promise.all([import('./cli/report-step.ts'), inventoryModule()]);
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
    const [{ loadFamilies }, { membersOf }, { expectationText }] = await Promise.all([
      import('./scenario/families.ts'), import('./scenario/model.ts'), import('./scenario/verdict.ts'),
    ]);
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

await program.parseAsync();
