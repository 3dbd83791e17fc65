import { dirname, resolve } from 'node:path';
import { loadExpectations } from '../report/divergences.ts';
import { readResultsFile } from '../report/results.ts';
import { reportRedactor } from '../report/write.ts';
import type { ReportFlags } from './options.ts';
import { catching, readBaseline, report } from './report-step.ts';

// `conformance report --results FILE`: the reports again from a saved results.json, with today's
// divergence lists, gates and baseline.

export async function reportCommand(o: { results: string; reports?: string } & ReportFlags, deps: { inventorySecrets(file: string): Promise<Array<string | undefined>> }): Promise<void> {
  const inputs = await catching(async () => {
    const doc = await readResultsFile(resolve(o.results));
    return {
      doc,
      expectations: await loadExpectations(resolve(o.expectations), doc.run.targets.map((t) => t.id)),
      baseline: await readBaseline(o),
      redactor: await reportRedactor(await deps.inventorySecrets(doc.run.inventory)),
    };
  });
  if (inputs) process.exitCode = await report(inputs.doc, resolve(o.reports ?? dirname(o.results)), inputs.expectations, o, { redactor: inputs.redactor, ...(inputs.baseline ? { baseline: inputs.baseline } : {}) });
}
