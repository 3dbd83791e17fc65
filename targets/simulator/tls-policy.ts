import { randomBytes, randomInt, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, DEFAULT_CIPHERS, type ConnectionOptions, type DetailedPeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls';
import type { Certificates } from './config.ts';
import {
  CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK, EE_KEY_TOO_SMALL, HOSTNAME_MISMATCH, isChainBuildError, peerVerifyError,
  signatureAlgorithmOid, WEAK_SIGNATURE_OIDS, type VerifyError,
} from './x509.ts';
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
  if (profile?.name === 'csdk-2.2.1') return fipsEnabled ? undefined : CSDK_221;
  return fipsEnabled ? POLICIES[flavour].fips : POLICIES[flavour].normal;
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
  if (!certs.validate) return undefined; // the SDK compares validation_criteria only when it validates
  const peer = socket.getPeerCertificate(true);
  const nodeError = peerVerifyError(socket);
  const forgiven = certs.allow_self_signed && (nodeError?.code === 18 || nodeError?.code === 19);
  if (!forgiven) {
    const error = verifyResult(nodeError, peer, host, certs, policy);
    if (error) return { kind: 'certificate', error };
  }
  return criteriaMismatch(peer, certs.validation_criteria, profile.uninitialisedAbsentField);
}

/** The first error OpenSSL's verify_chain would report, with the checks Node's level-1 OpenSSL skips. */
function verifyResult(
  nodeError: VerifyError | undefined, peer: DetailedPeerCertificate, host: string, certs: Certificates, policy: TlsPolicy,
): VerifyError | undefined {
  if (nodeError && isChainBuildError(nodeError)) return nodeError;
  const weak = securityLevelError(chainOf(peer), policy);
  if (weak) return weak;
  if (policy.hostnameCheck && !certs.disable_hostname_validation && checkServerIdentity(host, peer)) return HOSTNAME_MISMATCH;
  return nodeError; // signature and validity errors (internal_verify) come last in OpenSSL too
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
    if (keyTooSmall(cert.publicKey, policy)) return depth === 0 ? EE_KEY_TOO_SMALL : CA_KEY_TOO_SMALL;
    if (depth < chain.length - 1 && policy.weakSignatures.has(signatureAlgorithmOid(cert.raw))) return CA_MD_TOO_WEAK;
  }
  return undefined;
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
    const value: string | string[] | undefined = peer[side]?.[attr];
    const actual = Array.isArray(value) ? value[0] : value; // X509_NAME_get_text_by_NID takes the first
    if (actual === undefined && uninitialised) return { kind: 'field', index, actual: stackGarbage(expected), expected };
    if (actual !== expected) return { kind: 'field', index, actual, expected };
  }
  return undefined;
}

/** A few bytes of whatever an unwritten `char tmp[256]` holds: never the expected value, never a line break. */
function stackGarbage(expected: string): string {
  for (;;) {
    const text = String.fromCharCode(...randomBytes(3 + randomInt(4)).map((b) => 0xa1 + (b % 0x5f)));
    if (text !== expected) return text;
  }
}
