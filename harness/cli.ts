#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadFamilies } from './scenario/families.ts';
import { runConformanceSuite } from './mocha/run-mocha.ts';
import type { ResultsFile } from './report/results.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';

// `conformance`: the main job (run) and the scenario catalogue without mocha (list).

const program = new Command('conformance').description('WS EMS secure-connection conformance harness');

program
  .command('run')
  .description('run every scenario on every target of the inventory and write reports/')
  .option('--inventory <file>', 'inventory YAML', DEFAULT_INVENTORY)
  .option('--target <id...>', 'only these targets of the inventory')
  .option('--scenario <prefix...>', 'only scenarios whose id starts with one of these')
  .option('--jobs <n>', 'scenarios at once (default: CPU count)', positiveInt)
  .option('--reports <dir>', 'where reports go', 'reports')
  .action(async (o: { inventory: string; target?: string[]; scenario?: string[]; jobs?: number; reports: string }) => {
    const reports = resolve(o.reports);
    Object.assign(process.env, {
      CONFORMANCE_INVENTORY: resolve(o.inventory),
      CONFORMANCE_REPORTS: reports,
      ...(o.target ? { CONFORMANCE_TARGETS: o.target.join(',') } : {}),
      ...(o.scenario ? { CONFORMANCE_SCENARIOS: o.scenario.join(',') } : {}),
      ...(o.jobs ? { CONFORMANCE_JOBS: String(o.jobs) } : {}),
    });
    const allureResults = join(reports, 'allure-results');
    await rm(allureResults, { recursive: true, force: true });
    await rm(join(reports, 'results.json'), { force: true });
    await runConformanceSuite({ allureResultsDir: allureResults });
    process.exitCode = exitCode(join(reports, 'results.json'), await readResults(join(reports, 'results.json')));
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

/** 0: all passed or skipped; 1: conformance failures; 2: only infrastructure (broken) problems. */
function exitCode(path: string, doc: ResultsFile | undefined): number {
  if (!doc) {
    console.error(`${path}: no results were written; the run did not complete`);
    return 2;
  }
  const s = doc.run.summary;
  console.error(`conformance: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.broken} broken (${path})`);
  return s.failed > 0 ? 1 : s.broken > 0 ? 2 : 0;
}

async function readResults(path: string): Promise<ResultsFile | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ResultsFile;
  } catch {
    return undefined;
  }
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

await program.parseAsync();
