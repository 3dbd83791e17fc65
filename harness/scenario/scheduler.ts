import type { Target } from './target.ts';

// Who may run a scenario when. The EMS of a local target runs on this host: `--jobs` bounds how
// many run at once, over all local targets. A gateway's EMS runs on the gateway and costs this
// host little: gateways are not bounded by --jobs; each runs one scenario at a time (its
// `concurrency`), all of them at once, or at most `--gateways` of them (each from its connect to
// its restore, then the next one takes its place).

/** A task holds its place until it ends, or until it calls release() (then the next one starts). */
export type Limiter = <T>(fn: (release: () => void) => Promise<T>) => Promise<T>;

/** At most n tasks at once, started in the order they asked. */
export function limiter(n: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    if (active >= n) return;
    const run = queue.shift();
    if (run) {
      active++;
      run();
    }
  };
  return (fn) =>
    new Promise((resolve, reject) => {
      queue.push(() => {
        let held = true;
        const release = () => {
          if (!held) return;
          held = false;
          active--;
          next();
        };
        fn(release).then(resolve, reject).finally(release);
      });
      next();
    });
}

/** One target's way through the run. */
export interface Lane {
  /** Resolves when the target may begin (for a gateway: a --gateways place is its own). */
  readonly opened: Promise<void>;
  /**
   * A place for one scenario. For a local target the --jobs place goes back once the scenario
   * calls release() (decided: stopping its EMS and cleaning up is mostly waiting); the target's
   * own place (a gateway's one) is held to the end of the scenario, its clean-up included.
   */
  scenario: Limiter;
  /** The target is done (restored): its --gateways place goes to the next gateway. */
  done(): void;
}

export interface SchedulerOptions {
  /** EMS processes at once on this host (local targets). */
  jobs: number;
  /** Gateways (remote targets) in use at once; unset: all. */
  gateways?: number;
}

export class Scheduler {
  readonly #local: Limiter;
  readonly #gateways: Limiter;

  constructor(readonly opts: SchedulerOptions) {
    this.#local = limiter(opts.jobs);
    this.#gateways = limiter(opts.gateways ?? Infinity);
  }

  lane(target: Target): Lane {
    if (!target.remote) {
      const own = limiter(Math.min(target.concurrency ?? this.opts.jobs, this.opts.jobs));
      return { opened: Promise.resolve(), scenario: (fn) => own(() => this.#local(fn)), done: () => undefined };
    }
    const own = limiter(target.concurrency ?? 1);
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    void this.#gateways(async () => {
      opened();
      await finished;
    });
    return { opened: open, scenario: (fn) => own(() => fn(() => undefined)), done };
  }
}
