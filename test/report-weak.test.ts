import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { junitXml } from '../harness/report/junit.ts';
import { buildMatrix, renderMatrixHtml, renderMatrixMd, summaryLine } from '../harness/report/matrix.ts';
import type { ReportedResult, ResultsFile } from '../harness/report/results.ts';
import { fixtureDoc } from './report-fixture.ts';

// Weak results (weak crypto accepted: a recorded policy), expectation sets and triage in the
// reports, and the `--fail-on weak` gate and `conformance triage` on a saved run.

const CLI = fileURLToPath(new URL('../harness/cli.ts', import.meta.url));

const WEAK: ReportedResult = {
  scenario: 'baseline.tls10-only', family: 'baseline', title: 'Platform offering only TLS 1.0', requirements: ['BASE-PROTOCOL'], target: 'gw-axtls',
  expected: { outcome: 'connects', protocolIn: ['TLSv1'], weak: 'completed a TLS 1.0 handshake (BASE-PROTOCOL)' },
  expectedAnyOf: [{ outcome: 'refuses', class: 'protocol-version' }, { outcome: 'connects', protocolIn: ['TLSv1'], weak: 'completed a TLS 1.0 handshake (BASE-PROTOCOL)' }],
  met: 1,
  actual: { verdict: 'CONNECTED', because: 'platform accepted AUTH', evidence: { observations: [{ kind: 'handshake-ok', at: 2, protocol: 'TLSv1', cipher: 'AES256-SHA' }], emsLog: [] } },
  status: 'passed',
  weak: { what: 'completed a TLS 1.0 handshake (BASE-PROTOCOL)', evidence: 'connected with TLSv1 AES256-SHA; platform certificate leaf-valid; platform accepted AUTH' },
  durationMs: 80, endedBy: 'evidence',
};
const SET_HELD: ReportedResult = {
  scenario: 'cert.chain-required.missing', family: 'certificates', title: 'no cert_chain', requirements: ['CERT-CHAIN-REQUIRED'], target: 'gw-axtls',
  expected: { outcome: 'refuses', class: 'untrusted-cert' },
  expectedAnyOf: [{ outcome: 'refuses', class: 'config-error' }, { outcome: 'refuses', class: 'untrusted-cert' }],
  met: 1,
  actual: { verdict: 'REFUSED', class: 'untrusted-cert', because: 'TW_VALIDATE_CERT: Certificate rejected.  Code: 20', evidence: { observations: [], emsLog: [] } },
  status: 'passed', durationMs: 60, endedBy: 'evidence',
};
const HANG: ReportedResult = {
  scenario: 'client.none-presented', family: 'client-certificates', title: 'none', requirements: ['CERT-CLIENT'], target: 'gw-axtls',
  expected: { outcome: 'refuses', class: 'client-cert-required' },
  actual: { verdict: 'HANG', because: 'no decisive evidence', evidence: { observations: [], emsLog: ['+40ms [ERROR] 2025-03-04 10:15:02,040: twTls_Read: peer alert 116 (certificate required)'] } },
  status: 'failed', message: 'expected refusal: client-cert-required; got HANG', durationMs: 15000, endedBy: 'timeout',
};

function doc(): ResultsFile {
  const d = fixtureDoc();
  // Only the new kinds: the fixture's failures would fail the gate anyway.
  d.results = [...d.results.filter((r) => r.status === 'passed'), WEAK, SET_HELD, HANG];
  d.run.targets[1]!.errorMap = [{ pattern: 'twTls_Raed: ', class: 'connect-failed', origin: 'lab.yaml: targets[1].errorMap[0]' }];
  return d;
}

describe('weak results and expectation sets in the reports', () => {
  it('the matrix shows weak (amber) with the evidence, never as holding, and which member of a set held', () => {
    const d = doc();
    const m = buildMatrix(d);
    const gw = m.targets.findIndex((t) => t.id === 'gw-axtls');
    const row = m.families.flatMap((f) => f.rows).find((r) => r.id === 'BASE-PROTOCOL')!;
    assert.equal(row.cells[gw]!.outcome, 'weak');
    const s = m.summaries[gw]!;
    assert.equal(s.cells.weak, 1);
    assert.match(summaryLine(s), /1 weak \(weak crypto accepted\)/);
    assert.ok(s.hold < s.tested, 'a weak requirement does not hold');
    const html = renderMatrixHtml(d, m);
    assert.match(html, /<td class="cell weak"><span class="b weak">weak<\/span>/);
    assert.match(html, /<dt>weak<\/dt><dd>completed a TLS 1\.0 handshake \(BASE-PROTOCOL\): connected with TLSv1 AES256-SHA/);
    assert.match(html, /one of: refuses \(config-error\) \| refuses \(untrusted-cert\); held: refuses \(untrusted-cert\)/);
    const md = renderMatrixMd(d, m);
    assert.match(md, /🟠 \*\*weak\*\* \[baseline\.tls10-only\]\(matrix\.html#ev-gw-axtls--baseline\.tls10-only\) on gw-axtls: completed a TLS 1\.0 handshake/);
  });

  it('JUnit: weak is a passing testcase with a weak property and a system-out line, not a failure', () => {
    const xml = junitXml(doc());
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase', 'property'].includes(n) }).parse(xml);
    const cases = (parsed.testsuites.testsuite as Array<{ testcase: Array<Record<string, unknown>> }>).flatMap((s) => s.testcase);
    const weak = cases.find((c) => c.name === 'baseline.tls10-only')!;
    assert.equal(weak.failure, undefined);
    assert.equal(weak.skipped, undefined);
    assert.deepEqual((weak.properties as { property: unknown[] }).property, [{ name: 'weak', value: 'completed a TLS 1.0 handshake (BASE-PROTOCOL): connected with TLSv1 AES256-SHA; platform certificate leaf-valid; platform accepted AUTH' }]);
    assert.match(String(weak['system-out']), /weak: completed a TLS 1\.0 handshake/);
  });

  describe('on a saved run (CLI)', function () {
    this.timeout(60_000);
    let dir: string;
    let file: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'report-weak-'));
      file = join(dir, 'results.json');
      const d = doc();
      d.results = d.results.filter((r) => r !== HANG && r.scenario !== HANG.scenario);
      await writeFile(file, JSON.stringify(d));
      await writeFile(join(dir, 'with-hang.json'), JSON.stringify(doc()));
    });
    after(() => rm(dir, { recursive: true, force: true }));
    const cli = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', CLI, ...args], { reject: false, all: true });

    it('weak results pass the gate, and fail it with --fail-on weak', async () => {
      const plain = await cli('report', '--results', file, '--expectations', dir);
      assert.equal(plain.exitCode, 0, plain.all);
      assert.match(plain.all!, /conformance: \d+ passed, 0 failed, 0 skipped, 0 broken, 0 known, 1 weak/);
      assert.match(plain.all!, /weak: gw-axtls\/baseline\.tls10-only: completed a TLS 1\.0 handshake/);
      const gated = await cli('report', '--results', file, '--expectations', dir, '--fail-on', 'weak');
      assert.equal(gated.exitCode, 1, gated.all);
      assert.match(gated.all!, /1 conformance failure \(1 weak result among them: --fail-on weak\)/);
      const saved = JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
      assert.equal(saved.run.outcome?.counts.weak, 1);
      assert.equal(saved.results.find((r) => r.scenario === 'baseline.tls10-only')?.weak?.what, 'completed a TLS 1.0 handshake (BASE-PROTOCOL)');
      const bad = await cli('report', '--results', file, '--fail-on', 'weakness');
      assert.equal(bad.exitCode, 2);
      assert.match(bad.all!, /must be "weak"/);
    });

    it('conformance triage prints the unmatched lines by shape with the entry to add, and the unused entries', async () => {
      const r = await cli('triage', '--results', join(dir, 'with-hang.json'));
      assert.equal(r.exitCode, 0, r.all);
      assert.match(r.all!, /1× in 1 result on gw-axtls: twTls_Read: peer alert <n> \(certificate required\)/);
      assert.match(r.all!, /errorMap entry: - \{ pattern: 'twTls_Read: peer alert \\d\+ \\\(certificate required\\\)', class: <failure class> \}/);
      assert.match(r.all!, /unused errorMap entry .*: lab\.yaml: targets\[1\]\.errorMap\[0\]: 'twTls_Raed: ' \(connect-failed\)/);
      const json = JSON.parse((await cli('triage', '--results', join(dir, 'with-hang.json'), '--json')).stdout) as { unmatched: unknown[] };
      assert.equal(json.unmatched.length, 1);
    });
  });
});
