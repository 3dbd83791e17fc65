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
      // A merged run's inputs may each have had an inventory of their own.
      redactor: await reportRedactor((await Promise.all([...new Set([doc.run.inventory, ...(doc.run.merged ?? []).map((m) => m.inventory)])].map((f) => deps.inventorySecrets(f)))).flat()),
    };
  });
  if (inputs) process.exitCode = await report(inputs.doc, resolve(o.reports ?? dirname(o.results)), inputs.expectations, o, { redactor: inputs.redactor, ...(inputs.baseline ? { baseline: inputs.baseline } : {}) });
}
