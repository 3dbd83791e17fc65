import type { FailureClass } from './requirements.ts';

// One interface for every place a WS EMS runs: the local host (simulator or a vendor wsems),
// a Linux gateway over SSH, a Windows gateway over SSH. Drivers act; the profile only describes.

export type Flavour = 'openssl' | 'axtls';

/** How a target's config.json spells file paths (CERT-PATHS). */
export type PathStyle = 'posix' | 'windows-escaped' | 'windows-forward';

export interface ErrorMapEntry {
  /** Regular expression (source text) matched against one EMS log line. */
  pattern: string;
  /**
   * The failure class the line proves; 'handshake' for a generic TLS handshake failure whose
   * cause only the endpoint's side of the evidence can tell (e.g. TLS 1.2 handshake_failure
   * alert); 'infrastructure' for a line that says the environment, not the EMS, failed.
   */
  class: FailureClass | 'handshake' | 'infrastructure';
}

export interface TargetProfile {
  flavour: Flavour;
  os: 'linux' | 'windows';
  /** Capability names the scenarios ask for (hostname-check, tls13, fips, dh-min-bits:1024 …). */
  capabilities: string[];
  /** The target's own entries, tried before the C SDK's default error map (harness/ems/error-map.ts). */
  errorMap: ErrorMapEntry[];
  emsVersion?: string;
}

export interface EmsLine {
  at: number; // performance.now() when the harness received it
  text: string;
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
  /** The EMS's local REST answer to isConnected (EMS-FACTS: GET …/LocalEms/Properties/isConnected). */
  isConnected(): Promise<boolean>;
  /** Stops the EMS and everything it started; resolves when it is gone. */
  stop(): Promise<void>;
}

/** A file for a session directory; `secret` ones (keys) are readable by the owner only. */
export interface FileToPut {
  name: string;
  content: Buffer | string;
  secret?: boolean;
}

/**
 * One scenario's stay on a target: its own directory, removed (keys first) by `close`. The
 * render step asks for all of a scenario's files and all of its secrets at once: a gateway over
 * a WAN link pays a round trip per request waited for.
 */
export interface TargetSession {
  /** The session directory, native form on the target. */
  dir: string;
  /**
   * Copies files into the session directory, in one go; returns their native paths on the
   * target (`/…` or `C:/…`), in order. A driver may send them along with `start` (a gateway does).
   */
  putFiles(files: FileToPut[]): Promise<string[]>;
  /** The target EMS's own `-encrypt` output for each secret (opaque to the harness), in order; one request for all. */
  encryptAll(secrets: string[]): Promise<string[]>;
  /** A TCP port on the target for the EMS's local REST server. */
  restPort(): Promise<number>;
  /** Writes config.json into the session directory and starts the EMS with `-cfg` on it. */
  start(configJson: string): Promise<EmsProcess>;
  close(): Promise<void>;
}

export interface Target {
  id: string;
  profile: TargetProfile;
  pathStyle: PathStyle;
  /** Host name the EMS uses to reach the harness endpoints (what the platform leaf must match). */
  platformHost: string;
  /** Address the harness endpoints bind to so this target can reach them. */
  bindAddress: string;
  /** Scenarios at once on this target (a gateway runs one EMS: 1); unset = up to --jobs. */
  concurrency?: number;
  /**
   * The EMS runs elsewhere (a gateway): its scenarios cost this host little CPU, so `--jobs` (the
   * EMS processes on this host) does not bound them; `--gateways` bounds how many such targets run at once.
   */
  remote?: boolean;
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
