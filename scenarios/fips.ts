import { family } from '../harness/scenario/model.ts';
import { CIPHER_SETS, FIPS_APPROVED, FIPS_TRANSITIONAL } from './lib/cipher-sets.ts';
import { VALIDATING } from './lib/common.ts';

// `"fips": {"enabled": true}`: on an OpenSSL build with FIPS (capability `fips`; on the simulator
// a simulated FIPS policy) only approved algorithms are negotiated; a build without FIPS refuses
// to start in FIPS mode rather than run without it. What "approved" means is the target's FIPS
// policy (`fipsPolicy`, harness/scenario/fips-policy.ts): under `module-2.0` the transitional
// algorithms (SHA-1 MACs, 3DES, TLS 1.0, RSA-1024) are recorded as weak; under `sp800-131a-rev2`
// (the default) they must be refused. ChaCha20, Camellia and the like are refused under both.

const FIPS_ON = { enabled: true } as const;
const FIPS_UNAVAILABLE = { when: { lacks: ['fips'] }, expect: { outcome: 'refuses' as const, class: 'fips-unavailable' as const } };
const MODULE_2_0 = { fipsPolicy: 'module-2.0' } as const;
const NO_SHARED = { outcome: 'refuses', class: 'no-shared-cipher' } as const;
/**
 * Server preference: Camellia first (every OpenSSL line has it, no FIPS list allows it), then an
 * approved suite, then what axTLS has. Not ChaCha20: OpenSSL 1.0.2 has none.
 */
const CAMELLIA_FIRST = { maxVersion: 'TLSv1.2', ecdhCurve: 'P-256', ciphers: 'CAMELLIA128-SHA:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' } as const;
const CLIENT_AUTH = { clientAuth: { require: true, trust: 'client-ca' } } as const;

const CONNECTS_APPROVED = { outcome: 'connects', cipherIn: FIPS_APPROVED } as const;
const TRANSITIONAL = 'allowed by the FIPS Object Module 2.0, not by NIST SP 800-131A Rev. 2';
/** Under module-2.0: a connection with a SHA-1 MAC or 3DES suite in FIPS mode is recorded as weak. */
const CONNECTS_TRANSITIONAL = { outcome: 'connects', cipherIn: FIPS_TRANSITIONAL, weak: `FIPS mode negotiated a SHA-1 MAC or 3DES suite (${TRANSITIONAL})` } as const;
/** FIPS mode connected: an approved suite; under module-2.0 a transitional one too (weak). */
const FIPS_CONNECTS = { expect: CONNECTS_APPROVED, variants: [{ when: MODULE_2_0, expect: { anyOf: [CONNECTS_APPROVED, CONNECTS_TRANSITIONAL] } }] };

export default family('fips', { ems: { certificates: VALIDATING } }, [
  // --- FIPS-SWITCH ------------------------------------------------------------------------------
  {
    id: 'fips.switch.on',
    title: 'fips.enabled true against a platform preferring Camellia: connects with the approved AES-GCM suite',
    requirements: ['FIPS-SWITCH'],
    endpoint: CAMELLIA_FIRST,
    ems: { fips: FIPS_ON },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES128-GCM-SHA256'] },
    variants: [FIPS_UNAVAILABLE],
  },
  {
    id: 'fips.switch.off',
    title: 'fips.enabled false: FIPS mode stays off, connects with the platform\'s preferred Camellia',
    requirements: ['FIPS-SWITCH'],
    endpoint: CAMELLIA_FIRST,
    ems: { fips: { enabled: false } },
    expect: { outcome: 'connects', cipherIn: ['CAMELLIA128-SHA'] },
    variants: [{ when: { flavour: 'axtls' }, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },
  {
    id: 'fips.switch.missing',
    title: 'No fips group: FIPS mode is off, connects with the platform\'s preferred Camellia',
    requirements: ['FIPS-SWITCH'],
    endpoint: CAMELLIA_FIRST,
    expect: { outcome: 'connects', cipherIn: ['CAMELLIA128-SHA'] },
    variants: [{ when: { flavour: 'axtls' }, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },

  // --- FIPS-ALGOS (needs a build with FIPS): never approved, refused under every policy ---------
  ...([
    ['chacha20-only', 'only ChaCha20-Poly1305 (TLS 1.2 and 1.3)', CIPHER_SETS.chacha20],
    ['camellia-only', 'only Camellia', { maxVersion: 'TLSv1.2', ciphers: 'CAMELLIA128-SHA256:CAMELLIA256-SHA' }],
    ['x25519-only', 'ECDHE-RSA-AES128-GCM-SHA256 over X25519 only', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'X25519' }],
  ] as const).map(([name, what, endpoint]) => ({
    id: `fips.algos.${name}`,
    title: `FIPS mode against a platform offering ${what}: refused (no shared cipher)`,
    requirements: ['FIPS-ALGOS' as const],
    needs: ['fips'],
    endpoint,
    ems: { fips: FIPS_ON },
    expect: NO_SHARED,
  })),
  // --- FIPS-ALGOS: transitional algorithms, by policy -------------------------------------------
  {
    id: 'fips.algos.sha1-mac-only',
    title: 'FIPS mode against a platform offering only AES-CBC with SHA-1 MACs: refused (no shared cipher); under module-2.0 a connection is weak',
    requirements: ['FIPS-ALGOS'],
    needs: ['fips'],
    endpoint: { maxVersion: 'TLSv1.2', ecdhCurve: 'P-256', ciphers: 'ECDHE-RSA-AES128-SHA:AES128-SHA' },
    ems: { fips: FIPS_ON },
    expect: NO_SHARED,
    variants: [{ when: MODULE_2_0, expect: { anyOf: [NO_SHARED, CONNECTS_TRANSITIONAL] } }],
  },
  {
    id: 'fips.algos.tls10-only',
    title: 'FIPS mode against a platform offering only TLS 1.0: refused (protocol version); under module-2.0 a connection is weak',
    requirements: ['FIPS-ALGOS'],
    needs: ['fips'],
    endpoint: CIPHER_SETS['tls10-only'],
    ems: { fips: FIPS_ON },
    expect: { outcome: 'refuses', class: 'protocol-version' },
    variants: [{
      when: MODULE_2_0,
      expect: { anyOf: [{ outcome: 'refuses', class: 'protocol-version' }, { outcome: 'connects', protocolIn: ['TLSv1'], weak: `FIPS mode completed a TLS 1.0 handshake (${TRANSITIONAL})` }] },
    }],
  },
  {
    id: 'fips.algos.rsa1024-leaf',
    title: 'FIPS mode against a platform certificate with an RSA-1024 key: refused as untrusted; under module-2.0 a connection is weak',
    requirements: ['FIPS-ALGOS', 'BASE-WEAKKEY'],
    needs: ['fips'],
    endpoint: { cert: 'leaf-rsa1024' },
    ems: { fips: FIPS_ON },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
    variants: [{
      when: MODULE_2_0,
      expect: { anyOf: [{ outcome: 'refuses', class: 'untrusted-cert' }, { outcome: 'connects', weak: `FIPS mode accepted an RSA-1024 platform key (${TRANSITIONAL})` }] },
    }],
  },
  // --- FIPS-ALGOS: approved algorithms connect -------------------------------------------------
  {
    id: 'fips.algos.ecdhe-aes-gcm',
    title: 'FIPS mode against a platform offering ECDHE-RSA-AES128-GCM-SHA256 on P-256: connects with it',
    requirements: ['FIPS-ALGOS'],
    needs: ['fips'],
    endpoint: CIPHER_SETS['ecdhe-rsa-aes128-gcm'],
    ems: { fips: FIPS_ON },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES128-GCM-SHA256'] },
  },
  {
    id: 'fips.algos.tls13-aes-gcm',
    title: 'FIPS mode against a TLS 1.3 platform preferring ChaCha20: connects with TLS 1.3 AES-GCM',
    requirements: ['FIPS-ALGOS'],
    needs: ['fips', 'tls13'],
    endpoint: { minVersion: 'TLSv1.3', ciphersuites: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384' },
    ems: { fips: FIPS_ON },
    expect: { outcome: 'connects', cipherIn: ['TLS_AES_256_GCM_SHA384'], protocolIn: ['TLSv1.3'] },
  },
  // --- FIPS-ALGOS: configurations that allow nothing approved (REQUIREMENTS.md: either holds) ----
  {
    id: 'fips.algos.cipher-suite-not-approved',
    title: 'FIPS mode with a cipher_suite that allows no approved suite (Camellia only): refused at start-up, or the list replaced by the FIPS list (approved suites only)',
    requirements: ['FIPS-ALGOS', 'CIPHER-LIST'],
    needs: ['fips'],
    ems: { fips: FIPS_ON, certificates: { cipher_suite: 'CAMELLIA' } },
    expect: { anyOf: [{ outcome: 'refuses', class: 'fips-violation' }, { outcome: 'refuses', class: 'config-error' }, CONNECTS_APPROVED] },
    variants: [{
      when: MODULE_2_0,
      expect: { anyOf: [{ outcome: 'refuses', class: 'fips-violation' }, { outcome: 'refuses', class: 'config-error' }, CONNECTS_APPROVED, CONNECTS_TRANSITIONAL] },
    }],
  },
  {
    // The list allows an approved suite, so FIPS mode starts; the Camellia it also names must still never be negotiated.
    id: 'fips.algos.cipher-suite-filtered',
    title: 'FIPS mode with a cipher_suite naming Camellia and an approved suite, against a platform offering only Camellia: refused (no shared cipher)',
    requirements: ['FIPS-ALGOS'],
    needs: ['fips'],
    endpoint: { maxVersion: 'TLSv1.2', ciphers: 'CAMELLIA128-SHA256:CAMELLIA256-SHA' },
    ems: { fips: FIPS_ON, certificates: { cipher_suite: 'CAMELLIA:ECDHE-RSA-AES128-GCM-SHA256' } },
    expect: NO_SHARED,
  },
  {
    id: 'fips.algos.p12-3des',
    title: 'FIPS mode with a PKCS#12 client key encrypted with 3DES (PKCS#12 PBE): refused at start-up (FIPS violation), or connects with approved suites only',
    requirements: ['FIPS-ALGOS', 'CERT-KEYFORMAT'],
    needs: ['fips'],
    endpoint: CLIENT_AUTH,
    ems: { fips: FIPS_ON, certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid-3des.p12' }, key_passphrase: { secret: 'p12-pass' } } },
    expect: { anyOf: [{ outcome: 'refuses', class: 'fips-violation' }, CONNECTS_APPROVED] },
    variants: [{ when: MODULE_2_0, expect: { anyOf: [{ outcome: 'refuses', class: 'fips-violation' }, CONNECTS_APPROVED, CONNECTS_TRANSITIONAL] } }],
  },
  {
    id: 'fips.algos.p12-aes',
    title: 'FIPS mode with a PKCS#12 client key encrypted with PBES2/AES-256: connects with mutual TLS',
    requirements: ['FIPS-ALGOS', 'CERT-KEYFORMAT'],
    needs: ['fips'],
    endpoint: CLIENT_AUTH,
    ems: { fips: FIPS_ON, certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid.p12' }, key_passphrase: { secret: 'p12-pass' } } },
    ...FIPS_CONNECTS,
  },
  {
    id: 'fips.algos.p12-3des-fips-off',
    title: 'The same 3DES PKCS#12 key with FIPS mode off: connects (a refusal above is FIPS mode\'s)',
    requirements: ['FIPS-ALGOS', 'CERT-KEYFORMAT'],
    endpoint: CLIENT_AUTH,
    ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid-3des.p12' }, key_passphrase: { secret: 'p12-pass' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'fips.algos.java7',
    title: 'FIPS mode against a Java 7 platform (768-bit DHE first): dh key too small where the FIPS list holds DHE (cipher_suite, so !kEDH, is ignored), else connects with RSA key exchange',
    requirements: ['FIPS-ALGOS', 'JAVA7-EDH'],
    needs: ['fips'],
    endpoint: { kind: 'jsse-java7', cert: 'leaf-valid' },
    ems: { fips: FIPS_ON },
    expect: { anyOf: [{ outcome: 'refuses', class: 'dh-too-small' }, { outcome: 'connects', cipherIn: ['AES128-SHA256'] }] },
    variants: [{
      when: MODULE_2_0,
      expect: { anyOf: [{ outcome: 'refuses', class: 'dh-too-small' }, { outcome: 'connects', cipherIn: ['AES128-SHA256'] }, CONNECTS_TRANSITIONAL] },
    }],
  },

  // --- FIPS-BUILD -------------------------------------------------------------------------------
  {
    id: 'fips.build.enabled',
    title: 'fips.enabled true: a build without FIPS refuses to start (FIPS unavailable); a FIPS build starts in FIPS mode and connects',
    requirements: ['FIPS-BUILD', 'CIPHER-AXTLS'],
    ems: { fips: FIPS_ON },
    expect: { outcome: 'refuses', class: 'fips-unavailable' },
    variants: [
      { when: { has: ['fips'], fipsPolicy: 'module-2.0' }, expect: { anyOf: [CONNECTS_APPROVED, CONNECTS_TRANSITIONAL] } },
      { when: { has: ['fips'] }, expect: CONNECTS_APPROVED },
    ],
  },
]);
