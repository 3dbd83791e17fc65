import type { ErrorMapEntry } from '../scenario/target.ts';

// The default error map: one EMS log line → what it proves. It describes the C SDK as it is
// (EMS-FACTS.md "Log lines of the C SDK", "Measured on the open C SDK 2.2.1", and the SDK with
// OpenSSL 1.0.2): lines of other builds (the bundled simulator's start-up lines, a vendor build's
// own) belong in that target's inventory `errorMap`, which is tried first. First match wins, so
// specific entries come first. Each entry says which OpenSSL line(s) print it; an SDK line whose
// text does not come from OpenSSL (criteria, AUTH, retries) is the same on every line.
//
// X509 verification (TW_VALIDATE_CERT, SSL_get_verify_result after the handshake): the reason
// text is the key, as X509_verify_cert_error_string prints it in crypto/x509/x509_txt.c of
// OpenSSL 1.0.2, 1.1.1 and 3.x. The code numbers move between lines (INVALID_CA is 24 in
// 1.0.2/1.1.1 and 79 in 3.x, where 24 is NO_ISSUER_PUBLIC_KEY), so a number is only a second
// key, for a reason text no entry knows, and only where every line agrees on the class.

const REJECTED = String.raw`TW_VALIDATE_CERT: Certificate rejected\.\s+Code: `;
const HANDSHAKE = String.raw`SSL handshake error\. Error: .*`;

/** A rejection whose reason is one of these texts (any code: the text is the key). */
function reason(texts: string[], cls: ErrorMapEntry['class']): ErrorMapEntry {
  return { pattern: `${REJECTED}\\d+, Reason = (?:${texts.map(escape).join('|')})\\.?\\s*$`, class: cls };
}

/** A rejection by code number, for a reason text no entry above knows. */
function code(codes: number[], cls: ErrorMapEntry['class']): ErrorMapEntry {
  return { pattern: `${REJECTED}(?:${codes.join('|')}),`, class: cls };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const C_SDK_ERROR_MAP: ErrorMapEntry[] = [
  // --- certificate verification: reason texts ------------------------------------------------
  reason(['self signed certificate'], 'self-signed'), // 18 DEPTH_ZERO_SELF_SIGNED_CERT, 1.0.2 / 1.1.1
  reason(['self-signed certificate'], 'self-signed'), // 18, 3.x spelling
  reason(['self signed certificate in certificate chain'], 'untrusted-cert'), // 19, 1.0.2 / 1.1.1: root not in cert_chain
  reason(['self-signed certificate in certificate chain'], 'untrusted-cert'), // 19, 3.x
  reason(['unable to get issuer certificate', 'unable to get local issuer certificate', 'unable to verify the first certificate'], 'untrusted-cert'), // 2, 20, 21: all lines
  reason(["unable to decrypt certificate's signature", 'unable to decode issuer public key', 'certificate signature failure'], 'untrusted-cert'), // 4, 6, 7: all lines
  reason(['certificate chain too long', 'certificate revoked', 'path length constraint exceeded', 'certificate not trusted', 'certificate rejected'], 'untrusted-cert'), // 22, 23, 25, 27, 28: all lines
  reason(['invalid CA certificate'], 'untrusted-cert'), // INVALID_CA: 24 in 1.0.2 / 1.1.1, 79 in 3.x (no basicConstraints CA:TRUE)
  reason(["issuer certificate doesn't have a public key"], 'untrusted-cert'), // 24 NO_ISSUER_PUBLIC_KEY, 3.x
  reason(['unsupported certificate purpose'], 'untrusted-cert'), // 26 INVALID_PURPOSE (EKU without serverAuth), 1.0.2 / 1.1.1
  reason(['unsuitable certificate purpose'], 'untrusted-cert'), // 26, 3.x
  reason(['EE certificate key too weak', 'CA certificate key too weak', 'CA signature digest algorithm too weak'], 'untrusted-cert'), // 66-68 (security level), 1.1.1 / 3.x
  reason(['unspecified certificate verification error'], 'untrusted-cert'), // 1 UNSPECIFIED, 1.1.1 / 3.x
  reason([
    'subject issuer mismatch', 'authority and subject key identifier mismatch', 'authority and issuer serial number mismatch',
    'key usage does not include certificate signing', 'unhandled critical extension', 'invalid non-CA certificate (has CA markings)',
    'key usage does not include digital signature', 'invalid or inconsistent certificate extension',
    'invalid or inconsistent certificate policy extension', 'no explicit policy', 'permitted subtree violation',
    'excluded subtree violation', 'name constraints minimum and maximum not supported', 'unsupported name constraint type',
    'unsupported or invalid name constraint syntax', 'unsupported or invalid name syntax', "RFC 3779 resource not subset of parent's resources",
    'proxy path length constraint exceeded', 'proxy certificates not allowed, please set the appropriate flag',
    "format error in certificate's notBefore field", "format error in certificate's notAfter field",
  ], 'untrusted-cert'), // 29-32, 34, 37, 39, 41-43, 46-49, 51-53, 38, 40, 13, 14: all lines
  reason(['Unsupported extension feature', 'Different CRL scope'], 'untrusted-cert'), // 45, 44: 1.0.2 / 1.1.1 capitals
  reason(['unsupported extension feature', 'different CRL scope', 'path loop'], 'untrusted-cert'), // 45, 44, 55: 3.x
  reason(['Path Loop', 'No matching DANE TLSA records', 'Issuer certificate lookup error'], 'untrusted-cert'), // 55, 65, 70: 1.1.1 (lookup error: 66 in 1.0.2)
  reason(['no matching DANE TLSA records', 'issuer certificate lookup error'], 'untrusted-cert'), // 65, 70: 3.x
  reason([
    'Suite B: certificate version invalid', 'Suite B: invalid public key algorithm', 'Suite B: invalid ECC curve',
    'Suite B: invalid signature algorithm', 'Suite B: curve not allowed for this LOS', 'Suite B: cannot sign P-384 with P-256',
    'Certificate public key has explicit ECC parameters',
  ], 'untrusted-cert'), // 56-61: all lines; 94: 1.0.2u, 1.1.1i and later, 3.x
  reason([
    'Certificate Transparency required, but no valid SCTs found', 'proxy subject name violation', 'OCSP verification needed',
    'OCSP verification failed', 'OCSP unknown cert',
  ], 'untrusted-cert'), // 71-75: 1.1.1 / 3.x
  reason([
    'Cannot find certificate signature algorithm', 'subject signature algorithm and issuer public key algorithm mismatch',
    'cert info signature and signature algorithm mismatch', 'Path length invalid for non-CA cert',
    'Path length given without key usage keyCertSign', 'Key usage keyCertSign invalid for non-CA cert', 'Issuer name empty',
    'Subject name empty', 'Missing Authority Key Identifier', 'Missing Subject Key Identifier',
    'Empty Subject Alternative Name extension', 'Subject empty and Subject Alt Name extension not critical',
    'Basic Constraints of CA cert not marked critical', 'Authority Key Identifier marked critical',
    'Subject Key Identifier marked critical', 'CA cert does not include key usage extension',
    'Using cert extension requires at least X509v3',
  ], 'untrusted-cert'), // 76-78, 80-93: 3.x (strict checks of 3.0 and later)
  // The SDK loads no CRLs; a CRL failure still means the chain was not verified.
  reason([
    'unable to get certificate CRL', "unable to decrypt CRL's signature", 'CRL signature failure', 'CRL is not yet valid',
    'CRL has expired', "format error in CRL's lastUpdate field", "format error in CRL's nextUpdate field",
    'unable to get CRL issuer certificate', 'key usage does not include CRL signing', 'unhandled critical CRL extension',
    'CRL path validation error',
  ], 'untrusted-cert'), // 3, 5, 8, 11, 12, 15, 16, 33, 35, 36, 54: all lines
  reason(['certificate has expired'], 'expired'), // 10 CERT_HAS_EXPIRED: all lines (leaf or intermediate)
  reason(['certificate is not yet valid', 'certificate is not yet valid or the system clock is incorrect'], 'expired'), // 9: 1.0.2-3.1, then 3.2+
  reason(['Hostname mismatch', 'IP address mismatch'], 'hostname-mismatch'), // 62, 64: 1.0.2 / 1.1.1
  reason(['hostname mismatch'], 'hostname-mismatch'), // 62: 3.x
  // --- certificate verification: numbers, where every line means the same class ----------------
  code([9, 10], 'expired'), // CERT_NOT_YET_VALID, CERT_HAS_EXPIRED: all lines
  code([18], 'self-signed'), // DEPTH_ZERO_SELF_SIGNED_CERT: all lines
  code([62], 'hostname-mismatch'), // HOSTNAME_MISMATCH: all lines
  code([2, 4, 6, 7, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28], 'untrusted-cert'), // all lines (24: INVALID_CA in 1.x, NO_ISSUER_PUBLIC_KEY in 3.x)
  code([66, 67, 68], 'untrusted-cert'), // key / digest too weak in 1.1.1 / 3.x (1.0.2: 66 issuer lookup error, 67 proxy subject violation)
  code([79], 'untrusted-cert'), // INVALID_CA in 3.x (unused in 1.x)
  code([1], 'untrusted-cert'), // UNSPECIFIED in 1.1.1 / 3.x (unused in 1.0.2)
  // Any other rejection: the EMS refused the platform certificate for a reason the map does not
  // know (out of memory, application verification, a new check): unattributed, decided at once.
  { pattern: String.raw`TW_VALIDATE_CERT: Certificate rejected`, class: 'refused' },
  { pattern: String.raw`twTlsClient_Connect: Error intializing TLS connection\.\s+Invalid certificate`, class: 'refused' }, // (sic) follows the line above
  // --- validation_criteria (exact compare of subject/issuer CN, O, OU) ---------------------------
  { pattern: String.raw`twTlsClient_Connect: Certificate field .* does not match expected .*\. Field \d`, class: 'criteria-mismatch' },
  // --- handshake failures, by the OpenSSL text in TW_NEW_SSL_CLIENT's line --------------------
  // "no ciphers available" (all lines: the client has no suite to offer), "no shared cipher".
  { pattern: `${HANDSHAKE}(no ciphers available|no shared cipher)`, class: 'no-shared-cipher' },
  // 1.0.2: error:14082174:SSL routines:ssl3_check_cert_and_algorithm:dh key too small;
  // 1.1.1 / 3.x: …:tls_process_ske_dhe:dh key too small.
  { pattern: `${HANDSHAKE}dh key too small`, class: 'dh-too-small' },
  // All lines: unsupported protocol, wrong version number, tlsv1 alert protocol version; 1.1.0+:
  // no protocols available; 3.x: version too low.
  {
    pattern: `${HANDSHAKE}(unsupported protocol|wrong version number|protocol version|no protocols available|version too low)`,
    class: 'protocol-version',
  },
  // 3.x at security level 1 meeting a TLS 1.0/1.1-only server: its MD5+SHA-1 signature is refused.
  { pattern: `${HANDSHAKE}legacy sigalg disallowed or unsupported`, class: 'protocol-version' },
  { pattern: `${HANDSHAKE}certificate required`, class: 'client-cert-required' }, // tlsv13 alert certificate required (alert 116): 1.1.1 / 3.x
  // The platform's alerts about the client certificate the EMS presented: all lines.
  { pattern: `${HANDSHAKE}(unknown ca|bad certificate|certificate unknown|unsupported certificate|certificate expired|certificate revoked)`, class: 'client-cert-rejected' },
  // TLS 1.2 handshake_failure (sslv3 alert handshake failure, alert 40) and anything else: only
  // the platform side can tell why.
  { pattern: HANDSHAKE, class: 'handshake' },
  { pattern: 'Error intializing SSL connection', class: 'handshake' }, // (sic) the SDK's spelling, after the line above
  // --- after the handshake: TLS 1.3 client-certificate refusals (measured on 2.2.1 with 3.x) ---
  // The SDK's handshake completes; the platform then refuses the certificate, and the SDK reads
  // errors where it expected the upgrade response: decided at once, the class from the platform.
  { pattern: 'TW_SSL_READ: ', class: 'connect-failed' }, // Error reading from SSL stream / Timed out or error waiting reading from socket
  { pattern: String.raw`twWs_Connect: Connect response too big\. Websocket connect failed`, class: 'connect-failed' },
  { pattern: String.raw`twWs_Connect: Error initializing web socket\.\s+Response code: \d+`, class: 'connect-failed' }, // upgrade refused
  { pattern: String.raw`twWs_Connect: Didn't get the entire header - attempting to read more`, class: 'context' },
  // --- the TCP connection itself: "Err = 111" (ECONNREFUSED) for a port above 32767 on 2.2.1 ---
  { pattern: String.raw`Error intializing socket connection\.\s+Err = `, class: 'socket' }, // (sic)
  { pattern: String.raw`twWs_Connect: Error restarting socket\.\s+Error `, class: 'context' }, // after any failed attempt
  { pattern: String.raw`twApi_Connect: Max number of connect retries: \d+, has been reached`, class: 'refused' }, // the EMS gave up
  { pattern: 'apiThread: Did not receive pong in time', class: 'context' }, // a drop after connecting
  // --- authentication ---
  { pattern: String.raw`AUTH Message \d+ failed\. Code:\d+`, class: 'auth-rejected' },
  // --- start-up: the SDK's context set-up (all lines) ---
  // key_file through SSL_CTX_use_PrivateKey_file(…, PEM): 3.x "DECODER routines::unsupported" for
  // .p8 / .p12, 1.0.2 "PEM routines:PEM_read_bio:no start line"; a wrong passphrase too.
  { pattern: 'TW_USE_KEY_FILE: Error setting the key file', class: 'key-load-error' },
  { pattern: 'TW_USE_CERT_FILE: Error setting the certificate file', class: 'key-load-error' }, // SDK source (twOpenSSL.h); not measured
  { pattern: 'TW_SET_CLIENT_CA_LIST: Loading a certificate authority chain', class: 'config-error' }, // SDK source; not measured
  // A cipher_suite the linked OpenSSL cannot parse (1.0.2: any `@SECLEVEL=`, ChaCha20-only lists).
  { pattern: 'TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error', class: 'config-error' },
  { pattern: String.raw`TW_ENABLE_FIPS_MODE: FIPS_mode_set\(on\) failed`, class: 'fips-unavailable' }, // SDK source; 2.2.1 itself logs nothing (1012)
  // --- any build: its local server's port taken, in the OS's words (strerror; Winsock's WSAEADDRINUSE).
  // The harness picked the port free: a clash is the machine's, not the EMS's failure.
  { pattern: String.raw`EADDRINUSE|[Aa]ddress already in use|WSAEADDRINUSE|Only one usage of each socket address`, class: 'infrastructure' },
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

/** The entry a log line matches: `extra` (a target profile's own entries) first, then the default map. */
export function matchLine(line: string, extra: readonly ErrorMapEntry[] = []): ErrorMapEntry | undefined {
  return extra.find((e) => regex(e.pattern).test(line)) ?? C_SDK_ERROR_MAP.find((e) => regex(e.pattern).test(line));
}

/** What one log line proves: `extra` (a target profile's entries) first, then the default map. */
export function attributeLine(line: string, extra: readonly ErrorMapEntry[] = []): ErrorMapEntry['class'] | undefined {
  return matchLine(line, extra)?.class;
}
