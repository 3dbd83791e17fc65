import { strict as assert } from 'node:assert';
import type { Divergence } from '../harness/report/divergences.ts';
import { evaluate } from '../harness/report/gates.ts';
import type { Status } from '../harness/scenario/verdict.ts';

const KNOWN: Divergence = { state: 'known', listed: { status: 'failed', reason: 'r', link: 'https://t.example.com/1' }, file: 'f.yaml', note: 'known divergence: r' };
const FIXED: Divergence = { ...KNOWN, state: 'fixed', note: 'fixed — remove from list' };
const of = (...statuses: Status[]) => statuses.map((status) => ({ status }));

describe('exit codes and release gates', () => {
  it('0 when every result passed, was skipped or is a known divergence', () => {
    assert.equal(evaluate([...of('passed', 'skipped'), { status: 'failed', divergence: KNOWN }]).exitCode, 0);
  });

  it('1 on a conformance failure, also when broken results occurred too', () => {
    assert.equal(evaluate(of('passed', 'failed')).exitCode, 1);
    assert.equal(evaluate(of('failed', 'broken')).exitCode, 1);
  });

  it('2 when broken (infrastructure) results occurred and nothing failed', () => {
    const o = evaluate(of('passed', 'broken', 'broken'));
    assert.equal(o.exitCode, 2);
    assert.ok(o.reasons.some((r) => /2 broken results \(infrastructure/.test(r)));
  });

  it('pass rate counts passed among passed, failed and known; skipped and broken are not judged', () => {
    const o = evaluate([...of('passed', 'passed', 'passed', 'failed', 'skipped', 'broken'), { status: 'failed', divergence: KNOWN }]);
    assert.equal(o.passRate, 60);
    assert.deepEqual(o.counts, { total: 7, passed: 3, failed: 1, skipped: 1, broken: 1, known: 1, weak: 0, fixed: 0, changed: 0 });
  });

  it('--max-failures tolerates up to n failures; --min-pass-rate fails a run below it', () => {
    const results = [...of('passed', 'passed', 'passed', 'failed'), { status: 'failed' as const, divergence: KNOWN }];
    assert.equal(evaluate(results, { maxFailures: 1 }).exitCode, 0);
    assert.equal(evaluate(results, { maxFailures: 0 }).exitCode, 1);
    const low = evaluate(results, { maxFailures: 1, minPassRate: 80 });
    assert.equal(low.exitCode, 1);
    assert.match(low.reasons[0]!, /pass rate 60% is below --min-pass-rate 80%/);
    assert.equal(evaluate(results, { maxFailures: 1, minPassRate: 60 }).exitCode, 0);
  });

  it('a pass-rate gate with nothing judged fails rather than passes', () => {
    assert.equal(evaluate(of('skipped'), { minPassRate: 1 }).exitCode, 1);
  });

  it('weak results (weak crypto accepted) neither pass nor fail the run, unless --fail-on weak asks', () => {
    const weak = { status: 'passed' as const, weak: { what: 'completed a TLS 1.0 handshake', evidence: 'TLSv1 AES128-SHA' } };
    const results = [...of('passed', 'passed', 'passed'), weak];
    const o = evaluate(results);
    assert.equal(o.exitCode, 0);
    assert.equal(o.counts.weak, 1);
    assert.equal(o.counts.passed, 3, 'a weak result is not counted as passed');
    assert.equal(o.passRate, 100, 'nor judged in the pass rate');
    assert.ok(o.reasons.some((r) => /1 weak result: weak crypto accepted, recorded \(--fail-on weak makes them fail\)/.test(r)));
    const gated = evaluate(results, { failOnWeak: true });
    assert.equal(gated.exitCode, 1);
    assert.equal(gated.passRate, 75);
    assert.match(gated.reasons[0]!, /^1 conformance failure \(1 weak result among them: --fail-on weak\)/);
    assert.equal(evaluate(results, { failOnWeak: true, maxFailures: 1 }).exitCode, 0, '--max-failures tolerates them like failures');
  });

  it('a fixed divergence passes and says to remove it from the list', () => {
    const o = evaluate([{ status: 'passed', divergence: FIXED }]);
    assert.equal(o.exitCode, 0);
    assert.equal(o.counts.fixed, 1);
    assert.ok(o.reasons.some((r) => /fixed — remove from list/.test(r)));
  });

  describe('the reasons, word for word', () => {
    const CHANGED: Divergence = { ...KNOWN, state: 'changed', note: 'listed as …, but got …' };
    it('a clean run gives none; the exit code and the pass rate', () => {
      assert.deepEqual(evaluate(of('passed', 'skipped')), {
        counts: { total: 2, passed: 1, failed: 0, skipped: 1, broken: 0, known: 0, weak: 0, fixed: 0, changed: 0 },
        passRate: 100, gates: {}, exitCode: 0, reasons: [],
      });
      assert.deepEqual(evaluate([]), { counts: { total: 0, passed: 0, failed: 0, skipped: 0, broken: 0, known: 0, weak: 0, fixed: 0, changed: 0 }, gates: {}, exitCode: 0, reasons: [] });
    });
    it('failures: the count, with the --max-failures it broke when one was given', () => {
      assert.deepEqual(evaluate(of('failed', 'failed')).reasons, ['2 conformance failures']);
      assert.deepEqual(evaluate(of('failed')).reasons, ['1 conformance failure']);
      assert.deepEqual(evaluate(of('failed', 'failed'), { maxFailures: 1 }).reasons, ['2 conformance failures (--max-failures 1)']);
      assert.deepEqual(evaluate(of('failed'), { maxFailures: 0 }).reasons, ['1 conformance failure (--max-failures 0)']);
    });
    it('tolerated failures say so, up to and including --max-failures', () => {
      assert.deepEqual(evaluate(of('failed', 'failed', 'passed'), { maxFailures: 2 }), {
        counts: { total: 3, passed: 1, failed: 2, skipped: 0, broken: 0, known: 0, weak: 0, fixed: 0, changed: 0 },
        passRate: 33.33, gates: { maxFailures: 2 }, exitCode: 0, reasons: ['2 conformance failures tolerated by --max-failures 2'],
      });
      assert.deepEqual(evaluate(of('failed'), { maxFailures: 5 }).reasons, ['1 conformance failure tolerated by --max-failures 5']);
      assert.deepEqual(evaluate(of('passed'), { maxFailures: 5 }).reasons, [], 'no failure, nothing tolerated');
    });
    it('the pass-rate gate: below it, or nothing judged; at it, met', () => {
      assert.deepEqual(evaluate(of('passed', 'failed'), { maxFailures: 1, minPassRate: 51 }).reasons, ['pass rate 50% is below --min-pass-rate 51%', '1 conformance failure tolerated by --max-failures 1']);
      assert.deepEqual(evaluate(of('passed', 'failed'), { maxFailures: 1, minPassRate: 50 }).reasons, ['1 conformance failure tolerated by --max-failures 1']);
      assert.deepEqual(evaluate(of('skipped', 'broken'), { minPassRate: 0 }).reasons, ['pass rate undefined (nothing judged) is below --min-pass-rate 0%', '1 broken result (infrastructure, not the product)']);
      assert.equal(evaluate(of('skipped', 'broken'), { minPassRate: 0 }).passRate, undefined);
      assert.equal(evaluate(of('skipped', 'broken'), { minPassRate: 0 }).exitCode, 1, 'a gate not met is 1, before broken\'s 2');
      assert.equal('passRate' in evaluate(of('skipped')), false, 'no pass rate at all when nothing was judged');
    });
    it('broken, known, weak and fixed results each get a note, counted', () => {
      const o = evaluate([
        ...of('broken', 'broken', 'passed'),
        { status: 'failed', divergence: KNOWN }, { status: 'failed', divergence: KNOWN },
        { status: 'passed', weak: { what: 'w', evidence: 'e' } }, { status: 'passed', weak: { what: 'w', evidence: 'e' } },
        { status: 'passed', divergence: FIXED }, { status: 'passed', divergence: FIXED },
      ]);
      assert.deepEqual(o.reasons, [
        '2 broken results (infrastructure, not the product)',
        '2 known divergences',
        '2 weak results: weak crypto accepted, recorded (--fail-on weak makes them fail)',
        '2 listed divergences now pass: fixed — remove from list',
      ]);
      assert.equal(o.exitCode, 2);
      assert.deepEqual(evaluate([{ status: 'failed', divergence: KNOWN }]).reasons, ['1 known divergence']);
      assert.deepEqual(evaluate([{ status: 'passed', divergence: FIXED }]).reasons, ['1 listed divergence now passes: fixed — remove from list']);
    });
    it('weak results under --fail-on weak are failures, named as such; without weak results the gate adds nothing', () => {
      const weak = { status: 'passed' as const, weak: { what: 'w', evidence: 'e' } };
      assert.deepEqual(evaluate([weak, weak], { failOnWeak: true }).reasons, ['2 conformance failures (2 weak results among them: --fail-on weak)']);
      assert.deepEqual(evaluate(of('failed'), { failOnWeak: true }).reasons, ['1 conformance failure'], 'no weak result: no weak note');
      assert.deepEqual(evaluate([weak], { failOnWeak: true, maxFailures: 1 }).reasons, ['1 conformance failure tolerated by --max-failures 1'], 'no "recorded" note when they count as failures');
    });
    it('changed divergences are counted (they fail as what they are)', () => {
      const o = evaluate([{ status: 'failed', divergence: CHANGED }, { status: 'failed', divergence: CHANGED }]);
      assert.deepEqual([o.counts.changed, o.counts.failed, o.exitCode], [2, 2, 1]);
      assert.equal(evaluate([{ status: 'failed', divergence: KNOWN }]).counts.changed, 0);
    });
  });
});
