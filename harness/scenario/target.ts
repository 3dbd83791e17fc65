import type { Duplex } from 'node:stream';
import type { FipsPolicy } from './fips-policy.ts';
import type { LsrWarning } from './local-server-model.ts';
import type { PortRange } from '../endpoints/ports.ts';
import type { FailureClass } from './requirements.ts';

// One interface for every place a WS EMS runs: the local host (simulator or a vendor wsems),
// a Linux gateway over SSH, a Windows gateway over SSH. Drivers act; the profile only describes.

export type Flavour = 'openssl' | 'axtls';

/** How a target's config.json spells file paths (CERT-PATHS). */
export type PathStyle = 'posix' | 'windows-escaped' | 'windows-forward';

/**
 * What an error-map line proves besides a failure class (docs/target-profiles.md "Error maps"):
 * - `handshake`: the TLS handshake failed; only the platform's side (the endpoint's alert or
 *   exception text) tells why.
 * - `connect-failed`: the connection failed after the handshake (read errors, the WebSocket
 *   upgrade); decided at once, from the platform's side when it tells why, else unattributed.
 * - `socket`: no TCP connection; BROKEN (the EMS was given an address it cannot reach) when the
 *   endpoint saw no connection either.
 * - `refused`: the EMS refused, and the line does not say why: REFUSED, unattributed, at once.
 * - `context`: a known line that decides nothing on its own (kept out of triage).
 * - `infrastructure`: the environment, not the EMS, failed: BROKEN.
 */
export const ERROR_MAP_PSEUDO_CLASSES = ['handshake', 'connect-failed', 'socket', 'refused', 'context', 'infrastructure'] as const;
export type ErrorMapPseudoClass = (typeof ERROR_MAP_PSEUDO_CLASSES)[number];

export interface ErrorMapEntry {
  /** Regular expression (source text) matched against one EMS log line. */
  pattern: string;
  /** The failure class the line proves, or what else it proves (ERROR_MAP_PSEUDO_CLASSES). */
  class: FailureClass | ErrorMapPseudoClass;
  /**
   * Where an inventory entry was written (`file: targets[i].errorMap[j]`), for the report of
   * entries that never matched. Unset for entries a driver adds of its own.
   */
  origin?: string;
}

/** One of the EMS's insecure-setting warnings (LSR-WARN) as a target's build words it (docs/target-profiles.md "Warning maps"). */
export interface WarningEntry {
  /** Regular expression (source text) matched against one EMS log line. */
  pattern: string;
  warning: LsrWarning;
  /** Where an inventory entry was written, as for error-map entries. */
  origin?: string;
}

export interface TargetProfile {
  flavour: Flavour;
  os: 'linux' | 'windows';
  /** Capability names the scenarios ask for (hostname-check, tls13, fips, dh-min-bits:1024 …). */
  capabilities: string[];
  /** The target's own entries, tried before the C SDK's default error map (harness/ems/error-map.ts). */
  errorMap: ErrorMapEntry[];
  emsVersion?: string;
  /** The FIPS policy its FIPS mode is judged against (harness/scenario/fips-policy.ts); unset: the default. */
  fipsPolicy?: FipsPolicy;
  /**
   * Ports the platform endpoints listen on (and a reverse tunnel forwards), when the inventory
   * overrides the default: below 32768 and the kernel's ephemeral range (harness/endpoints/ports.ts).
   */
  endpointPorts?: PortRange;
  /** The address rendered as http_server.host, which the REST check then dials (default 127.0.0.1). */
  restHost?: '127.0.0.1' | '::1';
  /** The target's own warning lines, tried before the harness's default wording (harness/ems/warnings.ts). */
  warningMap?: WarningEntry[];
}

export interface EmsLine {
  at: number; // performance.now() when the harness received it
  text: string;
  /** Which output of the EMS it came on (stdout, stderr, a service log), when the driver knows: a SECRET-NOLOG finding names it. */
  stream?: string;
}

export interface EmsExit {
  at: number;
  code: number | null;
  signal: string | null;
}

/** A running EMS. Lines and the exit are pushed to the listeners as they happen. */
export interface EmsProcess {
  onLine(listener: (line: EmsLine) => void): void;
  onExit(listener: (exit: EmsExit) => void): void;
  /** Stops the EMS and everything it started; resolves when it is gone. */
  stop(): Promise<void>;
}

/** One scenario's stay on a target: its own directory, removed (keys first) by `close`. */
export interface TargetSession {
  /** The session directory, native form on the target. */
  dir: string;
  /** Copies a file into the session directory; returns its native path on the target (`/…` or `C:/…`). */
  putFile(name: string, content: Buffer | string, opts?: { secret?: boolean }): Promise<string>;
  /** The target EMS's own `-encrypt` output for a secret (opaque to the harness). */
  encrypt(secret: string): Promise<string>;
  /** A TCP port on the target for the EMS's local REST server, free on `host` (the http_server.host rendered). */
  restPort(host?: string): Promise<number>;
  /** Writes config.json into the session directory and starts the EMS with `-cfg` on it. */
  start(configJson: string): Promise<EmsProcess>;
  /**
   * A TCP connection to host:port made where the EMS runs, as a local client there (the LSR) would
   * make it: its loopback is the EMS's (a socket on this host, an SSH forward from a gateway). The
   * harness speaks HTTP and TLS over it (harness/lsr/). Rejects with DialRefused when nothing listens there.
   */
  dial(host: string, port: number): Promise<Duplex>;
  /** How dial reaches the EMS's host, in words, for the evidence. */
  readonly dialRoute: string;
  close(): Promise<void>;
}

/** Nothing listens at the address dialled (connection refused where the EMS runs): evidence about the EMS, not infrastructure. */
export class DialRefused extends Error {
  override name = 'DialRefused';
}

export interface Target {
  id: string;
  profile: TargetProfile;
  pathStyle: PathStyle;
  /** Host name the EMS uses to reach the harness endpoints (what the platform leaf must match). */
  platformHost: string;
  /** Address the harness endpoints bind to so this target can reach them. */
  bindAddress: string;
  /**
   * How the EMS reaches the endpoints, in words, for the diagnosis when it cannot (a reverse SSH
   * tunnel, a route to the bind address); unset: the EMS runs on this host.
   */
  platformRoute?: string;
  /** Scenarios at once on this target (a gateway runs one EMS: 1); unset = up to --jobs. */
  concurrency?: number;
  /** Values the driver holds that no report may show (SSH passwords, key passphrases). */
  secrets?: string[];
  /**
   * Before the target's first scenario (drivers that need it): reach the target, restore what a
   * crashed run left, check it can run the EMS. Rejects with an InfrastructureError saying why.
   */
  connect?(): Promise<void>;
  openSession(scenarioId: string): Promise<TargetSession>;
  /** After the run: put the target back as it was found. */
  close(): Promise<void>;
  /** Puts back what an interrupted run left on the target (`npm run restore`); says what it did. */
  restore?(): Promise<string[]>;
}

/** Infrastructure failed (not the product): the scenario is BROKEN, not FAILED. */
export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
}
