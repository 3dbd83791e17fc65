import { dirname, join, resolve } from 'node:path';
import { loadExpectations } from '../report/divergences.ts';
import { mergeAllureResults, mergeRuns } from '../report/merge.ts';
import { readResultsFile } from '../report/results.ts';
import { reportRedactor } from '../report/write.ts';
import { catalogueIds } from '../scenario/selection.ts';
import { loadFamilies } from '../scenario/families.ts';
import type { ReportFlags } from './options.ts';
import { catching, readBaseline, report } from './report-step.ts';

// `conformance merge A/results.json B/results.json … --reports DIR`: shards or several harness
// hosts' runs as one (harness/report/merge.ts), then the report step over the whole.

export interface MergeDeps {
  /** The secrets an inventory points at (the composition root reads them; harness/ does not import targets/). */
  inventorySecrets(file: string): Promise<Array<string | undefined>>;
}

export async function mergeCommand(files: string[], o: { reports: string } & ReportFlags, deps: MergeDeps): Promise<void> {
  const reports = resolve(o.reports);
  const planned = await catching(async () => {
    const inputs = [];
    for (const f of files.map((x) => resolve(x))) {
      if (dirname(f) === reports) throw new Error(`--reports ${o.reports} is where ${f} is: the merged reports would overwrite an input; name another directory`);
      inputs.push({ file: f, doc: await readResultsFile(f) });
    }
    const doc = mergeRuns(inputs, catalogueIds(await loadFamilies()));
    const secrets = (await Promise.all([...new Set(inputs.map((i) => i.doc.run.inventory))].map((inv) => deps.inventorySecrets(inv)))).flat();
    return {
      inputs,
      doc,
      expectations: await loadExpectations(resolve(o.expectations), doc.run.targets.map((t) => t.id)),
      baseline: await readBaseline(o),
      redactor: await reportRedactor(secrets),
    };
  });
  if (!planned) return;
  const { inputs, doc } = planned;
  console.error(`conformance merge: ${inputs.length} runs, ${doc.results.length} results on ${doc.run.targets.map((t) => t.id).join(', ')}`);
  const missing = await catching(() => mergeAllureResults(inputs, join(reports, 'allure-results')));
  if (missing) console.error(`  the merged Allure report needs every input's allure-results: ${missing}`);
  process.exitCode = await report(doc, reports, planned.expectations, o, { redactor: planned.redactor, ...(planned.baseline ? { baseline: planned.baseline } : {}) });
}
