import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Catalogue } from '../pki/catalogue.ts';
import { parseConfigText } from './config.ts';
import type { Redactor } from '../report/redact.ts';
import { deepMerge, type FileRef, type Scenario, type SecretRef } from '../scenario/model.ts';
import type { FileToPut, PathStyle, Target, TargetSession } from '../scenario/target.ts';

// Renders one scenario's config.json for one target: copies the referenced files into the
// target's session directory, asks the target's own EMS to encrypt secrets (all of a scenario's
// files in one request, all its secrets in one other), spells paths the way the target (or the
// scenario, for CERT-PATHS) wants.

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
}

/** Generous retry interval: a verdict never waits for a retry, it is decided at the first refusal. */
const CONNECTION_DEFAULTS = { encryption: 'ssl', connect_timeout: 5000, connect_retry_interval: 2000, connect_retries: -1 };

export async function renderConfig(input: RenderInput): Promise<Rendered> {
  const { scenario, target, session, redactor } = input;
  const style = scenario.paths ?? target.pathStyle;
  const where = (field: string) => `scenario ${scenario.id}: ems.certificates.${field}`;

  // Files and secrets are collected first, then asked for in one request each, side by side:
  // a gateway over a WAN link pays a round trip for every request waited for.
  const files: FileToPut[] = [];
  const secrets: string[] = [];
  const fill: Array<(paths: string[], encrypted: string[]) => void> = [];
  const certificates: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(scenario.ems.certificates ?? {})) {
    if (field === 'cert_chain' || field === 'client_cert' || field === 'key_file') {
      const placed = await fileFor(value as FileRef, input, where(field));
      if ('path' in placed) certificates[field] = formatPath(placed.path, style);
      else {
        const i = files.push(placed) - 1;
        fill.push((paths) => (certificates[field] = formatPath(paths[i]!, style)));
      }
    } else if (field === 'key_passphrase') {
      const { value: clear, encrypt } = secretFor(value as SecretRef, input, where(field));
      if (!encrypt) certificates[field] = clear;
      else {
        const i = secrets.push(clear) - 1;
        fill.push((_, encrypted) => {
          certificates[field] = encrypted[i];
          if ('secret' in (value as SecretRef)) redactor.add(encrypted[i]!);
        });
      }
    } else {
      certificates[field] = value;
    }
  }
  const appKeyAt = scenario.appKey === 'encrypted' ? secrets.push(input.appKey) - 1 : undefined;
  const [paths, encrypted, restPort] = await Promise.all([files.length ? session.putFiles(files) : [], session.encryptAll(secrets), session.restPort()]);
  for (const f of fill) f(paths, encrypted);
  const appKey = appKeyAt === undefined ? input.appKey : encrypted[appKeyAt]!;
  redactor.add(input.appKey, appKey);

  const base: Record<string, unknown> = {
    ws_servers: [{ host: scenario.host ?? target.platformHost, port: input.endpointPort }],
    appKey,
    ws_connection: CONNECTION_DEFAULTS,
    http_server: { host: 'localhost', port: restPort },
    // TRACE: the C SDK logs a successful AUTH only at that level, and it is evidence.
    logger: { level: 'TRACE' },
    certificates,
    ...(scenario.ems.fips ? { fips: scenario.ems.fips } : {}),
  };
  const config = deepMerge(base, scenario.ems.extra ?? {});
  const json = JSON.stringify(config, null, 2) + '\n';
  // A scenario whose overrides do not fit config.json is a harness defect, not an EMS refusal.
  parseConfigText(json, `scenario ${scenario.id}: rendered config.json`);
  return { config, json };
}

/** A native target path in the form config.json should use (CERT-PATHS). */
export function formatPath(native: string, style: PathStyle): string {
  if (style === 'windows-escaped') return native.replace(/\//g, '\\');
  if (style === 'windows-forward') return native.replace(/\\/g, '/');
  return native;
}

/** The file a reference names, to put in the session directory, or the path of one that does not exist. */
async function fileFor(ref: FileRef, input: RenderInput, where: string): Promise<FileToPut | { path: string }> {
  const { catalogue, session } = input;
  if ('missing' in ref) return { path: `${session.dir}/${ref.missing}` };
  const cert = 'cert' in ref ? catalogue.certs[ref.cert] : 'key' in ref ? catalogue.certs[ref.key] : undefined;
  if ('cert' in ref || 'key' in ref) {
    const name = 'cert' in ref ? ref.cert : ref.key;
    if (!cert) throw new Error(`${where}: unknown catalogue certificate "${name}"`);
    return 'cert' in ref
      ? { name: `${name}.crt`, content: await readFile(cert.certFile) }
      : { name: `${name}.key`, content: await readFile(cert.keyFile), secret: true };
  }
  const path = catalogue.files[ref.file];
  if (!path) throw new Error(`${where}: unknown catalogue file "${ref.file}"`);
  const secret = /\.(p8|p12|key)$|\.enc\.pem$/.test(ref.file);
  return { name: basename(path), content: await readFile(path), secret };
}

function secretFor(ref: SecretRef, input: RenderInput, where: string): { value: string; encrypt: boolean } {
  if (!('secret' in ref)) return { value: ref.literal, encrypt: !!ref.encrypt };
  const s = input.catalogue.secrets[ref.secret];
  if (s === undefined) throw new Error(`${where}: unknown catalogue secret "${ref.secret}"`);
  input.redactor.add(s);
  return { value: s, encrypt: !!ref.encrypt };
}
