import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import {
  DialRefused, InfrastructureError, type EmsProcess, type ErrorMapEntry, type PathStyle, type Target, type TargetProfile, type TargetSession,
} from '../../harness/scenario/target.ts';
import { EmsEvents } from '../ems-events.ts';
import { SshConnection, type Spawned, type SshOptions } from './connection.ts';
import { pinHostKey } from './host-key.ts';
import { beginJournal, putBackFiles, readJournal, restoreFromJournal, type Journal, type JournalOps, type JournalPaths } from './journal.ts';
import type { Platform } from './schema.ts';

// What every gateway reached over SSH has in common, whatever its OS: one connection per run
// with the host key pinned, a lock so two harness runs never borrow the same gateway, the
// restore journal written before the first change and replayed at the end (or by the next
// run after a crash), one scenario at a time in its own directory, the EMS's log streamed
// back, its REST status through a forwarded port, and an optional reverse tunnel. The OS
// drivers (linux.ts, windows.ts) supply the commands and the start modes.

/** Lines the drivers themselves write into an EMS log: the environment failed, not the EMS. */
export const HARNESS_LINE = 'harness: ';
export const GATEWAY_ERROR_MAP: ErrorMapEntry[] = [{ pattern: `^${HARNESS_LINE}`, class: 'infrastructure' }];

export interface GatewayConfig {
  id: string;
  inventoryFile: string;
  profile: TargetProfile;
  pathStyle: PathStyle;
  platform: Platform;
  ssh: Omit<SshOptions, 'targetId' | 'inventoryFile' | 'onLost' | 'acceptNew'>;
  /** Native path of the harness's directory on the gateway. */
  workDir: string;
  installDir: string;
  /** Native path of the EMS executable. */
  executable: string;
  acceptNewHostKey: boolean;
}

/** Service control for the journal and the service start modes. */
export interface ServiceControl {
  name: string;
  running(): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** How one start mode runs the EMS. */
export interface Launcher {
  /** Native paths outside the session directory that this mode overwrites (journaled). */
  readonly changes: string[];
  readonly service?: ServiceControl;
  /** Where the session's config.json goes (native). */
  configPath(sessionDir: string): string;
  /** Starts the EMS on the config already written to configPath. */
  start(sessionDir: string, configPath: string): Promise<RemoteRun>;
  /** Checks, before the first scenario, what this mode needs on the gateway. */
  preflight(): Promise<void>;
}

/** A started EMS as a launcher hands it over: output streams, the exit, how to stop it. */
export interface RemoteRun {
  streams: Readable[];
  /** What each stream is, for a SECRET-NOLOG finding (default: stdout, stderr). */
  streamNames?: readonly string[];
  exit: Promise<{ code: number | null; signal: string | null }>;
  /** Stops it politely, forcibly after a grace period; resolves when it is gone. */
  stop(): Promise<void>;
}

/** How long a polite stop may take before the launcher forces it. */
export const STOP_GRACE_MS = 5000;
/** How often a service's (or task's) state is read while its EMS runs: its exit is evidence. */
const STATE_POLL_MS = 250;

/**
 * How to be sure every line an EMS logged before it exited by itself has been read: the log
 * file's size then (the follower streams it byte for byte from `from`), or the line the service
 * manager itself writes last about the unit.
 */
export type Drain = { logSize(): Promise<number>; from: number } | { lastLine: RegExp };

/**
 * An EMS that a service manager (or the task scheduler) runs: its log comes from a follow
 * channel, its exit is seen by polling the manager, stopping it is the manager's job. An exit
 * is reported only once the log up to it has been read (a start-up refusal is in its last line).
 */
export function managedRun(opts: {
  follow: Spawned;
  running(): Promise<boolean>;
  /** The main process's exit code, when the manager knows it. */
  exitCode?(): Promise<number | null>;
  stop(): Promise<void>;
  /** Ends the follow channel (and so what it runs on the gateway). */
  endFollow(): void;
  drain: Drain;
}): RemoteRun {
  let stopped = false;
  let bytes = 0;
  let tail = '';
  let progress: (() => void) | undefined;
  const out = new PassThrough();
  opts.follow.on('data', (d: Buffer) => {
    bytes += d.length;
    tail = (tail + d.toString('utf8')).slice(-4096);
    out.write(d);
    progress?.();
  });
  let followEnded = false;
  // 'end' comes after the last 'data' (unlike the channel's close, which may come first).
  opts.follow.once('end', () => {
    followEnded = true;
    out.end();
    progress?.();
  });
  const caughtUp = async (): Promise<void> => {
    const drain = opts.drain;
    const target = 'logSize' in drain ? (await drain.logSize()) - drain.from : 0;
    const done = () => ('logSize' in drain ? bytes >= target : drain.lastLine.test(tail)) || followEnded;
    while (!done()) await new Promise<void>((r) => (progress = r));
    progress = undefined;
  };
  const exit = (async () => {
    while (!stopped && (await opts.running().catch(() => false))) await new Promise((r) => setTimeout(r, STATE_POLL_MS));
    if (!stopped) await caughtUp().catch(() => undefined);
    const code = !stopped && opts.exitCode ? await opts.exitCode().catch(() => null) : null;
    opts.endFollow();
    return { code, signal: null };
  })();
  return {
    streams: [out, opts.follow.stderr],
    streamNames: ['service log', 'stderr'],
    exit,
    stop: async () => {
      stopped = true;
      progress?.();
      await opts.stop();
      await exit;
    },
  };
}

export abstract class GatewayTarget implements Target {
  readonly id: string;
  readonly profile: TargetProfile;
  readonly pathStyle: PathStyle;
  readonly platformHost: string;
  readonly bindAddress: string;
  readonly platformRoute: string;
  /** One scenario at a time: a gateway runs one EMS. */
  readonly concurrency = 1;
  readonly secrets: string[];
  protected conn?: SshConnection;
  #lost?: string;
  #lock?: { release(): Promise<void> };
  #journal?: Journal;
  #launcher?: Launcher;
  readonly #running = new Set<RemoteEms>();

  constructor(readonly config: GatewayConfig) {
    this.id = config.id;
    // The EMS's own TCP connect failure is the default map's `socket` line: BROKEN with the route below.
    this.profile = { ...config.profile, errorMap: [...GATEWAY_ERROR_MAP, ...config.profile.errorMap] };
    this.pathStyle = config.pathStyle;
    this.platformHost = 'host' in config.platform ? config.platform.host : 'localhost';
    this.bindAddress = 'bind' in config.platform ? config.platform.bind : '127.0.0.1';
    this.platformRoute = 'tunnel' in config.platform
      ? `a reverse SSH tunnel: the gateway's localhost:<port> leads to this host's ${this.bindAddress}:<port> (platform in ${config.inventoryFile})`
      : `the network: the gateway must resolve ${this.platformHost} to this host's ${this.bindAddress} and reach it (platform in ${config.inventoryFile})`;
    this.secrets = [config.ssh.auth.password, config.ssh.auth.passphrase].filter((s): s is string => !!s);
  }

  // --- what the OS drivers supply ------------------------------------------------------------
  /** Native path → the path SFTP wants. */
  abstract sftpPath(native: string): string;
  abstract join(dir: string, ...names: string[]): string;
  /** A command that prints LOCKED and holds the lock until its stdin closes. */
  protected abstract lockCommand(lockFile: string): string;
  /** A command that prints the first line the gateway reads from a TCP connection to host:port; exit 100 when it has no tool to try. */
  protected abstract probeCommand(host: string, port: number): string;
  /** The TCP ports the gateway listens on. */
  protected abstract listeningPorts(conn: SshConnection): Promise<number[]>;
  protected abstract encryptCommand(secret: string): string;
  protected abstract removeTreeCommand(dir: string): string;
  /** A command that ends EMS processes started under runsDir, removes its directories and prints one line per thing done. */
  protected abstract clearRunsCommand(runsDir: string): string;
  /** A command that exits 0 when the executable is there and runnable, printing why not otherwise. */
  protected abstract executableCheckCommand(): string;
  /** Creates a session directory only the login user can read. */
  protected abstract makePrivateDir(dir: string): Promise<void>;
  protected abstract makeLauncher(conn: SshConnection): Launcher;
  /** Native path in the form putFile returns (`/…` or `C:/…`). */
  abstract reportPath(native: string): string;

  // --- the Target interface -------------------------------------------------------------------
  /** Before the first scenario: connect, lock, restore a crashed run, check, journal. */
  async connect(): Promise<void> {
    const conn = await this.#open();
    try {
      const restored = await this.#restoreIfJournaled(conn);
      if (restored.length) console.error(`${this.id}: an earlier run did not finish; restored the gateway from its journal: ${restored.join('; ')}`);
      await this.#checkExecutable(conn);
      await this.#launcher!.preflight();
      if ('host' in this.config.platform) await this.#probePlatform(conn);
      this.#journal = await beginJournal(this.journalOps(conn), this.#journalPaths(), this.id, this.#launcher!.changes);
    } catch (e) {
      await this.#disconnect();
      throw e;
    }
  }

  async openSession(scenarioId: string): Promise<TargetSession> {
    if (this.#lost) throw new InfrastructureError(`${this.#lost} (earlier in this run; the target's remaining scenarios cannot run)`);
    if (!this.conn || !this.#journal) throw new InfrastructureError(`${this.id}: not connected (connect() was not called or failed)`);
    const dir = this.join(this.config.workDir, 'runs', `${scenarioId.slice(0, 40)}-${randomBytes(3).toString('hex')}`);
    await this.makePrivateDir(dir);
    return new GatewaySession(this, this.conn, this.#launcher!, this.#journal, dir);
  }

  /** After the run: put everything back, release the lock, disconnect. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#running].map((e) => e.stop()));
    if (!this.#journal) return this.#disconnect();
    let conn = this.conn;
    if (this.#lost) {
      // The run lost the gateway; one new connection to put it back, else the journal waits.
      await this.#disconnect();
      conn = await this.#open().catch((e: Error) => {
        throw new InfrastructureError(`${this.id}: cannot restore the gateway (${e.message}); its journal stays there: run npm run restore -- --target ${this.id}`);
      });
    }
    try {
      await restoreFromJournal(this.journalOps(conn!), this.#journalPaths(), this.#journal);
      this.#journal = undefined;
    } finally {
      await this.#disconnect();
    }
  }

  /** `npm run restore`: finds a journal left by a crashed run and puts the gateway back. */
  async restore(): Promise<string[]> {
    const conn = await this.#open();
    try {
      const done = await this.#restoreIfJournaled(conn);
      return done.length ? done : ['no journal on the gateway: nothing to restore'];
    } finally {
      await this.#disconnect();
    }
  }

  // --- internals, used by the session ---------------------------------------------------------
  track(ems: RemoteEms): void {
    this.#running.add(ems);
  }

  untrack(ems: RemoteEms): void {
    this.#running.delete(ems);
  }

  get lostReason(): string | undefined {
    return this.#lost;
  }

  async encrypt(conn: SshConnection, secret: string): Promise<string> {
    const r = await conn.exec(this.encryptCommand(secret));
    const out = r.stdout.trim().split(/\r?\n/).pop()?.trim();
    if (r.code !== 0 || !out) throw new InfrastructureError(`${this.id}: ${this.config.executable} -encrypt exited with ${r.code ?? r.signal} and printed ${out ? 'output' : 'nothing'}${r.stderr.trim() ? `: ${r.stderr.trim().split(/\r?\n/).pop()}` : ''}`);
    return out;
  }

  /** A port nothing listens on, in a range away from the usual services. */
  async freePort(conn: SshConnection): Promise<number> {
    const busy = new Set(await this.listeningPorts(conn));
    for (;;) {
      const port = 20000 + Math.floor(Math.random() * 10000);
      if (!busy.has(port)) return port;
    }
  }

  /** A session directory holds only files: SFTP removes them; anything else falls back to the OS's own removal. */
  async removeTree(conn: SshConnection, dir: string): Promise<void> {
    const sftpDir = this.sftpPath(dir);
    const entries = await conn.readdir(sftpDir).catch(() => undefined);
    if (entries && !entries.some((e) => e.dir)) {
      for (const e of entries) await conn.unlink(`${sftpDir}/${e.name}`);
      if (await conn.rmdir(sftpDir).then(() => true, () => false)) return;
    }
    await conn.run(this.removeTreeCommand(dir), `remove ${dir}`);
  }

  async #open(): Promise<SshConnection> {
    this.#lost = undefined;
    const conn = await SshConnection.open({
      ...this.config.ssh,
      targetId: this.id,
      inventoryFile: this.config.inventoryFile,
      ...(this.config.acceptNewHostKey ? { acceptNew: (seen: string) => pinHostKey(this.config.inventoryFile, this.id, seen) } : {}),
      onLost: (reason) => {
        this.#lost = reason;
        for (const ems of this.#running) ems.lostConnection(reason);
      },
    });
    if (conn.pinned) console.error(`${this.id}: first contact: ${conn.pinned}`);
    this.conn = conn;
    try {
      await conn.mkdirp(this.sftpPath(this.join(this.config.workDir, 'runs')), 0o700);
      await conn.mkdirp(this.sftpPath(this.config.workDir), 0o700);
      this.#lock = await this.#acquireLock(conn);
    } catch (e) {
      await this.#disconnect();
      throw e;
    }
    this.#launcher = this.makeLauncher(conn);
    return conn;
  }

  async #disconnect(): Promise<void> {
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release().catch(() => undefined);
    await this.conn?.close();
    this.conn = undefined;
  }

  async #acquireLock(conn: SshConnection): Promise<{ release(): Promise<void> }> {
    const lockFile = this.join(this.config.workDir, 'lock');
    const ch = await conn.spawn(this.lockCommand(lockFile));
    const out: string[] = [];
    const locked = await new Promise<boolean>((resolve) => {
      ch.on('data', (d: Buffer) => {
        out.push(d.toString());
        if (out.join('').includes('LOCKED')) resolve(true);
      });
      ch.stderr.on('data', (d: Buffer) => out.push(d.toString()));
      void ch.exited.then(() => resolve(false));
    });
    if (!locked) {
      throw new InfrastructureError(`${this.id}: the gateway is busy: another harness run holds ${lockFile}${out.join('').trim() ? ` (${out.join('').trim()})` : ''}`);
    }
    return {
      // EOF ends the holder on the gateway; a lost connection has ended it already.
      release: async () => {
        if (conn.lost) return;
        ch.end();
        await ch.exited;
      },
    };
  }

  async #restoreIfJournaled(conn: SshConnection): Promise<string[]> {
    const ops = this.journalOps(conn);
    const journal = await readJournal(ops, this.#journalPaths()).catch((e: Error) => {
      throw new InfrastructureError(`${this.id}: ${e.message}`);
    });
    if (!journal) return [];
    const done = await restoreFromJournal(ops, this.#journalPaths(), journal);
    return [`journal of ${journal.by.host} pid ${journal.by.pid} from ${journal.createdAt}`, ...done];
  }

  async #checkExecutable(conn: SshConnection): Promise<void> {
    const r = await conn.exec(this.executableCheckCommand());
    if (r.code !== 0) throw new InfrastructureError(`${this.id}: the EMS executable ${this.config.executable} is missing or cannot run on the gateway${said(r.stdout + r.stderr)}`);
  }

  /**
   * The gateway must reach the endpoints' address before any verdict can mean anything. The
   * listener sends a token: reading it back proves the gateway reached this listener, not just
   * some port.
   */
  async #probePlatform(conn: SshConnection): Promise<void> {
    const token = `wsems-probe-${randomBytes(8).toString('hex')}`;
    const server = createServer((s) => s.end(`${token}\n`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new InfrastructureError(`${this.id}: cannot listen on ${this.bindAddress} (platform.bind in ${this.config.inventoryFile}): ${e.message}`)));
      server.listen(0, this.bindAddress, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await conn.exec(this.probeCommand(this.platformHost, port));
      if (r.code === 100) return; // no tool on the gateway to try with: the sanity scenario will tell
      if (!r.stdout.includes(token)) {
        throw new InfrastructureError(
          `${this.id}: the gateway cannot reach the harness's endpoints at ${this.platformHost}:${port} (this host's ${this.bindAddress})${said(r.stdout + r.stderr)}; ` +
            `check the route and platform in ${this.config.inventoryFile}, or use platform: { tunnel: reverse }`,
        );
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  /** Native paths, like every path the journal records. */
  #journalPaths(): JournalPaths {
    return {
      journal: this.join(this.config.workDir, 'journal.json'),
      backup: (i) => this.join(this.config.workDir, `journal-${i}.orig`),
    };
  }

  journalOps(conn: SshConnection): JournalOps {
    const p = (native: string) => this.sftpPath(native);
    return {
      readFile: (path) => conn.readFile(p(path)),
      writeFile: (path, data, mode) => conn.writeFile(p(path), data, mode ?? 0o644),
      writeFileAtomic: async (path, data) => {
        await conn.writeFile(p(`${path}.tmp`), data, 0o600);
        await conn.rename(p(`${path}.tmp`), p(path));
      },
      mode: async (path) => ((await conn.stat(p(path)))?.mode ?? 0o100644) & 0o7777,
      remove: (path) => conn.unlink(p(path)),
      clearRuns: async () => (await conn.run(this.clearRunsCommand(this.join(this.config.workDir, 'runs')), 'clear earlier runs')).split(/\r?\n/).filter(Boolean),
      ...(this.#launcher?.service ? { service: this.#launcher.service } : {}),
    };
  }
}

export class GatewaySession implements TargetSession {
  #ems?: RemoteEms;
  #tunnels: Array<() => Promise<void>> = [];

  constructor(
    private readonly target: GatewayTarget,
    private readonly conn: SshConnection,
    private readonly launcher: Launcher,
    private readonly journal: Journal,
    readonly dir: string,
  ) {}

  async putFile(name: string, content: Buffer | string, opts?: { secret?: boolean }): Promise<string> {
    const path = this.target.join(this.dir, name);
    await this.conn.writeFile(this.target.sftpPath(path), content, opts?.secret ? 0o600 : 0o644);
    return this.target.reportPath(path);
  }

  encrypt(secret: string): Promise<string> {
    return this.target.encrypt(this.conn, secret);
  }

  restPort(): Promise<number> {
    return this.target.freePort(this.conn);
  }

  /** The local server listens on the gateway's loopback: an LSR there is reached through a direct-tcpip forward. */
  get dialRoute(): string {
    return `an SSH forward (forwardOut) through ${this.target.id}'s SSH connection: the TCP connection is the gateway's own, to its own address`;
  }

  async dial(host: string, port: number): Promise<Duplex> {
    try {
      return await this.conn.forwardOut(host, port);
    } catch (e) {
      // sshd answers a direct-tcpip open whose connect() failed with CONNECT_FAILED and strerror's text (Win32-OpenSSH alike).
      if (!this.target.lostReason && /Channel open failure: .*refused/i.test((e as Error).message)) {
        throw new DialRefused(`nothing listens on ${host}:${port} on the gateway ${this.target.id} (${(e as Error).message})`);
      }
      throw e;
    }
  }

  async start(configJson: string): Promise<EmsProcess> {
    const configPath = this.launcher.configPath(this.dir);
    await this.conn.writeFile(this.target.sftpPath(configPath), configJson, 0o600);
    if ('tunnel' in this.target.config.platform) {
      // Reverse tunnel: each platform port the EMS will dial on its loopback leads back here.
      const ports = new Set((JSON.parse(configJson) as { ws_servers: Array<{ port: number }> }).ws_servers.map((s) => s.port));
      for (const port of ports) this.#tunnels.push(await this.conn.forwardIn(port, { host: this.target.bindAddress, port }));
    }
    const run = await this.launcher.start(this.dir, configPath);
    this.#ems = new RemoteEms(run, this.target);
    return this.#ems;
  }

  /** Stops the EMS (a service too), removes the tunnel, puts journaled files back, deletes the directory (keys and config with it). */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (f: () => Promise<unknown>) => f().catch((e: unknown) => errors.push(e));
    await step(async () => this.#ems?.stop());
    for (const t of this.#tunnels) await step(t);
    if (this.target.lostReason) return; // nothing more can be done now; the journal restores it later
    await step(() => putBackFiles(this.target.journalOps(this.conn), this.journal));
    await step(() => this.target.removeTree(this.conn, this.dir));
    if (errors.length) throw errors[0];
  }
}

/** An EMS on a gateway, as the run loop sees it. */
export class RemoteEms extends EmsEvents implements EmsProcess {
  #stopping?: Promise<void>;

  constructor(
    private readonly run: RemoteRun,
    private readonly target: GatewayTarget,
  ) {
    super();
    target.track(this);
    run.streams.forEach((stream, i) => {
      const name = (run.streamNames ?? ['stdout', 'stderr'])[i];
      // CRLF-safe: a Windows EMS ends its lines with \r\n.
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => this.emitLine(text.replace(/\r$/, ''), name));
    });
    void run.exit.then(({ code, signal }) => {
      this.emitExit(code, signal);
      target.untrack(this);
    });
  }

  /** The connection died under a running EMS: that is evidence of infrastructure failure. */
  lostConnection(reason: string): void {
    if (!this.exited) this.emitLine(`${HARNESS_LINE}${reason}`);
  }

  /** Also after the EMS exited by itself: the launcher may have more to end (a follower, a task). */
  stop(): Promise<void> {
    this.#stopping ??= this.target.lostReason ? Promise.resolve() : this.run.stop();
    return this.#stopping;
  }
}

/** A manager's answer about an exit code: a whole number, or unknown. */
export function exitCodeOf(text: string): number | null {
  const n = Number(text.trim());
  return text.trim() && Number.isInteger(n) ? n : null;
}

function said(text: string): string {
  const t = text.trim().split(/\r?\n/).slice(-2).join(' | ');
  return t ? ` (${t})` : '';
}
