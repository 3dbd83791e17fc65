import type { EmsExit, EmsLine } from '../harness/scenario/target.ts';

/**
 * The event half of an EmsProcess, shared by every driver: lines and the exit are kept, so a
 * listener that subscribes late still sees everything from the start.
 */
export abstract class EmsEvents {
  readonly #lines: EmsLine[] = [];
  readonly #lineListeners: Array<(l: EmsLine) => void> = [];
  readonly #exitListeners: Array<(e: EmsExit) => void> = [];
  #exit?: EmsExit;

  onLine(listener: (l: EmsLine) => void): void {
    this.#lines.forEach(listener);
    this.#lineListeners.push(listener);
  }

  onExit(listener: (e: EmsExit) => void): void {
    if (this.#exit) listener(this.#exit);
    else this.#exitListeners.push(listener);
  }

  protected get exited(): boolean {
    return this.#exit !== undefined;
  }

  /** `stream`: which of the EMS's outputs the line came on (stdout, stderr, a service log). */
  protected emitLine(text: string, stream?: string): void {
    const line = { at: performance.now(), text, ...(stream ? { stream } : {}) };
    this.#lines.push(line);
    this.#lineListeners.forEach((l) => l(line));
  }

  protected emitExit(code: number | null, signal: string | null): void {
    this.#exit = { at: performance.now(), code, signal };
    this.#exitListeners.forEach((l) => l(this.#exit!));
  }
}
