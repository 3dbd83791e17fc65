import { strict as assert } from 'node:assert';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { applyDivergences } from '../harness/report/divergences.ts';
import { junitXml } from '../harness/report/junit.ts';
import type { ResultsFile } from '../harness/report/results.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

interface Case {
  classname: string;
  name: string;
  time: string;
  failure?: { type: string; message: string; '#text': string };
  error?: { type: string; message: string };
  skipped?: { message: string };
  'system-out': string;
}

function parse(xml: string) {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `junit.xml is not well-formed: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(xml);
  return doc.testsuites as { tests: string; failures: string; errors: string; skipped: string; testsuite: Array<{ name: string; tests: string; testcase: Case[] }> };
}

describe('junit.xml', () => {
  // Written in each test, not once in describe(): mutation:core switches a mutant on per test only.
  let doc: ResultsFile;
  let suites: ReturnType<typeof parse>;
  let cases: Case[];
  beforeEach(() => {
    doc = fixtureDoc();
    doc.results = applyDivergences(doc.results, fixtureExpectations());
    suites = parse(junitXml(doc));
    cases = suites.testsuite.flatMap((s) => s.testcase);
  });
  const byKey = (classname: string, name: string) => cases.find((c) => c.classname === classname && c.name === name)!;

  it('is well-formed and has one testcase per scenario × target, in a testsuite per target', () => {
    assert.deepEqual(suites.testsuite.map((s) => s.name), ['simulator', 'gw-axtls']);
    assert.equal(cases.length, doc.results.length);
    assert.equal(new Set(cases.map((c) => `${c.classname}/${c.name}`)).size, doc.results.length);
    assert.equal(byKey('gw-axtls.cert', 'cert.host.mismatch').time, '0.120');
  });

  it('maps failed to <failure>, broken to <error>, skipped and known divergences to <skipped>', () => {
    assert.deepEqual([suites.tests, suites.failures, suites.errors, suites.skipped], ['11', '3', '2', '2']);
    const failed = byKey('gw-axtls.cert', 'cert.expired').failure!;
    assert.equal(failed.type, 'conformance');
    assert.equal(failed.message, 'expected refusal: expired; got refusal: untrusted-cert');
    assert.match(failed['#text'], /expected: refuses \(expired\)\ngot: REFUSED \(untrusted-cert\)/);
    assert.equal(byKey('gw-axtls.cert', 'cert.chain.order').error!.type, 'infrastructure');
    assert.match(byKey('gw-axtls.cert', 'cert.paths.windows').skipped!.message, /lacks capability windows-paths/);
    assert.equal(byKey('gw-axtls.cert', 'cert.host.mismatch').skipped!.message, 'known divergence: C SDK 2.2.1 never checks the host name (https://tracker.example.com/EMS-1)');
  });

  it('a changed divergence fails with the list note first; a fixed one passes and says so', () => {
    assert.match(byKey('gw-axtls.client', 'client.none-presented').failure!.message, /^listed in targets\/expectations\/gw-axtls\.yaml as failed \(REFUSED\), but got failed \(HANG\)/);
    const fixed = byKey('gw-axtls.criteria', 'criteria.all-match');
    assert.equal(fixed.failure ?? fixed.error ?? fixed.skipped, undefined);
    assert.match(fixed['system-out'], /divergence: fixed — remove from list/);
  });

  it('carries log text XML cannot hold (control bytes, markup) without breaking the file', () => {
    const out = byKey('gw-axtls.cert', 'cert.expired')['system-out'];
    assert.match(out, /bad bytes \uFFFD\uFFFD <&> "q"/);
    assert.match(out, /evidence: matrix\.html#ev-gw-axtls--cert\.expired/);
  });

  it('shows what the LSR saw in a result to look into, not in a passing one', () => {
    const lsr = { route: 'ssh forward from gw1', address: { name: 'localhost', host: '::1', port: 8443 }, handshakes: [], requests: [] };
    for (const r of doc.results) r.actual.evidence.localServer = lsr as never;
    const out = parse(junitXml(doc)).testsuite.flatMap((s) => s.testcase);
    const of = (classname: string, name: string) => out.find((c) => c.classname === classname && c.name === name)!['system-out'];
    assert.match(of('gw-axtls.cert', 'cert.expired'), /\n\nlocal server, as the LSR saw it \(ssh forward from gw1\):\n\{\n {2}"route": "ssh forward from gw1"/);
    assert.doesNotMatch(of('gw-axtls.criteria', 'criteria.all-match'), /local server/);
  });
});
