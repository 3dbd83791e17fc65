import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { FAILURE_CLASSES, REQUIREMENT_IDS } from '../scenario/requirements.ts';
import { formatIssues, PLATFORM_OUTCOMES } from '../scenario/model.ts';
import { LOCAL_SERVER_OUTCOMES } from '../scenario/local-server-model.ts';
import type { ScenarioResult } from '../scenario/run.ts';
import type { Status } from '../scenario/verdict.ts';
import { ExpectedDivergence, type Divergence } from './divergences.ts';
import type { RunOutcome } from './gates.ts';
import { Triage } from './triage.ts';

// reports/results.json: the contract other tools read (README "results.json"). Keep it stable:
// add fields, never rename or remove them.

export const RESULTS_FORMAT = 1;

export interface TargetInfo {
  id: string;
  flavour: string;
  capabilities: string[];
  emsVersion?: string;
  /** The FIPS policy its FIPS mode was judged against (targets with the `fips` capability, or a declared one). */
  fipsPolicy?: string;
  /** The target's own (inventory) error-map entries, with where each was written. */
  errorMap?: Array<{ pattern: string; class: string; origin?: string }>;
  /** Its own warning lines (LSR-WARN), as the inventory names them. */
  warningMap?: Array<{ pattern: string; warning: string; origin?: string }>;
}

export interface ResultsFile {
  format: number;
  harness: { name: string; version: string; node: string };
  run: {
    startedAt: string;
    finishedAt: string;
    durationMs: number;
    jobs: number;
    inventory: string;
    targets: TargetInfo[];
    /** A run of one part of the cases (`--shard i/n`). */
    shard?: { index: number; count: number };
    /** A merged run (`conformance merge`): the inputs it was made of. */
    merged?: MergedInput[];
    summary: Record<Status, number> & { total: number };
    /** Added by the report step: divergences applied, gates and the exit code. */
    outcome?: RunOutcome;
    /** EMS lines no error-map entry matched, grouped by shape; inventory errorMap entries that matched nothing (harness/report/triage.ts). */
    triage?: Triage;
  };
  results: ReportedResult[];
}

export interface MergedInput {
  file: string;
  startedAt: string;
  finishedAt: string;
  inventory: string;
  shard?: { index: number; count: number };
}

/** A result as the report step leaves it: with its known-divergence block when listed. */
export type ReportedResult = ScenarioResult & { divergence?: Divergence };

export function summarise(results: ScenarioResult[]): ResultsFile['run']['summary'] {
  const summary = { total: results.length, passed: 0, failed: 0, skipped: 0, broken: 0 };
  for (const r of results) summary[r.status]++;
  return summary;
}

/** Written to a temp name and renamed, so a reader never sees half a file. */
export async function writeResults(dir: string, doc: ResultsFile): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'results.json');
  await writeFile(`${path}.tmp`, JSON.stringify(doc, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
  return path;
}

// The schema of what the report writers read back from a saved results.json (`conformance report
// --results FILE`): the fields they use are checked, the evidence is kept as it is.
const STATUSES = ['passed', 'failed', 'skipped', 'broken'] as const;
const Counts = z.looseObject({ total: z.number(), ...Object.fromEntries(STATUSES.map((s) => [s, z.number()])) });
const SavedResult = z.looseObject({
  scenario: z.string(),
  family: z.string(),
  title: z.string(),
  requirements: z.array(z.enum(REQUIREMENT_IDS)),
  target: z.string(),
  expected: z.looseObject({ outcome: z.enum([...PLATFORM_OUTCOMES, ...LOCAL_SERVER_OUTCOMES, 'all-of']), class: z.enum(FAILURE_CLASSES).optional() }),
  actual: z.looseObject({
    verdict: z.enum(['CONNECTED', 'REFUSED', 'HANG', 'UNSUPPORTED', 'BROKEN']),
    class: z.enum(FAILURE_CLASSES).optional(),
    because: z.string(),
    evidence: z.looseObject({ observations: z.array(z.looseObject({ kind: z.string() })), emsLog: z.array(z.string()) }),
  }),
  status: z.enum(STATUSES),
  message: z.string().optional(),
  startedAt: z.iso.datetime().optional(),
  durationMs: z.number(),
  divergence: z.looseObject({ state: z.enum(['known', 'fixed', 'changed', 'not-run']), listed: ExpectedDivergence, file: z.string(), note: z.string() }).optional(),
});
export const SavedResultsFile = z.looseObject({
  format: z.literal(RESULTS_FORMAT),
  harness: z.looseObject({ name: z.string(), version: z.string(), node: z.string() }),
  run: z.looseObject({
    startedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number(),
    inventory: z.string(),
    targets: z.array(z.looseObject({ id: z.string(), flavour: z.string(), capabilities: z.array(z.string()), emsVersion: z.string().optional() })),
    summary: Counts,
    triage: Triage.optional(),
  }),
  results: z.array(SavedResult),
});

/** Reads a results.json; errors name the file and the field. */
export async function readResultsFile(path: string): Promise<ResultsFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (did the run complete?)' : `not a results file: ${(e as Error).message}`}`);
  }
  const parsed = SavedResultsFile.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: ${formatIssues(parsed.error)}`);
  // The checked fields are the writers' contract; the rest of a result is evidence, shown as saved.
  return parsed.data as unknown as ResultsFile;
}
