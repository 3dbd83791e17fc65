import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { diffRuns } from '../harness/report/diff.ts';
import { junitXml } from '../harness/report/junit.ts';
import { buildMatrix, renderMatrixHtml, renderMatrixMd } from '../harness/report/matrix.ts';
import type { ResultsFile } from '../harness/report/results.ts';
import { smallRunReported } from './report-small-run.ts';

// The writers' whole output for a small run (test/report-small-run.ts: every outcome, a set,
// a fixed/changed/known divergence, triage, a baseline), byte for byte against files that were
// read by eye (test/fixtures/golden/). A change to a writer shows here as a diff to read: when it
// is meant, write the files again with
//   UPDATE_GOLDEN=1 npm run test:one -- test/report-golden.test.ts
// and read the diff before committing it.

const GOLDEN = (name: string) => fileURLToPath(new URL(`./fixtures/golden/${name}`, import.meta.url));

/** The baseline: the same run where client.ok was refused, cert.chain passed, and cert.paths and cert.valid did not exist. */
function baseline(): ResultsFile {
  const doc = smallRunReported();
  doc.results = doc.results.filter((r) => r.scenario !== 'cert.paths' && r.scenario !== 'cert.valid').map((r) => r.scenario === 'client.ok'
    ? { ...r, status: 'failed', actual: { ...r.actual, verdict: 'REFUSED', class: 'key-load-error' }, divergence: undefined }
    : r.scenario === 'cert.chain' ? { ...r, status: 'passed', actual: { ...r.actual, verdict: 'CONNECTED', because: 'platform accepted AUTH' }, message: undefined, endedBy: 'evidence' }
    : r);
  doc.results.push({ ...doc.results[0]!, scenario: 'cert.gone', target: 't2' });
  return doc;
}

const outputs: Array<[string, () => string]> = [
  ['junit.xml', () => junitXml(smallRunReported())],
  ['matrix.md', () => renderMatrixMd(smallRunReported())],
  ['matrix.html', () => renderMatrixHtml(smallRunReported())],
  ['matrix-baseline.md', () => {
    const doc = smallRunReported();
    return renderMatrixMd(doc, buildMatrix(doc), diffRuns({ label: 'yesterday', doc: baseline() }, { label: 'this run', doc }));
  }],
  ['matrix-baseline.html', () => {
    const doc = smallRunReported();
    return renderMatrixHtml(doc, buildMatrix(doc), diffRuns({ label: 'yesterday', doc: baseline() }, { label: 'this run', doc }));
  }],
];

describe('report writers, byte for byte (test/fixtures/golden/)', () => {
  for (const [name, render] of outputs) {
    it(name, async () => {
      const out = render();
      if (process.env.UPDATE_GOLDEN === '1') await writeFile(GOLDEN(name), out);
      assert.equal(out, await readFile(GOLDEN(name), 'utf8'), `${name} differs from test/fixtures/golden/${name}`);
    });
  }
  it('junit.xml is well-formed', async () => assert.equal(XMLValidator.validate(await readFile(GOLDEN('junit.xml'), 'utf8')), true));
});
