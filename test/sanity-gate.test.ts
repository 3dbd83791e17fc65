import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultsFile } from '../harness/report/results.ts';
import { ConformanceRun } from '../harness/scenario/conformance-run.ts';
import { SANITY_ID } from '../harness/scenario/families.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';
import { fakeTarget } from './fake-wsems.ts';

// The sanity gate: every target first runs baseline.sanity; a target that does not connect there
// cannot be judged, so every other scenario of that target is BROKEN with the reason (and never
// started), while the other targets of the run go on.

const SCENARIOS = ['cert.self-signed.refused', 'criteria.all-match'];

describe('the sanity gate', function () {
  this.timeout(120_000);
  let reports: string;
  let doc: ResultsFile;
  before(async () => {
    reports = await mkdtemp(join(tmpdir(), 'sanity-gate-'));
    const [simulator] = await loadTargets(DEFAULT_INVENTORY, ['simulator']);
    const run = await ConformanceRun.prepare({
      targets: [fakeTarget('fake-exits', 'exits'), simulator!],
      inventory: 'test/sanity-gate.test.ts',
      scenarios: SCENARIOS,
      reportsDir: reports,
      jobs: 2,
    });
    doc = await run.finish();
  });
  after(() => rm(reports, { recursive: true, force: true }));

  const on = (target: string) => doc.results.filter((r) => r.target === target);

  it('a target whose sanity scenario fails: its sanity result fails with the evidence', () => {
    const sanity = on('fake-exits').find((r) => r.scenario === SANITY_ID)!;
    assert.equal(sanity.status, 'failed');
    assert.equal(sanity.actual.verdict, 'REFUSED');
    assert.match(sanity.message!, /^expected connection; got refusal: unattributed \(EMS exited \(code 1, signal null\)/);
  });

  it('turns every other scenario of that target BROKEN with the reason, none of them started', () => {
    const sanity = on('fake-exits').find((r) => r.scenario === SANITY_ID)!;
    const rest = on('fake-exits').filter((r) => r.scenario !== SANITY_ID);
    assert.deepEqual(rest.map((r) => r.scenario).sort(), SCENARIOS);
    for (const r of rest) {
      assert.equal(r.status, 'broken', r.scenario);
      assert.equal(r.actual.verdict, 'BROKEN');
      assert.equal(r.message, `sanity gate: fake-exits did not connect to the sanity endpoint: ${sanity.message}`);
      assert.equal(r.endedBy, 'not-run');
      assert.deepEqual(r.actual.evidence, { observations: [], emsLog: [] }, 'no EMS was started for it');
    }
  });

  it('lets the other targets of the run go on', () => {
    assert.deepEqual(on('simulator').map((r) => `${r.scenario}:${r.status}`).sort(), [`${SANITY_ID}:passed`, ...SCENARIOS.map((s) => `${s}:passed`)].sort());
  });

  it('writes it all to results.json: one failed, two broken, three passed', async () => {
    const written = JSON.parse(await readFile(join(reports, 'results.json'), 'utf8')) as ResultsFile;
    assert.deepEqual(written.run.summary, { total: 6, passed: 3, failed: 1, skipped: 0, broken: 2 });
  });
});
