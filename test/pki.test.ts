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
import { skipBecause } from './skip-because.ts';

const RECIPES = fileURLToPath(new URL('../certs/recipes.yaml', import.meta.url));

// The names scenarios refer to: renaming one breaks them.
const CERTS = [
  'root-ca', 'intermediate-ca', 'other-root-ca', 'rogue-root-ca', 'rogue-intermediate-ca', 'leaf-untrusted',
  'leaf-valid', 'leaf-wrong-host', 'leaf-self-signed', 'leaf-expired', 'leaf-not-yet-valid',
  'expired-intermediate-ca', 'leaf-under-expired-intermediate', 'intermediate-not-ca', 'leaf-under-non-ca',
  'leaf-eku-client-only', 'leaf-sha1', 'leaf-rsa1024', 'leaf-no-org', 'intermediate-bare-ca', 'leaf-bare-issuer',
  'client-ca', 'client-valid', 'rogue-client-ca', 'client-rogue', 'client-intermediate-ca', 'client-chained',
  'leaf-wildcard', 'leaf-wildcard-partial', 'leaf-wildcard-tld', 'leaf-wildcard-inner', 'leaf-cn-match-san-not',
  'leaf-san-match-cn-not', 'leaf-cn-only', 'leaf-dns-san-only', 'leaf-ip-san-only', 'leaf-ip-in-dns-san', 'leaf-no-cn',
  'leaf-empty-subject', 'leaf-1000-sans', 'ec-root-ca', 'ec-intermediate-ca', 'leaf-ecdsa-p256', 'leaf-ecdsa-p384',
  'leaf-ecdsa-p256-rsa-chain', 'leaf-ecdsa-p384-rsa-chain', 'leaf-rsa4096', 'leaf-rsa8192', 'leaf-critical-unknown-ext',
  'leaf-noncritical-unknown-ext', 'intermediate-pathlen0-ca', 'sub-intermediate-ca', 'leaf-pathlen-violated',
  'leaf-pathlen-ok', 'intermediate-nc-permitted-ca', 'leaf-nc-permitted-ok', 'leaf-nc-permitted-violated',
  'intermediate-nc-excluded-ca', 'leaf-nc-excluded-violated', 'intermediate-v1-ca', 'leaf-under-v1-ca',
  'local-server-ca', 'leaf-local-server',
];
const FILES = [
  'chain-root.pem', 'chain-issuer-last.pem', 'chain-other.pem', 'chain-issuer-first.pem', 'chain-issuer-middle.pem',
  'chain-root-and-intermediate.pem', 'chain-ec-root.pem', 'chain-comments.pem', 'chain-crlf.pem', 'chain-no-final-newline.pem',
  'client-valid.enc.pem', 'client-valid.p8', 'client-valid.p12', 'client-valid-3des.p12', 'client-chained-with-intermediate.pem',
  'local-server-chain.pem', 'local-server-chain-intermediate-first.pem', 'local-server.enc.pem',
];
const SECRETS = ['pem-pass', 'p8-pass', 'p12-pass', 'lsr-key-pass', 'lsr-password'];
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

/** Node prints a DN as "O=…\nOU=…\nCN=…" (nothing for an empty one). */
function dnOf(printed: string | undefined): Record<string, string> {
  return Object.fromEntries((printed ?? '').split('\n').filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2)));
}

/** The RecipeError message parsing `text` (as r.yaml) gives; '' when it parses. */
function recipeErrors(text: string): string {
  try {
    parseRecipes(text, 'r.yaml');
    return '';
  } catch (err) {
    assert.ok(err instanceof RecipeError);
    return err.message;
  }
}

/** `openssl` with these arguments (undefined when there is no openssl on this machine). */
function openssl(...args: string[]): { status: number | null; out: string } | undefined {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return r.error ? undefined : { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
}

describe('PKI catalogue', function () {
  this.timeout(60_000);
  let work: string;
  let cat: Catalogue;
  const x509 = async (name: string) => new X509Certificate(await readFile(cat.certs[name]!.certFile));

  before(async function () {
    // The keys are those of certs/keys/ when an earlier build left them; else this makes them, RSA-8192 included.
    this.timeout(300_000);
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

    // A client certificate under an intermediate: the file sent as client_cert holds both, leaf first.
    const chained = await x509('client-chained');
    const issuing = await x509('client-intermediate-ca');
    assert.ok(chained.verify(issuing.publicKey) && !chained.verify((await x509('client-ca')).publicKey));
    assert.ok(issuing.ca && issuing.verify((await x509('client-ca')).publicKey));
    assert.deepEqual(chained.keyUsage, [CLIENT_AUTH]);
  });

  it('concatenates the CA bundles in the order given', async () => {
    const fingerprints = async (file: string) =>
      splitPem(await readFile(file, 'utf8')).map((pem) => new X509Certificate(pem).fingerprint256);
    const of = async (...names: string[]) => Promise.all(names.map(async (n) => (await x509(n)).fingerprint256));
    assert.deepEqual(await fingerprints(cat.files['chain-issuer-last.pem']!), await of('other-root-ca', 'client-ca', 'root-ca'));
    assert.deepEqual(await fingerprints(cat.files['chain-root.pem']!), await of('root-ca'));
    assert.deepEqual(await fingerprints(cat.files['client-chained-with-intermediate.pem']!), await of('client-chained', 'client-intermediate-ca'));
    assert.deepEqual(await fingerprints(cat.files['chain-other.pem']!), await of('other-root-ca'));
  });

  it('writes the multi-CA bundles with the issuer first, in the middle and last, and the intermediate beside the root', async () => {
    const fingerprints = async (file: string) =>
      splitPem(await readFile(file, 'utf8')).map((pem) => new X509Certificate(pem).fingerprint256);
    const of = async (...names: string[]) => Promise.all(names.map(async (n) => (await x509(n)).fingerprint256));
    assert.deepEqual(await fingerprints(cat.files['chain-issuer-first.pem']!), await of('root-ca', 'other-root-ca', 'client-ca'));
    assert.deepEqual(await fingerprints(cat.files['chain-issuer-middle.pem']!), await of('other-root-ca', 'root-ca', 'client-ca'));
    assert.deepEqual(await fingerprints(cat.files['chain-root-and-intermediate.pem']!), await of('intermediate-ca', 'root-ca'));
    assert.deepEqual(await fingerprints(cat.files['chain-ec-root.pem']!), await of('ec-root-ca'));
  });

  it('puts the PEM noise into the noisy bundles, and OpenSSL still reads every CA of them', async function () {
    const text = (name: string) => readFile(cat.files[name]!, 'utf8');
    const comments = await text('chain-comments.pem');
    assert.match(comments, /^# other-root-ca\nsubject=O = Other Org, CN = Other Root CA\nissuer=O = Other Org, CN = Other Root CA\n-----BEGIN CERTIFICATE-----\n/);
    assert.match(comments, /-----END CERTIFICATE-----\n\n# root-ca\nsubject=O = Conformance Lab, OU = PKI, CN = Conformance Root CA\n/);
    const crlf = await text('chain-crlf.pem');
    assert.equal(crlf.split('\r\n').length, crlf.split('\n').length, 'every line ends in CRLF');
    assert.ok(crlf.endsWith('-----END CERTIFICATE-----\r\n'));
    const bare = await text('chain-no-final-newline.pem');
    assert.ok(bare.endsWith('-----END CERTIFICATE-----') && !bare.includes('\r'));
    const leaf = cat.certs['leaf-valid']!;
    for (const name of ['chain-comments.pem', 'chain-crlf.pem', 'chain-no-final-newline.pem']) {
      const r = openssl('verify', '-CAfile', cat.files[name]!, '-untrusted', cat.certs['intermediate-ca']!.certFile, leaf.certFile);
      if (!r) return skipBecause(this, 'no openssl command on this machine');
      assert.equal(r.status, 0, `${name}: ${r.out}`);
      const fingerprints = splitPem(await text(name)).map((pem) => new X509Certificate(pem).fingerprint256);
      assert.ok(fingerprints.includes((await x509('root-ca')).fingerprint256), `${name} holds root-ca`);
    }
    // The comment lines are what OpenSSL prints for each certificate.
    for (const ca of ['other-root-ca', 'root-ca', 'client-ca']) {
      const printed = openssl('x509', '-in', cat.certs[ca]!.certFile, '-noout', '-subject', '-issuer')!.out;
      assert.ok(comments.includes(`# ${ca}\n${printed}-----BEGIN CERTIFICATE-----\n`), `${ca}: ${printed}`);
    }
  });

  describe('the certificates the host-name, key and constraint scenarios use, as OpenSSL 3 sees them', () => {
    const file = (name: string) => cat.certs[name]!.certFile;
    const text = (name: string) => openssl('x509', '-in', file(name), '-noout', '-text')!.out;
    /** `openssl verify` of a leaf with the catalogue chain it is served with: 'OK' or the first error number. */
    const verify = (leaf: string, opts: { ca?: string; strict?: boolean; host?: string; ip?: string } = {}): Promise<'OK' | number> => {
      const chain = cat.certs[leaf]!.serveWith.map(file);
      const untrusted = chain.length ? ['-untrusted', path.join(work, `${leaf}.chain.pem`)] : [];
      const args = [
        'verify', ...(opts.strict === false ? [] : ['-x509_strict']), '-purpose', 'sslserver', '-CAfile', file(opts.ca ?? 'root-ca'), ...untrusted,
        ...(opts.host ? ['-verify_hostname', opts.host] : []), ...(opts.ip ? ['-verify_ip', opts.ip] : []), file(leaf),
      ];
      return (async () => {
        if (chain.length) await writeFile(path.join(work, `${leaf}.chain.pem`), (await Promise.all(chain.map((c) => readFile(c, 'utf8')))).join(''));
        const r = openssl(...args)!;
        return r.status === 0 ? 'OK' : Number(/error (\d+) at/.exec(r.out)?.[1] ?? -1);
      })();
    };
    before(function () {
      if (!openssl('version')) skipBecause(this, 'no openssl command on this machine');
    });

    it('chains every leaf meant to be valid (strict X.509, TLS server purpose)', async () => {
      const valid = [
        'leaf-wildcard', 'leaf-wildcard-partial', 'leaf-wildcard-tld', 'leaf-wildcard-inner', 'leaf-cn-match-san-not',
        'leaf-san-match-cn-not', 'leaf-cn-only', 'leaf-dns-san-only', 'leaf-ip-san-only', 'leaf-ip-in-dns-san', 'leaf-no-cn',
        'leaf-empty-subject', 'leaf-1000-sans', 'leaf-ecdsa-p256-rsa-chain', 'leaf-ecdsa-p384-rsa-chain', 'leaf-rsa4096',
        'leaf-rsa8192', 'leaf-noncritical-unknown-ext', 'leaf-pathlen-ok', 'leaf-nc-permitted-ok',
      ];
      for (const leaf of valid) assert.equal(await verify(leaf), 'OK', leaf);
      for (const leaf of ['leaf-ecdsa-p256', 'leaf-ecdsa-p384']) {
        assert.equal(await verify(leaf, { ca: 'ec-root-ca' }), 'OK', leaf);
        assert.equal(await verify(leaf), 20, `${leaf} does not chain to the RSA root`);
      }
    });

    it('issues the local server\'s leaf for localhost, 127.0.0.1 and ::1 under local-server-ca; its files hold it as named', async () => {
      assert.equal(await verify('leaf-local-server', { host: 'localhost' }), 'OK');
      assert.equal(await verify('leaf-local-server', { ip: '::1' }), 'OK');
      assert.equal(await verify('leaf-local-server', { ip: '127.0.0.1' }), 'OK');
      assert.equal(await verify('leaf-local-server', { host: 'platform.conformance.test' }), 62, 'no other name');
      const subjects = (f: string) => openssl('storeutl', '-noout', '-text', '-certs', cat.files[f]!)!.out.match(/Subject: .*CN ?= ?[^\n]+/g)!.map((l) => /CN ?= ?(.+)$/.exec(l)![1]);
      assert.deepEqual(subjects('local-server-chain.pem'), ['localhost', 'Conformance Local Server CA']);
      assert.deepEqual(subjects('local-server-chain-intermediate-first.pem'), ['Conformance Local Server CA', 'localhost']);
      const key = await readFile(cat.files['local-server.enc.pem']!, 'utf8');
      assert.match(key, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      assert.equal(openssl('pkey', '-in', cat.files['local-server.enc.pem']!, '-passin', `pass:${cat.secrets['lsr-key-pass']}`, '-noout')!.status, 0);
      assert.notEqual(openssl('pkey', '-in', cat.files['local-server.enc.pem']!, '-passin', 'pass:wrong', '-noout')!.status, 0);
      assert.ok((await x509('leaf-local-server')).checkPrivateKey(createPrivateKey({ key, passphrase: cat.secrets['lsr-key-pass']! })));
    });

    it('breaks the constrained chains as named: pathLen, name constraints, critical extension, v1 CA', async () => {
      assert.equal(await verify('leaf-pathlen-violated'), 25); // X509_V_ERR_PATH_LENGTH_EXCEEDED
      assert.equal(await verify('leaf-nc-permitted-violated'), 47); // PERMITTED_VIOLATION
      assert.equal(await verify('leaf-nc-excluded-violated'), 48); // EXCLUDED_VIOLATION
      assert.equal(await verify('leaf-critical-unknown-ext'), 34); // UNHANDLED_CRITICAL_EXTENSION
      // A v1 certificate is a CA only as a self-signed root: first INVALID_CA (79 in OpenSSL 3,
      // what a client without a verify callback, as the C SDK is, gets), then INVALID_PURPOSE (26).
      assert.equal(await verify('leaf-under-v1-ca', { strict: false }), 79);
      assert.match(text('intermediate-pathlen0-ca'), /Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
      assert.match(text('intermediate-nc-permitted-ca'), /Name Constraints: critical\n\s+Permitted:\n\s+DNS:localhost\n\s+DNS:conformance\.test\n\s+IP:127\.0\.0\.0\/255\.0\.0\.0\n/);
      assert.match(text('intermediate-nc-excluded-ca'), /Name Constraints: critical\n\s+Excluded:\n\s+DNS:platform\.invalid\n/);
      assert.match(text('leaf-critical-unknown-ext'), /1\.3\.6\.1\.4\.1\.32473\.1\.1: critical\n/);
      assert.match(text('leaf-noncritical-unknown-ext'), /1\.3\.6\.1\.4\.1\.32473\.1\.1: \n/);
      const v1 = text('intermediate-v1-ca');
      assert.match(v1, /Version: 1 \(0x0\)/);
      assert.doesNotMatch(v1, /X509v3 extensions/);
      assert.ok((await x509('intermediate-v1-ca')).verify((await x509('root-ca')).publicKey));
    });

    it('matches host names as the host-name scenarios expect (X509_check_host / X509_check_ip)', async () => {
      // 62 HOSTNAME_MISMATCH, 64 IP_ADDRESS_MISMATCH.
      const cases: [string, { host?: string; ip?: string }, 'OK' | 62 | 64][] = [
        ['leaf-wildcard', { host: 'platform.conformance.test' }, 'OK'],
        ['leaf-wildcard', { host: 'sub.platform.conformance.test' }, 62],
        ['leaf-wildcard', { host: 'conformance.test' }, 62],
        ['leaf-wildcard-partial', { host: 'platform.conformance.test' }, 'OK'], // OpenSSL allows partial wildcards by default
        ['leaf-wildcard-partial', { host: 'other.conformance.test' }, 62],
        ['leaf-wildcard-tld', { host: 'conformance.test' }, 62],
        ['leaf-wildcard-inner', { host: 'platform.conformance.test' }, 62],
        ['leaf-cn-match-san-not', { host: 'localhost' }, 62],
        ['leaf-san-match-cn-not', { host: 'localhost' }, 'OK'],
        ['leaf-cn-only', { host: 'localhost' }, 'OK'],
        ['leaf-valid', { host: 'LOCALHOST' }, 'OK'],
        ['leaf-dns-san-only', { host: 'localhost' }, 'OK'],
        ['leaf-dns-san-only', { host: 'platform.conformance.test' }, 'OK'],
        ['leaf-san-match-cn-not', { host: 'platform.conformance.test' }, 'OK'],
        ['leaf-ip-san-only', { host: 'platform.conformance.test' }, 62],
        ['leaf-1000-sans', { host: 'platform.conformance.test' }, 'OK'],
        ['leaf-nc-permitted-ok', { host: 'platform.conformance.test' }, 'OK'],
        ['leaf-dns-san-only', { ip: '127.0.0.1' }, 64],
        ['leaf-ip-san-only', { ip: '127.0.0.1' }, 'OK'],
        ['leaf-ip-san-only', { host: 'localhost' }, 62],
        ['leaf-ip-in-dns-san', { ip: '127.0.0.1' }, 64],
        ['leaf-no-cn', { host: 'localhost' }, 'OK'],
        ['leaf-empty-subject', { host: 'localhost' }, 'OK'],
        ['leaf-1000-sans', { host: 'localhost' }, 'OK'],
      ];
      for (const [leaf, target, want] of cases) assert.equal(await verify(leaf, target), want, `${leaf} for ${target.host ?? target.ip}`);
    });

    it('gives the 1000-SAN leaf 1000 names, the matching one last, and the empty subject a critical SAN', () => {
      const sans = openssl('x509', '-in', file('leaf-1000-sans'), '-noout', '-ext', 'subjectAltName')!.out;
      const names = sans.split('\n')[1]!.trim().split(', ');
      assert.equal(names.length, 1000);
      assert.deepEqual([names[0], names[997], names[998], names[999]], ['DNS:alt-1.conformance.test', 'DNS:alt-998.conformance.test', 'DNS:localhost', 'DNS:platform.conformance.test']);
      const empty = text('leaf-empty-subject');
      assert.match(empty, /Subject: ?\n/);
      assert.match(empty, /Subject Alternative Name: critical\n\s+DNS:localhost, DNS:platform\.conformance\.test, IP Address:127\.0\.0\.1\n/);
      assert.match(text('leaf-no-cn'), /Subject: O = Conformance Lab, OU = Platform\n/);
      assert.doesNotMatch(text('leaf-cn-only'), /Subject Alternative Name/);
    });

    it('puts the ECDSA keys on their curves and the RSA keys at their sizes, signed as the recipes say', async () => {
      const curves: Record<string, string> = {
        'ec-root-ca': 'secp384r1', 'ec-intermediate-ca': 'prime256v1', 'leaf-ecdsa-p256': 'prime256v1', 'leaf-ecdsa-p384': 'secp384r1',
        'leaf-ecdsa-p256-rsa-chain': 'prime256v1', 'leaf-ecdsa-p384-rsa-chain': 'secp384r1',
      };
      for (const [name, curve] of Object.entries(curves)) {
        assert.match(text(name), new RegExp(`Public Key Algorithm: id-ecPublicKey\\n[^]*ASN1 OID: ${curve}\\n`), name);
        assert.equal((await x509(name)).publicKey.asymmetricKeyDetails?.namedCurve, curve, name);
        assert.match(await readFile(cat.certs[name]!.keyFile, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/, name);
      }
      assert.match(text('ec-root-ca'), /Signature Algorithm: ecdsa-with-SHA384/);
      assert.match(text('ec-intermediate-ca'), /Signature Algorithm: ecdsa-with-SHA384/);
      assert.match(text('leaf-ecdsa-p256'), /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(text('leaf-ecdsa-p256-rsa-chain'), /Signature Algorithm: sha256WithRSAEncryption/);
      // An ECDSA leaf signs; RSA key exchange would encrypt to an RSA one.
      assert.match(text('leaf-ecdsa-p256'), /Key Usage: critical\n\s+Digital Signature\n/);
      assert.match(text('leaf-valid'), /Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      for (const bits of [4096, 8192]) assert.match(text(`leaf-rsa${bits}`), new RegExp(`Public-Key: \\(${bits} bit\\)`));
    });
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
    if (aes.error) skipBecause(this, 'no openssl command on this machine');
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
      const keyDir = path.join(work, `keys-${path.basename(dir)}`);
      return { dir, recipesFile, storeDir, keyDir, marker: async () => (await stat(path.join(storeDir, 'catalogue.json'))).ino };
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

    it('keeps the keys between builds, and makes a key anew when its recipe changes', async () => {
      const s = await setup(small('{ from: -1d, to: +30d }'));
      const keyOfCa = async () => readFile((await loadCatalogue(s)).certs['ca']!.keyFile, 'utf8');
      const first = await keyOfCa();
      assert.deepEqual(await readdir(s.keyDir), ['k.rsa-1024.pem']);
      assert.equal((await stat(path.join(s.keyDir, 'k.rsa-1024.pem'))).mode & 0o777, 0o600);
      await writeFile(s.recipesFile, `${small('{ from: -1d, to: +30d }')}# changed\n`);
      assert.equal(await keyOfCa(), first, 'a rebuild for other recipes reuses the key');
      await writeFile(s.recipesFile, small('{ from: -1d, to: +30d }').replace('bits: 1024', 'type: ec, curve: P-256'));
      const ec = await keyOfCa();
      assert.match(ec, /^-----BEGIN EC PRIVATE KEY-----/);
      assert.equal(createPrivateKey(ec).asymmetricKeyDetails?.namedCurve, 'prime256v1');
      await writeFile(path.join(s.keyDir, 'k.ec-P-256.pem'), 'not a key');
      await writeFile(s.recipesFile, `${small('{ from: -1d, to: +30d }').replace('bits: 1024', 'type: ec, curve: P-256')}# again\n`);
      assert.notEqual(await keyOfCa(), ec, 'an unreadable kept key is made anew');
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
      const message = recipeErrors(text);
      for (const field of [
        'defaults.validity.to', 'keys.k.bits', 'certs.a: Unrecognized key: "color"', 'certs.b.san[0]: not an IP address',
        'certs.b.validity.to: "from" must be earlier than "to"', 'files.f.p12.cipher',
      ]) {
        assert.ok(message.includes(`r.yaml: ${field}`), `${field} in:\n${message}`);
      }
    });

    it('says which field breaks the rules of key types, versions, constraints, extensions and subjects', () => {
      const text = `
defaults: { validity: { from: -1d, to: +1d } }
keys: { r: {}, e: { type: ec, curve: P-256 }, bad: { type: ec, curve: P-192 }, mixed: { type: ec, bits: 2048, curve: P-384 } }
certs:
  ca: { key: e, subject: { CN: ca }, ca: true, pathLen: -1 }
  v1: { key: r, issuer: ca, subject: { CN: v1 }, version: 1, san: [DNS:a], eku: [serverAuth], extensions: [{ oid: 1.2.3.4 }] }
  v2: { key: r, subject: { CN: v2 }, version: 2 }
  leaf: { key: r, issuer: ca, subject: { CN: l }, signature: md5, pathLen: 1, nameConstraints: { permitted: [DNS:x] } }
  nosubject: { key: r, subject: {} }
  exts: { key: r, subject: { CN: x }, extensions: [{ oid: 2.5.29.19 }, { oid: 1.2.3, der: abc }, { oid: 1.2.3 }, { oid: "1.2.x" }] }
  sans: { key: r, subject: { CN: s }, san: [{ series: "DNS:a.example", count: 2 }, { series: "DNS:{n}.example", count: 0 }] }
  nc: { key: b, subject: { CN: n }, ca: true, nameConstraints: { permitted: [IP:10.0.0.0/33, URI:x] } }
  ncempty: { key: r, subject: { CN: n }, ca: true, nameConstraints: {} }
files:
  f.p12: { kind: pkcs12, cert: ca, chain: [leaf], cipher: 3des, passphrase: s }
  b.pem: { kind: bundle, certs: [ca], lineEnd: cr }
secrets: [s]
`;
      const message = recipeErrors(text);
      for (const line of [
        'r.yaml: keys.bad.curve: ',
        'r.yaml: keys.mixed: Unrecognized key: "bits"',
        'r.yaml: certs.ca.pathLen: ',
        'r.yaml: certs.v1.san: a version 1 certificate has no extensions: leave it out',
        'r.yaml: certs.v1.eku: a version 1 certificate has no extensions: leave it out',
        'r.yaml: certs.v1.extensions: a version 1 certificate has no extensions: leave it out',
        'r.yaml: certs.v2.version: ',
        'r.yaml: certs.leaf.pathLen: only a CA (ca: true) carries a pathLenConstraint',
        'r.yaml: certs.leaf.nameConstraints: only a CA (ca: true) carries name constraints',
        'r.yaml: certs.nosubject.subject: an empty subject needs a subjectAltName (RFC 5280 4.2.1.6): give san, or CN, O or OU',
        'r.yaml: certs.exts.extensions[0].oid: written by the builder: use the recipe field for it',
        'r.yaml: certs.exts.extensions[1].der: expected DER as an even number of hex digits',
        'r.yaml: certs.exts.extensions[3].oid: expected a dotted object identifier such as "1.3.6.1.4.1.32473.1"',
        'r.yaml: certs.sans.san[0]',
        'r.yaml: certs.sans.san[1]',
        'r.yaml: certs.nc.nameConstraints.permitted[0]: not an address with a prefix length that fits it',
        'r.yaml: certs.nc.nameConstraints.permitted[1]: expected "DNS:<domain>" or "IP:<address>/<prefix length>"',
        'r.yaml: certs.ncempty.nameConstraints: give permitted or excluded subtrees (or leave nameConstraints out)',
        'r.yaml: files.b.pem.lineEnd: ',
      ]) {
        assert.ok(message.split('\n').some((l) => l.startsWith(line)), `${line} in:\n${message}`);
      }
    });

    it('refuses an ECDSA signature with MD5, a duplicate extension, and EC keys in a PKCS#12 file', () => {
      const text = `
defaults: { validity: { from: -1d, to: +1d } }
keys: { e: { type: ec, curve: P-384 }, r: {} }
certs:
  ca: { key: e, subject: { CN: ca }, ca: true }
  leaf: { key: r, issuer: ca, subject: { CN: l }, signature: md5, extensions: [{ oid: 1.2.3.4 }, { oid: 1.2.3.4, critical: true }] }
files:
  f.p12: { kind: pkcs12, cert: leaf, chain: [ca], cipher: 3des, passphrase: s }
secrets: [s]
`;
      const lines = recipeErrors(text).split('\n');
      for (const line of [
        'r.yaml: certs.leaf.signature: md5 needs an RSA issuer key (there is no ECDSA with MD5)',
        'r.yaml: certs.leaf.extensions[1].oid: extension 1.2.3.4 is given twice',
        'r.yaml: files.f.p12.chain[0]: "ca" has an EC key: PKCS#12 files hold RSA keys only',
      ]) {
        assert.ok(lines.includes(line), `${line} in:\n${lines.join('\n')}`);
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
