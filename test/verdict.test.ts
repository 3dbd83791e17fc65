import { strict as assert } from 'node:assert';
import type { Observation } from '../harness/endpoints/observations.ts';
import { attributeEndpointError, contradictions, decide, judge, type Evidence } from '../harness/scenario/verdict.ts';

// Verdicts from fake evidence: the rules, not the plumbing.

const line = (text: string, at = 10) => ({ at, text });
const obs = (...o: Observation[]) => o;
const tcp: Observation = { kind: 'tcp-accepted', at: 1, remote: '127.0.0.1' };
const hsOk: Observation = { kind: 'handshake-ok', at: 2, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };

describe('verdict', () => {
  it('is CONNECTED only when the platform saw AUTH succeed and the EMS logged it', () => {
    const platformOnly: Evidence = { observations: obs(tcp, hsOk, { kind: 'auth', at: 3, ok: true, sessionId: 5 }), lines: [] };
    assert.equal(decide(platformOnly, []), undefined);
    const both = { ...platformOnly, lines: [line('[INFO] AUTH Message 1 succeeded. Code:64', 4)] };
    const d = decide(both, []);
    assert.equal(d?.verdict, 'CONNECTED');
    assert.equal(d?.evidenceAt, 4);
  });

  it('attributes a certificate refusal from the EMS log through the error map', () => {
    const ev: Evidence = { observations: obs(tcp, hsOk), lines: [line('TW_VALIDATE_CERT: Certificate rejected.  Code: 18, Reason = self signed certificate')] };
    const d = decide(ev, []);
    assert.deepEqual([d?.verdict, d?.class], ['REFUSED', 'self-signed']);
  });

  it('lets a target error-map entry win over the C SDK map', () => {
    const ev: Evidence = { observations: obs(tcp), lines: [line('vendor says: cert no good')] };
    assert.equal(decide(ev, [{ pattern: 'cert no good', class: 'untrusted-cert' }])?.class, 'untrusted-cert');
  });

  it('asks the platform side when the EMS only says the handshake failed', () => {
    const emsLine = line('TW_NEW_SSL_CLIENT: SSL handshake error. Error: sslv3 alert handshake failure.');
    const waiting: Evidence = { observations: obs(tcp), lines: [emsLine] };
    assert.equal(decide(waiting, []), undefined, 'not decisive until the platform reports');
    const failed: Observation = { kind: 'handshake-failed', at: 11, error: 'peer did not return a certificate' };
    const d = decide({ ...waiting, observations: obs(tcp, failed) }, []);
    assert.deepEqual([d?.verdict, d?.class], ['REFUSED', 'client-cert-required']);
    const unattributed = decide(waiting, [], true);
    assert.equal(unattributed?.verdict, 'REFUSED');
    assert.equal(unattributed?.class, undefined);
  });

  it('decides an exit without a recognised reason as an unattributed refusal', () => {
    const d = decide({ observations: [], lines: [line('something odd')], exit: { at: 5, code: 9, signal: null } }, []);
    assert.equal(d?.verdict, 'REFUSED');
    assert.equal(d?.class, undefined);
    assert.match(d!.because, /code 9.*something odd/);
  });

  it('calls an environment failure BROKEN, not a refusal', () => {
    const d = decide({ observations: [], lines: [line('wsems: http_server cannot listen on 127.0.0.1:8000: EADDRINUSE')] }, []);
    assert.equal(d?.verdict, 'BROKEN');
  });

  it('maps the platform TLS stack errors to failure classes', () => {
    assert.equal(attributeEndpointError('no shared cipher'), 'no-shared-cipher');
    assert.equal(attributeEndpointError('javax.net.ssl.SSLHandshakeException: no cipher suites in common'), 'no-shared-cipher');
    assert.equal(attributeEndpointError('tlsv1 alert unknown ca'), 'client-cert-rejected');
    assert.equal(attributeEndpointError('client certificate rejected: UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'client-cert-rejected');
    assert.equal(attributeEndpointError('unsupported protocol'), 'protocol-version');
    assert.equal(attributeEndpointError('something else'), undefined);
  });

  it('flags evidence where the two sides disagree', () => {
    const authOk: Observation = { kind: 'auth', at: 3, ok: true };
    assert.match(contradictions({ verdict: 'REFUSED', class: 'expired', because: 'x' }, { observations: obs(tcp, hsOk, authOk), lines: [] })[0]!, /authenticate/);
    assert.match(contradictions({ verdict: 'REFUSED', class: 'key-load-error', because: 'x' }, { observations: obs(tcp), lines: [] })[0]!, /start-up/);
    assert.match(contradictions({ verdict: 'REFUSED', class: 'no-shared-cipher', because: 'x' }, { observations: obs(tcp, hsOk), lines: [] })[0]!, /completed the handshake/);
    assert.match(contradictions({ verdict: 'REFUSED', class: 'expired', because: 'x' }, { observations: [], lines: [] })[0]!, /never saw it connect/);
    assert.deepEqual(contradictions({ verdict: 'REFUSED', class: 'expired', because: 'x' }, { observations: obs(tcp, hsOk), lines: [] }), []);
  });

  describe('judge', () => {
    const ev: Evidence = { observations: obs(tcp, hsOk), lines: [] };
    it('passes a refusal only for the expected class, and says what it got', () => {
      assert.deepEqual(judge({ outcome: 'refuses', class: 'expired' }, { verdict: 'REFUSED', class: 'expired', because: 'b' }, ev), { status: 'passed' });
      const wrong = judge({ outcome: 'refuses', class: 'self-signed' }, { verdict: 'REFUSED', class: 'untrusted-cert', because: 'b' }, ev);
      assert.equal(wrong.status, 'failed');
      assert.match(wrong.message!, /^expected refusal: self-signed; got refusal: untrusted-cert/);
      assert.match(judge({ outcome: 'refuses', class: 'expired' }, { verdict: 'CONNECTED', because: 'b' }, ev).message!, /^unexpected success/);
      assert.equal(judge({ outcome: 'refuses', class: 'expired' }, { verdict: 'HANG', because: 'b' }, ev).status, 'failed');
    });
    it('checks the negotiated cipher and protocol of a connection against the expectation', () => {
      const ok = { verdict: 'CONNECTED' as const, because: 'b' };
      assert.equal(judge({ outcome: 'connects', protocolIn: ['TLSv1.3'] }, ok, ev).status, 'passed');
      assert.match(judge({ outcome: 'connects', cipherIn: ['AES128-SHA'] }, ok, ev).message!, /TLS_AES_256_GCM_SHA384/);
    });
    it('maps BROKEN to broken and UNSUPPORTED to skipped', () => {
      assert.equal(judge({ outcome: 'connects' }, { verdict: 'BROKEN', because: 'ssh down' }, ev).status, 'broken');
      assert.equal(judge({ outcome: 'connects' }, { verdict: 'UNSUPPORTED', because: 'no fips' }, ev).status, 'skipped');
    });
  });
});
