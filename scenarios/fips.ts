import { family } from '../harness/scenario/model.ts';
import { CIPHER_SETS, FIPS_APPROVED } from './lib/cipher-sets.ts';
import { VALIDATING } from './lib/common.ts';

// `"fips": {"enabled": true}`: on an OpenSSL build with FIPS (capability `fips`; on the simulator
// a simulated FIPS policy) only approved algorithms are negotiated; a build without FIPS refuses
// to start in FIPS mode rather than run without it.

const FIPS_ON = { enabled: true } as const;
const FIPS_UNAVAILABLE = { when: { lacks: ['fips'] }, expect: { outcome: 'refuses' as const, class: 'fips-unavailable' as const } };
/** Server preference: ChaCha20 (not approved) first, then an approved suite, then what axTLS has. */
const CHACHA_FIRST = { maxVersion: 'TLSv1.2', ecdhCurve: 'P-256', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' } as const;
const CLIENT_AUTH = { clientAuth: { require: true, trust: 'client-ca' } } as const;

export default family('fips', { ems: { certificates: VALIDATING } }, [
  // --- FIPS-SWITCH ------------------------------------------------------------------------------
  {
    id: 'fips.switch.on',
    title: 'fips.enabled true against a platform preferring ChaCha20: connects with the approved AES-GCM suite',
    requirements: ['FIPS-SWITCH'],
    endpoint: CHACHA_FIRST,
    ems: { fips: FIPS_ON },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES128-GCM-SHA256'] },
    variants: [FIPS_UNAVAILABLE],
  },
  {
    id: 'fips.switch.off',
    title: 'fips.enabled false: FIPS mode stays off, connects with the platform\'s preferred ChaCha20',
    requirements: ['FIPS-SWITCH'],
    endpoint: CHACHA_FIRST,
    ems: { fips: { enabled: false } },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-CHACHA20-POLY1305'] },
    variants: [{ when: { flavour: 'axtls' }, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },
  {
    id: 'fips.switch.missing',
    title: 'No fips group: FIPS mode is off, connects with the platform\'s preferred ChaCha20',
    requirements: ['FIPS-SWITCH'],
    endpoint: CHACHA_FIRST,
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-CHACHA20-POLY1305'] },
    variants: [{ when: { flavour: 'axtls' }, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },

  // --- FIPS-ALGOS (needs a build with FIPS) -------------------------------------------------------
  ...([
    ['chacha20-only', 'only ChaCha20-Poly1305 (TLS 1.2 and 1.3)', CIPHER_SETS.chacha20],
    ['camellia-only', 'only Camellia', { maxVersion: 'TLSv1.2', ciphers: 'CAMELLIA128-SHA256:CAMELLIA256-SHA' }],
    ['sha1-mac-only', 'only AES-CBC with SHA-1 MACs', { maxVersion: 'TLSv1.2', ecdhCurve: 'P-256', ciphers: 'ECDHE-RSA-AES128-SHA:AES128-SHA' }],
    ['x25519-only', 'ECDHE-RSA-AES128-GCM-SHA256 over X25519 only', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'X25519' }],
  ] as const).map(([name, what, endpoint]) => ({
    id: `fips.algos.${name}`,
    title: `FIPS mode against a platform offering ${what}: refused (no shared cipher)`,
    requirements: ['FIPS-ALGOS' as const],
    needs: ['fips'],
    endpoint,
    ems: { fips: FIPS_ON },
    expect: { outcome: 'refuses' as const, class: 'no-shared-cipher' as const },
  })),
  {
    id: 'fips.algos.ecdhe-aes-gcm',
    title: 'FIPS mode against a platform offering ECDHE-RSA-AES128-GCM-SHA256 on P-256: connects with it',
    requirements: ['FIPS-ALGOS'],
    needs: ['fips'],
    endpoint: CIPHER_SETS['ecdhe-rsa-aes128-gcm'],
    ems: { fips: FIPS_ON },
    expect: { outcome: 'connects', cipherIn: FIPS_APPROVED },
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
  {
    id: 'fips.algos.tls10-only',
    title: 'FIPS mode against a platform offering only TLS 1.0: refused (protocol version)',
    requirements: ['FIPS-ALGOS'],
    needs: ['fips'],
    endpoint: CIPHER_SETS['tls10-only'],
    ems: { fips: FIPS_ON },
    expect: { outcome: 'refuses', class: 'protocol-version' },
  },
  {
    id: 'fips.algos.cipher-suite-not-approved',
    title: 'FIPS mode with a cipher_suite that allows no approved suite (ChaCha20 only): refuses to start (FIPS violation)',
    requirements: ['FIPS-ALGOS', 'CIPHER-LIST'],
    needs: ['fips'],
    ems: { fips: FIPS_ON, certificates: { cipher_suite: 'CHACHA20' } },
    expect: { outcome: 'refuses', class: 'fips-violation' },
  },
  {
    id: 'fips.algos.p12-3des',
    title: 'FIPS mode with a PKCS#12 client key encrypted with 3DES (PKCS#12 PBE): refuses to start (FIPS violation)',
    requirements: ['FIPS-ALGOS', 'CERT-KEYFORMAT'],
    needs: ['fips'],
    endpoint: CLIENT_AUTH,
    ems: { fips: FIPS_ON, certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid-3des.p12' }, key_passphrase: { secret: 'p12-pass' } } },
    expect: { outcome: 'refuses', class: 'fips-violation' },
  },
  {
    id: 'fips.algos.p12-aes',
    title: 'FIPS mode with a PKCS#12 client key encrypted with PBES2/AES-256: connects with mutual TLS',
    requirements: ['FIPS-ALGOS', 'CERT-KEYFORMAT'],
    needs: ['fips'],
    endpoint: CLIENT_AUTH,
    ems: { fips: FIPS_ON, certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid.p12' }, key_passphrase: { secret: 'p12-pass' } } },
    expect: { outcome: 'connects', cipherIn: FIPS_APPROVED },
  },
  {
    id: 'fips.algos.p12-3des-fips-off',
    title: 'The same 3DES PKCS#12 key with FIPS mode off: connects (the refusal above is FIPS mode\'s)',
    requirements: ['FIPS-ALGOS', 'CERT-KEYFORMAT'],
    endpoint: CLIENT_AUTH,
    ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid-3des.p12' }, key_passphrase: { secret: 'p12-pass' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'fips.algos.java7',
    title: 'FIPS mode against a Java 7 platform (768-bit DHE first): connects with RSA key exchange and SHA-256',
    requirements: ['FIPS-ALGOS', 'JAVA7-EDH'],
    needs: ['fips'],
    endpoint: { kind: 'jsse-java7', cert: 'leaf-valid' },
    ems: { fips: FIPS_ON },
    expect: { outcome: 'connects', cipherIn: ['AES128-SHA256'] },
  },

  // --- FIPS-BUILD -------------------------------------------------------------------------------
  {
    id: 'fips.build.enabled',
    title: 'fips.enabled true: a build without FIPS refuses to start (FIPS unavailable); a FIPS build starts in FIPS mode and connects',
    requirements: ['FIPS-BUILD', 'CIPHER-AXTLS'],
    ems: { fips: FIPS_ON },
    expect: { outcome: 'refuses', class: 'fips-unavailable' },
    variants: [{ when: { has: ['fips'] }, expect: { outcome: 'connects', cipherIn: FIPS_APPROVED } }],
  },
]);
