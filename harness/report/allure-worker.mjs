import { text } from 'node:stream/consumers';

// The Allure report generator's own process (started by harness/report/allure-generate.ts). It
// loads Allure 3's report engine at once, so that this overlaps the run, then reads one JSON job
// from stdin, { resultsDir, configFile, cwd }, and writes the report. An empty stdin (the run
// ended without a report) ends it quietly. Plain JavaScript: no TypeScript loader to start here.

const core = import('@allurereport/core');
const job = (await text(process.stdin)).trim();
if (job) {
  try {
    const { resultsDir, configFile, cwd } = JSON.parse(job);
    const { AllureReport, readConfig } = await core;
    const report = new AllureReport(await readConfig(cwd, configFile));
    await report.start();
    await report.readDirectory(resultsDir);
    await report.done();
  } catch (err) {
    // One line the harness shows as the reason (a stack would push it out of the tail it keeps).
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
