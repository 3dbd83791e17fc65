import * as z from 'zod';
import { EndpointSpec } from '../endpoints/spec.ts';
import { CapabilityName, effectiveCapabilities } from './capabilities.ts';
import { DEFAULT_FIPS_POLICY, FIPS_POLICY_NAMES, type FipsPolicy } from './fips-policy.ts';
import { isLocalServerOutcome, LOCAL_SERVER_EXPECTATIONS, LOCAL_SERVER_OUTCOMES, type LocalServerExpectation } from './local-server-model.ts';
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
    /** 5.4.8: the CA list for edge-to-edge HTTPS only (the vendor's "high" example sets it). */
    http_client_ca_certs: FileRef,
  })
  .partial()
  .strict();

/**
 * The EMS's local server (EMS-FACTS "The EMS's local HTTP server"); the port is the harness's
 * choice. Unset members are rendered as a platform-link scenario wants them: host the target's,
 * ssl and authenticate false.
 */
export const HttpServerSpec = z
  .object({
    host: z.string().min(1),
    ssl: z.boolean(),
    certificate: FileRef,
    private_key: FileRef,
    passphrase: SecretRef,
    authenticate: z.boolean(),
    user: z.string(),
    password: SecretRef,
  })
  .partial()
  .strict();
export type HttpServerSpec = z.infer<typeof HttpServerSpec>;

export const EmsSpec = z
  .object({
    certificates: CertificatesSpec.optional(),
    fips: z.object({ enabled: z.boolean() }).strict().optional(),
    http_server: HttpServerSpec.optional(),
    /** Other config.json groups, merged as given (ws_connection, logger …). */
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type EmsSpec = z.infer<typeof EmsSpec>;

const PLATFORM_EXPECTATIONS = [
  z
    .object({
      outcome: z.literal('connects'),
      /** When set, the negotiated suite (endpoint's observation) must be one of these. */
      cipherIn: z.array(z.string()).min(1).optional(),
      protocolIn: z.array(z.string()).min(1).optional(),
      /**
       * This connection means the target accepted weak crypto (a recorded policy, REQUIREMENTS.md
       * BASE-WEAK*, FIPS-ALGOS): it is reported as weak with this reason, never as holding.
       */
      weak: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ outcome: z.literal('refuses'), class: z.enum(FAILURE_CLASSES) }).strict(),
] as const;
export type PlatformExpectation = z.infer<(typeof PLATFORM_EXPECTATIONS)[number]>;
export const PLATFORM_OUTCOMES = ['connects', 'refuses'] as const;

/** One outcome: of the platform link (connects, refuses) or of the local server (local-server-model.ts). */
export const SingleExpectation = z.discriminatedUnion('outcome', [...PLATFORM_EXPECTATIONS, ...LOCAL_SERVER_EXPECTATIONS]);
export type SingleExpectation = PlatformExpectation | LocalServerExpectation;

/** Local-server scenarios only: every outcome in `of` must hold (the vendor's example configurations promise several things at once). */
const AllOf = z.object({ outcome: z.literal('all-of'), of: z.array(SingleExpectation).min(2) }).strict();
export type AllOf = z.infer<typeof AllOf>;

/** What a target must do: one outcome, or all of several (`all-of`). */
export const Expectation = z.discriminatedUnion('outcome', [...PLATFORM_EXPECTATIONS, ...LOCAL_SERVER_EXPECTATIONS, AllOf]);
export type Expectation = SingleExpectation | AllOf;

/** Where the spec allows more than one outcome: any member holds; the result says which one happened. */
export const ExpectationSet = z.object({ anyOf: z.array(Expectation).min(2) }).strict();
export type ExpectationSet = z.infer<typeof ExpectationSet>;

export const ExpectationSpec = z.union([Expectation, ExpectationSet]);
export type ExpectationSpec = z.infer<typeof ExpectationSpec>;

/** The single outcomes an expectation is made of (one, or those of an all-of). */
export function partsOf(e: Expectation): SingleExpectation[] {
  return e.outcome === 'all-of' ? e.of : [e];
}

export function isPlatformExpectation(e: Expectation): e is PlatformExpectation {
  return (PLATFORM_OUTCOMES as readonly string[]).includes(e.outcome);
}

/** Which targets a variant expectation applies to. */
export const Condition = z
  .object({
    has: z.array(CapabilityName).optional(),
    lacks: z.array(CapabilityName).optional(),
    flavour: z.enum(['openssl', 'axtls']).optional(),
    /** The FIPS policy the target's FIPS mode is judged against (its profile's, or the default). */
    fipsPolicy: z.enum(FIPS_POLICY_NAMES).optional(),
  })
  .strict();
export type Condition = z.infer<typeof Condition>;

export const Scenario = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case words joined by . or -'),
    title: z.string().min(1),
    requirements: z.array(z.enum(REQUIREMENT_IDS)).min(1),
    /**
     * Which link the expectation is about: the EMS ↔ platform connection, or the EMS's local server
     * as an LSR sees it (harness/lsr/; the platform link still has to come up). Its kinds must fit.
     */
    link: z.enum(['platform', 'local-server']).default('platform'),
    endpoint: EndpointSpec.default({ kind: 'node-tls', cert: 'leaf-valid' }),
    ems: EmsSpec.default({}),
    appKey: z.enum(['clear', 'encrypted']).default('clear'),
    /** Path form for config.json (CERT-PATHS); default is the target's own. */
    paths: z.enum(['posix', 'windows-escaped', 'windows-forward']).optional(),
    /** Host name the EMS connects to instead of the target's platformHost (CERT-HOST). */
    host: z.string().optional(),
    needs: z.array(CapabilityName).default([]),
    expect: ExpectationSpec,
    /** The first variant whose condition the target meets replaces `expect`. */
    variants: z.array(z.object({ when: Condition, expect: ExpectationSpec }).strict()).default([]),
    /** How long without decisive evidence before the verdict is HANG. */
    hangMs: z.number().int().positive().default(15_000),
  })
  .strict()
  .superRefine((s, ctx) => {
    checkFit(s.link, s.expect, ['expect'], ctx);
    s.variants.forEach((v, i) => checkFit(s.link, v.expect, ['variants', i, 'expect'], ctx));
  });
export type Scenario = z.infer<typeof Scenario>;

/** An expectation kind that does not fit the scenario's link is a malformed scenario (named by its field). */
function checkFit(link: 'platform' | 'local-server', spec: ExpectationSpec, path: PropertyKey[], ctx: z.RefinementCtx): void {
  const fits = link === 'local-server' ? isLocalServerOutcome : (o: string) => (PLATFORM_OUTCOMES as readonly string[]).includes(o);
  const kinds = link === 'local-server' ? [...LOCAL_SERVER_OUTCOMES, 'all-of'] : PLATFORM_OUTCOMES;
  const members: Array<[Expectation, PropertyKey[]]> = 'anyOf' in spec ? spec.anyOf.map((e, i) => [e, [...path, 'anyOf', i]]) : [[spec, path]];
  const parts = members.flatMap(([e, at]): Array<[Expectation, PropertyKey[]]> =>
    e.outcome === 'all-of' && link === 'local-server' ? e.of.map((x, i) => [x, [...at, 'of', i]]) : [[e, at]]);
  for (const [e, at] of parts) {
    if (fits(e.outcome)) continue;
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'outcome'],
      message: `"${e.outcome}" does not fit a ${link === 'local-server' ? 'local-server' : 'platform-link'} scenario (link: ${link}); it expects ${kinds.join(', ')}`,
    });
  }
}
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
  return flatten(error.issues, [])
    .map((i) => `${i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n ? '.' : ''}${String(p)}`)).join('') || '(root)'}: ${i.message}`)
    .join('; ');
}

type Issue = { path: PropertyKey[]; message: string; code?: string; errors?: Issue[][]; issues?: Issue[] };

/**
 * A value that fits no member of a union (an expectation or an expectation set) is explained by
 * the member it came closest to: the one whose issues lie deepest. A bad record key (a scenario id
 * in a divergence list) by what its own schema says, not zod's "Invalid key in record".
 */
function flatten(issues: readonly Issue[], prefix: PropertyKey[]): Issue[] {
  return issues.flatMap((i) => {
    const path = [...prefix, ...i.path];
    // Only a bad key carries its own `issues`, only a union its branches' `errors`.
    if (i.issues?.length) return flatten(i.issues, path);
    if (!i.errors?.length) return [{ ...i, path }];
    const depth = (branch: Issue[]) => Math.max(...branch.map((b) => b.path.length));
    const closest = i.errors.reduce((best, b) => (depth(b) > depth(best) ? b : best));
    return flatten(closest, path);
  });
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

/** What the variants look at: the target's build flavour, capabilities and FIPS policy. */
export interface ProfileFacts {
  flavour: string;
  capabilities: readonly string[];
  fipsPolicy?: FipsPolicy;
}

/**
 * The expectation that holds on a target: the first variant whose condition the target meets,
 * else the scenario's own; as its members (one, or the members of a set).
 */
export function expectationFor(s: Scenario, profile: ProfileFacts): Expectation[] {
  const capabilities = effectiveCapabilities(profile.capabilities);
  const policy = profile.fipsPolicy ?? DEFAULT_FIPS_POLICY;
  const meets = (c: Condition) =>
    (c.flavour === undefined || c.flavour === profile.flavour) &&
    (c.fipsPolicy === undefined || c.fipsPolicy === policy) &&
    (c.has ?? []).every((x) => capabilities.includes(x)) &&
    (c.lacks ?? []).every((x) => !capabilities.includes(x));
  return membersOf(s.variants.find((v) => meets(v.when))?.expect ?? s.expect);
}

/** The alternatives of an expectation: a set's members, else the one expectation (an allOf is one alternative). */
export function membersOf(e: ExpectationSpec): Expectation[] {
  return 'anyOf' in e ? e.anyOf : [e];
}
