import { strict as assert } from 'node:assert';
import type { Observation } from '../harness/endpoints/observations.ts';
import type { Expectation } from '../harness/scenario/model.ts';
import type { FailureClass } from '../harness/scenario/requirements.ts';
import { attributeEndpointError, contradictions, decide, expectationText, judge, unreachable, type Decision, type Evidence, type PlatformRoute } from '../harness/scenario/verdict.ts';

// The evidence rules one by one, with the exact words a verdict gives (a reader acts on them),
// next to test/verdict.test.ts's overview. Fake evidence, no I/O.

const at = (t: number, text: string) => ({ at: t, text });
const tcp: Observation = { kind: 'tcp-accepted', at: 1, remote: '127.0.0.1:5000' };
const tls12: Observation = { kind: 'handshake-ok', at: 2, protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' };
const tls13: Observation = { kind: 'handshake-ok', at: 2, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };
const authOk: Observation = { kind: 'auth', at: 3, ok: true };
const noCert = (t = 4): Observation => ({ kind: 'handshake-failed', at: t, error: 'peer did not return a certificate' });
const ev = (observations: Observation[], lines: Array<{ at: number; text: string }> = [], more: Partial<Evidence> = {}): Evidence => ({ observations, lines, ...more });

const HANDSHAKE_LINE = 'TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000410:SSL routines::sslv3 alert handshake failure.';
const READ_LINE = 'TW_SSL_READ: Error reading from SSL stream';
const GAVE_UP = 'twApi_Connect: Max number of connect retries: 3, has been reached';
const HOW_TO = '. No error-map entry gives this line a class; if it means one, add to the target\'s inventory entry: errorMap: ';

describe('verdict rules, word for word', () => {
  describe('CONNECTED', () => {
    it('needs the platform\'s successful AUTH and the EMS\'s line; quotes the line trimmed, at the later of the two', () => {
      const d = decide(ev([tcp, tls13, { ...authOk, at: 9 }], [at(4, '  [INFO] AUTH Message 12 succeeded. Code:64  ')]), []);
      assert.deepEqual(d, { verdict: 'CONNECTED', because: 'platform accepted AUTH; EMS logged "[INFO] AUTH Message 12 succeeded. Code:64"', evidenceAt: 9 });
    });
    it('a refused AUTH on the platform is no AUTH, whatever the EMS logs', () => {
      assert.equal(decide(ev([tcp, tls13, { kind: 'auth', at: 3, ok: false }], [at(4, 'AUTH Message 1 succeeded. Code:64')]), []), undefined);
    });
  });

  describe('an EMS line the error map attributes', () => {
    it('decides at once with the class and the line, trimmed', () => {
      assert.deepEqual(decide(ev([tcp, tls13], [at(7, '  TW_VALIDATE_CERT: Certificate rejected.  Code: 10, Reason = certificate has expired  ')]), []), {
        verdict: 'REFUSED', class: 'expired', because: 'TW_VALIDATE_CERT: Certificate rejected.  Code: 10, Reason = certificate has expired', evidenceAt: 7,
      });
    });
    it('an infrastructure line is BROKEN, with the line as the reason', () => {
      assert.deepEqual(decide(ev([tcp], [at(3, ' env down ')]), [{ pattern: 'env down', class: 'infrastructure' }]), { verdict: 'BROKEN', because: 'env down', evidenceAt: 3 });
    });
    it('a context line decides nothing by itself', () => {
      assert.equal(decide(ev([tcp, tls13], [at(3, "twWs_Connect: Didn't get the entire header - attempting to read more")]), []), undefined);
      assert.equal(decide(ev([tcp, tls13], [at(3, 'apiThread: Did not receive pong in time')]), [], true), undefined);
    });
    it('a line no entry knows decides nothing while the platform has not failed the handshake', () => {
      assert.equal(decide(ev([tcp, tls13], [at(3, '[ERROR] something failed')]), []), undefined);
    });
  });

  describe('the platform\'s handshake failure, then any EMS error line', () => {
    const failed: Observation = noCert(4);
    it('decides from the platform\'s side, quoting both, at the EMS line', () => {
      assert.deepEqual(decide(ev([tcp, failed], [at(6, ' [ERROR] vendor: connection went away ')]), []), {
        verdict: 'REFUSED', class: 'client-cert-required', because: 'platform saw: peer did not return a certificate / EMS: [ERROR] vendor: connection went away', evidenceAt: 6,
      });
    });
    it('counts an error line at the very moment of the TCP accept, not one before it (a previous attempt)', () => {
      assert.equal(decide(ev([{ ...tcp, at: 5 }, failed], [at(5, '[ERROR] vendor: gone')]), [])?.class, 'client-cert-required');
      assert.equal(decide(ev([{ ...tcp, at: 5 }, failed], [at(4, '[ERROR] vendor: gone')]), []), undefined);
    });
    it('needs a TCP accept, an error line and a failure the platform can attribute', () => {
      assert.equal(decide(ev([failed], [at(6, '[ERROR] vendor: gone')]), []), undefined, 'no TCP accept');
      assert.equal(decide(ev([tcp, failed], [at(6, '[INFO] vendor: all is well')]), []), undefined, 'not an error line');
      assert.equal(decide(ev([tcp, { kind: 'handshake-failed', at: 4, error: 'socket hang up' }], [at(6, '[ERROR] vendor: gone')]), []), undefined, 'nothing the platform can attribute');
    });
  });

  describe('a line that blames the handshake or the connection', () => {
    for (const line of [HANDSHAKE_LINE, READ_LINE]) {
      it(`"${line.slice(0, 30)}…" waits for the platform; its failure gives the class at once`, () => {
        assert.equal(decide(ev([tcp], [at(5, line)]), []), undefined);
        assert.deepEqual(decide(ev([tcp, noCert(6)], [at(5, line)]), []), {
          verdict: 'REFUSED', class: 'client-cert-required', because: `platform saw: peer did not return a certificate / EMS: ${line}`, evidenceAt: 5,
        });
      });
    }
    it('with the platform\'s story but no class: unattributed at once, quoting both, without the how-to', () => {
      const upgrade: Observation = { kind: 'upgrade-rejected', at: 4, path: '/Thingworx/WS', status: 403 };
      assert.deepEqual(decide(ev([tcp, tls12, upgrade], [at(5, READ_LINE)]), []), {
        verdict: 'REFUSED', because: `unattributed refusal: "${READ_LINE}" / platform saw: WebSocket upgrade to /Thingworx/WS refused with 403`, evidenceAt: 5,
      });
      const closed: Observation = { kind: 'closed', at: 4, phase: 'tls' };
      assert.equal(decide(ev([tcp, closed], [at(5, HANDSHAKE_LINE)]), [])?.because, `unattributed refusal: "${HANDSHAKE_LINE}" / platform saw: connection closed in the tls phase`);
      const failed: Observation = { kind: 'handshake-failed', at: 4, error: 'socket hang up' };
      assert.equal(decide(ev([tcp, failed], [at(5, HANDSHAKE_LINE)]), [])?.because, `unattributed refusal: "${HANDSHAKE_LINE}" / platform saw: socket hang up`);
    });
    it('quotes the line trimmed', () => {
      assert.equal(decide(ev([tcp], [at(5, `  ${HANDSHAKE_LINE}  `)]), [], true)?.because, `unattributed refusal: "${HANDSHAKE_LINE}"`);
    });
    it('a close after authenticating is no story about the refusal', () => {
      assert.equal(decide(ev([tcp, tls12, authOk, { kind: 'closed', at: 9, phase: 'authenticated' }], [at(10, READ_LINE)]), []), undefined);
    });
    it('with the platform silent: unattributed once no more evidence comes (final, or the EMS exited), quoting the first such line', () => {
      const lines = [at(5, HANDSHAKE_LINE), at(6, 'Error intializing SSL connection')];
      assert.deepEqual(decide(ev([tcp], lines), [], true), { verdict: 'REFUSED', because: `unattributed refusal: "${HANDSHAKE_LINE}"`, evidenceAt: 5 });
      assert.deepEqual(decide(ev([tcp], lines, { exit: { at: 9, code: 1, signal: null } }), []), { verdict: 'REFUSED', because: `unattributed refusal: "${HANDSHAKE_LINE}"`, evidenceAt: 5 });
    });
  });

  describe('a line that says the EMS refused without saying why', () => {
    it('alone: unattributed at once, with the errorMap entry that would attribute it', () => {
      const d = decide(ev([tcp], [at(5, GAVE_UP)]), []);
      assert.equal(d?.verdict, 'REFUSED');
      assert.equal(d?.class, undefined);
      assert.equal(d?.because, `unattributed refusal: "${GAVE_UP}"${HOW_TO}[{ pattern: 'twApi_Connect: Max number of connect retries: \\d+, has been reached', class: <failure class> }] (docs/target-profiles.md "Error maps")`);
    });
    it('the how-to\'s pattern is a YAML single-quoted string: quotes in it doubled', () => {
      const d = decide(ev([tcp], [at(5, "vendor: refused 'platform'")]), [{ pattern: 'vendor: refused', class: 'refused' }]);
      assert.match(d!.because, /errorMap: \[\{ pattern: 'vendor: refused ''\[\^'']\*''', class: <failure class> \}\]/);
    });
    it('after a line that blamed the handshake: that line is the one quoted, without the how-to', () => {
      assert.deepEqual(decide(ev([tcp], [at(5, HANDSHAKE_LINE), at(8, GAVE_UP)]), []), { verdict: 'REFUSED', because: `unattributed refusal: "${HANDSHAKE_LINE}"`, evidenceAt: 5 });
    });
    it('with the platform\'s attributable failure: the platform\'s class', () => {
      assert.deepEqual(decide(ev([tcp, noCert(4)], [at(8, GAVE_UP)]), []), {
        verdict: 'REFUSED', class: 'client-cert-required', because: `platform saw: peer did not return a certificate / EMS: ${GAVE_UP}`, evidenceAt: 8,
      });
    });
  });

  describe('a TCP connect failure', () => {
    const line = 'Error intializing socket connection.  Err = 111';
    it('with no TCP accept on the platform: BROKEN, naming what the EMS was given', () => {
      assert.deepEqual(decide(ev([], [at(3, line)]), []), { verdict: 'BROKEN', because: unreachable(line, undefined), evidenceAt: 3 });
    });
    it('an observation that is not a TCP accept does not count as one', () => {
      assert.equal(decide(ev([{ kind: 'closed', at: 1, phase: 'tcp' }], [at(3, line)]), [])?.verdict, 'BROKEN');
    });
  });

  describe('the EMS exiting', () => {
    it('without a recognised reason: the last three lines, trimmed, or "no output"', () => {
      const lines = ['a', ' b ', 'c', 'd'].map((t, i) => at(i, t));
      assert.deepEqual(decide(ev([], lines, { exit: { at: 9, code: 2, signal: null } }), []), {
        verdict: 'REFUSED', because: 'EMS exited (code 2, signal null) without a recognised reason: b | c | d', evidenceAt: 9,
      });
      assert.equal(decide(ev([], [], { exit: { at: 9, code: null, signal: 'SIGKILL' } }), [])?.because, 'EMS exited (code null, signal SIGKILL) without a recognised reason: no output');
    });
    it('after the platform\'s attributable failure: its class, at the later of the two', () => {
      assert.deepEqual(decide(ev([tcp, noCert(12)], [], { exit: { at: 9, code: 1, signal: null } }), []), {
        verdict: 'REFUSED', class: 'client-cert-required', because: 'platform saw: peer did not return a certificate / EMS exited (code 1, signal null)', evidenceAt: 12,
      });
    });
    it('nothing decisive and no exit: wait', () => {
      assert.equal(decide(ev([tcp, tls13], [at(1, '[INFO] starting')]), [], true), undefined);
    });
  });

  describe('the platform\'s error texts', () => {
    const cases: Array<[string, FailureClass | undefined]> = [
      ['no shared cipher', 'no-shared-cipher'], ['no suitable signature algorithm', 'no-shared-cipher'], ['no ciphers available', 'no-shared-cipher'],
      ['No Cipher Suites In Common', 'no-shared-cipher'],
      ['peer did not return a certificate', 'client-cert-required'], ['tlsv13 alert certificate required', 'client-cert-required'],
      ['client certificate rejected: x', 'client-cert-rejected'], ['certificate verify failed', 'client-cert-rejected'], ['tlsv1 alert unknown ca', 'client-cert-rejected'],
      ['unable to get issuer certificate', 'client-cert-rejected'], ['unable to get local issuer certificate', 'client-cert-rejected'],
      ['self signed certificate', 'client-cert-rejected'], ['self-signed certificate in certificate chain', 'client-cert-rejected'],
      ['certificate has expired', 'client-cert-rejected'], ['certificate expired', 'client-cert-rejected'],
      ['unsupported protocol', 'protocol-version'], ['wrong version number', 'protocol-version'], ['version too low', 'protocol-version'],
      ['tlsv1 alert protocol version', 'protocol-version'], ['inappropriate fallback', 'protocol-version'],
      ['dh key too small', 'dh-too-small'], ['insufficient security', 'dh-too-small'],
      ['socket hang up', undefined], ['unable to get certificate', undefined],
    ];
    for (const [text, cls] of cases) it(`"${text}" → ${cls ?? 'nothing'}`, () => assert.equal(attributeEndpointError(text), cls));
  });

  describe('an unreachable platform, in words', () => {
    const route = (over: Partial<PlatformRoute> = {}): PlatformRoute => ({ target: 'gw1', servers: [{ host: 'platform.conformance.test', port: 28001 }], bindAddress: '10.0.0.1', port: 28001, ...over });
    const errno: Array<[string, string]> = [
      ['111', 'ECONNREFUSED: nothing listens there'], ['113', 'EHOSTUNREACH: no route to the host'], ['101', 'ENETUNREACH: network unreachable'],
      ['110', 'ETIMEDOUT: no answer'], ['10061', 'WSAECONNREFUSED: nothing listens there'], ['10065', 'WSAEHOSTUNREACH: no route to the host'],
      ['10051', 'WSAENETUNREACH: network unreachable'], ['10060', 'WSAETIMEDOUT: no answer'],
    ];
    for (const [n, text] of errno) {
      it(`Err = ${n}: ${text}`, () => {
        assert.equal(unreachable(` Error intializing socket connection.  Err = ${n} `, undefined), `the EMS could not open a TCP connection to the platform and the endpoint saw none: "Error intializing socket connection.  Err = ${n}" (${text})`);
      });
    }
    it('reads the number in the spellings the SDK uses, and says nothing of one it does not know', () => {
      for (const line of ['Err = 113', 'Err=113', 'Error 113', 'Error = 113', 'Err= 113', 'Err =113']) assert.match(unreachable(line, undefined), /\(EHOSTUNREACH: no route to the host\)$/, line);
      assert.equal(unreachable('Err = 99', undefined), 'the EMS could not open a TCP connection to the platform and the endpoint saw none: "Err = 99"');
      assert.equal(unreachable('no number here', undefined), 'the EMS could not open a TCP connection to the platform and the endpoint saw none: "no number here"');
    });
    it('names what the EMS was given, where the endpoint listens and the route', () => {
      assert.equal(unreachable('Err = 111', route({ via: 'a reverse SSH tunnel' })), [
        'the EMS could not open a TCP connection to the platform and the endpoint saw none: "Err = 111" (ECONNREFUSED: nothing listens there).',
        'The EMS was given ws_servers platform.conformance.test:28001; the endpoint listens on 10.0.0.1:28001, reached through a reverse SSH tunnel',
        '. Check that platform.conformance.test resolves, where the EMS runs, to 10.0.0.1 and that nothing blocks port 28001.',
      ].join(''));
      assert.equal(unreachable('Err = 111', route({ servers: [] })), [
        'the EMS could not open a TCP connection to the platform and the endpoint saw none: "Err = 111" (ECONNREFUSED: nothing listens there).',
        'The EMS was given ws_servers (none); the endpoint listens on 10.0.0.1:28001 on this host (target gw1)',
        '. Check that the host resolves, where the EMS runs, to 10.0.0.1 and that nothing blocks port 28001.',
      ].join(''));
    });
    it('a port above 32767 is the int16 problem; 32767 itself is not', () => {
      const two = route({ servers: [{ host: 'a', port: 32768 }, { host: 'b', port: 40000 }], port: 32768 });
      assert.match(unreachable('Err = 111', two), /The EMS was given ws_servers a:32768, b:40000; /);
      assert.match(unreachable('Err = 111', two), /; port 32768, 40000 is above 32767: an EMS that holds the port in an int16_t \(the C SDK 2\.2\.1\) never reaches it\.$/);
      assert.doesNotMatch(unreachable('Err = 111', route({ servers: [{ host: 'a', port: 32767 }], port: 32767 })), /int16/);
    });
  });

  describe('contradictions', () => {
    const refusal = (cls: FailureClass): Decision => ({ verdict: 'REFUSED', class: cls, because: 'b' });
    it('a refusal after the platform saw the EMS authenticate; a refused AUTH is none', () => {
      assert.deepEqual(contradictions({ verdict: 'REFUSED', because: 'b' }, ev([tcp, tls13, authOk])), ['the platform saw the EMS authenticate, yet the EMS reported a refusal']);
      assert.deepEqual(contradictions({ verdict: 'REFUSED', because: 'b' }, ev([tcp, tls13, { kind: 'auth', at: 3, ok: false }])), []);
      assert.deepEqual(contradictions({ verdict: 'CONNECTED', because: 'b' }, ev([tcp, tls13, authOk])), []);
    });
    for (const cls of ['key-load-error', 'config-error', 'fips-unavailable'] as const) {
      it(`${cls} is a start-up refusal: a TCP connection contradicts it`, () => {
        assert.deepEqual(contradictions(refusal(cls), ev([tcp])), [`the EMS reported ${cls} at start-up, yet the platform saw a TCP connection`]);
        assert.deepEqual(contradictions(refusal(cls), ev([])), []);
      });
    }
    for (const cls of ['no-shared-cipher', 'protocol-version', 'dh-too-small', 'client-cert-required', 'client-cert-rejected'] as const) {
      it(`${cls} is a handshake refusal: a completed TLS 1.2 handshake contradicts it`, () => {
        assert.deepEqual(contradictions(refusal(cls), ev([tcp, tls12])), [`the EMS reported ${cls}, yet the platform completed the handshake`]);
        assert.deepEqual(contradictions(refusal(cls), ev([tcp])), []);
      });
    }
    for (const cls of ['untrusted-cert', 'self-signed', 'expired', 'hostname-mismatch', 'criteria-mismatch'] as const) {
      it(`${cls} comes after the handshake: no TCP connection contradicts it`, () => {
        assert.deepEqual(contradictions(refusal(cls), ev([])), [`the EMS reported ${cls}, yet the platform never saw it connect`]);
        assert.deepEqual(contradictions(refusal(cls), ev([tcp, tls13])), []);
      });
    }
    it('no class, no contradiction by class', () => {
      assert.deepEqual(contradictions({ verdict: 'REFUSED', because: 'b' }, ev([tcp, tls12])), []);
      assert.deepEqual(contradictions(refusal('auth-rejected'), ev([])), []);
    });
    it('TLS 1.3: the platform refusing the client certificate after its handshake (or at the same moment) is no contradiction, for either client-certificate class', () => {
      for (const cls of ['client-cert-required', 'client-cert-rejected'] as const) {
        assert.deepEqual(contradictions(refusal(cls), ev([tcp, tls13, noCert(5)])), [], cls);
        assert.deepEqual(contradictions(refusal(cls), ev([tcp, tls13, noCert(2)])), [], `${cls}, same moment`);
        assert.equal(contradictions(refusal(cls), ev([tcp, noCert(1), tls13])).length, 1, `${cls}: a failure before the handshake completed is another story`);
      }
      assert.equal(contradictions(refusal('no-shared-cipher'), ev([tcp, tls13, noCert(5)])).length, 1, 'only the client-certificate classes');
    });
    it('lists every contradiction there is', () => {
      assert.deepEqual(contradictions(refusal('config-error'), ev([tcp, tls13, authOk])), [
        'the platform saw the EMS authenticate, yet the EMS reported a refusal',
        'the EMS reported config-error at start-up, yet the platform saw a TCP connection',
      ]);
    });
  });

  describe('judge', () => {
    const connected: Decision = { verdict: 'CONNECTED', because: 'platform accepted AUTH' };
    const evidence = ev([tcp, tls13, authOk]);
    it('BROKEN and UNSUPPORTED come first, whatever the evidence or the expectation', () => {
      assert.deepEqual(judge({ outcome: 'refuses', class: 'expired' }, { verdict: 'BROKEN', because: 'ssh down' }, evidence), { status: 'broken', message: 'ssh down' });
      assert.deepEqual(judge({ outcome: 'refuses', class: 'expired' }, { verdict: 'UNSUPPORTED', because: 'no fips' }, evidence), { status: 'skipped', message: 'no fips' });
    });
    it('contradictory evidence fails, naming each contradiction, before the expectation is looked at', () => {
      assert.deepEqual(judge({ outcome: 'refuses', class: 'config-error' }, { verdict: 'REFUSED', class: 'config-error', because: 'b' }, evidence), {
        status: 'failed',
        message: 'contradictory evidence: the platform saw the EMS authenticate, yet the EMS reported a refusal; the EMS reported config-error at start-up, yet the platform saw a TCP connection',
      });
    });
    it('one expectation: passed without a member index; its failure message as is', () => {
      assert.deepEqual(judge({ outcome: 'connects' }, connected, evidence), { status: 'passed' });
      assert.deepEqual(judge([{ outcome: 'connects' }], connected, evidence), { status: 'passed' });
      assert.deepEqual(judge({ outcome: 'refuses', class: 'expired' }, { verdict: 'HANG', because: 'no decisive evidence' }, ev([tcp])), { status: 'failed', message: 'expected refusal: expired; got HANG (no decisive evidence)' });
      assert.deepEqual(judge({ outcome: 'connects' }, { verdict: 'REFUSED', because: 'odd' }, ev([tcp])), { status: 'failed', message: 'expected connection; got refusal: unattributed (odd)' });
      assert.deepEqual(judge({ outcome: 'refuses', class: 'expired' }, { verdict: 'REFUSED', class: 'self-signed', because: 'b' }, ev([tcp, tls13])), { status: 'failed', message: 'expected refusal: expired; got refusal: self-signed (b)' });
    });
    it('a weak connection is passed with its reason; a weak member that did not hold gives none', () => {
      assert.deepEqual(judge({ outcome: 'connects', weak: 'TLS 1.0' }, connected, evidence), { status: 'passed', weak: 'TLS 1.0' });
      const set: Expectation[] = [{ outcome: 'refuses', class: 'protocol-version' }, { outcome: 'connects', weak: 'TLS 1.0' }];
      assert.deepEqual(judge(set, { verdict: 'REFUSED', class: 'protocol-version', because: 'b' }, ev([tcp])), { status: 'passed', met: 0 });
    });
    it('a set of refusals met by a connection: unexpected success, naming each refusal', () => {
      const refusals: Expectation[] = [{ outcome: 'refuses', class: 'expired' }, { outcome: 'refuses', class: 'untrusted-cert' }];
      assert.deepEqual(judge(refusals, connected, evidence), { status: 'failed', message: 'unexpected success: expected refusal: expired or untrusted-cert' });
    });
    it('a connection with none of the listed suites names them all', () => {
      assert.deepEqual(judge({ outcome: 'connects', cipherIn: ['AES128-SHA', 'AES256-SHA'] }, connected, evidence), {
        status: 'failed', message: 'connected with cipher TLS_AES_256_GCM_SHA384, expected one of AES128-SHA, AES256-SHA',
      });
    });
    it('a HANG or BROKEN verdict is described without the handshake, even when the platform saw one', () => {
      assert.deepEqual(judge({ outcome: 'connects' }, { verdict: 'HANG', because: 'silent' }, ev([tcp, tls13])), { status: 'failed', message: 'expected connection; got HANG (silent)' });
    });
    it('a set none of whose members holds: every member named, and what happened', () => {
      const set: Expectation[] = [{ outcome: 'refuses', class: 'expired' }, { outcome: 'connects', protocolIn: ['TLSv1.2'] }];
      assert.deepEqual(judge(set, { verdict: 'HANG', because: 'silent' }, ev([tcp])), { status: 'failed', message: 'expected one of: refusal: expired | connection over TLSv1.2; got HANG (silent)' });
      assert.deepEqual(judge(set, connected, evidence), { status: 'failed', message: 'expected one of: refusal: expired | connection over TLSv1.2; got CONNECTED with TLS_AES_256_GCM_SHA384 over TLSv1.3 (platform accepted AUTH)' });
      const refusals: Expectation[] = [{ outcome: 'refuses', class: 'expired' }, { outcome: 'refuses', class: 'untrusted-cert' }];
      assert.deepEqual(judge(refusals, { verdict: 'HANG', because: 'silent' }, ev([tcp])), { status: 'failed', message: 'expected one of: refusal: expired | refusal: untrusted-cert; got HANG (silent)' });
    });
    it('a CONNECTED verdict without an observed handshake is described without one', () => {
      assert.deepEqual(judge({ outcome: 'refuses', class: 'expired' }, connected, ev([tcp, authOk])), { status: 'failed', message: 'unexpected success: expected refusal: expired' });
      assert.deepEqual(judge([{ outcome: 'refuses', class: 'expired' }, { outcome: 'connects', cipherIn: ['X'] }], connected, ev([tcp, authOk])), {
        status: 'failed', message: 'expected one of: refusal: expired | connection with X; got CONNECTED (platform accepted AUTH)',
      });
    });
  });

  describe('an expectation in words', () => {
    const cases: Array<[Expectation, string]> = [
      [{ outcome: 'refuses', class: 'expired' }, 'refusal: expired'],
      [{ outcome: 'connects' }, 'connection'],
      [{ outcome: 'connects', cipherIn: ['A', 'B', 'C'] }, 'connection with A / B / C'],
      [{ outcome: 'connects', cipherIn: ['A', 'B', 'C', 'D'] }, 'connection with one of 4 listed suites'],
      [{ outcome: 'connects', protocolIn: ['TLSv1.2', 'TLSv1.3'] }, 'connection over TLSv1.2 / TLSv1.3'],
      [{ outcome: 'connects', cipherIn: ['A'], protocolIn: ['TLSv1.2'], weak: 'w' }, 'connection with A over TLSv1.2 (weak)'],
      [{ outcome: 'connects', weak: 'w' }, 'connection (weak)'],
    ];
    for (const [e, text] of cases) it(text, () => assert.equal(expectationText(e), text));
  });
});
