import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import forge from 'node-forge';
import WebSocket from 'ws';
import {
  authBody, bindBody, Code, decodeMessage, encodeMessage, NO_SESSION, type Message,
} from '../harness/endpoints/alwayson.ts';
import type { Observation, ObservationKind } from '../harness/endpoints/observations.ts';
import { REDACTED } from '../harness/endpoints/platform-stub.ts';
import { EndpointSpec, type EndpointSpecInput } from '../harness/endpoints/spec.ts';
import { startEndpoint, type Endpoint } from '../harness/endpoints/tls-endpoint.ts';
import type { Catalogue, CertRecord } from '../harness/pki/catalogue.ts';

// Real TLS and WebSocket clients against the real endpoint, with a small catalogue made here
// (the PKI module is not a dependency of these tests).

const APP_KEY = 'e3b0c442-98fc-1c14-9afb-4c8996fb9242';
const HOST = '127.0.0.1';

interface Issued {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  certPem: string;
  keyPem: string;
}

function issue(cn: string, opts: { issuer?: Issued; isCA?: boolean; server?: boolean }): Issued {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(pair.privateKey) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  // A leading 01 keeps the DER INTEGER positive and minimal: "0" + random hex made a non-minimal one
  // (OpenSSL: "illegal padding") whenever the first random byte was 00, about 1 certificate in 500.
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'Harness Lab' }];
  cert.setSubject(subject);
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : subject);
  const extensions: object[] = [{ name: 'basicConstraints', cA: !!opts.isCA }];
  if (opts.isCA) extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true });
  else extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true });
  if (opts.server) {
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
    extensions.push({ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: HOST }] });
  } else if (!opts.isCA) {
    extensions.push({ name: 'extKeyUsage', clientAuth: true });
  }
  cert.setExtensions(extensions);
  cert.sign(opts.issuer?.key ?? key, forge.md.sha256.create());
  return { cert, key, certPem: forge.pki.certificateToPem(cert), keyPem: pair.privateKey };
}

function makeCatalogue(dir: string): { catalogue: Catalogue; issued: Record<string, Issued> } {
  const ca = issue('Harness Root CA', { isCA: true });
  const clientCa = issue('Harness Client CA', { isCA: true });
  const issued: Record<string, Issued> = {
    ca,
    'leaf-valid': issue('localhost', { issuer: ca, server: true }),
    'client-ca': clientCa,
    'client-valid': issue('ems-gateway-01', { issuer: clientCa }),
    'client-rogue': issue('ems-gateway-01', {}),
  };
  const certs: Record<string, CertRecord> = {};
  for (const [name, it] of Object.entries(issued)) {
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    writeFileSync(certFile, it.certPem);
    writeFileSync(keyFile, it.keyPem);
    certs[name] = {
      name, certFile, keyFile,
      serveWith: [],
      subject: { CN: it.cert.subject.getField('CN').value, O: 'Harness Lab' },
      issuer: { CN: it.cert.issuer.getField('CN').value, O: 'Harness Lab' },
      notBefore: it.cert.validity.notBefore.toISOString(),
      notAfter: it.cert.validity.notAfter.toISOString(),
      selfSigned: it.cert.issuer.hash === it.cert.subject.hash,
      isCA: name.endsWith('ca'),
    };
  }
  return { catalogue: { storeDir: dir, certs, files: {}, secrets: {} }, issued };
}

/** Resolves with the first observation of `kind`, already seen or still to come. */
function observed<K extends ObservationKind>(ep: Endpoint, kind: K): Promise<Extract<Observation, { kind: K }>> {
  type O = Extract<Observation, { kind: K }>;
  const seen = ep.observations.find((o): o is O => o.kind === kind);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const off = ep.onObservation((o) => {
      if (o.kind === kind) {
        off();
        resolve(o as O);
      }
    });
  });
}

const kinds = (ep: Endpoint) => ep.observations.map((o) => o.kind);

/** Messages from the platform, one at a time, in arrival order. */
class Inbox {
  private readonly queue: Message[] = [];
  private waiting: ((m: Message) => void) | undefined;
  constructor(ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = decodeMessage(data);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.queue.push(m);
    });
  }
  next(): Promise<Message> {
    const m = this.queue.shift();
    return m ? Promise.resolve(m) : new Promise((resolve) => (this.waiting = resolve));
  }
}

describe('platform endpoint (Node TLS + platform stub)', function () {
  this.timeout(20000);
  let dir: string;
  let catalogue: Catalogue;
  let issued: Record<string, Issued>;
  const open: Endpoint[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'endpoint-test-'));
    ({ catalogue, issued } = makeCatalogue(dir));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((ep) => ep.close()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function endpoint(spec: EndpointSpecInput = {}): Promise<Endpoint> {
    const ep = await startEndpoint(EndpointSpec.parse(spec), { catalogue, appKey: APP_KEY, bindAddress: HOST });
    open.push(ep);
    return ep;
  }

  const trustServer = (): ConnectionOptions => ({ ca: issued.ca!.certPem, servername: 'localhost' });

  /** A TLS client; resolves once its handshake completes, rejects with its error. */
  function tlsClient(ep: Endpoint, opts: ConnectionOptions): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: ep.host, port: ep.port, ...trustServer(), ...opts });
      socket.once('secureConnect', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  /** A TLS client the server is expected to refuse; resolves once the server has closed it. */
  function refusedClient(ep: Endpoint, opts: ConnectionOptions): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: ep.host, port: ep.port, ...trustServer(), ...opts });
      socket.on('error', () => {});
      socket.once('close', () => resolve());
    });
  }

  function wsClient(ep: Endpoint, opts: { path?: string; appKey?: string; tls?: ConnectionOptions } = {}): WebSocket {
    return new WebSocket(`wss://${HOST}:${ep.port}${opts.path ?? '/Thingworx/WS'}`, {
      ...trustServer(),
      ...opts.tls,
      headers: { 'User-Agent': 'ThingWorx C SDK', appKey: opts.appKey ?? APP_KEY },
    });
  }

  const opened = (ws: WebSocket) =>
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });

  function send(ws: WebSocket, m: Omit<Message, 'endpointId'>): void {
    ws.send(encodeMessage({ endpointId: 0, ...m }));
  }

  it('serves the happy path: TLS, upgrade, AUTH, BIND, observed in order with the app key redacted', async () => {
    const ep = await endpoint();
    const ws = wsClient(ep);
    const upgraded = new Promise<TLSSocket>((resolve) => ws.once('upgrade', (res) => resolve(res.socket as TLSSocket)));
    const inbox = new Inbox(ws);
    await opened(ws);

    send(ws, { code: Code.AUTH, requestId: 1, sessionId: NO_SESSION, body: authBody(APP_KEY) });
    const auth = await inbox.next();
    assert.equal(auth.code, Code.SUCCESS);
    assert.equal(auth.requestId, 1);
    assert.notEqual(auth.sessionId, 0);
    assert.notEqual(auth.sessionId, NO_SESSION);
    assert.equal(auth.body.toString('hex'), '00ff');

    send(ws, { code: Code.BIND, requestId: 2, sessionId: auth.sessionId, body: bindBody({ gateway: { name: 'gw', type: 'EMS' }, names: ['Thing1', 'Thing2'] }) });
    const bind = await inbox.next();
    assert.equal(bind.code, Code.SUCCESS);
    assert.equal(bind.requestId, 2);

    const clientCipher = (await upgraded).getCipher().name;
    ws.close();
    const closed = await observed(ep, 'closed');

    assert.deepEqual(kinds(ep), ['tcp-accepted', 'handshake-ok', 'upgrade', 'auth', 'bind', 'closed']);
    const hs = await observed(ep, 'handshake-ok');
    assert.equal(hs.protocol, 'TLSv1.3');
    assert.equal(hs.cipher, clientCipher);
    assert.equal(hs.clientCert, undefined);
    const up = await observed(ep, 'upgrade');
    assert.equal(up.path, '/Thingworx/WS');
    assert.equal(up.appKeyMatches, true);
    assert.equal(up.headers['appkey'], REDACTED);
    assert.equal(up.headers['user-agent'], 'ThingWorx C SDK');
    assert.match(up.headers['sec-websocket-extensions'] ?? '', /permessage-deflate/);
    const authSeen = await observed(ep, 'auth');
    assert.equal(authSeen.ok, true);
    assert.equal(authSeen.sessionId, auth.sessionId);
    assert.deepEqual((await observed(ep, 'bind')).names, ['Thing1', 'Thing2']);
    assert.equal(closed.phase, 'authenticated');
    assert.ok(!JSON.stringify(ep.observations).includes(APP_KEY), 'the app key must never be stored in clear');
    const at = ep.observations.map((o) => o.at);
    assert.deepEqual(at, [...at].sort((a, b) => a - b));
  });

  it('answers a wrong app key with 0x81 and observes auth ok:false', async () => {
    const ep = await endpoint();
    const ws = wsClient(ep, { appKey: 'not-the-key' });
    const inbox = new Inbox(ws);
    await opened(ws);
    send(ws, { code: Code.AUTH, requestId: 9, sessionId: NO_SESSION, body: authBody('not-the-key') });
    const reply = await inbox.next();
    assert.equal(reply.code, Code.UNAUTHORIZED);
    assert.equal(reply.requestId, 9);
    assert.equal(reply.body.toString('hex'), '00ff');
    ws.close();
    const closed = await observed(ep, 'closed');
    assert.equal((await observed(ep, 'upgrade')).appKeyMatches, false);
    const auth = await observed(ep, 'auth');
    assert.equal(auth.ok, false);
    assert.equal(auth.sessionId, undefined);
    assert.equal(closed.phase, 'websocket');
  });

  it('answers out-of-order, unknown and undecodable messages without dropping the session', async () => {
    const ep = await endpoint();
    const ws = wsClient(ep);
    const inbox = new Inbox(ws);
    await opened(ws);

    const reply = async () => {
      const m = await inbox.next();
      return [m.code, m.requestId];
    };
    send(ws, { code: Code.BIND, requestId: 1, sessionId: 0, body: bindBody({ names: ['x'] }) });
    assert.deepEqual(await reply(), [Code.UNAUTHORIZED, 1]);
    ws.send(Buffer.from([0x07, 0x14, 0, 0, 0, 2, 0])); // unknown version
    assert.deepEqual(await reply(), [Code.BAD_REQUEST, 2]);
    ws.send('not binary');
    assert.equal((await inbox.next()).code, Code.BAD_REQUEST);
    send(ws, { code: Code.AUTH, requestId: 3, sessionId: NO_SESSION, body: Buffer.from([0x01, 0x06]) }); // truncated claim
    assert.deepEqual(await reply(), [Code.BAD_REQUEST, 3]);
    send(ws, { code: Code.AUTH, requestId: 4, sessionId: NO_SESSION, body: authBody(APP_KEY) });
    const auth = await inbox.next();
    assert.deepEqual([auth.code, auth.requestId], [Code.SUCCESS, 4]);
    send(ws, { code: Code.KEEP_ALIVE, requestId: 5, sessionId: auth.sessionId, body: Buffer.alloc(0) });
    send(ws, { code: Code.GET, requestId: 6, sessionId: auth.sessionId, body: Buffer.alloc(0) });
    // The next reply answers the GET: KEEP_ALIVE got none.
    const get = await inbox.next();
    assert.deepEqual([get.code, get.requestId, get.sessionId], [Code.BAD_REQUEST, 6, auth.sessionId]);
    send(ws, { code: Code.BIND, requestId: 7, sessionId: auth.sessionId, body: Buffer.from([0x00, 0x00]) }); // count cut short
    assert.deepEqual(await reply(), [Code.BAD_REQUEST, 7]);
    ws.close();
    assert.equal((await observed(ep, 'closed')).phase, 'authenticated');
    assert.deepEqual(kinds(ep), ['tcp-accepted', 'handshake-ok', 'upgrade', 'auth', 'closed']);
  });

  it('refuses a handshake with no shared cipher and reports it, never reaching a session', async () => {
    const ep = await endpoint({ ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' });
    await assert.rejects(tlsClient(ep, { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' }));
    const closed = await observed(ep, 'closed');
    assert.deepEqual(kinds(ep), ['tcp-accepted', 'handshake-failed', 'closed']);
    const failed = await observed(ep, 'handshake-failed');
    assert.match(failed.error, /no shared cipher/);
    assert.equal(failed.code, 'ERR_SSL_NO_SHARED_CIPHER');
    assert.equal(closed.phase, 'tcp');
  });

  it('serves a TLS 1.0-only endpoint to a TLS 1.0 client (security level 0 added automatically)', async () => {
    const ep = await endpoint({ minVersion: 'TLSv1', maxVersion: 'TLSv1' });
    const socket = await tlsClient(ep, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    assert.equal(socket.getProtocol(), 'TLSv1');
    const hs = await observed(ep, 'handshake-ok');
    assert.equal(hs.protocol, 'TLSv1');
    assert.equal(hs.cipher, socket.getCipher().name);
    socket.destroy();
    assert.equal((await observed(ep, 'closed')).phase, 'tls');
  });

  it('negotiates DHE with the 2048-bit group dhBits names, as the client measures it', async () => {
    const ep = await endpoint({ ciphers: 'DHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', dhBits: 2048 });
    const socket = await tlsClient(ep, { ciphers: 'DHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
    const key = socket.getEphemeralKeyInfo();
    assert.deepEqual(key, { type: 'DH', size: 2048 });
    const hs = await observed(ep, 'handshake-ok');
    assert.equal(hs.cipher, 'DHE-RSA-AES128-GCM-SHA256');
    assert.deepEqual(hs.ephemeral, { type: 'DH', bits: 2048 });
    socket.destroy();
    await observed(ep, 'closed');
  });

  it('reports the ECDHE curve when ecdhCurve names one, as the client names it', async () => {
    const ep = await endpoint({ ecdhCurve: 'P-384' });
    const socket = await tlsClient(ep, {});
    const key = socket.getEphemeralKeyInfo() as { type: string; name: string; size: number };
    const hs = await observed(ep, 'handshake-ok');
    assert.deepEqual(hs.ephemeral, { type: key.type, name: key.name, bits: key.size });
    assert.equal(key.name, 'secp384r1');
    socket.destroy();
    await observed(ep, 'closed');
  });

  describe('client certificates', () => {
    const clientAuth = { trust: 'client-ca' };
    const clientCert = (name: string): ConnectionOptions => ({ cert: issued[name]!.certPem, key: issued[name]!.keyPem });

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`fails the handshake when a required certificate is missing (${version})`, async () => {
        const ep = await endpoint({ clientAuth, maxVersion: version });
        // Under TLS 1.3 the client's handshake completes first; the server's alert follows.
        await refusedClient(ep, { maxVersion: version });
        const closed = await observed(ep, 'closed');
        assert.deepEqual(kinds(ep), ['tcp-accepted', 'handshake-failed', 'closed']);
        assert.match((await observed(ep, 'handshake-failed')).error, /peer did not return a certificate/);
        assert.equal(closed.phase, 'tcp');
      });
    }

    it('accepts a certificate from the trusted CA and reports its subject and issuer', async () => {
      const ep = await endpoint({ clientAuth });
      const ws = wsClient(ep, { tls: clientCert('client-valid') });
      await opened(ws);
      const hs = await observed(ep, 'handshake-ok');
      assert.deepEqual(hs.clientCert, { subject: 'CN=ems-gateway-01, O=Harness Lab', issuer: 'CN=Harness Client CA, O=Harness Lab' });
      ws.close();
      assert.equal((await observed(ep, 'closed')).phase, 'websocket');
    });

    it('two endpoints of one spec at once (one secure context between them): each verifies its own client and sees only it, a session resumed on the other included', async () => {
      const [a, b] = await Promise.all([endpoint({ clientAuth, maxVersion: 'TLSv1.2' }), endpoint({ clientAuth, maxVersion: 'TLSv1.2' })]);
      const first = await tlsClient(a!, { ...clientCert('client-valid'), maxVersion: 'TLSv1.2' });
      const session = first.getSession();
      first.end();
      // The same client offers a's session to b: with the shared context b resumes it, and still
      // reports the handshake as its own, with the certificate the session holds. (An EMS is started
      // afresh for every scenario: only endpoints of one spec within a scenario could see this, and
      // they serve the same certificate.)
      const second = await tlsClient(b!, { ...clientCert('client-valid'), maxVersion: 'TLSv1.2', ...(session ? { session } : {}) });
      assert.ok(session && second.isSessionReused(), 'b resumed the session a made (one context, one ticket key)');
      second.end();
      await refusedClient(b!, { ...clientCert('client-rogue'), maxVersion: 'TLSv1.2' });
      await observed(a!, 'closed');
      assert.deepEqual(kinds(a!), ['tcp-accepted', 'handshake-ok', 'closed']);
      const seenByB = b!.observations.filter((o) => o.kind === 'handshake-ok' || o.kind === 'handshake-failed');
      assert.deepEqual(seenByB.map((o) => o.kind), ['handshake-ok', 'handshake-failed']);
      assert.deepEqual((seenByB[0] as Extract<Observation, { kind: 'handshake-ok' }>).clientCert?.subject, 'CN=ems-gateway-01, O=Harness Lab');
      assert.equal(b!.observations.filter((o) => o.kind === 'tcp-accepted').length, 2);
      assert.match((seenByB[1] as Extract<Observation, { kind: 'handshake-failed' }>).error, /client certificate rejected/);
    });

    for (const [require, version] of [[true, 'TLSv1.2'], [true, 'TLSv1.3'], [false, 'TLSv1.2'], [false, 'TLSv1.3']] as const) {
      it(`fails the handshake on a certificate that does not verify (require: ${require}, ${version})`, async () => {
        const ep = await endpoint({ clientAuth: { ...clientAuth, require }, maxVersion: version });
        await refusedClient(ep, clientCert('client-rogue'));
        const closed = await observed(ep, 'closed');
        assert.deepEqual(kinds(ep), ['tcp-accepted', 'handshake-failed', 'closed']);
        const failed = await observed(ep, 'handshake-failed');
        assert.match(failed.error, /client certificate rejected/);
        assert.equal(failed.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
        assert.equal(closed.phase, 'tcp');
      });
    }

    it('lets a client without a certificate in when the certificate is optional', async () => {
      const ep = await endpoint({ clientAuth: { ...clientAuth, require: false } });
      const socket = await tlsClient(ep, {});
      const hs = await observed(ep, 'handshake-ok');
      assert.equal(hs.clientCert, undefined);
      socket.destroy();
      assert.equal((await observed(ep, 'closed')).phase, 'tls');
    });
  });

  it('refuses an upgrade on another path with 404 and observes it', async () => {
    const ep = await endpoint();
    const ws = wsClient(ep, { path: '/Thingworx/WebSocket' });
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode);
        ws.terminate();
      });
      ws.once('error', () => resolve(undefined));
    });
    assert.equal(status, 404);
    const closed = await observed(ep, 'closed');
    assert.deepEqual(kinds(ep), ['tcp-accepted', 'handshake-ok', 'upgrade-rejected', 'closed']);
    const rejected = await observed(ep, 'upgrade-rejected');
    assert.equal(rejected.path, '/Thingworx/WebSocket');
    assert.equal(rejected.status, 404);
    assert.equal(closed.phase, 'tls');
  });

  it('rejects an invalid spec with an error naming the field', async () => {
    await assert.rejects(endpoint({ cert: 'no-such-cert' }), /^Error: endpoint\.cert: unknown certificate "no-such-cert"/);
    await assert.rejects(endpoint({ chain: ['nope'] }), /endpoint\.chain: unknown certificate "nope"/);
    await assert.rejects(endpoint({ ciphers: 'NOT-A-CIPHER' }), /endpoint\.ciphers: .*no cipher match/);
    await assert.rejects(endpoint({ ciphersuites: 'TLS_NOPE' }), /endpoint\.ciphersuites: /);
    await assert.rejects(endpoint({ ecdhCurve: 'no-curve' }), /endpoint\.ecdhCurve: /);
    await assert.rejects(endpoint({ dhBits: 768 }), /endpoint\.dhBits: .*1024/);
    await assert.rejects(endpoint({ clientAuth: { trust: 'nope' } }), /endpoint\.clientAuth\.trust: unknown certificate/);
    await assert.rejects(endpoint({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }), /endpoint\.maxVersion: /);
    await assert.rejects(endpoint({ kind: 'jsse-java7' }), /endpoint\.kind: /);
    await assert.rejects(
      startEndpoint({ cert: 'leaf-valid', dhBits: 'x' } as never, { catalogue, appKey: APP_KEY, bindAddress: HOST }),
      /endpoint\.dhBits: /,
    );
  });

  it('a certificate file that does not parse is endpoint.cert\'s error, with client auth too; one that could not be read is read afresh next time', async () => {
    const garbled = join(dir, 'garbled.pem');
    writeFileSync(garbled, '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n');
    const valid = catalogue.certs['leaf-valid']!;
    catalogue.certs['leaf-garbled'] = { ...valid, name: 'leaf-garbled', certFile: garbled };
    const later = join(dir, 'later.pem');
    catalogue.certs['leaf-later'] = { ...valid, name: 'leaf-later', certFile: later };
    try {
      await assert.rejects(endpoint({ cert: 'leaf-garbled' }), /^Error: endpoint\.cert: /);
      await assert.rejects(endpoint({ cert: 'leaf-garbled', clientAuth: { trust: 'client-ca' } }), /^Error: endpoint\.cert: /);
      await assert.rejects(endpoint({ cert: 'leaf-later' }), /^Error: endpoint\.cert: cannot read .*later\.pem/);
      writeFileSync(later, issued['leaf-valid']!.certPem);
      const ep = await endpoint({ cert: 'leaf-later' });
      (await tlsClient(ep, {})).end();
    } finally {
      delete catalogue.certs['leaf-garbled'];
      delete catalogue.certs['leaf-later'];
    }
  });

  it('refuses a client-auth CA that OpenSSL would silently append to a leaf served alone', async () => {
    await assert.rejects(endpoint({ clientAuth: { trust: 'ca' } }), /endpoint\.clientAuth\.trust: "ca" issued "leaf-valid"/);
    await endpoint({ clientAuth: { trust: 'ca' }, chain: ['ca'] });
  });

  it('answers plain HTTP requests with 404', async () => {
    const ep = await endpoint();
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpsGet({ host: HOST, port: ep.port, path: '/Thingworx/Things', ...trustServer(), agent: false }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode));
      });
      req.once('error', reject);
    });
    assert.equal(status, 404);
    assert.deepEqual(kinds(ep).slice(0, 2), ['tcp-accepted', 'handshake-ok']);
  });

  it('close() destroys live connections and frees the port', async () => {
    const ep = await endpoint();
    const ws = wsClient(ep);
    const inbox = new Inbox(ws);
    await opened(ws);
    send(ws, { code: Code.AUTH, requestId: 1, sessionId: NO_SESSION, body: authBody(APP_KEY) });
    assert.equal((await inbox.next()).code, Code.SUCCESS);
    const clientClosed = new Promise((resolve) => ws.once('close', resolve));

    await ep.close();
    await clientClosed;
    assert.equal((await observed(ep, 'closed')).phase, 'authenticated');
    const probe = createNetServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(ep.port, ep.host, () => resolve());
    });
    await new Promise((resolve) => probe.close(resolve));
  });
});
