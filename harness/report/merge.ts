import { copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { caseKey } from '../scenario/shard.ts';
import { summarise, type ReportedResult, type ResultsFile, type TargetInfo } from './results.ts';

// `conformance merge`: the results.json of several shards (--shard i/n), or of several labs'
// harness hosts, as one run, so that divergences, gates and every report apply to the whole. The
// same case twice is fine when both say the same (the sanity gate runs in every shard); anything
// that would make the whole say something its parts do not is refused, naming the files.

export interface MergeInput {
  file: string;
  doc: ResultsFile;
}

/** The merged run, results in target order and then catalogue order (`order`: scenario ids; others after, as given). */
export function mergeRuns(inputs: readonly MergeInput[], order: readonly string[] = []): ResultsFile {
  if (!inputs.length) throw new Error('merge: no results files given');
  const [first] = inputs as [MergeInput, ...MergeInput[]];
  const seenFiles = new Set<string>();
  for (const i of inputs) {
    if (seenFiles.has(i.file)) throw new Error(`${i.file}: given twice`);
    seenFiles.add(i.file);
    const h = i.doc.harness;
    const f = first.doc.harness;
    if (i.doc.format !== first.doc.format || h.name !== f.name || h.version !== f.version) {
      throw new Error(`${i.file}: made by ${h.name} ${h.version} (results format ${i.doc.format}), but ${first.file} by ${f.name} ${f.version} (format ${first.doc.format}): results of different harness versions cannot be merged; run every part with the same harness`);
    }
  }
  checkShards(inputs);

  const targets = new Map<string, { info: TargetInfo; file: string }>();
  for (const i of inputs) {
    for (const t of i.doc.run.targets) {
      const had = targets.get(t.id);
      if (!had) targets.set(t.id, { info: t, file: i.file });
      else if (profileOf(had.info) !== profileOf(t)) {
        throw new Error(`${i.file}: target "${t.id}" is ${profileOf(t)}, but in ${had.file} it is ${profileOf(had.info)}: two different targets under one id cannot be merged (give them distinct ids in their inventories)`);
      }
    }
  }

  const cases = new Map<string, { r: ReportedResult; file: string }>();
  for (const i of inputs) {
    for (const r of i.doc.results) {
      const key = caseKey(r.scenario, r.target);
      const had = cases.get(key);
      if (!had) {
        cases.set(key, { r, file: i.file });
      } else if (verdictOf(had.r) !== verdictOf(r)) {
        throw new Error(`${key} is in ${had.file} as ${verdictOf(had.r)} and in ${i.file} as ${verdictOf(r)}: the same case twice with different results (overlapping inputs); merge each case from one run only`);
      }
    }
  }

  const targetOrder = [...targets.keys()];
  const rank = new Map(order.map((id, n) => [id, n]));
  const results = [...cases.values()].map((c, n) => ({ ...c, n }))
    .sort((a, b) => targetOrder.indexOf(a.r.target) - targetOrder.indexOf(b.r.target) || (rank.get(a.r.scenario) ?? order.length + a.n) - (rank.get(b.r.scenario) ?? order.length + b.n))
    // Divergences and the outcome are the report step's, made again for the whole.
    .map(({ r }) => {
      const { divergence: _d, ...rest } = r;
      return rest as ReportedResult;
    });
  const startedAt = inputs.map((i) => i.doc.run.startedAt).sort()[0]!;
  const finishedAt = inputs.map((i) => i.doc.run.finishedAt).sort().at(-1)!;
  return {
    format: first.doc.format,
    harness: first.doc.harness,
    run: {
      startedAt,
      finishedAt,
      durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
      jobs: inputs.reduce((n, i) => n + i.doc.run.jobs, 0),
      inventory: first.doc.run.inventory,
      targets: [...targets.values()].map((t) => t.info),
      merged: inputs.map((i) => ({
        file: i.file, startedAt: i.doc.run.startedAt, finishedAt: i.doc.run.finishedAt, inventory: i.doc.run.inventory,
        ...(i.doc.run.shard ? { shard: i.doc.run.shard } : {}),
      })),
      summary: summarise(results),
    },
    results,
  };
}

/** Shards of one split: the same count, each part once, none missing (a lost shard must not pass as a whole run). */
function checkShards(inputs: readonly MergeInput[]): void {
  const sharded = inputs.filter((i) => i.doc.run.shard);
  if (!sharded.length) return;
  const count = sharded[0]!.doc.run.shard!.count;
  const parts = new Map<number, string>();
  for (const i of sharded) {
    const s = i.doc.run.shard!;
    if (s.count !== count) throw new Error(`${i.file}: shard ${s.index}/${s.count}, but ${sharded[0]!.file} is one of ${count} shards: parts of different splits cannot be merged`);
    if (parts.has(s.index)) throw new Error(`${i.file}: shard ${s.index}/${count} again (also ${parts.get(s.index)})`);
    parts.set(s.index, i.file);
  }
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((k) => !parts.has(k));
  if (missing.length) throw new Error(`shards of ${count}: ${missing.map((k) => `${k}/${count}`).join(', ')} missing (given: ${[...parts.keys()].sort((a, b) => a - b).map((k) => `${k}/${count}`).join(', ')}): a merge of some shards is not the whole run`);
}

function profileOf(t: TargetInfo): string {
  return `${t.flavour}${t.emsVersion ? ` EMS ${t.emsVersion}` : ''} [${[...t.capabilities].sort().join(', ')}]`;
}

function verdictOf(r: ReportedResult): string {
  return `${r.status} (${r.actual.verdict}${r.actual.class ? `: ${r.actual.class}` : ''})`;
}

/**
 * The inputs' allure-results (each next to its results.json) copied into one directory; a case
 * that more than one input holds (the sanity gate of every shard) once, with its attachments.
 * Returns what is missing when an input has none (then no merged Allure report is made).
 */
export async function mergeAllureResults(inputs: readonly MergeInput[], into: string): Promise<string | undefined> {
  const dirs = inputs.map((i) => join(dirname(i.file), 'allure-results'));
  const missing = [];
  for (const d of dirs) if (!(await stat(d).catch(() => undefined))?.isDirectory()) missing.push(d);
  await rm(into, { recursive: true, force: true });
  if (missing.length) return `no ${missing.join(', ')}`;
  await mkdir(into, { recursive: true });
  const seen = new Set<string>();
  for (const dir of dirs) {
    const files = await readdir(dir);
    const skip = new Set<string>();
    for (const f of files.filter((x) => x.endsWith('-result.json'))) {
      const r = JSON.parse(await readFile(join(dir, f), 'utf8')) as AllureResult;
      const key = caseKey(String(r.labels?.find((l) => l.name === 'story')?.value), String(r.parameters?.find((p) => p.name === 'target')?.value));
      if (!seen.has(key)) {
        seen.add(key);
        continue;
      }
      skip.add(f);
      for (const a of [...(r.attachments ?? []), ...(r.steps ?? []).flatMap((s) => s.attachments ?? [])]) skip.add(a.source);
    }
    // categories.json is written again by the report step; a copy would only be replaced.
    for (const f of files) if (!skip.has(f) && f !== 'categories.json' && !f.startsWith('.')) await copyFile(join(dir, f), join(into, f));
  }
  return undefined;
}

interface AllureResult {
  labels?: Array<{ name: string; value: string }>;
  parameters?: Array<{ name: string; value: string }>;
  attachments?: Array<{ source: string }>;
  steps?: Array<{ attachments?: Array<{ source: string }> }>;
}
