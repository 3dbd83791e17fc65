import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { commonTokens, declareClassPlugin, PluginKind, tokens } from '@stryker-mutator/api/plugin';
import type { MutantCoverage, StrykerOptions } from '@stryker-mutator/api/core';
import type { Logger } from '@stryker-mutator/api/logging';
import {
  determineHitLimitReached, DryRunStatus, MutantRunStatus, TestStatus, toMutantRunResult,
  type DryRunOptions, type DryRunResult, type MutantRunOptions, type MutantRunResult, type TestResult, type TestRunner,
} from '@stryker-mutator/api/test-runner';
import Mocha from 'mocha';

// A StrykerJS test runner for mocha 12 in this process (test/mutation/core.ts starts it with tsx).
// Stryker's own mocha runner needs StrykerJS 10, which needs Node 22, or its 9.x line, which cannot
// load mocha 12 (its CLI helpers became .cjs files): this one uses only mocha's public API.
//
// The test files are imported once (ES modules cannot be unloaded); each mutant run re-runs the
// same suites with the mutant switched on through the instrumenter's global (mutant schemata).
// A static mutant (one that acts while a module loads) is run by Stryker in a fresh process, and
// is switched on before the files are imported. Per-test coverage: a root beforeEach tells the
// instrumenter which test runs.

/** The instrumenter's state, on globalThis under Stryker's namespace. */
interface InstrumenterContext {
  activeMutant?: string;
  currentTestId?: string;
  mutantCoverage?: MutantCoverage;
  hitCount?: number;
  hitLimit?: number;
}

/**
 * The test files to run, relative to the sandbox (Stryker's working directory), and a regular
 * expression for the full titles of tests to leave out (those that start the CLI or a whole run:
 * their child processes run the code without the mutant, so they only cost time).
 */
interface MochaFilesOptions {
  mochaFiles?: { spec: string[]; exclude?: string };
}

const NAMESPACE = '__stryker__';

export class Mocha12Runner implements TestRunner {
  static inject = tokens(commonTokens.logger, commonTokens.options);
  readonly #context: InstrumenterContext;
  #mocha?: Mocha;
  #loaded = false;
  #setTestId?: (id: string | undefined) => void;
  /** Every test but the excluded ones. */
  #all: RegExp = /.*/;

  constructor(
    private readonly log: Logger,
    private readonly options: StrykerOptions & MochaFilesOptions,
  ) {
    const g = globalThis as unknown as Record<string, InstrumenterContext | undefined>;
    this.#context = g[NAMESPACE] ??= {};
  }

  capabilities() {
    // Imported test files cannot be loaded again: a static mutant needs a new process. With
    // ignoreStatic, Stryker runs no static mutant, and a hybrid one (acting at load and in tests)
    // only as a runtime mutant on the tests that cover it, yet still asks for a reload (a new
    // process each, StrykerJS 9.6): nothing loaded needs one then.
    return { reloadEnvironment: this.options.ignoreStatic };
  }

  async init(): Promise<void> {
    const spec = this.options.mochaFiles?.spec;
    if (!spec?.length) throw new Error('mochaFiles.spec: no test files given to the mocha 12 runner');
    const exclude = this.options.mochaFiles?.exclude;
    if (exclude) this.#all = new RegExp(`^(?!.*(?:${exclude}))`);
    const mocha = new Mocha({ timeout: 0, reporter: collectingReporter() });
    mocha.grep(this.#all);
    mocha.cleanReferencesAfterRun(false);
    for (const file of spec) mocha.addFile(resolve(file));
    const runner = this;
    mocha.suite.beforeEach(function () {
      runner.#setTestId?.(this.currentTest?.fullTitle());
    });
    this.#mocha = mocha;
  }

  async dryRun(o: DryRunOptions): Promise<DryRunResult> {
    if (o.coverageAnalysis === 'perTest') this.#setTestId = (id) => (this.#context.currentTestId = id);
    try {
      const result = await this.#run(o.disableBail);
      if (result.status === DryRunStatus.Complete && o.coverageAnalysis !== 'off') result.mutantCoverage = this.#context.mutantCoverage;
      return result;
    } finally {
      this.#setTestId = undefined;
    }
  }

  async mutantRun(o: MutantRunOptions): Promise<MutantRunResult> {
    if (o.reloadEnvironment && o.mutantActivation === 'static' && this.#loaded) {
      return { status: MutantRunStatus.Error, errorMessage: `mutant ${o.activeMutant.id} acts at load time: the mocha 12 runner cannot reload the test files (run without ignoreStatic)` };
    }
    this.#context.hitLimit = o.hitLimit;
    this.#context.hitCount = o.hitLimit ? 0 : undefined;
    const mocha = this.#mocha!;
    // Only the tests that cover the mutant (per-test coverage), by their full titles.
    if (o.testFilter) mocha.grep(new RegExp(o.testFilter.map((id) => `(^${escapeRegExp(id)}$)`).join('|')));
    else mocha.grep(this.#all);
    return toMutantRunResult(await this.#run(o.disableBail, o.activeMutant.id, o.mutantActivation, o.sandboxFileName));
  }

  async dispose(): Promise<void> {
    try {
      this.#mocha?.dispose();
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_MOCHA_INSTANCE_ALREADY_RUNNING') throw e;
    }
  }

  async #run(disableBail: boolean, activeMutant?: string, activation?: MutantRunOptions['mutantActivation'], mutated?: string): Promise<DryRunResult> {
    const mocha = this.#mocha!;
    setBail(mocha.suite, !disableBail);
    try {
      if (!this.#loaded) {
        this.#context.activeMutant = activation === 'static' ? activeMutant : undefined;
        // A static mutant runs every test, in a process of its own: only the files that import
        // the mutated module (directly or not) can see it, so only those are loaded.
        if (activation === 'static' && mutated) mocha.files = mocha.files.filter((f) => reaches(f, resolve(mutated)));
        await mocha.loadFilesAsync();
        this.#loaded = true;
      }
      this.#context.activeMutant = activeMutant;
      const tests = await new Promise<TestResult[]>((done) => {
        const collected: TestResult[] = [];
        collecting = collected;
        mocha.run(() => done(collected));
      });
      const hitLimit = determineHitLimitReached(this.#context.hitCount, this.#context.hitLimit);
      return hitLimit ?? { status: DryRunStatus.Complete, tests };
    } catch (e) {
      // A static mutant that breaks loading the tests: Stryker counts it as a runtime error (not in the score), as with its own runner.
      this.log.debug(`mocha 12 runner: ${(e as Error).stack ?? String(e)}`);
      return { status: DryRunStatus.Error, errorMessage: (e as Error).stack ?? String(e) };
    }
  }
}

/** The relative modules each file imports (statically, re-exports and dynamic imports of a literal too). */
const importsOf = new Map<string, string[]>();

/** Whether `file` imports `target`, directly or through other files of the repository. */
function reaches(file: string, target: string, seen = new Set<string>()): boolean {
  if (file === target) return true;
  if (seen.has(file)) return false;
  seen.add(file);
  let imports = importsOf.get(file);
  if (!imports) {
    const text = readFileSync(file, 'utf8');
    imports = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => resolve(dirname(file), m[1]!));
    importsOf.set(file, imports);
  }
  return imports.some((i) => existsSync(i) && reaches(i, target, seen));
}

/** Where the reporter of the current run puts its results. */
let collecting: TestResult[] = [];

/** A mocha reporter that records each test's outcome for Stryker (and prints nothing). */
function collectingReporter() {
  const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;
  return class Collecting extends Mocha.reporters.Base {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
      super(runner, options);
      const base = (t: Mocha.Test) => ({ id: t.fullTitle(), name: t.fullTitle(), timeSpentMs: t.duration ?? 0, ...(t.file ? { fileName: t.file } : {}) });
      runner.on(EVENT_TEST_PASS, (t: Mocha.Test) => collecting.push({ ...base(t), status: TestStatus.Success }));
      runner.on(EVENT_TEST_FAIL, (t: Mocha.Test, err: Error) => collecting.push({ ...base(t), status: TestStatus.Failed, failureMessage: err?.message ?? String(err) }));
      runner.on(EVENT_TEST_PENDING, (t: Mocha.Test) => collecting.push({ ...base(t), status: TestStatus.Skipped }));
    }
  };
}

function setBail(suite: Mocha.Suite, bail: boolean): void {
  suite.bail(bail);
  suite.suites.forEach((s) => setBail(s, bail));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, 'mocha12', Mocha12Runner)];

/** The runner's own option, so that Stryker validates it instead of warning about an unknown one. */
export const strykerValidationSchema = {
  properties: {
    mochaFiles: {
      type: 'object',
      properties: { spec: { type: 'array', items: { type: 'string' } }, exclude: { type: 'string' } },
      required: ['spec'],
      additionalProperties: false,
    },
  },
};
