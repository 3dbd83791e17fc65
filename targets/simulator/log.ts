// The C SDK's console logger (twLogger.c + the Linux port's LOGGING_FUNCTION):
// `[%-5s] %s: %s` = level padded to 5, UTC timestamp with milliseconds, message. One line each.

export type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FORCE' | 'AUDIT';

// The SDK's enum order; a line is printed when its level is at or above the configured one.
const RANK: Record<Level, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FORCE: 5, AUDIT: 6 };

/** Secrets shorter than this are not scrubbed: replacing every "a" would wreck the log. */
const MIN_SCRUB_LENGTH = 4;

export class Logger {
  private threshold = RANK.WARN;
  private readonly secrets: string[] = [];

  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  setLevel(level: Level): void {
    this.threshold = RANK[level];
  }

  /** Defence in depth: a registered secret is masked should it ever reach a log line. */
  addSecret(secret: string): void {
    if (secret.length >= MIN_SCRUB_LENGTH) this.secrets.push(secret);
  }

  log(level: Level, message: string): void {
    if (RANK[level] >= this.threshold) this.emit(level, message);
  }

  trace(message: string): void { this.log('TRACE', message); }
  debug(message: string): void { this.log('DEBUG', message); }
  info(message: string): void { this.log('INFO', message); }
  warn(message: string): void { this.log('WARN', message); }
  error(message: string): void { this.log('ERROR', message); }
  force(message: string): void { this.log('FORCE', message); }

  /**
   * A TRACE message that spans lines, printed as the SDK's logger prints one (the request it sent):
   * the first line after the usual prefix, the others as they are.
   */
  traceBlock(message: string): void {
    if (RANK.TRACE >= this.threshold) this.emit('TRACE', message, true);
  }

  /** Start-up failures: printed whatever the level (it may not even be known yet). */
  fatal(message: string): void {
    this.emit('ERROR', message);
  }

  /** The console prompt the EMS shows once it is running and connected (not a log line). */
  prompt(): void {
    this.write('++\n');
  }

  private emit(level: Level, message: string, keepLines = false): void {
    let text = keepLines ? message : message.replace(/[\r\n]+/g, ' ');
    for (const s of this.secrets) text = text.split(s).join('********');
    this.write(`[${level.padEnd(5)}] ${timestamp()}: ${text}\n`);
  }
}

function timestamp(): string {
  const iso = new Date().toISOString(); // 2024-05-01T10:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)}`;
}
