import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDivergences } from '../harness/report/divergences.ts';
import { readResultsFile, summarise, writeResults, type ResultsFile } from '../harness/report/results.ts';
import type { ScenarioResult } from '../harness/scenario/run.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

// reports/results.json, the contract other tools read: written whole (never half a file), read
// back through its schema with errors naming the file and the field, every value the writers
// produce accepted.

describe('results.json', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'results-file-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('summarises the statuses', () => {
    const results = fixtureDoc().results;
    assert.deepEqual(summarise(results), { total: 11, passed: 4, failed: 4, skipped: 1, broken: 2 });
    assert.deepEqual(summarise([]), { total: 0, passed: 0, failed: 0, skipped: 0, broken: 0 });
  });

  it('is written as indented JSON with a final newline, into a directory it makes, no temporary file left', async () => {
    const reports = join(dir, 'a', 'reports');
    const doc = fixtureDoc();
    const path = await writeResults(reports, doc);
    assert.equal(path, join(reports, 'results.json'));
    assert.equal(await readFile(path, 'utf8'), JSON.stringify(doc, null, 2) + '\n');
    assert.deepEqual(await readdir(reports), ['results.json']);
  });

  it('reads back what was written, every verdict, status and divergence state included', async () => {
    const doc = fixtureDoc();
    const [base] = doc.results as [ScenarioResult];
    const verdicts = ['CONNECTED', 'REFUSED', 'HANG', 'UNSUPPORTED', 'BROKEN'] as const;
    doc.results.push(...verdicts.map((verdict, i) => ({ ...base, scenario: `extra.v${i}`, actual: { ...base.actual, verdict } })));
    doc.results.push({ ...base, scenario: 'extra.refuses', expected: { outcome: 'refuses', class: 'expired' } });
    const listed = applyDivergences(doc.results, fixtureExpectations());
    const states = ['known', 'fixed', 'changed', 'not-run'] as const;
    const withStates = [...listed, ...states.map((state, i) => ({ ...base, scenario: `extra.d${i}`, divergence: { ...listed.find((r) => r.divergence)!.divergence!, state } }))];
    const all: ResultsFile = { ...doc, results: withStates };
    await writeResults(dir, all);
    assert.deepEqual(await readResultsFile(join(dir, 'results.json')), all);
  });

  it('a missing file says the run may not have completed', async () => {
    const path = join(dir, 'results.json');
    await assert.rejects(readResultsFile(path), (e: Error) => e.message === `${path}: no such file (did the run complete?)`);
  });

  it('a file that is no JSON, or unreadable, says so with the cause', async () => {
    const path = join(dir, 'results.json');
    await writeFile(path, '{ not json');
    await assert.rejects(readResultsFile(path), (e: Error) => e.message.startsWith(`${path}: not a results file: `) && /JSON/.test(e.message));
    await assert.rejects(readResultsFile(dir), (e: Error) => e.message.startsWith(`${dir}: not a results file: `) && /EISDIR/.test(e.message));
  });

  describe('names the file and the field of a value it cannot use', () => {
    const cases: Array<[string, (d: Record<string, any>) => void, RegExp]> = [
      ['format', (d) => (d.format = 2), /: format: /],
      ['harness.version', (d) => delete d.harness.version, /: harness\.version: /],
      ['run.inventory', (d) => (d.run.inventory = 7), /: run\.inventory: /],
      ['run.targets[0].capabilities', (d) => (d.run.targets[0].capabilities = 'all'), /: run\.targets\[0\]\.capabilities: /],
      ['run.summary.passed', (d) => delete d.run.summary.passed, /: run\.summary\.passed: /],
      ['run.summary.total', (d) => (d.run.summary.total = '11'), /: run\.summary\.total: /],
      ['results[0].requirements', (d) => (d.results[0].requirements = ['NOT-A-REQ']), /: results\[0\]\.requirements\[0\]: /],
      ['results[0].expected.outcome', (d) => (d.results[0].expected.outcome = 'maybe'), /: results\[0\]\.expected\.outcome: /],
      ['results[2].expected.class', (d) => (d.results[2].expected.class = 'bad-class'), /: results\[2\]\.expected\.class: /],
      ['results[0].actual.verdict', (d) => (d.results[0].actual.verdict = 'MAYBE'), /: results\[0\]\.actual\.verdict: /],
      ['results[3].actual.class', (d) => (d.results[3].actual.class = 'bad-class'), /: results\[3\]\.actual\.class: /],
      ['results[0].actual.because', (d) => delete d.results[0].actual.because, /: results\[0\]\.actual\.because: /],
      ['results[0].actual.evidence.emsLog', (d) => (d.results[0].actual.evidence.emsLog = 'x'), /: results\[0\]\.actual\.evidence\.emsLog: /],
      ['results[0].actual.evidence.observations[0].kind', (d) => delete d.results[0].actual.evidence.observations[0].kind, /: results\[0\]\.actual\.evidence\.observations\[0\]\.kind: /],
      ['results[0].status', (d) => (d.results[0].status = 'green'), /: results\[0\]\.status: /],
      ['results[0].startedAt', (d) => (d.results[0].startedAt = 'yesterday'), /: results\[0\]\.startedAt: /],
      ['results[0].durationMs', (d) => (d.results[0].durationMs = '120'), /: results\[0\]\.durationMs: /],
      ['results[0].divergence.state', (d) => (d.results[0].divergence = { state: 'odd', listed: { status: 'failed', reason: 'r', link: 'https://t.example.com/1' }, file: 'f', note: 'n' }), /: results\[0\]\.divergence\.state: /],
      ['results[0].divergence.listed.link', (d) => (d.results[0].divergence = { state: 'known', listed: { status: 'failed', reason: 'r', link: 'nowhere' }, file: 'f', note: 'n' }), /: results\[0\]\.divergence\.listed\.link: /],
    ];
    for (const [field, spoil, re] of cases) {
      it(field, async () => {
        const doc = JSON.parse(JSON.stringify(fixtureDoc())) as Record<string, any>;
        spoil(doc);
        const path = join(dir, 'results.json');
        await writeFile(path, JSON.stringify(doc));
        await assert.rejects(readResultsFile(path), (e: Error) => e.message.startsWith(`${path}: `) && re.test(e.message));
      });
    }
  });
});
