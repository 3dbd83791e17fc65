import { strict as assert } from 'node:assert';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { Redactor } from '../harness/report/redact.ts';
import { family } from '../harness/scenario/model.ts';
import { runScenario } from '../harness/scenario/run.ts';
import { PLATFORM_GRACE_MS } from '../harness/scenario/verdict-watch.ts';
import { fakeTarget } from './fake-wsems.ts';

// The two timers that decide, end to end on the real clock: a real endpoint, a real EMS process
// (test/fixtures/fake-wsems/wsems) that goes silent, the run loop's own watcher. The hang timer
// turns an EMS that says nothing decisive into HANG after the scenario's hangMs; the platform
// grace decides a line that blames the handshake while the platform says nothing.

const HANG_MS = 1500;
const scenario = (hangMs: number) => family('silent', {}, [{
  id: 'silent.case', title: 'an EMS that goes silent', requirements: ['BASE-SANITY'], expect: { outcome: 'connects' },
  ems: { certificates: { validate: false } }, hangMs,
}]).scenarios[0]!;

describe('an EMS that goes silent (the hang timer and the platform grace, end to end)', function () {
  this.timeout(60_000);
  let catalogue: Catalogue;
  before(async () => { catalogue = await loadCatalogue(); });

  it('connects by TCP, then says nothing: HANG after the scenario\'s hangMs, ended by the timeout, the EMS stopped', async () => {
    const r = await runScenario('silent', scenario(HANG_MS), fakeTarget('fake-silent', 'silent'), { catalogue, redactor: new Redactor() });
    assert.equal(r.actual.verdict, 'HANG', r.actual.because);
    assert.equal(r.actual.because, `no decisive evidence within ${HANG_MS} ms: the EMS said nothing that decides`);
    assert.equal(r.status, 'failed');
    assert.match(r.message!, /^expected connection; got HANG \(no decisive evidence within 1500 ms/);
    assert.equal(r.endedBy, 'timeout');
    assert.equal(r.verdictLatencyMs, undefined, 'no evidence decided, so there is no latency to report');
    assert.ok(r.durationMs >= HANG_MS, `HANG after ${r.durationMs} ms, before the hang timer (${HANG_MS} ms) could have run out`);
    assert.ok(r.actual.evidence.observations.some((o) => o.kind === 'tcp-accepted'), 'the platform saw the EMS connect');
    // (Its stop then resets the connection: the platform records that too, after the verdict.)
    assert.ok(!r.actual.evidence.observations.some((o) => o.kind === 'handshake-ok' || o.kind === 'auth'), 'no handshake, no AUTH');
    assert.match(r.actual.evidence.emsLog.join('\n'), /FIPS Capable/);
    assert.deepEqual(r.actual.evidence.exit, { code: null, signal: 'SIGTERM' }, 'the harness stopped the silent EMS');
  });

  it('blames the handshake, the platform saw nothing: the grace decides it unattributed, not the hang timer', async () => {
    const r = await runScenario('silent', scenario(20_000), fakeTarget('fake-handshake', 'handshake-line'), { catalogue, redactor: new Redactor() });
    assert.equal(r.actual.verdict, 'REFUSED', r.actual.because);
    assert.equal(r.actual.class, undefined, 'nothing on the platform side says why');
    assert.match(r.actual.because, /^unattributed refusal: ".*TW_NEW_SSL_CLIENT: SSL handshake error\. Error: .*sslv3 alert handshake failure\."$/);
    assert.equal(r.endedBy, 'timeout', 'the grace timer decided');
    assert.ok(r.verdictLatencyMs! >= PLATFORM_GRACE_MS, `decided ${r.verdictLatencyMs} ms after the line, before the grace (${PLATFORM_GRACE_MS} ms) ran out`);
    assert.equal(r.status, 'failed');
    assert.match(r.message!, /^expected connection; got refusal: unattributed/);
    assert.deepEqual(r.actual.evidence.observations, [], 'the platform never saw a connection');
  });

  it('exits with a line no error map knows: an unattributed refusal at once, quoting the line', async () => {
    const r = await runScenario('silent', scenario(20_000), fakeTarget('fake-exits', 'exits'), { catalogue, redactor: new Redactor() });
    assert.equal(r.actual.verdict, 'REFUSED');
    assert.equal(r.endedBy, 'evidence');
    assert.match(r.actual.because, /^EMS exited \(code 1, signal null\) without a recognised reason: .*giving up for a reason no error map knows/);
    assert.deepEqual(r.actual.evidence.exit, { code: 1, signal: null });
  });
});
