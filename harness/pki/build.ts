import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type * as Asn1Schema from '@peculiar/asn1-schema';
import type * as Asn1X509 from '@peculiar/asn1-x509';
import type forgeModule from 'node-forge';
import type { Catalogue, CertRecord, DistinguishedName } from './catalogue.ts';
import type { CertRecipe, FileRecipe, KeyRecipe, Recipes } from './recipes.ts';

// Turns certs/recipes.yaml into the store (certs/store/), or loads the store when it is still
// good. The warm path only hashes the recipe text and reads/stats the store: the schema (zod,
// yaml), the X.509 schema (@peculiar/asn1-x509) and node-forge are imported only when a build is
// needed. Certificates are @peculiar/asn1-x509 structures signed by Node's crypto (RSA with any
// hash incl. MD5, ECDSA); forge only writes the PKCS#12 files.

/** Bump whenever build.ts makes different output from the same recipes. */
const BUILD_VERSION = 2;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CATALOGUE_FILE = 'catalogue.json';
const CACHE_FILE = 'cache-key.json';
/** A store whose currently valid certificates expire sooner than this is rebuilt. */
const MIN_REMAINING_MS = 7 * 86_400_000;
/** PBE and MAC iterations, as OpenSSL 3 writes them. */
const ITERATIONS = 2048;

type Forge = typeof forgeModule;
type Asn1 = forgeModule.asn1.Asn1;
interface Libs {
  forge: Forge;
  x509: typeof Asn1X509;
  schema: typeof Asn1Schema;
}

interface CacheStamp {
  key: string;
  /** The instant validity offsets were taken from. */
  builtAt: string;
}

interface Key {
  type: 'rsa' | 'ec';
  object: KeyObject;
  /** The traditional PEM forms the oldest PEM loaders still read: PKCS#1 ("RSA PRIVATE KEY"), SEC1 ("EC PRIVATE KEY"). */
  pem: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

/** The curve names Node's key generator takes. */
const NODE_CURVE = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const;

export interface LoadOptions {
  recipesFile?: string;
  storeDir?: string;
  /** Where generated private keys are kept between builds (default certs/keys/). */
  keyDir?: string;
}

/** The catalogue of the store built from the recipes, building (or rebuilding) the store if needed. */
export async function loadCatalogue(opts: LoadOptions = {}): Promise<Catalogue> {
  const recipesFile = path.resolve(opts.recipesFile ?? path.join(REPO_ROOT, 'certs', 'recipes.yaml'));
  const storeDir = path.resolve(opts.storeDir ?? path.join(REPO_ROOT, 'certs', 'store'));
  const keyDir = path.resolve(opts.keyDir ?? path.join(REPO_ROOT, 'certs', 'keys'));
  const text = await readFile(recipesFile, 'utf8');
  const key = createHash('sha256').update(text).update(`\0build.ts v${BUILD_VERSION}`).digest('hex');
  return (await readStore(storeDir, key)) ?? (await build(text, displayName(recipesFile), storeDir, keyDir, key));
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

async function build(text: string, label: string, storeDir: string, keyDir: string, key: string): Promise<Catalogue> {
  const [{ parseRecipes }, { default: forge }, x509, schema] = await Promise.all([
    import('./recipes.ts'), import('node-forge'), import('@peculiar/asn1-x509'), import('@peculiar/asn1-schema'),
  ]);
  const recipes = parseRecipes(text, label);
  await mkdir(path.dirname(storeDir), { recursive: true });
  // Beside the store, so the final rename stays on one file system and is atomic.
  const tmp = await mkdtemp(`${storeDir}.tmp-`);
  try {
    const now = Math.floor(Date.now() / 1000) * 1000; // X.509 times have whole seconds
    const catalogue = await generate({ forge, x509, schema }, recipes, { dir: tmp, storeDir, keyDir }, now);
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

interface Dirs {
  /** Where the build writes. */
  dir: string;
  /** Where the catalogue says the files are. */
  storeDir: string;
  keyDir: string;
}

/** Writes keys, certificates and files into `dir`; the catalogue names them under `storeDir`. */
async function generate(libs: Libs, r: Recipes, { dir, storeDir, keyDir }: Dirs, now: number): Promise<Catalogue> {
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const keys = new Map(
    Object.entries(r.keys)
      // Generated on the libuv pool, all at once; the slowest (RSA-8192) first.
      .sort(([, a], [, b]) => (b.type === 'rsa' ? b.bits : 0) - (a.type === 'rsa' ? a.bits : 0))
      .map(([name, k]) => [name, privateKey(keyDir, name, k)]),
  );
  const keyOf = (cert: string) => keys.get(r.certs[cert]!.key)!;

  // Each certificate is signed as soon as its key and its issuer's key exist (names are checked by the schema).
  const signed = new Map<string, Promise<Buffer>>();
  const certOf = (name: string): Promise<Buffer> => {
    let cert = signed.get(name);
    if (!cert) {
      const recipe = r.certs[name]!;
      const issuer = recipe.issuer ?? name;
      cert = Promise.all([keyOf(name), keyOf(issuer)]).then(([key, signer]) =>
        makeCert(libs, recipe, r.certs[issuer]!, key, signer, now),
      );
      signed.set(name, cert);
    }
    return cert;
  };
  const ders = new Map(await Promise.all(Object.keys(r.certs).map(async (n) => [n, await certOf(n)] as const)));
  const pems = new Map([...ders].map(([n, der]) => [n, toPem(der)]));

  // Everything is made before anything is written, so a failed write surfaces in one place.
  const outputs: { file: string; data: string | Buffer; secret: boolean }[] = [];
  const put = (file: string, data: string | Buffer, secret: boolean) => {
    outputs.push({ file, data, secret });
    return path.join(storeDir, file);
  };

  const records: Record<string, CertRecord> = {};
  for (const [name, recipe] of Object.entries(r.certs)) {
    records[name] = {
      name,
      certFile: put(`${name}.crt.pem`, pems.get(name)!, false),
      keyFile: put(`${name}.key.pem`, (await keyOf(name)).pem, true),
      serveWith: [...recipe.serveWith],
      subject: dn(recipe.subject),
      issuer: dn(r.certs[recipe.issuer ?? name]!.subject),
      notBefore: validityDate(now, recipe.validity.from).toISOString(),
      notAfter: validityDate(now, recipe.validity.to).toISOString(),
      selfSigned: recipe.issuer === undefined,
      isCA: recipe.ca,
    };
  }

  const secrets = Object.fromEntries(r.secrets.map((s) => [s, randomBytes(18).toString('base64url')]));
  const files: Record<string, string> = {};
  for (const [name, f] of Object.entries(r.files)) {
    files[name] = put(name, await fileContent(libs.forge, f, { recipes: r, ders, pems, keyOf, secrets }), f.kind !== 'bundle');
  }

  await Promise.all(outputs.map((o) => writeFile(path.join(dir, o.file), o.data, { mode: o.secret ? 0o600 : 0o644 })));
  return { storeDir, certs: records, files, secrets };
}

const keygen = promisify(generateKeyPair);

/**
 * The key named `name` as the recipe describes it: kept in `keyDir` from an earlier build, else
 * generated (natively, on the libuv pool) and kept there. Rebuilding the store for new recipes
 * or near expiry then costs no key generation (RSA-8192 takes seconds, much more on a loaded machine).
 */
async function privateKey(keyDir: string, name: string, k: KeyRecipe): Promise<Key> {
  const file = path.join(keyDir, `${name}.${k.type === 'rsa' ? `rsa-${k.bits}` : `ec-${k.curve}`}.pem`);
  let object: KeyObject | undefined;
  try {
    const kept = createPrivateKey(await readFile(file));
    if (fits(kept, k)) object = kept;
  } catch {
    // Missing or unreadable: made anew below.
  }
  if (!object) {
    ({ privateKey: object } = await (k.type === 'rsa' ? keygen('rsa', { modulusLength: k.bits }) : keygen('ec', { namedCurve: NODE_CURVE[k.curve] })));
    // Written aside and renamed, so a concurrent build reads a whole key or none.
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, traditionalPem(object, k.type), { mode: 0o600 });
    await rename(tmp, file);
  }
  return {
    type: k.type,
    object,
    pem: traditionalPem(object, k.type),
    spki: createPublicKey(object).export({ type: 'spki', format: 'der' }),
  };
}

function fits(key: KeyObject, k: KeyRecipe): boolean {
  const d = key.asymmetricKeyDetails;
  return k.type === 'rsa'
    ? key.asymmetricKeyType === 'rsa' && d?.modulusLength === k.bits
    : key.asymmetricKeyType === 'ec' && d?.namedCurve === NODE_CURVE[k.curve];
}

function traditionalPem(key: KeyObject, type: Key['type']): string {
  return key.export({ type: type === 'rsa' ? 'pkcs1' : 'sec1', format: 'pem' }) as string;
}

const OID = {
  CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11',
  serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2',
  basicConstraints: '2.5.29.19', keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30', subjectKeyIdentifier: '2.5.29.14', authorityKeyIdentifier: '2.5.29.35',
} as const;

/** signatureAlgorithm OIDs by the signer's key type and the hash. */
const SIGNATURE_OID: Record<Key['type'], Partial<Record<CertRecipe['signature'], string>>> = {
  rsa: {
    md5: '1.2.840.113549.1.1.4', sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11',
    sha384: '1.2.840.113549.1.1.12', sha512: '1.2.840.113549.1.1.13',
  },
  ec: { sha1: '1.2.840.10045.4.1', sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' },
};

/** One certificate as DER: the TBSCertificate from the recipe, signed natively with the issuer's key. */
function makeCert({ x509, schema }: Libs, recipe: CertRecipe, issuerRecipe: CertRecipe, key: Key, signer: Key, now: number): Buffer {
  const { AsnConvert, OctetString } = schema;
  const selfSigned = recipe.issuer === undefined;
  const ext = (extnID: string, critical: boolean, value: unknown) =>
    new x509.Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
  const generalName = (s: string) => (s.startsWith('IP:') ? new x509.GeneralName({ iPAddress: s.slice(3) }) : new x509.GeneralName({ dNSName: s.slice(4) }));

  const extensions: Asn1X509.Extension[] = [
    ext(OID.basicConstraints, true, new x509.BasicConstraints({ cA: recipe.ca, ...(recipe.pathLen === undefined ? {} : { pathLenConstraint: recipe.pathLen }) })),
    ext(
      OID.keyUsage,
      true,
      new x509.KeyUsage(
        recipe.ca
          ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
          : // RSA key exchange encrypts to the key; ECDSA only signs. A self-signed leaf needs keyCertSign
            // for OpenSSL (1.1 and Node's checkIssued) to call it self-signed.
            x509.KeyUsageFlags.digitalSignature |
              (key.type === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0) |
              (selfSigned ? x509.KeyUsageFlags.keyCertSign : 0),
      ),
    ),
  ];
  if (recipe.eku.length > 0) extensions.push(ext(OID.extKeyUsage, false, new x509.ExtendedKeyUsage(recipe.eku.map((e) => OID[e]))));
  if (recipe.san.length > 0) {
    extensions.push(ext(OID.subjectAltName, isEmpty(recipe.subject), new x509.SubjectAlternativeName(recipe.san.map(generalName))));
  }
  if (recipe.nameConstraints) {
    const subtrees = (names: string[]) =>
      names.length === 0 ? undefined : new x509.GeneralSubtrees(names.map((n) => new x509.GeneralSubtree({ base: generalName(n) })));
    const { permitted, excluded } = recipe.nameConstraints;
    // RFC 5280 4.2.1.10: conforming CAs mark name constraints critical.
    extensions.push(ext(OID.nameConstraints, true, new x509.NameConstraints({ permittedSubtrees: subtrees(permitted), excludedSubtrees: subtrees(excluded) })));
  }
  extensions.push(
    ext(OID.subjectKeyIdentifier, false, new x509.SubjectKeyIdentifier(keyIdentifier(x509, schema, key))),
    ext(OID.authorityKeyIdentifier, false, new x509.AuthorityKeyIdentifier({ keyIdentifier: new x509.KeyIdentifier(keyIdentifier(x509, schema, signer)) })),
    ...recipe.extensions.map((e) => new x509.Extension({ extnID: e.oid, critical: e.critical, extnValue: new OctetString(Buffer.from(e.der, 'hex')) })),
  );

  const signatureAlgorithm = new x509.AlgorithmIdentifier({
    algorithm: SIGNATURE_OID[signer.type][recipe.signature]!, // the schema refuses ECDSA with MD5
    // RSA signatures carry explicit NULL parameters, ECDSA ones none (RFC 4055, RFC 5758).
    ...(signer.type === 'rsa' ? { parameters: new Uint8Array([0x05, 0x00]).buffer } : {}),
  });
  const tbs = new x509.TBSCertificate({
    version: recipe.version === 1 ? x509.Version.v1 : x509.Version.v3,
    serialNumber: serial(),
    signature: signatureAlgorithm,
    // Built from the issuer's recipe as its own subject is: the issuer DN is byte-identical to it.
    issuer: name(x509, issuerRecipe.subject),
    validity: new x509.Validity({ notBefore: validityDate(now, recipe.validity.from), notAfter: validityDate(now, recipe.validity.to) }),
    subject: name(x509, recipe.subject),
    subjectPublicKeyInfo: AsnConvert.parse(key.spki, x509.SubjectPublicKeyInfo),
    ...(recipe.version === 3 ? { extensions: new x509.Extensions(extensions) } : {}),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(recipe.signature, tbsDer, signer.object); // ECDSA: DER (r, s), as X.509 wants it
  const cert = new x509.Certificate({ tbsCertificate: tbs, tbsCertificateRaw: toArrayBuffer(tbsDer), signatureAlgorithm, signatureValue: toArrayBuffer(signature) });
  return Buffer.from(AsnConvert.serialize(cert));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(x509: typeof Asn1X509, schema: typeof Asn1Schema, key: Key): ArrayBuffer {
  const bits = schema.AsnConvert.parse(key.spki, x509.SubjectPublicKeyInfo).subjectPublicKey;
  return toArrayBuffer(createHash('sha1').update(Buffer.from(bits)).digest());
}

/** Subject attributes in the usual order (O, OU, CN), one per RDN, only those the recipe gives, as UTF8String. */
function name(x509: typeof Asn1X509, subject: DistinguishedName): Asn1X509.Name {
  return new x509.Name(
    (['O', 'OU', 'CN'] as const).flatMap((field) => {
      const value = subject[field];
      return value === undefined
        ? []
        : [new x509.RelativeDistinguishedName([new x509.AttributeTypeAndValue({ type: OID[field], value: new x509.AttributeValue({ utf8String: value }) })])];
    }),
  );
}

function isEmpty(subject: DistinguishedName): boolean {
  return !subject.CN && !subject.O && !subject.OU;
}

/** X.509 times have whole seconds (the build instant already has). */
function validityDate(now: number, offset: number): Date {
  return new Date(now + offset);
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g)!;
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

interface Made {
  recipes: Recipes;
  ders: Map<string, Buffer>;
  pems: Map<string, string>;
  keyOf: (cert: string) => Promise<Key>;
  secrets: Record<string, string>;
}

async function fileContent(forge: Forge, f: FileRecipe, made: Made): Promise<string | Buffer> {
  switch (f.kind) {
    case 'bundle':
      return bundle(f, made);
    case 'pkcs8': {
      // Node writes PBES2 (PBKDF2 with HMAC-SHA256) with the cipher given.
      const encryption = { type: 'pkcs8', cipher: f.cipher, passphrase: made.secrets[f.passphrase]! } as const;
      const key = (await made.keyOf(f.cert)).object;
      return f.encoding === 'pem' ? key.export({ ...encryption, format: 'pem' }) : key.export({ ...encryption, format: 'der' });
    }
    case 'pkcs12': {
      // forge reads the certificates and the (RSA: the schema says so) key it packs from their DER/PEM.
      const chain = [f.cert, ...f.chain].map((c) => forge.pki.certificateFromAsn1(forge.asn1.fromDer(made.ders.get(c)!.toString('binary'))));
      const key = forge.pki.privateKeyFromPem((await made.keyOf(f.cert)).pem) as forgeModule.pki.rsa.PrivateKey;
      return pkcs12(forge, key, chain, made.secrets[f.passphrase]!, f);
    }
  }
}

/** CA certificates as PEM blocks in order, with the noise the recipe asks for. */
function bundle(f: Extract<FileRecipe, { kind: 'bundle' }>, made: Made): string {
  // As OpenSSL 3 prints a DN on one line, in the certificate's order (see name()).
  const oneLine = (subject: DistinguishedName) =>
    (['O', 'OU', 'CN'] as const).flatMap((k) => (subject[k] ? [`${k} = ${subject[k]}`] : [])).join(', ');
  const blocks = f.certs.map((c) => {
    const pem = made.pems.get(c)!;
    if (!f.comments) return pem;
    const recipe = made.recipes.certs[c]!;
    const issuer = made.recipes.certs[recipe.issuer ?? c]!;
    return `# ${c}\nsubject=${oneLine(recipe.subject)}\nissuer=${oneLine(issuer.subject)}\n${pem}\n`;
  });
  let text = blocks.join('');
  if (!f.finalNewline) text = text.replace(/\n+$/, '');
  return f.lineEnd === 'crlf' ? text.replaceAll('\n', '\r\n') : text;
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

/** A plain copy without absent fields, so a fresh catalogue equals its JSON round trip. */
function dn(subject: DistinguishedName): DistinguishedName {
  return Object.fromEntries(Object.entries(subject).filter(([, v]) => v !== undefined));
}

/** 16 random bytes as a positive INTEGER in minimal DER: the first byte is 0x01..0x7f. */
function serial(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! % 0x7f) + 1;
  return toArrayBuffer(bytes);
}

function displayName(file: string): string {
  const rel = path.relative(REPO_ROOT, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

function hasCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
