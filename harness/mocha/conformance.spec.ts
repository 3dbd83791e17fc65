import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { ConformanceRun } from '../scenario/conformance-run.ts';
import { readDurations } from '../scenario/selection.ts';
import { parseShard } from '../scenario/shard.ts';
import { DEFAULT_EXPECTATIONS_DIR, DEFAULT_INVENTORY, loadTargets } from '../../targets/inventory.ts';
import { reportToAllure, skipReason } from '../report/allure.ts';
import { classify, loadExpectations } from '../report/divergences.ts';
import { runInterrupt } from '../interrupt.ts';
import { RunProgress } from '../progress.ts';

// The thin mocha adapter: one `it` per scenario × target. The run itself schedules every case
// (bounded concurrency) when the suite starts; each `it` awaits its own result and asserts it.
// Settings come from the environment so `npm test` and `conformance run` share this file.

const env = process.env;
// The composition root of `npm test` and `conformance run`: the inventory becomes drivers here.
const inventory = resolve(env.CONFORMANCE_INVENTORY ?? DEFAULT_INVENTORY);
let progress: RunProgress | undefined;
const run = await ConformanceRun.prepare({
  targets: await loadTargets(inventory, env.CONFORMANCE_TARGETS ? env.CONFORMANCE_TARGETS.split(',') : [], {
    acceptNewHostKey: env.CONFORMANCE_ACCEPT_NEW_HOST_KEY === '1',
  }),
  inventory,
  scenarios: env.CONFORMANCE_SCENARIOS ? env.CONFORMANCE_SCENARIOS.split(',') : [],
  ...(env.CONFORMANCE_SHARD ? { shard: parseShard(env.CONFORMANCE_SHARD) } : {}),
  ...(env.CONFORMANCE_DURATIONS ? { durations: await readDurations(resolve(env.CONFORMANCE_DURATIONS)) } : {}),
  ...(env.CONFORMANCE_JOBS ? { jobs: Number(env.CONFORMANCE_JOBS) } : {}),
  ...(env.CONFORMANCE_GATEWAYS ? { gateways: Number(env.CONFORMANCE_GATEWAYS) } : {}),
  reportsDir: resolve(env.CONFORMANCE_REPORTS ?? 'reports'),
  // Set off only when the CLI took over Ctrl-C (harness/interrupt.ts).
  signal: runInterrupt.signal,
  onStart: (c) => progress?.started(c.target.id, c.scenario.id),
  onResult: (r) => progress?.finished(r.target, r.scenario, classify(r, expectations.get(r.target))?.state === 'known' ? 'known' : r.status, r.message),
});
/** Per-target progress on stderr, when the CLI asks for it (a live block on a terminal, plain lines in a log). */
if (env.CONFORMANCE_PROGRESS) {
  progress = new RunProgress(run.cases.map((c) => ({ target: c.target.id })), { tty: env.CONFORMANCE_PROGRESS === 'tty', write: (t) => process.stderr.write(t), columns: process.stderr.columns });
}
/** Known divergences per target: a listed one is skipped here (Allure, mocha), never failed. */
const expectations = await loadExpectations(
  resolve(env.CONFORMANCE_EXPECTATIONS ?? DEFAULT_EXPECTATIONS_DIR),
  run.targets.map((t) => t.id),
  new Set(run.families.flatMap((f) => f.scenarios.map((s) => s.id))),
);
/** Bounds a harness that deadlocked; each scenario has its own, much shorter, hang timer. */
const WHOLE_RUN_MS = 30 * 60_000;

class BrokenError extends Error {
  override name = 'Broken';
}

describe('conformance', function () {
  this.timeout(WHOLE_RUN_MS);
  before(() => {
    progress?.start();
    run.start();
  });
  after(async () => {
    await run.finish();
    progress?.stop();
  });

  for (const target of run.targets) {
    describe(`target ${target.id}`, () => {
      for (const family of run.families) {
        describe(family.name, () => {
          for (const c of run.cases.filter((x) => x.target === target && x.family === family)) {
            it(`${c.scenario.id}`, async function () {
              const r = await run.result(family.name, c.scenario.id, target.id);
              const divergence = classify(r, expectations.get(target.id));
              await reportToAllure(r, target, divergence);
              const reason = skipReason(r, divergence);
              if (reason) {
                // Mocha prints a skipped test's title only: the reason goes with it.
                this.test!.title = `${c.scenario.id} (${reason})`;
                this.skip();
              }
              const note = divergence ? ` [${divergence.note}]` : '';
              if (r.status === 'broken') throw new BrokenError(`${r.message ?? r.actual.because}${note}`);
              assert.equal(r.status, 'passed', `${r.title}: ${r.message}${note}`);
            });
          }
        });
      }
    });
  }
});
