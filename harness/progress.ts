import type { Status } from './scenario/verdict.ts';

// What a lab engineer watches during a long run: per target, done/total, failures so far (a
// listed, known divergence counted apart: it fails nothing), the scenario running now and an ETA.
// On a terminal a block of one line per target is redrawn every second, failures printed above
// it as they happen; elsewhere (CI logs) plain lines every few seconds for the targets that
// moved, and one when a target is done.

export interface ProgressOptions {
  /** Redraw a live block (a terminal) or print plain lines (a log). */
  tty: boolean;
  write(text: string): void;
  /** How often: the block is redrawn, plain lines printed (default 1 s on a terminal, 10 s otherwise). */
  everyMs?: number;
  /** The terminal's width: longer lines are cut (a wrapped line would throw the redraw off). */
  columns?: number;
  now?: () => number;
}

interface TargetProgress {
  id: string;
  total: number;
  done: number;
  failed: number;
  broken: number;
  known: number;
  running: Set<string>;
  firstStart?: number;
  /** done when last printed (plain lines): a target that did not move is not printed again. */
  printed: number;
}

export class RunProgress {
  readonly #targets = new Map<string, TargetProgress>();
  readonly #now: () => number;
  readonly #everyMs: number;
  #timer?: NodeJS.Timeout;
  #drawn = 0;

  constructor(cases: Array<{ target: string }>, private readonly opts: ProgressOptions) {
    this.#now = opts.now ?? (() => performance.now());
    this.#everyMs = opts.everyMs ?? (opts.tty ? 1000 : 10_000);
    for (const c of cases) {
      const t = this.#targets.get(c.target) ?? { id: c.target, total: 0, done: 0, failed: 0, broken: 0, known: 0, running: new Set<string>(), printed: -1 };
      t.total++;
      this.#targets.set(c.target, t);
    }
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), this.#everyMs);
    this.#timer.unref();
    if (this.opts.tty) this.#draw();
  }

  /** The last word: the block as it stands at the end (plain lines: those of targets that moved since their last line). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.opts.tty) this.#draw();
    else this.#plain();
  }

  started(target: string, scenario: string): void {
    const t = this.#targets.get(target);
    if (!t) return;
    t.firstStart ??= this.#now();
    t.running.add(scenario);
  }

  /** `known`: the result deviates as the target's list of known divergences says (docs/reports.md). */
  finished(target: string, scenario: string, status: Status | 'known', message?: string): void {
    const t = this.#targets.get(target);
    if (!t) return;
    t.running.delete(scenario);
    t.done++;
    if (status === 'failed') t.failed++;
    if (status === 'broken') t.broken++;
    if (status === 'known') t.known++;
    if (this.opts.tty && (status === 'failed' || status === 'broken')) this.#above(`${status === 'failed' ? 'FAILED' : 'BROKEN'} ${target}/${scenario}: ${message ?? ''}`);
    if (!this.opts.tty && t.done === t.total) this.#plain([t]);
  }

  /** One line per target, as the block shows it. */
  lines(): string[] {
    const targets = [...this.#targets.values()];
    const width = Math.max(...targets.map((t) => t.id.length));
    return targets.map((t) => {
      const count = `${t.done}/${t.total}`.padStart(String(t.total).length * 2 + 1);
      const bad = [t.failed ? `${t.failed} failed` : '', t.broken ? `${t.broken} broken` : ''].filter(Boolean).join(', ') || 'no failures';
      const outcomes = t.known ? `${bad}, ${t.known} known` : bad;
      const state = t.done === t.total ? 'done' : t.running.size ? `now ${[...t.running].join(', ')}` : 'waiting';
      return `${t.id.padEnd(width)}  ${count}  ${outcomes.padEnd(21)}  ${this.#eta(t).padEnd(9)}  ${state}`;
    });
  }

  #eta(t: TargetProgress): string {
    if (t.done === t.total) return '';
    if (!t.done || t.firstStart === undefined) return 'ETA -';
    const left = ((this.#now() - t.firstStart) / t.done) * (t.total - t.done);
    const s = Math.round(left / 1000);
    return `ETA ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  #tick(): void {
    if (this.opts.tty) this.#draw();
    else this.#plain();
  }

  /** A line for each target (of `only`) whose count moved since its last one. */
  #plain(only?: TargetProgress[]): void {
    const lines = this.lines();
    const targets = [...this.#targets.values()];
    for (const [i, t] of targets.entries()) {
      if (only && !only.includes(t)) continue;
      if (t.printed === t.done) continue;
      t.printed = t.done;
      this.opts.write(`progress: ${lines[i]}\n`);
    }
  }

  /** Erases the block, writes a line where it was, draws the block again under it. */
  #above(line: string): void {
    this.#erase();
    this.opts.write(`${this.#fit(line)}\n`);
    this.#draw();
  }

  #erase(): void {
    if (this.#drawn) this.opts.write(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
  }

  #draw(): void {
    this.#erase();
    const lines = this.lines();
    this.opts.write(lines.map((l) => `${this.#fit(l)}\n`).join(''));
    this.#drawn = lines.length;
  }

  #fit(line: string): string {
    const w = this.opts.columns;
    return w && line.length >= w ? `${line.slice(0, w - 2)}…` : line;
  }
}
