import type { ErrorMapEntry } from '../scenario/target.ts';

// The default error map: one EMS log line → the failure class it proves. Covers the C SDK's own
// lines (EMS-FACTS.md "Log lines of the C SDK"; X509 codes as OpenSSL numbers them) and the
// start-up lines of the bundled simulator (targets/simulator). Target profiles put their own
// entries in front (attributeLine's `extra`). First match wins, so specific entries come first.

const REJECTED = String.raw`TW_VALIDATE_CERT: Certificate rejected\.\s+Code: `;
const HANDSHAKE = String.raw`SSL handshake error\. Error: .*`;

export const C_SDK_ERROR_MAP: ErrorMapEntry[] = [
  // --- certificate verification (SSL_get_verify_result after the handshake) ---
  { pattern: `${REJECTED}18,`, class: 'self-signed' }, // DEPTH_ZERO_SELF_SIGNED_CERT: the leaf signs itself
  { pattern: `${REJECTED}19,`, class: 'untrusted-cert' }, // SELF_SIGNED_CERT_IN_CHAIN: chain ends in a root not in cert_chain
  { pattern: `${REJECTED}20,`, class: 'untrusted-cert' }, // UNABLE_TO_GET_ISSUER_CERT_LOCALLY: issuer not in cert_chain
  { pattern: `${REJECTED}21,`, class: 'untrusted-cert' }, // UNABLE_TO_VERIFY_LEAF_SIGNATURE: lone leaf, issuer unknown (also a missing intermediate)
  { pattern: `${REJECTED}2,`, class: 'untrusted-cert' }, // UNABLE_TO_GET_ISSUER_CERT: incomplete chain
  { pattern: `${REJECTED}7,`, class: 'untrusted-cert' }, // CERT_SIGNATURE_FAILURE: a signature in the chain does not verify
  { pattern: `${REJECTED}22,`, class: 'untrusted-cert' }, // CERT_CHAIN_TOO_LONG
  { pattern: `${REJECTED}24,`, class: 'untrusted-cert' }, // INVALID_CA: an intermediate without basicConstraints CA:TRUE
  { pattern: `${REJECTED}25,`, class: 'untrusted-cert' }, // PATH_LENGTH_EXCEEDED: pathLenConstraint violated
  { pattern: `${REJECTED}26,`, class: 'untrusted-cert' }, // INVALID_PURPOSE: EKU without serverAuth (or a CA not fit to sign)
  { pattern: `${REJECTED}27,`, class: 'untrusted-cert' }, // CERT_UNTRUSTED: trust settings refuse the root
  { pattern: `${REJECTED}28,`, class: 'untrusted-cert' }, // CERT_REJECTED: root marked to reject the purpose
  { pattern: `${REJECTED}66,`, class: 'untrusted-cert' }, // EE_KEY_TOO_SMALL: leaf key under the security level (e.g. RSA < 2048)
  { pattern: `${REJECTED}67,`, class: 'untrusted-cert' }, // CA_KEY_TOO_SMALL: CA key under the security level
  { pattern: `${REJECTED}68,`, class: 'untrusted-cert' }, // CA_MD_TOO_WEAK: chain signed with MD5 / SHA-1
  { pattern: `${REJECTED}1,`, class: 'untrusted-cert' }, // UNSPECIFIED: verification failed without a named reason
  { pattern: `${REJECTED}9,`, class: 'expired' }, // CERT_NOT_YET_VALID: notBefore in the future
  { pattern: `${REJECTED}10,`, class: 'expired' }, // CERT_HAS_EXPIRED: notAfter in the past (leaf or intermediate)
  { pattern: `${REJECTED}62,`, class: 'hostname-mismatch' }, // HOSTNAME_MISMATCH: CN/SAN do not name ws_servers[].host
  // --- validation_criteria (exact compare of subject/issuer CN, O, OU) ---
  { pattern: String.raw`twTlsClient_Connect: Certificate field .* does not match expected .*\. Field \d`, class: 'criteria-mismatch' },
  // --- handshake failures, by the OpenSSL text in the SDK's handshake line ---
  { pattern: `${HANDSHAKE}(no ciphers available|no shared cipher)`, class: 'no-shared-cipher' },
  { pattern: `${HANDSHAKE}dh key too small`, class: 'dh-too-small' },
  {
    pattern: `${HANDSHAKE}(unsupported protocol|wrong version number|protocol version|no protocols available|version too low)`,
    class: 'protocol-version',
  },
  // OpenSSL 3 (security level 1) meeting a TLS 1.0/1.1-only server: their MD5+SHA-1 signature is refused.
  { pattern: `${HANDSHAKE}legacy sigalg disallowed or unsupported`, class: 'protocol-version' },
  { pattern: `${HANDSHAKE}certificate required`, class: 'client-cert-required' }, // TLS 1.3 alert 116
  // The platform's alerts about the client certificate the EMS presented.
  { pattern: `${HANDSHAKE}(unknown ca|bad certificate|certificate unknown|unsupported certificate|certificate expired|certificate revoked)`, class: 'client-cert-rejected' },
  // TLS 1.2 handshake_failure (alert 40) and anything else: only the platform side can tell why.
  { pattern: HANDSHAKE, class: 'handshake' },
  { pattern: 'Error intializing SSL connection', class: 'handshake' }, // (sic) the SDK's spelling
  // The platform hung up right after the handshake (a TLS 1.3 server refusing the client
  // certificate it just received does that): again the platform side knows why.
  { pattern: String.raw`twWs_Connect: Error reading from socket`, class: 'handshake' },
  // --- authentication ---
  { pattern: String.raw`AUTH Message \d+ failed\. Code:\d+`, class: 'auth-rejected' },
  // --- start-up (simulator lines, and the C SDK's context set-up lines) ---
  { pattern: String.raw`wsems: fips\.enabled is true but`, class: 'fips-unavailable' },
  // The simulator's FIPS policy refusing a non-approved key, key-file encryption or cipher list.
  { pattern: String.raw`wsems: FIPS policy violation: `, class: 'fips-violation' },
  { pattern: String.raw`TW_ENABLE_FIPS_MODE: FIPS_mode_set\(on\) failed`, class: 'fips-unavailable' },
  { pattern: String.raw`wsems: certificates\.(key_file|client_cert): `, class: 'key-load-error' },
  { pattern: 'TW_USE_KEY_FILE: Error setting the key file', class: 'key-load-error' },
  { pattern: 'TW_USE_CERT_FILE: Error setting the certificate file', class: 'key-load-error' },
  { pattern: String.raw`wsems: certificates\.cert_chain\b`, class: 'config-error' }, // CERT-CHAIN-REQUIRED and unreadable CA lists
  { pattern: 'TW_SET_CLIENT_CA_LIST: Loading a certificate authority chain', class: 'config-error' },
  { pattern: 'TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error', class: 'config-error' },
  { pattern: 'wsems: configuration error: ', class: 'config-error' },
  // --- not the product: the environment failed (the scenario is BROKEN) ---
  { pattern: String.raw`wsems: http_server cannot listen on`, class: 'infrastructure' },
];

const compiled = new Map<string, RegExp>();

function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

/** The failure class one log line proves: `extra` (a target profile's entries) first, then the default map. */
export function attributeLine(line: string, extra: ErrorMapEntry[] = []): ErrorMapEntry['class'] | undefined {
  for (const entry of extra) if (regex(entry.pattern).test(line)) return entry.class;
  for (const entry of C_SDK_ERROR_MAP) if (regex(entry.pattern).test(line)) return entry.class;
  return undefined;
}
