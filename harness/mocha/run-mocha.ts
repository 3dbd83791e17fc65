import Mocha from 'mocha';
import { fileURLToPath } from 'node:url';
import { ResultsWriter, type ResultsWriterHooks } from '../report/allure-writer.ts';

// Runs the conformance suite through mocha in this process, with allure-mocha writing
// allure-results (serial mode: its parallel mode writes nothing under mocha 12).

const SPEC = fileURLToPath(new URL('./conformance.spec.ts', import.meta.url));

/** `spec: false`: no spec reporter on the console (a live progress block has the terminal). */
export async function runConformanceSuite(opts: { allureResultsDir: string; writer?: ResultsWriterHooks; spec?: boolean }): Promise<number> {
  const mocha = new Mocha({
    reporter: 'allure-mocha',
    reporterOptions: { resultsDir: opts.allureResultsDir, ...(opts.spec === false ? {} : { extraReporters: 'spec' }), writer: new ResultsWriter(opts.allureResultsDir, opts.writer) },
    timeout: 0,
  });
  mocha.addFile(SPEC);
  await mocha.loadFilesAsync();
  return new Promise((resolve) => mocha.run((failures) => resolve(failures)));
}
