import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { extname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { defect } from './defects.ts';
import { checkFipsKey, checkFipsPkcs12 } from './fips.ts';
import { opensslText } from './openssl-text.ts';
import type { ClientCredentials } from './tls-policy.ts';

// Loading the files the `certificates` group names. Every failure is a StartupError whose
// message is the log line (it names the config field and the file); the EMS exits 1 on it.

export class StartupError extends Error {
  override name = 'StartupError';
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in the cert_chain file (CERT-CHAIN: the issuer may be anywhere in it). */
export function loadCaList(path: string): string[] {
  return loadPemCertificates(path, (why) => new StartupError(`wsems: certificates.cert_chain: cannot load CA list ${path}: ${why}`), defectiveCaReader);
}

/**
 * The PEM certificates of a file, in file order, each checked to parse; none at all is an error too.
 * `reader`: a test-only defect's way of reading them (defects.ts), when one is armed.
 */
export function loadPemCertificates(path: string, fail: (why: string) => StartupError, reader: (text: string) => string[] | undefined = () => undefined): string[] {
  const text = readText(path, fail);
  const pems = reader(text) ?? text.match(PEM_CERT) ?? [];
  if (pems.length === 0) throw fail('no PEM certificate in the file');
  for (const [i, pem] of pems.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw fail(`certificate #${i + 1} does not parse (${errorText(err)})`);
    }
  }
  return pems;
}

/** The CA-list readers of the CERT-CHAIN test-only defects (defects.ts); undefined when none is armed. */
function defectiveCaReader(text: string): string[] | undefined {
  const all = () => text.match(PEM_CERT) ?? [];
  if (defect('chain-first-pem-only')) return all().slice(0, 1);
  if (defect('chain-last-pem-only')) return all().slice(-1);
  if (defect('chain-crlf-unsupported')) return all().filter((pem) => !pem.includes('\r'));
  if (defect('chain-needs-final-newline')) return text.slice(0, text.lastIndexOf('\n') + 1).match(PEM_CERT) ?? [];
  if (defect('chain-stops-at-comment')) {
    let inBlock = false;
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (!inBlock && line.trim() !== '' && !line.startsWith('-----BEGIN')) break;
      if (line.startsWith('-----BEGIN')) inBlock = true;
      if (line.startsWith('-----END')) inBlock = false;
      kept.push(line);
    }
    return kept.join('\n').match(PEM_CERT) ?? [];
  }
  return undefined;
}

/**
 * The client certificate and its private key (CERT-CLIENT, CERT-KEYFORMAT). `key_file` may be PEM
 * (plain, encrypted PKCS#8, traditional encrypted), `.p8` (PKCS#8 DER or PEM, maybe encrypted) or
 * `.p12`/`.pfx` (PKCS#12 holding the key and possibly the certificate). With `fips`, the key and a
 * PKCS#12 file's encryption must be FIPS-approved (the simulated FIPS policy).
 */
export async function loadClientCredentials(
  clientCert: string | undefined, keyFile: string | undefined, passphrase: string | undefined, fips = false,
): Promise<ClientCredentials | undefined> {
  if (!clientCert && !keyFile) return undefined;
  // paths-cert-chain-only-translated: these two paths are read as written.
  const literal = defect('paths-cert-chain-only-translated');
  if (!keyFile) throw new StartupError('wsems: certificates.client_cert: is set but certificates.key_file is not; the certificate needs its private key');
  const keyFail = (why: string) => new StartupError(`wsems: certificates.key_file: cannot load private key ${keyFile}: ${why}`);
  const isP12 = ['.p12', '.pfx'].includes(extname(keyFile).toLowerCase());
  const loaded = isP12 ? await loadPkcs12(keyFile, passphrase, keyFail, fips, literal) : { key: loadKey(keyFile, passphrase, keyFail, 'certificates.key_passphrase', literal), certs: [] };
  if (fips) checkFipsKey(loaded.key, keyFile);
  let cert: string;
  if (clientCert) {
    const certFail = (why: string) => new StartupError(`wsems: certificates.client_cert: cannot load certificate ${clientCert}: ${why}`);
    const pems = readText(clientCert, certFail, literal).match(PEM_CERT) ?? [];
    if (pems.length === 0) throw certFail('no PEM certificate in the file');
    cert = defect('client-chain-not-sent') ? pems[0]! : pems.join('\n');
  } else if (loaded.certs.length > 0) {
    cert = loaded.certs.join('\n');
  } else {
    throw keyFail('certificates.client_cert is not set and the key file holds no certificate');
  }
  const key = loaded.key.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    createSecureContext({ cert, key }); // SSL_CTX_check_private_key: the key must belong to the certificate
  } catch (err) {
    throw keyFail(`does not match the client certificate (${errorText(err)})`);
  }
  return { cert, key };
}

/**
 * A PEM or PKCS#8 DER private key, opened with the passphrase of config field `passphraseField`
 * (named in the errors); `literal`: the path as written (a test-only defect, readBytes).
 */
export function loadKey(path: string, passphrase: string | undefined, fail: (why: string) => StartupError, passphraseField: string, literal = false): KeyObject {
  const data = readBytes(path, fail, literal);
  const isPem = data.includes('-----BEGIN');
  try {
    return isPem
      ? createPrivateKey({ key: data, format: 'pem', ...(passphrase ? { passphrase } : {}) })
      : createPrivateKey({ key: data, format: 'der', type: 'pkcs8', ...(passphrase ? { passphrase } : {}) });
  } catch (err) {
    throw fail(keyError(err, passphrase, isPem ? 'PEM' : 'PKCS#8 DER', passphraseField));
  }
}

/** Node's (OpenSSL's) key errors in words; decryption never prompts, so a wrong passphrase fails at once. */
function keyError(err: unknown, passphrase: string | undefined, format: string, field: string): string {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED') {
    return `the key is encrypted and ${field} is not set`;
  }
  if (code === 'ERR_OSSL_BAD_DECRYPT') return `wrong ${field} (bad decrypt)`;
  const detail = `not a readable ${format} private key (${errorText(err)})`;
  return passphrase ? `${detail}; or a wrong ${field}` : detail;
}

async function loadPkcs12(
  path: string, passphrase: string | undefined, fail: (why: string) => StartupError, fips: boolean, literal: boolean,
): Promise<{ key: KeyObject; certs: string[] }> {
  const data = readBytes(path, fail, literal);
  // node-forge is large: load it only for PKCS#12 files, to keep every other start fast.
  const { default: forge } = await import('node-forge');
  let p12: ReturnType<typeof forge.pkcs12.pkcs12FromAsn1>;
  try {
    const pfx = forge.asn1.fromDer(data.toString('binary'));
    // A FIPS module refuses a non-approved algorithm before it gets to the passphrase.
    if (fips) checkFipsPkcs12(pfx, forge, path);
    p12 = forge.pkcs12.pkcs12FromAsn1(pfx, false, passphrase ?? '');
  } catch (err) {
    if (err instanceof StartupError) throw err;
    const msg = errorText(err);
    throw fail(/MAC could not be verified/.test(msg)
      ? `wrong certificates.key_passphrase (PKCS#12 MAC verification failed)`
      : `not a readable PKCS#12 file (${msg})`);
  }
  const { oids } = forge.pki;
  const bagsOf = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const keyBag = [...bagsOf(oids['pkcs8ShroudedKeyBag'] as string), ...bagsOf(oids['keyBag'] as string)][0];
  if (!keyBag?.key) throw fail('no (RSA) private key in the PKCS#12 file');
  const key = createPrivateKey(forge.pki.privateKeyToPem(keyBag.key));
  const certs = bagsOf(oids['certBag'] as string).flatMap((bag) => (bag.cert ? [forge.pki.certificateToPem(bag.cert)] : []));
  // The key's own certificate first: PKCS#12 files list CA certificates in any order.
  certs.sort((a, b) => Number(new X509Certificate(b).checkPrivateKey(key)) - Number(new X509Certificate(a).checkPrivateKey(key)));
  return { key, certs };
}

/**
 * CERT-PATHS: the Windows EMS reads `d:\\dir\\file` (escaped backslashes) as well as `d:/dir/file`.
 * The simulator stands in for that build too (target capability windows-paths), so on POSIX a
 * backslash in a configured path is a separator.
 */
export function filePath(configured: string): string {
  return process.platform === 'win32' || defect('paths-backslash-literal') ? configured : configured.replace(/\\/g, '/');
}

/** `literal`: the path as written, not through filePath (paths-cert-chain-only-translated). */
function readBytes(path: string, fail: (why: string) => StartupError, literal = false): Buffer {
  try {
    return readFileSync(literal ? path : filePath(path));
  } catch (err) {
    throw fail(errorText(err));
  }
}

function readText(path: string, fail: (why: string) => StartupError, literal = false): string {
  return readBytes(path, fail, literal).toString('utf8');
}

export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

// --- the C SDK 2.2.1's own loaders (profile csdk-2.2.1), failing with its own log lines ---------

/**
 * TW_SET_CLIENT_CA_LIST: SSL_CTX_load_verify_locations(ctx, cert_chain, NULL). Its failure is the
 * SDK's line with OpenSSL's first queued error; the EMS then does not start.
 */
export function loadCaListAsSdk(path: string): string[] {
  const fail = (openssl: string) => new StartupError(`TW_SET_CLIENT_CA_LIST: Loading a certificate authority chain from file into the ctx: ${openssl}.`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw fail(systemError(err));
  }
  const pems = text.match(PEM_CERT) ?? [];
  if (pems.length === 0) throw fail('error:05800088:x509 certificate routines::no certificate or crl found');
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw fail(errorText(err));
    }
  }
  return pems;
}

/**
 * TW_USE_CERT_FILE then TW_USE_KEY_FILE: SSL_CTX_use_certificate_file and
 * SSL_CTX_use_PrivateKey_file(…, SSL_FILETYPE_PEM), the passphrase through the default password
 * callback's user data. PEM only, whatever the vendor page lists: a `.p8` (DER) or `.p12` file
 * fails with OpenSSL's "DECODER routines::unsupported" (EMS-FACTS "Keys"). Without a passphrase
 * the callback would prompt on a terminal the EMS does not have: "interrupted or cancelled".
 */
export function loadPemCredentialsAsSdk(clientCert: string | undefined, keyFile: string | undefined, passphrase: string | undefined): ClientCredentials | undefined {
  let cert: string | undefined;
  if (clientCert) {
    const pems = (() => {
      try {
        return readFileSync(clientCert, 'utf8').match(PEM_CERT) ?? [];
      } catch {
        return [];
      }
    })();
    if (pems.length === 0) throw new StartupError('TW_USE_CERT_FILE: Error setting the certificate file.');
    cert = pems.join('\n');
  }
  if (!keyFile) return undefined;
  const keyFail = (openssl: string) => new StartupError(`TW_USE_KEY_FILE: Error setting the key file - ${openssl}`);
  let data: Buffer;
  try {
    data = readFileSync(keyFile);
  } catch (err) {
    throw keyFail(systemError(err));
  }
  let key: string;
  try {
    key = createPrivateKey({ key: data, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (err) {
    throw keyFail(opensslText(err));
  }
  if (!cert) return undefined; // a key alone presents nothing
  try {
    createSecureContext({ cert, key }); // SSL_CTX_use_PrivateKey_file checks the key against the certificate
  } catch (err) {
    throw keyFail(opensslText(err));
  }
  return { cert, key };
}

/** ERR_error_string of a system error as OpenSSL 3.0 queues it: ERR_SYSTEM_FLAG | errno. */
function systemError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const errno = (osConstants.errno as Record<string, number>)[code];
  if (errno === undefined) return errorText(err);
  return `error:${(0x80000000 + errno).toString(16).toUpperCase()}:system library::${STRERROR[code] ?? code}`;
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
};
