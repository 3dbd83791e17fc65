import type { KeyObject } from 'node:crypto';
import type forgeNs from 'node-forge';
import { StartupError } from './keys.ts';

// The SIMULATED FIPS policy of the openssl flavour (`"fips": {"enabled": true}`). No validated
// FIPS module exists here: this reproduces what the C SDK's FIPS mode allows (its cipher string,
// TLS >= 1.2, approved key sizes, curves and key-file encryption) on Node's OpenSSL, so that
// FIPS-SWITCH / FIPS-ALGOS scenarios observe the same outcomes. It certifies nothing.

/** The C SDK's FIPS-mode cipher string. */
export const FIPS_CIPHERS = 'TLSv1.2+FIPS:kRSA+FIPS:!eNULL:!aNULL';

/**
 * Appended to any list in FIPS mode, it leaves exactly the approved TLS 1.2 suites: AES-GCM or
 * AES-CBC with SHA-2 over ECDHE or RSA key exchange, RSA or ECDSA authentication. Node's OpenSSL
 * (no FIPS provider) expands FIPS_CIPHERS also to DHE, DSS, PSK and SHA-1 suites. The ClientHello
 * test in test/simulator.test.ts checks what is really offered.
 */
export const NOT_FIPS_APPROVED =
  '!kDHE:!kPSK:!kDHEPSK:!kRSAPSK:!kECDHEPSK:!kSRP:!aDSS:!aNULL:!eNULL:!SHA1:!CHACHA20:!CAMELLIA:!ARIA:!AESCCM:!AESCCM8:!SEED:!IDEA:!3DES:!RC4:!MD5';

/** TLS 1.3: AES-GCM only (no ChaCha20-Poly1305). */
export const FIPS_TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256';
/** ECDHE on the NIST curves only (no X25519/X448). */
export const FIPS_GROUPS = 'P-256:P-384:P-521';
/** Signatures with SHA-2 only. */
export const FIPS_SIGALGS = [
  'ECDSA+SHA256', 'ECDSA+SHA384', 'ECDSA+SHA512',
  'rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512',
  'RSA+SHA256', 'RSA+SHA384', 'RSA+SHA512',
].join(':');
export const FIPS_MIN_KEY_BITS = { rsa: 2048, ec: 256 } as const;

/** The log line prefix of every refusal the policy makes (the error map's fips-violation). */
export function fipsViolation(what: string): StartupError {
  return new StartupError(`wsems: FIPS policy violation: ${what} (simulated FIPS policy); not starting`);
}

/** The client key must be RSA >= 2048 bits or EC on P-256 or larger. */
export function checkFipsKey(key: KeyObject, keyFile: string): void {
  const d = key.asymmetricKeyDetails;
  const type = key.asymmetricKeyType;
  if ((type === 'rsa' || type === 'rsa-pss') && (d?.modulusLength ?? 0) >= FIPS_MIN_KEY_BITS.rsa) return;
  if (type === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(d?.namedCurve ?? '')) return;
  const size = type === 'ec' ? `curve ${d?.namedCurve}` : `${d?.modulusLength ?? '?'} bits`;
  throw fipsViolation(`certificates.key_file: ${keyFile}: a ${type} key (${size}) is not FIPS-approved; RSA >= 2048 bits or EC P-256/P-384/P-521 is`);
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

const AES_CBC: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
};

const LEGACY_PBE: Record<string, string> = {
  '1.2.840.113549.1.12.1.1': 'pbeWithSHAAnd128BitRC4',
  '1.2.840.113549.1.12.1.2': 'pbeWithSHAAnd40BitRC4',
  '1.2.840.113549.1.12.1.3': 'pbeWithSHAAnd3-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.4': 'pbeWithSHAAnd2-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.5': 'pbeWithSHAAnd128BitRC2-CBC',
  '1.2.840.113549.1.12.1.6': 'pbeWithSHAAnd40BitRC2-CBC',
  '1.2.840.113549.1.5.3': 'pbeWithMD5AndDES-CBC',
  '1.2.840.113549.1.5.10': 'pbeWithSHA1AndDES-CBC',
};

type Asn1 = forgeNs.asn1.Asn1;

/**
 * Refuses a PKCS#12 file whose key or certificate bags are encrypted with anything but PBES2
 * (PBKDF2) with AES-CBC: the PKCS#12 PBEs (3DES, RC2, RC4 under the PKCS#12 KDF) are not approved.
 */
export function checkFipsPkcs12(pfx: Asn1, forge: typeof forgeNs, keyFile: string): void {
  for (const { what, algorithm } of pkcs12Encryption(pfx, forge)) {
    const name = approvedName(algorithm, forge);
    if (name.approved) continue;
    throw fipsViolation(`certificates.key_file: ${keyFile}: the PKCS#12 ${what} is encrypted with ${name.text}, which is not FIPS-approved (PBES2 with AES-CBC is)`);
  }
}

/** Every encryption algorithm in a PFX: of the encrypted SafeContents and of each shrouded key bag. */
export function pkcs12Encryption(pfx: Asn1, forge: typeof forgeNs): Array<{ what: string; algorithm: Asn1 }> {
  const { asn1 } = forge;
  const seq = (n: Asn1 | undefined): Asn1[] => (n && Array.isArray(n.value) ? (n.value as Asn1[]) : []);
  const oidOf = (n: Asn1 | undefined): string => (n && typeof n.value === 'string' ? asn1.derToOid(n.value) : '');
  // An OCTET STRING may be BER-constructed: its content is then the concatenation of its parts.
  const octets = (n: Asn1 | undefined): string => (n ? (typeof n.value === 'string' ? n.value : seq(n).map(octets).join('')) : '');
  const explicit0 = (n: Asn1 | undefined): Asn1 | undefined => seq(n)[0];

  const found: Array<{ what: string; algorithm: Asn1 }> = [];
  const authSafe = seq(pfx)[1];
  const contentInfos = seq(asn1.fromDer(octets(explicit0(seq(authSafe)[1]))));
  for (const ci of contentInfos) {
    const [type, content] = seq(ci);
    if (oidOf(type) === OID.encryptedData) {
      const encryptedContentInfo = seq(explicit0(content))[1];
      const algorithm = seq(encryptedContentInfo)[1];
      if (algorithm) found.push({ what: 'certificate bag', algorithm });
    } else if (oidOf(type) === OID.data) {
      for (const bag of seq(asn1.fromDer(octets(explicit0(content))))) {
        const [bagId, bagValue] = seq(bag);
        if (oidOf(bagId) !== OID.shroudedKeyBag) continue;
        const algorithm = seq(explicit0(bagValue))[0];
        if (algorithm) found.push({ what: 'private key', algorithm });
      }
    }
  }
  return found;
}

function approvedName(algorithm: Asn1, forge: typeof forgeNs): { approved: boolean; text: string } {
  const items = Array.isArray(algorithm.value) ? (algorithm.value as Asn1[]) : [];
  const oid = items[0] && typeof items[0].value === 'string' ? forge.asn1.derToOid(items[0].value) : '';
  if (oid !== OID.pbes2) return { approved: false, text: LEGACY_PBE[oid] ?? `algorithm ${oid}` };
  const params = Array.isArray(items[1]?.value) ? (items[1].value as Asn1[]) : [];
  const oidAt = (n: Asn1 | undefined) => {
    const first = n && Array.isArray(n.value) ? (n.value as Asn1[])[0] : undefined;
    return first && typeof first.value === 'string' ? forge.asn1.derToOid(first.value) : '';
  };
  const kdf = oidAt(params[0]);
  const cipher = oidAt(params[1]);
  const text = `PBES2 (${kdf === OID.pbkdf2 ? 'PBKDF2' : `KDF ${kdf}`}, ${AES_CBC[cipher] ?? `cipher ${cipher}`})`;
  return { approved: kdf === OID.pbkdf2 && cipher in AES_CBC, text };
}
