import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScenarioResult } from '../scenario/run.ts';
import type { Status } from '../scenario/verdict.ts';

// reports/results.json: the contract other tools read (README "results.json"). Keep it stable:
// add fields, never rename or remove them.

export const RESULTS_FORMAT = 1;

export interface TargetInfo {
  id: string;
  flavour: string;
  capabilities: string[];
  emsVersion?: string;
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
    summary: Record<Status, number> & { total: number };
  };
  results: ScenarioResult[];
}

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
