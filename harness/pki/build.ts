import { createHash, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type forgeModule from 'node-forge';
import type { Catalogue, CertRecord, DistinguishedName } from './catalogue.ts';
import type { CertRecipe, FileRecipe, Recipes } from './recipes.ts';

// Turns certs/recipes.yaml into the store (certs/store/), or loads the store when it is still
// good. The warm path only hashes the recipe text and reads/stats the store: the schema (zod,
// yaml) and node-forge are imported only when a build is needed.

/** Bump whenever build.ts makes different output from the same recipes. */
const BUILD_VERSION = 1;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CATALOGUE_FILE = 'catalogue.json';
const CACHE_FILE = 'cache-key.json';
/** A store whose currently valid certificates expire sooner than this is rebuilt. */
const MIN_REMAINING_MS = 7 * 86_400_000;
/** PBE and MAC iterations, as OpenSSL 3 writes them. */
const ITERATIONS = 2048;

type Forge = typeof forgeModule;
type Asn1 = forgeModule.asn1.Asn1;

interface CacheStamp {
  key: string;
  /** The instant validity offsets were taken from. */
  builtAt: string;
}

interface Key {
  object: KeyObject;
  /** PKCS#1 PEM ("RSA PRIVATE KEY"): the key form the oldest PEM loaders still read. */
  pem: string;
  forge: forgeModule.pki.rsa.PrivateKey;
}

export interface LoadOptions {
  recipesFile?: string;
  storeDir?: string;
}

/** The catalogue of the store built from the recipes, building (or rebuilding) the store if needed. */
export async function loadCatalogue(opts: LoadOptions = {}): Promise<Catalogue> {
  const recipesFile = path.resolve(opts.recipesFile ?? path.join(REPO_ROOT, 'certs', 'recipes.yaml'));
  const storeDir = path.resolve(opts.storeDir ?? path.join(REPO_ROOT, 'certs', 'store'));
  const text = await readFile(recipesFile, 'utf8');
  const key = createHash('sha256').update(text).update(`\0build.ts v${BUILD_VERSION}`).digest('hex');
  return (await readStore(storeDir, key)) ?? (await build(text, displayName(recipesFile), storeDir, key));
}

/** The store's catalogue if it was built from the same recipes, is complete and is not about to expire. */
async function readStore(storeDir: string, key: string): Promise<Catalogue | undefined> {
  let stamp: CacheStamp;
  let catalogue: Catalogue;
  try {
    stamp = JSON.parse(await readFile(path.join(storeDir, CACHE_FILE), 'utf8')) as CacheStamp;
    if (stamp.key !== key) return undefined;
    catalogue = JSON.parse(await readFile(path.join(storeDir, CATALOGUE_FILE), 'utf8')) as Catalogue;
  } catch {
    // Missing or unreadable: rebuilding it reports real I/O problems where they happen.
    return undefined;
  }
  if (catalogue.storeDir !== storeDir) return undefined;

  const builtAt = Date.parse(stamp.builtAt);
  const expiring = Object.values(catalogue.certs).some((c) => {
    const from = Date.parse(c.notBefore);
    const to = Date.parse(c.notAfter);
    // Only certificates valid when built; the deliberately expired / not-yet-valid ones stay so.
    return from <= builtAt && builtAt < to && to - Date.now() < MIN_REMAINING_MS;
  });
  if (expiring) return undefined;

  const paths = [...Object.values(catalogue.certs).flatMap((c) => [c.certFile, c.keyFile]), ...Object.values(catalogue.files)];
  const present = await Promise.all(paths.map((p) => stat(p).then((s) => s.isFile(), () => false)));
  return present.every(Boolean) ? catalogue : undefined;
}

async function build(text: string, label: string, storeDir: string, key: string): Promise<Catalogue> {
  const [{ parseRecipes }, { default: forge }] = await Promise.all([import('./recipes.ts'), import('node-forge')]);
  const recipes = parseRecipes(text, label);
  await mkdir(path.dirname(storeDir), { recursive: true });
  // Beside the store, so the final rename stays on one file system and is atomic.
  const tmp = await mkdtemp(`${storeDir}.tmp-`);
  try {
    const now = Math.floor(Date.now() / 1000) * 1000; // X.509 times have whole seconds
    const catalogue = await generate(forge, recipes, tmp, storeDir, now);
    const stamp: CacheStamp = { key, builtAt: new Date(now).toISOString() };
    await writeFile(path.join(tmp, CATALOGUE_FILE), `${JSON.stringify(catalogue, null, 2)}\n`, { mode: 0o600 });
    await writeFile(path.join(tmp, CACHE_FILE), `${JSON.stringify(stamp)}\n`);
    return await install(tmp, storeDir, key, catalogue);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Renames the built store into place. If a concurrent build got there first, its store is used. */
async function install(tmp: string, storeDir: string, key: string, built: Catalogue): Promise<Catalogue> {
  for (let attempt = 1; ; attempt++) {
    try {
      await rename(tmp, storeDir);
      return built;
    } catch (err) {
      if (!hasCode(err, 'ENOTEMPTY', 'EEXIST', 'EPERM') || attempt === 5) throw err;
    }
    const winner = await readStore(storeDir, key);
    if (winner) return winner;
    // A stale store (other recipes, expiring): move it aside, then try again.
    const old = `${storeDir}.old-${randomBytes(4).toString('hex')}`;
    try {
      await rename(storeDir, old);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err; // someone else moved it: just retry
      continue;
    }
    await rm(old, { recursive: true, force: true });
  }
}

/** Writes keys, certificates and files into `dir`; the catalogue names them under `storeDir`. */
async function generate(forge: Forge, r: Recipes, dir: string, storeDir: string, now: number): Promise<Catalogue> {
  const generateRsa = promisify(generateKeyPair);
  const keys = new Map(
    Object.entries(r.keys).map(([name, k]) => [
      name,
      // Native keygen runs on the libuv pool, all keys at once; forge only signs.
      generateRsa('rsa', { modulusLength: k.bits }).then(({ privateKey }): Key => {
        const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
        return { object: privateKey, pem, forge: forge.pki.privateKeyFromPem(pem) };
      }),
    ]),
  );
  const keyOf = (cert: string) => keys.get(r.certs[cert]!.key)!;

  // Each certificate is signed as soon as its key and its issuer exist (names are checked by the schema).
  const signed = new Map<string, Promise<forgeModule.pki.Certificate>>();
  const certOf = (name: string): Promise<forgeModule.pki.Certificate> => {
    let cert = signed.get(name);
    if (!cert) {
      const recipe = r.certs[name]!;
      const issuer = recipe.issuer;
      cert = Promise.all([keyOf(name), issuer === undefined ? undefined : certOf(issuer), keyOf(issuer ?? name)]).then(
        ([key, issuerCert, signer]) => makeCert(forge, recipe, key, issuerCert, signer, now),
      );
      signed.set(name, cert);
    }
    return cert;
  };
  const certs = new Map(await Promise.all(Object.keys(r.certs).map(async (n) => [n, await certOf(n)] as const)));
  const pems = new Map([...certs].map(([n, c]) => [n, forge.pki.certificateToPem(c)]));

  // Everything is made before anything is written, so a failed write surfaces in one place.
  const outputs: { file: string; data: string | Buffer; secret: boolean }[] = [];
  const put = (file: string, data: string | Buffer, secret: boolean) => {
    outputs.push({ file, data, secret });
    return path.join(storeDir, file);
  };

  const records: Record<string, CertRecord> = {};
  for (const [name, recipe] of Object.entries(r.certs)) {
    const cert = certs.get(name)!;
    records[name] = {
      name,
      certFile: put(`${name}.crt.pem`, pems.get(name)!, false),
      keyFile: put(`${name}.key.pem`, (await keyOf(name)).pem, true),
      serveWith: [...recipe.serveWith],
      subject: dn(recipe.subject),
      issuer: dn(r.certs[recipe.issuer ?? name]!.subject),
      notBefore: cert.validity.notBefore.toISOString(),
      notAfter: cert.validity.notAfter.toISOString(),
      selfSigned: recipe.issuer === undefined,
      isCA: recipe.ca,
    };
  }

  const secrets = Object.fromEntries(r.secrets.map((s) => [s, randomBytes(18).toString('base64url')]));
  const files: Record<string, string> = {};
  for (const [name, f] of Object.entries(r.files)) {
    files[name] = put(name, await fileContent(forge, f, { certs, pems, keyOf, secrets }), f.kind !== 'bundle');
  }

  await Promise.all(outputs.map((o) => writeFile(path.join(dir, o.file), o.data, { mode: o.secret ? 0o600 : 0o644 })));
  return { storeDir, certs: records, files, secrets };
}

function makeCert(
  forge: Forge,
  recipe: CertRecipe,
  key: Key,
  issuerCert: forgeModule.pki.Certificate | undefined,
  signer: Key,
  now: number,
): forgeModule.pki.Certificate {
  const { pki } = forge;
  const cert = pki.createCertificate();
  cert.serialNumber = serialHex();
  cert.publicKey = pki.setRsaPublicKey(key.forge.n, key.forge.e);
  cert.validity.notBefore = new Date(now + recipe.validity.from);
  cert.validity.notAfter = new Date(now + recipe.validity.to);
  cert.setSubject(dnAttributes(forge, recipe.subject));
  // Copying the issuer's attributes keeps the issuer DN byte-identical to the issuer's subject.
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : cert.subject.attributes);

  const extensions: object[] = [
    { name: 'basicConstraints', critical: true, cA: recipe.ca },
    recipe.ca
      ? { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true }
      : // A self-signed leaf needs keyCertSign for OpenSSL (1.1 and Node's checkIssued) to call it self-signed.
        { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true, keyCertSign: !issuerCert },
  ];
  if (recipe.eku.length > 0) extensions.push({ name: 'extKeyUsage', ...Object.fromEntries(recipe.eku.map((e) => [e, true])) });
  if (recipe.san.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: recipe.san.map((s) => (s.startsWith('IP:') ? { type: 7, ip: s.slice(3) } : { type: 2, value: s.slice(4) })),
    });
  }
  extensions.push(
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: (issuerCert ?? cert).generateSubjectKeyIdentifier().getBytes() },
  );
  cert.setExtensions(extensions);

  // What forge's cert.sign does, with the RSA operation done natively: forge's JavaScript RSA was
  // most of a cold build (measured 1.4 of 2.6 s CPU). PKCS#1 v1.5 is deterministic: same bytes.
  const algorithmOid = forge.pki.oids[`${recipe.signature}WithRSAEncryption`]!;
  cert.signatureOid = cert.siginfo.algorithmOid = algorithmOid;
  const { getTBSCertificate } = forge.pki as unknown as { getTBSCertificate(c: forgeModule.pki.Certificate): Asn1 }; // untyped in @types/node-forge
  const tbs = forge.asn1.toDer(getTBSCertificate(cert)).getBytes();
  cert.signature = sign(recipe.signature, Buffer.from(tbs, 'binary'), signer.object).toString('binary');
  return cert;
}

interface Made {
  certs: Map<string, forgeModule.pki.Certificate>;
  pems: Map<string, string>;
  keyOf: (cert: string) => Promise<Key>;
  secrets: Record<string, string>;
}

async function fileContent(forge: Forge, f: FileRecipe, made: Made): Promise<string | Buffer> {
  switch (f.kind) {
    case 'bundle':
      return f.certs.map((c) => made.pems.get(c)!).join('');
    case 'pkcs8': {
      // Node writes PBES2 (PBKDF2 with HMAC-SHA256) with the cipher given.
      const encryption = { type: 'pkcs8', cipher: f.cipher, passphrase: made.secrets[f.passphrase]! } as const;
      const key = (await made.keyOf(f.cert)).object;
      return f.encoding === 'pem' ? key.export({ ...encryption, format: 'pem' }) : key.export({ ...encryption, format: 'der' });
    }
    case 'pkcs12': {
      const chain = [f.cert, ...f.chain].map((c) => made.certs.get(c)!);
      return pkcs12(forge, (await made.keyOf(f.cert)).forge, chain, made.secrets[f.passphrase]!, f);
    }
  }
}

/**
 * PKCS#12 laid out as OpenSSL 3 writes it: the key bag and the certificate bags each encrypted
 * with the file's cipher, and an HMAC (SHA-256 or SHA-1) over the whole. forge alone leaves the
 * certificates in clear and only MACs with SHA-1, so its output is re-wrapped here.
 */
function pkcs12(
  forge: Forge,
  key: forgeModule.pki.rsa.PrivateKey,
  chain: forgeModule.pki.Certificate[],
  password: string,
  f: Extract<FileRecipe, { kind: 'pkcs12' }>,
): Buffer {
  const { asn1, pki } = forge;
  const pbe: forgeModule.pki.EncryptionOptions =
    f.cipher === 'aes-256-cbc'
      ? { algorithm: 'aes256', prfAlgorithm: 'sha256', count: ITERATIONS, saltSize: 16 }
      : { algorithm: '3des', count: ITERATIONS, saltSize: 8 };
  const pfx = forge.pkcs12.toPkcs12Asn1(key, chain, password, { ...pbe, useMac: false });

  // PFX = SEQUENCE { version, ContentInfo { data, [0] OCTET STRING <AuthenticatedSafe> } }
  // AuthenticatedSafe = SEQUENCE { ContentInfo <certificate bags>, ContentInfo <shrouded key bag> }
  const authSafe = child(child(child(pfx, 1), 1), 0);
  const safe = asn1.fromDer(authSafe.value as string);
  const [certInfo, keyInfo] = safe.value as Asn1[];
  const certBags = asn1.fromDer(child(child(certInfo!, 1), 0).value as string);
  // forge's key-encryption routine yields SEQUENCE { algorithm, OCTET STRING ciphertext } for any content.
  const [algorithm, ciphertext] = pki.encryptPrivateKeyInfo(certBags, password, pbe).value as Asn1[];

  const U = asn1.Class.UNIVERSAL;
  const T = asn1.Type;
  const seq = (...items: Asn1[]) => asn1.create(U, T.SEQUENCE, true, items);
  const oid = (name: string) => asn1.create(U, T.OID, false, asn1.oidToDer(pki.oids[name]!).getBytes());
  const int = (n: number) => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes());
  const octets = (bytes: string) => asn1.create(U, T.OCTETSTRING, false, bytes);

  // ContentInfo { encryptedData, [0] EXPLICIT EncryptedData { version 0, EncryptedContentInfo { data, algorithm, [0] IMPLICIT ciphertext } } }
  const encryptedCerts = seq(
    oid('encryptedData'),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      seq(int(0), seq(oid('data'), algorithm!, asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, ciphertext!.value))),
    ]),
  );
  safe.value = [encryptedCerts, keyInfo!];
  const authSafeDer = asn1.toDer(safe).getBytes();
  authSafe.value = authSafeDer;

  // MacData { DigestInfo { algorithm, digest }, salt, iterations }, key from the PKCS#12 KDF (ID 3).
  const md = f.mac === 'sha256' ? forge.md.sha256.create() : forge.md.sha1.create();
  const salt = randomBytes(16).toString('binary');
  const macKey = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt), 3, ITERATIONS, md.digestLength, md);
  const hmac = forge.hmac.create();
  hmac.start(f.mac, macKey);
  hmac.update(authSafeDer);
  const digestAlgorithm = seq(oid(f.mac), asn1.create(U, T.NULL, false, ''));
  (pfx.value as Asn1[]).push(seq(seq(digestAlgorithm, octets(hmac.digest().getBytes())), octets(salt), int(ITERATIONS)));
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary');
}

function child(node: Asn1, index: number): Asn1 {
  return (node.value as Asn1[])[index]!;
}

/** Subject attributes in the usual order (O, OU, CN), only those the recipe gives, as UTF8String. */
function dnAttributes(forge: Forge, subject: DistinguishedName): forgeModule.pki.CertificateField[] {
  return (['O', 'OU', 'CN'] as const).flatMap((field) => {
    const value = subject[field];
    // @types/node-forge types valueTagClass as a tag class; forge reads it as the universal type.
    const valueTagClass = forge.asn1.Type.UTF8 as unknown as forgeModule.asn1.Class;
    return value === undefined ? [] : [{ shortName: field, value, valueTagClass }];
  });
}

/** A plain copy without absent fields, so a fresh catalogue equals its JSON round trip. */
function dn(subject: DistinguishedName): DistinguishedName {
  return Object.fromEntries(Object.entries(subject).filter(([, v]) => v !== undefined));
}

/** 16 random bytes as a positive INTEGER in minimal DER: the first byte is 0x01..0x7f. */
function serialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! % 0x7f) + 1;
  return bytes.toString('hex');
}

function displayName(file: string): string {
  const rel = path.relative(REPO_ROOT, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

function hasCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
