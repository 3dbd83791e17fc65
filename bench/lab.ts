import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { formatIssues } from '../harness/scenario/model.ts';
import { readInventory, type Inventory } from '../targets/inventory.ts';
import { readLab } from '../targets/lab/layout.ts';
import { proxiedInventory } from '../targets/lab/proxied-inventory.ts';
import { runMainJob, type MainJobRun } from './main-job.ts';
import { median, round } from './stats.ts';

// `npm run bench -- --lab`: lab gateways at WAN latency. Every gateway's sshd is put behind a
// delaying TCP proxy (targets/lab/delay-proxy.ts, in this process); at each round trip asked for,
// the family runs on each gateway alone, then on all of them together. From that, in one run: the
// sequential round trips per scenario (the slope of a gateway's per-scenario cost over the round
// trip, from its runs alone: the virtual gateways share this machine's CPU, and alone they do not
// compete for it), the cost per scenario at each round trip, N gateways against one (total wall
// of the same family), the harness's own CPU per gateway scenario (in the runs together, the
// median of several at each round trip it is checked at). Written
// into reports/bench.json under "lab" (what `npm run bench` writes there stays). docs/performance.md.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TARGETS = { roundTripsProcess: 4, roundTripsService: 6, togetherRatio: 1.2, harnessCpuMsPerScenario: 25 };
/** The WAN range the harness CPU target is checked over (lab links: 20–100 ms, and the LAN). */
const CHECKED_RTT_MS = 100;

export const LabOptions = z
  .object({
    /** A lab inventory; default: the virtual lab's (brought up for the bench, and down again, when it is not up). */
    inventory: z.string().optional(),
    /**
     * Round trips to measure at, ms. The slope is fitted over all of them (least squares): 0 and 50
     * are the figures asked for, 200 makes the slope stand out of a shared machine's noise.
     */
    rtt: z.array(z.coerce.number().min(0).max(1000)).min(2).default([0, 50, 200]),
    /** The family (scenario id prefix) every run takes. */
    scenario: z.string().min(1).default('cert.'),
    /**
     * All-gateways runs at each checked round trip (up to CHECKED_RTT_MS): the harness CPU target
     * is judged on their median. One run's figure moved by several ms on this shared VM.
     */
    cpuRuns: z.coerce.number().int().min(1).max(9).default(3),
    out: z.string().default('reports'),
  })
  .strict();
export type LabOptions = z.infer<typeof LabOptions>;

export function parseLabOptions(values: { inventory?: string; rtt?: string[]; scenario?: string; cpuRuns?: string; out?: string }): LabOptions {
  const parsed = LabOptions.safeParse({ ...values, ...(values.rtt ? { rtt: values.rtt.flatMap((r) => r.split(',')) } : {}) });
  if (!parsed.success) throw new Error(`bench --lab options: ${formatIssues(parsed.error)} (usage: npm run bench -- --lab [--inventory FILE] [--rtt 0,50] [--scenario cert.] [--cpu-runs 3] [--out DIR])`);
  const rtt = [...new Set(parsed.data.rtt)].sort((a, b) => a - b);
  if (rtt.length < 2) throw new Error('bench --lab options: --rtt needs two different round trips (the slope is fitted over them)');
  return { ...parsed.data, rtt };
}

interface GatewayInfo {
  id: string;
  mode: string;
  tunnel: boolean;
  /** The round-trip target that applies to it (undefined: none, with the reason). */
  limit?: number;
  note?: string;
}

export async function labBench(o: LabOptions): Promise<number> {
  const out = resolve(REPO, o.out);
  const dir = join(out, 'bench', 'lab');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const lab = await labInventory(o.inventory);
  try {
    const inv = await readInventory(lab.file);
    const gateways = gatewaysOf(inv);
    if (!gateways.length) throw new Error(`${lab.file}: no ssh-linux or ssh-windows target to measure`);
    const proxied = await proxiedInventory(lab.file, join(dir, 'inventory.yaml'), 0);
    log(`machine: ${cpus().length} CPUs, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; the virtual gateways' EMS processes run on this machine too`);
    log(`gateways: ${gateways.map((g) => `${g.id} (${g.mode}${g.tunnel ? ', reverse tunnel' : ''})`).join(', ')}; family ${o.scenario}; round trips ${o.rtt.join(', ')} ms`);
    const runs: Array<{ rttMs: number; only?: string; run: MainJobRun }> = [];
    try {
      const job = async (rttMs: number, only?: string) => {
        for (const p of proxied.proxies.values()) p.rttMs = rttMs;
        const name = `rtt-${rttMs}${only ? `-${only}` : '-all'}`;
        log(`run: ${only ?? 'all gateways'} at ${rttMs} ms …`);
        const run = await runMainJob(join(dir, name), { extraArgs: ['--inventory', proxied.file, '--scenario', o.scenario, ...(only ? ['--target', only] : ['--target', ...gateways.map((g) => g.id)])] });
        log(`  ${run.scenariosRun} scenarios in ${(run.wallMs / 1000).toFixed(1)} s, exit ${run.exitCode} (${run.summary.passed} passed, ${run.summary.failed} failed, ${run.summary.broken} broken)`);
        runs.push({ rttMs, ...(only ? { only } : {}), run });
      };
      // Each gateway's round trips one after the other (its slope from runs close in time), then all
      // together at each: the checked round trips cpuRuns times, taken in turn.
      for (const g of gateways) for (const rtt of o.rtt) await job(rtt, g.id);
      if (gateways.length > 1) {
        for (let i = 0; i < o.cpuRuns; i++) for (const rtt of o.rtt.filter((r) => r <= CHECKED_RTT_MS)) await job(rtt);
        for (const rtt of o.rtt.filter((r) => r > CHECKED_RTT_MS)) await job(rtt);
      }
    } finally {
      await proxied.close();
    }
    const report = analyse(o, gateways, runs);
    print(report);
    const file = await mergeIntoBenchJson(out, report);
    log(`\nwritten: ${file} ("lab")`);
    const broken = runs.filter((r) => r.run.summary.failed + r.run.summary.broken > 0);
    if (broken.length) log(`note: some runs had failed or broken results; their logs: ${broken.map((r) => r.run.log).join(', ')}`);
    return broken.length ? 2 : report.targets.every((t) => t.met !== false) ? 0 : 1;
  } finally {
    await lab.release();
  }
}

/** The inventory given, or the virtual lab's: brought up when it is not up (and down again afterwards). */
async function labInventory(given: string | undefined): Promise<{ file: string; release(): Promise<void> }> {
  if (given) return { file: resolve(given), release: async () => undefined };
  const { lab } = await readLab();
  if (lab) return { file: lab.inventory, release: async () => undefined };
  log('the virtual lab is not up: bringing it up for the bench (and down afterwards)');
  await labCommand('up');
  const up = await readLab();
  if (!up.lab) throw new Error(`lab up did not leave a lab: ${up.reason}`);
  return { file: up.lab.inventory, release: () => labCommand('down') };
}

function labCommand(what: 'up' | 'down'): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'targets/lab/lab.ts', what], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject).once('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`targets/lab/lab.ts ${what} exited with ${code} (it needs root)`))));
  });
}

function gatewaysOf(inv: Inventory): GatewayInfo[] {
  return inv.targets.flatMap((t): GatewayInfo[] => {
    if (t.kind === 'local') return [];
    const tunnel = 'tunnel' in t.platform;
    const mode = t.ems.start.mode;
    const processLike = mode === 'process';
    if (tunnel) {
      return [{ id: t.id, mode, tunnel, note: "its EMS's TLS handshake, WebSocket upgrade and AUTH go through the SSH connection too: those round trips are the product's, not the driver's" }];
    }
    return [{ id: t.id, mode, tunnel, limit: processLike ? TARGETS.roundTripsProcess : TARGETS.roundTripsService }];
  });
}

type Run = { rttMs: number; only?: string; run: MainJobRun };

function analyse(o: LabOptions, gateways: GatewayInfo[], runs: Run[]) {
  /** The all-gateways runs at a round trip (one gateway: its run alone). */
  const togetherRuns = (rtt: number) => {
    const all = runs.filter((r) => r.rttMs === rtt && !r.only);
    return (all.length ? all : [runs.find((r) => r.rttMs === rtt)!]).map((r) => r.run);
  };
  const alone = (rtt: number, id: string) => runs.find((r) => r.rttMs === rtt && r.only === id)!.run;
  const last = o.rtt[o.rtt.length - 1]!;
  /** Mean duration of a gateway's scenarios that ran, in a run. */
  const cost = (run: MainJobRun, id: string) => {
    const mine = run.results.filter((r) => r.target === id && r.endedBy !== 'not-run');
    return mine.length ? mine.reduce((a, r) => a + r.durationMs, 0) / mine.length : undefined;
  };
  const perGateway = gateways.map((g) => {
    const costMs = Object.fromEntries(o.rtt.map((rtt) => [String(rtt), round(cost(alone(rtt, g.id), g.id), 1)]));
    const points = o.rtt.map((rtt) => ({ x: rtt, y: cost(alone(rtt, g.id), g.id) }));
    const roundTrips = points.some((p) => p.y === undefined) ? undefined : slope(points as Array<{ x: number; y: number }>);
    return {
      ...g,
      scenarios: alone(last, g.id).results.filter((r) => r.target === g.id && r.endedBy !== 'not-run').length,
      costMsPerScenario: costMs,
      roundTripsPerScenario: round(roundTrips, 2),
      aloneWallMs: Object.fromEntries(o.rtt.map((rtt) => [String(rtt), round(alone(rtt, g.id).phases.scenariosMs, 0)])),
    };
  });
  /** The family on all gateways at once against the slowest of them alone (which bounds it) and against the fastest. */
  const together_ = o.rtt.map((rtt) => {
    const all = median(togetherRuns(rtt).map((r) => r.phases.scenariosMs))!;
    const walls = gateways.map((g) => alone(rtt, g.id).phases.scenariosMs);
    return { rttMs: rtt, wallMs: round(all, 0), slowestAloneMs: round(Math.max(...walls), 0), fastestAloneMs: round(Math.min(...walls), 0), ratio: round(all / Math.max(...walls), 2), ratioToFastest: round(all / Math.min(...walls), 2) };
  });
  const atLongest = together_[together_.length - 1]!;
  const togetherRatio = gateways.length > 1 ? atLongest.ratio : undefined;
  const cpu = o.rtt.map((rtt) => {
    const rs = togetherRuns(rtt);
    const each = rs.map((r) => (r.harnessRunPhaseCpuMs === undefined ? undefined : r.harnessRunPhaseCpuMs / r.scenariosRun));
    const measured = each.filter((v): v is number => v !== undefined);
    return { rttMs: rtt, scenarios: rs[0]!.scenariosRun, perScenarioMs: round(median(measured), 1), eachRunMs: each.map((v) => round(v, 1)) };
  });
  // Checked over the WAN range the lab has (up to 100 ms): at longer round trips the same work
  // costs more per scenario (the process sleeps between events, and a run's fixed costs are spread
  // over fewer scenarios per second), which more gateways, keeping it busy, do not multiply.
  const checked = cpu.filter((c) => c.rttMs <= CHECKED_RTT_MS);
  const worstCpu = Math.max(...(checked.length ? checked : cpu).map((c) => c.perScenarioMs ?? Infinity));
  const targets = [
    ...perGateway.map((g) => ({
      target: g.limit !== undefined ? `${g.id} (${g.mode}): sequential round trips per scenario <= ${g.limit}` : `${g.id} (${g.mode}, reverse tunnel): sequential round trips per scenario (no target: ${g.note})`,
      value: g.roundTripsPerScenario,
      met: g.limit === undefined ? undefined : g.roundTripsPerScenario !== undefined && g.roundTripsPerScenario <= g.limit,
    })),
    ...(togetherRatio !== undefined
      ? [{ target: `${gateways.length} gateways together <= ${TARGETS.togetherRatio} x the slowest alone (${o.scenario} at ${last} ms)`, value: togetherRatio, met: togetherRatio <= TARGETS.togetherRatio }]
      : []),
    { target: `harness CPU per gateway scenario <= ${TARGETS.harnessCpuMsPerScenario} ms (${gateways.length > 1 ? `all gateways at once, median of ${o.cpuRuns} runs` : 'one run'}, round trips up to ${CHECKED_RTT_MS} ms)`, value: round(worstCpu, 1), met: worstCpu <= TARGETS.harnessCpuMsPerScenario },
  ];
  return {
    format: 1,
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model.trim(), node: process.version, loadavgAtEnd: loadavg() },
    family: o.scenario,
    rttMs: o.rtt,
    how: 'each gateway behind an in-process TCP proxy delaying every chunk by rtt/2 each way; per-scenario cost = mean durationMs of the gateway\'s scenarios in its run alone; round trips = least-squares slope of that cost over the rtts; together = run phase (connect, scenarios, restore) of the all-gateways run (median of its runs) / that of the slowest gateway alone; harness CPU = the harness process\'s CPU in the run phase of an all-gateways run / scenarios run, the median of cpuRuns runs at each round trip up to 100 ms',
    gateways: perGateway,
    together: together_,
    harnessCpu: cpu,
    runs: runs.map((r) => ({ rttMs: r.rttMs, targets: r.only ? [r.only] : gateways.map((g) => g.id), command: r.run.command, wallMs: round(r.run.wallMs, 0), scenariosMs: round(r.run.phases.scenariosMs, 0), scenariosRun: r.run.scenariosRun, summary: r.run.summary, exitCode: r.run.exitCode, log: r.run.log })),
    targets,
  };
}

type LabReport = ReturnType<typeof analyse>;

/** Least-squares slope of y over x. */
export function slope(points: Array<{ x: number; y: number }>): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
}

function print(r: LabReport): void {
  log('');
  const header = ['gateway', 'mode', 'scenarios', ...r.rttMs.map((t) => `ms/scen. @${t}`), 'round trips', ...r.rttMs.map((t) => `alone s @${t}`)];
  const rows = r.gateways.map((g) => [
    g.id, `${g.mode}${g.tunnel ? '+tunnel' : ''}`, String(g.scenarios), ...r.rttMs.map((t) => fmt(g.costMsPerScenario[String(t)], 0)), fmt(g.roundTripsPerScenario, 2),
    ...r.rttMs.map((t) => fmt((g.aloneWallMs[String(t)] ?? NaN) / 1000, 1)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log(line(header));
  for (const row of rows) log(line(row));
  for (const t of r.together) {
    log(`together at ${t.rttMs} ms: ${fmt((t.wallMs ?? NaN) / 1000, 1)} s for the family on all gateways; alone the slowest ${fmt((t.slowestAloneMs ?? NaN) / 1000, 1)} s, the fastest ${fmt((t.fastestAloneMs ?? NaN) / 1000, 1)} s (ratio ${fmt(t.ratio, 2)} to the slowest, ${fmt(t.ratioToFastest, 2)} to the fastest)`);
  }
  log(`harness CPU per gateway scenario: ${r.harnessCpu.map((c) => `${fmt(c.perScenarioMs, 1)} ms at ${c.rttMs} ms${c.eachRunMs.length > 1 ? ` (runs ${c.eachRunMs.map((v) => fmt(v, 1)).join(', ')})` : ''}`).join(', ')}`);
  for (const g of r.gateways) if (g.note) log(`  ${g.id}: ${g.note}`);
  log('\ntargets:');
  for (const t of r.targets) log(`  ${t.met === undefined ? 'info   ' : t.met ? 'met    ' : 'NOT met'}  ${t.target}: ${String(t.value)}`);
}

/** reports/bench.json keeps what `npm run bench` wrote; the lab's figures go under "lab". */
async function mergeIntoBenchJson(out: string, lab: LabReport): Promise<string> {
  const file = join(out, 'bench.json');
  const existing = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({}));
  await mkdir(out, { recursive: true });
  await writeFile(file, `${JSON.stringify({ ...existing, lab }, null, 2)}\n`);
  return file;
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}
