import { strict as assert } from 'node:assert';
import type { Observation } from '../harness/endpoints/observations.ts';
import { attributeEndpointError, contradictions, decide, expectationText, judge, type Evidence } from '../harness/scenario/verdict.ts';

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
    // A line the default map knows (code 20: untrusted-cert), which this target's build means otherwise.
    const known = line('TW_VALIDATE_CERT: Certificate rejected.  Code: 20, Reason = unable to get local issuer certificate');
    const ev: Evidence = { observations: obs(tcp, hsOk), lines: [known] };
    assert.equal(decide(ev, [])?.class, 'untrusted-cert', 'the default map alone');
    assert.equal(decide(ev, [{ pattern: 'Code: 20, Reason = unable to get local issuer', class: 'expired' }])?.class, 'expired', 'the target entry first');
    // A target entry that does not match leaves the default map's answer.
    assert.equal(decide(ev, [{ pattern: 'no such line', class: 'expired' }])?.class, 'untrusted-cert');
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
    const simulatorLine = { pattern: 'wsems: http_server cannot listen on', class: 'infrastructure' as const };
    const d = decide({ observations: [], lines: [line('wsems: http_server cannot listen on 127.0.0.1:8000: EADDRINUSE')] }, [simulatorLine]);
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

  it('lets a TLS 1.3 platform report its handshake done and then refuse the client certificate', () => {
    const refusal = { verdict: 'REFUSED' as const, class: 'client-cert-required' as const, because: 'x' };
    const later: Observation = { kind: 'handshake-failed', at: 3, error: 'peer did not return a certificate' };
    assert.deepEqual(contradictions(refusal, { observations: obs(tcp, hsOk, later), lines: [] }), []);
    const tls12 = { ...hsOk, protocol: 'TLSv1.2' };
    assert.match(contradictions(refusal, { observations: obs(tcp, tls12, later), lines: [] })[0]!, /completed the handshake/, 'TLS 1.2 puts it inside the handshake');
    assert.match(contradictions(refusal, { observations: obs(tcp, hsOk), lines: [] })[0]!, /completed the handshake/, 'no failure after it');
  });

  it('calls a TCP connect failure the endpoint never saw BROKEN, naming what the EMS was given', () => {
    const route = { target: 'gw1', servers: [{ host: 'platform.conformance.test', port: 28001 }], bindAddress: '10.0.0.1', port: 28001, via: 'the network' };
    const d = decide({ observations: [], lines: [line('Error intializing socket connection.  Err = 113')], route }, []);
    assert.equal(d?.verdict, 'BROKEN');
    assert.match(d!.because, /EHOSTUNREACH.*ws_servers platform\.conformance\.test:28001.*10\.0\.0\.1:28001, reached through the network/);
    assert.doesNotMatch(d!.because, /int16/, 'a port below 32768 is not the int16 problem');
    // Once the endpoint saw a connection, a failed connect (a retry, a fallback) decides nothing.
    assert.equal(decide({ observations: obs(tcp), lines: [line('Error intializing socket connection.  Err = 111', 5)] }, []), undefined);
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
      assert.equal(judge({ outcome: 'connects', cipherIn: ['AES128-SHA', 'TLS_AES_256_GCM_SHA384'] }, ok, ev).status, 'passed');
    });
    it('fails a connection over a protocol the expectation does not list, naming what was negotiated', () => {
      const ok = { verdict: 'CONNECTED' as const, because: 'b' };
      const j = judge({ outcome: 'connects', protocolIn: ['TLSv1.2'] }, ok, ev);
      assert.deepEqual(j, { status: 'failed', message: 'connected with TLSv1.3, expected one of TLSv1.2' });
      // The suite may be right and the protocol still wrong: each is checked on its own.
      assert.equal(judge({ outcome: 'connects', cipherIn: ['TLS_AES_256_GCM_SHA384'], protocolIn: ['TLSv1.2', 'TLSv1.1'] }, ok, ev).message, 'connected with TLSv1.3, expected one of TLSv1.2, TLSv1.1');
    });
    it('fails a connection with an expected suite or protocol when the platform observed no handshake', () => {
      const ok = { verdict: 'CONNECTED' as const, because: 'b' };
      const none: Evidence = { observations: obs(tcp), lines: [] };
      assert.equal(judge({ outcome: 'connects', protocolIn: ['TLSv1.3'] }, ok, none).message, 'connected with (none observed), expected one of TLSv1.3');
      assert.equal(judge({ outcome: 'connects', cipherIn: ['AES128-SHA'] }, ok, none).message, 'connected with cipher (none observed), expected one of AES128-SHA');
      assert.equal(judge({ outcome: 'connects' }, ok, none).status, 'passed', 'no suite or protocol asked: none needed');
    });
    it('passes an expectation set on any member, and says which one held', () => {
      const set = [{ outcome: 'refuses' as const, class: 'config-error' as const }, { outcome: 'refuses' as const, class: 'untrusted-cert' as const }];
      assert.deepEqual(judge(set, { verdict: 'REFUSED', class: 'untrusted-cert', because: 'b' }, ev), { status: 'passed', met: 1 });
      assert.deepEqual(judge(set, { verdict: 'REFUSED', class: 'config-error', because: 'b' }, { observations: [], lines: [] }), { status: 'passed', met: 0 });
      assert.equal(judge(set, { verdict: 'CONNECTED', because: 'b' }, ev).message, 'unexpected success: expected refusal: config-error or untrusted-cert');
      const mixed = [set[0]!, { outcome: 'connects' as const, cipherIn: ['AES128-SHA256'] }];
      assert.match(judge(mixed, { verdict: 'CONNECTED', because: 'b' }, ev).message!, /^expected one of: refusal: config-error \| connection with AES128-SHA256; got CONNECTED with TLS_AES_256_GCM_SHA384 over TLSv1\.3/);
    });
    it('passes a weak member as passed with its reason, never as holding by itself', () => {
      const set = [{ outcome: 'refuses' as const, class: 'protocol-version' as const }, { outcome: 'connects' as const, protocolIn: ['TLSv1.3'], weak: 'completed a weak handshake' }];
      assert.deepEqual(judge(set, { verdict: 'CONNECTED', because: 'b' }, ev), { status: 'passed', met: 1, weak: 'completed a weak handshake' });
      assert.deepEqual(judge(set, { verdict: 'REFUSED', class: 'protocol-version', because: 'b' }, { observations: obs(tcp), lines: [] }), { status: 'passed', met: 0 });
    });
    it('fails a local-server expectation on the platform link, even when the EMS connected', () => {
      assert.deepEqual(judge({ outcome: 'serves-plain' }, { verdict: 'CONNECTED', because: 'b' }, ev), { status: 'failed', message: 'serves plain HTTP is no outcome of the platform link' });
    });
    it('words an all-of by its parts', () => {
      assert.equal(expectationText({ outcome: 'all-of', of: [{ outcome: 'serves-plain' }, { outcome: 'rejects-unauthenticated' }] } as never),
        'all of: serves plain HTTP & answers 401 without or with wrong credentials, 200 with the configured ones');
    });
    it('maps BROKEN to broken and UNSUPPORTED to skipped', () => {
      assert.equal(judge({ outcome: 'connects' }, { verdict: 'BROKEN', because: 'ssh down' }, ev).status, 'broken');
      assert.equal(judge({ outcome: 'connects' }, { verdict: 'UNSUPPORTED', because: 'no fips' }, ev).status, 'skipped');
    });
  });
});
