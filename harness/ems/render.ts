import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Catalogue } from '../pki/catalogue.ts';
import { parseConfigText } from './config.ts';
import { checkEncryption, type EncryptionRecord } from './encryption-strength.ts';
import { restEndpointOf, type RestEndpoint } from './rest-endpoint.ts';
import type { ScenarioSecret, SecretKind } from './secret-leaks.ts';
import type { Redactor } from '../report/redact.ts';
import { deepMerge, type FileRef, type Scenario, type SecretRef } from '../scenario/model.ts';
import type { FileToPut, PathStyle, Target, TargetSession } from '../scenario/target.ts';

// Renders one scenario's config.json for one target: copies the referenced files into the
// target's session directory, asks the target's own EMS to encrypt secrets, spells paths the
// way the target (or the scenario, for CERT-PATHS) wants. What it asks of the target is collected
// first and asked in one request each, side by side (all files, all encryptions, the REST port): a
// gateway over a WAN link pays a round trip for every request waited for.

export interface RenderInput {
  scenario: Scenario;
  target: Target;
  session: TargetSession;
  catalogue: Catalogue;
  endpointPort: number;
  appKey: string;
  redactor: Redactor;
}

export interface Rendered {
  config: Record<string, unknown>;
  json: string;
  /** The local server as rendered, with the clear credentials an LSR is configured with: what the REST check and the LSR client speak. */
  rest: RestEndpoint;
  /**
   * The scenario's clear secrets (the app key, passphrases, the local server's password), whether
   * config.json holds them clear or in their -encrypt form: SECRET-NOLOG searches everything the
   * EMS writes for them. Registered with the redactor as they are placed; never in a report.
   */
  secrets: ScenarioSecret[];
  /** Each `-encrypt` the rendering asked the target for, strength-checked (SECRET-ENCRYPT). */
  encryptions: EncryptionRecord[];
}

/** What rendering one config collects on the way: the secrets handed over, the encryptions asked for. */
interface Collected {
  secrets: ScenarioSecret[];
  encryptions: EncryptionRecord[];
}

/** A value known once the target has answered the render's requests. */
type Later<T> = () => T;

/**
 * The render's requests of the target, collected while walking the scenario and sent together
 * (`send`): every file in one putFiles, every secret's two encryptions in one encryptAll.
 */
class Requests {
  readonly #files: FileToPut[] = [];
  readonly #secrets: string[] = [];
  readonly #checks: Array<{ kind: SecretKind; clear: string; at: number }> = [];
  #paths: string[] = [];
  #encrypted: string[] = [];

  file(f: FileToPut): Later<string> {
    const i = this.#files.push(f) - 1;
    return () => this.#paths[i]!;
  }

  /**
   * The target's own `-encrypt` output for a secret, asked for twice (two runs, one request): the
   * first goes into config.json, both are redacted, and the pair is strength-checked and recorded
   * (deterministic or not).
   */
  encrypt(kind: SecretKind, clear: string): Later<string> {
    const at = this.#secrets.push(clear, clear) - 2;
    this.#checks.push({ kind, clear, at });
    return () => this.#encrypted[at]!;
  }

  /** Sends what was collected, with the REST port request beside it; returns the port. */
  async send(session: TargetSession, restHost: string, redactor: Redactor, collected: Collected): Promise<number> {
    const [paths, encrypted, port] = await Promise.all([
      this.#files.length ? session.putFiles(this.#files) : [],
      this.#secrets.length ? session.encryptAll(this.#secrets) : [],
      session.restPort(restHost),
    ]);
    this.#paths = paths;
    this.#encrypted = encrypted;
    for (const { kind, clear, at } of this.#checks) {
      const [first, second] = [encrypted[at]!, encrypted[at + 1]!];
      redactor.add(first, second);
      collected.encryptions.push(checkEncryption(kind, clear, first, second));
    }
    return port;
  }
}

/** Generous retry interval: a verdict never waits for a retry, it is decided at the first refusal. */
const CONNECTION_DEFAULTS = { encryption: 'ssl', connect_timeout: 5000, connect_retry_interval: 2000, connect_retries: -1 };

export async function renderConfig(input: RenderInput): Promise<Rendered> {
  const { scenario, target, session, redactor } = input;
  const style = scenario.paths ?? target.pathStyle;
  const where = (field: string) => `scenario ${scenario.id}: ems.certificates.${field}`;
  const asks = new Requests();
  const pathOf = async (ref: FileRef, at: string): Promise<Later<string>> => {
    const placed = await placeFile(ref, input, asks, at);
    return () => formatPath(placed(), style);
  };

  const collected: Collected = { secrets: [{ kind: 'app key', value: input.appKey, random: true }], encryptions: [] };
  redactor.add(input.appKey);
  const appKey = scenario.appKey === 'encrypted' ? asks.encrypt('app key', input.appKey) : () => input.appKey;

  const certificates: Record<string, Later<unknown>> = {};
  for (const [field, value] of Object.entries(scenario.ems.certificates ?? {})) {
    if (field === 'cert_chain' || field === 'client_cert' || field === 'key_file' || field === 'http_client_ca_certs') {
      certificates[field] = await pathOf(value as FileRef, where(field));
    } else if (field === 'key_passphrase') {
      certificates[field] = secretValue(value as SecretRef, 'key passphrase', input, asks, collected, where(field)).value;
    } else {
      certificates[field] = () => value;
    }
  }

  // The REST port must be free where the EMS will listen: the scenario's own host, else the target's.
  const ownHttp = scenario.ems.http_server ?? {};
  const askedHost = ownHttp.host ?? (scenario.ems.extra?.['http_server'] as { host?: unknown } | undefined)?.host;
  const restHost = typeof askedHost === 'string' ? askedHost : (target.profile.restHost ?? '127.0.0.1');
  const onServer = (field: string) => `scenario ${scenario.id}: ems.http_server.${field}`;
  const password = ownHttp.password && secretValue(ownHttp.password, 'http_server password', input, asks, collected, onServer('password'));
  const certificate = ownHttp.certificate && (await pathOf(ownHttp.certificate, onServer('certificate')));
  const privateKey = ownHttp.private_key && (await pathOf(ownHttp.private_key, onServer('private_key')));
  const passphrase = ownHttp.passphrase && secretValue(ownHttp.passphrase, 'http_server passphrase', input, asks, collected, onServer('passphrase'));

  const restPort = await asks.send(session, restHost, redactor, collected);
  const http_server: Record<string, unknown> = {
    host: restHost,
    port: restPort,
    // Explicit, so the REST check can speak exactly this: the EMS takes `localhost` as ::1 (EMS-FACTS),
    // and a platform-link scenario wants neither TLS nor basic auth on the local server.
    ssl: ownHttp.ssl ?? false,
    authenticate: ownHttp.authenticate ?? false,
    ...(certificate ? { certificate: certificate() } : {}),
    ...(privateKey ? { private_key: privateKey() } : {}),
    ...(passphrase ? { passphrase: passphrase.value() } : {}),
    ...(ownHttp.user !== undefined ? { user: ownHttp.user } : {}),
    ...(password ? { password: password.value() } : {}),
  };
  const base: Record<string, unknown> = {
    ws_servers: [{ host: scenario.host ?? target.platformHost, port: input.endpointPort }],
    appKey: appKey(),
    ws_connection: CONNECTION_DEFAULTS,
    http_server,
    // TRACE: the C SDK logs a successful AUTH only at that level, and it is evidence.
    logger: { level: 'TRACE' },
    certificates: Object.fromEntries(Object.entries(certificates).map(([field, value]) => [field, value()])),
    ...(scenario.ems.fips ? { fips: scenario.ems.fips } : {}),
  };
  const config = deepMerge(base, scenario.ems.extra ?? {});
  collected.secrets.push(...httpServerSecrets(scenario));
  const json = JSON.stringify(config, null, 2) + '\n';
  // A scenario whose overrides do not fit config.json is a harness defect, not an EMS refusal.
  parseConfigText(json, `scenario ${scenario.id}: rendered config.json`);
  const credentials = password ? { user: ownHttp.user ?? '', password: password.clear } : undefined;
  return { config, json, rest: restEndpointOf(config['http_server'] as Record<string, unknown>, credentials), ...collected };
}

/** Clear secrets a scenario writes into `http_server` itself (ems.extra): searched for like the others. */
function httpServerSecrets(scenario: Scenario): ScenarioSecret[] {
  const http = scenario.ems.extra?.['http_server'] as Record<string, unknown> | undefined;
  return ([['password', 'http_server password'], ['passphrase', 'http_server passphrase']] as const).flatMap(([field, kind]) => {
    const value = http?.[field];
    return typeof value === 'string' && value ? [{ kind, value, random: false }] : [];
  });
}

/** A native target path in the form config.json should use (CERT-PATHS). */
export function formatPath(native: string, style: PathStyle): string {
  if (style === 'windows-escaped') return native.replace(/\//g, '\\');
  if (style === 'windows-forward') return native.replace(/\\/g, '/');
  return native;
}

/** The native path a reference names on the target: a file to put in the session directory, or one that does not exist. */
async function placeFile(ref: FileRef, input: RenderInput, asks: Requests, where: string): Promise<Later<string>> {
  const { catalogue, session } = input;
  if ('missing' in ref) return () => `${session.dir}/${ref.missing}`;
  const cert = 'cert' in ref ? catalogue.certs[ref.cert] : 'key' in ref ? catalogue.certs[ref.key] : undefined;
  if ('cert' in ref || 'key' in ref) {
    const name = 'cert' in ref ? ref.cert : ref.key;
    if (!cert) throw new Error(`${where}: unknown catalogue certificate "${name}"`);
    return 'cert' in ref
      ? asks.file({ name: `${name}.crt`, content: await readFile(cert.certFile) })
      : asks.file({ name: `${name}.key`, content: await readFile(cert.keyFile), secret: true });
  }
  const path = catalogue.files[ref.file];
  if (!path) throw new Error(`${where}: unknown catalogue file "${ref.file}"`);
  const secret = /\.(p8|p12|key)$|\.enc\.pem$/.test(ref.file);
  return asks.file({ name: basename(path), content: await readFile(path), secret });
}

/** A secret's clear value and what config.json holds (the target's -encrypt output when asked); both registered for redaction. */
function secretValue(ref: SecretRef, kind: SecretKind, input: RenderInput, asks: Requests, collected: Collected, where: string): { clear: string; value: Later<string> } {
  let value: string;
  if ('secret' in ref) {
    const s = input.catalogue.secrets[ref.secret];
    if (s === undefined) throw new Error(`${where}: unknown catalogue secret "${ref.secret}"`);
    value = s;
  } else {
    value = ref.literal;
  }
  input.redactor.add(value);
  // A catalogue secret is random bytes; a literal (a deliberately wrong passphrase) is searched for whole.
  collected.secrets.push({ kind, value, random: 'secret' in ref });
  return { clear: value, value: ref.encrypt ? asks.encrypt(kind, value) : () => value };
}
