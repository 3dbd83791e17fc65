import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import type { Observation } from '../harness/endpoints/observations.ts';
import { ExpectationSpec, formatIssues, membersOf } from '../harness/scenario/model.ts';
import { FAILURE_CLASSES } from '../harness/scenario/requirements.ts';
import { ERROR_MAP_PSEUDO_CLASSES, type EmsExit, type EmsLine } from '../harness/scenario/target.ts';
import { judge, type Evidence } from '../harness/scenario/verdict.ts';
import { awaitVerdict, type Clock, type Outcome } from '../harness/scenario/verdict-watch.ts';

// Recorded transcripts of each SDK line family (test/fixtures/transcripts/*.json, written from
// EMS-FACTS.md: EMS lines and platform observations with their timestamps) replayed through the
// run loop's own watcher (harness/scenario/verdict-watch.ts) on a simulated clock: the decision,
// and that it comes no later than 1 s after the decisive line, whatever the timers do.

const DIR = fileURLToPath(new URL('./fixtures/transcripts/', import.meta.url));
const DEADLINE_MS = 1000;

const Transcript = z.object({
  title: z.string(),
  sdk: z.string(),
  facts: z.string(),
  errorMap: z.array(z.object({ pattern: z.string(), class: z.enum([...FAILURE_CLASSES, ...ERROR_MAP_PSEUDO_CLASSES]) }).strict()),
  route: z.object({
    target: z.string(), servers: z.array(z.object({ host: z.string(), port: z.number() })), bindAddress: z.string(), port: z.number(),
  }).optional(),
  hangMs: z.number().default(15_000),
  events: z.array(z.union([
    z.object({ at: z.number(), ems: z.string() }).strict(),
    z.object({ at: z.number(), platform: z.looseObject({ kind: z.string() }) }).strict(),
    z.object({ at: z.number(), exit: z.object({ code: z.number().nullable(), signal: z.string().nullable() }) }).strict(),
  ])),
  expect: z.object({
    verdict: z.enum(['CONNECTED', 'REFUSED', 'HANG', 'BROKEN']),
    class: z.enum(FAILURE_CLASSES).optional(),
    /** A part of the EMS line the decision must come after, and within 1 s of. */
    decisiveLine: z.string().optional(),
    because: z.string().optional(),
    endedBy: z.enum(['evidence', 'timeout']),
  }).strict(),
  judge: z.object({ expectation: ExpectationSpec, status: z.enum(['passed', 'failed']), met: z.number().optional() }).strict().optional(),
}).strict();
type Transcript = z.infer<typeof Transcript>;

/** Simulated time: timers fire in order as the replay moves the clock forward. */
class VirtualClock implements Clock {
  t = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): number {
    this.#timers.set(++this.#seq, { at: this.t + ms, fn });
    return this.#seq;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** Moves to `to`, firing every timer due on the way at its own time. */
  advance(to: number): void {
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= to).sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = Math.max(this.t, to);
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Replays the events on both sides; stops at the verdict (or the hang timer, after the last event). */
async function replay(t: Transcript): Promise<{ outcome: Outcome; ev: Evidence }> {
  const clock = new VirtualClock();
  const ev: Evidence = { observations: [], lines: [], ...(t.route ? { route: t.route } : {}) };
  const onObservation: Array<(o: Observation) => void> = [];
  const onLine: Array<(l: EmsLine) => void> = [];
  const onExit: Array<(e: EmsExit) => void> = [];
  let outcome: Outcome | undefined;
  void awaitVerdict({
    platform: { onObservation: (l) => (onObservation.push(l), () => onObservation.splice(onObservation.indexOf(l), 1)) },
    ems: { onLine: (l) => onLine.push(l), onExit: (l) => onExit.push(l) },
  }, ev, t.errorMap, t.hangMs, clock).then((o) => (outcome = o));
  for (const e of t.events) {
    clock.advance(e.at);
    await settle();
    if (outcome) break;
    if ('ems' in e) onLine.forEach((l) => l({ at: e.at, text: e.ems }));
    if ('platform' in e) {
      // The endpoint records an observation, then tells (harness/endpoints/tls-endpoint.ts).
      const o = { ...e.platform, at: e.at } as Observation;
      ev.observations.push(o);
      [...onObservation].forEach((l) => l(o));
    }
    if ('exit' in e) onExit.forEach((l) => l({ at: e.at, ...e.exit }));
    await settle();
    if (outcome) break;
  }
  if (!outcome) {
    clock.advance(t.hangMs);
    await settle();
  }
  assert.ok(outcome, 'no verdict, not even HANG');
  return { outcome, ev };
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('recorded transcripts through the verdict rules (simulated clock)', () => {
  it('has a transcript of every line family EMS-FACTS.md names', () => {
    const all = files.map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
    for (const family of [
      'TW_SSL_READ', 'Connect response too big', 'Code: 79, Reason = invalid CA certificate', 'Code: 24, Reason = invalid CA certificate',
      "Code: 24, Reason = issuer certificate doesn't have a public key", 'Reason = self signed certificate', 'Reason = self-signed certificate',
      'Err = 111', 'ssl3_check_cert_and_algorithm:dh key too small', 'DECODER routines::unsupported', 'TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error',
      'Response code: 403', 'AUTH Message 1 succeeded',
    ]) assert.ok(all.includes(family), `no transcript holds "${family}"`);
  });

  for (const file of files) {
    it(file.replace(/\.json$/, ''), async () => {
      const parsed = Transcript.safeParse(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
      if (!parsed.success) assert.fail(`${file}: ${formatIssues(parsed.error)}`);
      const t = parsed.data;
      const { outcome, ev } = await replay(t);
      const { decision } = outcome;
      assert.equal(decision.verdict, t.expect.verdict, `${t.title}: ${decision.because}`);
      assert.equal(decision.class, t.expect.class, `${t.title}: ${decision.because}`);
      if (t.expect.because) assert.match(decision.because, new RegExp(t.expect.because));
      assert.equal(outcome.endedBy, t.expect.endedBy, decision.because);
      if (t.expect.decisiveLine) {
        const line = t.events.find((e) => 'ems' in e && e.ems.includes(t.expect.decisiveLine!));
        assert.ok(line, `${file}: no line holds "${t.expect.decisiveLine}"`);
        assert.ok(outcome.decidedAt >= line.at, `decided at ${outcome.decidedAt} ms, before the decisive line (${line.at} ms)`);
        assert.ok(outcome.decidedAt - line.at <= DEADLINE_MS, `decided ${outcome.decidedAt - line.at} ms after the decisive line (at most ${DEADLINE_MS})`);
        assert.ok(decision.evidenceAt !== undefined && decision.evidenceAt <= outcome.decidedAt);
      }
      if (t.judge) {
        const j = judge(membersOf(t.judge.expectation), decision, ev);
        assert.equal(j.status, t.judge.status, j.message);
        if (t.judge.met !== undefined) assert.equal(j.met, t.judge.met);
      }
    });
  }
});
