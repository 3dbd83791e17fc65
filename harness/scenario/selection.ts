import { readResultsFile } from '../report/results.ts';
import { didYouMean } from '../suggest.ts';
import { SANITY_ID } from './families.ts';
import type { Family } from './model.ts';
import { caseKey } from './shard.ts';

// Which scenarios a run runs: the --scenario prefixes (a shard of them: shard.ts), and the
// durations an earlier run gives shards to balance with.

/** Every scenario id of the catalogue, invalid ones included (they are cases too: reported broken). */
export function catalogueIds(families: readonly Family[]): string[] {
  return families.flatMap((f) => [...f.scenarios.map((s) => s.id), ...f.invalid.map((i) => i.id)]);
}

/** Whether an id is selected by the prefixes (none given: all; the sanity scenario always). */
export function selected(id: string, prefixes: readonly string[] | undefined): boolean {
  return id === SANITY_ID || !prefixes?.length || prefixes.some((p) => id.startsWith(p));
}

/**
 * Throws when a prefix selects no scenario (a CI filter with a typo must not run only the sanity
 * gate and pass), naming a near miss and what exists: the families and their id prefixes.
 */
export function checkPrefixes(families: readonly Family[], prefixes: readonly string[] | undefined): void {
  const ids = catalogueIds(families);
  const unmatched = (prefixes ?? []).filter((p) => !ids.some((id) => id.startsWith(p)));
  if (!unmatched.length) return;
  // Candidates for a near miss: each id's prefixes of the same number of dot-separated parts.
  const candidates = (p: string) => new Set(ids.map((id) => id.split('.').slice(0, p.split('.').length).join('.')));
  const what = unmatched.map((p) => `"${p}"${didYouMean(p, candidates(p))}`).join(', ');
  const known = families.map((f) => `${f.name} (${[...new Set(catalogueIds([f]).map((id) => `${id.split('.')[0]}.`))].join(', ')})`).join(', ');
  throw new Error(`--scenario ${what}: no scenario id starts with ${unmatched.length > 1 ? 'these' : 'it'}; the families and their id prefixes: ${known} (\`conformance list\` shows every id)`);
}

/** Milliseconds per case key from an earlier results.json (`--durations FILE`); errors name the file and field. */
export async function readDurations(file: string): Promise<Map<string, number>> {
  const doc = await readResultsFile(file);
  return new Map(doc.results.map((r) => [caseKey(r.scenario, r.target), r.durationMs]));
}
