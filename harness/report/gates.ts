import type { Status } from '../scenario/verdict.ts';
import { outcomeOf, type Divergence, type Outcome } from './divergences.ts';

// The run's exit code and the release gates, in our own code (Allure 3's quality-gate command
// needs Node 22). 0: every result passed, was skipped or is a known divergence; 1: conformance
// failures (or a gate not met); 2: broken results (infrastructure) and no failures.

export interface Gates {
  /** Percent of judged results (passed, failed, known; not skipped or broken) that must pass. */
  minPassRate?: number;
  /** Conformance failures tolerated (default 0). */
  maxFailures?: number;
  /** `--fail-on weak`: weak results (weak crypto accepted, a recorded policy) count as conformance failures. */
  failOnWeak?: boolean;
}

export interface RunOutcome {
  counts: Record<Outcome, number> & { total: number; fixed: number; changed: number };
  /** passed ÷ (passed + failed + known), percent (weak results count as failed under --fail-on weak, else not at all); absent when nothing was judged. */
  passRate?: number;
  gates: Gates;
  exitCode: 0 | 1 | 2;
  /** Why the exit code is what it is, one line each. */
  reasons: string[];
}

export function evaluate(results: ReadonlyArray<{ status: Status; divergence?: Divergence; weak?: unknown }>, gates: Gates = {}): RunOutcome {
  const counts = { total: results.length, passed: 0, failed: 0, skipped: 0, broken: 0, known: 0, weak: 0, fixed: 0, changed: 0 };
  for (const r of results) {
    counts[outcomeOf(r)]++;
    if (r.divergence?.state === 'fixed') counts.fixed++;
    if (r.divergence?.state === 'changed') counts.changed++;
  }
  // Weak results are neither passes nor failures, unless the release gate says they fail.
  const failed = counts.failed + (gates.failOnWeak ? counts.weak : 0);
  const judged = counts.passed + failed + counts.known;
  const passRate = judged ? Math.round((counts.passed / judged) * 10_000) / 100 : undefined;

  const gateFailures: string[] = [];
  const maxFailures = gates.maxFailures ?? 0;
  if (failed > maxFailures) {
    const weak = gates.failOnWeak && counts.weak ? ` (${plural(counts.weak, 'weak result')} among them: --fail-on weak)` : '';
    gateFailures.push(`${plural(failed, 'conformance failure')}${weak}${gates.maxFailures !== undefined ? ` (--max-failures ${maxFailures})` : ''}`);
  }
  if (gates.minPassRate !== undefined && (passRate === undefined || passRate < gates.minPassRate)) {
    gateFailures.push(`pass rate ${passRate === undefined ? 'undefined (nothing judged)' : `${passRate}%`} is below --min-pass-rate ${gates.minPassRate}%`);
  }
  const notes: string[] = [];
  if (failed && failed <= maxFailures) notes.push(`${plural(failed, 'conformance failure')} tolerated by --max-failures ${maxFailures}`);
  if (counts.broken) notes.push(`${plural(counts.broken, 'broken result')} (infrastructure, not the product)`);
  if (counts.known) notes.push(`${plural(counts.known, 'known divergence')}`);
  if (counts.weak && !gates.failOnWeak) notes.push(`${plural(counts.weak, 'weak result')}: weak crypto accepted, recorded (--fail-on weak makes them fail)`);
  if (counts.fixed) notes.push(`${plural(counts.fixed, 'listed divergence')} now ${counts.fixed === 1 ? 'passes' : 'pass'}: fixed — remove from list`);

  const exitCode = gateFailures.length ? 1 : counts.broken ? 2 : 0;
  return { counts, ...(passRate !== undefined ? { passRate } : {}), gates, exitCode, reasons: [...gateFailures, ...notes] };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
