import { createSecureContext } from 'node:tls';
import type { EmsConfig } from './config.ts';
import { defect } from './defects.ts';
import { loadKey, loadPemCertificates, StartupError } from './keys.ts';
import { opensslText } from './openssl-text.ts';

// The EMS's local HTTP server as the vendor documents http_server (EMS-FACTS.md "The EMS's local
// HTTP server"): TLS with `certificate` (the server certificate followed by its intermediates,
// sent in that order) and `private_key` opened with `passphrase`; basic authentication with `user`
// and `password`; and the warnings the EMS logs for insecure settings. Every problem is found at
// start-up, as one log line naming the field, and the EMS does not start.

export interface HttpServerSettings {
  /** With `ssl: true`: the certificate file's PEM blocks as they are (in order), the clear key (none: lsr-key-mismatch-unchecked). */
  tls?: { cert: string; key?: string };
  /** With `authenticate: true`: the user and the clear password. */
  basic?: { user: string; password: string };
}

/** `passphrase` and `password` in clear (decrypted from `wsems -encrypt` output if they were). */
export function loadHttpServer(config: EmsConfig, configFile: string, clear: { passphrase: string | undefined; password: string | undefined }): HttpServerSettings {
  const http = config.http_server;
  const out: HttpServerSettings = {};
  if (http.ssl === true) {
    // 5.4.5 removed the built-in certificate: TLS needs both files configured.
    if (!http.certificate || !http.private_key) {
      throw new StartupError(`wsems: configuration error: ${configFile}: http_server: ssl is true but certificate / private_key are not set (there is no built-in certificate)`);
    }
    try {
      out.tls = loadTls(http.certificate, http.private_key, defect('lsr-passphrase-ignored') ? undefined : clear.passphrase);
    } catch (err) {
      if (!(err instanceof StartupError && defect('lsr-load-error-plain'))) throw err;
    }
  }
  if (http.authenticate === true) {
    if (!http.user || !clear.password) {
      throw new StartupError(`wsems: configuration error: ${configFile}: http_server: authenticate is true but user / password are not set`);
    }
    out.basic = { user: http.user, password: clear.password };
  }
  return out;
}

function loadTls(certificate: string, privateKey: string, passphrase: string | undefined): NonNullable<HttpServerSettings['tls']> {
  const pems = loadPemCertificates(certificate, (why) => new StartupError(`wsems: http_server.certificate: cannot load certificate ${certificate}: ${why}`));
  const keyFail = (why: string) => new StartupError(`wsems: http_server.private_key: cannot load private key ${privateKey}: ${why}`);
  const key = loadKey(privateKey, passphrase, keyFail, 'http_server.passphrase').export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = defect('lsr-chain-leaf-only') ? pems[0]! : pems.join('\n');
  try {
    createSecureContext({ cert, key }); // SSL_CTX_check_private_key: the key must belong to the first certificate
  } catch (err) {
    // The failed SSL_CTX_use_PrivateKey leaves the context with the certificate and no key.
    if (defect('lsr-key-mismatch-unchecked')) return { cert };
    throw new StartupError(`wsems: http_server.private_key: ${privateKey} does not match the first certificate of http_server.certificate ${certificate} (${opensslText(err)})`);
  }
  return { cert, key };
}

/**
 * The warnings for the insecure settings of the vendor's "no security" example (LSR-WARN), in this
 * simulator's words (docs/target-profiles.md lists them; a real EMS's are the inventory's warningMap).
 */
export function insecureSettingWarnings(config: EmsConfig): string[] {
  const { http_server: http, certificates: certs } = config;
  const off = (setting: boolean | undefined) => (defect('lsr-warn-on-presence') ? setting !== undefined : setting !== true);
  const serverWarnings = !defect('lsr-no-insecure-warning');
  const linkWarnings = !defect('lsr-no-validate-warning');
  return [
    serverWarnings && off(http.ssl) && 'http_server: SSL is disabled (ssl: false): local clients reach the REST server over plain HTTP; use TLS outside of testing',
    serverWarnings && off(http.authenticate) && 'http_server: authentication is disabled (authenticate: false): any local client can use the REST server',
    linkWarnings && !certs.validate && "certificates: certificate validation is disabled (validate: false): the platform's certificate is not checked",
    linkWarnings && certs.allow_self_signed && 'certificates: self-signed certificates are allowed (allow_self_signed: true)',
  ].filter((w): w is string => typeof w === 'string');
}
