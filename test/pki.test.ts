import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, createSecureContext, createServer } from 'node:tls';
import forge from 'node-forge';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { parseRecipes, RecipeError } from '../harness/pki/recipes.ts';

const RECIPES = fileURLToPath(new URL('../certs/recipes.yaml', import.meta.url));

// The names scenarios refer to: renaming one breaks them.
const CERTS = [
  'root-ca', 'intermediate-ca', 'other-root-ca', 'rogue-root-ca', 'rogue-intermediate-ca', 'leaf-untrusted',
  'leaf-valid', 'leaf-wrong-host', 'leaf-self-signed', 'leaf-expired', 'leaf-not-yet-valid',
  'expired-intermediate-ca', 'leaf-under-expired-intermediate', 'intermediate-not-ca', 'leaf-under-non-ca',
  'leaf-eku-client-only', 'leaf-sha1', 'leaf-rsa1024', 'leaf-no-org', 'intermediate-bare-ca', 'leaf-bare-issuer',
  'client-ca', 'client-valid', 'rogue-client-ca', 'client-rogue',
];
const FILES = [
  'chain-root.pem', 'chain-issuer-last.pem', 'chain-other.pem',
  'client-valid.enc.pem', 'client-valid.p8', 'client-valid.p12', 'client-valid-3des.p12',
];
const SECRETS = ['pem-pass', 'p8-pass', 'p12-pass'];
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

// A one-certificate catalogue with a 1024-bit key: quick to build for the cache tests.
const small = (validity: string) => `
defaults: { validity: ${validity} }
keys: { k: { bits: 1024 } }
certs:
  ca: { key: k, subject: { CN: Small CA }, ca: true }
secrets: [s]
files:
  ca.pem: { kind: bundle, certs: [ca] }
`;

/** Node prints a DN as "O=…\nOU=…\nCN=…". */
function dnOf(printed: string): Record<string, string> {
  return Object.fromEntries(printed.split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)));
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
}

describe('PKI catalogue', function () {
  this.timeout(60_000);
  let work: string;
  let cat: Catalogue;
  const x509 = async (name: string) => new X509Certificate(await readFile(cat.certs[name]!.certFile));

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'pki-test-'));
    cat = await loadCatalogue({ storeDir: path.join(work, 'store') });
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('has every certificate, file and secret the scenarios name', async () => {
    for (const name of CERTS) assert.ok(cat.certs[name], `certificate ${name}`);
    for (const name of FILES) assert.ok((await stat(cat.files[name]!)).size > 0, `file ${name}`);
    for (const name of SECRETS) assert.match(cat.secrets[name] ?? '', /^[A-Za-z0-9_-]{24}$/, `secret ${name}`);
    assert.equal(new Set(SECRETS.map((s) => cat.secrets[s])).size, SECRETS.length);
    assert.equal(cat.storeDir, path.join(work, 'store'));
  });

  it('describes each certificate as it was issued', async () => {
    for (const [name, rec] of Object.entries(cat.certs)) {
      const cert = await x509(name);
      assert.equal(rec.name, name);
      assert.deepEqual(dnOf(cert.subject), rec.subject, `${name} subject`);
      assert.deepEqual(dnOf(cert.issuer), rec.issuer, `${name} issuer`);
      assert.equal(new Date(cert.validFrom).toISOString(), rec.notBefore, `${name} notBefore`);
      assert.equal(new Date(cert.validTo).toISOString(), rec.notAfter, `${name} notAfter`);
      assert.equal(cert.ca, rec.isCA, `${name} CA flag`);
      assert.equal(rec.selfSigned, cert.checkIssued(cert) && cert.verify(cert.publicKey), `${name} self-signed`);
      assert.ok(cert.checkPrivateKey(createPrivateKey(await readFile(rec.keyFile))), `${name} key file`);
      for (const next of rec.serveWith) assert.ok(cat.certs[next], `${name} serveWith ${next}`);
      assert.ok(BigInt(`0x${cert.serialNumber}`) > 0n);
    }
  });

  it('issues leaf-valid for localhost under intermediate-ca and root-ca', async () => {
    const [root, inter, leaf] = await Promise.all(['root-ca', 'intermediate-ca', 'leaf-valid'].map(x509));
    assert.ok(leaf!.verify(inter!.publicKey) && leaf!.checkIssued(inter!));
    assert.ok(inter!.verify(root!.publicKey) && inter!.checkIssued(root!));
    assert.ok(root!.verify(root!.publicKey));
    assert.equal(leaf!.checkHost('localhost'), 'localhost');
    assert.equal(leaf!.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf!.checkHost('platform.invalid'), undefined);
    assert.deepEqual(leaf!.keyUsage, [SERVER_AUTH]);
    assert.equal(leaf!.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.deepEqual(dnOf(leaf!.subject), { O: 'Conformance Lab', OU: 'Platform', CN: 'localhost' });
    assert.deepEqual(dnOf(root!.subject), { O: 'Conformance Lab', OU: 'PKI', CN: 'Conformance Root CA' });
    assert.deepEqual(cat.certs['leaf-valid']!.serveWith, ['intermediate-ca']);
  });

  it('serves leaf-valid with its serveWith chain to a client trusting only root-ca', async () => {
    const leaf = cat.certs['leaf-valid']!;
    const chain = await Promise.all([leaf, ...leaf.serveWith.map((n) => cat.certs[n]!)].map((c) => readFile(c.certFile, 'utf8')));
    const server = createServer({ key: await readFile(leaf.keyFile), cert: chain.join('') }, (s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const ca = await readFile(cat.files['chain-root.pem']!);
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
          resolve(socket.authorized);
          socket.end();
        });
        socket.on('error', reject);
      });
      assert.ok(authorized);
    } finally {
      server.close();
    }
  });

  it('puts expired and not-yet-valid certificates outside their window, and the rest inside', async () => {
    const now = Date.now();
    const outside = { 'leaf-expired': 'past', 'expired-intermediate-ca': 'past', 'leaf-not-yet-valid': 'future' } as const;
    for (const [name, rec] of Object.entries(cat.certs)) {
      const from = Date.parse(rec.notBefore);
      const to = Date.parse(rec.notAfter);
      const where = to < now ? 'past' : from > now ? 'future' : 'now';
      assert.equal(where, outside[name as keyof typeof outside] ?? 'now', name);
    }
    assert.ok(Date.parse(cat.certs['leaf-expired']!.notBefore) < now - 29 * 86_400_000);
  });

  it('makes the weak variants weak in exactly one way', async () => {
    const sigAlg = async (name: string) =>
      forge.pki.oids[forge.pki.certificateFromPem(await readFile(cat.certs[name]!.certFile, 'utf8')).siginfo.algorithmOid];
    assert.equal(await sigAlg('leaf-sha1'), 'sha1WithRSAEncryption');
    assert.equal(await sigAlg('leaf-valid'), 'sha256WithRSAEncryption');
    assert.equal((await x509('leaf-rsa1024')).publicKey.asymmetricKeyDetails?.modulusLength, 1024);
    assert.ok((await x509('leaf-sha1')).verify((await x509('intermediate-ca')).publicKey));
    assert.deepEqual((await x509('leaf-eku-client-only')).keyUsage, [CLIENT_AUTH]);
    assert.equal((await x509('leaf-wrong-host')).checkHost('localhost'), undefined);
    assert.equal((await x509('leaf-wrong-host')).checkHost('platform.invalid'), 'platform.invalid');
  });

  it('leaves out the subject fields a recipe omits', async () => {
    assert.equal((await x509('leaf-no-org')).subject, 'CN=localhost');
    assert.equal((await x509('leaf-no-org')).checkHost('localhost'), 'localhost');
    const bare = await x509('intermediate-bare-ca');
    assert.equal(bare.subject, 'CN=Bare Intermediate CA');
    const leaf = await x509('leaf-bare-issuer');
    assert.equal(leaf.issuer, 'CN=Bare Intermediate CA');
    assert.ok(leaf.verify(bare.publicKey));
    assert.deepEqual(cat.certs['leaf-bare-issuer']!.issuer, { CN: 'Bare Intermediate CA' });
  });

  it('breaks the intermediates as named and chains the leaves under them', async () => {
    const root = await x509('root-ca');
    const notCa = await x509('intermediate-not-ca');
    assert.equal(notCa.ca, false);
    assert.ok(notCa.verify(root.publicKey));
    assert.ok((await x509('leaf-under-non-ca')).verify(notCa.publicKey));
    assert.deepEqual(cat.certs['leaf-under-non-ca']!.serveWith, ['intermediate-not-ca']);
    const expired = await x509('expired-intermediate-ca');
    assert.ok(expired.ca && expired.verify(root.publicKey));
    assert.ok((await x509('leaf-under-expired-intermediate')).verify(expired.publicKey));
    assert.deepEqual(cat.certs['leaf-under-expired-intermediate']!.serveWith, ['expired-intermediate-ca']);
  });

  it('keeps the rogue and client PKIs apart from the trusted one', async () => {
    const untrusted = await x509('leaf-untrusted');
    assert.ok(untrusted.verify((await x509('rogue-intermediate-ca')).publicKey));
    assert.ok(!untrusted.verify((await x509('intermediate-ca')).publicKey));
    assert.ok((await x509('rogue-intermediate-ca')).verify((await x509('rogue-root-ca')).publicKey));
    assert.deepEqual(cat.certs['leaf-untrusted']!.serveWith, ['rogue-intermediate-ca']);
    assert.deepEqual(cat.certs['leaf-self-signed']!.serveWith, []);
    assert.ok(cat.certs['leaf-self-signed']!.selfSigned);

    const client = await x509('client-valid');
    assert.ok(client.verify((await x509('client-ca')).publicKey));
    assert.deepEqual(client.keyUsage, [CLIENT_AUTH]);
    assert.deepEqual(dnOf(client.subject), { O: 'Conformance Lab', CN: 'ems-gateway-01' });
    const rogue = await x509('client-rogue');
    assert.ok(rogue.verify((await x509('rogue-client-ca')).publicKey));
    assert.ok(!rogue.verify((await x509('client-ca')).publicKey));
  });

  it('concatenates the CA bundles in the order given', async () => {
    const fingerprints = async (file: string) =>
      splitPem(await readFile(file, 'utf8')).map((pem) => new X509Certificate(pem).fingerprint256);
    const of = async (...names: string[]) => Promise.all(names.map(async (n) => (await x509(n)).fingerprint256));
    assert.deepEqual(await fingerprints(cat.files['chain-issuer-last.pem']!), await of('other-root-ca', 'client-ca', 'root-ca'));
    assert.deepEqual(await fingerprints(cat.files['chain-root.pem']!), await of('root-ca'));
    assert.deepEqual(await fingerprints(cat.files['chain-other.pem']!), await of('other-root-ca'));
  });

  it('opens the encrypted PKCS#8 keys with their passphrase only', async () => {
    const cert = await x509('client-valid');
    const pem = await readFile(cat.files['client-valid.enc.pem']!, 'utf8');
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.ok(cert.checkPrivateKey(createPrivateKey({ key: pem, passphrase: cat.secrets['pem-pass']! })));
    assert.throws(() => createPrivateKey({ key: pem, passphrase: 'wrong' }));
    assert.throws(() => createPrivateKey(pem));

    const der = await readFile(cat.files['client-valid.p8']!);
    assert.equal(der[0], 0x30); // DER, not PEM
    const open = (passphrase: string) => createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase });
    assert.ok(cert.checkPrivateKey(open(cat.secrets['p8-pass']!)));
    assert.throws(() => open(cat.secrets['pem-pass']!));
  });

  it('loads both PKCS#12 files in Node TLS with their passphrase only', async () => {
    for (const name of ['client-valid.p12', 'client-valid-3des.p12']) {
      const pfx = await readFile(cat.files[name]!);
      assert.ok(createSecureContext({ pfx, passphrase: cat.secrets['p12-pass']! }), name);
      assert.throws(() => createSecureContext({ pfx, passphrase: 'wrong' }), name);
    }
  });

  it('writes PKCS#12 that OpenSSL 3 reads without the legacy provider', function () {
    // -info reports the algorithms on stderr.
    const info = (name: string, pass: string) =>
      spawnSync('openssl', ['pkcs12', '-in', cat.files[name]!, '-noout', '-info', '-passin', `pass:${pass}`], { encoding: 'utf8' });
    const aes = info('client-valid.p12', cat.secrets['p12-pass']!);
    if (aes.error) this.skip(); // no openssl on this machine
    assert.equal(aes.status, 0, aes.stderr);
    assert.match(aes.stderr, /MAC: sha256/);
    assert.match(aes.stderr, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, .*PRF hmacWithSHA256/);
    assert.match(aes.stderr, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
    const des = info('client-valid-3des.p12', cat.secrets['p12-pass']!);
    assert.equal(des.status, 0, des.stderr);
    assert.match(des.stderr, /MAC: sha1/);
    assert.match(des.stderr, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
    assert.notEqual(info('client-valid.p12', 'wrong').status, 0);
  });

  it('keeps private keys, encrypted keys and the catalogue readable by the owner only', async () => {
    const privateFiles = [
      ...Object.values(cat.certs).map((c) => c.keyFile),
      ...['client-valid.enc.pem', 'client-valid.p8', 'client-valid.p12', 'client-valid-3des.p12'].map((f) => cat.files[f]!),
      path.join(cat.storeDir, 'catalogue.json'),
    ];
    for (const file of privateFiles) assert.equal((await stat(file)).mode & 0o777, 0o600, file);
  });

  it('loads a built store from cache without regenerating anything', async () => {
    const before = await stat(path.join(cat.storeDir, 'catalogue.json'));
    const again = await loadCatalogue({ storeDir: cat.storeDir });
    const after = await stat(path.join(cat.storeDir, 'catalogue.json'));
    assert.deepEqual(again, cat);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
  });

  describe('store cache', () => {
    const setup = async (recipes: string) => {
      const dir = await mkdtemp(path.join(work, 'cache-'));
      const recipesFile = path.join(dir, 'recipes.yaml');
      await writeFile(recipesFile, recipes);
      const storeDir = path.join(dir, 'store');
      return { dir, recipesFile, storeDir, marker: async () => (await stat(path.join(storeDir, 'catalogue.json'))).ino };
    };

    it('rebuilds when the recipes change', async () => {
      const s = await setup(small('{ from: -1d, to: +30d }'));
      const first = await loadCatalogue(s);
      const ino = await s.marker();
      await writeFile(s.recipesFile, `${small('{ from: -1d, to: +30d }')}# changed\n`);
      const second = await loadCatalogue(s);
      assert.notEqual(await s.marker(), ino);
      assert.notEqual(second.secrets['s'], first.secrets['s']);
    });

    it('rebuilds when a file of the store is missing', async () => {
      const s = await setup(small('{ from: -1d, to: +30d }'));
      const first = await loadCatalogue(s);
      await unlink(first.files['ca.pem']!);
      const second = await loadCatalogue(s);
      assert.ok((await stat(second.files['ca.pem']!)).isFile());
      assert.notEqual(second.secrets['s'], first.secrets['s']);
    });

    it('rebuilds when a currently valid certificate expires within 7 days', async () => {
      const s = await setup(small('{ from: -1d, to: +3d }'));
      await loadCatalogue(s);
      const ino = await s.marker();
      await loadCatalogue(s);
      assert.notEqual(await s.marker(), ino);
    });

    it('keeps deliberately expired and not-yet-valid certificates cached', async () => {
      for (const validity of ['{ from: -30d, to: -1d }', '{ from: +3650d, to: +7300d }']) {
        const s = await setup(small(validity));
        await loadCatalogue(s);
        const ino = await s.marker();
        await loadCatalogue(s);
        assert.equal(await s.marker(), ino, validity);
      }
    });

    it('lets concurrent builds of one store agree on the winner, leaving no temp dirs', async () => {
      const s = await setup(small('{ from: -1d, to: +30d }'));
      const [a, b, c] = await Promise.all([loadCatalogue(s), loadCatalogue(s), loadCatalogue(s)]);
      assert.deepEqual(a, b);
      assert.deepEqual(b, c);
      assert.deepEqual(await loadCatalogue(s), a);
      assert.deepEqual((await readdir(s.dir)).sort(), ['recipes.yaml', 'store']);
    });
  });

  describe('recipe errors', () => {
    it('names the file and the field of a dangling reference', async () => {
      const text = (await readFile(RECIPES, 'utf8')).replace(
        /(leaf-expired:\n\s+key: platform\n\s+issuer:) intermediate-ca/,
        '$1 foo',
      );
      assert.throws(
        () => parseRecipes(text, 'certs/recipes.yaml'),
        (err: Error) => err instanceof RecipeError && err.message === 'certs/recipes.yaml: certs.leaf-expired.issuer: unknown certificate "foo"',
      );
    });

    it('reports every bad field at once', () => {
      const text = `
defaults: { validity: { from: -1d, to: 1y } }
keys: { k: { bits: 512 } }
certs:
  a: { key: k, subject: { CN: a }, issuer: b, serveWith: [zz], color: blue }
  b: { key: nokey, subject: { CN: b }, issuer: a, san: ["IP:999.1.1.1"], validity: { from: +1d, to: -1d } }
secrets: [s]
files:
  f.p12: { kind: pkcs12, cert: a, cipher: rc2, passphrase: nope }
  g.p8: { kind: pkcs8, cert: q, encoding: der, passphrase: s }
`;
      let message = '';
      try {
        parseRecipes(text, 'r.yaml');
      } catch (err) {
        assert.ok(err instanceof RecipeError);
        message = err.message;
      }
      for (const field of [
        'defaults.validity.to', 'keys.k.bits', 'certs.a: Unrecognized key: "color"', 'certs.b.san[0]: not an IP address',
        'certs.b.validity.to: "from" must be earlier than "to"', 'files.f.p12.cipher',
      ]) {
        assert.ok(message.includes(`r.yaml: ${field}`), `${field} in:\n${message}`);
      }
    });

    it('checks references once the fields are well-formed', () => {
      const text = `
defaults: { validity: { from: -1d, to: +1d } }
keys: { k: {}, spare: {} }
certs:
  a: { key: k, subject: { CN: a }, issuer: b, serveWith: [zz] }
  b: { key: nokey, subject: { CN: b }, issuer: a }
secrets: [s]
files:
  f.p12: { kind: pkcs12, cert: a, chain: [y], cipher: 3des, passphrase: nope }
  g.p8: { kind: pkcs8, cert: q, encoding: der, passphrase: s }
`;
      assert.throws(() => parseRecipes(text, 'r.yaml'), (err: Error) => {
        for (const line of [
          'r.yaml: certs.a.issuer: issuer cycle a -> b -> a',
          'r.yaml: certs.a.serveWith[0]: unknown certificate "zz"',
          'r.yaml: certs.b.key: unknown key "nokey"',
          'r.yaml: keys.spare: not used by any certificate',
          'r.yaml: files.f.p12.chain[0]: unknown certificate "y"',
          'r.yaml: files.f.p12.passphrase: unknown secret "nope"',
          'r.yaml: files.g.p8.cert: unknown certificate "q"',
        ]) {
          assert.ok(err.message.split('\n').includes(line), `${line} in:\n${err.message}`);
        }
        return true;
      });
    });

    it('names the recipe file when loading fails, and builds nothing', async () => {
      const dir = await mkdtemp(path.join(work, 'bad-'));
      const recipesFile = path.join(dir, 'recipes.yaml');
      await writeFile(recipesFile, small('{ from: -1d, to: +1d }').replace('ca: true', 'ca: true, issuer: missing'));
      await assert.rejects(loadCatalogue({ recipesFile, storeDir: path.join(dir, 'store') }), (err: Error) => {
        assert.equal(err.message, `${recipesFile}: certs.ca.issuer: unknown certificate "missing"`);
        return true;
      });
      await writeFile(recipesFile, 'keys: [');
      await assert.rejects(loadCatalogue({ recipesFile, storeDir: path.join(dir, 'store') }), (err: Error) =>
        err.message.startsWith(`${recipesFile}: `),
      );
      assert.deepEqual(await readdir(dir), ['recipes.yaml']);
    });
  });
});
