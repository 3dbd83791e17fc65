// OpenSSL's X509_V_ERR numbers (include/openssl/x509_vfy.h) and X509_verify_cert_error_string
// texts (crypto/x509/x509_txt.c) as OpenSSL 3.0 has them, which the C SDK logs in "Certificate
// rejected.  Code: <n>, Reason = <text>", keyed by the names Node gives the same errors in
// `socket.authorizationError`. Texts as this machine's (and Node's) OpenSSL 3.0.19 spells them.
// The numbers moved between OpenSSL lines: INVALID_CA is 24 in 1.0.2/1.1.1 and 79 in 3.0, where 24
// is NO_ISSUER_PUBLIC_KEY (EMS-FACTS.md "X509 codes are OpenSSL's and move between versions").

import type { TLSSocket } from 'node:tls';

export interface VerifyError {
  code: number;
  reason: string;
}

const BY_NODE_NAME: Record<string, VerifyError> = {
  UNSPECIFIED: { code: 1, reason: 'unspecified certificate verification error' },
  UNABLE_TO_GET_ISSUER_CERT: { code: 2, reason: 'unable to get issuer certificate' },
  UNABLE_TO_GET_CRL: { code: 3, reason: 'unable to get certificate CRL' },
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: { code: 4, reason: "unable to decrypt certificate's signature" },
  UNABLE_TO_DECRYPT_CRL_SIGNATURE: { code: 5, reason: "unable to decrypt CRL's signature" },
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: { code: 6, reason: 'unable to decode issuer public key' },
  CERT_SIGNATURE_FAILURE: { code: 7, reason: 'certificate signature failure' },
  CRL_SIGNATURE_FAILURE: { code: 8, reason: 'CRL signature failure' },
  CERT_NOT_YET_VALID: { code: 9, reason: 'certificate is not yet valid' },
  CERT_HAS_EXPIRED: { code: 10, reason: 'certificate has expired' },
  CRL_NOT_YET_VALID: { code: 11, reason: 'CRL is not yet valid' },
  CRL_HAS_EXPIRED: { code: 12, reason: 'CRL has expired' },
  ERROR_IN_CERT_NOT_BEFORE_FIELD: { code: 13, reason: "format error in certificate's notBefore field" },
  ERROR_IN_CERT_NOT_AFTER_FIELD: { code: 14, reason: "format error in certificate's notAfter field" },
  ERROR_IN_CRL_LAST_UPDATE_FIELD: { code: 15, reason: "format error in CRL's lastUpdate field" },
  ERROR_IN_CRL_NEXT_UPDATE_FIELD: { code: 16, reason: "format error in CRL's nextUpdate field" },
  OUT_OF_MEM: { code: 17, reason: 'out of memory' },
  DEPTH_ZERO_SELF_SIGNED_CERT: { code: 18, reason: 'self-signed certificate' },
  SELF_SIGNED_CERT_IN_CHAIN: { code: 19, reason: 'self-signed certificate in certificate chain' },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { code: 20, reason: 'unable to get local issuer certificate' },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { code: 21, reason: 'unable to verify the first certificate' },
  CERT_CHAIN_TOO_LONG: { code: 22, reason: 'certificate chain too long' },
  CERT_REVOKED: { code: 23, reason: 'certificate revoked' },
  NO_ISSUER_PUBLIC_KEY: { code: 24, reason: "issuer certificate doesn't have a public key" },
  PATH_LENGTH_EXCEEDED: { code: 25, reason: 'path length constraint exceeded' },
  INVALID_PURPOSE: { code: 26, reason: 'unsuitable certificate purpose' },
  CERT_UNTRUSTED: { code: 27, reason: 'certificate not trusted' },
  CERT_REJECTED: { code: 28, reason: 'certificate rejected' },
  HOSTNAME_MISMATCH: { code: 62, reason: 'hostname mismatch' },
  INVALID_CA: { code: 79, reason: 'invalid CA certificate' },
};

// Errors Node has no name for (it reports them all as UNSPECIFIED); the simulator detects them itself.
export const EE_KEY_TOO_SMALL: VerifyError = { code: 66, reason: 'EE certificate key too weak' };
export const CA_KEY_TOO_SMALL: VerifyError = { code: 67, reason: 'CA certificate key too weak' };
export const CA_MD_TOO_WEAK: VerifyError = { code: 68, reason: 'CA signature digest algorithm too weak' };
export const HOSTNAME_MISMATCH = BY_NODE_NAME['HOSTNAME_MISMATCH'] as VerifyError;
export const UNSPECIFIED = BY_NODE_NAME['UNSPECIFIED'] as VerifyError;

/** Node's authorizationError name → OpenSSL's number and text (unknown names → UNSPECIFIED). */
function fromNodeName(name: string): VerifyError {
  return BY_NODE_NAME[name] ?? UNSPECIFIED;
}

/** Not in Node's table of names: found by OpenSSL's text. */
const KEYUSAGE_NO_CERTSIGN: VerifyError = { code: 32, reason: 'key usage does not include certificate signing' };
const NOT_IN_NODES_TABLE: VerifyError[] = [
  KEYUSAGE_NO_CERTSIGN, EE_KEY_TOO_SMALL, CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK,
  { code: 34, reason: 'unhandled critical extension' },
  { code: 47, reason: 'permitted subtree violation' },
  { code: 48, reason: 'excluded subtree violation' },
];

const BY_REASON = new Map([...Object.values(BY_NODE_NAME), ...NOT_IN_NODES_TABLE].map((e) => [e.reason, e]));

/**
 * The verify error of a finished handshake. Node names only the errors of its own table and calls
 * the rest UNSPECIFIED (INVALID_CA's 79 among them); its handle still has OpenSSL's text, which
 * says which. Node's verify callback lets verification run on past an error, so the text is the
 * LAST error, where the SDK (no callback) gets the first: an intermediate that may not sign
 * (keyUsage without keyCertSign, or no CA:TRUE) ends as KEYUSAGE_NO_CERTSIGN in the signature
 * pass, after check_chain_extensions has already failed it as INVALID_CA.
 */
export function peerVerifyError(socket: TLSSocket): VerifyError | undefined {
  const name = socket.authorizationError;
  if (!name) return undefined;
  const byName = fromNodeName(String(name));
  if (byName !== UNSPECIFIED) return byName;
  const handle = (socket as unknown as { _handle?: { verifyError?(): Error | null } })._handle;
  const byText = BY_REASON.get(handle?.verifyError?.()?.message ?? '');
  if (byText === KEYUSAGE_NO_CERTSIGN) return BY_NODE_NAME['INVALID_CA'];
  return byText ?? UNSPECIFIED;
}

/**
 * Errors OpenSSL finds while building the chain and checking its extensions, i.e. before its
 * security-level checks (check_auth_level), hostname check (check_id) and the signature and
 * validity pass (internal_verify). The simulator's own checks slot in at that point.
 */
export function isChainBuildError(e: VerifyError): boolean {
  return [2, 18, 19, 20, 21, 22, 24, 25, 26, 27, 28, 34, 47, 48, 79].includes(e.code);
}

/**
 * The signatureAlgorithm OID of a DER certificate (Node 20's X509Certificate does not expose it).
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signature }.
 */
export function signatureAlgorithmOid(der: Buffer): string {
  const outer = readTlv(der, 0, 0x30);
  const tbs = readTlv(der, outer.start, 0x30);
  const algId = readTlv(der, tbs.end, 0x30);
  const oid = readTlv(der, algId.start, 0x06);
  return decodeOid(der.subarray(oid.start, oid.end));
}

/** A certificate of version 1: its TBSCertificate starts without the `[0] EXPLICIT version` field. */
export function isVersion1(der: Buffer): boolean {
  const outer = readTlv(der, 0, 0x30);
  const tbs = readTlv(der, outer.start, 0x30);
  return der[tbs.start] !== 0xa0;
}

/** basicConstraints' pathLenConstraint, when the certificate has one. */
export function pathLenConstraint(der: Buffer): number | undefined {
  // OID 2.5.29.19, then (critical BOOLEAN)? OCTET STRING { SEQUENCE { cA BOOLEAN, pathLen INTEGER } }
  const at = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x13]));
  if (at < 0) return undefined;
  let p = at + 5;
  if (der[p] === 0x01) p += 3;
  const octets = readTlv(der, p, 0x04);
  const seq = readTlv(der, octets.start, 0x30);
  let q = seq.start;
  if (der[q] === 0x01) q += 3;
  if (q >= seq.end || der[q] !== 0x02) return undefined;
  const int = readTlv(der, q, 0x02);
  return der.subarray(int.start, int.end).reduce((n, b) => n * 256 + b, 0);
}

interface Tlv {
  start: number; // first content byte
  end: number; // one past the last content byte
}

function readTlv(buf: Buffer, at: number, tag: number): Tlv {
  if (buf[at] !== tag) throw new Error(`DER: expected tag 0x${tag.toString(16)} at ${at}`);
  let len = buf[at + 1] ?? 0;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + (buf[start + k] ?? 0);
    start += n;
  }
  if (start + len > buf.length) throw new Error('DER: truncated');
  return { start, end: start + len };
}

function decodeOid(bytes: Buffer): string {
  const first = bytes[0] ?? 0;
  const parts = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let value = 0;
  for (const b of bytes.subarray(1)) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** Signature algorithms OpenSSL rates under 80 bits of security (MD2/MD4/MD5, SHA-1). */
export const WEAK_SIGNATURE_OIDS: ReadonlySet<string> = new Set([
  '1.2.840.113549.1.1.2', // md2WithRSAEncryption
  '1.2.840.113549.1.1.3', // md4WithRSAEncryption
  '1.2.840.113549.1.1.4', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  '1.3.14.3.2.29', // sha1WithRSASignature (OIW)
  '1.2.840.10040.4.3', // dsa-with-sha1
  '1.2.840.10045.4.1', // ecdsa-with-SHA1
]);
