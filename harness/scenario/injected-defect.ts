import type { EmsLine } from './target.ts';

// Mutation testing runs the catalogue against an EMS with a deliberate defect (the bundled
// simulator's test-only WSEMS_SIM_DEFECT switch, docs/mutation-review.md). Such an EMS says so in
// its first line; every result of it carries the defect's name, so that no report of such a run
// can pass for a conformance verdict.

const MARK = /DEFECT INJECTED: ([A-Za-z0-9._-]+)/;

/** The defect a line of the EMS announces, if any. */
export function injectedDefect(lines: readonly Pick<EmsLine, 'text'>[]): string | undefined {
  for (const line of lines) {
    const m = MARK.exec(line.text);
    if (m) return m[1];
  }
  return undefined;
}
