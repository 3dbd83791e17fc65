import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { formatIssues } from '../harness/scenario/model.ts';
import { childCpuMs, percentile, processCpuMs, round } from './stats.ts';

// The main job as a user runs it, timed from outside: `conformance run` over the default
// inventory (every simulator target, or one of them), in its own process, start-up and report
// step included.

const REPO = fileURLToPath(new URL('../', import.meta.url));
/** What `npm run conformance` runs (package.json), without npm itself. */
export const MAIN_JOB = [process.execPath, 'harness/launch.mjs', 'run'];

// The part of results.json the benchmark reads (harness/report/results.ts writes it).
const Result = z.looseObject({
  scenario: z.string(),
  target: z.string(),
  status: z.enum(['passed', 'failed', 'skipped', 'broken']),
  durationMs: z.number(),
  verdictLatencyMs: z.number().optional(),
  endedBy: z.enum(['evidence', 'timeout', 'not-run']),
  actual: z.looseObject({ verdict: z.string(), class: z.string().optional(), because: z.string() }),
});
const Results = z.looseObject({
  run: z.looseObject({
    startedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number(),
    jobs: z.number(),
    targets: z.array(z.looseObject({ id: z.string() })),
    summary: z.looseObject({ total: z.number(), passed: z.number(), failed: z.number(), skipped: z.number(), broken: z.number() }),
  }),
  results: z.array(Result),
});
export type BenchResult = z.infer<typeof Result>;

export interface Latency {
  p50: number | undefined;
  p95: number | undefined;
  max: number | undefined;
}

/** From each result's first decisive evidence (the EMS's decisive line) to its verdict. */
function latencyOf(results: readonly BenchResult[]): Latency {
  const ms = results.flatMap((r) => (r.verdictLatencyMs === undefined ? [] : [r.verdictLatencyMs]));
  return { p50: round(percentile(ms, 50), 2), p95: round(percentile(ms, 95), 2), max: round(percentile(ms, 100), 2) };
}

export interface MainJobRun {
  command: string;
  /** undefined: the CLI's default. */
  jobsAsked: number | undefined;
  /** The one target asked for (`--target`); undefined: every target of the inventory. */
  targetAsked: string | undefined;
  jobs: number;
  exitCode: number | null;
  targets: string[];
  summary: { total: number; passed: number; failed: number; skipped: number; broken: number };
  /** Results of cases that ran (not skipped as unsupported, not blocked by a failed gate). */
  scenariosRun: number;
  wallMs: number;
  /** User + system time of the job and everything it started. */
  cpuMs: number | undefined;
  /** Of which the job's own process (the harness: run loop, endpoints, reports); sampled, so slightly low. */
  harnessCpuMs: number | undefined;
  /** The job's own CPU in the run phase (results.json's startedAt to finishedAt: targets connected, scenarios, targets restored), from the samples around those moments. */
  harnessRunPhaseCpuMs: number | undefined;
  phases: { startUpMs: number; scenariosMs: number; afterMs: number };
  verdictLatencyMs: Latency;
  /** The same per target id of the inventory (a new target, e.g. another simulator profile, appears by itself). */
  perTarget: Array<{ target: string; scenarios: number; verdictLatencyMs: Latency; timeoutEnded: number; unattributed: number }>;
  /** Results decided by a timer (the hang timeout, or the handshake grace) instead of evidence. */
  timeoutEnded: string[];
  /** Refusals no evidence attributed (decided when the EMS exited or the handshake grace ran out). */
  unattributed: string[];
  results: BenchResult[];
  reportsDir: string;
  log: string;
}

/** `extraArgs`: more options of `conformance run` (another inventory, a family). */
export async function runMainJob(reportsDir: string, { jobs, target, extraArgs = [] }: { jobs?: number; target?: string; extraArgs?: string[] } = {}): Promise<MainJobRun> {
  await rm(reportsDir, { recursive: true, force: true });
  await mkdir(reportsDir, { recursive: true });
  const args = [...MAIN_JOB.slice(1), '--reports', reportsDir, ...(jobs ? ['--jobs', String(jobs)] : []), ...(target ? ['--target', target] : []), ...extraArgs];
  const log = join(reportsDir, 'main-job.log');
  const out = createWriteStream(log);
  const cpu0 = await childCpuMs();
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const child = spawn(MAIN_JOB[0]!, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  // The harness's own CPU time, read while it lives (after its exit only the total is known).
  let harnessCpuMs: number | undefined;
  const timeline: Array<{ at: number; ms: number }> = [];
  const sampler = setInterval(() => {
    void processCpuMs(child.pid!).then((ms) => {
      if (ms === undefined) return;
      harnessCpuMs = Math.max(harnessCpuMs ?? 0, ms);
      timeline.push({ at: Date.now(), ms });
    });
  }, 50);
  const exitCode = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve)).finally(() => clearInterval(sampler));
  const wallMs = performance.now() - t0;
  const exitedAt = spawnedAt + wallMs;
  const cpu1 = await childCpuMs();
  out.end();

  const file = join(reportsDir, 'results.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: the main job (exit ${exitCode}, log ${log}) left no readable results: ${(e as Error).message}`);
  }
  const parsed = Results.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: ${formatIssues(parsed.error)}`);
  const { run, results } = parsed.data;
  const ran = results.filter((r) => r.endedBy !== 'not-run');
  const startedAt = Date.parse(run.startedAt);
  const finishedAt = Date.parse(run.finishedAt);
  const id = (r: BenchResult) => `${r.target}/${r.scenario}`;
  return {
    command: [...MAIN_JOB.map((a) => (a === process.execPath ? 'node' : a)), ...args.slice(MAIN_JOB.length - 1)].join(' '),
    jobsAsked: jobs,
    targetAsked: target,
    jobs: run.jobs,
    exitCode,
    targets: run.targets.map((t) => t.id),
    summary: run.summary,
    scenariosRun: ran.length,
    wallMs,
    cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
    harnessCpuMs,
    harnessRunPhaseCpuMs: cpuBetween(timeline, startedAt, finishedAt),
    phases: { startUpMs: startedAt - spawnedAt, scenariosMs: finishedAt - startedAt, afterMs: exitedAt - finishedAt },
    verdictLatencyMs: latencyOf(results),
    perTarget: run.targets.map(({ id: target }) => {
      const mine = results.filter((r) => r.target === target);
      return {
        target,
        scenarios: mine.filter((r) => r.endedBy !== 'not-run').length,
        verdictLatencyMs: latencyOf(mine),
        timeoutEnded: mine.filter((r) => r.endedBy === 'timeout').length,
        unattributed: mine.filter((r) => r.actual.verdict === 'REFUSED' && r.actual.class === undefined).length,
      };
    }),
    timeoutEnded: results.filter((r) => r.endedBy === 'timeout').map(id),
    unattributed: results.filter((r) => r.actual.verdict === 'REFUSED' && r.actual.class === undefined).map(id),
    results,
    reportsDir,
    log,
  };
}

/** CPU used between two moments, from the last sample at or before `from` to the first at or after `to`; undefined without such samples. */
function cpuBetween(timeline: Array<{ at: number; ms: number }>, from: number, to: number): number | undefined {
  const before = timeline.filter((s) => s.at <= from).pop();
  const after = timeline.find((s) => s.at >= to);
  return before && after ? after.ms - before.ms : undefined;
}
