import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { parseYamlFile } from '../yaml-input.ts';
import type { ScenarioResult } from '../scenario/run.ts';
import { FAILURE_CLASSES } from '../scenario/requirements.ts';
import type { Status } from '../scenario/verdict.ts';

// Known divergences (TLS-Anvil's expected results, BoGo's disabled tests): per target, a YAML file
// `targets/expectations/<target>.yaml` maps a scenario id to how that target is known to deviate.
// A result that deviates as listed is "known" and does not fail the run; one that now passes is
// "fixed" (remove it from the list); any other deviation still counts as what it is.


export const ExpectedDivergence = z
  .object({
    /** failed: the product deviates; broken: the target cannot run it (a lab limitation). */
    status: z.enum(['failed', 'broken']),
    reason: z.string().min(1),
    /** Tracking issue (http or https). */
    link: z.url({ protocol: /^https?$/ }),
    /** When set, only this verdict is the known divergence; another one is a new deviation. */
    verdict: z.enum(['CONNECTED', 'REFUSED', 'HANG', 'BROKEN']).optional(),
    class: z.enum(FAILURE_CLASSES).optional(),
  })
  .strict();
export type ExpectedDivergence = z.infer<typeof ExpectedDivergence>;

/** The whole file: scenario id → expected divergence. Empty (YAML null) means none. */
export const ExpectationsFile = z
  .record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a scenario id (lower-case words joined by . or -)'), ExpectedDivergence)
  .nullable();

export interface TargetExpectations {
  /** The file the entries came from (shown in notes, so a reader knows what to edit). */
  file: string;
  entries: Record<string, ExpectedDivergence>;
}

export type DivergenceState = 'known' | 'fixed' | 'changed' | 'not-run';

/** Added to a result in results.json when its scenario is listed for its target. */
export interface Divergence {
  state: DivergenceState;
  listed: ExpectedDivergence;
  file: string;
  /** One sentence for a reader: what this means and what to do. */
  note: string;
}

/**
 * What a result counts as for the run: its status, "known" for a listed divergence, or "weak" for
 * a passed result whose target accepted weak crypto (a recorded policy: neither holds nor fails,
 * unless `--fail-on weak` asks).
 */
export type Outcome = Status | 'known' | 'weak';

/**
 * Reads the expectation file of each target (absent or empty: no known divergences). Errors name
 * the file and the field; `scenarioIds`, when given, makes an entry for an unknown scenario an error.
 */
export async function loadExpectations(dir: string, targetIds: readonly string[], scenarioIds?: ReadonlySet<string>): Promise<Map<string, TargetExpectations>> {
  const out = new Map<string, TargetExpectations>();
  for (const id of targetIds) {
    const path = join(dir, `${id}.yaml`);
    const file = displayPath(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        out.set(id, { file, entries: {} });
        continue;
      }
      throw new Error(`${path}: cannot read the expectations (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const data = parseYamlFile(text, path, ExpectationsFile);
    const entries = data ?? {};
    const unknown = scenarioIds ? Object.keys(entries).filter((s) => !scenarioIds.has(s)) : [];
    if (unknown.length) throw new Error(`${path}: ${unknown.join(', ')}: no such scenario in the catalogue (renamed or removed? update the list)`);
    out.set(id, { file, entries });
  }
  return out;
}

/** The divergence of one result against its target's list; undefined when the scenario is not listed. */
export function classify(r: ScenarioResult, expectations: TargetExpectations | undefined): Divergence | undefined {
  const listed = expectations?.entries[r.scenario];
  if (!listed || !expectations) return undefined;
  const { file } = expectations;
  const got = `${r.status} (${r.actual.verdict}${r.actual.class ? `: ${r.actual.class}` : ''})`;
  if (r.status === 'passed') {
    return { state: 'fixed', listed, file, note: `fixed — remove from list: ${r.scenario} now passes on ${r.target}; remove it from ${file}` };
  }
  if (r.status === 'skipped') {
    return { state: 'not-run', listed, file, note: `listed in ${file}, but skipped here (${r.message ?? r.actual.because}): whether it still diverges is unknown` };
  }
  const matches = r.status === listed.status
    && (listed.verdict === undefined || listed.verdict === r.actual.verdict)
    && (listed.class === undefined || listed.class === r.actual.class);
  if (matches) return { state: 'known', listed, file, note: `known divergence: ${listed.reason} (${listed.link})` };
  const want = `${listed.status}${listed.verdict ? ` (${listed.verdict}${listed.class ? `: ${listed.class}` : ''})` : ''}`;
  return { state: 'changed', listed, file, note: `listed in ${file} as ${want}, but got ${got}: a different deviation from the known one (${listed.link})` };
}

/** The results with their divergence blocks recomputed (stale blocks of an earlier evaluation dropped). */
export function applyDivergences<R extends ScenarioResult & { divergence?: Divergence }>(results: readonly R[], expectations: ReadonlyMap<string, TargetExpectations>): R[] {
  return results.map((r) => {
    const { divergence: _stale, ...rest } = r;
    const d = classify(r, expectations.get(r.target));
    return (d ? { ...rest, divergence: d } : rest) as R;
  });
}

export function outcomeOf(r: { status: Status; divergence?: Divergence; weak?: unknown }): Outcome {
  if (r.divergence?.state === 'known') return 'known';
  return r.status === 'passed' && r.weak ? 'weak' : r.status;
}

/** Repository-relative when inside the repository: what a reader edits. */
function displayPath(path: string): string {
  const rel = relative(fileURLToPath(new URL('../../', import.meta.url)), path);
  return rel.startsWith('..') ? path : rel;
}
