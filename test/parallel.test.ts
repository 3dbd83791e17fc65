import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun } from './prepare-run.ts';
import type { ScenarioResult } from '../harness/scenario/run.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';

// Parallelism changes nothing but the wall time: the same cases, run one at a time and many at
// once on every target of the default inventory, give the same statuses, verdicts and classes
// (each run in its own reports directory, so neither sees the other's files).

/**
 * One of each kind of outcome: connects; refused in the handshake, after it, at start-up; with a
 * secret encrypted by the target; against the shared Java 7 (JSSE) front.
 */
const SUBSET = [
  'baseline.expired-leaf',
  'baseline.tls10-only',
  'cert.self-signed.allowed',
  'cert.host.mismatch',
  'cert.chain-required.missing',
  'client.none-presented',
  'client.trusted-pem',
  'client.key-p12.wrong-passphrase',
  'criteria.all-match',
  'criteria.mismatch.ca-cert-organization',
  'secret.app-key-encrypted',
  'cipher.list.only-excluded-offered',
  'cipher.set.dhe-2048',
  'fips.algos.chacha20-only',
  'fips.build.enabled',
  'java7.default-list',
  'java7.recommended-no-kedh',
];

/** What must not depend on scheduling; durations and timings may. */
function outcome(r: ScenarioResult): string {
  return `${r.target}/${r.scenario}: ${r.status} ${r.actual.verdict}${r.actual.class ? ` ${r.actual.class}` : ''}`;
}

describe('parallel runs', function () {
  this.timeout(300_000);
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function runWith(jobs: number): Promise<ScenarioResult[]> {
    const reportsDir = await mkdtemp(join(tmpdir(), `parallel-test-jobs${jobs}-`));
    dirs.push(reportsDir);
    const run = await prepareRun({ inventory: DEFAULT_INVENTORY, reportsDir, jobs, scenarios: SUBSET });
    return (await run.finish()).results;
  }

  it('give the same results as a serial run, in the same order', async () => {
    const serial = await runWith(1);
    const parallel = await runWith(6);
    assert.ok(serial.length >= 2 * SUBSET.length, `the subset ran only ${serial.length} cases`);
    assert.deepEqual(parallel.map(outcome), serial.map(outcome));
    // Equal, and right: a difference common to both runs would hide behind the comparison.
    assert.deepEqual(serial.filter((r) => r.status !== 'passed' && r.status !== 'skipped').map(outcome), []);
    assert.deepEqual(parallel.filter((r) => r.endedBy === 'timeout').map(outcome), []);
  });
});
