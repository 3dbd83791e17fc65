import * as z from 'zod';
import { didYouMean } from '../suggest.ts';

// Every capability a target profile may declare and a scenario may ask for (`needs`,
// `variants[].when.has/lacks`). One list, so a typo in an inventory or a scenario is an error
// rather than a silently different expectation. docs/target-profiles.md explains each one.
// The two tables are plain data: a new capability is one more row.

export interface CapabilityInfo {
  /** What a target that declares it does. */
  meaning: string;
}

/** Plain capability names. */
export const CAPABILITIES: Record<string, CapabilityInfo> = {
  'hostname-check': { meaning: 'checks CN/SAN against ws_servers[].host (later EMS releases; not C SDK 2.2.1)' },
  'windows-paths': { meaning: 'accepts d:\\\\dir\\\\file and d:/dir/file paths in config.json' },
  'posix-paths': { meaning: 'accepts forward-slash paths (a Linux EMS)' },
  'loopback-platform': { meaning: 'reaches the harness endpoints at 127.0.0.1' },
  'conformance-names': { meaning: 'resolves the host names of CONFORMANCE_NAMES to the harness endpoints (wildcard scenarios)' },
  tls13: { meaning: 'speaks TLS 1.3' },
  fips: { meaning: '"fips": {"enabled": true} works' },
  'legacy-tls': { meaning: 'completes TLS 1.0/1.1 handshakes' },
  'accepts-sha1-signatures': { meaning: 'informational: the lab knows it accepts SHA-1-signed platform chains; the result is recorded as weak either way' },
  'accepts-rsa1024': { meaning: 'informational: the lab knows it accepts RSA keys under 2048 bits; the result is recorded as weak either way' },
  chacha20: { meaning: 'has ChaCha20-Poly1305 suites (OpenSSL 1.1.0 and later; implied by openssl:1.1 and later)' },
  'cipher-seclevel': { meaning: 'understands @SECLEVEL=n in cipher_suite and applies security levels (OpenSSL 1.1.0 and later; implied by openssl:1.1 and later)' },
};

/**
 * The names a target with `conformance-names` resolves to the harness's endpoints, as a lab
 * gateway's /etc/hosts does: what the wildcard `*.conformance.test` must match (one label) and must
 * not (two labels, the bare domain), and a name a partial wildcard `plat*` does not fit.
 */
export const CONFORMANCE_NAMES = [
  'platform.conformance.test', 'sub.platform.conformance.test', 'conformance.test', 'other.conformance.test',
] as const;

/** Capabilities with a parameter, written `<name>:<value>`; `form` is how an error message shows it. */
export const PARAMETERISED: Record<string, CapabilityInfo & { value: RegExp; form: string; example: string }> = {
  'dh-min-bits': { meaning: 'smallest ephemeral DH group accepted, in bits', value: /^\d+$/, form: 'dh-min-bits:N', example: 'dh-min-bits:1024' },
  openssl: { meaning: 'the OpenSSL version family linked in', value: /^\d+\.\d+(\.\d+)?$/, form: 'openssl:X.Y', example: 'openssl:3.0' },
};

/**
 * What every build of an OpenSSL line has, implied by its `openssl:X.Y` capability so that an
 * inventory naming the line need not list them: 1.1.0 brought ChaCha20-Poly1305 and security levels.
 */
export const IMPLIED_BY_OPENSSL: Array<{ since: [number, number]; implies: string[] }> = [
  { since: [1, 1], implies: ['chacha20', 'cipher-seclevel'] },
];

/** The declared capabilities and what their `openssl:X.Y` implies. */
export function effectiveCapabilities(declared: readonly string[]): string[] {
  const out = new Set(declared);
  for (const c of declared) {
    const m = /^openssl:(\d+)\.(\d+)/.exec(c);
    if (!m) continue;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    for (const rule of IMPLIED_BY_OPENSSL) {
      if (major > rule.since[0] || (major === rule.since[0] && minor >= rule.since[1])) rule.implies.forEach((x) => out.add(x));
    }
  }
  return [...out];
}

/** Why `name` is not a capability (a near miss named, what exists listed); undefined when it is one. */
export function capabilityProblem(name: string): string | undefined {
  if (name in CAPABILITIES) return undefined;
  const at = name.indexOf(':');
  const form = at < 0 ? undefined : PARAMETERISED[name.slice(0, at)];
  if (form) return form.value.test(name.slice(at + 1)) ? undefined : `capability "${name}": ${name.slice(0, at)} takes a value written ${form.form} (e.g. ${form.example})`;
  const near = at < 0
    ? didYouMean(name, [...Object.keys(CAPABILITIES), ...Object.keys(PARAMETERISED).map((p) => `${p}:`)])
    : didYouMean(name.slice(0, at), Object.keys(PARAMETERISED)).replace(/"([^"]+)"/, (_, p: string) => `"${p}${name.slice(at)}"`);
  return `unknown capability "${name}"${near}; known: ${knownCapabilities()}`;
}

/** Every plain name and every parameterised form, for messages. */
export function knownCapabilities(): string {
  return [...Object.keys(CAPABILITIES), ...Object.values(PARAMETERISED).map((p) => `${p.form} (e.g. ${p.example})`)].join(', ');
}

/** A capability name in an inventory or a scenario: an unknown one is an error naming the near miss. */
export const CapabilityName = z.string().superRefine((name, ctx) => {
  const problem = capabilityProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
