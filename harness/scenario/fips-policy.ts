// Which FIPS policy a target's FIPS mode is judged against (REQUIREMENTS.md FIPS-ALGOS): a
// setting of the target profile (`fipsPolicy` in the inventory), read by the FIPS-ALGOS
// scenarios' variants. What neither policy approves (ChaCha20, Camellia, SEED, RC4, MD5, IDEA,
// single DES) is refused under both.

export const FIPS_POLICIES = {
  /**
   * What the seed's validated module allows (OpenSSL FIPS Object Module 2.0, certificate #1747,
   * the C SDK's OpenSSL 1.0.2-fips): TDEA, SHA-1 MACs and signatures, RSA under 2048 bits,
   * TLS 1.0 to 1.2. A target that accepts those in FIPS mode is recorded as weak.
   */
  'module-2.0': { meaning: 'FIPS Object Module 2.0 (#1747): TDEA, SHA-1, RSA < 2048 and TLS 1.0-1.2 allowed (recorded as weak)' },
  /** Today's NIST rules: no 3DES, no SHA-1, RSA >= 2048, TLS >= 1.2. Accepting those in FIPS mode fails. */
  'sp800-131a-rev2': { meaning: 'NIST SP 800-131A Rev. 2: no 3DES, no SHA-1, RSA >= 2048, TLS >= 1.2' },
} as const;

export type FipsPolicy = keyof typeof FIPS_POLICIES;
export const FIPS_POLICY_NAMES = Object.keys(FIPS_POLICIES) as [FipsPolicy, ...FipsPolicy[]];

/**
 * A target that names none is judged by the stricter one: a target on the 2.0 module says so
 * (`fipsPolicy: module-2.0`) and its transitional algorithms show as weak instead of failing.
 */
export const DEFAULT_FIPS_POLICY: FipsPolicy = 'sp800-131a-rev2';
