import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { junitXml } from '../harness/report/junit.ts';
import { buildMatrix, expectedText, renderMatrixHtml, renderMatrixMd } from '../harness/report/matrix.ts';
import { readResultsFile, writeResults, type ReportedResult } from '../harness/report/results.ts';
import type { LocalServerEvidence } from '../harness/lsr/probe.ts';
import { fixtureDoc } from './report-fixture.ts';

// The local-server family in the reports: its own rows in the matrix (LSR-TLS, -AUTH, -HOST,
// -WARN), its expectations in words, the LSR client's evidence (with the route it took) beside
// the EMS log, and results.json read back with the new expectation kinds.

const lsr: LocalServerEvidence = {
  route: 'an SSH forward (forwardOut) through gw1\'s SSH connection: the TCP connection is the gateway\'s own, to its own address',
  address: { name: 'localhost', host: '::1', port: 20123 },
  handshakes: [{ ok: true, trust: 'chain-root.pem', protocol: 'TLSv1.2', cipher: 'AES128-SHA', chain: [{ subject: 'CN=localhost', issuer: 'CN=Conformance Local Server CA', sha256: 'AB', name: 'leaf-local-server' }], authorized: true, identity: 'localhost' }],
  requests: [{ credentials: 'none', over: 'tls', status: 401 }, { credentials: 'right', over: 'tls', status: 200 }],
  warnings: { logged: [], otherWarnLines: [] },
};

const result: ReportedResult = {
  scenario: 'lsr.example.high', family: 'local-server', title: 'The vendor\'s "high" example', requirements: ['LSR-TLS', 'LSR-AUTH', 'LSR-WARN'], target: 'gw-axtls',
  expected: { outcome: 'all-of', of: [{ outcome: 'serves-tls', chain: ['leaf-local-server', 'local-server-ca'], trust: 'chain-root.pem' }, { outcome: 'rejects-unauthenticated' }, { outcome: 'warns', warnings: [] }] },
  actual: { verdict: 'CONNECTED', because: 'platform accepted AUTH', evidence: { observations: [], emsLog: ['+5ms [INFO] started'], localServer: lsr } },
  status: 'failed', message: 'the EMS served the wrong chain: served leaf-local-server; expected leaf-local-server, local-server-ca, in that order',
  durationMs: 300, endedBy: 'evidence',
};

describe('reports: the local-server family', () => {
  const doc = fixtureDoc();
  doc.results.push(result);
  const m = buildMatrix(doc);

  it('the matrix has the family with its four requirements, the failed result in its cells', () => {
    const family = m.families.find((f) => f.name === 'local-server')!;
    assert.deepEqual(family.rows.map((r) => r.id), ['LSR-TLS', 'LSR-AUTH', 'LSR-HOST', 'LSR-WARN']);
    const gw = m.targets.findIndex((t) => t.id === 'gw-axtls');
    assert.equal(family.rows[0]!.cells[gw]!.outcome, 'failed');
    assert.equal(family.rows[2]!.cells[gw]!.outcome, 'untested');
  });

  it('says what was expected in words and shows what the LSR client saw, with its route', () => {
    assert.equal(expectedText(result), 'all of: serves TLS with leaf-local-server, local-server-ca & answers 401 without or with wrong credentials, 200 with the configured ones & warns about no insecure setting');
    const html = renderMatrixHtml(doc, m);
    assert.match(html, /<tr id="req-LSR-TLS">/);
    assert.match(html, /<summary>local server, as the LSR saw it \(an SSH forward \(forwardOut\) through gw1's SSH connection/);
    assert.match(html, /&quot;credentials&quot;: &quot;none&quot;/);
    assert.match(renderMatrixMd(doc, m), /LSR-TLS/);
    assert.match(junitXml(doc), /local server, as the LSR saw it \(an SSH forward/);
  });

  it('results.json with the new expectation kinds reads back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lsr-results-'));
    try {
      const back = await readResultsFile(await writeResults(dir, doc));
      assert.deepEqual(back.results.at(-1)!.expected, result.expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
