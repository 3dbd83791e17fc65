import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunInterrupt } from '../harness/interrupt.ts';
import { INTERRUPTED } from '../harness/scenario/conformance-run.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';
import { prepareRun } from './prepare-run.ts';

// An interrupted run (harness/interrupt.ts, conformance-run.ts) on the simulator: what ran keeps
// its verdict, nothing starts after the interrupt, every result is there and says why it did not
// run. The lab's test/lab-interrupt.test.ts does it to a real CLI process over SSH.

describe('an interrupted run', () => {
  let reports: string;
  before(async () => { reports = await mkdtemp(join(tmpdir(), 'interrupt-')); });
  after(() => rm(reports, { recursive: true, force: true }));

  it('starts nothing after the interrupt, keeps the verdicts it has, reports the rest not run', async function () {
    this.timeout(120_000);
    const stop = new AbortController();
    const started: string[] = [];
    let afterStop = 0;
    const run = await prepareRun({
      inventory: DEFAULT_INVENTORY, only: ['simulator'], scenarios: ['cert.'], reportsDir: reports, jobs: 1, signal: stop.signal,
      onStart: (c) => {
        started.push(c.scenario.id);
        if (stop.signal.aborted) afterStop++;
      },
      onResult: (_r, done) => done === 3 && stop.abort(),
    });
    const doc = await run.finish();
    assert.equal(afterStop, 0, 'no scenario started after the interrupt');
    const notRun = doc.results.filter((r) => r.message === INTERRUPTED);
    assert.ok(notRun.length > 10, `most of the family was kept from running (${notRun.length})`);
    for (const r of notRun) assert.deepEqual([r.status, r.endedBy, r.actual.verdict], ['broken', 'not-run', 'BROKEN']);
    const ran = doc.results.filter((r) => r.message !== INTERRUPTED);
    assert.deepEqual(ran.map((r) => r.scenario).sort(), [...started].sort(), 'a result for every scenario that started, with its verdict');
    for (const r of ran) assert.equal(r.status, 'passed', `${r.scenario}: ${r.message}`);
    assert.equal(doc.results.length, run.cases.length);
  });

  it('takes a repeat within a terminal\'s echo as the same Ctrl-C; a later one leaves at once', async () => {
    const i = new RunInterrupt();
    const said: string[] = [];
    let left = 0;
    const give = i.install((l) => said.push(l), () => left++);
    try {
      process.emit('SIGINT', 'SIGINT');
      process.emit('SIGINT', 'SIGINT'); // npm and tsx pass the terminal's Ctrl-C on again
      assert.ok(i.signal.aborted);
      assert.equal(i.received, 'SIGINT');
      assert.equal(left, 0);
      assert.equal(said.length, 1);
      assert.match(said[0]!, /SIGINT: stopping: no new scenario starts, running ones end, gateways are put back, results and reports are written \(exit 2\)/);
      await new Promise((r) => setTimeout(r, 800)); // a second Ctrl-C by hand
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(left, 1);
      assert.match(said[1]!, /SIGTERM again: leaving at once; a gateway not put back yet keeps its journal/);
    } finally {
      give();
    }
  });
});
