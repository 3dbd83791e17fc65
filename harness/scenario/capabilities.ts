import { z } from 'zod';
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
  tls13: { meaning: 'speaks TLS 1.3' },
  fips: { meaning: '"fips": {"enabled": true} works' },
  'legacy-tls': { meaning: 'completes TLS 1.0/1.1 handshakes' },
  'accepts-sha1-signatures': { meaning: 'accepts SHA-1-signed platform chains (policy)' },
  'accepts-rsa1024': { meaning: 'accepts RSA keys under 2048 bits in the platform chain (policy)' },
};

/** Capabilities with a parameter, written `<name>:<value>`; `form` is how an error message shows it. */
export const PARAMETERISED: Record<string, CapabilityInfo & { value: RegExp; form: string; example: string }> = {
  'dh-min-bits': { meaning: 'smallest ephemeral DH group accepted, in bits', value: /^\d+$/, form: 'dh-min-bits:N', example: 'dh-min-bits:1024' },
  openssl: { meaning: 'the OpenSSL version family linked in', value: /^\d+\.\d+(\.\d+)?$/, form: 'openssl:X.Y', example: 'openssl:3.0' },
};

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
