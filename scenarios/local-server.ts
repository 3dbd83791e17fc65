import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// The EMS ↔ LSR link (REQUIREMENTS.md LSR-*): the EMS's local HTTP server, `http_server` in
// config.json, as the harness playing the LSR sees it (harness/lsr/). The platform link comes up in
// every scenario (the sanity endpoint: a real EMS serves its local API while connected); what is
// judged is what the local server serves, to whom, where, and what the EMS warns about.
// docs/local-server.md explains the expectations and how to add a scenario.

/** The leaf and its intermediate, in the order the vendor says to write the certificate file. */
const CHAIN = ['leaf-local-server', 'local-server-ca'];
const SERVES_TLS = { outcome: 'serves-tls' as const, chain: CHAIN };
/** TLS as the vendor documents it: certificate file with the intermediate, a PEM key. */
const TLS = { ssl: true, certificate: { file: 'local-server-chain.pem' }, private_key: { key: 'leaf-local-server' } };
const ENCRYPTED_KEY = { file: 'local-server.enc.pem' };
/** Basic authentication with the catalogue's password (a secret, like the app key). */
const AUTH = { authenticate: true, user: 'lsr', password: { secret: 'lsr-password' } };
/** The settings the EMS warns about all off: TLS, authentication, a validating platform link. */
const SECURE = { certificates: VALIDATING, http_server: { ...TLS, ...AUTH } };
const REJECTS = { outcome: 'rejects-unauthenticated' as const };
/** A file the EMS cannot open or use is a start-up error; which class the build names it is its own. */
const CANNOT_OPEN = { anyOf: [{ outcome: 'refuses-to-start' as const, class: 'key-load-error' as const }, { outcome: 'refuses-to-start' as const, class: 'config-error' as const }] };

export default family('local-server', { link: 'local-server' }, [
  // --- LSR-TLS ---------------------------------------------------------------------------------
  {
    id: 'lsr.tls.chain-in-order',
    title: 'ssl: true with a leaf + intermediate certificate file: serves TLS with both, in order; a plain request gets no data',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: TLS },
    expect: SERVES_TLS,
  },
  {
    id: 'lsr.tls.encrypted-key',
    title: 'An encrypted PEM private_key opened with a clear passphrase: serves TLS',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, private_key: ENCRYPTED_KEY, passphrase: { secret: 'lsr-key-pass' } } },
    expect: SERVES_TLS,
  },
  {
    id: 'lsr.tls.encrypted-key-encrypted-passphrase',
    title: 'An encrypted PEM private_key opened with an -encrypted passphrase: serves TLS',
    requirements: ['LSR-TLS', 'SECRET-ENCRYPT'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, private_key: ENCRYPTED_KEY, passphrase: { secret: 'lsr-key-pass', encrypt: true } } },
    expect: SERVES_TLS,
  },
  {
    id: 'lsr.tls.wrong-passphrase',
    title: 'A wrong passphrase for the encrypted private_key: refuses to start (key-load error)',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, private_key: ENCRYPTED_KEY, passphrase: { literal: 'not-the-lsr-key-passphrase' } } },
    expect: { outcome: 'refuses-to-start', class: 'key-load-error' },
  },
  {
    id: 'lsr.tls.wrong-passphrase-encrypted',
    title: 'A wrong passphrase, -encrypted: refuses to start like the clear one (key-load error)',
    requirements: ['LSR-TLS', 'SECRET-ENCRYPT'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, private_key: ENCRYPTED_KEY, passphrase: { literal: 'not-the-lsr-key-passphrase', encrypt: true } } },
    expect: { outcome: 'refuses-to-start', class: 'key-load-error' },
  },
  {
    id: 'lsr.tls.no-passphrase',
    title: 'An encrypted private_key without a passphrase: refuses to start (key-load error)',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, private_key: ENCRYPTED_KEY } },
    expect: { outcome: 'refuses-to-start', class: 'key-load-error' },
  },
  {
    id: 'lsr.tls.key-mismatch',
    title: 'A private_key that does not match the certificate: refuses to start (key-load error)',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, private_key: { key: 'leaf-valid' } } },
    expect: { outcome: 'refuses-to-start', class: 'key-load-error' },
  },
  {
    id: 'lsr.tls.certificate-missing',
    title: 'A certificate file that does not exist: refuses to start (key-load or configuration error)',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, certificate: { missing: 'local-server-chain.pem' } } },
    expect: CANNOT_OPEN,
  },
  {
    id: 'lsr.tls.private-key-missing',
    title: 'A private_key file that does not exist: refuses to start (key-load or configuration error)',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, private_key: { missing: 'local-server.key' } } },
    expect: CANNOT_OPEN,
  },
  {
    id: 'lsr.tls.intermediate-first',
    title: 'A certificate file with the intermediate before the leaf: refuses to start (the key does not match its first certificate)',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ...TLS, certificate: { file: 'local-server-chain-intermediate-first.pem' } } },
    expect: CANNOT_OPEN,
  },
  {
    id: 'lsr.tls.nothing-configured',
    title: 'ssl: true without certificate and private_key (no built-in certificate since 5.4.5): refuses to start (configuration error)',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ssl: true } },
    expect: { outcome: 'refuses-to-start', class: 'config-error' },
  },
  {
    id: 'lsr.tls.off',
    title: 'ssl: false: serves plain HTTP, and no TLS handshake completes on its port',
    requirements: ['LSR-TLS'],
    ems: { certificates: VALIDATING, http_server: { ssl: false } },
    expect: { outcome: 'serves-plain' },
  },
  // --- LSR-AUTH --------------------------------------------------------------------------------
  {
    id: 'lsr.auth.clear-password',
    title: 'authenticate: true with a clear password: 401 without credentials, for a wrong user and a wrong password; 200 with the right ones',
    requirements: ['LSR-AUTH'],
    ems: { certificates: VALIDATING, http_server: AUTH },
    expect: REJECTS,
  },
  {
    id: 'lsr.auth.encrypted-password',
    title: 'authenticate: true with an -encrypted password: the same answers as with the clear one',
    requirements: ['LSR-AUTH', 'SECRET-ENCRYPT'],
    ems: { certificates: VALIDATING, http_server: { ...AUTH, password: { secret: 'lsr-password', encrypt: true } } },
    expect: REJECTS,
  },
  {
    id: 'lsr.auth.over-tls',
    title: 'authenticate: true over TLS: serves TLS, and only to the configured credentials',
    requirements: ['LSR-AUTH', 'LSR-TLS'],
    ems: SECURE,
    expect: { outcome: 'all-of', of: [SERVES_TLS, REJECTS] },
  },
  {
    id: 'lsr.auth.off',
    title: 'authenticate: false: serves a request without credentials',
    requirements: ['LSR-AUTH'],
    ems: { certificates: VALIDATING, http_server: { authenticate: false } },
    expect: { outcome: 'serves-plain' },
  },
  // --- LSR-HOST --------------------------------------------------------------------------------
  {
    id: 'lsr.host.localhost',
    title: 'host localhost: listens on the IPv6 loopback only, as the vendor documents',
    requirements: ['LSR-HOST'],
    ems: { certificates: VALIDATING, http_server: { host: 'localhost' } },
    expect: { outcome: 'listens-only-on', family: 'IPv6', address: '::1' },
  },
  {
    id: 'lsr.host.ipv4-loopback',
    title: 'host 127.0.0.1: listens on the IPv4 loopback only',
    requirements: ['LSR-HOST'],
    ems: { certificates: VALIDATING, http_server: { host: '127.0.0.1' } },
    expect: { outcome: 'listens-only-on', family: 'IPv4', address: '127.0.0.1' },
  },
  {
    id: 'lsr.host.ipv6-loopback',
    title: 'host ::1: listens on the IPv6 loopback only',
    requirements: ['LSR-HOST'],
    ems: { certificates: VALIDATING, http_server: { host: '::1' } },
    expect: { outcome: 'listens-only-on', family: 'IPv6', address: '::1' },
  },
  // --- LSR-WARN: one insecure setting at a time, the others secure -------------------------------
  {
    id: 'lsr.warn.ssl-off',
    title: 'ssl: false (everything else secure): warns about ssl and nothing else',
    requirements: ['LSR-WARN'],
    ems: { ...SECURE, http_server: { ...AUTH, ssl: false } },
    expect: { outcome: 'warns', warnings: ['ssl-off'] },
  },
  {
    id: 'lsr.warn.authenticate-off',
    title: 'authenticate: false (everything else secure): warns about authentication and nothing else',
    requirements: ['LSR-WARN'],
    ems: { ...SECURE, http_server: { ...TLS, authenticate: false } },
    expect: { outcome: 'warns', warnings: ['authenticate-off'] },
  },
  {
    id: 'lsr.warn.validate-off',
    title: 'certificates.validate: false (everything else secure): warns about validation and nothing else',
    requirements: ['LSR-WARN'],
    ems: { ...SECURE, certificates: { validate: false, allow_self_signed: false } },
    expect: { outcome: 'warns', warnings: ['validate-off'] },
  },
  {
    id: 'lsr.warn.self-signed-allowed',
    title: 'certificates.allow_self_signed: true (everything else secure): warns about self-signed certificates and nothing else',
    requirements: ['LSR-WARN'],
    ems: { ...SECURE, certificates: { ...VALIDATING, allow_self_signed: true } },
    expect: { outcome: 'warns', warnings: ['self-signed-allowed'] },
  },
  // --- the vendor's example configurations (EMS-FACTS "Security examples"), each what it promises ---
  {
    id: 'lsr.example.no-security',
    title: 'The vendor\'s "no security (testing only)" example: serves plain HTTP to anyone and warns about each of its four insecure settings',
    requirements: ['LSR-WARN', 'LSR-TLS', 'LSR-AUTH'],
    ems: {
      certificates: { validate: false, allow_self_signed: true, disable_hostname_validation: true },
      http_server: { ssl: false, authenticate: false },
    },
    expect: { outcome: 'all-of', of: [{ outcome: 'serves-plain' }, { outcome: 'warns', warnings: ['ssl-off', 'authenticate-off', 'validate-off', 'self-signed-allowed'] }] },
  },
  {
    id: 'lsr.example.medium',
    title: 'The vendor\'s "medium" example (validating platform link with self-signed allowed; local server with TLS and basic auth): serves TLS to the configured credentials only, warns about self-signed only',
    requirements: ['LSR-TLS', 'LSR-AUTH', 'LSR-WARN'],
    ems: { certificates: { ...VALIDATING, allow_self_signed: true }, http_server: { ...TLS, ...AUTH } },
    expect: { outcome: 'all-of', of: [SERVES_TLS, REJECTS, { outcome: 'warns', warnings: ['self-signed-allowed'] }] },
  },
  {
    id: 'lsr.example.high',
    title: 'The vendor\'s "high" example (medium without self-signed, with a client CA list): serves TLS to the configured credentials only, and warns about nothing',
    requirements: ['LSR-TLS', 'LSR-AUTH', 'LSR-WARN'],
    ems: { certificates: { ...VALIDATING, http_client_ca_certs: { file: 'chain-root.pem' } }, http_server: { ...TLS, ...AUTH } },
    expect: { outcome: 'all-of', of: [SERVES_TLS, REJECTS, { outcome: 'warns', warnings: [] }] },
  },
]);
