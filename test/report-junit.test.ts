import { strict as assert } from 'node:assert';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { applyDivergences } from '../harness/report/divergences.ts';
import { junitXml } from '../harness/report/junit.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';
import { smallRun } from './report-small-run.ts';

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
  const doc = fixtureDoc();
  doc.results = applyDivergences(doc.results, fixtureExpectations());
  const xml = junitXml(doc);
  const suites = parse(xml);
  const cases = suites.testsuite.flatMap((s) => s.testcase);
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

  it('the whole file of a small run, byte for byte (read by eye: test/report-small-run.ts)', () => {
    assert.equal(junitXml(smallRun()), SMALL_RUN_XML);
    assert.equal(XMLValidator.validate(SMALL_RUN_XML), true);
  });
});

/** What junit.xml is for test/report-small-run.ts: outcomes, properties, notes, escaping, times. */
const SMALL_RUN_XML = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="WS EMS conformance" tests="5" failures="1" errors="1" skipped="2" time="2.000">
  <testsuite tests="2" failures="1" errors="0" skipped="0" time="1.750" name="t1" timestamp="2026-11-27T02:00:00.000Z">
    <properties>
      <property name="flavour" value="openssl"/>
      <property name="emsVersion" value="5.4 &quot;beta&quot;"/>
      <property name="capabilities" value="tls13,fips"/>
    </properties>
    <testcase classname="t1.baseline" name="baseline.tls10-only" time="1.500">
      <properties>
        <property name="weak" value="completed a TLS 1.0 handshake: connected with TLSv1 AES128-SHA"/>
      </properties>
      <system-out>Title of baseline.tls10-only
requirements: BASE-PROTOCOL
expected: connects (weak)
got: CONNECTED: platform accepted AUTH
weak: completed a TLS 1.0 handshake (connected with TLSv1 AES128-SHA)
evidence: matrix.html#ev-t1--baseline.tls10-only</system-out>
    </testcase>
    <testcase classname="t1.cert" name="cert.expired" time="0.250">
      <failure type="conformance" message="listed in targets/expectations/t1.yaml as failed (HANG), but got failed (REFUSED: untrusted-cert): a different deviation from the known one (https://t.example.com/2)">listed in targets/expectations/t1.yaml as failed (HANG), but got failed (REFUSED: untrusted-cert): a different deviation from the known one (https://t.example.com/2)
expected refusal: expired; got refusal: untrusted-cert
second line
expected: refuses (expired)
got: REFUSED (untrusted-cert): Code: 20, Reason = "x" &lt;y&gt;</failure>
      <system-out>Title of cert.expired
requirements: (none)
expected: refuses (expired)
got: REFUSED (untrusted-cert): Code: 20, Reason = "x" &lt;y&gt;
divergence: listed in targets/expectations/t1.yaml as failed (HANG), but got failed (REFUSED: untrusted-cert): a different deviation from the known one (https://t.example.com/2)
evidence: matrix.html#ev-t1--cert.expired

EMS log (excerpt):
(no output)</system-out>
    </testcase>
  </testsuite>
  <testsuite tests="3" failures="0" errors="1" skipped="2" time="0.250" name="t2" timestamp="2026-11-27T02:00:00.000Z">
    <properties>
      <property name="flavour" value="axtls"/>
      <property name="capabilities" value=""/>
    </properties>
    <testcase classname="t2.cert" name="cert.chain" time="0.000">
      <error type="infrastructure" message="ssh down">ssh down
expected: connects
got: BROKEN: ssh down</error>
      <system-out>Title of cert.chain
requirements: CERT-VALIDATE
expected: connects
got: BROKEN: ssh down
evidence: matrix.html#ev-t2--cert.chain

EMS log (excerpt):
+2ms lost</system-out>
    </testcase>
    <testcase classname="t2.cert" name="cert.paths" time="0.000">
      <skipped message="target t2 lacks capability windows-paths"/>
      <system-out>Title of cert.paths
requirements: CERT-VALIDATE
expected: connects
got: UNSUPPORTED: target t2 lacks capability windows-paths
evidence: matrix.html#ev-t2--cert.paths</system-out>
    </testcase>
    <testcase classname="t2.cert" name="cert.host" time="0.250">
      <skipped message="known divergence: no host check&#10;(see EMS-1) (https://t.example.com/1)"/>
      <system-out>Title of cert.host
requirements: CERT-VALIDATE
expected: refuses (hostname-mismatch)
got: CONNECTED: platform accepted AUTH
divergence: known divergence: no host check
(see EMS-1) (https://t.example.com/1)
evidence: matrix.html#ev-t2--cert.host

EMS log (excerpt):
+3ms connected</system-out>
    </testcase>
  </testsuite>
</testsuites>
`;
