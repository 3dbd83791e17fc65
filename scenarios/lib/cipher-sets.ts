import type { EndpointSpecInput } from '../../harness/endpoints/spec.ts';

// Platform endpoints that offer exactly one suite set and TLS version range (server preference
// on), and the suite lists the cipher, Java 7 and FIPS families assert negotiated suites against.

/** The vendor's recommended cipher list (REQUIREMENTS.md CIPHER-RECOMMENDED), the C SDK's default. */
export const RECOMMENDED = 'ALL:!aNULL:!eNULL:!LOW:!3DES:!MD5:!EXP:!PSK:!DSS:!RC4:!SEED:!ADH:!IDEA:!3DES:!SRP';

/** The suites an axTLS build has (RSA key exchange, AES-CBC), whatever cipher_suite says. */
export const AXTLS_SUITES = ['AES128-SHA', 'AES256-SHA', 'AES128-SHA256', 'AES256-SHA256'];

/**
 * Suites every FIPS policy approves (FIPS-ALGOS; harness/scenario/fips-policy.ts): TLS 1.2 AES-GCM
 * and AES-CBC with SHA-2 over ECDHE, DHE or RSA key exchange, and TLS 1.3 AES-GCM.
 */
export const FIPS_APPROVED = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-AES128-SHA256', 'DHE-RSA-AES256-SHA256',
  'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA256', 'AES256-SHA256',
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384',
];

/**
 * Suites the FIPS Object Module 2.0 still approves and SP 800-131A Rev. 2 does not: SHA-1 MACs
 * and 3DES (the C SDK's FIPS list `TLSv1.2+FIPS:kRSA+FIPS` holds AES128-SHA, AES256-SHA and
 * DES-CBC3-SHA). Under the module-2.0 policy a connection with one of them is recorded as weak.
 */
export const FIPS_TRANSITIONAL = [
  'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA', 'DHE-RSA-AES128-SHA', 'DHE-RSA-AES256-SHA', 'ECDHE-RSA-DES-CBC3-SHA', 'EDH-RSA-DES-CBC3-SHA',
];

/** TLS 1.2 and below only: the TLS 1.3 suites would otherwise be offered next to any list. */
const TLS12 = { maxVersion: 'TLSv1.2' } as const;

export const CBC_SUITES = [
  'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA',
  'AES128-SHA256', 'AES256-SHA256', 'AES128-SHA', 'AES256-SHA',
];

export const CIPHER_SETS = {
  /** ECDHE-RSA with AES-128-GCM over P-256 only. */
  'ecdhe-rsa-aes128-gcm': { ...TLS12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'P-256' },
  /** RSA key exchange (no forward secrecy), AES-128-CBC with SHA-1. */
  'rsa-aes128-sha': { ...TLS12, ciphers: 'AES128-SHA' },
  /** Ephemeral DH with a 2048-bit group. */
  'dhe-2048': { ...TLS12, ciphers: 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384', dhBits: 2048 },
  /** Ephemeral DH with a 1024-bit group (the smallest Node serves). */
  'dhe-1024': { ...TLS12, ciphers: 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384', dhBits: 1024 },
  /** ChaCha20-Poly1305 only, in TLS 1.2 and TLS 1.3. */
  chacha20: { ciphers: 'ECDHE-RSA-CHACHA20-POLY1305', ciphersuites: 'TLS_CHACHA20_POLY1305_SHA256', ecdhCurve: 'P-256' },
  /** CBC suites only (no AEAD), ECDHE and RSA key exchange. */
  'cbc-only': { ...TLS12, ciphers: CBC_SUITES.join(':'), ecdhCurve: 'P-256' },
  /** TLS 1.0 only, the Node defaults otherwise. */
  'tls10-only': { minVersion: 'TLSv1', maxVersion: 'TLSv1' },
  /** TLS 1.1 only. */
  'tls11-only': { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' },
  /** TLS 1.3 only, its default suites. */
  'tls13-only': { minVersion: 'TLSv1.3' },
} satisfies Record<string, EndpointSpecInput>;
export type CipherSetName = keyof typeof CIPHER_SETS;
