import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { loadCatalogue } from '../harness/pki/build.ts';
import { formatIssues } from '../harness/scenario/model.ts';
import { floorSampler } from './floor.ts';
import { labBench, parseLabOptions } from './lab.ts';
import { runMainJob, type MainJobRun } from './main-job.ts';
import { measureQuickRuns } from './quick-run.ts';
import { median, percentile, round } from './stats.ts';

// `npm run bench`: in one run, the floor (a bare Node client: start, config, TLS handshake,
// WebSocket upgrade), the main job over the full simulator matrix and over one target, a quick
// one-scenario run as a developer iterates, the PKI catalogue cold and warm; per-scenario cost
// against the floor, verdict latency, timeouts, and whether each target is met. Writes reports/bench.json. Exit 0 when every target is met, 1 when one is not, 2 when
// something could not be measured. Figures and how to read them: docs/performance.md.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TARGETS = { ratio: 1.0, oneTargetRatio: 1.0, quickRunMs: 1200, verdictP95Ms: 100, verdictMaxMs: 1000, timeouts: 0, pkiColdMs: 3000, pkiWarmMs: 200 };
/** The one-target main job: the fixed costs (start-up, report step) spread over half the scenarios. */
const ONE_TARGET = 'simulator';
/** The quick run: one scenario (and the sanity gate) on every default target. */
const QUICK_SCENARIO = 'cert.self-signed.refused';

const Options = z
  .object({
    /** Main-job runs: the CLI default first, then each --jobs value. */
    jobs: z.array(z.coerce.number().int().min(1)).default([]),
    /** Runs of each configuration; the targets are checked on the default's median run (one run on a VM moves by ±4 %). */
    runs: z.coerce.number().int().min(1).default(3),
    /** Floor client runs in all, spread before, between and after the main-job runs. */
    floorRuns: z.coerce.number().int().min(2).default(20),
    /** Timed quick runs (after one to warm up). */
    quickRuns: z.coerce.number().int().min(1).default(5),
    out: z.string().default('reports'),
  })
  .strict();

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', multiple: true },
      runs: { type: 'string' },
      'floor-runs': { type: 'string' },
      'quick-runs': { type: 'string' },
      out: { type: 'string' },
      lab: { type: 'boolean' },
      inventory: { type: 'string' },
      rtt: { type: 'string', multiple: true },
      scenario: { type: 'string' },
      'cpu-runs': { type: 'string' },
    },
  });
  // The lab bench (bench/lab.ts): gateways over SSH at WAN latency, instead of the simulator matrix.
  if (values.lab) return labBench(parseLabOptions({ inventory: values.inventory, rtt: values.rtt, scenario: values.scenario, cpuRuns: values['cpu-runs'], out: values.out }));
  if (values.inventory || values.rtt || values.scenario || values['cpu-runs']) throw new Error('bench options: --inventory, --rtt, --scenario and --cpu-runs go with --lab');
  const parsed = Options.safeParse({
    jobs: (values.jobs ?? []).flatMap((j) => j.split(',')),
    runs: values.runs,
    floorRuns: values['floor-runs'],
    quickRuns: values['quick-runs'],
    out: values.out,
  });
  if (!parsed.success) throw new Error(`bench options: ${formatIssues(parsed.error)} (usage: npm run bench -- [--jobs 1,2,4] [--runs N] [--floor-runs N] [--quick-runs N] [--out DIR], or npm run bench -- --lab …)`);
  const o = parsed.data;
  const out = resolve(REPO, o.out);
  const loadavgAtStart = loadavg();

  log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const pki = await measurePki();
  log(`PKI catalogue: cold ${fmt(pki.coldMs, 0)} ms, warm ${fmt(pki.warmMs, 1)} ms (median of ${pki.warmRuns})`);

  const catalogue = await loadCatalogue();
  const floor = await floorSampler(catalogue);
  /** Floor samples taken between main-job runs: run k lies between gaps k and k + 1. */
  const gaps: number[][] = [];
  const floorCpus: number[] = [];
  const sampleFloor = async (n: number) => {
    const s = await floor.sample(n);
    gaps.push(s.wallMs);
    if (s.cpuMsPerRun !== undefined) floorCpus.push(s.cpuMsPerRun);
  };
  // Floor samples before, between and after the main-job runs, and the configurations taken in
  // turn: on a shared machine each run is compared with the floor measured right around it.
  const configs: Config[] = [{}, { target: ONE_TARGET }, ...o.jobs.map((jobs) => ({ jobs }))];
  const perGap = Math.max(4, Math.ceil(o.floorRuns / (configs.length * o.runs + 1)));
  const runs: MainJobRun[] = [];
  try {
    await sampleFloor(perGap);
    for (let i = 1; i <= o.runs; i++) {
      for (const c of configs) {
        const dir = join(out, 'bench', `${c.target ? `target-${c.target}` : `jobs-${c.jobs ?? 'default'}`}${o.runs > 1 ? `-${i}` : ''}`);
        log(`main job (${configName(c)}, run ${i}/${o.runs}) …`);
        const r = await runMainJob(dir, c);
        runs.push(r);
        log(`  ${r.scenariosRun} scenarios on ${r.targets.join(', ')} (jobs ${r.jobs}) in ${fmt(r.wallMs / 1000, 2)} s, exit ${r.exitCode}`);
        await sampleFloor(perGap);
      }
    }
  } finally {
    await floor.close();
  }

  const floorWalls = gaps.flat();
  const floorMs = median(floorWalls)!;
  const floorCpuMs = floorCpus.length ? floorCpus.reduce((a, b) => a + b, 0) / floorCpus.length : undefined;
  const rows = runs.map((r, k) => {
    const localFloorMs = median([...gaps[k]!, ...gaps[k + 1]!])!;
    return { ...r, localFloorMs, perScenarioMs: r.wallMs / r.scenariosRun, ratio: r.wallMs / r.scenariosRun / localFloorMs };
  });
  const headline = representativeOf(rows, {});
  const oneTarget = representativeOf(rows, { target: ONE_TARGET });

  log(`quick run (npm run conformance -- --scenario ${QUICK_SCENARIO}), ${o.quickRuns} runs after one to warm up …`);
  const quick = await measureQuickRuns(QUICK_SCENARIO, join(out, 'bench', 'quick'), o.quickRuns);
  log(`  ${quick.wallMs.map((ms) => fmt(ms, 0)).join(', ')} ms (median ${fmt(quick.medianMs, 0)}), exit ${[...new Set(quick.exitCodes)].join('/')}`);

  const checks = [
    { target: `per-scenario cost / floor <= ${TARGETS.ratio}`, value: round(headline.ratio, 2), met: headline.ratio <= TARGETS.ratio },
    { target: `per-scenario cost / floor, one target (${ONE_TARGET}) <= ${TARGETS.oneTargetRatio}`, value: round(oneTarget.ratio, 2), met: oneTarget.ratio <= TARGETS.oneTargetRatio },
    { target: `quick run (one scenario, warm, npm included) <= ${TARGETS.quickRunMs} ms`, value: round(quick.medianMs, 0), met: quick.medianMs <= TARGETS.quickRunMs && quick.exitCodes.every((c) => c === 0) },
    { target: `verdict latency p95 <= ${TARGETS.verdictP95Ms} ms`, value: headline.verdictLatencyMs.p95, met: (headline.verdictLatencyMs.p95 ?? Infinity) <= TARGETS.verdictP95Ms },
    ...headline.perTarget.map((t) => ({
      target: `${t.target}: verdict latency max <= ${TARGETS.verdictMaxMs} ms`, value: t.verdictLatencyMs.max, met: (t.verdictLatencyMs.max ?? 0) <= TARGETS.verdictMaxMs,
    })),
    { target: `timeout-ended scenarios = ${TARGETS.timeouts}`, value: headline.timeoutEnded.length, met: headline.timeoutEnded.length <= TARGETS.timeouts },
    { target: `PKI catalogue cold <= ${TARGETS.pkiColdMs} ms`, value: round(pki.coldMs, 0), met: pki.coldMs <= TARGETS.pkiColdMs },
    { target: `PKI catalogue warm <= ${TARGETS.pkiWarmMs} ms`, value: round(pki.warmMs, 1), met: pki.warmMs <= TARGETS.pkiWarmMs },
  ];

  print(floorMs, floorCpuMs, floorWalls, rows, headline, checks);

  const doc = {
    format: 1,
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model.trim(), node: process.version, loadavgAtStart, loadavgAtEnd: loadavg() },
    floor: {
      what: 'bare node -e client: start, read config, TLS handshake (chain validated), WebSocket upgrade to the platform endpoint, exit on 101',
      runs: floorWalls.length,
      wallMs: { p50: round(floorMs, 1), min: round(Math.min(...floorWalls), 1), p95: round(percentile(floorWalls, 95), 1) },
      cpuMsPerRun: round(floorCpuMs, 1),
    },
    pki: { ...pki, coldMs: round(pki.coldMs, 0), warmMs: round(pki.warmMs, 2) },
    headline: summary(headline),
    oneTarget: summary(oneTarget),
    quick: { ...quick, wallMs: quick.wallMs.map((ms) => round(ms, 0)), medianMs: round(quick.medianMs, 0) },
    runs: rows.map(summary),
    targets: checks,
  };
  await mkdir(out, { recursive: true });
  const file = join(out, 'bench.json');
  // The lab bench's figures (`--lab`) stay in the file.
  const lab = await readFile(file, 'utf8').then((t) => (JSON.parse(t) as { lab?: unknown }).lab, () => undefined);
  await writeFile(file, `${JSON.stringify({ ...doc, ...(lab ? { lab } : {}) }, null, 2)}\n`);
  log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine slows the main job more than the floor)`);
  log(`written: ${file}`);
  if (rows.some((r) => r.exitCode !== 0)) log(`note: a main job exited non-zero: see its log (${rows.find((r) => r.exitCode !== 0)!.log})`);
  return checks.every((c) => c.met) ? 0 : 1;
}

/** Cold: a build into an empty store directory; warm: loading that store again, unchanged. */
async function measurePki(): Promise<{ coldMs: number; warmMs: number; warmRuns: number; certs: number; files: number }> {
  const store = join(await mkdtemp(join(tmpdir(), 'bench-pki-')), 'store');
  try {
    let t = performance.now();
    const built = await loadCatalogue({ storeDir: store });
    const coldMs = performance.now() - t;
    const warm: number[] = [];
    for (let i = 0; i < 7; i++) {
      t = performance.now();
      await loadCatalogue({ storeDir: store });
      warm.push(performance.now() - t);
    }
    return { coldMs, warmMs: median(warm)!, warmRuns: warm.length, certs: Object.keys(built.certs).length, files: Object.keys(built.files).length };
  } finally {
    await rm(join(store, '..'), { recursive: true, force: true });
  }
}

type Row = MainJobRun & { localFloorMs: number; perScenarioMs: number; ratio: number };

/** A main-job configuration: the CLI's defaults, another --jobs, or one --target. */
interface Config {
  jobs?: number;
  target?: string;
}

function configName(c: Config): string {
  return c.target ? `target ${c.target}` : `jobs ${c.jobs ?? 'default'}`;
}

function sameConfig(r: MainJobRun, c: Config): boolean {
  return r.jobsAsked === c.jobs && r.targetAsked === c.target;
}

/** The run a configuration stands for: its median ratio to the floor (the lower one of an even count). */
function representativeOf(rows: Row[], c: Config): Row {
  const of = rows.filter((r) => sameConfig(r, c)).sort((a, b) => a.ratio - b.ratio);
  return of[(of.length - 1) >> 1]!;
}

function summary(r: Row) {
  const { results: _results, ...rest } = r;
  const per = (ms: number | undefined) => round(ms === undefined ? undefined : ms / r.scenariosRun, 1);
  return {
    ...rest,
    wallMs: round(r.wallMs, 0),
    phases: { startUpMs: round(r.phases.startUpMs, 0), scenariosMs: round(r.phases.scenariosMs, 0), afterMs: round(r.phases.afterMs, 0) },
    localFloorMs: round(r.localFloorMs, 1),
    perScenarioMs: round(r.perScenarioMs, 1),
    ratio: round(r.ratio, 3),
    cpuMsPerScenario: per(r.cpuMs),
    harnessCpuMsPerScenario: per(r.harnessCpuMs),
  };
}

function print(floorMs: number, floorCpuMs: number | undefined, floorWalls: number[], rows: Row[], headline: Row, checks: Array<{ target: string; value: unknown; met: boolean }>) {
  log(`\nfloor: ${fmt(floorMs, 1)} ms per client (median of all ${floorWalls.length}; min ${fmt(Math.min(...floorWalls), 1)}, p95 ${fmt(percentile(floorWalls, 95)!, 1)}), CPU ${fmt(floorCpuMs, 1)} ms per client`);
  log('');
  const header = ['jobs', 'scenarios', 'wall s', 'start-up s', 'scenarios s', 'after s', 'ms/scenario', 'floor ms', '÷ floor', 'CPU ms/scen.', 'harness', 'verdict p50', 'p95 ms', 'timeouts', 'pass/fail/skip/broken'];
  const stands = new Set(rows.map((r) => representativeOf(rows, { ...(r.jobsAsked !== undefined ? { jobs: r.jobsAsked } : {}), ...(r.targetAsked ? { target: r.targetAsked } : {}) })));
  const table = rows.map((r) => [
    `${r.jobs}${r.targetAsked ? ` (${r.targetAsked})` : r.jobsAsked === undefined ? ' (default)' : ''}${rows.length > stands.size && stands.has(r) ? ' *' : ''}`,
    String(r.scenariosRun),
    fmt(r.wallMs / 1000, 2),
    fmt(r.phases.startUpMs / 1000, 2),
    fmt(r.phases.scenariosMs / 1000, 2),
    fmt(r.phases.afterMs / 1000, 2),
    fmt(r.perScenarioMs, 1),
    fmt(r.localFloorMs, 1),
    fmt(r.ratio, 2),
    fmt(r.cpuMs === undefined ? undefined : r.cpuMs / r.scenariosRun, 0),
    fmt(r.harnessCpuMs === undefined ? undefined : r.harnessCpuMs / r.scenariosRun, 0),
    fmt(r.verdictLatencyMs.p50, 2),
    fmt(r.verdictLatencyMs.p95, 2),
    String(r.timeoutEnded.length),
    `${r.summary.passed}/${r.summary.failed}/${r.summary.skipped}/${r.summary.broken}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log(line(header));
  for (const row of table) log(line(row));
  if (rows.length > stands.size) log('  * the median run of its configuration by ratio (for the default: the run the targets are checked on)');
  log(`\nmain job: ${headline.command}`);
  log('  start-up = process start to the first scenario scheduled; after = last result to exit (reports);');
  log('  CPU = user + system of the job and all it started, per scenario; harness = of that, the job\'s own process.');
  log('  floor ms = the floor measured right before and after that run (the ratio\'s denominator).');
  log(`  marginal cost (scenario phase only): ${fmt(headline.phases.scenariosMs / headline.scenariosRun, 1)} ms per scenario = ${fmt(headline.phases.scenariosMs / headline.scenariosRun / headline.localFloorMs, 2)} × floor`);
  log('\nverdict latency per target (the median run of the default jobs; from the first decisive evidence to the verdict, target: max <= 1000 ms):');
  const perTarget = headline.perTarget.map((t) => [t.target, String(t.scenarios), fmt(t.verdictLatencyMs.p50, 2), fmt(t.verdictLatencyMs.p95, 2), fmt(t.verdictLatencyMs.max, 2), String(t.timeoutEnded), String(t.unattributed)]);
  const tHeader = ['target', 'scenarios', 'p50 ms', 'p95 ms', 'max ms', 'timeouts', 'unattributed'];
  const tWidths = tHeader.map((h, i) => Math.max(h.length, ...perTarget.map((row) => row[i]!.length)));
  const tLine = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(tWidths[i]!) : c.padStart(tWidths[i]!))).join('  ');
  log(`  ${tLine(tHeader)}`);
  for (const row of perTarget) log(`  ${tLine(row)}`);
  for (const id of headline.timeoutEnded) log(`  ended by a timeout: ${id}`);
  for (const id of headline.unattributed) log(`  unattributed refusal: ${id}`);
  log('\ntargets (default jobs):');
  for (const c of checks) log(`  ${c.met ? 'met    ' : 'NOT met'}  ${c.target}: ${String(c.value)}`);
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exitCode = 2;
  },
);
