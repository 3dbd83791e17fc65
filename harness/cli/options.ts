import { type Command, InvalidArgumentError } from 'commander';
import { parseShard, type Shard } from '../scenario/shard.ts';

// The command line's options and their parsers. Light on purpose: harness/cli.ts defines every
// command with these before it loads what the chosen command needs.

/** The options of the report step, shared by `run`, `report` and `merge`. */
export function withReportOptions(c: Command, defaults: { expectations: string }): Command {
  return c
    .option('--expectations <dir>', 'known divergences, one <target>.yaml per target', defaults.expectations)
    .option('--history <file>', 'persistent Allure history file (JSONL), for trends across runs')
    .option('--min-pass-rate <percent>', 'release gate: passed ÷ (passed + failed + known) at least this', percent)
    .option('--max-failures <n>', 'release gate: tolerate up to n conformance failures (default 0)', wholeNumber)
    .option('--fail-on <what...>', 'release gate: these results fail the run too (weak: weak crypto accepted)', failOn)
    .option('--baseline <file>', 'an earlier results.json: matrix.html/.md get a "changes since baseline" section');
}

export interface ReportFlags {
  expectations: string;
  history?: string;
  minPassRate?: number;
  maxFailures?: number;
  failOn?: Array<'weak'>;
  baseline?: string;
}

export function percent(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a percentage from 0 to 100');
  return n;
}

export function wholeNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of at least 0');
  return n;
}

/** `--fail-on weak` (repeatable; the only kind so far). */
export function failOn(v: string, previous: Array<'weak'> = []): Array<'weak'> {
  if (v !== 'weak') throw new InvalidArgumentError('must be "weak" (results where weak crypto was accepted)');
  return [...previous, v];
}

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

export function shard(v: string): Shard {
  try {
    return parseShard(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}
