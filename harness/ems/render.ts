import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Catalogue } from '../pki/catalogue.ts';
import { parseConfigText } from './config.ts';
import { checkEncryption, type EncryptionRecord } from './encryption-strength.ts';
import { restEndpointOf, type RestEndpoint } from './rest-endpoint.ts';
import type { ScenarioSecret, SecretKind } from './secret-leaks.ts';
import type { Redactor } from '../report/redact.ts';
import { deepMerge, type FileRef, type Scenario, type SecretRef } from '../scenario/model.ts';
import type { PathStyle, Target, TargetSession } from '../scenario/target.ts';

// Renders one scenario's config.json for one target: copies the referenced files into the
// target's session directory, asks the target's own EMS to encrypt secrets, spells paths the
// way the target (or the scenario, for CERT-PATHS) wants.

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

/** Generous retry interval: a verdict never waits for a retry, it is decided at the first refusal. */
const CONNECTION_DEFAULTS = { encryption: 'ssl', connect_timeout: 5000, connect_retry_interval: 2000, connect_retries: -1 };

export async function renderConfig(input: RenderInput): Promise<Rendered> {
  const { scenario, target, session, redactor } = input;
  const style = scenario.paths ?? target.pathStyle;
  const where = (field: string) => `scenario ${scenario.id}: ems.certificates.${field}`;

  const collected: Collected = { secrets: [{ kind: 'app key', value: input.appKey, random: true }], encryptions: [] };
  redactor.add(input.appKey);
  const appKey = scenario.appKey === 'encrypted' ? await encrypted('app key', input.appKey, input, collected) : input.appKey;

  const certificates: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(scenario.ems.certificates ?? {})) {
    if (field === 'cert_chain' || field === 'client_cert' || field === 'key_file' || field === 'http_client_ca_certs') {
      certificates[field] = formatPath(await placeFile(value as FileRef, input, where(field)), style);
    } else if (field === 'key_passphrase') {
      certificates[field] = (await secretValue(value as SecretRef, 'key passphrase', input, collected, where(field))).value;
    } else {
      certificates[field] = value;
    }
  }

  // The REST port must be free where the EMS will listen: the scenario's own host, else the target's.
  const ownHttp = scenario.ems.http_server ?? {};
  const askedHost = ownHttp.host ?? (scenario.ems.extra?.['http_server'] as { host?: unknown } | undefined)?.host;
  const restHost = typeof askedHost === 'string' ? askedHost : (target.profile.restHost ?? '127.0.0.1');
  const onServer = (field: string) => `scenario ${scenario.id}: ems.http_server.${field}`;
  const password = ownHttp.password && (await secretValue(ownHttp.password, 'http_server password', input, collected, onServer('password')));
  const http_server: Record<string, unknown> = {
    host: restHost,
    port: await session.restPort(restHost),
    // Explicit, so the REST check can speak exactly this: the EMS takes `localhost` as ::1 (EMS-FACTS),
    // and a platform-link scenario wants neither TLS nor basic auth on the local server.
    ssl: ownHttp.ssl ?? false,
    authenticate: ownHttp.authenticate ?? false,
    ...(ownHttp.certificate ? { certificate: formatPath(await placeFile(ownHttp.certificate, input, onServer('certificate')), style) } : {}),
    ...(ownHttp.private_key ? { private_key: formatPath(await placeFile(ownHttp.private_key, input, onServer('private_key')), style) } : {}),
    ...(ownHttp.passphrase ? { passphrase: (await secretValue(ownHttp.passphrase, 'http_server passphrase', input, collected, onServer('passphrase'))).value } : {}),
    ...(ownHttp.user !== undefined ? { user: ownHttp.user } : {}),
    ...(password ? { password: password.value } : {}),
  };
  const base: Record<string, unknown> = {
    ws_servers: [{ host: scenario.host ?? target.platformHost, port: input.endpointPort }],
    appKey,
    ws_connection: CONNECTION_DEFAULTS,
    http_server,
    // TRACE: the C SDK logs a successful AUTH only at that level, and it is evidence.
    logger: { level: 'TRACE' },
    certificates,
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

/**
 * The target's own `-encrypt` output for a secret, asked for twice: the first goes into config.json,
 * both are redacted, and the pair is strength-checked and recorded (deterministic or not).
 */
async function encrypted(kind: SecretKind, clear: string, input: RenderInput, collected: Collected): Promise<string> {
  const first = await input.session.encrypt(clear);
  const second = await input.session.encrypt(clear);
  input.redactor.add(first, second);
  collected.encryptions.push(checkEncryption(kind, clear, first, second));
  return first;
}

/** A native target path in the form config.json should use (CERT-PATHS). */
export function formatPath(native: string, style: PathStyle): string {
  if (style === 'windows-escaped') return native.replace(/\//g, '\\');
  if (style === 'windows-forward') return native.replace(/\\/g, '/');
  return native;
}

async function placeFile(ref: FileRef, input: RenderInput, where: string): Promise<string> {
  const { catalogue, session } = input;
  if ('missing' in ref) return `${session.dir}/${ref.missing}`;
  const cert = 'cert' in ref ? catalogue.certs[ref.cert] : 'key' in ref ? catalogue.certs[ref.key] : undefined;
  if ('cert' in ref || 'key' in ref) {
    const name = 'cert' in ref ? ref.cert : ref.key;
    if (!cert) throw new Error(`${where}: unknown catalogue certificate "${name}"`);
    return 'cert' in ref
      ? session.putFile(`${name}.crt`, await readFile(cert.certFile))
      : session.putFile(`${name}.key`, await readFile(cert.keyFile), { secret: true });
  }
  const path = catalogue.files[ref.file];
  if (!path) throw new Error(`${where}: unknown catalogue file "${ref.file}"`);
  const secret = /\.(p8|p12|key)$|\.enc\.pem$/.test(ref.file);
  return session.putFile(basename(path), await readFile(path), { secret });
}

/** A secret's clear value and what config.json holds (the target's -encrypt output when asked); both registered for redaction. */
async function secretValue(ref: SecretRef, kind: SecretKind, input: RenderInput, collected: Collected, where: string): Promise<{ clear: string; value: string }> {
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
  return { clear: value, value: ref.encrypt ? await encrypted(kind, value, input, collected) : value };
}
