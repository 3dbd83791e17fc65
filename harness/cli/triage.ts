import { resolve } from 'node:path';
import { warningLinesAsKnown } from '../ems/warnings.ts';
import { readResultsFile } from '../report/results.ts';
import { triage, triageText } from '../report/triage.ts';
import { catching } from './report-step.ts';

// `conformance triage --results FILE`: a run's EMS lines no error-map entry matched, grouped by
// shape, and the inventory errorMap entries that matched nothing (docs/target-profiles.md).

export async function triageCommand(o: { results: string; json?: boolean }): Promise<void> {
  const doc = await catching(() => readResultsFile(resolve(o.results)));
  if (!doc) return;
  // A results.json of an older harness has no triage of its own: make it from its results.
  const t = doc.run.triage ?? triage(doc.results, doc.run.targets.map((x) => ({ id: x.id, errorMap: [...(x.errorMap ?? []), ...warningLinesAsKnown(x)] })));
  if (o.json) console.log(JSON.stringify(t, null, 2));
  else console.log(triageText(t).join('\n') || 'triage: every EMS error line of the refused and HANG results matched an error-map entry; no unused errorMap entries');
}
