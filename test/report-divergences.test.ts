import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { applyDivergences, classify, loadExpectations, outcomeOf } from '../harness/report/divergences.ts';
import { evaluate } from '../harness/report/gates.ts';
import type { ResultsFile } from '../harness/report/results.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

const CLI = fileURLToPath(new URL('../harness/cli.ts', import.meta.url));

describe('known divergences', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'expectations-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('an absent or empty file means no known divergences', async () => {
    await writeFile(join(dir, 'empty.yaml'), '# nothing known\n');
    const e = await loadExpectations(dir, ['absent', 'empty']);
    assert.deepEqual(e.get('absent')?.entries, {});
    assert.deepEqual(e.get('empty')?.entries, {});
  });

  it('reads scenario id → status, reason, link', async () => {
    await writeFile(join(dir, 'gw.yaml'), 'cert.host.mismatch:\n  status: failed\n  verdict: CONNECTED\n  reason: no host check\n  link: https://tracker.example.com/EMS-1\n');
    const e = await loadExpectations(dir, ['gw'], new Set(['cert.host.mismatch']));
    assert.deepEqual(e.get('gw')?.entries, { 'cert.host.mismatch': { status: 'failed', verdict: 'CONNECTED', reason: 'no host check', link: 'https://tracker.example.com/EMS-1' } });
  });

  it('bad entries name the file and the field', async () => {
    const path = join(dir, 'gw.yaml');
    await writeFile(path, 'cert.x:\n  status: passed\n  reason: r\n  link: not-a-url\n');
    await assert.rejects(loadExpectations(dir, ['gw']), (e: Error) => {
      assert.match(e.message, new RegExp(`^${path}: `));
      assert.match(e.message, /cert\.x\.status: /);
      assert.match(e.message, /cert\.x\.link: /);
      return true;
    });
    await writeFile(path, 'cert.x: [unclosed\n');
    await assert.rejects(loadExpectations(dir, ['gw']), (e: Error) => e.message.startsWith(`${path}:2:1: not valid YAML`));
  });

  it('accepts every field as documented: broken, each verdict, http and https links', async () => {
    const entries = {
      'a.one': { status: 'broken', reason: 'lab', link: 'http://t.example.com/1' },
      'a.two': { status: 'failed', verdict: 'REFUSED', class: 'expired', reason: 'r', link: 'https://t.example.com/2' },
      'a.three': { status: 'failed', verdict: 'HANG', reason: 'r', link: 'https://t.example.com/3' },
      'a.four': { status: 'failed', verdict: 'BROKEN', reason: 'r', link: 'https://t.example.com/4' },
    };
    await writeFile(join(dir, 'gw.yaml'), toYaml(entries));
    assert.deepEqual((await loadExpectations(dir, ['gw'])).get('gw')?.entries, entries);
  });

  it('refuses a link that is no http(s) URL, a scenario id that is not one, an empty reason', async () => {
    const path = join(dir, 'gw.yaml');
    for (const [yaml, field] of [
      ['a.x:\n  status: failed\n  reason: r\n  link: ftp://t.example.com/1\n', /a\.x\.link: /],
      ['a.x:\n  status: failed\n  reason: r\n  link: xhttps://t.example.com/1\n', /a\.x\.link: /],
      ['a.x:\n  status: failed\n  reason: r\n  link: httpsx://t.example.com/1\n', /a\.x\.link: /],
      ['a.x:\n  status: failed\n  reason: ""\n  link: https://t.example.com/1\n', /a\.x\.reason: /],
      ['Cert.X:\n  status: failed\n  reason: r\n  link: https://t.example.com/1\n', /Cert\.X: a scenario id \(lower-case words joined by \. or -\)/],
      ['a.x!:\n  status: failed\n  reason: r\n  link: https://t.example.com/1\n', /a\.x!: a scenario id/],
      ['-a:\n  status: failed\n  reason: r\n  link: https://t.example.com/1\n', /-a: a scenario id/],
    ] as const) {
      await writeFile(path, yaml);
      await assert.rejects(loadExpectations(dir, ['gw']), (e: Error) => e.message.startsWith(`${path}`) && field.test(e.message), yaml);
    }
  });

  it('a list it cannot read is an error naming the file and why (not "no divergences")', async () => {
    await mkdir(join(dir, 'gw.yaml'));
    await assert.rejects(loadExpectations(dir, ['gw']), (e: Error) => e.message === `${join(dir, 'gw.yaml')}: cannot read the expectations (EISDIR)`);
  });

  it('names every unknown scenario of a list', async () => {
    await writeFile(join(dir, 'gw.yaml'), toYaml({
      'cert.a': { status: 'failed', reason: 'r', link: 'https://t.example.com/1' },
      'cert.b': { status: 'failed', reason: 'r', link: 'https://t.example.com/1' },
    }));
    await assert.rejects(loadExpectations(dir, ['gw'], new Set(['cert.other'])), (e: Error) => e.message === `${join(dir, 'gw.yaml')}: cert.a, cert.b: no such scenario in the catalogue (renamed or removed? update the list)`);
  });

  it('shows a list inside the repository by its repository path, one elsewhere by its full path', async () => {
    const inRepo = await loadExpectations(fileURLToPath(new URL('../targets/expectations/', import.meta.url)), ['simulator-csdk221']);
    assert.equal(inRepo.get('simulator-csdk221')?.file, 'targets/expectations/simulator-csdk221.yaml');
    assert.equal((await loadExpectations(dir, ['gw'])).get('gw')?.file, join(dir, 'gw.yaml'));
  });

  it('an entry for a scenario the catalogue does not have is an error', async () => {
    await writeFile(join(dir, 'gw.yaml'), 'cert.renamed:\n  status: failed\n  reason: r\n  link: https://t.example.com/1\n');
    await assert.rejects(loadExpectations(dir, ['gw'], new Set(['cert.other'])), /gw\.yaml: cert\.renamed: no such scenario in the catalogue/);
  });

  it('listed and deviating as listed: known; now passing: fixed; deviating otherwise: changed', () => {
    const results = applyDivergences(fixtureDoc().results, fixtureExpectations());
    const on = (target: string, scenario: string) => results.find((r) => r.target === target && r.scenario === scenario)!;
    assert.equal(on('gw-axtls', 'cert.host.mismatch').divergence?.state, 'known');
    assert.equal(outcomeOf(on('gw-axtls', 'cert.host.mismatch')), 'known');
    assert.match(on('gw-axtls', 'criteria.all-match').divergence!.note, /^fixed — remove from list: .*gw-axtls\.yaml/);
    assert.equal(outcomeOf(on('gw-axtls', 'criteria.all-match')), 'passed');
    assert.equal(on('gw-axtls', 'client.none-presented').divergence?.state, 'changed');
    assert.equal(outcomeOf(on('gw-axtls', 'client.none-presented')), 'failed');
    // Lists are per target: the same scenario on the simulator is not affected.
    assert.equal(on('simulator', 'cert.host.mismatch').divergence, undefined);
    // Unlisted deviations stay what they are.
    assert.equal(outcomeOf(on('gw-axtls', 'cert.expired')), 'failed');
  });

  it('a listed verdict and class must both match: the same status with another class is a different deviation', () => {
    const [r] = fixtureDoc().results.filter((x) => x.target === 'gw-axtls' && x.scenario === 'cert.expired');
    const listed = (over: object) => ({ file: 'gw.yaml', entries: { 'cert.expired': { status: 'failed' as const, reason: 'r', link: 'https://t.example.com/1', ...over } } });
    // r: failed, REFUSED untrusted-cert.
    assert.equal(classify(r!, listed({ verdict: 'REFUSED', class: 'untrusted-cert' }))?.state, 'known');
    assert.equal(classify(r!, listed({}))?.state, 'known', 'neither verdict nor class listed: the status alone');
    const otherClass = classify(r!, listed({ verdict: 'REFUSED', class: 'expired' }));
    assert.equal(otherClass?.state, 'changed');
    assert.equal(otherClass?.note, 'listed in gw.yaml as failed (REFUSED: expired), but got failed (REFUSED: untrusted-cert): a different deviation from the known one (https://t.example.com/1)');
    assert.equal(classify(r!, listed({ class: 'expired' }))?.state, 'changed', 'a class alone is checked too');
    assert.equal(classify(r!, listed({ verdict: 'HANG' }))?.state, 'changed');
    assert.equal(classify(r!, listed({ status: 'broken' }))?.state, 'changed', 'listed broken, failed instead');
    assert.equal(classify({ ...r!, scenario: 'not.listed' }, listed({}))?.state, undefined);
    assert.equal(classify(r!, undefined), undefined);
    // An unlisted class is no known divergence: the run fails.
    assert.equal(evaluate(applyDivergences([r!], new Map([['gw-axtls', listed({ class: 'expired' })]]))).exitCode, 1);
    assert.equal(evaluate(applyDivergences([r!], new Map([['gw-axtls', listed({ class: 'untrusted-cert' })]]))).exitCode, 0);
  });

  it('a listed scenario skipped here is not-run: whether it still diverges is unknown', () => {
    const [r] = fixtureDoc().results.filter((x) => x.target === 'gw-axtls' && x.scenario === 'cert.paths.windows');
    const listed = { file: 'gw.yaml', entries: { 'cert.paths.windows': { status: 'failed' as const, reason: 'r', link: 'https://t.example.com/1' } } };
    assert.deepEqual(classify(r!, listed), {
      state: 'not-run', listed: listed.entries['cert.paths.windows'], file: 'gw.yaml',
      note: 'listed in gw.yaml, but skipped here (target gw-axtls lacks capability windows-paths): whether it still diverges is unknown',
    });
    const { message: _m, ...noMessage } = r!;
    assert.match(classify(noMessage, listed)!.note, /skipped here \(target gw-axtls lacks capability windows-paths\)/, 'the verdict\'s reason when there is no message');
    assert.equal(outcomeOf({ status: 'skipped', divergence: classify(r!, listed) }), 'skipped');
  });

  it('notes word for word: known, fixed, and changed with or without a listed verdict', () => {
    const [r] = fixtureDoc().results.filter((x) => x.target === 'gw-axtls' && x.scenario === 'cert.expired');
    const entry = (over: object) => ({ file: 'gw.yaml', entries: { 'cert.expired': { status: 'failed' as const, reason: 'old bug', link: 'https://t.example.com/9', ...over } } });
    assert.equal(classify(r!, entry({}))!.note, 'known divergence: old bug (https://t.example.com/9)');
    assert.equal(classify(r!, entry({ status: 'broken' }))!.note, 'listed in gw.yaml as broken, but got failed (REFUSED: untrusted-cert): a different deviation from the known one (https://t.example.com/9)');
    assert.equal(classify(r!, entry({ verdict: 'HANG' }))!.note, 'listed in gw.yaml as failed (HANG), but got failed (REFUSED: untrusted-cert): a different deviation from the known one (https://t.example.com/9)');
    const hang = { ...r!, actual: { ...r!.actual, verdict: 'HANG' as const, class: undefined } };
    assert.equal(classify(hang, entry({ verdict: 'REFUSED' }))!.note, 'listed in gw.yaml as failed (REFUSED), but got failed (HANG): a different deviation from the known one (https://t.example.com/9)');
    const passed = { ...r!, status: 'passed' as const };
    assert.equal(classify(passed, entry({}))!.note, 'fixed — remove from list: cert.expired now passes on gw-axtls; remove it from gw.yaml');
    assert.equal(classify(passed, entry({}))!.state, 'fixed');
  });

  it('a failed result is failed, whatever else it carries; a weak one only when it passed', () => {
    assert.equal(outcomeOf({ status: 'failed', weak: { what: 'w' } }), 'failed');
    assert.equal(outcomeOf({ status: 'passed', weak: { what: 'w' } }), 'weak');
    assert.equal(outcomeOf({ status: 'broken' }), 'broken');
  });

  it('re-applying drops blocks the current lists no longer give', () => {
    const once = applyDivergences(fixtureDoc().results, fixtureExpectations());
    const again = applyDivergences(once, new Map());
    assert.ok(again.every((r) => r.divergence === undefined));
  });

  it('an unlisted deviation fails the run; the listed one alone would not', () => {
    const results = applyDivergences(fixtureDoc().results, fixtureExpectations());
    const knownOnly = results.filter((r) => r.divergence?.state === 'known' || r.status === 'passed');
    assert.equal(evaluate(knownOnly).exitCode, 0);
    assert.equal(evaluate(results).exitCode, 1);
  });
});

describe('known divergences in the main job', function () {
  this.timeout(120_000);
  const TARGET = 'sim-no-host-check';
  let dir: string;
  let reports: string;
  let run: { exitCode?: number; all?: string };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'divergence-run-'));
    reports = join(dir, 'reports');
    // The simulator checks host names; a profile that says it does not makes cert.host.mismatch
    // deviate for real (expected to connect, refused), as a gateway with a wrong profile would.
    // Only the two listed scenarios run: every other host-name refusal would deviate the same way.
    const inv = parseYaml(await readFile(DEFAULT_INVENTORY, 'utf8')) as { targets: Array<Record<string, unknown>> };
    const sim = inv.targets.find((t) => t.id === 'simulator')!;
    Object.assign(sim, {
      id: TARGET,
      executable: resolve(dirname(DEFAULT_INVENTORY), sim.executable as string),
      capabilities: (sim.capabilities as string[]).filter((c) => c !== 'hostname-check'),
    });
    await writeFile(join(dir, 'inventory.yaml'), toYaml({ targets: [sim] }));
    await mkdir(join(dir, 'expectations'));
    await writeFile(join(dir, 'expectations', `${TARGET}.yaml`), toYaml({
      'cert.host.mismatch': { status: 'failed', verdict: 'REFUSED', class: 'hostname-mismatch', reason: 'checks host names after all', link: 'https://tracker.example.com/EMS-7' },
      'cert.host.check-disabled': { status: 'failed', reason: 'used to ignore the switch', link: 'https://tracker.example.com/EMS-8' },
    }));
    run = await execa(process.execPath, ['--import', 'tsx', CLI, 'run', '--inventory', join(dir, 'inventory.yaml'), '--expectations', join(dir, 'expectations'), '--reports', reports, '--scenario', 'cert.host.mismatch', 'cert.host.check-disabled'], { reject: false, all: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a listed deviation is known and the run exits 0; a listed one that passes says remove it', async () => {
    assert.equal(run.exitCode, 0, run.all);
    assert.match(run.all!, /sim-no-host-check\/cert\.host\.check-disabled: fixed — remove from list/);
    const doc = JSON.parse(await readFile(join(reports, 'results.json'), 'utf8')) as ResultsFile;
    const mismatch = doc.results.find((r) => r.scenario === 'cert.host.mismatch')!;
    assert.equal(mismatch.status, 'failed', 'the raw status stays what the evidence said');
    assert.equal(mismatch.divergence?.state, 'known');
    assert.deepEqual([doc.run.outcome?.counts.known, doc.run.outcome?.counts.fixed, doc.run.outcome?.counts.failed], [1, 1, 0]);
    assert.match(await readFile(join(reports, 'junit.xml'), 'utf8'), /<skipped message="known divergence: checks host names after all \(https:\/\/tracker\.example\.com\/EMS-7\)"\/>/);
  });

  it('Allure shows the known one skipped and both tagged, with the tracking link', async () => {
    const files = (await readdir(join(reports, 'allure-results'))).filter((f) => f.endsWith('-result.json'));
    const results = await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(reports, 'allure-results', f), 'utf8')) as {
      status: string; labels: Array<{ name: string; value: string }>; links: Array<{ type: string; url: string }>;
    }));
    const story = (id: string) => results.find((r) => r.labels.some((l) => l.name === 'story' && l.value === id))!;
    const known = story('cert.host.mismatch');
    assert.equal(known.status, 'skipped');
    assert.ok(known.labels.some((l) => l.name === 'tag' && l.value === 'divergence:known'));
    assert.ok(known.links.some((l) => l.type === 'issue' && l.url === 'https://tracker.example.com/EMS-7'));
    const fixed = story('cert.host.check-disabled');
    assert.equal(fixed.status, 'passed');
    assert.ok(fixed.labels.some((l) => l.name === 'tag' && l.value === 'divergence:fixed'));
    assert.ok((await readdir(join(reports, 'allure-report'))).includes('index.html'));
  });
});
