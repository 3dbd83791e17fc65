import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { didYouMean } from '../harness/suggest.ts';
import { parseYamlFile } from '../harness/yaml-input.ts';
import { parsePortRange } from '../harness/endpoints/ports.ts';
import { CapabilityName } from '../harness/scenario/capabilities.ts';
import { FAILURE_CLASSES } from '../harness/scenario/requirements.ts';
import { FIPS_POLICY_NAMES } from '../harness/scenario/fips-policy.ts';
import { ERROR_MAP_PSEUDO_CLASSES } from '../harness/scenario/target.ts';
import { LSR_WARNINGS } from '../harness/scenario/local-server-model.ts';
import { LocalTarget } from './local.ts';
import { SshLinuxFields, SshWindowsFields } from './ssh/schema.ts';
import type { Target, TargetProfile } from '../harness/scenario/target.ts';

// The inventory names the targets of a run (YAML, validated). Passive facts only: drivers act.

export { DEFAULT_EXPECTATIONS_DIR, DEFAULT_INVENTORY } from './defaults.ts';

const ErrorMapEntry = z
  .object({ pattern: z.string().min(1), class: z.enum([...FAILURE_CLASSES, ...ERROR_MAP_PSEUDO_CLASSES]) })
  .strict()
  .refine((e) => isRegExp(e.pattern), { message: 'pattern is not a valid regular expression', path: ['pattern'] });

/** One of the EMS's insecure-setting warnings as this build logs it (docs/target-profiles.md "Warning maps"). */
const WarningEntry = z
  .object({ pattern: z.string().min(1), warning: z.enum(LSR_WARNINGS) })
  .strict()
  .refine((e) => isRegExp(e.pattern), { message: 'pattern is not a valid regular expression', path: ['pattern'] });

/** `LOW-HIGH`: where this target's platform endpoints listen (harness/endpoints/ports.ts says why the default is what it is). */
const EndpointPorts = z.string({ error: 'write the port range as LOW-HIGH, e.g. 20000-32767' }).transform((text, ctx) => {
  const range = parsePortRange(text);
  if (typeof range !== 'string') return range;
  ctx.addIssue({ code: 'custom', message: range });
  return z.NEVER;
});

const Profile = {
  flavour: z.enum(['openssl', 'axtls']),
  /** Names from harness/scenario/capabilities.ts: a typo is an error, not a silently different expectation. */
  capabilities: z.array(CapabilityName).default([]),
  errorMap: z.array(ErrorMapEntry).default([]),
  warningMap: z.array(WarningEntry).default([]),
  emsVersion: z.string().optional(),
  /** The FIPS policy FIPS-ALGOS judges this target's FIPS mode against (docs/target-profiles.md). */
  fipsPolicy: z.enum(FIPS_POLICY_NAMES).optional(),
  endpointPorts: EndpointPorts.optional(),
  /** Where the EMS's REST server is told to listen (http_server.host) and the REST check dials. */
  restHost: z.enum(['127.0.0.1', '::1']).default('127.0.0.1'),
};

const LocalEntry = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
    kind: z.literal('local'),
    /** Path of a wsems-compatible executable, relative to the inventory file. */
    executable: z.string().min(1),
    env: z.record(z.string(), z.string()).default({}),
    platformHost: z.string().default('localhost'),
    ...Profile,
  })
  .strict();

/** Gateways over SSH (targets/ssh/schema.ts; docs/lab.md has a Linux and a Windows example). */
const SshLinuxEntry = z.object({ ...SshLinuxFields, ...Profile }).strict();
const SshWindowsEntry = z.object({ ...SshWindowsFields, ...Profile }).strict();

export const Inventory = z
  .object({ targets: z.array(z.discriminatedUnion('kind', [LocalEntry, SshLinuxEntry, SshWindowsEntry])).min(1) })
  .strict()
  .refine((inv) => new Set(inv.targets.map((t) => t.id)).size === inv.targets.length, { message: 'target ids must be unique', path: ['targets'] });
export type Inventory = z.infer<typeof Inventory>;

/** Reads and validates an inventory; errors name the file and the field. */
export async function readInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the inventory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseYamlFile(text, file, Inventory);
}

/**
 * The secrets the inventory points at (each gateway's SSH password and key passphrase, read from
 * the environment variables it names), for the report step's redactor. A saved run's inventory
 * may be gone or changed since: then none (its results were redacted when they were made).
 */
export async function inventorySecrets(file: string): Promise<Array<string | undefined>> {
  const inv = await readInventory(file).catch(() => undefined);
  return (inv?.targets ?? []).flatMap((t) => ('auth' in t ? [t.auth.passwordEnv, t.auth.passphraseEnv] : []).map((name) => (name ? process.env[name] : undefined)));
}

/** The ids of the targets a run uses (all, or those asked for); an id the inventory lacks is an error listing what it has. */
export function targetIds(inv: Inventory, file: string, only: readonly string[] = []): string[] {
  const ids = inv.targets.map((t) => t.id);
  const unknown = only.filter((id) => !ids.includes(id));
  if (unknown.length) throw new Error(`${file}: no target ${unknown.map((u) => `"${u}"${didYouMean(u, ids)}`).join(', ')}; the inventory has: ${ids.join(', ')}`);
  return ids.filter((id) => only.length === 0 || only.includes(id));
}

/** Builds the drivers for the inventory's targets, optionally only the ids asked for. */
export async function loadTargets(file: string, only: string[] = [], opts: { acceptNewHostKey?: boolean } = {}): Promise<Target[]> {
  const inv = await readInventory(file);
  targetIds(inv, file, only);
  const base = dirname(file);
  const chosen = inv.targets.map((t, index) => ({ t, index })).filter(({ t }) => only.length === 0 || only.includes(t.id));
  return Promise.all(
    chosen.map(async ({ t, index }): Promise<Target> => {
      const profile: TargetProfile = {
        flavour: t.flavour,
        os: t.kind === 'ssh-windows' ? 'windows' : 'linux',
        capabilities: t.capabilities,
        // Each entry remembers where it was written: an entry that never matches is reported there.
        errorMap: t.errorMap.map((e, j) => ({ ...e, origin: `${shown(file)}: targets[${index}].errorMap[${j}]` })),
        ...(t.warningMap.length ? { warningMap: t.warningMap.map((e, j) => ({ ...e, origin: `${shown(file)}: targets[${index}].warningMap[${j}]` })) } : {}),
        ...(t.emsVersion ? { emsVersion: t.emsVersion } : {}),
        ...(t.fipsPolicy ? { fipsPolicy: t.fipsPolicy } : {}),
        ...(t.endpointPorts ? { endpointPorts: t.endpointPorts } : {}),
        restHost: t.restHost,
      };
      if (t.kind !== 'local') {
        // Loaded for gateways only: ssh2 and the drivers are a tenth of a simulator run's start-up.
        const { gatewayTarget } = await import('./ssh/drivers.ts');
        return gatewayTarget(t, profile, { inventoryFile: file, acceptNewHostKey: opts.acceptNewHostKey ?? false }, `${file}: targets[${index}]`);
      }
      const executable = isAbsolute(t.executable) ? t.executable : resolve(base, t.executable);
      return new LocalTarget({ id: t.id, executable, profile, env: t.env, platformHost: t.platformHost });
    }),
  );
}

/** Relative to the working directory when inside it: what a reader opens. */
function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

function isRegExp(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}
