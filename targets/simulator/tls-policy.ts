import { randomBytes, randomInt, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, DEFAULT_CIPHERS, type ConnectionOptions, type DetailedPeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls';
import type { Certificates } from './config.ts';
import {
  CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK, EE_KEY_TOO_SMALL, HOSTNAME_MISMATCH, isChainBuildError, isVersion1, pathLenConstraint, peerVerifyError,
  signatureAlgorithmOid, UNSPECIFIED, WEAK_SIGNATURE_OIDS, type VerifyError,
} from './x509.ts';
import { defect, type DefectName } from './defects.ts';
import { defectiveHostMatch, hostDefectActive } from './host-match.ts';
import { FIPS_CIPHERS, FIPS_GROUPS, FIPS_MIN_KEY_BITS, FIPS_SIGALGS, FIPS_TLS13_SUITES, NOT_FIPS_APPROVED } from './fips.ts';
import type { SdkProfile } from './profile.ts';

// What the simulated EMS's TLS layer accepts, per build flavour, and the SDK's certificate
// checks after the handshake (twTlsClient_ConnectSession: TW_VALIDATE_CERT, then the X509 fields).

/** The TLS library a simulated build links (WSEMS_SIM_FLAVOUR); each has its own policy. */
export type Flavour = 'openssl' | 'axtls';

/** The C SDK's TW_SSL_DEFAULT_CIPHER_STRING (the vendor's recommended list): the default cipher_suite. */
export const RECOMMENDED_CIPHERS = 'ALL:!aNULL:!eNULL:!LOW:!3DES:!MD5:!EXP:!PSK:!DSS:!RC4:!SEED:!ADH:!IDEA:!3DES:!SRP';

/** What an axTLS build offers, whatever cipher_suite says: RSA key exchange with AES-CBC. */
export const AXTLS_CIPHERS = 'AES128-SHA:AES256-SHA:AES128-SHA256:AES256-SHA256';

export interface TlsPolicy {
  flavour: Flavour;
  /** Named in the start-up log line. */
  name: string;
  /** Whether `certificates.cipher_suite` is parsed at all (axTLS ignores it). */
  honoursCipherSuite: boolean;
  /**
   * The `ciphers` option: an OpenSSL list for TLS <= 1.2; TLS 1.3 suites (TLS_*) only where the
   * policy restricts them, else they stay on, as with SSL_CTX_set_cipher_list.
   */
  cipherList(certs: Certificates): string;
  minVersion: SecureVersion;
  maxVersion?: SecureVersion;
  /** Key exchange groups offered, when the policy restricts them. */
  ecdhCurve?: string;
  /** Signature algorithms accepted in the handshake, when the policy restricts them. */
  sigalgs?: string;
  /** Smallest keys accepted anywhere in the platform's chain, trust anchor included. */
  minKeyBits: { rsa: number; ec: number };
  /** Signature algorithms refused on every certificate of the chain but the trust anchor. */
  weakSignatures: ReadonlySet<string>;
  /** Later EMS releases check the platform host name (switchable); the 2.2.1 SDK does not. */
  hostnameCheck: boolean;
  /** The simulated FIPS policy: the client key and PKCS#12 encryption are checked too. */
  fips: boolean;
}

const OPENSSL: TlsPolicy = {
  flavour: 'openssl',
  name: 'openssl',
  honoursCipherSuite: true,
  cipherList: (certs) => certs.cipher_suite || RECOMMENDED_CIPHERS,
  minVersion: 'TLSv1', // the SDK only switches SSLv2/SSLv3 off; OpenSSL's defaults decide the rest
  // OpenSSL security level 2 for the chain (BASE-WEAKKEY, BASE-WEAKSIG). Node runs at level 1
  // and names neither error, so verifyPeer checks these itself.
  minKeyBits: { rsa: 2048, ec: 224 },
  weakSignatures: WEAK_SIGNATURE_OIDS,
  hostnameCheck: true,
  fips: false,
};

/** axTLS: a fixed suite set (cipher_suite ignored), TLS 1.0 to 1.2, no FIPS. */
const AXTLS: TlsPolicy = {
  ...OPENSSL,
  flavour: 'axtls',
  name: 'axTLS',
  honoursCipherSuite: false,
  cipherList: () => AXTLS_CIPHERS,
  maxVersion: 'TLSv1.2',
};

/**
 * The simulated FIPS policy (targets/simulator/fips.ts): the SDK's FIPS list, or cipher_suite,
 * cut down to the approved suites; TLS >= 1.2; NIST curves; SHA-2 signatures; FIPS key sizes.
 */
const OPENSSL_FIPS: TlsPolicy = {
  ...OPENSSL,
  name: 'simulated FIPS policy (no validated FIPS module)',
  cipherList: (certs) => `${FIPS_TLS13_SUITES}:${certs.cipher_suite || FIPS_CIPHERS}:${NOT_FIPS_APPROVED}`,
  minVersion: 'TLSv1.2',
  ecdhCurve: FIPS_GROUPS,
  sigalgs: FIPS_SIGALGS,
  minKeyBits: FIPS_MIN_KEY_BITS,
  fips: true,
};

/**
 * OpenSSL's default TLS 1.3 suites (Node's), which SSL_CTX_set_cipher_list leaves as they are.
 * Read when first needed: node:tls is not loaded while the start-up snapshot is built (build.mjs).
 */
function tls13DefaultSuites(): string {
  return DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_')).join(':');
}

/**
 * What SSL_CTX_set_cipher_list makes of cipher_suite: its TLS <= 1.2 part. TLS 1.3 names are not
 * in that function's vocabulary (they are SSL_CTX_set_ciphersuites'), so they are skipped like any
 * unknown name; '' when nothing is left.
 */
export function cipherListPart(cipherSuite: string): string {
  return cipherSuite.split(/[:, ]+/).filter((c) => c && !/^[!+-]?TLS_/.test(c)).join(':');
}

/**
 * The C SDK 2.2.1 on OpenSSL 3.0: cipher_suite goes to SSL_CTX_set_cipher_list only, so TLS 1.3
 * keeps OpenSSL's default suites whatever it says (Node would take TLS_* names in `ciphers` as a
 * TLS 1.3 list: they are dropped first); no hostname check at all.
 */
const CSDK_221: TlsPolicy = {
  ...OPENSSL,
  name: 'C SDK 2.2.1 on OpenSSL 3.0',
  cipherList: (certs) => `${tls13DefaultSuites()}:${(certs.cipher_suite && cipherListPart(certs.cipher_suite)) || RECOMMENDED_CIPHERS}`,
  hostnameCheck: false,
};

const POLICIES: Record<Flavour, { normal: TlsPolicy; fips?: TlsPolicy }> = {
  openssl: { normal: OPENSSL, fips: OPENSSL_FIPS },
  axtls: { normal: AXTLS },
};

/**
 * The build's policy; with FIPS enabled its FIPS policy, undefined when the build has none. The
 * C SDK profile is an OpenSSL 3.0 build without a FIPS module: no FIPS policy.
 */
export function policyFor(flavour: Flavour, fipsEnabled = false, profile?: SdkProfile): TlsPolicy | undefined {
  if (profile?.name === 'csdk-2.2.1') return fipsEnabled ? undefined : withDefects(CSDK_221);
  return withDefects(fipsEnabled ? POLICIES[flavour].fips : POLICIES[flavour].normal);
}

/** The policy as a build with the armed test-only defect (defects.ts) has it; as it is otherwise. */
function withDefects(policy: TlsPolicy | undefined): TlsPolicy | undefined {
  if (!policy) return undefined;
  const p: TlsPolicy = { ...policy };
  const list = policy.cipherList;
  const suite = (certs: Certificates, cipherSuite: string | undefined) => list({ ...certs, ...(cipherSuite ? { cipher_suite: cipherSuite } : {}) });
  if (defect('seclevel-zero')) {
    p.cipherList = (c) => `${list(c)}:@SECLEVEL=0`;
    p.minKeyBits = { rsa: 0, ec: 0 };
    p.weakSignatures = new Set();
  }
  if (defect('weak-signature-accepted')) p.weakSignatures = new Set();
  if (defect('weak-key-accepted') || (p.fips && defect('fips-weak-key-allowed'))) p.minKeyBits = { ...p.minKeyBits, rsa: 1024 };
  if (defect('tls12-unsupported')) p.minVersion = 'TLSv1.3';
  if (p.flavour === 'openssl' && !p.fips) {
    if (defect('cipher-list-ignored')) p.cipherList = (c) => suite(c, RECOMMENDED_CIPHERS);
    if (defect('cipher-list-appended')) p.cipherList = (c) => suite(c, c.cipher_suite && `${RECOMMENDED_CIPHERS}:${c.cipher_suite}`);
    if (defect('cipher-list-first-item')) p.cipherList = (c) => suite(c, c.cipher_suite?.split(':')[0]);
    if (defect('kedh-dropped')) p.cipherList = (c) => suite(c, c.cipher_suite?.split(':').filter((item) => !item.startsWith('!')).join(':'));
    if (defect('recommended-default-all')) p.cipherList = (c) => suite(c, c.cipher_suite || 'ALL:@SECLEVEL=0');
  }
  if (p.flavour === 'axtls' && defect('axtls-honours-cipher-suite')) {
    p.honoursCipherSuite = true;
    p.cipherList = (c) => c.cipher_suite || AXTLS_CIPHERS;
  }
  if (p.fips) {
    if (defect('fips-cipher-suite-honoured')) p.cipherList = (c) => (c.cipher_suite ? `${FIPS_TLS13_SUITES}:${c.cipher_suite}` : list(c));
    if (defect('fips-tls13-unrestricted')) p.cipherList = (c) => list(c).replace(`${FIPS_TLS13_SUITES}:`, '');
    if (defect('fips-sha1-mac-allowed')) p.cipherList = (c) => list(c).replace(':!SHA1', '');
    if (defect('fips-groups-unrestricted')) delete p.ecdhCurve;
    if (defect('fips-min-tls10')) p.minVersion = 'TLSv1';
  }
  return p;
}

export interface ClientCredentials {
  cert: string; // PEM, leaf first
  key: string; // PEM, unencrypted, in memory only
}

export function tlsConnectOptions(o: {
  host: string;
  port: number;
  policy: TlsPolicy;
  certs: Certificates;
  ca: string[];
  client: ClientCredentials | undefined;
}): ConnectionOptions {
  return {
    host: o.host,
    port: o.port,
    ...(isIP(o.host) ? {} : { servername: o.host }),
    minVersion: o.policy.minVersion,
    ...(o.policy.maxVersion ? { maxVersion: o.policy.maxVersion } : {}),
    ...(o.policy.ecdhCurve ? { ecdhCurve: o.policy.ecdhCurve } : {}),
    ...(o.policy.sigalgs ? { sigalgs: o.policy.sigalgs } : {}),
    ciphers: o.policy.cipherList(o.certs),
    ca: o.ca, // [] = an empty trust store: the SDK loads no system roots
    ...(o.client ? { cert: o.client.cert, key: o.client.key } : {}),
    rejectUnauthorized: false, // the SDK lets the handshake finish, then asks SSL_get_verify_result
    checkServerIdentity: () => undefined, // verifyPeer checks the host name in OpenSSL's order
  };
}

export type Rejection =
  | { kind: 'certificate'; error: VerifyError }
  | { kind: 'field'; index: number; actual: string | undefined; expected: string };

/**
 * The SDK's checks once the handshake is done; nothing when `validate` is false. First the
 * verify result (with self-signed allowed, only codes 18 and 19 are forgiven, and OpenSSL has
 * stopped there, so nothing after them is checked), then `validation_criteria`.
 */
export function verifyPeer(socket: TLSSocket, host: string, certs: Certificates, policy: TlsPolicy, profile: SdkProfile): Rejection | undefined {
  // The SDK compares validation_criteria only when it validates.
  if (!certs.validate && !defect('validate-off-still-checks')) return undefined;
  const peer = socket.getPeerCertificate(true);
  const criteria = () => criteriaMismatch(peer, certs.validation_criteria, profile.uninitialisedAbsentField);
  if (verificationSkipped(certs)) return criteria();
  const nodeError = peerVerifyError(socket);
  const forgiven = certs.allow_self_signed && nodeError !== undefined && selfSignedForgives(nodeError.code);
  if (!forgiven) {
    const error = defect('leaf-only-checked') ? leafOnlyResult(peer, host, certs, policy) : verifyResult(forgivenByDefect(nodeError, peer), peer, host, certs, policy);
    if (error) return { kind: 'certificate', error };
  }
  return criteria();
}

/** With allow_self_signed: only X509 errors 18 (self-signed leaf) and 19 (self-signed in chain) are forgiven. */
function selfSignedForgives(code: number): boolean {
  if (defect('self-signed-forgives-all')) return true;
  if (defect('self-signed-forgives-untrusted') && [2, 20, 21].includes(code)) return true;
  return code === 18 || code === 19;
}

/** Test-only defects that never ask for the verify result. */
function verificationSkipped(certs: Certificates): boolean {
  return defect('verify-result-ignored') ||
    (defect('host-check-disables-validation') && certs.disable_hostname_validation) ||
    (defect('chain-required-missing-trusts-all') && !certs.cert_chain);
}

/** Test-only defects of a verify callback that forgives an error (code numbers as OpenSSL 3.0 has them). */
const FORGIVING: Array<[DefectName, number[]]> = [
  ['unhandled-critical-ext-ignored', [34]], ['name-constraints-ignored', [47, 48]], ['expiry-ignored', [10]],
  ['notyet-ignored', [9]], ['untrusted-root-accepted', [2, 19, 20]], ['incomplete-chain-forgiven', [21]],
  ['eku-ignored', [26]], ['ca-flag-ignored', [79]], ['pathlen-ignored', [25]], ['weak-signature-accepted', [68]],
];

function forgivenByDefect(error: VerifyError | undefined, peer: DetailedPeerCertificate): VerifyError | undefined {
  if (!error) return undefined;
  const chain = chainOf(peer);
  const forgiven = FORGIVING.some(([name, codes]) => defect(name) && codes.includes(error.code)) ||
    (defect('expiry-leaf-only') && error.code === 10 && withinValidity(chain[0]!)) ||
    (defect('trust-peer-chain') && [2, 19, 20].includes(error.code) && chain.length > 1) ||
    (defect('v1-ca-accepted') && error.code === 26 && chain.slice(1).some((c) => isVersion1(c.raw)));
  return forgiven ? undefined : error;
}

function withinValidity(cert: X509Certificate): boolean {
  const now = Date.now();
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/** leaf-only-checked: the leaf's own dates and its host name, nothing OpenSSL found in its chain. */
function leafOnlyResult(peer: DetailedPeerCertificate, host: string, certs: Certificates, policy: TlsPolicy): VerifyError | undefined {
  const leaf = new X509Certificate(peer.raw);
  if (Date.now() < Date.parse(leaf.validFrom)) return { code: 9, reason: 'certificate is not yet valid' };
  if (Date.now() > Date.parse(leaf.validTo)) return { code: 10, reason: 'certificate has expired' };
  return hostError(host, peer, certs, policy);
}

/** The first error OpenSSL's verify_chain would report, with the checks Node's level-1 OpenSSL skips. */
function verifyResult(
  nodeError: VerifyError | undefined, peer: DetailedPeerCertificate, host: string, certs: Certificates, policy: TlsPolicy,
): VerifyError | undefined {
  if (nodeError && isChainBuildError(nodeError)) return nodeError;
  const chain = chainOf(peer);
  if (defect('pathlen-off-by-one') && chain.slice(1, -1).some((c) => pathLenConstraint(c.raw) === 0)) return { code: 25, reason: 'path length constraint exceeded' };
  const weak = securityLevelError(chain, policy);
  if (weak) return weak;
  return hostError(host, peer, certs, policy) ?? nodeError; // signature and validity errors (internal_verify) come last in OpenSSL too
}

/** The host-name check (check_id), where the build has one and config.json leaves it on. */
function hostError(host: string, peer: DetailedPeerCertificate, certs: Certificates, policy: TlsPolicy): VerifyError | undefined {
  const off = (certs.disable_hostname_validation && !defect('host-check-flag-ignored')) || defect('host-check-absent');
  if (!policy.hostnameCheck || off) return undefined;
  const mismatch = hostDefectActive() ? !defectiveHostMatch(host, peer) : checkServerIdentity(host, peer) !== undefined;
  return mismatch ? HOSTNAME_MISMATCH : undefined;
}

/** Leaf first, trust anchor last, as Node completed it from the peer's chain and the CA list. */
function chainOf(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert: DetailedPeerCertificate | undefined = peer;
  while (cert?.raw) {
    chain.push(new X509Certificate(cert.raw));
    if (cert.issuerCertificate === cert) break; // a self-signed root refers to itself
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** OpenSSL's check_auth_level: key size of every certificate, signature of all but the anchor. */
function securityLevelError(chain: X509Certificate[], policy: TlsPolicy): VerifyError | undefined {
  for (const [depth, cert] of chain.entries()) {
    if (defectiveKeyCheck(cert.publicKey)) return UNSPECIFIED;
    if (keyTooSmall(cert.publicKey, policy)) return depth === 0 ? EE_KEY_TOO_SMALL : CA_KEY_TOO_SMALL;
    if (depth < chain.length - 1 && policy.weakSignatures.has(signatureAlgorithmOid(cert.raw))) return CA_MD_TOO_WEAK;
  }
  return undefined;
}

/** ecdsa-unsupported, rsa-modulus-buffer-512: a key check of the EMS's own that cannot read the key. */
function defectiveKeyCheck(key: KeyObject): boolean {
  if (defect('ecdsa-unsupported') && key.asymmetricKeyType === 'ec') return true;
  return defect('rsa-modulus-buffer-512') && key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) > 4096;
}

const EC_CURVE_BITS: Record<string, number> = {
  prime192v1: 192, secp192k1: 192, secp224r1: 224, secp224k1: 224, prime256v1: 256, secp256k1: 256,
  secp384r1: 384, secp521r1: 521,
};

function keyTooSmall(key: KeyObject, policy: TlsPolicy): boolean {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
    case 'dsa':
      return (details?.modulusLength ?? 0) < policy.minKeyBits.rsa;
    case 'ec':
      return (EC_CURVE_BITS[details?.namedCurve ?? ''] ?? Infinity) < policy.minKeyBits.ec;
    default:
      return false;
  }
}

// The SDK's x509_data order (TW_SUBJECT_CN … TW_ISSUER_OU): the index is the logged "Field <n>".
const CRITERIA = [
  ['Cert_Common_Name', 'subject', 'CN'],
  ['Cert_Organization', 'subject', 'O'],
  ['Cert_Organizational_Name', 'subject', 'OU'],
  ['CA_Cert_Common_Name', 'issuer', 'CN'],
  ['CA_Cert_Organization', 'issuer', 'O'],
  ['CA_Cert_Organizational_Name', 'issuer', 'OU'],
] as const;

/**
 * Exact compare of the leaf's subject/issuer CN, O, OU (CA_Cert_* are the leaf's issuer name, not
 * the CA certificate's); unset (or empty) criteria are skipped. A field the certificate lacks is
 * "(null)"; with `uninitialised` it is what TW_GET_X509_FIELD returns then: its stack buffer
 * as X509_NAME_get_text_by_NID left it, unwritten.
 */
function criteriaMismatch(peer: DetailedPeerCertificate, criteria: Certificates['validation_criteria'], uninitialised: boolean): Rejection | undefined {
  for (const [index, [key, side, attr]] of CRITERIA.entries()) {
    const expected = criteria?.[key];
    if (!expected) continue;
    const name = side === 'issuer' && defect('criteria-ca-from-root') ? anchorOf(peer).subject : peer[side];
    const value: string | string[] | undefined = name?.[defect('criteria-ou-as-o') && attr === 'OU' ? 'O' : attr];
    const actual = Array.isArray(value) ? value[0] : value; // X509_NAME_get_text_by_NID takes the first
    if (actual === undefined && defect('criteria-absent-field-skipped')) continue;
    if (actual === undefined && uninitialised) return { kind: 'field', index, actual: stackGarbage(expected), expected };
    if (actual === undefined || !criteriaEqual(actual, expected)) return { kind: 'field', index, actual, expected };
    if (defect('criteria-first-field-only')) return undefined;
  }
  return undefined;
}

/** The SDK's exact compare; the criteria defects' compares instead. */
function criteriaEqual(actual: string, expected: string): boolean {
  const fold = (s: string) => s.replace(/\s+/g, ' ');
  const n = Math.min(actual.length, expected.length);
  if (defect('criteria-contains')) return actual.includes(expected);
  if (defect('criteria-prefix')) return actual.startsWith(expected);
  if (defect('criteria-shorter-length')) return actual.slice(0, n) === expected.slice(0, n);
  if (defect('criteria-caseless')) return actual.toLowerCase() === expected.toLowerCase();
  if (defect('criteria-trimmed')) return actual.trim() === expected.trim();
  if (defect('criteria-whitespace-folded')) return fold(actual) === fold(expected);
  return actual === expected;
}

/** The last certificate of the chain Node built: the trust anchor. */
function anchorOf(peer: DetailedPeerCertificate): DetailedPeerCertificate {
  let cert = peer;
  while (cert.issuerCertificate && cert.issuerCertificate !== cert && cert.issuerCertificate.raw) cert = cert.issuerCertificate;
  return cert;
}

/** A few bytes of whatever an unwritten `char tmp[256]` holds: never the expected value, never a line break. */
function stackGarbage(expected: string): string {
  for (;;) {
    const text = String.fromCharCode(...randomBytes(3 + randomInt(4)).map((b) => 0xa1 + (b % 0x5f)));
    if (text !== expected) return text;
  }
}
