import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Stryker } from '@stryker-mutator/core';
import type { MutantResult, PartialStrykerOptions } from '@stryker-mutator/api/core';

// `npm run mutation:core`: StrykerJS over the harness's pure decision modules, with the unit tests
// that judge them (docs/testing.md "Mutation testing"). Prints the score per module and in all,
// lists every surviving mutant, and exits 1 when the score is below the threshold (85 %).
//
//   npm run mutation:core                                   the core modules, the core tests
//   npm run mutation:core -- harness/report/gates.ts        only these modules
//   npm run mutation:core -- --tests test/report-gates.test.ts harness/report/gates.ts
//   npm run mutation:core -- --threshold 90 --concurrency 1 --incremental
//   npm run mutation:core -- --static                       static mutants too (an hour)

/** The modules that decide: verdicts, the error map, expectations, divergences, gates, redaction, the writers, the diff, the secret-leak search. */
export const CORE_MODULES = [
  'harness/scenario/verdict.ts',
  'harness/scenario/verdict-watch.ts',
  'harness/ems/error-map.ts',
  'harness/scenario/model.ts',
  'harness/report/divergences.ts',
  'harness/report/gates.ts',
  'harness/report/redact.ts',
  'harness/report/results.ts',
  'harness/report/junit.ts',
  'harness/report/matrix.ts',
  'harness/report/diff.ts',
  'harness/ems/secret-leaks.ts',
  'harness/scenario/secret-checks.ts',
];

/** The tests that judge them: in-process and quick (every mutant runs the ones that reach it). */
export const CORE_TESTS = [
  'test/verdict.test.ts',
  'test/verdict-rules.test.ts',
  'test/verdict-watch.test.ts',
  'test/transcripts.test.ts',
  'test/error-map.test.ts',
  'test/scenario-model.test.ts',
  'test/expectation-variants.test.ts',
  'test/report-divergences.test.ts',
  'test/report-gates.test.ts',
  'test/report-junit.test.ts',
  'test/report-golden.test.ts',
  'test/report-matrix.test.ts',
  'test/report-weak.test.ts',
  'test/redact.test.ts',
  'test/results-file.test.ts',
  'test/shard-merge-diff-units.test.ts',
  'test/secret-checks.test.ts',
];

/** Full titles of tests in those files that start the CLI or a whole run: their processes never see the mutant. */
export const EXCLUDED_TESTS = String.raw`on a saved run \(CLI\)|known divergences in the main job`;

const DEFAULT_THRESHOLD = 85;
const REPORT_DIR = 'reports/mutation-core';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tests: { type: 'string', multiple: true },
    threshold: { type: 'string' },
    concurrency: { type: 'string' },
    incremental: { type: 'boolean', default: false },
    static: { type: 'boolean', default: false },
  },
});
const modules = positionals.length ? positionals : CORE_MODULES;
const tests = values.tests?.flatMap((t) => t.split(',')) ?? CORE_TESTS;
const threshold = values.threshold === undefined ? DEFAULT_THRESHOLD : Number(values.threshold);
if (!(threshold >= 0 && threshold <= 100)) usage(`--threshold ${values.threshold}: a percentage from 0 to 100`);
const concurrency = values.concurrency === undefined ? Math.max(1, availableParallelism()) : Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) usage(`--concurrency ${values.concurrency}: a whole number of at least 1`);

const absent = [...modules, ...tests].filter((f) => !existsSync(f));
if (absent.length) usage(`no such file: ${absent.join(', ')} (run from the repository root)`);

const options: PartialStrykerOptions = {
  mutate: modules,
  testRunner: 'mocha12',
  plugins: ['./test/mutation/mocha-runner.ts'],
  // Every process Stryker starts loads TypeScript (this runner, the instrumented modules, the tests) through tsx.
  testRunnerNodeArgs: ['--import', 'tsx'],
  checkerNodeArgs: ['--import', 'tsx'],
  coverageAnalysis: 'perTest',
  // A static mutant (in a module-level table or schema, run while the module loads) needs a fresh
  // process and every test: about 4 s each here, an hour for all of them. Left out of the score
  // unless --static (docs/testing.md "Mutation testing" has the figures of both).
  ignoreStatic: !values.static,
  concurrency,
  timeoutMS: 10_000,
  reporters: ['progress-append-only', 'json', 'html'],
  logLevel: process.env.STRYKER_LOG_LEVEL ?? 'info',
  jsonReporter: { fileName: `${REPORT_DIR}/mutation.json` },
  htmlReporter: { fileName: `${REPORT_DIR}/mutation.html` },
  incremental: values.incremental,
  incrementalFile: `${REPORT_DIR}/incremental.json`,
  tempDirName: '.stryker-tmp',
  // Stryker rewrites the sandbox's tsconfig.json through TypeScript's JS API, which TypeScript 7
  // (the native compiler) has not; ours has no references or extends to rewrite: name none.
  tsconfigFile: 'no-tsconfig-to-rewrite.json',
  cleanTempDir: 'always',
  // The sandbox is a copy of the repository: not the generated trees a run or a build leaves.
  ignorePatterns: ['reports', 'targets/lab/state', 'targets/simulator/dist', '.git'],
  thresholds: { high: 95, low: threshold, break: null },
  mochaFiles: { spec: tests, exclude: EXCLUDED_TESTS },
} as PartialStrykerOptions;

const started = performance.now();
const results = await new Stryker(options).runMutationTest();
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const summary = summarise(results, modules);
await mkdir(REPORT_DIR, { recursive: true });
await writeFile(join(REPORT_DIR, 'survivors.txt'), summary.survivors.join('\n') + (summary.survivors.length ? '\n' : ''));
console.log(summary.table);
console.log(summary.survivors.length ? `\nSurviving mutants (${summary.survivors.length}, also in ${REPORT_DIR}/survivors.txt):\n${summary.survivors.join('\n')}` : '\nNo surviving mutants.');
console.log(`\nmutation score ${summary.score.toFixed(2)}% over ${modules.length} modules (threshold ${threshold}%), ${minutes} min; report: ${REPORT_DIR}/mutation.html`);
if (summary.score < threshold) {
  console.error(`mutation:core: the score ${summary.score.toFixed(2)}% is below ${threshold}%`);
  process.exitCode = 1;
}

interface Counts { killed: number; timeout: number; survived: number; noCoverage: number; errors: number; ignored: number }

/** Stryker's definition: detected (killed, timed out) ÷ (detected + survived + no coverage); errors and ignored do not count. */
function score(c: Counts): number {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid ? ((c.killed + c.timeout) / valid) * 100 : 100;
}

function summarise(all: MutantResult[], files: string[]): { table: string; score: number; survivors: string[] } {
  const empty = (): Counts => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0, ignored: 0 });
  const byFile = new Map<string, Counts>(files.map((f) => [f, empty()]));
  const total = empty();
  const survivors: string[] = [];
  for (const m of all) {
    const file = relative(process.cwd(), m.fileName);
    const c = byFile.get(file) ?? byFile.set(file, empty()).get(file)!;
    for (const counts of [c, total]) {
      if (m.status === 'Killed') counts.killed++;
      else if (m.status === 'Timeout') counts.timeout++;
      else if (m.status === 'Survived') counts.survived++;
      else if (m.status === 'NoCoverage') counts.noCoverage++;
      else if (m.status === 'Ignored') counts.ignored++;
      else counts.errors++;
    }
    if (m.status === 'Survived' || m.status === 'NoCoverage') {
      const at = `${file}:${m.location.start.line}:${m.location.start.column + 1}`;
      survivors.push(`${at} ${m.mutatorName}${m.status === 'NoCoverage' ? ' (no test reaches it)' : ''}: ${oneLine(m.replacement ?? '')}`);
    }
  }
  const row = (name: string, c: Counts) => [name, c.killed, c.timeout, c.survived, c.noCoverage, c.errors, c.ignored, `${score(c).toFixed(2)}%`];
  const rows = [...[...byFile].map(([f, c]) => row(f, c)), row('all', total)];
  const head = ['module', 'killed', 'timeout', 'survived', 'no cover', 'errors', 'static (ignored)', 'score'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r: Array<string | number>) => r.map((x, i) => (i ? String(x).padStart(widths[i]!) : String(x).padEnd(widths[i]!))).join('  ');
  return { table: ['', line(head), ...rows.map(line)].join('\n'), score: score(total), survivors };
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

function usage(message: string): never {
  console.error(`mutation:core: ${message}`);
  process.exit(2);
}
