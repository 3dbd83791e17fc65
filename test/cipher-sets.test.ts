import { strict as assert } from 'node:assert';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Observation } from '../harness/endpoints/observations.ts';
import { EndpointSpec } from '../harness/endpoints/spec.ts';
import { startEndpoint, type Endpoint } from '../harness/endpoints/start.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { CIPHER_SETS, type CipherSetName } from '../scenarios/lib/cipher-sets.ts';

// The cipher-set endpoints (scenarios/lib/cipher-sets.ts) offer exactly what they say: every
// listed suite negotiates when a client asks for it alone, a client offering everything else
// gets none, and the observation names the suite, protocol and ephemeral key.

let catalogue: Catalogue;
const open: Endpoint[] = [];

async function endpoint(name: CipherSetName): Promise<Endpoint> {
  const ep = await startEndpoint(EndpointSpec.parse({ cert: 'leaf-valid', ...CIPHER_SETS[name] }), { catalogue, appKey: 'k', bindAddress: '127.0.0.1' });
  open.push(ep);
  return ep;
}

/** A client that accepts anything the test asks for (weak suites and old versions included). */
function handshake(port: number, opts: ConnectionOptions): Promise<{ socket?: TLSSocket; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1', ...opts });
    socket.once('secureConnect', () => resolve({ socket }));
    socket.once('error', (err) => resolve({ error: err.message }));
  });
}

function lastHandshake(ep: Endpoint): Promise<Extract<Observation, { kind: 'handshake-ok' }>> {
  return new Promise((resolve) => {
    const find = () => ep.observations.findLast((o): o is Extract<Observation, { kind: 'handshake-ok' }> => o.kind === 'handshake-ok');
    const found = find();
    if (found) return resolve(found);
    const off = ep.onObservation(() => {
      const hs = find();
      if (hs) {
        off();
        resolve(hs);
      }
    });
  });
}

const TLS12_SETS = ['ecdhe-rsa-aes128-gcm', 'rsa-aes128-sha', 'dhe-2048', 'dhe-1024', 'cbc-only'] as const;

describe('cipher-set endpoints', function () {
  this.timeout(30_000);
  before(async function () {
    this.timeout(120_000);
    catalogue = await loadCatalogue();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });

  for (const name of TLS12_SETS) {
    it(`${name}: each listed suite negotiates alone (TLS 1.2, ephemeral key observed); nothing else does`, async () => {
      const ep = await endpoint(name);
      const set = CIPHER_SETS[name];
      const suites = set.ciphers.split(':');
      for (const suite of suites) {
        const { socket, error } = await handshake(ep.port, { ciphers: `${suite}:@SECLEVEL=0` });
        assert.equal(error, undefined, `${suite}: ${error}`);
        const hs = await lastHandshake(ep);
        assert.deepEqual([hs.protocol, hs.cipher], ['TLSv1.2', suite]);
        const info = socket!.getEphemeralKeyInfo() as { type?: string; size?: number };
        if (suite.startsWith('DHE-')) assert.deepEqual(hs.ephemeral, { type: 'DH', bits: info.size });
        else if (suite.startsWith('ECDHE-')) assert.deepEqual([hs.ephemeral?.type, hs.ephemeral?.bits], ['ECDH', info.size]);
        else assert.equal(hs.ephemeral, undefined);
        socket!.destroy();
      }
      const others = await handshake(ep.port, { ciphers: `ALL:${suites.map((s) => `!${s}`).join(':')}:@SECLEVEL=0` });
      assert.match(others.error ?? 'connected', /handshake failure|no shared cipher/);
      if ('dhBits' in set) assert.equal((await lastHandshake(ep)).ephemeral?.bits, set.dhBits);
    });
  }

  it('chacha20: ChaCha20-Poly1305 in TLS 1.2 and 1.3, nothing else', async () => {
    const ep = await endpoint('chacha20');
    const v13 = await handshake(ep.port, {});
    assert.equal(v13.socket?.getCipher().name, 'TLS_CHACHA20_POLY1305_SHA256');
    v13.socket?.destroy();
    const v12 = await handshake(ep.port, { maxVersion: 'TLSv1.2' });
    assert.equal(v12.socket?.getCipher().name, 'ECDHE-RSA-CHACHA20-POLY1305');
    v12.socket?.destroy();
    const aes = await handshake(ep.port, { ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:ALL:!CHACHA20' });
    assert.match(aes.error ?? 'connected', /handshake failure|no shared cipher/);
  });

  for (const [name, version] of [['tls10-only', 'TLSv1'], ['tls11-only', 'TLSv1.1'], ['tls13-only', 'TLSv1.3']] as const) {
    it(`${name}: negotiates ${version} and refuses a client without it`, async () => {
      const ep = await endpoint(name);
      const ok = await handshake(ep.port, { ciphers: 'DEFAULT:@SECLEVEL=0' });
      assert.equal(ok.socket?.getProtocol(), version, ok.error);
      // In TLS 1.3 the server finishes after the client: destroy only once it has.
      assert.equal((await lastHandshake(ep)).protocol, version);
      ok.socket?.destroy();
      const other = await handshake(ep.port, version === 'TLSv1.3' ? { maxVersion: 'TLSv1.2' } : { minVersion: 'TLSv1.2' });
      assert.match(other.error ?? 'connected', /protocol version|unsupported protocol|wrong version/);
    });
  }
});
