import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { ResultsFile } from '../harness/report/results.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';

// `conformance run` on a real run whose target deviates without being listed: exit 1, the
// deviation a junit <failure>. The target is the C SDK 2.2.1 profile (no hostname check) with an
// inventory entry that claims `hostname-check`, as a lab engineer's wrong profile would: the
// scenario then expects a refusal and the EMS connects. The same run with the deviation listed
// exits 0 and shows it skipped as known.

const CLI = fileURLToPath(new URL('../harness/cli.ts', import.meta.url));
const TARGET = 'csdk221-claims-host-check';
const SCENARIO = 'cert.host.mismatch';

interface Case { '@_name': string; failure?: { '@_message': string; '#text': string }; skipped?: { '@_message': string } }

describe('conformance run: the exit code and junit.xml of a real run', function () {
  this.timeout(180_000);
  let dir: string;
  const run = (expectations: string, reports: string) => execa(process.execPath, [
    '--import', 'tsx', CLI, 'run', '--inventory', join(dir, 'inventory.yaml'), '--expectations', expectations, '--reports', reports, '--scenario', SCENARIO,
  ], { reject: false, all: true });
  const junitCase = async (reports: string): Promise<Case> => {
    const xml = new XMLParser({ ignoreAttributes: false }).parse(await readFile(join(reports, 'junit.xml'), 'utf8')) as { testsuites: { testsuite: { testcase: Case[] } } };
    return xml.testsuites.testsuite.testcase.find((c) => c['@_name'] === SCENARIO)!;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-exit-code-'));
    const inv = parseYaml(await readFile(DEFAULT_INVENTORY, 'utf8')) as { targets: Array<Record<string, unknown>> };
    const csdk = inv.targets.find((t) => t.id === 'simulator-csdk221')!;
    Object.assign(csdk, {
      id: TARGET,
      executable: resolve(dirname(DEFAULT_INVENTORY), csdk.executable as string),
      capabilities: [...(csdk.capabilities as string[]), 'hostname-check'],
    });
    await writeFile(join(dir, 'inventory.yaml'), toYaml({ targets: [csdk] }));
    await mkdir(join(dir, 'none'));
    await mkdir(join(dir, 'listed'));
    await writeFile(join(dir, 'listed', `${TARGET}.yaml`), toYaml({
      [SCENARIO]: { status: 'failed', verdict: 'CONNECTED', reason: 'the profile claims a hostname check the build lacks', link: 'https://tracker.example.com/LAB-1' },
    }));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('an unlisted conformance failure: exit 1, a junit <failure> saying what happened, results.json agreeing', async () => {
    const reports = join(dir, 'unlisted');
    const r = await run(join(dir, 'none'), reports);
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all!, /conformance: 1 passed, 1 failed, 0 skipped, 0 broken/);
    const c = await junitCase(reports);
    assert.ok(c.failure, `no <failure> in ${JSON.stringify(c)}`);
    assert.equal(c.failure['@_message'], 'unexpected success: expected refusal: hostname-mismatch');
    assert.match(c.failure['#text'], /got: CONNECTED: platform accepted AUTH/);
    const doc = JSON.parse(await readFile(join(reports, 'results.json'), 'utf8')) as ResultsFile;
    assert.equal(doc.run.outcome?.exitCode, 1);
    const result = doc.results.find((x) => x.scenario === SCENARIO)!;
    assert.deepEqual([result.status, result.actual.verdict, result.divergence], ['failed', 'CONNECTED', undefined]);
  });

  it('the same failure listed as a known divergence: exit 0, a junit <skipped> naming the list entry', async () => {
    const reports = join(dir, 'listed-run');
    const r = await run(join(dir, 'listed'), reports);
    assert.equal(r.exitCode, 0, r.all);
    const c = await junitCase(reports);
    assert.equal(c.failure, undefined);
    assert.equal(c.skipped?.['@_message'], 'known divergence: the profile claims a hostname check the build lacks (https://tracker.example.com/LAB-1)');
  });
});
