import type { Observation } from '../endpoints/observations.ts';
import { attributeLine } from '../ems/error-map.ts';
import type { EmsExit, EmsLine, ErrorMapEntry } from './target.ts';
import { decide, type Decision, type Evidence } from './verdict.ts';

// Watches both sides of one scenario and resolves at the first decisive evidence (verdict.ts).
// The hang timer is the only timeout that decides a silent EMS; the platform grace only decides
// a line that blames the handshake or the connection while the platform has said nothing yet.
// The clock is a parameter, so that recorded transcripts replay against these very timers.

/**
 * When the EMS blames the handshake or the connection and the platform has said nothing yet: then
 * the refusal is decided unattributed by this timer, and the result says it ended by a timeout.
 * Short enough that the verdict still comes within 1 s of that line.
 */
export const PLATFORM_GRACE_MS = 500;

/** How long a running scenario may still take to its verdict once the run is interrupted (Ctrl-C): the whole interrupt stays within ~10 s. */
export const INTERRUPT_GRACE_MS = 5000;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The two sides as event sources: the platform endpoint's observations, the EMS's lines and exit. */
export interface EvidenceSources {
  platform: { onObservation(listener: (o: Observation) => void): () => void };
  ems: { onLine(listener: (l: EmsLine) => void): void; onExit(listener: (e: EmsExit) => void): void };
  /** The run's interrupt (harness/interrupt.ts): once aborted, no verdict within INTERRUPT_GRACE_MS is BROKEN, not run. */
  interrupt?: AbortSignal;
}

export interface Outcome {
  decision: Decision;
  decidedAt: number;
  endedBy: 'evidence' | 'timeout' | 'not-run';
}

/** `ev.observations` is the platform's own list (it pushes before telling); lines and the exit are recorded here. */
export function awaitVerdict(sources: EvidenceSources, ev: Evidence, errorMap: readonly ErrorMapEntry[], hangMs: number, clock: Clock = REAL_CLOCK): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const timers: unknown[] = [];
    let done = false;
    const finish = (decision: Decision, endedBy: Outcome['endedBy']) => {
      if (done) return;
      done = true;
      timers.forEach((t) => clock.clearTimeout(t));
      unsubscribe();
      sources.interrupt?.removeEventListener('abort', interrupted);
      resolve({ decision, decidedAt: clock.now(), endedBy });
    };
    const interrupted = () =>
      timers.push(clock.setTimeout(() => finish({ verdict: 'BROKEN', because: `interrupted (SIGINT/SIGTERM): no verdict within ${INTERRUPT_GRACE_MS} ms of it` }, 'not-run'), INTERRUPT_GRACE_MS));
    // No `once`: a signal aborts once, and finish() removes the listener anyway.
    if (sources.interrupt?.aborted) interrupted();
    else sources.interrupt?.addEventListener('abort', interrupted);
    const check = () => {
      const d = decide(ev, errorMap);
      if (d) finish(d, 'evidence');
    };
    const unsubscribe = sources.platform.onObservation(() => check());
    sources.ems.onLine((line) => {
      ev.lines.push(line);
      check();
      const cls = done ? undefined : attributeLine(line.text, errorMap);
      if (cls === 'handshake' || cls === 'connect-failed') {
        timers.push(clock.setTimeout(() => {
          const d = decide(ev, errorMap, true);
          if (d) finish(d, 'timeout');
        }, PLATFORM_GRACE_MS));
      }
    });
    sources.ems.onExit((exit) => {
      ev.exit = exit; // with an exit, decide() takes the evidence as final
      check();
    });
    timers.push(clock.setTimeout(() => finish({ verdict: 'HANG', because: `no decisive evidence within ${hangMs} ms: the EMS said nothing that decides` }, 'timeout'), hangMs));
  });
}
