import { StringDecoder } from 'node:string_decoder';
import { InfrastructureError, type EmsProcess } from '../../harness/scenario/target.ts';
import { EmsEvents } from '../ems-events.ts';
import type { ExitStatus, Spawned } from './connection.ts';

// The harness's end of one scenario's channel on a gateway (the scenario scripts of posix.ts and
// windows.ts): EMS output and frames come back, EOF (stop) goes out. A frame is a line starting
// with the scenario's random nonce, which nothing else on the gateway knows. The REST check and
// the LSR client do not use this channel: they dial through the connection (GatewaySession.dial).

/** Lines the drivers themselves write into an EMS log: the environment failed, not the EMS. */
export const HARNESS_LINE = 'harness: ';

/**
 * How to know every line an EMS logged before it exited has been read: it is on the same stream
 * before the exit frame (`ordered`: the harness started it), the exit frame says how many bytes
 * the log grew (`grown`: a log file followed), or the service manager's own last line about it
 * comes through the follower (systemd).
 */
export type Drain = 'ordered' | 'grown' | { lastLine: RegExp };

export interface ScenarioChannelHooks {
  /** Why the connection ended, if it did. */
  lost(): string | undefined;
  /** The gateway's listening ports, as the script reports them at the end. */
  ports(ports: number[]): void;
}

export class ScenarioChannel extends EmsEvents implements EmsProcess {
  /** Resolves when the EMS runs; rejects (InfrastructureError, with what the script said) when the script ended before. */
  readonly started: Promise<void>;
  /** Resolves when the script is done (EMS stopped, files put back, directory removed) or the channel is gone. */
  readonly closed: Promise<ExitStatus>;
  readonly #said: string[] = [];
  #outBytes = 0;
  #outEnded = false;
  #sawLastLine = false;
  #exit?: { code: number | null; signal: string | null; grown?: number };
  #stopping?: Promise<void>;
  #exitSeen!: () => void;
  readonly #onStarted: () => void;
  readonly #exitEmitted = new Promise<void>((r) => (this.#exitSeen = r));

  constructor(
    private readonly ch: Spawned,
    private readonly nonce: string,
    private readonly drain: Drain,
    private readonly hooks: ScenarioChannelHooks,
    /** What the EMS lines on the channel's stdout are (its stdout and stderr, a service log), for a SECRET-NOLOG finding. */
    private readonly output = 'stdout',
  ) {
    super();
    let started!: () => void;
    let failed!: (e: Error) => void;
    this.started = new Promise<void>((resolve, reject) => ((started = resolve), (failed = reject)));
    this.started.catch(() => undefined); // the caller may never ask (a scenario decided before)
    this.#onStarted = started;
    lines(ch, (text) => this.#stdoutLine(text), (n) => {
      this.#outBytes += n;
      this.#checkDrain();
    }, () => {
      this.#outEnded = true;
      this.#checkDrain();
    });
    lines(ch.stderr, (text) => this.#stderrLine(text));
    this.closed = ch.exited.then((status) => {
      this.#outEnded = true;
      if (!this.exited) this.#emitExit(null, null);
      failed(new InfrastructureError(this.hooks.lost() ?? (this.#said.length ? this.#said.slice(-3).join(' | ') : `the scenario script ended (exit ${status.code ?? status.signal}) before the EMS started`)));
      return status;
    });
  }

  /** The connection died under a running EMS: evidence of an infrastructure failure. */
  lostConnection(reason: string): void {
    if (!this.exited) this.emitLine(`${HARNESS_LINE}${reason}`);
  }

  /** EOF on the script's input: it stops the EMS; resolves once the EMS's exit is known. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.hooks.lost()) return;
      this.ch.end();
      await Promise.race([this.#exitEmitted, this.closed]);
    })();
    return this.#stopping;
  }

  #stdoutLine(text: string): void {
    const at = text.indexOf(`${this.nonce} `);
    if (at < 0) {
      this.emitLine(text, this.output);
      if (typeof this.drain === 'object' && this.drain.lastLine.test(text)) this.#sawLastLine = true;
      return;
    }
    // A frame written after output that did not end its line.
    if (at > 0) this.emitLine(text.slice(0, at), this.output);
    this.#frame(text.slice(at + this.nonce.length + 1));
  }

  #stderrLine(text: string): void {
    if (text.startsWith(`${this.nonce} `)) return this.#frame(text.slice(this.nonce.length + 1));
    if (!text.trim()) return;
    // Only the script and its tools write here (the EMS's own stderr goes to stdout): the environment speaks.
    const line = text.startsWith(HARNESS_LINE) ? text : `${HARNESS_LINE}${text}`;
    this.#said.push(line.slice(HARNESS_LINE.length));
    this.emitLine(line, 'stderr');
  }

  #frame(frame: string): void {
    const [kind = '', ...rest] = frame.split(' ');
    if (kind === 'started') this.#onStarted();
    else if (kind === 'exit') {
      const [code = '-', signal = '-', grown = '-'] = rest;
      const n = Number(code);
      this.#exit = { code: code !== '-' && Number.isInteger(n) ? n : null, signal: signal === '-' ? null : signal, ...(grown !== '-' ? { grown: Number(grown) } : {}) };
      this.#checkDrain();
    } else if (kind === 'ports') this.hooks.ports(rest.map(Number).filter((p) => Number.isInteger(p) && p > 0));
  }

  /** Reports the exit once the log up to it has been read. */
  #checkDrain(): void {
    const exit = this.#exit;
    if (!exit || this.exited) return;
    const stoppedByUs = exit.code === null && exit.signal === null && exit.grown === undefined;
    const read =
      this.drain === 'ordered' || stoppedByUs || this.#outEnded ||
      (this.drain === 'grown' ? exit.grown === undefined || this.#outBytes >= exit.grown : this.#sawLastLine);
    if (read) this.#emitExit(exit.code, exit.signal);
  }

  #emitExit(code: number | null, signal: string | null): void {
    this.emitExit(code, signal);
    this.#exitSeen();
  }
}

/**
 * Splits a stream into lines (LF or CRLF: a Windows EMS ends its lines with \r\n), decoding
 * UTF-8 across chunks; a last line without its newline comes at the end. `chunk` is told each
 * chunk's size once its lines have been handed on.
 */
export function lines(stream: NodeJS.ReadableStream, onLine: (text: string) => void, chunk?: (bytes: number) => void, ended?: () => void): void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    for (const p of parts) onLine(p.replace(/\r$/, ''));
  };
  stream.on('data', (d: Buffer) => {
    emit(decoder.write(d));
    chunk?.(d.length);
  });
  stream.once('end', () => {
    emit(decoder.end());
    if (partial) onLine(partial.replace(/\r$/, ''));
    partial = '';
    ended?.();
  });
}
