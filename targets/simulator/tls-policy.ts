import { X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type DetailedPeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls';
import type { EmsConfig } from '../../harness/ems/config.ts';
import type { Flavour } from '../target.ts';
import {
  CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK, EE_KEY_TOO_SMALL, fromNodeName, HOSTNAME_MISMATCH, isChainBuildError,
  signatureAlgorithmOid, WEAK_SIGNATURE_OIDS, type VerifyError,
} from './x509.ts';

// What the simulated EMS's TLS layer accepts, per build flavour, and the SDK's certificate
// checks after the handshake (twTlsClient_ConnectSession: TW_VALIDATE_CERT, then the X509 fields).

type Certificates = EmsConfig['certificates'];

/** The C SDK's TW_SSL_DEFAULT_CIPHER_STRING (the vendor's recommended list). */
export const RECOMMENDED_CIPHERS = 'ALL:!aNULL:!eNULL:!LOW:!3DES:!MD5:!EXP:!PSK:!DSS:!RC4:!SEED:!ADH:!IDEA:!3DES:!SRP';

export interface TlsPolicy {
  flavour: Flavour;
  /** OpenSSL cipher list for TLS <= 1.2. TLS 1.3 suites stay on, as with SSL_CTX_set_cipher_list. */
  cipherList(certs: Certificates): string;
  minVersion: SecureVersion;
  /** Smallest keys accepted anywhere in the platform's chain, trust anchor included. */
  minKeyBits: { rsa: number; ec: number };
  /** Signature algorithms refused on every certificate of the chain but the trust anchor. */
  weakSignatures: ReadonlySet<string>;
  /** Later EMS releases check the platform host name (switchable); the 2.2.1 SDK does not. */
  hostnameCheck: boolean;
}

const OPENSSL: TlsPolicy = {
  flavour: 'openssl',
  cipherList: (certs) => certs.cipher_suite || RECOMMENDED_CIPHERS,
  minVersion: 'TLSv1', // the SDK only switches SSLv2/SSLv3 off; OpenSSL's defaults decide the rest
  // OpenSSL security level 2 for the chain (BASE-WEAKKEY, BASE-WEAKSIG). Node runs at level 1
  // and names neither error, so verifyPeer checks these itself.
  minKeyBits: { rsa: 2048, ec: 224 },
  weakSignatures: WEAK_SIGNATURE_OIDS,
  hostnameCheck: true,
};

// axTLS behaviour (cipher_suite ignored, no FIPS) is not modelled yet: it shares the OpenSSL policy.
const POLICIES: Record<Flavour, TlsPolicy> = { openssl: OPENSSL, axtls: { ...OPENSSL, flavour: 'axtls' } };

export function policyFor(flavour: Flavour): TlsPolicy {
  return POLICIES[flavour];
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
export function verifyPeer(socket: TLSSocket, host: string, certs: Certificates, policy: TlsPolicy): Rejection | undefined {
  if (!certs.validate) return undefined;
  const peer = socket.getPeerCertificate(true);
  const nodeError = socket.authorizationError ? fromNodeName(String(socket.authorizationError)) : undefined;
  const forgiven = certs.allow_self_signed && (nodeError?.code === 18 || nodeError?.code === 19);
  if (!forgiven) {
    const error = verifyResult(nodeError, peer, host, certs, policy);
    if (error) return { kind: 'certificate', error };
  }
  return criteriaMismatch(peer, certs.validation_criteria);
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

/** Exact compare of the leaf's subject/issuer CN, O, OU; unset (or empty) criteria are skipped. */
function criteriaMismatch(peer: DetailedPeerCertificate, criteria: Certificates['validation_criteria']): Rejection | undefined {
  for (const [index, [key, side, attr]] of CRITERIA.entries()) {
    const expected = criteria?.[key];
    if (!expected) continue;
    const value: string | string[] | undefined = peer[side]?.[attr];
    const actual = Array.isArray(value) ? value[0] : value; // X509_NAME_get_text_by_NID takes the first
    if (actual !== expected) return { kind: 'field', index, actual, expected };
  }
  return undefined;
}
