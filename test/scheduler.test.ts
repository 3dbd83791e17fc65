import { strict as assert } from 'node:assert';
import { Scheduler } from '../harness/scenario/scheduler.ts';
import type { Target } from '../harness/scenario/target.ts';

// Who runs when (harness/scenario/scheduler.ts): --jobs bounds the EMS processes on this host,
// gateways run one scenario each, all at once or at most --gateways of them. Checked by counting
// what runs at once with tasks the test releases by hand: no timing involved.

const local = (id: string): Target => ({ id }) as Target;
const gateway = (id: string): Target => ({ id, remote: true, concurrency: 1 }) as Target;

/** A task that runs until the test lets it end; counts how many run at once, per kind. */
function tracker() {
  const running = new Map<string, number>();
  let peakAll = 0;
  const peak = new Map<string, number>();
  const gates: Array<() => void> = [];
  const task = (kind: string) => async () => {
    running.set(kind, (running.get(kind) ?? 0) + 1);
    peak.set(kind, Math.max(peak.get(kind) ?? 0, running.get(kind)!));
    peakAll = Math.max(peakAll, [...running.values()].reduce((a, b) => a + b, 0));
    await new Promise<void>((r) => gates.push(r));
    running.set(kind, running.get(kind)! - 1);
  };
  /** Lets every task that is waiting end, until none is left (tasks queued behind them start and end in turn). */
  const drain = async () => {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (!gates.length) return;
      gates.splice(0).forEach((g) => g());
    }
  };
  return { task, drain, peak, peakAll: () => peakAll, running };
}

describe('scheduler', () => {
  it('bounds local scenarios by --jobs, over all local targets together', async () => {
    const s = new Scheduler({ jobs: 2 });
    const t = tracker();
    const lanes = [s.lane(local('a')), s.lane(local('b'))];
    const all = lanes.flatMap((l) => Array.from({ length: 4 }, () => l.scenario(t.task('local'))));
    await t.drain();
    await Promise.all(all);
    assert.equal(t.peak.get('local'), 2);
  });

  it('runs every gateway at once, one scenario each, whatever --jobs says', async () => {
    const s = new Scheduler({ jobs: 1 });
    const t = tracker();
    const lanes = ['g1', 'g2', 'g3'].map((id) => s.lane(gateway(id)));
    await Promise.all(lanes.map((l) => l.opened));
    const all = lanes.flatMap((l, i) => Array.from({ length: 3 }, () => l.scenario(t.task(`g${i}`))));
    const localLane = s.lane(local('sim'));
    all.push(...Array.from({ length: 3 }, () => localLane.scenario(t.task('local'))));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([...t.running.entries()].sort(), [['g0', 1], ['g1', 1], ['g2', 1], ['local', 1]], 'three gateways and one local EMS at once');
    await t.drain();
    await Promise.all(all);
    for (const g of ['g0', 'g1', 'g2']) assert.equal(t.peak.get(g), 1, `${g}: one scenario at a time`);
    assert.equal(t.peak.get('local'), 1);
  });

  it('with --gateways N, at most N gateways are in use, each from its start to its done()', async () => {
    const s = new Scheduler({ jobs: 4, gateways: 2 });
    const lanes = ['g1', 'g2', 'g3'].map((id) => s.lane(gateway(id)));
    const opened: string[] = [];
    lanes.forEach((l, i) => void l.opened.then(() => opened.push(`g${i + 1}`)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(opened, ['g1', 'g2'], 'the third waits for a place');
    lanes[1]!.done();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(opened, ['g1', 'g2', 'g3'], 'and takes the place of the first that is done');
  });

  it('gives a local --jobs place back once the scenario is decided; the target keeps its own', async () => {
    const s = new Scheduler({ jobs: 1 });
    const a = s.lane({ id: 'a', concurrency: 1 } as Target);
    const b = s.lane(local('b'));
    const order: string[] = [];
    let finishA!: () => void;
    const first = a.scenario(async (release) => {
      order.push('a1 decided');
      release(); // its EMS is being stopped now; the CPU is free for another target's scenario
      await new Promise<void>((r) => (finishA = r));
      order.push('a1 cleaned up');
    });
    const second = a.scenario(async () => void order.push('a2'));
    const other = b.scenario(async () => void order.push('b1'));
    await other;
    assert.deepEqual(order, ['a1 decided', 'b1'], 'b ran while a cleaned up; a2 waits for a\'s own place');
    finishA();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['a1 decided', 'b1', 'a1 cleaned up', 'a2']);
  });
});
