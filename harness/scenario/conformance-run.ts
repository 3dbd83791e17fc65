import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { closeSharedEndpoints } from '../endpoints/start.ts';
import { loadCatalogue } from '../pki/build.ts';
import type { Catalogue } from '../pki/catalogue.ts';
import { Redactor } from '../report/redact.ts';
import { RESULTS_FORMAT, summarise, writeResults, type ResultsFile, type TargetInfo } from '../report/results.ts';
import { triage } from '../report/triage.ts';
import { warningLinesAsKnown } from '../ems/warnings.ts';
import { DEFAULT_FIPS_POLICY } from './fips-policy.ts';
import type { Target } from './target.ts';
import { loadFamilies, SANITY_ID } from './families.ts';
import { membersOf, type Family, type Scenario } from './model.ts';
import { runScenario, type ScenarioResult } from './run.ts';
import { checkPrefixes, selected } from './selection.ts';
import { caseKey, shardCases, type Shard } from './shard.ts';

// A whole run: every family × every target, the sanity gate first on each target, at most
// `jobs` scenarios at once. Results come back per scenario as promises (for the mocha adapter)
// and all together, in catalogue order whatever the completion order, in results.json.

export interface RunOptions {
  /** The drivers, built by the composition root (harness/cli.ts, harness/mocha/) from the inventory. */
  targets: Target[];
  /** The inventory file they came from, recorded in results.json. */
  inventory: string;
  /** Only scenarios whose id starts with one of these (the sanity scenario always runs); a prefix that matches nothing is an error. */
  scenarios?: string[];
  /** Only the cases this accepts (the sanity scenario always runs): a run that asks each target something else (the mutation test). */
  select?: (scenarioId: string, targetId: string) => boolean;
  /** Only this part of the cases (the sanity scenario runs in every shard), balanced by `durations` (ms per caseKey) when given. */
  shard?: Shard;
  durations?: ReadonlyMap<string, number>;
  jobs?: number;
  reportsDir: string;
  onResult?: (r: ScenarioResult, done: number, total: number) => void;
}

export interface PlannedCase {
  family: Family;
  scenario: Scenario | { id: string; invalid: string };
  target: Target;
}

export class ConformanceRun {
  readonly cases: PlannedCase[];
  readonly #results = new Map<string, Promise<ScenarioResult>>();
  readonly #redactor = new Redactor();
  readonly #startedAt = new Date();
  #catalogue?: Promise<Catalogue>;
  #done = 0;

  private constructor(
    readonly families: Family[],
    readonly targets: Target[],
    readonly opts: RunOptions & { jobs: number },
  ) {
    if (!families.some((f) => f.scenarios.some((s) => s.id === SANITY_ID))) throw new Error(`no sanity scenario "${SANITY_ID}" in the catalogue`);
    checkPrefixes(families, opts.scenarios);
    const all = targets.flatMap((target) =>
      families.flatMap((family) => [
        ...family.scenarios.map((scenario) => ({ family, scenario, target })),
        ...family.invalid.map((inv) => ({ family, scenario: { id: inv.id, invalid: inv.error }, target })),
      ]),
    ).filter((c) => selected(c.scenario.id, opts.scenarios) && (c.scenario.id === SANITY_ID || (opts.select?.(c.scenario.id, c.target.id) ?? true)));
    this.cases = opts.shard
      ? shardCases(all, opts.shard, (c) => caseKey(c.scenario.id, c.target.id), (c) => c.scenario.id === SANITY_ID, opts.durations)
      : all;
  }

  static async prepare(opts: RunOptions): Promise<ConformanceRun> {
    return new ConformanceRun(await loadFamilies(), opts.targets, { ...opts, jobs: Math.max(1, opts.jobs ?? cpus().length) });
  }

  /** Schedules every case once; later calls return the same promises. */
  start(): void {
    if (this.#results.size) return;
    this.#catalogue = loadCatalogue().then((c) => {
      this.#redactor.add(...Object.values(c.secrets));
      return c;
    });
    // Targets run side by side; each at most its own concurrency (a gateway: one scenario), all at most --jobs.
    const global = limiter(this.opts.jobs);
    for (const target of this.targets) {
      this.#redactor.add(...(target.secrets ?? []));
      const own = limiter(Math.min(target.concurrency ?? this.opts.jobs, this.opts.jobs));
      // A scenario gives its --jobs place back once decided: stopping its EMS and cleaning up is
      // mostly waiting, and the next scenario can use the CPU meanwhile. The target's own place
      // (a gateway's one) is held to the end, its restore included.
      const slot: Limiter = (fn) => own(() => global(fn));
      // A target that cannot be reached or prepared: all its scenarios are BROKEN with the cause.
      const unusable = (target.connect?.() ?? Promise.resolve()).then(() => undefined, (e: Error) => `target ${target.id} unusable: ${e.message}`);
      const sanityCase = this.cases.find((c) => c.target === target && c.scenario.id === SANITY_ID)!;
      const gate = this.#schedule(sanityCase, slot, unusable);
      const gateReason = Promise.all([unusable, gate]).then(([down, r]) =>
        // The gate asks whether the EMS connected; a secret it logged on the way fails the scenario, not the gate.
        down ?? ((r.checks?.expectationStatus ?? r.status) === 'passed' ? undefined : `sanity gate: ${target.id} did not connect to the sanity endpoint: ${r.message ?? r.actual.because}`));
      const rest = this.cases.filter((c) => c.target === target && c !== sanityCase);
      // A defective EMS (mutation testing) said so at the gate: the cases it blocks carry the name too.
      const defect = gate.then((r) => r.injectedDefect);
      for (const c of [...rest.filter(startsSlow), ...rest.filter((c) => !startsSlow(c))]) this.#schedule(c, slot, gateReason, defect);
    }
  }

  result(family: string, scenarioId: string, targetId: string): Promise<ScenarioResult> {
    this.start();
    const p = this.#results.get(key(family, scenarioId, targetId));
    if (!p) throw new Error(`no case ${family}/${scenarioId} on ${targetId}`);
    return p;
  }

  /** Waits for every case, writes results.json, closes the targets and the endpoints' shared JVMs. */
  async finish(): Promise<ResultsFile> {
    this.start();
    const results = await Promise.all(this.cases.map((c) => this.result(c.family.name, c.scenario.id, c.target.id)));
    const closed = await Promise.allSettled([...this.targets.map((t) => t.close()), closeSharedEndpoints()]);
    // A target that could not be put back says so (its restore journal stays for `npm run restore`).
    for (const c of closed) if (c.status === 'rejected') console.error(`conformance: ${this.#redactor.text((c.reason as Error).message)}`);
    const finishedAt = new Date();
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    const doc: ResultsFile = {
      format: RESULTS_FORMAT,
      harness: { name: pkg.name, version: pkg.version, node: process.version },
      run: {
        startedAt: this.#startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - this.#startedAt.getTime(),
        jobs: this.opts.jobs,
        inventory: this.opts.inventory,
        targets: this.targets.map(targetInfo),
        ...(this.opts.shard ? { shard: this.opts.shard } : {}),
        summary: summarise(results),
        // Warning lines are known lines (LSR-WARN evidence): no errorMap entry is missing for them.
        triage: triage(results, this.targets.map((t) => ({ id: t.id, errorMap: [...t.profile.errorMap, ...warningLinesAsKnown(t.profile)] }))),
      },
      results,
    };
    await writeResults(this.opts.reportsDir, this.#redactor.value(doc));
    return doc;
  }

  #schedule(c: PlannedCase, slot: Limiter, gate: Promise<string | undefined>, defect?: Promise<string | undefined>): Promise<ScenarioResult> {
    const p = gate.then(async (blocked) => {
      const s = c.scenario;
      if ('invalid' in s) return notRun(c, s.invalid);
      const injected = await defect;
      if (blocked) return { ...notRun(c, blocked), ...(injected ? { injectedDefect: injected } : {}) };
      const catalogue = await this.#catalogue!;
      return slot((decided) => runScenario(c.family.name, s, c.target, { catalogue, redactor: this.#redactor, decided }));
    }).catch((e: Error) => notRun(c, `harness error: ${e.message}`)).then((r) => {
      this.opts.onResult?.(r, ++this.#done, this.cases.length);
      return r;
    });
    this.#results.set(key(c.family.name, c.scenario.id, c.target.id), p);
    return p;
  }
}

/** A target as results.json records it: its profile, the FIPS policy it was judged by, its own error-map entries. */
function targetInfo(t: Target): TargetInfo {
  const p = t.profile;
  const fipsPolicy = p.fipsPolicy ?? (p.capabilities.includes('fips') ? DEFAULT_FIPS_POLICY : undefined);
  const errorMap = p.errorMap.filter((e) => e.origin).map((e) => ({ pattern: e.pattern, class: e.class, origin: e.origin }));
  return {
    id: t.id, flavour: p.flavour, capabilities: p.capabilities,
    ...(p.emsVersion ? { emsVersion: p.emsVersion } : {}),
    ...(fipsPolicy ? { fipsPolicy } : {}),
    ...(errorMap.length ? { errorMap } : {}),
    ...(p.warningMap?.length ? { warningMap: p.warningMap } : {}),
  };
}

/** A broken result for a case that could not run (invalid scenario, failed gate, harness fault). */
function notRun(c: PlannedCase, because: string): ScenarioResult {
  const s = c.scenario;
  return {
    scenario: s.id,
    family: c.family.name,
    title: 'title' in s ? s.title : s.id,
    requirements: 'requirements' in s ? s.requirements : [],
    target: c.target.id,
    expected: 'expect' in s ? membersOf(s.expect)[0]! : { outcome: 'connects' },
    actual: { verdict: 'BROKEN', because, evidence: { observations: [], emsLog: [] } },
    status: 'broken',
    message: because,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    endedBy: 'not-run',
  };
}

/**
 * Scenarios on the Java 7 front run first: its JVM's first handshakes are slow (class loading,
 * C1 compiling), and a slow scenario at the end of a run leaves the other cores idle. The order of
 * results does not change (catalogue order).
 */
function startsSlow(c: PlannedCase): boolean {
  return !('invalid' in c.scenario) && c.scenario.endpoint.kind === 'jsse-java7';
}

function key(family: string, scenario: string, target: string): string {
  return `${family}\u0000${scenario}\u0000${target}`;
}

/** A task holds its place until it ends, or until it calls release() (then the next one starts). */
type Limiter = <T>(fn: (release: () => void) => Promise<T>) => Promise<T>;

/** At most n tasks at once, started in the order they asked. */
function limiter(n: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    if (active >= n) return;
    const run = queue.shift();
    if (run) {
      active++;
      run();
    }
  };
  return (fn) =>
    new Promise((resolve, reject) => {
      queue.push(() => {
        let held = true;
        const release = () => {
          if (!held) return;
          held = false;
          active--;
          next();
        };
        fn(release).then(resolve, reject).finally(release);
      });
      next();
    });
}
