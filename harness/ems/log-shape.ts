// The shape of an EMS log line: its message without the logger's prefix, with the parts that
// change from run to run (quoted values, paths, hex, numbers) masked. Triage groups unmatched
// lines by shape, and a shape becomes the regular expression an `errorMap` entry can start from.

/** The excerpt's `+112ms ` and the C SDK logger's `[ERROR] 2024-05-01 10:00:00,123: ` (twLogger's `[%-5s] %s: %s`). */
const PREFIX = /^(?:\+\d+ms )?(?:\[\s*(TRACE|DEBUG|INFO|WARN(?:ING)?|ERROR|FORCE|AUDIT|FATAL)\s*\]\s*(?:\d{4}-\d{2}-\d{2}[ T][\d:.,]+Z?:?\s*)?)?/i;

/** The parts masked, in order; each with what the shape shows and what a pattern matches there. */
const MASKS: Array<{ re: string; shown: string; pattern: string }> = [
  { re: '"[^"]*"', shown: '"…"', pattern: '"[^"]*"' },
  { re: "'[^']*'", shown: "'…'", pattern: "'[^']*'" },
  // A path with at least two separators (/dir/file, C:\dir\file, d:/dir/file).
  { re: String.raw`(?:[A-Za-z]:)?[\\/](?:[^\s\\/:"']+[\\/])+[^\s\\/:"']*`, shown: '<path>', pattern: String.raw`\S+` },
  { re: String.raw`\b0x[0-9A-Fa-f]+\b|\b(?=[0-9A-Fa-f]*[A-Fa-f])(?=[0-9A-Fa-f]*\d)[0-9A-Fa-f]{6,}\b`, shown: '<hex>', pattern: '(?:0x)?[0-9A-Fa-f]+' },
  { re: String.raw`\d+`, shown: '<n>', pattern: String.raw`\d+` },
];
const MASK = new RegExp(MASKS.map((m) => `(${m.re})`).join('|'), 'g');

/** The message of a log line: without the excerpt's offset and the logger's level and time stamp. */
export function messageOf(line: string): string {
  return line.replace(PREFIX, '').trim();
}

/** The logger's level of a line, when it has the C SDK's prefix. */
export function levelOf(line: string): string | undefined {
  return PREFIX.exec(line)?.[1]?.toUpperCase();
}

const ERROR_LEVELS = new Set(['ERROR', 'WARN', 'WARNING', 'FATAL']);
const FAILURE_WORDS = /\b(error|errors|fail|failed|failure|refused|rejected|invalid|cannot|unable|timed out|too big|disconnected|unsupported)\b/i;

/** A line that reports something going wrong: an error or warning level, or words that say so (not inside a path or a quoted value). */
export function isErrorLine(line: string): boolean {
  const level = levelOf(line);
  return (level !== undefined && ERROR_LEVELS.has(level)) || FAILURE_WORDS.test(shapeOf(line));
}

/** The message with quoted values, paths, hex and numbers masked: lines that differ only there share it. */
export function shapeOf(line: string): string {
  return messageOf(line).replace(MASK, (...groups: unknown[]) => MASKS[maskIndex(groups)]!.shown);
}

/** A regular expression (source) matching every line of this line's shape: where an `errorMap` entry starts. */
export function patternFor(line: string): string {
  const message = messageOf(line);
  let out = '';
  let last = 0;
  for (const m of message.matchAll(MASK)) {
    out += escapeRegExp(message.slice(last, m.index)) + MASKS[maskIndex(m as unknown as unknown[])]!.pattern;
    last = m.index + m[0].length;
  }
  return out + escapeRegExp(message.slice(last));
}

/** Which alternative of MASK matched: the first capture group that is set. */
function maskIndex(groups: unknown[]): number {
  return groups.slice(1, MASKS.length + 1).findIndex((g) => g !== undefined);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
