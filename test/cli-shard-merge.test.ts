import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultsFile } from '../harness/report/results.ts';

// The default inventory as a CI matrix runs it: unsharded, and as two shards (split by the
// unsharded run's durations) merged with `conformance merge`: the same cases with the same
// statuses, verdicts and classes (timings may differ). Then `diff` on those real runs (the OpenSSL
// and the axTLS simulator targets against each other), `--baseline` in the matrix, and Allure's
// timeline against results.json. Started as `npm run conformance` starts it (harness/launch.mjs).

const REPO = fileURLToPath(new URL('../', import.meta.url));
const LAUNCH = join(REPO, 'harness/launch.mjs');

async function conformance(...args: string[]) {
  const r = await execa(process.execPath, [LAUNCH, ...args], { cwd: REPO, reject: false, all: true });
  return { code: r.exitCode, out: r.all ?? '' };
}

async function results(dir: string): Promise<ResultsFile> {
  return JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as ResultsFile;
}

/** What must not depend on how the cases were split; durations and timings may. */
function verdicts(doc: ResultsFile): string[] {
  return doc.results.map((r) => `${r.target}/${r.scenario}: ${r.status} ${r.actual.verdict}${r.actual.class ? ` ${r.actual.class}` : ''}`);
}

interface AllureResult {
  start: number;
  stop: number;
  status: string;
  statusDetails?: { message?: string };
  labels: Array<{ name: string; value: string }>;
  parameters: Array<{ name: string; value: string }>;
}

async function allureResults(dir: string): Promise<Map<string, AllureResult>> {
  const out = new Map<string, AllureResult>();
  const at = join(dir, 'allure-results');
  for (const f of (await readdir(at)).filter((x) => x.endsWith('-result.json'))) {
    const r = JSON.parse(await readFile(join(at, f), 'utf8')) as AllureResult;
    const key = `${r.parameters.find((p) => p.name === 'target')?.value}/${r.labels.find((l) => l.name === 'story')?.value}`;
    assert.ok(!out.has(key), `${key} twice in ${at}`);
    out.set(key, r);
  }
  return out;
}

describe('sharded runs merged, diffs and Allure timing on the default inventory', function () {
  this.timeout(900_000);
  let dir: string;
  let whole: ResultsFile;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'cli-shard-merge-'));
    const r = await conformance('run', '--reports', join(dir, 'whole'));
    assert.equal(r.code, 0, r.out.slice(-3000));
    whole = await results(join(dir, 'whole'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Allure shows each scenario at its real start and stop: durations equal results.json\'s, skips carry their reason', async () => {
    const allure = await allureResults(join(dir, 'whole'));
    assert.equal(allure.size, whole.results.length);
    for (const r of whole.results) {
      const a = allure.get(`${r.target}/${r.scenario}`);
      assert.ok(a, `no Allure result for ${r.target}/${r.scenario}`);
      assert.equal(a.stop - a.start, r.durationMs, `${r.target}/${r.scenario}: Allure ${a.stop - a.start} ms, results.json ${r.durationMs} ms`);
      assert.equal(a.start, Date.parse(r.startedAt!), `${r.target}/${r.scenario}: start`);
      if (r.status === 'skipped') assert.equal(a.statusDetails?.message, r.message, `${r.target}/${r.scenario}: the reason of the skip`);
    }
    assert.ok(whole.results.some((r) => r.status === 'skipped'), 'the default inventory has unsupported cases');
    // What the generated report shows (its embedded data): the same durations, the skip's reason as the error message.
    const html = await readFile(join(dir, 'whole', 'allure-report', 'index.html'), 'utf8');
    const shown = [...html.matchAll(/"(data\/test-results\/[^"]+)","([A-Za-z0-9+/=]+)"/g)]
      .map((m) => JSON.parse(Buffer.from(m[2]!, 'base64').toString('utf8')) as { name: string; status: string; duration: number; error?: { message?: string } });
    assert.equal(shown.length, whole.results.length);
    for (const r of whole.results) {
      const t = shown.find((x) => x.name === `${r.title} [${r.target}]`);
      assert.ok(t, `the report does not show ${r.target}/${r.scenario}`);
      assert.equal(t.duration, r.durationMs, `${r.target}/${r.scenario}: the report shows ${t.duration} ms`);
      if (r.status === 'skipped') assert.equal(t.error?.message, r.message);
    }
    // Scenarios overlap (--jobs): a timeline, not one scenario after the other in mocha's order.
    const spans = whole.results.filter((r) => r.durationMs > 0).map((r) => [Date.parse(r.startedAt!), Date.parse(r.startedAt!) + r.durationMs] as const);
    assert.ok(spans.some(([s, e], i) => spans.some(([s2], j) => j !== i && s2 > s && s2 < e)), 'no two scenarios overlap');
  });

  it('two shards, split by the unsharded run\'s durations and merged, equal the unsharded run', async () => {
    const shards = [];
    for (const i of [1, 2]) {
      const r = await conformance('run', '--shard', `${i}/2`, '--durations', join(dir, 'whole', 'results.json'), '--reports', join(dir, `shard-${i}`));
      assert.equal(r.code, 0, r.out.slice(-3000));
      shards.push(await results(join(dir, `shard-${i}`)));
    }
    const targets = whole.run.targets.length;
    for (const s of shards) assert.equal(s.results.filter((r) => r.scenario === 'baseline.sanity').length, targets, 'the sanity gate runs on every target of each shard');
    const sizes = shards.map((s) => s.results.length - targets);
    assert.ok(Math.abs(sizes[0]! - sizes[1]!) < whole.results.length / 3, `shards of ${sizes} cases`);
    const m = await conformance('merge', join(dir, 'shard-1', 'results.json'), join(dir, 'shard-2', 'results.json'), '--reports', join(dir, 'merged'));
    assert.equal(m.code, 0, m.out);
    const merged = await results(join(dir, 'merged'));
    assert.deepEqual(verdicts(merged), verdicts(whole));
    assert.deepEqual(merged.run.summary, whole.run.summary);
    assert.deepEqual(merged.run.merged?.map((x) => x.shard), [{ index: 1, count: 2 }, { index: 2, count: 2 }]);
    const files = await readdir(join(dir, 'merged'));
    for (const f of ['results.json', 'junit.xml', 'matrix.html', 'matrix.md', 'allure-results', 'allure-report']) assert.ok(files.includes(f), `merged reports lack ${f}`);
    assert.equal((await allureResults(join(dir, 'merged'))).size, merged.results.length, 'one Allure result per case, the sanity gate once');
  });

  it('diff: unsharded against merged changes nothing (exit 0); the OpenSSL against the axTLS simulator shows their differences', async () => {
    const same = await conformance('diff', join(dir, 'whole', 'results.json'), join(dir, 'merged', 'results.json'));
    assert.equal(same.code, 0, same.out);
    assert.match(same.out, /0 changed \(0 regressed\), 0 new, 0 removed, \d+ unchanged/);
    const across = await conformance('diff', join(dir, 'whole', 'results.json'), join(dir, 'merged', 'results.json'), '--targets', 'simulator,simulator-axtls');
    // Both pass what they support; axTLS completing TLS 1.0/1.1 handshakes is weak, which a diff counts as worse.
    assert.equal(across.code, 1, across.out);
    assert.match(across.out, /2 regressed/);
    assert.match(across.out, /REGRESSED baseline\.tls10-only \(simulator → simulator-axtls\): outcome passed → weak; verdict REFUSED → CONNECTED/);
    assert.match(across.out, /REGRESSED baseline\.tls11-only \(simulator → simulator-axtls\): outcome passed → weak/);
    // axTLS ignores cipher_suite and speaks no TLS 1.3: the same scenario connects there with another suite, or is not supported.
    assert.match(across.out, /cipher\.axtls\.list-ignored \(simulator → simulator-axtls\): verdict REFUSED → CONNECTED/);
    assert.match(across.out, /fips\.algos\.[a-z0-9.-]+ \(simulator → simulator-axtls\): outcome passed → skipped; verdict CONNECTED → UNSUPPORTED/);
    assert.match(across.out, /baseline\.sanity \(simulator → simulator-axtls\): protocol TLSv1\.3 → TLSv1\.2/);
  });

  it('--baseline puts the changes since a baseline into matrix.html and matrix.md', async () => {
    const r = await conformance('report', '--results', join(dir, 'merged', 'results.json'), '--reports', join(dir, 'rereported'), '--baseline', join(dir, 'whole', 'results.json'));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /changes since baseline .*whole\/results\.json: 0 changed \(0 regressed\), 0 new, 0 removed/);
    assert.match(await readFile(join(dir, 'rereported', 'matrix.md'), 'utf8'), /## Changes since baseline\n\n.*whole\/results\.json → this run: 0 changed/);
    assert.match(await readFile(join(dir, 'rereported', 'matrix.html'), 'utf8'), /<h2 id="changes">Changes since baseline<\/h2>/);
  });
});
