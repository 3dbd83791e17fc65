import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { httpGet, tlsHandshake } from '../harness/lsr/client.ts';
import { expandLabel } from '../harness/lsr/served-chain.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { asChannel } from './stream-channel.ts';

// The LSR client against real Node TLS servers: the chain exactly as served (order included,
// TLS 1.2 in clear and TLS 1.3 decrypted with the keylog's handshake secret), its validation
// against a catalogue CA list, HTTP over plain and TLS streams, and over a stream that is no
// socket (what an SSH forward hands over).

const pem = (c: Catalogue, name: string) => readFile(c.certs[name]!.certFile, 'utf8');

async function tlsServer(cert: string, key: string, maxVersion: SecureVersion, ciphers?: string): Promise<{ server: Server; port: number }> {
  const server = createHttpsServer({ cert, key, maxVersion, ...(ciphers ? { ciphers } : {}) }, (req, res) => res.end(`auth=${req.headers.authorization ?? 'none'} host=${req.headers.host}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s)).once('error', reject);
  });
}

describe('the LSR client', function () {
  this.timeout(30_000);
  let catalogue: Catalogue;
  let leaf: string, intermediate: string, root: string, key: string;
  before(async () => {
    catalogue = await loadCatalogue();
    [leaf, intermediate, root] = await Promise.all(['leaf-local-server', 'local-server-ca', 'root-ca'].map((n) => pem(catalogue, n))) as [string, string, string];
    key = await readFile(catalogue.certs['leaf-local-server']!.keyFile, 'utf8');
  });
  const subjectsOf = (chain: Array<{ subject: string }>) => chain.map((c) => /CN=([^,]+)/.exec(c.subject)![1]);

  it('derives TLS 1.3 traffic keys as RFC 8448 does (server handshake key and iv of its simple 1-RTT handshake)', () => {
    const secret = Buffer.from('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38', 'hex');
    assert.equal(expandLabel(secret, 'key', 16, 'sha256').toString('hex'), '3fce516009c21727d0f2e4e86ee403bc');
    assert.equal(expandLabel(secret, 'iv', 12, 'sha256').toString('hex'), '5d313eb2671276ee13000b30');
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`reads the chain as served, in the order served, over ${version}`, async () => {
      for (const order of [[leaf, intermediate], [leaf, root, intermediate]]) {
        const { server, port } = await tlsServer(order.join(''), key, version);
        try {
          const { socket, evidence } = await tlsHandshake(await dial(port), { ca: [root], identity: 'localhost', timeoutMs: 5000 });
          assert.ok(evidence.ok && socket);
          assert.equal(evidence.protocol, version);
          assert.equal(evidence.chainError, undefined);
          const wanted = order.length === 2 ? ['localhost', 'Conformance Local Server CA'] : ['localhost', 'Conformance Root CA', 'Conformance Local Server CA'];
          assert.deepEqual(subjectsOf(evidence.chain), wanted);
          assert.equal(evidence.authorized, true);
          assert.equal(evidence.identityError, undefined);
          socket.destroy();
        } finally {
          server.close();
        }
      }
    });
  }

  it('decrypts the TLS 1.3 Certificate message under each AEAD suite', async () => {
    for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
      const { server, port } = await tlsServer(leaf + root + intermediate, key, 'TLSv1.3', suite);
      try {
        const { socket, evidence } = await tlsHandshake(await dial(port), { ca: [root], identity: 'localhost', timeoutMs: 5000 });
        assert.ok(evidence.ok, suite);
        assert.equal(socket!.getCipher().standardName, suite);
        assert.deepEqual(subjectsOf(evidence.chain), ['localhost', 'Conformance Root CA', 'Conformance Local Server CA'], suite);
        socket!.destroy();
      } finally {
        server.close();
      }
    }
  });

  it('sees a leaf served without its intermediate as what it is: not verifiable against the root', async () => {
    const { server, port } = await tlsServer(leaf, key, 'TLSv1.3');
    try {
      const { socket, evidence } = await tlsHandshake(await dial(port), { ca: [root], identity: '127.0.0.1', timeoutMs: 5000 });
      assert.ok(evidence.ok);
      assert.deepEqual(subjectsOf(evidence.chain), ['localhost']);
      assert.equal(evidence.authorized, false);
      assert.equal(evidence.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      socket!.destroy();
    } finally {
      server.close();
    }
  });

  it('checks the name the LSR dials by against the leaf (localhost, 127.0.0.1, ::1 are in its SAN; another name is not)', async () => {
    const { server, port } = await tlsServer(leaf + intermediate, key, 'TLSv1.3');
    try {
      for (const identity of ['localhost', '127.0.0.1', '::1']) {
        const { socket, evidence } = await tlsHandshake(await dial(port), { ca: [root], identity, timeoutMs: 5000 });
        assert.ok(evidence.ok && evidence.identityError === undefined, identity);
        socket!.destroy();
      }
      const { socket, evidence } = await tlsHandshake(await dial(port), { ca: [root], identity: 'ems.example', timeoutMs: 5000 });
      assert.ok(evidence.ok);
      assert.match(evidence.identityError!, /ems\.example/);
      socket!.destroy();
    } finally {
      server.close();
    }
  });

  it('speaks HTTP over TLS with basic credentials, over a stream that is no socket too; a plain request to the TLS port gets no answer', async () => {
    const { server, port } = await tlsServer(leaf + intermediate, key, 'TLSv1.3');
    try {
      const { socket } = await tlsHandshake(asChannel(await dial(port)), { ca: [root], identity: 'localhost', timeoutMs: 5000 });
      const a = await httpGet(socket!, { path: '/x', host: '::1', port, auth: { user: 'lsr', password: 'pw' }, timeoutMs: 5000 });
      assert.deepEqual(a, { status: 200, body: `auth=Basic ${Buffer.from('lsr:pw').toString('base64')} host=[::1]:${port}` });
      const plain = await httpGet(await dial(port), { path: '/x', host: '127.0.0.1', port, timeoutMs: 5000 });
      assert.ok('error' in plain, JSON.stringify(plain));
    } finally {
      server.close();
    }
  });

  it('reports a TLS handshake with a server that speaks none as failed, at once; plain HTTP over a stream that is no socket works', async () => {
    const plain = (await import('node:http')).createServer((_q, r) => r.end('plain'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as { port: number }).port;
    try {
      assert.deepEqual(await httpGet(asChannel(await dial(port)), { path: '/', host: '127.0.0.1', port, timeoutMs: 5000 }), { status: 200, body: 'plain' });
      const t0 = performance.now();
      const { socket, evidence } = await tlsHandshake(await dial(port), { ca: [root], identity: 'localhost', timeoutMs: 5000 });
      assert.equal(socket, undefined);
      assert.ok(!evidence.ok);
      assert.match(evidence.error, /wrong version number|packet length|closed|ECONNRESET/i);
      assert.ok(performance.now() - t0 < 4000, 'decided by the answer, not by the timeout');
    } finally {
      plain.close();
    }
  });
});
