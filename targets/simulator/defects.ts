// TEST-ONLY defects, for mutation testing of the conformance harness (docs/mutation-review.md):
// `WSEMS_SIM_DEFECT=<name>` makes this simulator one defective EMS, as a TLS client in C on
// OpenSSL might be written wrong. It is refused unless `WSEMS_SIM_DEFECT_ARMED` also says
// `defective-on-purpose`, and an armed defect is announced first thing, on every start and every
// -encrypt (`DEFECT INJECTED: <name>`): the harness marks every result of such an EMS. Nothing in
// the default inventory sets either variable (test/mutation-switch.test.ts).
//
// Each entry is one defect of the review, by its name there; the code it changes asks `defect()`.

export const DEFECTS = {
  // CERT-VALIDATE
  'verify-result-ignored': 'SSL_get_verify_result is never called: every platform certificate is accepted',
  'validate-default-false': 'validate left out of config.json reads as false',
  'validate-off-still-checks': 'validate: false is ignored: the certificate is still verified',
  'leaf-only-checked': "only the leaf's own validity period (and host name) is checked, never its chain",
  'unhandled-critical-ext-ignored': 'the verify callback forgives X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION',
  'name-constraints-ignored': 'the verify callback forgives permitted/excluded subtree violations',
  'ecdsa-unsupported': 'the key check takes the peer key as RSA (EVP_PKEY_get1_RSA): an ECDSA platform is refused',
  'rsa-modulus-buffer-512': 'the key check reads the modulus into a 512-byte buffer: an RSA key above 4096 bits is refused',
  // CERT-SELFSIGNED
  'self-signed-always-allowed': 'allow_self_signed is read as true whatever it says',
  'self-signed-never-allowed': 'allow_self_signed is read as false whatever it says',
  'self-signed-default-true': 'allow_self_signed left out of config.json reads as true',
  'self-signed-forgives-all': 'with allow_self_signed every verify error is forgiven, not only 18 and 19',
  'self-signed-forgives-untrusted': 'with allow_self_signed "unable to get (local) issuer" (2, 20, 21) is forgiven too',
  // CERT-CHAIN
  'chain-first-pem-only': 'cert_chain is read with one PEM_read_X509: only its first certificate is loaded',
  'chain-last-pem-only': 'cert_chain is read in a loop that overwrites: only its last certificate is loaded',
  'chain-stops-at-comment': 'the cert_chain reader stops at the first line outside a PEM block that is not blank',
  'chain-crlf-unsupported': 'the cert_chain reader decodes base64 lines ending in \\r as garbage: CRLF blocks are skipped',
  'chain-needs-final-newline': 'the cert_chain reader (fgets) drops a last line without a newline, and so the last certificate',
  // CERT-CHAIN-REQUIRED
  'chain-required-missing-trusts-all': 'without cert_chain the EMS starts, and with an empty trust store skips verification',
  'chain-unreadable-ignored': 'a cert_chain that cannot be read is only a warning: the EMS connects with an empty trust store',
  'chain-required-unexplained': 'without cert_chain the EMS exits at start-up without saying why',
  // CERT-HOST
  'host-check-absent': 'no host-name check at all',
  'host-check-flag-ignored': 'disable_hostname_validation is ignored (the check stays on)',
  'host-check-disables-validation': 'disable_hostname_validation: true switches off all certificate validation',
  'host-wildcard-any-depth': 'a SAN wildcard matches any number of labels',
  'host-wildcard-matches-bare': '*.domain also matches the bare domain',
  'host-wildcard-any-label': 'a * is honoured in any label, not only the left-most',
  'host-wildcard-over-tld': 'a wildcard over a single label (*.test) is honoured',
  'host-partial-wildcard-any': 'a partial wildcard (plat*) matches any left-most label',
  'host-cn-only': 'only the subject CN is compared with the host, never the SAN',
  'host-cn-fallback-always': 'the CN is compared too when the certificate has DNS SANs',
  'host-case-sensitive': 'host names are compared with strcmp, not strcasecmp',
  'host-ip-as-dns': 'an address host is compared as text with the DNS SANs and the CN',
  'host-ip-san-ignored': 'IP SANs are never looked at',
  'san-list-truncated': 'only the first 100 SANs are read (a fixed-size array)',
  // CERT-CLIENT
  'client-cert-not-loaded': 'client_cert / key_file are read but never given to the TLS context',
  'client-cert-only-when-validating': 'the client certificate is loaded only when validate is true',
  'client-cert-late-first-attempt': 'the client certificate is set on the context after the first connection was made from it',
  'client-chain-not-sent': 'client_cert is loaded with SSL_CTX_use_certificate_file: the intermediates in it are never sent',
  // CERT-KEYFORMAT
  'key-passphrase-ignored': 'key_passphrase is never handed to the key loader',
  'key-pem-only': 'key_file is loaded as PEM only: .p8 (DER) and .p12 fail',
  'key-load-error-ignored': 'a key_file that does not load is a warning: the EMS connects without a client certificate',
  'key-passphrase-truncated': 'the passphrase callback copies into a 17-byte buffer: longer passphrases are cut to 16',
  // CERT-CRITERIA
  'criteria-contains': 'validation_criteria compared with strstr: "contains" instead of "equals"',
  'criteria-prefix': 'validation_criteria compared with strncmp(actual, expected, strlen(expected))',
  'criteria-shorter-length': 'validation_criteria compared with strncmp over the shorter of the two lengths',
  'criteria-caseless': 'validation_criteria compared with strcasecmp',
  'criteria-trimmed': 'validation_criteria values trimmed of leading and trailing white space',
  'criteria-whitespace-folded': 'validation_criteria white space folded (runs of blanks and tabs as one space)',
  'criteria-absent-field-skipped': 'a criteria field the certificate lacks is skipped instead of refused',
  'criteria-first-field-only': 'the criteria loop breaks after the first configured field',
  'criteria-ca-from-root': "CA_Cert_* compared with the trust anchor's subject instead of the leaf's issuer",
  'criteria-ou-as-o': 'Cert_Organizational_Name / CA_Cert_Organizational_Name read with NID_organizationName',
  // CERT-PATHS
  'paths-backslash-literal': 'backslashes in paths are not taken as separators',
  'paths-cert-chain-only-translated': 'only cert_chain has its backslashes translated, not client_cert or key_file',
  // SECRET-ENCRYPT
  'encrypt-base64': '-encrypt prints base64 of the value',
  'encrypt-base64url-salted': '-encrypt prints base64url of random bytes followed by the value',
  'encrypt-hex': '-encrypt prints the value in hex',
  'encrypt-clear-prefixed': '-encrypt prints the value behind a prefix',
  'encrypted-app-key-not-decrypted': 'an encrypted appKey is sent as it is',
  'encrypted-passphrase-not-decrypted': 'an encrypted key_passphrase is handed to the key loader as it is',
  // SECRET-NOLOG
  'log-auth-frame-hex': 'the AUTH message is hex-dumped at TRACE (the log scrubber knows only the clear key)',
  'log-passphrase-stderr': 'a key that does not load prints its passphrase to stderr',
  'log-config-dump-stdout': 'the decrypted configuration is printed to stdout at start-up',
  'log-app-key-masked-end': 'the app key is logged with only its last four characters masked',
  'log-http-password': "the local server prints each request's Authorization header to stdout (the log scrubber knows only the clear password)",
  // CIPHER-LIST
  'cipher-list-ignored': 'cipher_suite is ignored: the recommended list is always used',
  'cipher-list-error-ignored': "SSL_CTX_set_cipher_list's failure is ignored: an unusable list leaves the default",
  'cipher-list-appended': 'cipher_suite is appended to the recommended list instead of replacing it',
  'cipher-list-first-item': 'only the first item of cipher_suite (up to the first colon) is used',
  // CIPHER-RECOMMENDED
  'recommended-default-all': 'the default cipher list is ALL (as OpenSSL 1.0.2 applies it: no security level)',
  // CIPHER-AXTLS
  'axtls-honours-cipher-suite': 'the axTLS build parses and applies cipher_suite',
  'axtls-unparsable-fatal': 'the axTLS build parses cipher_suite and refuses to start on one OpenSSL cannot use',
  // JAVA7-EDH
  'kedh-dropped': 'the cipher list builder drops the "!" exclusions of cipher_suite (so !kEDH never reaches OpenSSL)',
  // FIPS-SWITCH
  'fips-ignored': 'fips.enabled is ignored',
  'fips-always-on': 'FIPS mode is on whatever fips.enabled says',
  'fips-mode-set-misread': "FIPS_mode_set's 1 (success) is taken for failure: FIPS mode never starts",
  // FIPS-ALGOS
  'fips-cipher-suite-honoured': 'in FIPS mode cipher_suite is used as it is, not cut down to the approved suites',
  'fips-tls13-unrestricted': 'in FIPS mode the TLS 1.3 suites are left as they are (ChaCha20 too)',
  'fips-groups-unrestricted': 'in FIPS mode the key exchange groups are left as they are (X25519 too)',
  'fips-min-tls10': 'FIPS mode keeps TLS 1.0 and 1.1 on',
  'fips-sha1-mac-allowed': 'FIPS mode allows suites with SHA-1 MACs',
  'fips-weak-key-allowed': 'FIPS mode accepts RSA keys of 1024 bits',
  // FIPS-BUILD
  'fips-silently-off': 'a build without FIPS starts in FIPS mode anyway, without it',
  'fips-unavailable-unexplained': 'a build without FIPS exits in FIPS mode without saying why',
  'fips-1012-ignored': "twApi_EnableFipsMode's 1012 is ignored: the EMS runs without FIPS",
  // BASE-*
  'expiry-ignored': 'an expired certificate is accepted (clock-skew tolerance for gateways without a clock)',
  'expiry-leaf-only': "only the leaf's expiry is checked, not the intermediates'",
  'notyet-ignored': 'a certificate not valid yet is accepted',
  'untrusted-root-accepted': 'a chain to a root not in cert_chain is accepted (partial chains, any root)',
  'trust-peer-chain': 'the intermediates the platform sends are trusted as anchors',
  'incomplete-chain-forgiven': '"unable to verify the first certificate" (21) is forgiven',
  'eku-ignored': 'the extended key usage is not checked',
  'ca-flag-ignored': 'an intermediate without basicConstraints CA:TRUE is accepted',
  'pathlen-ignored': 'pathLenConstraint is not enforced',
  'pathlen-off-by-one': 'pathLenConstraint 0 is taken to forbid even the leaf',
  'v1-ca-accepted': 'a version 1 certificate is taken for a CA',
  'weak-signature-accepted': 'the verify callback forgives X509_V_ERR_CA_MD_TOO_WEAK: SHA-1 and MD5 signatures are accepted',
  'weak-key-accepted': 'RSA keys of 1024 bits are accepted',
  'seclevel-zero': "the EMS lowers OpenSSL's security level to 0 for old platforms: SHA-1, RSA-1024 and TLS 1.0 accepted",
  // LSR-TLS
  'lsr-plain-http-answered': 'with ssl: true the local server answers plain HTTP on its port too (the first byte tells a ClientHello from a request)',
  'lsr-passphrase-ignored': 'http_server.passphrase is never handed to the key loader',
  'lsr-encrypted-passphrase-literal': 'an encrypted http_server.passphrase is handed to the key loader as it is',
  'lsr-key-mismatch-unchecked': "SSL_CTX_use_PrivateKey's failure is ignored: a key that does not match starts, and every handshake fails",
  'lsr-chain-leaf-only': 'http_server.certificate is loaded with SSL_CTX_use_certificate_file: only its first certificate is served',
  'lsr-load-error-plain': 'a certificate or private_key that does not load turns TLS off: the local server serves plain HTTP',
  // LSR-AUTH
  'lsr-auth-ignored': 'authenticate: true is never enforced',
  'lsr-auth-missing-header-passes': 'only a request with an Authorization header is checked: one without any is served',
  'lsr-auth-prefix-compare': 'the Basic credentials are compared with strncmp over the received length: a prefix of them passes',
  'lsr-auth-configured-length-compare': 'the Basic credentials are compared with strncmp over the configured length: anything they begin passes',
  'lsr-auth-user-only': 'only the user name of the Basic credentials is checked',
  'lsr-encrypted-password-literal': 'an encrypted http_server.password is compared in its encrypted form',
  // LSR-HOST
  'lsr-binds-any': 'the local server binds every address whatever host says (played on both loopbacks, the same port)',
  'lsr-localhost-ipv4': 'host localhost is bound on 127.0.0.1, not on the IPv6 loopback',
  'lsr-host-ignored': 'host is ignored: the local server always binds INADDR_LOOPBACK (127.0.0.1)',
  // LSR-WARN
  'lsr-no-insecure-warning': 'no warning for ssl: false or authenticate: false',
  'lsr-no-validate-warning': 'no warning for validate: false or allow_self_signed: true',
  'lsr-warn-on-presence': 'the ssl and authenticate warnings test whether the setting is present, not its value: true warns too',
  // BASE-SANITY
  'tls12-unsupported': 'only TLS 1.3 is offered',
  'rest-isconnected-false': 'the local REST server always answers isConnected false',
} as const;

export type DefectName = keyof typeof DEFECTS;

export const DEFECT_VARIABLE = 'WSEMS_SIM_DEFECT';
export const ARMED_VARIABLE = 'WSEMS_SIM_DEFECT_ARMED';
export const ARMED_VALUE = 'defective-on-purpose';

let active: DefectName | undefined;

/** Whether this run of the simulator plays the named defect. */
export function defect(name: DefectName): boolean {
  return active === name;
}

/**
 * Reads the switch from the environment (at run time, never while the start-up snapshot is built).
 * Returns the line to announce an armed defect with, or throws with what is wrong.
 */
export function armFromEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  const name = env[DEFECT_VARIABLE];
  if (!name) return undefined;
  if (env[ARMED_VARIABLE] !== ARMED_VALUE) {
    throw new Error(`${DEFECT_VARIABLE} is a test-only switch that makes this EMS defective on purpose; it is refused unless ${ARMED_VARIABLE}=${ARMED_VALUE} is set too (mutation testing only, docs/mutation-review.md)`);
  }
  if (!(name in DEFECTS)) throw new Error(`${DEFECT_VARIABLE}: unknown defect ${JSON.stringify(name)}; known: ${Object.keys(DEFECTS).join(', ')}`);
  active = name as DefectName;
  return `DEFECT INJECTED: ${name} (mutation testing only: this EMS is defective on purpose: ${DEFECTS[active]})`;
}
