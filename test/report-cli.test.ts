import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import type { ResultsFile } from '../harness/report/results.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

// `conformance report --results FILE`: the reports again from a saved run, with the known
// divergences and gates applied and the exit code the main job would give.

const CLI = fileURLToPath(new URL('../harness/cli.ts', import.meta.url));

describe('conformance report (from a saved results.json)', function () {
  this.timeout(60_000);
  let dir: string;
  let expectations: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-cli-'));
    expectations = join(dir, 'expectations');
    await mkdir(expectations);
    for (const [target, e] of fixtureExpectations()) await writeFile(join(expectations, `${target}.yaml`), toYaml(e.entries));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function report(name: string, doc: ResultsFile, ...flags: string[]) {
    const reports = join(dir, name);
    await mkdir(reports);
    await writeFile(join(reports, 'results.json'), JSON.stringify(doc));
    const r = await execa(process.execPath, ['--import', 'tsx', CLI, 'report', '--results', join(reports, 'results.json'), '--expectations', expectations, ...flags], { reject: false, all: true });
    return { ...r, reports };
  }

  it('exits 1 on unlisted failures, marks known and fixed divergences, writes every report redacted', async () => {
    const r = await report('mixed', fixtureDoc());
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all!, /conformance: 4 passed, 3 failed, 1 skipped, 2 broken, 1 known \(pass rate 50%\)/);
    assert.match(r.all!, /gw-axtls\/criteria\.all-match: fixed — remove from list/);
    assert.match(r.all!, /skipped: Allure report: no .*allure-results/);
    const saved = JSON.parse(await readFile(join(r.reports, 'results.json'), 'utf8')) as ResultsFile;
    assert.equal(saved.run.outcome?.exitCode, 1);
    assert.equal(saved.results.find((x) => x.target === 'gw-axtls' && x.scenario === 'cert.host.mismatch')?.divergence?.state, 'known');
    const files = await readdir(r.reports);
    assert.deepEqual(files.sort(), ['junit.xml', 'matrix.html', 'matrix.md', 'results.json']);
    for (const f of files) assert.doesNotMatch(await readFile(join(r.reports, f), 'utf8'), /BEGIN PRIVATE KEY|MIIEvQIBADAN/, `${f} holds the private key from the log`);
  });

  it('exits 2 when results are broken (infrastructure) and nothing failed', async () => {
    const doc = fixtureDoc();
    doc.results = doc.results.filter((x) => x.status !== 'failed');
    const r = await report('broken', doc);
    assert.equal(r.exitCode, 2, r.all);
    assert.match(r.all!, /2 broken results \(infrastructure, not the product\)/);
  });

  it('exits 0 when every result passed, was skipped or is a known divergence', async () => {
    const doc = fixtureDoc();
    doc.results = doc.results.filter((x) => x.status === 'passed' || x.status === 'skipped' || (x.target === 'gw-axtls' && x.scenario === 'cert.host.mismatch'));
    const r = await report('clean', doc);
    assert.equal(r.exitCode, 0, r.all);
  });

  it('release gates: --max-failures tolerates failures, --min-pass-rate fails a run below it', async () => {
    const doc = fixtureDoc();
    doc.results = doc.results.filter((x) => x.status !== 'broken');
    assert.equal((await report('tolerated', doc, '--max-failures', '3')).exitCode, 0);
    const gated = await report('gated', doc, '--max-failures', '3', '--min-pass-rate', '90');
    assert.equal(gated.exitCode, 1);
    assert.match(gated.all!, /pass rate 50% is below --min-pass-rate 90%/);
    const bad = await report('bad-flag', doc, '--min-pass-rate', '120');
    assert.equal(bad.exitCode, 2, 'a usage error is bad input, not a conformance failure');
    assert.match(bad.all!, /--min-pass-rate.*must be a percentage from 0 to 100/);
  });

  it('bad input exits 2 naming the file and the field', async () => {
    const doc = fixtureDoc() as unknown as { results: Array<Record<string, unknown>> };
    doc.results[1]!.status = 'green';
    const r = await report('bad-results', doc as unknown as ResultsFile);
    assert.equal(r.exitCode, 2);
    assert.match(r.all!, /bad-results\/results\.json: results\[1\]\.status: /);

    // A good results file of its own (not another test's output), with a bad divergence list.
    const badList = join(dir, 'bad-expectations');
    await mkdir(badList);
    await writeFile(join(badList, 'gw-axtls.yaml'), 'cert.host.mismatch:\n  status: failed\n  reason: r\n');
    const reports = join(dir, 'good-results');
    await mkdir(reports);
    await writeFile(join(reports, 'results.json'), JSON.stringify(fixtureDoc()));
    const e = await execa(process.execPath, ['--import', 'tsx', CLI, 'report', '--results', join(reports, 'results.json'), '--expectations', badList], { reject: false, all: true });
    assert.equal(e.exitCode, 2);
    assert.match(e.all!, /bad-expectations\/gw-axtls\.yaml: cert\.host\.mismatch\.link: /);
  });
});
