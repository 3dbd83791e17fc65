import * as z from 'zod';
import { matchLine } from '../ems/error-map.ts';
import { isErrorLine, patternFor, shapeOf } from '../ems/log-shape.ts';
import type { ErrorMapEntry } from '../scenario/target.ts';

// Triage for a new EMS release: the EMS log lines no error-map entry matched, from the results
// that need reading (refused, HANG, unattributed), grouped by shape (numbers, hex, paths and
// quoted values masked), with counts and example scenarios, and the regular expression an
// `errorMap` entry can start from. And the inventory's own `errorMap` entries that matched no
// line of the run (a typo, or a line no scenario provoked). A lab engineer meeting a new EMS
// release writes errorMap entries from this list, not from raw logs (docs/target-profiles.md).

export const TriageGroup = z.object({
  /** The line with its varying parts masked: `TW_SSL_READ: … Error: <n>`. */
  shape: z.string(),
  /** A regular expression matching every line of the shape: where an errorMap entry starts. */
  pattern: z.string(),
  /** Lines of this shape, and results they came from. */
  count: z.number(),
  results: z.number(),
  targets: z.array(z.string()),
  /** Up to three results (target/scenario) and one line as logged. */
  examples: z.array(z.object({ target: z.string(), scenario: z.string() })),
  line: z.string(),
});
export type TriageGroup = z.infer<typeof TriageGroup>;

export const UnusedEntry = z.object({ target: z.string(), pattern: z.string(), class: z.string(), origin: z.string().optional() });
export type UnusedEntry = z.infer<typeof UnusedEntry>;

export const Triage = z.object({ unmatched: z.array(TriageGroup), unusedErrorMap: z.array(UnusedEntry) });
export type Triage = z.infer<typeof Triage>;

/** The part of a result triage reads. */
export interface TriageInput {
  scenario: string;
  target: string;
  actual: { verdict: string; class?: string; evidence: { emsLog: string[] } };
  endedBy?: string;
  errorMapHits?: string[];
}

/** A target's error map as the run used it; entries with an `origin` are the inventory's own. */
export interface TriageTarget {
  id: string;
  errorMap: ReadonlyArray<{ pattern: string; class: string; origin?: string }>;
}

const MAX_EXAMPLES = 3;
/** Results whose lines need reading: refusals (attributed or not) and hangs. */
const NEEDS_READING = new Set(['REFUSED', 'HANG']);

export function triage(results: readonly TriageInput[], targets: readonly TriageTarget[]): Triage {
  // Only whether a line matches counts here, not what it proves.
  const maps = new Map(targets.map((t) => [t.id, t.errorMap as readonly ErrorMapEntry[]]));
  const groups = new Map<string, TriageGroup & { seen: Set<string> }>();
  for (const r of results) {
    if (!NEEDS_READING.has(r.actual.verdict)) continue;
    const key = `${r.target}/${r.scenario}`;
    for (const line of r.actual.evidence.emsLog) {
      if (!isErrorLine(line) || matchLine(line, maps.get(r.target) ?? []) !== undefined) continue;
      const shape = shapeOf(line);
      const g = groups.get(shape) ?? { shape, pattern: patternFor(line), count: 0, results: 0, targets: [], examples: [], line: line.replace(/^\+\d+ms /, ''), seen: new Set<string>() };
      groups.set(shape, g);
      g.count++;
      if (!g.targets.includes(r.target)) g.targets.push(r.target);
      if (g.seen.has(key)) continue;
      g.seen.add(key);
      g.results++;
      if (g.examples.length < MAX_EXAMPLES) g.examples.push({ target: r.target, scenario: r.scenario });
    }
  }
  const unmatched = [...groups.values()].map(({ seen: _seen, ...g }) => g).sort((a, b) => b.results - a.results || b.count - a.count || a.shape.localeCompare(b.shape));
  return { unmatched, unusedErrorMap: unused(results, targets) };
}

/** The inventory entries of each target that ran something, which no line of the run matched. */
function unused(results: readonly TriageInput[], targets: readonly TriageTarget[]): UnusedEntry[] {
  const out: UnusedEntry[] = [];
  for (const t of targets) {
    const mine = results.filter((r) => r.target === t.id && r.endedBy !== 'not-run');
    if (!mine.length) continue;
    const hits = new Set(mine.flatMap((r) => r.errorMapHits ?? []));
    for (const e of t.errorMap) {
      if (e.origin && !hits.has(e.pattern)) out.push({ target: t.id, pattern: e.pattern, class: e.class, origin: e.origin });
    }
  }
  return out;
}

/** The inventory entry to add for a group, in the inventory's YAML. */
export function suggestedEntry(g: Pick<TriageGroup, 'pattern'>): string {
  return `- { pattern: '${g.pattern.replace(/'/g, "''")}', class: <failure class> }`;
}

/** Triage as text: what `conformance triage` prints, and (the first `limit` groups) the run's summary. */
export function triageText(t: Triage, opts: { limit?: number; results?: string } = {}): string[] {
  const lines: string[] = [];
  const shown = opts.limit === undefined ? t.unmatched : t.unmatched.slice(0, opts.limit);
  if (t.unmatched.length) {
    lines.push(`triage: ${t.unmatched.length} shape${t.unmatched.length === 1 ? '' : 's'} of EMS error lines no error-map entry matched (refused and HANG results):`);
    for (const g of shown) {
      lines.push(`  ${g.count}× in ${g.results} result${g.results === 1 ? '' : 's'} on ${g.targets.join(', ')}: ${g.shape}`);
      if (opts.limit === undefined) {
        lines.push(`      e.g. ${g.examples.map((e) => `${e.target}/${e.scenario}`).join(', ')}`);
        lines.push(`      line: ${g.line}`);
        lines.push(`      errorMap entry: ${suggestedEntry(g)}`);
      }
    }
    if (shown.length < t.unmatched.length) lines.push(`  … ${t.unmatched.length - shown.length} more: conformance triage --results ${opts.results ?? 'reports/results.json'}`);
  }
  const unused = 'unused errorMap entr';
  const why = 'matched no line of this run: a typo, or a line no scenario provoked';
  if (opts.limit === undefined) {
    for (const u of t.unusedErrorMap) lines.push(`${unused}y (${why}): ${u.origin ?? u.target}: '${u.pattern}' (${u.class})`);
  } else if (t.unusedErrorMap.length) {
    const per = [...new Set(t.unusedErrorMap.map((u) => u.target))].map((id) => `${id} ${t.unusedErrorMap.filter((u) => u.target === id).length}`);
    lines.push(`${unused}ies: ${per.join(', ')} (${why}; conformance triage --results ${opts.results ?? 'reports/results.json'} lists them)`);
  }
  return lines;
}
