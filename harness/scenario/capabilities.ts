// Every capability a target profile may declare and a scenario may ask for (`needs`,
// `variants[].when.has/lacks`). One list, so a typo in an inventory or a scenario is an error
// rather than a silently different expectation. docs/target-profiles.md explains each one.

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
  'accepts-sha1-signatures': { meaning: 'accepts SHA-1-signed platform chains (policy)' },
  'accepts-rsa1024': { meaning: 'accepts RSA keys under 2048 bits in the platform chain (policy)' },
};

/**
 * The names a target with `conformance-names` resolves to the harness's endpoints, as a lab
 * gateway's /etc/hosts does: what the wildcard `*.conformance.test` must match (one label) and must
 * not (two labels, the bare domain), and a name a partial wildcard `plat*` does not fit.
 */
export const CONFORMANCE_NAMES = [
  'platform.conformance.test', 'sub.platform.conformance.test', 'conformance.test', 'other.conformance.test',
] as const;

/** Capabilities with a parameter, written `<name>:<value>`. */
export const PARAMETERISED: Record<string, CapabilityInfo & { value: RegExp; example: string }> = {
  'dh-min-bits': { meaning: 'smallest ephemeral DH group accepted, in bits', value: /^\d+$/, example: 'dh-min-bits:1024' },
  openssl: { meaning: 'the OpenSSL version family linked in', value: /^\d+\.\d+(\.\d+)?$/, example: 'openssl:3.0' },
};

/** Whether `name` is a known capability (plain, or a parameterised one with a well-formed value). */
export function isKnownCapability(name: string): boolean {
  if (name in CAPABILITIES) return true;
  const at = name.indexOf(':');
  if (at < 0) return false;
  const form = PARAMETERISED[name.slice(0, at)];
  return form !== undefined && form.value.test(name.slice(at + 1));
}
