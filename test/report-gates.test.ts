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
});
