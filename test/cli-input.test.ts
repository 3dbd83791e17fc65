import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureDoc } from './report-fixture.ts';

// Typos and bad input on the command line, as `npm run conformance` starts it (harness/launch.mjs):
// exit 2, an error that names what exists, and no internal stack or transform text. Nothing here
// gets as far as starting an EMS.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const LAUNCH = join(REPO, 'harness/launch.mjs');

async function conformance(...args: string[]) {
  const r = await execa(process.execPath, [LAUNCH, ...args], { cwd: REPO, reject: false, all: true, env: { CI: '' } });
  return { code: r.exitCode, out: r.all ?? '' };
}

/** What an internal error would leak: a stack frame, esbuild's transform text, a Node error dump. */
function assertClean(out: string) {
  assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace reached the user:\n${out}`);
  assert.doesNotMatch(out, /Transform failed|Top-level await|cjs output format|node:internal|Node\.js v\d/, `internal text reached the user:\n${out}`);
}

describe('command line: typos and bad input exit 2 naming what exists', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-input-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('an unknown --target names the inventory\'s ids (and a near miss)', async () => {
    for (const [id, near] of [['nosuch', undefined], ['simulatr', 'simulator']] as const) {
      const r = await conformance('run', '--target', id, '--reports', join(dir, 'r'));
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, new RegExp(`no target "${id}"${near ? ` \\(did you mean "${near}"\\?\\)` : ''}; the inventory has: simulator, simulator-axtls`));
      assertClean(r.out);
    }
  });

  it('a --scenario prefix that matches nothing names the families and their prefixes, and the near miss', async () => {
    const r = await conformance('run', '--scenario', 'cert.hots', '--reports', join(dir, 'r'));
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /--scenario "cert\.hots" \(did you mean "cert\.host"\?\): no scenario id starts with it; the families and their id prefixes: baseline \(baseline\.\), certificates \(cert\.\),/);
    assert.doesNotMatch(r.out, /pass rate/);
    assertClean(r.out);
  });

  it('an unknown capability in the inventory names the field, the near miss, the known names and the parameterised forms', async () => {
    const inventory = join(dir, 'inventory.yaml');
    await writeFile(inventory, `targets:\n  - id: sim\n    kind: local\n    executable: ${join(REPO, 'targets/simulator/bin/wsems')}\n    flavour: openssl\n    capabilities: [tls13, hostnme-check]\n`);
    const r = await conformance('run', '--inventory', inventory, '--reports', join(dir, 'r'));
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /inventory\.yaml: targets\[0\]\.capabilities\[1\]: unknown capability "hostnme-check" \(did you mean "hostname-check"\?\); known: hostname-check, .*dh-min-bits:N \(e\.g\. dh-min-bits:1024\), openssl:X\.Y/);
    assertClean(r.out);
  });

  it('refuses the shard specs 0/2, 3/2 and a/b, and --durations without --shard', async () => {
    for (const spec of ['0/2', '3/2', 'a/b']) {
      const r = await conformance('run', '--shard', spec, '--reports', join(dir, 'r'));
      assert.equal(r.code, 2, `${spec}: ${r.out}`);
      assert.match(r.out, new RegExp(`--shard <i/n>' argument '${spec}' is invalid`));
      assertClean(r.out);
    }
    const d = await conformance('run', '--durations', join(dir, 'x.json'), '--reports', join(dir, 'r'));
    assert.equal(d.code, 2);
    assert.match(d.out, /--durations only balances shards: give --shard i\/n too/);
  });

  it('malformed results given to merge, diff or --durations name the file and the field', async () => {
    const bad = fixtureDoc() as unknown as { results: Array<Record<string, unknown>> };
    bad.results[1]!.status = 'green';
    const file = join(dir, 'bad', 'results.json');
    await rm(join(dir, 'bad'), { recursive: true, force: true });
    await execa('mkdir', ['-p', join(dir, 'bad')]);
    await writeFile(file, JSON.stringify(bad));
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify(fixtureDoc()));
    for (const args of [['merge', good, file, '--reports', join(dir, 'm')], ['diff', good, file], ['run', '--shard', '1/2', '--durations', file, '--reports', join(dir, 'r')]]) {
      const r = await conformance(...args);
      assert.equal(r.code, 2, `${args[0]}: ${r.out}`);
      assert.match(r.out, /bad\/results\.json: results\[1\]\.status: /, args[0]);
      assertClean(r.out);
    }
    const one = await conformance('diff', good);
    assert.equal(one.code, 2);
    assert.match(one.out, /one results file: name the two targets to compare with --targets A,B/);
    const noTarget = await conformance('diff', good, '--targets', 'simulator,gw1');
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.out, /good\.json: no target "gw1" in this run \(it has simulator, gw-axtls\)/);
  });

  it('the conformance suite itself reports its own error, not mocha\'s CommonJS retry of the spec', async () => {
    // Bypassing the command line's checks: the spec fails while it loads (an unknown target).
    const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
      `import { runConformanceSuite } from './harness/mocha/run-mocha.ts'; await runConformanceSuite({ allureResultsDir: ${JSON.stringify(join(dir, 'allure'))} });`,
    ], { cwd: REPO, reject: false, all: true, env: { CONFORMANCE_TARGETS: 'nosuch', CONFORMANCE_REPORTS: join(dir, 'suite') } });
    assert.notEqual(r.exitCode, 0);
    assert.match(r.all ?? '', /no target "nosuch"; the inventory has: simulator, simulator-axtls/);
    assert.doesNotMatch(r.all ?? '', /Top-level await|Transform failed/);
  });
});

describe('the bundled CLI (harness/launch.mjs)', function () {
  this.timeout(60_000);
  it('keeps the words import.meta.url inside strings: the simulator build it runs on a fresh clone keeps its esbuild define', async () => {
    // `npm run conformance` on a fresh clone builds the simulator from the bundle; a define key
    // rewritten into a file URL made that build fail ("Expected identifier but found …").
    const r = await execa(process.execPath, [LAUNCH, 'list'], { cwd: REPO, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const cache = join(REPO, 'node_modules/.cache/conformance-cli');
    const latest = JSON.parse(await readFile(join(cache, 'latest.json'), 'utf8')) as { dir: string };
    const chunks = await Promise.all((await readdir(join(cache, latest.dir))).filter((f) => f.endsWith('.mjs')).map((f) => readFile(join(cache, latest.dir, f), 'utf8')));
    const build = chunks.find((c) => c.includes('buildSimulator'));
    assert.ok(build, 'no chunk of the bundle holds the simulator build');
    assert.match(build, /define: *\{ *["']import\.meta\.url["']: *MODULE_URL/);
  });

  it('bundles Allure\'s report plugins into the generator and asks git once: an Allure upgrade that moves them fails here, not silently slower', async () => {
    const r = await execa(process.execPath, [LAUNCH, 'list'], { cwd: REPO, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const cache = join(REPO, 'node_modules/.cache/conformance-cli');
    const latest = JSON.parse(await readFile(join(cache, 'latest.json'), 'utf8')) as { dir: string };
    const worker = await readFile(join(cache, latest.dir, 'allure-worker.mjs'), 'utf8');
    // The plugins by name from the bundle (harness/launch.mjs allurePlugins), their code in it.
    assert.match(worker, /bundled\[path\w*\] \? bundled\[path\w*\]\(\)/);
    assert.match(worker, /^\/\/ node_modules\/@allurereport\/plugin-awesome\/dist\/plugin\.js$/m);
    assert.match(worker, /^\/\/ node_modules\/@allurereport\/plugin-agent\/dist\/plugin\.js$/m);
    // The local-CI descriptor's git questions through the memo (gitAskedOnce).
    assert.match(worker, /answers\.set\(\w+, spawnSyncNow\(\.\.\.args\)\)/);
  });
});
