import { strict as assert } from 'node:assert';
import { RunProgress } from '../harness/progress.ts';

// The per-target progress of a run (harness/progress.ts), with a clock and an output the test holds.

function setup(tty: boolean) {
  let now = 0;
  const out: string[] = [];
  const cases = [...Array(4).fill({ target: 'lab-gw1' }), ...Array(2).fill({ target: 'lab-gw2' })];
  const p = new RunProgress(cases, { tty, write: (t) => out.push(t), now: () => now, everyMs: 60_000, columns: 80 });
  return { p, out, at: (ms: number) => (now = ms) };
}

describe('run progress', () => {
  it('shows per target done/total, failures so far, the scenario running and an ETA from the pace so far', () => {
    const { p, at } = setup(true);
    at(1000);
    p.started('lab-gw1', 'baseline.sanity');
    at(3000);
    p.finished('lab-gw1', 'baseline.sanity', 'passed');
    p.started('lab-gw1', 'cert.host.mismatch');
    at(5000);
    p.finished('lab-gw1', 'cert.host.mismatch', 'failed', 'expected refusal: host-mismatch; got: connected');
    p.started('lab-gw1', 'cert.chain.single-root-file');
    const [gw1, gw2] = p.lines();
    // 2 done in 4 s since its first start: 2 left take 4 s more.
    assert.match(gw1!, /^lab-gw1 {2}2\/4 {2}1 failed {2,}ETA 0:04 +now cert\.chain\.single-root-file$/);
    assert.match(gw2!, /^lab-gw2 {2}0\/2 {2}no failures {2,}ETA - +waiting$/);
    p.finished('lab-gw2', 'a', 'broken');
    p.finished('lab-gw2', 'b', 'passed');
    assert.match(p.lines()[1]!, /^lab-gw2 {2}2\/2 {2}1 broken {2,}done$/);
    // A known divergence is no failure: counted apart.
    p.finished('lab-gw1', 'cert.chain.single-root-file', 'known');
    assert.match(p.lines()[0]!, /^lab-gw1 {2}3\/4 {2}1 failed, 1 known {2,}ETA /);
    const { p: q } = setup(true);
    q.finished('lab-gw2', 'a', 'known');
    assert.match(q.lines()[1]!, /^lab-gw2 {2}1\/2 {2}no failures, 1 known {2,}/);
  });

  it('on a terminal: redraws the block in place, prints each failure above it, cuts lines to the width', () => {
    const { p, out } = setup(true);
    p.start();
    assert.equal(out.length, 1);
    assert.equal(out[0]!.split('\n').length, 3, 'one line per target');
    p.started('lab-gw1', 'cert.' + 'x'.repeat(100));
    p.finished('lab-gw2', 'cert.host.mismatch', 'failed', 'expected refusal');
    // Erase the two lines drawn (cursor up 2, clear below), the failure, the block again.
    assert.equal(out[1], '\x1b[2A\x1b[J');
    assert.equal(out[2], 'FAILED lab-gw2/cert.host.mismatch: expected refusal\n');
    for (const line of out[3]!.split('\n').filter(Boolean)) assert.ok(line.length < 80, `cut to the terminal: ${line}`);
    p.stop();
  });

  it('in a log: plain lines for targets that moved, one when a target is done, nothing drawn in place', () => {
    const { p, out } = setup(false);
    p.start();
    p.finished('lab-gw2', 'a', 'passed');
    assert.deepEqual(out, []);
    p.finished('lab-gw2', 'b', 'passed');
    assert.equal(out.length, 1);
    assert.match(out[0]!, /^progress: lab-gw2 {2}2\/2 {2}no failures {2,}done\n$/);
    p.finished('lab-gw1', 'c', 'passed');
    p.stop();
    assert.equal(out.length, 2, 'the last word: only the target that moved');
    assert.match(out[1]!, /^progress: lab-gw1 {2}1\/4 /);
    assert.ok(!out.join('').includes('\x1b'), 'no terminal codes in a log');
  });
});
