import { z } from 'zod';
import { EndpointSpec } from '../endpoints/spec.ts';
import { CapabilityName } from './capabilities.ts';
import { FAILURE_CLASSES, REQUIREMENT_IDS } from './requirements.ts';

// A scenario is data: what the platform endpoint offers, what the EMS config says, what must
// happen. Spec files in scenarios/ declare families of them with `family()`; nothing here runs.

/** A file the renderer copies to the target: a catalogue file, a certificate's PEM, its clear key, or a path that is absent. */
export const FileRef = z.union([
  z.object({ file: z.string().min(1) }).strict(),
  z.object({ cert: z.string().min(1) }).strict(),
  z.object({ key: z.string().min(1) }).strict(),
  z.object({ missing: z.string().min(1) }).strict(),
]);
export type FileRef = z.infer<typeof FileRef>;

/** A secret value: a catalogue secret, or a literal (e.g. a deliberately wrong passphrase); optionally encrypted with the target's `-encrypt`. */
export const SecretRef = z.union([
  z.object({ secret: z.string().min(1), encrypt: z.boolean().default(false) }).strict(),
  z.object({ literal: z.string(), encrypt: z.boolean().default(false) }).strict(),
]);
export type SecretRef = z.infer<typeof SecretRef>;

export const CRITERIA_FIELDS = [
  'Cert_Common_Name', 'Cert_Organization', 'Cert_Organizational_Name',
  'CA_Cert_Common_Name', 'CA_Cert_Organization', 'CA_Cert_Organizational_Name',
] as const;

export const CertificatesSpec = z
  .object({
    validate: z.boolean(),
    allow_self_signed: z.boolean(),
    cert_chain: FileRef,
    client_cert: FileRef,
    key_file: FileRef,
    key_passphrase: SecretRef,
    cipher_suite: z.string(),
    disable_hostname_validation: z.boolean(),
    validation_criteria: z.partialRecord(z.enum(CRITERIA_FIELDS), z.string()),
  })
  .partial()
  .strict();

export const EmsSpec = z
  .object({
    certificates: CertificatesSpec.optional(),
    fips: z.object({ enabled: z.boolean() }).strict().optional(),
    /** Other config.json groups, merged as given (ws_connection, logger …). */
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type EmsSpec = z.infer<typeof EmsSpec>;

export const Expectation = z.discriminatedUnion('outcome', [
  z
    .object({
      outcome: z.literal('connects'),
      /** When set, the negotiated suite (endpoint's observation) must be one of these. */
      cipherIn: z.array(z.string()).min(1).optional(),
      protocolIn: z.array(z.string()).min(1).optional(),
    })
    .strict(),
  z.object({ outcome: z.literal('refuses'), class: z.enum(FAILURE_CLASSES) }).strict(),
]);
export type Expectation = z.infer<typeof Expectation>;

/** Which targets a variant expectation applies to. */
export const Condition = z
  .object({
    has: z.array(CapabilityName).optional(),
    lacks: z.array(CapabilityName).optional(),
    flavour: z.enum(['openssl', 'axtls']).optional(),
  })
  .strict();
export type Condition = z.infer<typeof Condition>;

export const Scenario = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case words joined by . or -'),
    title: z.string().min(1),
    requirements: z.array(z.enum(REQUIREMENT_IDS)).min(1),
    endpoint: EndpointSpec.default({ kind: 'node-tls', cert: 'leaf-valid' }),
    ems: EmsSpec.default({}),
    appKey: z.enum(['clear', 'encrypted']).default('clear'),
    /** Path form for config.json (CERT-PATHS); default is the target's own. */
    paths: z.enum(['posix', 'windows-escaped', 'windows-forward']).optional(),
    /** Host name the EMS connects to instead of the target's platformHost (CERT-HOST). */
    host: z.string().optional(),
    needs: z.array(CapabilityName).default([]),
    expect: Expectation,
    /** The first variant whose condition the target meets replaces `expect`. */
    variants: z.array(z.object({ when: Condition, expect: Expectation }).strict()).default([]),
    /** How long without decisive evidence before the verdict is HANG. */
    hangMs: z.number().int().positive().default(15_000),
  })
  .strict();
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

export interface InvalidScenario {
  id: string;
  error: string;
}

export interface Family {
  name: string;
  scenarios: Scenario[];
  /** Scenarios that failed validation: reported as broken, the rest still run. */
  invalid: InvalidScenario[];
}

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * Declares a family of scenarios. `defaults` is deep-merged under every scenario (arrays replace).
 * Invalid scenarios are kept as `invalid` with an error naming the family, scenario and field.
 */
export function family(name: string, defaults: DeepPartial<ScenarioInput>, scenarios: DeepPartial<ScenarioInput>[]): Family {
  const valid: Scenario[] = [];
  const invalid: InvalidScenario[] = [];
  const seen = new Set<string>();
  scenarios.forEach((raw, index) => {
    const id = typeof raw.id === 'string' ? raw.id : `${name}[${index}]`;
    const parsed = Scenario.safeParse(deepMerge(defaults, raw));
    if (!parsed.success) {
      invalid.push({ id, error: `scenario ${name}/${id}: ${formatIssues(parsed.error)}` });
    } else if (seen.has(parsed.data.id)) {
      invalid.push({ id, error: `scenario ${name}/${id}: id is used twice` });
    } else {
      seen.add(parsed.data.id);
      valid.push(parsed.data);
    }
  });
  return { name, scenarios: valid, invalid };
}

/** `a.b[2].c: message; …` — where and what, for every issue. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n ? '.' : ''}${String(p)}`)).join('') || '(root)'}: ${i.message}`)
    .join('; ');
}

export function deepMerge<T>(base: unknown, over: T): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The expectation that holds on a target with these capabilities and flavour. */
export function expectationFor(s: Scenario, flavour: string, capabilities: readonly string[]): Expectation {
  const meets = (c: Condition) =>
    (c.flavour === undefined || c.flavour === flavour) &&
    (c.has ?? []).every((x) => capabilities.includes(x)) &&
    (c.lacks ?? []).every((x) => !capabilities.includes(x));
  return s.variants.find((v) => meets(v.when))?.expect ?? s.expect;
}
