// An old-syntax check of OpenSSL 1.0.2's cipher-list parser (SSL_CTX_set_cipher_list), built from
// its documented cipher strings and suite names (doc/apps/ciphers.pod of 1.0.2), for the
// portability test: no OpenSSL 1.0.2 is installed here. What 1.0.2 does with a list:
// - elements separated by `:` (or `,` or space), each optionally prefixed by `!`, `-` or `+`,
//   parts joined by `+` meaning "and";
// - `@STRENGTH` is its only `@` command: any other (`@SECLEVEL=n`, 1.1.0+) fails the whole list;
// - an element with a part it does not know is skipped silently; a list that selects nothing fails.
// The check is stricter in one way: a skipped element is reported too, since the same string then
// means something else on 1.0.2 than on the lines that know the element.

/** The cipher strings of 1.0.2's ciphers(1), plus the aliases its ssl_ciph.c has without documenting them (SRP, FIPS). */
const KEYWORDS = new Set([
  'DEFAULT', 'COMPLEMENTOFDEFAULT', 'ALL', 'COMPLEMENTOFALL', 'HIGH', 'MEDIUM', 'LOW', 'EXP', 'EXPORT', 'EXPORT40', 'EXPORT56',
  'eNULL', 'NULL', 'aNULL', 'kRSA', 'RSA', 'kDHr', 'kDHd', 'kDH', 'kDHE', 'kEDH', 'DHE', 'EDH', 'ADH', 'DH', 'kECDHr', 'kECDHe',
  'kECDH', 'kECDHE', 'kEECDH', 'ECDHE', 'EECDH', 'AECDH', 'ECDH', 'aRSA', 'aDSS', 'DSS', 'aDH', 'aECDH', 'aECDSA', 'ECDSA',
  'kFZA', 'aFZA', 'eFZA', 'FZA', 'TLSv1.2', 'TLSv1', 'SSLv3', 'SSLv2', 'AES128', 'AES256', 'AES', 'AESGCM', 'CAMELLIA128',
  'CAMELLIA256', 'CAMELLIA', '3DES', 'DES', 'RC4', 'RC2', 'IDEA', 'SEED', 'MD5', 'SHA1', 'SHA', 'SHA256', 'SHA384', 'aGOST',
  'aGOST01', 'aGOST94', 'kGOST', 'GOST94', 'GOST89MAC', 'PSK', 'SUITEB128', 'SUITEB128ONLY', 'SUITEB192',
  'SRP', 'kSRP', 'aSRP', 'FIPS',
]);

/** The suite names of 1.0.2's ciphers(1) (SSLv3 to TLS 1.2, ECC, PSK, SEED, Camellia, GOST). */
const SUITES = new Set(`
NULL-MD5 NULL-SHA EXP-RC4-MD5 RC4-MD5 RC4-SHA EXP-RC2-CBC-MD5 IDEA-CBC-SHA EXP-DES-CBC-SHA DES-CBC-SHA DES-CBC3-SHA
EXP-DH-DSS-DES-CBC-SHA DH-DSS-DES-CBC-SHA DH-DSS-DES-CBC3-SHA EXP-DH-RSA-DES-CBC-SHA DH-RSA-DES-CBC-SHA DH-RSA-DES-CBC3-SHA
EXP-EDH-DSS-DES-CBC-SHA EDH-DSS-CBC-SHA EDH-DSS-DES-CBC3-SHA EXP-EDH-RSA-DES-CBC-SHA EDH-RSA-DES-CBC-SHA EDH-RSA-DES-CBC3-SHA
EXP-ADH-RC4-MD5 ADH-RC4-MD5 EXP-ADH-DES-CBC-SHA ADH-DES-CBC-SHA ADH-DES-CBC3-SHA
AES128-SHA AES256-SHA DH-DSS-AES128-SHA DH-DSS-AES256-SHA DH-RSA-AES128-SHA DH-RSA-AES256-SHA DHE-DSS-AES128-SHA
DHE-DSS-AES256-SHA DHE-RSA-AES128-SHA DHE-RSA-AES256-SHA ADH-AES128-SHA ADH-AES256-SHA
CAMELLIA128-SHA CAMELLIA256-SHA DH-DSS-CAMELLIA128-SHA DH-DSS-CAMELLIA256-SHA DH-RSA-CAMELLIA128-SHA DH-RSA-CAMELLIA256-SHA
DHE-DSS-CAMELLIA128-SHA DHE-DSS-CAMELLIA256-SHA DHE-RSA-CAMELLIA128-SHA DHE-RSA-CAMELLIA256-SHA ADH-CAMELLIA128-SHA ADH-CAMELLIA256-SHA
ECDHE-ECDSA-CAMELLIA128-SHA256 ECDHE-ECDSA-CAMELLIA256-SHA384 ECDH-ECDSA-CAMELLIA128-SHA256 ECDH-ECDSA-CAMELLIA256-SHA384
ECDHE-RSA-CAMELLIA128-SHA256 ECDHE-RSA-CAMELLIA256-SHA384 ECDH-RSA-CAMELLIA128-SHA256 ECDH-RSA-CAMELLIA256-SHA384
SEED-SHA DH-DSS-SEED-SHA DH-RSA-SEED-SHA DHE-DSS-SEED-SHA DHE-RSA-SEED-SHA ADH-SEED-SHA
GOST94-GOST89-GOST89 GOST2001-GOST89-GOST89 GOST94-NULL-GOST94 GOST2001-NULL-GOST94
EXP1024-DES-CBC-SHA EXP1024-RC4-SHA EXP1024-DHE-DSS-DES-CBC-SHA EXP1024-DHE-DSS-RC4-SHA DHE-DSS-RC4-SHA
ECDH-RSA-NULL-SHA ECDH-RSA-RC4-SHA ECDH-RSA-DES-CBC3-SHA ECDH-RSA-AES128-SHA ECDH-RSA-AES256-SHA
ECDH-ECDSA-NULL-SHA ECDH-ECDSA-RC4-SHA ECDH-ECDSA-DES-CBC3-SHA ECDH-ECDSA-AES128-SHA ECDH-ECDSA-AES256-SHA
ECDHE-RSA-NULL-SHA ECDHE-RSA-RC4-SHA ECDHE-RSA-DES-CBC3-SHA ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA
ECDHE-ECDSA-NULL-SHA ECDHE-ECDSA-RC4-SHA ECDHE-ECDSA-DES-CBC3-SHA ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA
AECDH-NULL-SHA AECDH-RC4-SHA AECDH-DES-CBC3-SHA AECDH-AES128-SHA AECDH-AES256-SHA
NULL-SHA256 AES128-SHA256 AES256-SHA256 AES128-GCM-SHA256 AES256-GCM-SHA384
DH-RSA-AES128-SHA256 DH-RSA-AES256-SHA256 DH-RSA-AES128-GCM-SHA256 DH-RSA-AES256-GCM-SHA384
DH-DSS-AES128-SHA256 DH-DSS-AES256-SHA256 DH-DSS-AES128-GCM-SHA256 DH-DSS-AES256-GCM-SHA384
DHE-RSA-AES128-SHA256 DHE-RSA-AES256-SHA256 DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-GCM-SHA384
DHE-DSS-AES128-SHA256 DHE-DSS-AES256-SHA256 DHE-DSS-AES128-GCM-SHA256 DHE-DSS-AES256-GCM-SHA384
ECDH-RSA-AES128-SHA256 ECDH-RSA-AES256-SHA384 ECDH-RSA-AES128-GCM-SHA256 ECDH-RSA-AES256-GCM-SHA384
ECDH-ECDSA-AES128-SHA256 ECDH-ECDSA-AES256-SHA384 ECDH-ECDSA-AES128-GCM-SHA256 ECDH-ECDSA-AES256-GCM-SHA384
ECDHE-RSA-AES128-SHA256 ECDHE-RSA-AES256-SHA384 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384
ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384 ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384
ADH-AES128-SHA256 ADH-AES256-SHA256 ADH-AES128-GCM-SHA256 ADH-AES256-GCM-SHA384
RSA-PSK-RC4-SHA RSA-PSK-3DES-EDE-CBC-SHA RSA-PSK-AES128-CBC-SHA RSA-PSK-AES256-CBC-SHA
PSK-RC4-SHA PSK-3DES-EDE-CBC-SHA PSK-AES128-CBC-SHA PSK-AES256-CBC-SHA RC2-CBC-MD5 IDEA-CBC-MD5 DES-CBC3-MD5
`.split(/\s+/).filter(Boolean));

export interface ListCheck {
  /** Whether SSL_CTX_set_cipher_list on 1.0.2 takes the list (something selected, no invalid command). */
  accepted: boolean;
  /** Why not, or which elements 1.0.2 would skip silently. */
  problems: string[];
}

export function check102(list: string): ListCheck {
  const problems: string[] = [];
  let selects = false;
  let invalidCommand = false;
  for (const element of list.split(/[:, ]+/).filter(Boolean)) {
    if (element.startsWith('@')) {
      if (element !== '@STRENGTH') {
        invalidCommand = true;
        problems.push(`${element}: not a command OpenSSL 1.0.2 knows (only @STRENGTH): the whole list is refused`);
      }
      continue;
    }
    const prefix = /^[!+-]/.test(element) ? element.charAt(0) : '';
    const unknown = element.slice(prefix.length).split('+').filter((p) => !KEYWORDS.has(p) && !SUITES.has(p));
    if (unknown.length) {
      problems.push(`${element}: ${unknown.join(', ')} unknown to OpenSSL 1.0.2 (the element is skipped there)`);
      continue;
    }
    if (prefix === '') selects = true;
  }
  if (!selects && !invalidCommand) problems.push('selects no cipher suite on OpenSSL 1.0.2 (no cipher match)');
  return { accepted: selects && !invalidCommand, problems };
}
