import AllureMochaReporter from 'allure-mocha';
import Mocha from 'mocha';
import { fileURLToPath } from 'node:url';
import { ResultsWriter, type ResultsWriterHooks } from '../report/allure-writer.ts';

// Runs the conformance suite through mocha in this process, with allure-mocha writing
// allure-results (serial mode: its parallel mode writes nothing under mocha 12).

const SPEC = fileURLToPath(new URL('./conformance.spec.ts', import.meta.url));

/** `spec: false`: no spec reporter on the console (a live progress block has the terminal). */
export async function runConformanceSuite(opts: { allureResultsDir: string; writer?: ResultsWriterHooks; spec?: boolean }): Promise<number> {
  const mocha = new Mocha({
    // The class, not its name: mocha would require() it by name, another copy than this process's.
    reporter: AllureMochaReporter as unknown as Mocha.ReporterConstructor,
    reporterOptions: { resultsDir: opts.allureResultsDir, ...(opts.spec === false ? {} : { extraReporters: 'spec' }), writer: new ResultsWriter(opts.allureResultsDir, opts.writer) },
    timeout: 0,
  });
  // The spec is imported here, not by mocha.loadFilesAsync: mocha require()s a .ts file first and,
  // when the import that follows fails too, reports require()'s error (tsx compiling the spec to
  // CommonJS: "Top-level await is currently not supported…") instead of the spec's own.
  const { EVENT_FILE_PRE_REQUIRE, EVENT_FILE_REQUIRE, EVENT_FILE_POST_REQUIRE } = Mocha.Suite.constants;
  mocha.suite.emit(EVENT_FILE_PRE_REQUIRE, globalThis, SPEC, mocha);
  mocha.suite.emit(EVENT_FILE_REQUIRE, await import('./conformance.spec.ts'), SPEC, mocha);
  mocha.suite.emit(EVENT_FILE_POST_REQUIRE, globalThis, SPEC, mocha);
  return new Promise((resolve) => mocha.run((failures) => resolve(failures)));
}
