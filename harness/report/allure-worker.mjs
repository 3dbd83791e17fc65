import { createInterface } from 'node:readline';

// The Allure report generator's own process (started by harness/report/allure-generate.ts). It
// loads Allure 3's report engine at once, so that this overlaps the run, then follows JSON lines
// on stdin:
//   { begin: config }                a report with that Allure 3 configuration (again: a new one)
//   { read: file }                   one results file, read into it now
//   { finish: { resultsDir? } }      read that whole directory first, if given; write the report; end
// A stdin that ends without finish (the run ended without a report) ends it quietly. Plain
// JavaScript: no TypeScript loader to start here.

const core = import('@allurereport/core');
let report;
let reading = Promise.resolve();
try {
  for await (const line of createInterface({ input: process.stdin })) {
    const msg = JSON.parse(line);
    if (msg.begin) {
      const { AllureReport, resolveConfig } = await core;
      const next = new AllureReport(await resolveConfig(msg.begin));
      await next.start();
      report = next;
      reading = Promise.resolve();
    } else if (msg.read) {
      const into = report;
      reading = reading.then(() => into.readFile(msg.read));
    } else if (msg.finish) {
      await reading;
      if (msg.finish.resultsDir) await report.readDirectory(msg.finish.resultsDir);
      await report.done();
      break;
    }
  }
} catch (err) {
  // One line the harness shows as the reason (a stack would push it out of the tail it keeps).
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
