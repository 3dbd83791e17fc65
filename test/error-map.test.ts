import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { attributeLine, C_SDK_ERROR_MAP, matchLine } from '../harness/ems/error-map.ts';
import type { ErrorMapEntry } from '../harness/scenario/target.ts';

// The default error map against the C SDK's lines as OpenSSL 1.0.2, 1.1.1 and 3.x print them
// (EMS-FACTS.md, crypto/x509/x509_txt.c of each line): every verification reason text under a
// code number no entry knows (999: the text is the key, whatever the number), every code number
// under a reason text no entry knows, and the SDK's other lines. The spec of the map as data.

const U = 'untrusted-cert';
const REJECTED = (code: number | string, reason: string) => `[ERROR] 2025-03-04 10:15:02,035: TW_VALIDATE_CERT: Certificate rejected.  Code: ${code}, Reason = ${reason}`;

/** X509_verify_cert_error_string texts, by the class a refusal for that reason is. */
const REASONS: Array<[ErrorMapEntry['class'], string[]]> = [
  ["self-signed", ["self signed certificate"]],
  ["self-signed", ["self-signed certificate"]],
  [U, ["self signed certificate in certificate chain"]],
  [U, ["self-signed certificate in certificate chain"]],
  [U, ["unable to get issuer certificate", "unable to get local issuer certificate", "unable to verify the first certificate"]],
  [U, ["unable to decrypt certificate's signature", "unable to decode issuer public key", "certificate signature failure"]],
  [U, ["certificate chain too long", "certificate revoked", "path length constraint exceeded", "certificate not trusted", "certificate rejected"]],
  [U, ["invalid CA certificate"]],
  [U, ["issuer certificate doesn't have a public key"]],
  [U, ["unsupported certificate purpose"]],
  [U, ["unsuitable certificate purpose"]],
  [U, ["EE certificate key too weak", "CA certificate key too weak", "CA signature digest algorithm too weak"]],
  [U, ["unspecified certificate verification error"]],
  [U, ["subject issuer mismatch", "authority and subject key identifier mismatch", "authority and issuer serial number mismatch", "key usage does not include certificate signing", "unhandled critical extension", "invalid non-CA certificate (has CA markings)", "key usage does not include digital signature", "invalid or inconsistent certificate extension", "invalid or inconsistent certificate policy extension", "no explicit policy", "permitted subtree violation", "excluded subtree violation", "name constraints minimum and maximum not supported", "unsupported name constraint type", "unsupported or invalid name constraint syntax", "unsupported or invalid name syntax", "RFC 3779 resource not subset of parent's resources", "proxy path length constraint exceeded", "proxy certificates not allowed, please set the appropriate flag", "format error in certificate's notBefore field", "format error in certificate's notAfter field"]],
  [U, ["Unsupported extension feature", "Different CRL scope"]],
  [U, ["unsupported extension feature", "different CRL scope", "path loop"]],
  [U, ["Path Loop", "No matching DANE TLSA records", "Issuer certificate lookup error"]],
  [U, ["no matching DANE TLSA records", "issuer certificate lookup error"]],
  [U, ["Suite B: certificate version invalid", "Suite B: invalid public key algorithm", "Suite B: invalid ECC curve", "Suite B: invalid signature algorithm", "Suite B: curve not allowed for this LOS", "Suite B: cannot sign P-384 with P-256", "Certificate public key has explicit ECC parameters"]],
  [U, ["Certificate Transparency required, but no valid SCTs found", "proxy subject name violation", "OCSP verification needed", "OCSP verification failed", "OCSP unknown cert"]],
  [U, ["Cannot find certificate signature algorithm", "subject signature algorithm and issuer public key algorithm mismatch", "cert info signature and signature algorithm mismatch", "Path length invalid for non-CA cert", "Path length given without key usage keyCertSign", "Key usage keyCertSign invalid for non-CA cert", "Issuer name empty", "Subject name empty", "Missing Authority Key Identifier", "Missing Subject Key Identifier", "Empty Subject Alternative Name extension", "Subject empty and Subject Alt Name extension not critical", "Basic Constraints of CA cert not marked critical", "Authority Key Identifier marked critical", "Subject Key Identifier marked critical", "CA cert does not include key usage extension", "Using cert extension requires at least X509v3"]],
  [U, ["unable to get certificate CRL", "unable to decrypt CRL's signature", "CRL signature failure", "CRL is not yet valid", "CRL has expired", "format error in CRL's lastUpdate field", "format error in CRL's nextUpdate field", "unable to get CRL issuer certificate", "key usage does not include CRL signing", "unhandled critical CRL extension", "CRL path validation error"]],
  ["expired", ["certificate has expired"]],
  ["expired", ["certificate is not yet valid", "certificate is not yet valid or the system clock is incorrect"]],
  ["hostname-mismatch", ["Hostname mismatch", "IP address mismatch"]],
  ["hostname-mismatch", ["hostname mismatch"]],
];

/** Code numbers whose class every OpenSSL line agrees on; any other number is unattributed. */
const CODES: Array<[number, ErrorMapEntry['class']]> = [
  [9, 'expired'], [10, 'expired'], [18, 'self-signed'], [62, 'hostname-mismatch'],
  ...[2, 4, 6, 7, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 66, 67, 68, 79, 1].map((n): [number, ErrorMapEntry['class']] => [n, U]),
];

/** The SDK's other lines → what they prove (undefined: nothing; the line decides nothing by the map). */
const LINES: Array<[string, ErrorMapEntry['class'] | undefined]> = [
  ['twTlsClient_Connect: Error intializing TLS connection.  Invalid certificate', 'refused'],
  ['twTlsClient_Connect: Certificate field Cert_Organization does not match expected Conformance Lab. Field 1', 'criteria-mismatch'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A0000B5:SSL routines::no ciphers available.', 'no-shared-cipher'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000076:SSL routines::no shared cipher.', 'no-shared-cipher'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:14082174:SSL routines:ssl3_check_cert_and_algorithm:dh key too small.', 'dh-too-small'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A00018A:SSL routines:tls_process_ske_dhe:dh key too small.', 'dh-too-small'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000102:SSL routines::unsupported protocol.', 'protocol-version'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:1408F10B:SSL routines:ssl3_get_record:wrong version number.', 'protocol-version'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A00042E:SSL routines::tlsv1 alert protocol version.', 'protocol-version'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A0000BF:SSL routines::no protocols available.', 'protocol-version'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A00018C:SSL routines::version too low.', 'protocol-version'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A00014D:SSL routines:tls_process_key_exchange:legacy sigalg disallowed or unsupported.', 'protocol-version'],
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A00045C:SSL routines::tlsv13 alert certificate required.', 'client-cert-required'],
  ...['unknown ca', 'bad certificate', 'certificate unknown', 'unsupported certificate', 'certificate expired', 'certificate revoked'].map((a): [string, ErrorMapEntry['class']] =>
    [`TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000418:SSL routines::tlsv1 alert ${a}.`, 'client-cert-rejected']),
  ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000410:SSL routines::sslv3 alert handshake failure.', 'handshake'],
  ['Error intializing SSL connection', 'handshake'],
  ['TW_SSL_READ: Error reading from SSL stream', 'connect-failed'],
  ['TW_SSL_READ: Timed out or error waiting reading from socket. Error: 110', 'connect-failed'],
  ['twWs_Connect: Connect response too big. Websocket connect failed', 'connect-failed'],
  ['twWs_Connect: Error initializing web socket.  Response code: 403', 'connect-failed'],
  ["twWs_Connect: Didn't get the entire header - attempting to read more", 'context'],
  ['Error intializing socket connection.  Err = 111', 'socket'],
  ['twWs_Connect: Error restarting socket.  Error 111', 'context'],
  ['twApi_Connect: Max number of connect retries: 10, has been reached', 'refused'],
  ['apiThread: Did not receive pong in time', 'context'],
  ['api:sendMessageBlocking: AUTH Message 2 failed. Code:129', 'auth-rejected'],
  ['TW_USE_KEY_FILE: Error setting the key file - error:1E08010C:DECODER routines::unsupported', 'key-load-error'],
  ['TW_USE_CERT_FILE: Error setting the certificate file', 'key-load-error'],
  ['TW_SET_CLIENT_CA_LIST: Loading a certificate authority chain failed', 'config-error'],
  ['TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error: error:0A0000B9:SSL routines::no cipher match', 'config-error'],
  ['TW_ENABLE_FIPS_MODE: FIPS_mode_set(on) failed', 'fips-unavailable'],
  ['api:sendMessageBlocking: AUTH Message 1 succeeded. Code:64', undefined],
  ['twWs_Connect: Websocket connected!', undefined],
  ['[INFO] 2025-03-04 10:15:02,035: twApi_Initialize: FIPS Capable', undefined],
];

describe('the C SDK error map (harness/ems/error-map.ts)', () => {
  describe('verification reason texts decide the class, whatever the code', () => {
    for (const [cls, texts] of REASONS) {
      for (const text of texts) {
        it(`"${text}" → ${cls}`, () => {
          assert.equal(attributeLine(REJECTED(999, text)), cls);
          assert.equal(attributeLine(REJECTED(999, `${text}.`)), cls, 'with a full stop');
          assert.equal(attributeLine(`${REJECTED(999, text)}   `), cls, 'with trailing blanks');
        });
      }
    }
    it('a text must be the whole reason: one inside a longer text is not it', () => {
      assert.equal(attributeLine(REJECTED(999, 'self signed certificate in certificate chain')), U, 'not self-signed');
      assert.equal(attributeLine(REJECTED(999, 'certificate has expired, or so')), 'refused');
      assert.equal(attributeLine(REJECTED(999, 'invalid non-CA certificate has CA markings')), 'refused', 'its parentheses are literal');
    });
    it('a text the code number disagrees with: the text wins (INVALID_CA is 24 in 1.x, 79 in 3.x)', () => {
      assert.equal(attributeLine(REJECTED(24, 'invalid CA certificate')), U);
      assert.equal(attributeLine(REJECTED(79, 'invalid CA certificate')), U);
      assert.equal(attributeLine(REJECTED(18, 'certificate has expired')), 'expired');
      assert.equal(attributeLine(REJECTED(10, 'self-signed certificate')), 'self-signed');
    });
  });

  describe('code numbers, for a reason text no entry knows', () => {
    for (const [code, cls] of CODES) it(`Code: ${code} → ${cls}`, () => assert.equal(attributeLine(REJECTED(code, 'a reason no OpenSSL line printed')), cls));
    for (const code of [3, 5, 8, 11, 17, 29, 50, 65, 69, 80, 999]) {
      it(`Code: ${code} with an unknown text → refused, unattributed`, () => assert.equal(attributeLine(REJECTED(code, 'a reason no OpenSSL line printed')), 'refused'));
    }
    it('a number is matched whole: 180 is not 18, 100 not 10', () => {
      assert.equal(attributeLine(REJECTED(180, 'x')), 'refused');
      assert.equal(attributeLine(REJECTED(100, 'x')), 'refused');
    });
  });

  describe('the SDK\'s other lines', () => {
    for (const [line, cls] of LINES) it(`${line.slice(0, 70)} → ${cls ?? 'nothing'}`, () => assert.equal(attributeLine(`[ERROR] 2025-03-04 10:15:02,035: ${line}`), cls));
  });

  describe('a target\'s own entries', () => {
    it('are tried first, and the entry itself is returned (for the report of unused entries)', () => {
      const own: ErrorMapEntry = { pattern: 'Code: 19,', class: 'self-signed', origin: 'lab.yaml: targets[0].errorMap[0]' };
      assert.equal(matchLine(REJECTED(19, 'self signed certificate in certificate chain'), [own]), own);
      assert.equal(attributeLine(REJECTED(19, 'self signed certificate in certificate chain'), [own]), 'self-signed');
      assert.equal(attributeLine(REJECTED(19, 'self signed certificate in certificate chain')), U, 'without it, the default map');
    });
    it('the default map\'s entry is returned when no own entry matches, and nothing when neither does', () => {
      const line = REJECTED(10, 'certificate has expired');
      assert.equal(matchLine(line, [{ pattern: 'nothing like it', class: 'expired' }]), matchLine(line));
      assert.ok(C_SDK_ERROR_MAP.includes(matchLine(line)!));
      assert.equal(matchLine('a line nobody knows'), undefined);
      assert.equal(matchLine('a line nobody knows', [{ pattern: 'nothing like it', class: 'expired' }]), undefined);
    });
    it('a pattern is matched the same the first time and every time after (compiled once)', () => {
      // A pattern this process has never seen (the map compiles each pattern once, on first use).
      const id = randomUUID();
      const own: ErrorMapEntry[] = [{ pattern: `vendor ${id}: (bad|worse) cert`, class: 'untrusted-cert' }];
      for (let i = 0; i < 3; i++) {
        assert.equal(attributeLine(`vendor ${id}: worse cert`, own), 'untrusted-cert');
        assert.equal(attributeLine(`vendor ${id}: good cert`, own), undefined);
      }
    });
  });

  it('holds valid, distinct patterns only, none of them the simulator\'s', () => {
    for (const e of C_SDK_ERROR_MAP) assert.doesNotThrow(() => new RegExp(e.pattern), e.pattern);
    assert.equal(new Set(C_SDK_ERROR_MAP.map((e) => e.pattern)).size, C_SDK_ERROR_MAP.length);
    assert.ok(C_SDK_ERROR_MAP.every((e) => !e.pattern.startsWith('wsems')));
  });
});
