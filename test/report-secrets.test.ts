import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDACTED, Redactor } from '../harness/report/redact.ts';
import { reportRedactor, writeReports } from '../harness/report/write.ts';
import { fixtureDoc, fixtureExpectations, FIXTURE_SECRET, PEM_IN_LOG } from './report-fixture.ts';

// The report step over the fixture run, whose EMS log echoes a passphrase (FIXTURE_SECRET, as a
// target's secret the inventory names) and a private key: neither appears in any artifact it
// writes — results.json, junit.xml, matrix.html/.md, allure-results (as another tool wrote them,
// unredacted: the backstop) and the generated Allure report. Searched byte for byte, also in the
// JSON-escaped and base64 forms the Allure report embeds its data in.

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every form a secret can take in our artifacts: as is, JSON-escaped, base64 (Allure's single-file report). */
function leaks(text: string, secret: string): string[] {
  const forms = [...new Set([secret, JSON.stringify(secret).slice(1, -1), Buffer.from(secret).toString('base64').slice(0, 24)])];
  const embedded = [...text.matchAll(/"([A-Za-z0-9+/=]{40,})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
  return forms.filter((f) => text.includes(f)).concat(embedded.some((d) => d.includes(secret)) ? ['base64-embedded'] : []);
}

describe('the report step keeps the fixture\'s planted secrets out of every artifact', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'report-secrets-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** allure-results as allure-mocha would write them from a run that forgot to redact. */
  async function unredactedAllureResults(reports: string): Promise<void> {
    const results = join(reports, 'allure-results');
    await mkdir(results, { recursive: true });
    await writeFile(join(results, 'r1-result.json'), JSON.stringify({
      uuid: 'r1', historyId: 'r1', name: 'cert.expired [gw-axtls]', fullName: 'conformance cert.expired', status: 'failed', stage: 'finished', start: 1, stop: 2,
      statusDetails: { message: `passphrase ${FIXTURE_SECRET}`, trace: PEM_IN_LOG },
      labels: [{ name: 'story', value: 'cert.expired' }], steps: [], parameters: [{ name: 'key', value: FIXTURE_SECRET }], links: [],
      attachments: [{ name: 'EMS log', source: 'a1-attachment.txt', type: 'text/plain' }],
    }));
    await writeFile(join(results, 'a1-attachment.txt'), `+5ms passphrase ${FIXTURE_SECRET}\n${PEM_IN_LOG}\n`);
  }

  it('the fixture does plant them, and a redactor that does not know the passphrase lets it through (the search can fail)', async () => {
    const input = JSON.stringify(fixtureDoc());
    assert.ok(input.includes(FIXTURE_SECRET) && input.includes(JSON.stringify(PEM_IN_LOG).slice(1, -1)));
    const reports = join(dir, 'naive');
    await writeReports(fixtureDoc(), { reportsDir: reports, expectations: fixtureExpectations(), gates: {}, redactor: new Redactor() });
    // The evidence (the EMS log) is in each of these; matrix.md shows no logs.
    for (const f of ['results.json', 'junit.xml', 'matrix.html']) assert.deepEqual(leaks(await readFile(join(reports, f), 'utf8'), FIXTURE_SECRET), [FIXTURE_SECRET], f);
  });

  it('none of results.json, junit.xml, matrix.html, matrix.md, allure-results or the Allure report holds either', async () => {
    const reports = join(dir, 'reports');
    await unredactedAllureResults(reports);
    const r = await writeReports(fixtureDoc(), { reportsDir: reports, expectations: fixtureExpectations(), gates: {}, redactor: await reportRedactor([FIXTURE_SECRET]) });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.artifacts.map((a) => a.what), ['results', 'JUnit', 'matrix (HTML)', 'matrix (Markdown)', 'Allure results', 'Allure report']);
    const files = await filesUnder(reports);
    for (const name of ['results.json', 'junit.xml', 'matrix.html', 'matrix.md', 'allure-results/r1-result.json', 'allure-results/a1-attachment.txt', 'allure-report/index.html']) {
      assert.ok(files.includes(join(reports, name)), `${name} written`);
    }
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      assert.deepEqual(leaks(text, FIXTURE_SECRET), [], `${f} holds the planted passphrase`);
      assert.deepEqual(leaks(text, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'), [], `${f} holds the private key from the log`);
    }
    // Redacted, not dropped: the evidence line is still there, with the marker in its place.
    assert.match(await readFile(join(reports, 'results.json'), 'utf8'), new RegExp(`passphrase ${REDACTED}`));
    assert.match(await readFile(join(reports, 'junit.xml'), 'utf8'), new RegExp(`passphrase ${REDACTED}`));
  });
});
