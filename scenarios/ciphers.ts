import { family } from '../harness/scenario/model.ts';
import { AXTLS_SUITES, CBC_SUITES, CIPHER_SETS, RECOMMENDED } from './lib/cipher-sets.ts';
import { VALIDATING } from './lib/common.ts';

// `certificates.cipher_suite`: an OpenSSL list on OpenSSL builds (the recommended list when left
// out), ignored by axTLS builds. Every negotiated suite is checked on the platform's side.

const NO_SHARED = { outcome: 'refuses', class: 'no-shared-cipher' } as const;
const ON_AXTLS = { flavour: 'axtls' } as const;

export default family('ciphers', { ems: { certificates: VALIDATING } }, [
  // --- CIPHER-LIST -----------------------------------------------------------------------------
  {
    id: 'cipher.list.only-excluded-offered',
    title: 'cipher_suite ECDHE+AESGCM against a platform offering only AES128-SHA: refused (no shared cipher); axTLS ignores the list and connects',
    requirements: ['CIPHER-LIST', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS['rsa-aes128-sha'],
    ems: { certificates: { cipher_suite: 'ECDHE+AESGCM' } },
    expect: NO_SHARED,
    variants: [{ when: ON_AXTLS, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },
  {
    id: 'cipher.list.allowed-negotiated',
    title: 'Platform prefers suites the list excludes: connects with a suite cipher_suite allows',
    requirements: ['CIPHER-LIST', 'CIPHER-AXTLS'],
    endpoint: { maxVersion: 'TLSv1.2', ecdhCurve: 'P-256', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' },
    ems: { certificates: { cipher_suite: 'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' } },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES128-GCM-SHA256', 'AES128-SHA'] },
    // axTLS takes the platform's first suite it has, which the list excludes.
    variants: [{ when: ON_AXTLS, expect: { outcome: 'connects', cipherIn: ['AES256-SHA'] } }],
  },
  {
    id: 'cipher.list.openssl-syntax',
    title: 'cipher_suite is read as OpenSSL list syntax (aliases, +, !, @STRENGTH): connects with a suite it allows',
    requirements: ['CIPHER-LIST'],
    endpoint: { maxVersion: 'TLSv1.2', ecdhCurve: 'P-256', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:AES128-SHA' },
    ems: { certificates: { cipher_suite: 'kECDHE+AES256:!SHA1:@STRENGTH' } },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES256-SHA384'] },
    variants: [{ when: ON_AXTLS, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },
  {
    id: 'cipher.list.unparsable',
    title: 'cipher_suite OpenSSL cannot parse: the EMS refuses to start (configuration error); axTLS never reads it',
    requirements: ['CIPHER-LIST', 'CIPHER-AXTLS'],
    ems: { certificates: { cipher_suite: 'NO-SUCH-CIPHER:ALSO-NOT-ONE' } },
    expect: { outcome: 'refuses', class: 'config-error' },
    variants: [{ when: ON_AXTLS, expect: { outcome: 'connects' } }],
  },
  // Controls for cipher.recommended.enull / .anonymous: the endpoint really serves those suites to
  // a list that allows them. OpenSSL 1.1.0 and later negotiate them only at `@SECLEVEL=0`, which
  // OpenSSL 1.0.2 (no security levels) refuses as a whole list: one form per line.
  ...([
    ['null-allowed', 'eNULL', 'NULL-SHA256', { maxVersion: 'TLSv1.2', ciphers: 'NULL-SHA256' }, {}, ['NULL-SHA256']],
    ['anonymous-allowed', 'aNULL', 'ADH', { maxVersion: 'TLSv1.2', ciphers: 'ADH-AES128-GCM-SHA256:AECDH-AES128-SHA', dhBits: 2048 }, { validate: false }, ['ADH-AES128-GCM-SHA256', 'AECDH-AES128-SHA']],
  ] as const).flatMap(([name, alias, serves, endpoint, certificates, cipherIn]) => [
    {
      id: `cipher.list.${name}`,
      title: `cipher_suite ${alias}:@SECLEVEL=0 (control for cipher.recommended; OpenSSL 1.1.0 and later): the endpoint really serves ${serves}`,
      requirements: ['CIPHER-LIST' as const],
      needs: ['cipher-seclevel'],
      endpoint,
      ems: { certificates: { ...certificates, cipher_suite: `${alias}:@SECLEVEL=0` } },
      expect: { outcome: 'connects' as const, cipherIn: [...cipherIn] },
    },
    {
      id: `cipher.list.${name}.openssl-1.0.2`,
      title: `cipher_suite ${alias} (control for cipher.recommended; OpenSSL 1.0.2, no security levels): the endpoint really serves ${serves}`,
      requirements: ['CIPHER-LIST' as const],
      needs: ['openssl:1.0.2'],
      endpoint,
      ems: { certificates: { ...certificates, cipher_suite: alias } },
      expect: { outcome: 'connects' as const, cipherIn: [...cipherIn] },
    },
  ]),

  // --- CIPHER-RECOMMENDED: every excluded class Node's OpenSSL can serve (3DES, RC4, SEED, IDEA,
  // MD5, EXPORT and LOW suites are not in it; PSK, SRP and DSS need credentials no EMS has) ---
  ...([
    ['enull', 'NULL encryption', { ciphers: 'NULL-SHA256:NULL-SHA' }],
    ['anonymous', 'anonymous (ADH / AECDH)', { ciphers: 'ADH-AES128-GCM-SHA256:ADH-AES256-SHA:AECDH-AES128-SHA', dhBits: 2048 }],
  ] as const).flatMap(([name, what, offer]) => [
    {
      id: `cipher.recommended.${name}`,
      title: `cipher_suite left out (the recommended list) against a platform offering only ${what} suites: refused (no shared cipher)`,
      requirements: ['CIPHER-RECOMMENDED' as const],
      endpoint: { maxVersion: 'TLSv1.2' as const, ...offer },
      ems: { certificates: { validate: false } },
      expect: NO_SHARED,
    },
    {
      id: `cipher.recommended.${name}.explicit`,
      title: `cipher_suite set to the recommended list against a platform offering only ${what} suites: refused (no shared cipher)`,
      requirements: ['CIPHER-RECOMMENDED' as const, 'CIPHER-LIST' as const],
      endpoint: { maxVersion: 'TLSv1.2' as const, ...offer },
      ems: { certificates: { validate: false, cipher_suite: RECOMMENDED } },
      expect: NO_SHARED,
    },
  ]),
  {
    id: 'cipher.recommended.excluded-preferred',
    title: 'Platform prefers NULL and anonymous suites, then one allowed suite: the recommended list connects with the allowed one',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: {
      maxVersion: 'TLSv1.2', dhBits: 2048, ecdhCurve: 'P-256',
      ciphers: 'NULL-SHA256:ADH-AES256-GCM-SHA384:AECDH-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA',
    },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES128-GCM-SHA256'] },
    variants: [{ when: ON_AXTLS, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },
  // The cipher-set endpoints against the default (recommended) list: what each build negotiates.
  {
    id: 'cipher.set.ecdhe-rsa-aes128-gcm',
    title: 'Platform offering only ECDHE-RSA-AES128-GCM-SHA256: connects with it; axTLS has no ECDHE and is refused',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS['ecdhe-rsa-aes128-gcm'],
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES128-GCM-SHA256'] },
    variants: [{ when: ON_AXTLS, expect: NO_SHARED }],
  },
  {
    id: 'cipher.set.rsa-aes128-sha',
    title: 'Platform offering only AES128-SHA (RSA key exchange): connects with it on every build',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS['rsa-aes128-sha'],
    expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] },
  },
  {
    id: 'cipher.set.dhe-2048',
    title: 'Platform offering only DHE with a 2048-bit group: connects with DHE; axTLS has no DHE',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS['dhe-2048'],
    expect: { outcome: 'connects', cipherIn: ['DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384'] },
    variants: [{ when: ON_AXTLS, expect: NO_SHARED }],
  },
  {
    id: 'cipher.set.dhe-1024',
    title: 'Platform offering only DHE with a 1024-bit group: connects where the build accepts 1024-bit DH, else dh key too small',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS['dhe-1024'],
    expect: { outcome: 'connects', cipherIn: ['DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384'] },
    variants: [
      { when: ON_AXTLS, expect: NO_SHARED },
      { when: { has: ['dh-min-bits:2048'] }, expect: { outcome: 'refuses', class: 'dh-too-small' } },
    ],
  },
  {
    id: 'cipher.set.chacha20',
    title: 'Platform offering only ChaCha20-Poly1305 (TLS 1.2 and 1.3): connects with it where the build has ChaCha20 (OpenSSL 1.1.0+); axTLS and OpenSSL 1.0.2 are refused',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS.chacha20,
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-CHACHA20-POLY1305', 'TLS_CHACHA20_POLY1305_SHA256'] },
    variants: [{ when: ON_AXTLS, expect: NO_SHARED }, { when: { lacks: ['chacha20'] }, expect: NO_SHARED }],
  },
  {
    id: 'cipher.set.cbc-only',
    title: 'Platform offering only CBC suites: connects with one of them on every build',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS['cbc-only'],
    expect: { outcome: 'connects', cipherIn: CBC_SUITES },
    variants: [{ when: ON_AXTLS, expect: { outcome: 'connects', cipherIn: AXTLS_SUITES } }],
  },
  {
    id: 'cipher.set.tls13-only',
    title: 'Platform offering only TLS 1.3: connects with TLS 1.3 where the build has it, else refused (protocol version)',
    requirements: ['CIPHER-RECOMMENDED', 'CIPHER-AXTLS'],
    endpoint: CIPHER_SETS['tls13-only'],
    expect: { outcome: 'connects', protocolIn: ['TLSv1.3'] },
    variants: [{ when: { lacks: ['tls13'] }, expect: { outcome: 'refuses', class: 'protocol-version' } }],
  },

  // --- CIPHER-AXTLS: the same configuration, opposite outcomes by build flavour ---------------------
  {
    id: 'cipher.axtls.list-ignored',
    title: 'cipher_suite allowing only AES256-GCM-SHA384 against an AES128-SHA platform: OpenSSL refuses, axTLS (list ignored) connects',
    requirements: ['CIPHER-AXTLS', 'CIPHER-LIST'],
    endpoint: CIPHER_SETS['rsa-aes128-sha'],
    ems: { certificates: { cipher_suite: 'AES256-GCM-SHA384' } },
    expect: NO_SHARED,
    variants: [{ when: ON_AXTLS, expect: { outcome: 'connects', cipherIn: ['AES128-SHA'] } }],
  },
  {
    id: 'cipher.axtls.fixed-set',
    title: 'cipher_suite ALL against a platform offering only ECDHE-RSA-AES128-GCM-SHA256: OpenSSL connects, axTLS (fixed set) refuses',
    requirements: ['CIPHER-AXTLS', 'CIPHER-LIST'],
    endpoint: CIPHER_SETS['ecdhe-rsa-aes128-gcm'],
    ems: { certificates: { cipher_suite: 'ALL' } },
    expect: { outcome: 'connects', cipherIn: ['ECDHE-RSA-AES128-GCM-SHA256'] },
    variants: [{ when: ON_AXTLS, expect: NO_SHARED }],
  },
]);
