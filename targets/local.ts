import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EmsEvents } from './ems-events.ts';
import { freePort, releasePort } from '../harness/endpoints/ports.ts';
import { LOOPBACKS } from '../harness/lsr/probe.ts';
import { checkPrivateHosts, needsPrivateHosts, privateHostsText, withPrivateHosts } from './private-hosts.ts';
import {
  DialRefused, InfrastructureError, type EmsProcess, type Target, type TargetProfile, type TargetSession,
} from '../harness/scenario/target.ts';

// Drives any wsems-compatible executable on the harness host: the simulator by default, or a
// vendor wsems installed here. Each scenario gets its own 0700 directory, removed at the end.

export interface LocalTargetOptions {
  id: string;
  executable: string;
  profile: TargetProfile;
  /** Extra environment for the EMS (e.g. the simulator's flavour switch). */
  env?: Record<string, string>;
  platformHost?: string;
}

/** Temp directories of this harness process start with this (its pid: a leak check sees only its own). */
export const SESSION_PREFIX = `wsems-session-${process.pid}-`;
const STOP_GRACE_MS = 3000;

export class LocalTarget implements Target {
  readonly id: string;
  readonly profile: TargetProfile;
  readonly pathStyle = 'posix' as const;
  readonly platformHost: string;
  readonly bindAddress = '127.0.0.1';
  readonly #opts: LocalTargetOptions;

  constructor(opts: LocalTargetOptions) {
    this.#opts = opts;
    this.id = opts.id;
    this.profile = opts.profile;
    this.platformHost = opts.platformHost ?? 'localhost';
  }

  async openSession(scenarioId: string): Promise<TargetSession> {
    const dir = await mkdtemp(join(tmpdir(), `${SESSION_PREFIX}${scenarioId.slice(0, 40)}-`));
    await chmod(dir, 0o700);
    return new LocalSession(dir, this.#opts, this.bindAddress);
  }

  async close(): Promise<void> {}
}

class LocalSession implements TargetSession {
  readonly dialRoute = 'a TCP connection on the harness host (the EMS runs here)';
  readonly #running = new Set<LocalEms>();
  readonly #ports: number[] = [];

  constructor(
    readonly dir: string,
    private readonly opts: LocalTargetOptions,
    private readonly bindAddress: string,
  ) {}

  async putFile(name: string, content: Buffer | string, opts?: { secret?: boolean }): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, content, { mode: opts?.secret ? 0o600 : 0o644 });
    return path;
  }

  async encrypt(secret: string): Promise<string> {
    const result = await this.#exec(['-encrypt', secret]);
    const out = result.stdout.trim();
    if (result.exitCode !== 0 || !out) {
      throw new Error(`${this.opts.executable} -encrypt exited with ${result.exitCode} and printed ${out ? 'output' : 'nothing'}`);
    }
    return out.split('\n').pop()!.trim();
  }

  /**
   * Free on every loopback address a local-server scenario dials, not only on `host`: it also dials
   * the addresses the EMS must not listen on, and a listener of someone else's there would look
   * like the EMS's. Only loopbacks are bound (never a wildcard); a host without IPv6 gets `host` alone.
   */
  async restPort(host?: string): Promise<number> {
    const port = await freePort([...new Set([...(host ? [host] : []), ...LOOPBACKS])]).catch(() => freePort(host));
    this.#ports.push(port);
    return port;
  }

  dial(host: string, port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const failed = (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ECONNREFUSED' ? new DialRefused(`nothing listens on ${host}:${port} (ECONNREFUSED)`) : new InfrastructureError(`cannot connect to ${host}:${port}: ${e.message}`));
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.off('error', failed);
        resolve(socket);
      });
    });
  }

  async start(configJson: string): Promise<EmsProcess> {
    const cfg = await this.putFile('config.json', configJson, { secret: true });
    const { command, args } = await this.#command(['-cfg', cfg], platformHostOf(configJson));
    const child = spawn(command, args, {
      cwd: this.dir,
      env: this.#env(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so stop() reaches anything it started
    });
    const ems = new LocalEms(child);
    this.#running.add(ems);
    await ems.spawned();
    return ems;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#running].map((e) => e.stop()));
    this.#ports.forEach(releasePort);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The EMS command line; for a conformance name (capability conformance-names), in a mount namespace with its own /etc/hosts. */
  async #command(args: string[], host: string | undefined): Promise<{ command: string; args: string[] }> {
    if (!this.opts.profile.capabilities.includes('conformance-names') || !needsPrivateHosts(host)) {
      return { command: this.opts.executable, args };
    }
    const hosts = await this.putFile('hosts', await privateHostsText(this.bindAddress));
    await checkPrivateHosts(this.opts.id, hosts);
    return withPrivateHosts(hosts, this.opts.executable, args);
  }

  /** Runs the executable to its end: its exit code and standard output. */
  #exec(args: string[]): Promise<{ exitCode: number | null; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.opts.executable, args, { env: this.#env(), stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.once('error', (e) => reject(new InfrastructureError(`cannot run ${this.opts.executable}: ${e.message}`)));
      child.once('close', (exitCode) => resolve({ exitCode, stdout }));
    });
  }

  /** The harness's environment with the target's additions (a child_process spawn, not execa: it costs less per start). */
  #env(): NodeJS.ProcessEnv {
    return this.opts.env ? { ...process.env, ...this.opts.env } : process.env;
  }
}

class LocalEms extends EmsEvents implements EmsProcess {
  readonly #done: Promise<void>;
  constructor(private readonly child: ChildProcess) {
    super();
    for (const [name, stream] of [['stdout', child.stdout], ['stderr', child.stderr]] as const) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (text) => this.emitLine(text, name));
    }
    // 'close': the process has exited and both streams are read to their end, every line emitted.
    this.#done = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve(this.emitExit(code, signal)));
      child.once('error', () => resolve()); // never started: spawned() reports it
    });
  }

  /** Rejects with an InfrastructureError when the executable cannot be started at all. */
  spawned(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.once('spawn', () => resolve());
      this.child.once('error', (e) => reject(new InfrastructureError(`cannot start the EMS: ${e.message}`)));
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const pid = this.child.pid;
    if (pid !== undefined) signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => pid !== undefined && signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
    await this.#done;
    clearTimeout(timer);
  }
}

/** The host the EMS dials first (ws_servers[0].host). */
function platformHostOf(configJson: string): string | undefined {
  const host = (JSON.parse(configJson) as { ws_servers?: Array<{ host?: unknown }> }).ws_servers?.[0]?.host;
  return typeof host === 'string' ? host : undefined;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
