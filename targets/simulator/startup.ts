import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError, readConfigText, type Certificates, type EmsConfig } from './config.ts';
import { errorText, loadCaList, loadCaListAsSdk, loadClientCredentials, loadPemCredentialsAsSdk, StartupError } from './keys.ts';
import { loadHttpServer, type HttpServerSettings } from './http-server.ts';
import { decryptSecret, isEncrypted, keyFilePath, readKey } from './secrets.ts';
import { defect } from './defects.ts';
import { opensslText } from './openssl-text.ts';
import { fipsViolation } from './fips.ts';
import type { SdkProfile } from './profile.ts';
import { cipherListPart, policyFor, type ClientCredentials, type Flavour, type TlsPolicy } from './tls-policy.ts';

// Everything the EMS checks before it first connects. Each failure is a StartupError whose
// message is the one log line that says why; the EMS then exits 1.

export interface Settings {
  configFile: string;
  config: EmsConfig;
  /** The build's TLS policy, or its FIPS policy when config.json enables FIPS. */
  policy: TlsPolicy;
  /** Clear secrets (decrypted if config.json held `wsems -encrypt` output). Never logged. */
  appKey: string;
  /** key_passphrase, http_server.passphrase and http_server.password in clear, for the logger to mask. */
  otherSecrets: string[];
  /** The cert_chain file's certificates; [] when none is configured. */
  ca: string[];
  client: ClientCredentials | undefined;
  /** The local server's TLS material and basic-auth credentials, as http_server asks. */
  http: HttpServerSettings;
}

export async function prepare(configFile: string, flavour: Flavour, profile: SdkProfile): Promise<Settings> {
  const config = readConfig(configFile);
  const reveal = secretReader(configFile);
  const appKey = reveal('appKey', config.appKey) as string;
  const clearPassphrase = reveal('certificates.key_passphrase', config.certificates.key_passphrase);
  const passphrase = defect('key-passphrase-ignored') ? undefined : defect('key-passphrase-truncated') ? clearPassphrase?.slice(0, 16) : clearPassphrase;
  const httpPassword = reveal('http_server.password', config.http_server.password);
  const httpPassphrase = reveal('http_server.passphrase', config.http_server.passphrase);

  let fipsOn = config.fips.enabled;
  if (fipsOn && !profile.fipsModule && defect('fips-1012-ignored')) fipsOn = false;
  if (fipsOn && !profile.fipsModule) {
    // twApi_EnableFipsMode logs nothing of its own (EMS-FACTS); a wsems built on it says what it got, and stops.
    throw new StartupError(
      'wsems: fips.enabled is true but twApi_EnableFipsMode returned 1012 (TW_FIPS_MODE_NOT_SUPPORTED): ' +
        'the OpenSSL 3.0 this build links has no FIPS module; not starting',
    );
  }
  if (fipsOn && defect('fips-mode-set-misread')) throw new StartupError('wsems: fips.enabled is true but FIPS_mode_set(1) returned 1, taken for a failure; not starting');
  let policy = policyFor(flavour, fipsOn, profile);
  if (!policy && defect('fips-silently-off')) policy = policyFor(flavour, false, profile);
  if (!policy && defect('fips-unavailable-unexplained')) process.exit(1);
  if (!policy) {
    throw new StartupError(`wsems: fips.enabled is true but FIPS mode unavailable in this build (${flavour}: no FIPS module); not starting`);
  }
  const certs = config.certificates;
  const tlsOn = config.ws_connection.encryption === 'ssl';
  const chainMissing = tlsOn && certs.validate && !certs.allow_self_signed && !certs.cert_chain;
  if (chainMissing && defect('chain-required-unexplained')) process.exit(1);
  if (profile.requireCertChain && chainMissing && !defect('chain-required-missing-trusts-all')) {
    throw new StartupError(
      'wsems: certificates.cert_chain is required: validate is true and allow_self_signed is false, so the platform ' +
        'certificate can only be checked against a CA list, and none is set; not connecting ' +
        '(set cert_chain to the CA list file, or allow_self_signed / validate to false)',
    );
  }
  // Without a cert_chain the C SDK's trust store stays empty: it connects and refuses the platform (code 20).
  const ca = certs.cert_chain ? caList(certs.cert_chain, profile) : [];
  const client = await clientCredentials(certs, passphrase, policy, profile);
  checkCipherList(certs, policy, profile);
  if (defect('log-config-dump-stdout')) process.stdout.write(`wsems: configuration ${JSON.stringify({ ...config, appKey, certificates: { ...certs, key_passphrase: passphrase } })}\n`);
  const http = loadHttpServer(config, configFile, { passphrase: httpPassphrase, password: httpPassword });
  const otherSecrets = [passphrase, httpPassphrase, httpPassword].filter((x): x is string => !!x);
  return { configFile, config, policy, appKey, otherSecrets, ca, client, http };
}

function caList(path: string, profile: SdkProfile): string[] {
  try {
    return (profile.sdkLines ? loadCaListAsSdk : loadCaList)(path);
  } catch (err) {
    if (err instanceof StartupError && defect('chain-unreadable-ignored')) return [];
    throw err;
  }
}

/** The client certificate and key, as the profile loads them (and as the CERT-CLIENT/-KEYFORMAT test-only defects do not). */
async function clientCredentials(certs: Certificates, passphrase: string | undefined, policy: TlsPolicy, profile: SdkProfile): Promise<ClientCredentials | undefined> {
  if (defect('client-cert-only-when-validating') && !certs.validate) return undefined;
  try {
    const client = profile.pemOnlyKeys || defect('key-pem-only')
      ? loadPemCredentialsAsSdk(certs.client_cert || undefined, certs.key_file || undefined, passphrase)
      : await loadClientCredentials(certs.client_cert || undefined, certs.key_file || undefined, passphrase, policy.fips);
    return defect('client-cert-not-loaded') ? undefined : client;
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    if (defect('log-passphrase-stderr')) process.stderr.write(`wsems: key_file ${certs.key_file} did not open with passphrase "${passphrase ?? ''}"\n`);
    if (defect('key-load-error-ignored')) return undefined;
    throw err;
  }
}

/**
 * SSL_CTX_set_cipher_list at start-up: a cipher_suite OpenSSL cannot use (unparsable, or matching
 * no suite) is a configuration error; one that leaves no FIPS-approved suite, a FIPS violation.
 * The C SDK's own line names no field, and its cipher_suite is only ever a TLS <= 1.2 list.
 */
function checkCipherList(certs: Certificates, policy: TlsPolicy, profile: SdkProfile): void {
  if (profile.sdkLines) {
    if (!certs.cipher_suite) return;
    const part = cipherListPart(certs.cipher_suite);
    let error: string | undefined = part ? undefined : 'error:0A0000B9:SSL routines::no cipher match';
    try {
      if (part) createSecureContext({ ciphers: part });
    } catch (err) {
      error = opensslText(err);
    }
    if (error) throw new StartupError(`TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error: ${error}`);
    return;
  }
  const tryList = (ciphers: string) => {
    try {
      createSecureContext({ ciphers, minVersion: policy.minVersion, ...(policy.maxVersion ? { maxVersion: policy.maxVersion } : {}) });
      return undefined;
    } catch (err) {
      return opensslText(err);
    }
  };
  const parsed = policy.honoursCipherSuite || defect('axtls-unparsable-fatal');
  const configured = parsed && certs.cipher_suite ? tryList(certs.cipher_suite) : undefined;
  if (configured && defect('cipher-list-error-ignored')) {
    delete certs.cipher_suite; // SSL_CTX_set_cipher_list failed and left the default in place
    return;
  }
  if (configured) throw new StartupError(`TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error: ${configured} (certificates.cipher_suite)`);
  const effective = tryList(policy.cipherList(certs));
  if (effective && policy.fips) throw fipsViolation(`certificates.cipher_suite "${certs.cipher_suite ?? ''}" allows no FIPS-approved TLS 1.2 suite`);
  if (effective) throw new StartupError(`TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error: ${effective} (certificates.cipher_suite)`);
}

function readConfig(file: string): EmsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StartupError(`wsems: configuration error: cannot read ${file}: ${errorText(err)}`);
  }
  try {
    return readConfigText(text, file);
  } catch (err) {
    if (err instanceof ConfigError) throw new StartupError(`wsems: configuration error: ${err.message}`);
    throw err;
  }
}

/** Returns a field's clear value, decrypting `wsems -encrypt` output; '' counts as not set. */
function secretReader(configFile: string): (field: string, value: string | undefined) => string | undefined {
  let key: Buffer | undefined;
  return (field, value) => {
    if (!value) return undefined;
    if (!isEncrypted(value)) return value;
    if (field === 'appKey' && defect('encrypted-app-key-not-decrypted')) return value;
    if (field === 'certificates.key_passphrase' && defect('encrypted-passphrase-not-decrypted')) return value;
    if (field === 'http_server.passphrase' && defect('lsr-encrypted-passphrase-literal')) return value;
    if (field === 'http_server.password' && defect('lsr-encrypted-password-literal')) return value;
    const path = keyFilePath();
    try {
      key ??= readKey(path);
      return decryptSecret(value, key);
    } catch (err) {
      throw new StartupError(`wsems: configuration error: ${configFile}: ${field}: encrypted value cannot be decrypted with key file ${path}: ${errorText(err)}`);
    }
  };
}
