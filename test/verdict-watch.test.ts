import { strict as assert } from 'node:assert';
import type { Observation } from '../harness/endpoints/observations.ts';
import type { EmsExit, EmsLine } from '../harness/scenario/target.ts';
import type { Evidence } from '../harness/scenario/verdict.ts';
import { awaitVerdict, INTERRUPT_GRACE_MS, PLATFORM_GRACE_MS, REAL_CLOCK, type Clock, type EvidenceSources, type Outcome } from '../harness/scenario/verdict-watch.ts';

// The watcher's own duties, on a strict fake clock (it fails the test on clearing a timer it never
// set): it decides at the first decisive evidence from either side, arms the hang timer and
// the platform grace, and once decided clears every timer and stops listening, exactly once.

class StrictClock implements Clock {
  t = 0;
  #seq = 0;
  /** Pending timers. */
  readonly timers = new Map<number, { at: number; fn: () => void; ms: number }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): number {
    this.timers.set(++this.#seq, { at: this.t + ms, fn, ms });
    return this.#seq;
  }
  clearTimeout(handle: unknown): void {
    // Clearing a timer that fired already is fine (as with real timers); one never set is a bug.
    if (typeof handle !== 'number' || handle < 1 || handle > this.#seq) throw new Error(`cleared ${String(handle)}, which no setTimeout returned`);
    this.timers.delete(handle);
  }
  /** Moves the clock to `to`, firing the timers due on the way. */
  advance(to: number): void {
    for (let due = this.#next(to); due; due = this.#next(to)) {
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = to;
  }
  #next(to: number): [number, { at: number; fn: () => void }] | undefined {
    return [...this.timers].filter(([, t]) => t.at <= to).sort(([, a], [, b]) => a.at - b.at)[0];
  }
}

/** Both sides as event sources the test drives by hand, counting unsubscriptions. */
function sources() {
  const observers: Array<(o: Observation) => void> = [];
  const lines: Array<(l: EmsLine) => void> = [];
  const exits: Array<(e: EmsExit) => void> = [];
  const ev: Evidence = { observations: [], lines: [] };
  let unsubscribed = 0;
  const s: EvidenceSources = {
    platform: { onObservation: (l) => (observers.push(l), () => void unsubscribed++) },
    ems: { onLine: (l) => lines.push(l), onExit: (l) => exits.push(l) },
  };
  return {
    s, ev,
    unsubscribed: () => unsubscribed,
    observe: (o: Observation) => (ev.observations.push(o), observers.forEach((l) => l(o))),
    line: (l: EmsLine) => lines.forEach((x) => x(l)),
    exit: (e: EmsExit) => exits.forEach((x) => x(e)),
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function watch(hangMs: number, drive: (w: ReturnType<typeof sources>, clock: StrictClock) => void | Promise<void>, interrupt?: AbortSignal) {
  const clock = new StrictClock();
  const w = sources();
  if (interrupt) w.s.interrupt = interrupt;
  let outcome: Outcome | undefined;
  void awaitVerdict(w.s, w.ev, [], hangMs, clock).then((o) => (outcome = o));
  await drive(w, clock);
  await settle();
  return { outcome, clock, w, later: async () => (await settle(), outcome) };
}

const tcp: Observation = { kind: 'tcp-accepted', at: 1, remote: 'r' };
const HANDSHAKE = 'TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000410:SSL routines::sslv3 alert handshake failure.';

describe('the verdict watcher', () => {
  it('arms the hang timer for hangMs: nothing before it, HANG at it, then nothing left armed and nobody listened to', async () => {
    const { outcome, clock, w, later } = await watch(1234, (_, c) => {
      assert.deepEqual([...c.timers.values()].map((t) => t.ms), [1234], 'one timer, the hang timer');
      c.advance(1233);
    });
    assert.equal(outcome, undefined, 'not before hangMs');
    clock.advance(1234);
    assert.equal((await later())?.decision.verdict, 'HANG');
    assert.equal(clock.timers.size, 0);
    assert.equal(w.unsubscribed(), 1);
  });

  it('HANG says so and ends by the timeout', async () => {
    const { outcome } = await watch(50, (_, c) => c.advance(50));
    assert.deepEqual(outcome, { decision: { verdict: 'HANG', because: 'no decisive evidence within 50 ms: the EMS said nothing that decides' }, decidedAt: 50, endedBy: 'timeout' });
  });

  it('a decisive EMS line decides at once: by evidence, every timer cleared, the platform no longer listened to', async () => {
    const { outcome, clock, w } = await watch(15_000, (w, c) => {
      w.observe(tcp);
      c.advance(7);
      w.line({ at: 7, text: 'TW_VALIDATE_CERT: Certificate rejected.  Code: 10, Reason = certificate has expired' });
    });
    assert.equal(outcome?.endedBy, 'evidence');
    assert.equal(outcome?.decision.class, 'expired');
    assert.equal(outcome?.decidedAt, 7);
    assert.equal(clock.timers.size, 0, 'the hang timer was cleared');
    assert.equal(w.unsubscribed(), 1);
    // Evidence after the verdict changes nothing and clears nothing twice (the strict clock would throw).
    w.line({ at: 8, text: 'TW_VALIDATE_CERT: Certificate rejected.  Code: 18, Reason = self-signed certificate' });
    w.observe({ kind: 'closed', at: 9, phase: 'tls' });
    w.exit({ at: 10, code: 1, signal: null });
    await settle();
    assert.equal(w.unsubscribed(), 1, 'unsubscribed once');
    assert.equal(w.ev.exit?.code, 1, 'the exit is still recorded as evidence');
  });

  it('an observation can be what decides (the platform\'s side after the EMS\'s line)', async () => {
    const { outcome } = await watch(15_000, (w, c) => {
      w.observe(tcp);
      w.line({ at: 5, text: HANDSHAKE });
      c.advance(6);
      w.observe({ kind: 'handshake-failed', at: 6, error: 'no shared cipher' });
    });
    assert.deepEqual([outcome?.decision.verdict, outcome?.decision.class, outcome?.endedBy, outcome?.decidedAt], ['REFUSED', 'no-shared-cipher', 'evidence', 6]);
  });

  for (const [what, text] of [['the handshake', HANDSHAKE], ['the connection', 'TW_SSL_READ: Error reading from SSL stream']] as const) {
    it(`a line blaming ${what} with the platform silent: the grace (${PLATFORM_GRACE_MS} ms) decides, ended by the timeout`, async () => {
      const { outcome, clock, later } = await watch(15_000, (w, c) => {
        w.observe(tcp);
        c.advance(100);
        w.line({ at: 100, text });
        assert.deepEqual([...c.timers.values()].map((t) => t.ms).sort((a, b) => a - b), [PLATFORM_GRACE_MS, 15_000]);
        c.advance(100 + PLATFORM_GRACE_MS - 1);
      });
      assert.equal(outcome, undefined, 'not before the grace is over');
      clock.advance(100 + PLATFORM_GRACE_MS);
      assert.equal((await later())?.endedBy, 'timeout');
      assert.equal(clock.timers.size, 0, 'the hang timer cleared by the grace\'s decision');
    });
  }

  it('the grace\'s decision: unattributed, ended by the timeout, at the end of the grace', async () => {
    const { outcome } = await watch(15_000, (w, c) => {
      c.advance(100);
      w.line({ at: 100, text: HANDSHAKE });
      c.advance(100 + PLATFORM_GRACE_MS);
    });
    assert.deepEqual(outcome, { decision: { verdict: 'REFUSED', because: `unattributed refusal: "${HANDSHAKE}"`, evidenceAt: 100 }, decidedAt: 100 + PLATFORM_GRACE_MS, endedBy: 'timeout' });
  });

  it('a line that decides at once arms no grace', async () => {
    const { clock } = await watch(15_000, (w) => {
      w.observe(tcp);
      w.observe({ kind: 'handshake-failed', at: 2, error: 'no shared cipher' });
      w.line({ at: 3, text: HANDSHAKE });
    });
    assert.equal(clock.timers.size, 0);
  });

  it('other lines arm no grace', async () => {
    const { clock } = await watch(15_000, (w) => w.line({ at: 3, text: '[INFO] starting' }));
    assert.deepEqual([...clock.timers.values()].map((t) => t.ms), [15_000]);
  });

  it('the EMS exiting decides at once, the lines recorded as evidence', async () => {
    const { outcome, w } = await watch(15_000, (w) => {
      w.line({ at: 1, text: 'odd line' });
      w.exit({ at: 2, code: 3, signal: null });
    });
    assert.equal(outcome?.endedBy, 'evidence');
    assert.equal(outcome?.decision.because, 'EMS exited (code 3, signal null) without a recognised reason: odd line');
    assert.deepEqual(w.ev.lines, [{ at: 1, text: 'odd line' }]);
  });

  it('the real clock is performance.now and real timers, cancellable', async () => {
    const before = performance.now();
    assert.ok(REAL_CLOCK.now() >= before);
    let fired = 0;
    await new Promise<void>((resolve) => REAL_CLOCK.setTimeout(() => (fired++, resolve()), 1));
    const cancelled = REAL_CLOCK.setTimeout(() => fired++, 1);
    REAL_CLOCK.clearTimeout(cancelled);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(fired, 1, 'the cleared timer never fired');
  });

  describe('after the run is interrupted', () => {
    const BROKEN = { verdict: 'BROKEN', because: `interrupted (SIGINT/SIGTERM): no verdict within ${INTERRUPT_GRACE_MS} ms of it` };

    it(`a scenario with no verdict ${INTERRUPT_GRACE_MS} ms after the interrupt is BROKEN, not run`, async () => {
      const stop = new AbortController();
      const { outcome, clock, w, later } = await watch(15_000, (_, c) => {
        c.advance(1000);
        stop.abort();
        assert.deepEqual([...c.timers.values()].map((t) => t.ms).sort((a, b) => a - b), [INTERRUPT_GRACE_MS, 15_000]);
        c.advance(1000 + INTERRUPT_GRACE_MS - 1);
      }, stop.signal);
      assert.equal(outcome, undefined, 'not before the interrupt grace is over');
      clock.advance(1000 + INTERRUPT_GRACE_MS);
      assert.deepEqual(await later(), { decision: BROKEN, decidedAt: 1000 + INTERRUPT_GRACE_MS, endedBy: 'not-run' });
      assert.equal(clock.timers.size, 0, 'the hang timer cleared');
      assert.equal(w.unsubscribed(), 1);
    });

    it('a run interrupted before the scenario started arms the interrupt grace at once', async () => {
      const stop = new AbortController();
      stop.abort();
      const { clock, later } = await watch(15_000, (_, c) => {
        assert.deepEqual([...c.timers.values()].map((t) => t.ms).sort((a, b) => a - b), [INTERRUPT_GRACE_MS, 15_000]);
      }, stop.signal);
      clock.advance(INTERRUPT_GRACE_MS);
      assert.deepEqual((await later())?.endedBy, 'not-run');
    });

    it('evidence within the grace still decides, and the watcher stops listening to the interrupt', async () => {
      const stop = new AbortController();
      let listening = 0;
      const signal = stop.signal;
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((type: string, fn: EventListener, opts?: AddEventListenerOptions) => (listening++, add(type, fn, opts))) as typeof signal.addEventListener;
      signal.removeEventListener = ((type: string, fn: EventListener) => (listening--, remove(type, fn))) as typeof signal.removeEventListener;
      const { outcome, clock } = await watch(15_000, (w, c) => {
        assert.equal(listening, 1, 'listens to the interrupt while it waits');
        w.exit({ at: 2, code: 3, signal: null });
        c.advance(2);
      }, signal);
      assert.equal(outcome?.endedBy, 'evidence');
      assert.equal(listening, 0, 'no listener left on the run\'s signal');
      stop.abort();
      assert.equal(clock.timers.size, 0, 'an interrupt after the verdict arms nothing');
    });
  });
});
