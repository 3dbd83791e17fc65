import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  DialRefused, InfrastructureError, type ErrorMapEntry, type FileToPut, type PathStyle, type Target, type TargetProfile, type TargetSession,
} from '../../harness/scenario/target.ts';
import { SshConnection, type ExecResult, type SshOptions } from './connection.ts';
import { pinHostKey } from './host-key.ts';
import { beginJournal, readJournal, restoreFromJournal, type Journal, type JournalOps, type JournalPaths } from './journal.ts';
import { HARNESS_LINE, ScenarioChannel, type Drain } from './scenario-channel.ts';
import type { Platform } from './schema.ts';

// What every gateway reached over SSH has in common, whatever its OS: one connection per run
// with the host key pinned, a lock so two harness runs never borrow the same gateway, the
// restore journal written before the first change and replayed at the end (or by the next
// run after a crash), one scenario at a time in its own directory, the EMS's log streamed
// back, TCP connections to its loopback (the REST check, the LSR client) as SSH forwards, an
// optional reverse tunnel. The OS drivers (linux.ts, windows.ts) supply the scripts and the start
// modes.
//
// Over a WAN link every request waited for costs a round trip, so a scenario is one script in a
// channel opened ahead: its files follow the script on stdin, the script starts the EMS and
// streams its log on the same channel, and on EOF stops the EMS, puts journaled files back and
// removes the directory (docs/lab.md, "Round trips").

export { HARNESS_LINE };
export const GATEWAY_ERROR_MAP: ErrorMapEntry[] = [{ pattern: `^${HARNESS_LINE}`, class: 'infrastructure' }];
/** Channels kept open ahead on each connection (sshd allows 10 sessions per connection by default). */
const SPARE_CHANNELS = 2;

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

/** Service control for the journal (the start and the end of a run, a restore). */
export interface ServiceControl {
  name: string;
  running(): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A file of a scenario, written into its directory by the scenario script. */
export interface StagedFile {
  name: string;
  content: Buffer;
  /** 0600 (keys, config.json) rather than 0644. */
  secret: boolean;
}

/** What one scenario's script needs to know. */
export interface ScenarioPlan {
  nonce: string;
  /** The session directory (native), which the script creates. */
  dir: string;
  /** In the order their contents follow the script on stdin; config.json among them. */
  files: StagedFile[];
  restPort: number;
  journal: Journal;
}

/** A script and its arguments, run in a channel opened ahead (posix.ts BOOTSTRAP, windows.ts). */
export interface Script {
  script: string;
  args: string[];
}

/** A scenario's script, how its log is known to be read, and what the EMS's lines on its channel are. */
export interface ScenarioScript extends Script {
  drain: Drain;
  /** The EMS's own stdout and stderr, a service's log: a SECRET-NOLOG finding names it. */
  output: string;
}

/** How one start mode runs the EMS. */
export interface Launcher {
  /** Native paths outside the session directory that this mode overwrites (journaled). */
  readonly changes: string[];
  readonly service?: ServiceControl;
  /** Checks, before the first scenario, what this mode needs on the gateway. */
  preflight(): Promise<void>;
  /** The script that runs one scenario in its own channel, from the upload to the clean-up. */
  scenario(plan: ScenarioPlan): ScenarioScript;
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
  /** The EMS runs on the gateway: the harness host's --jobs does not bound it. */
  readonly remote = true;
  readonly secrets: string[];
  protected conn?: SshConnection;
  #lost?: string;
  #lock?: { release(): Promise<void> };
  #journal?: Journal;
  #launcher?: Launcher;
  readonly #running = new Set<ScenarioChannel>();
  /** `-encrypt` answers for the run, per secret, one per run of it (a gateway's key does not change while we hold it). */
  readonly #encrypted = new Map<string, Array<Promise<string>>>();
  /** What the gateway listens on, as its last scenario script (or the connect) reported it. */
  #listening = new Set<number>();
  readonly #handedOut: number[] = [];

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
  /** Native path in the form putFiles returns (`/…` or `C:/…`). */
  abstract reportPath(native: string): string;
  /** The command of a channel opened ahead: it waits for a script on stdin. */
  protected abstract bootstrapCommand(): string;
  /** What to write to such a channel to run a script. */
  protected abstract frame(script: Script): Buffer;
  /** A command that makes the work and runs directories (login user only), then prints LOCKED and holds the lock until its stdin closes. */
  protected abstract lockCommand(workDir: string, runsDir: string, lockFile: string): string;
  /** A command that prints the first line the gateway reads from a TCP connection to host:port; exit 100 when it has no tool to try. */
  protected abstract probeCommand(host: string, port: number): string;
  /** The TCP ports the gateway listens on. */
  protected abstract listeningPorts(conn: SshConnection): Promise<number[]>;
  /** The script asking the target EMS's `-encrypt` for each secret (posix.ts encryptAllScript). */
  protected abstract encryptAllScript(nonce: string, secrets: string[]): Script;
  /** A command that ends EMS processes started under runsDir, removes its directories and prints one line per thing done. */
  protected abstract clearRunsCommand(runsDir: string): string;
  /** A command that exits 0 when the executable is there and runnable, printing why not otherwise. */
  protected abstract executableCheckCommand(): string;
  protected abstract makeLauncher(conn: SshConnection): Launcher;

  // --- the Target interface -------------------------------------------------------------------
  /** Before the first scenario: connect, lock, restore a crashed run, check, journal. Independent questions go out together. */
  async connect(): Promise<void> {
    const conn = await this.#open();
    try {
      const [journal, , , ports] = await Promise.all([
        this.#readJournal(conn),
        this.#checkExecutable(conn),
        this.#launcher!.preflight(),
        this.listeningPorts(conn),
        'host' in this.config.platform ? this.#probePlatform(conn) : undefined,
      ]);
      this.#listening = new Set(ports);
      if (journal) {
        const restored = await this.#replay(conn, journal);
        console.error(`${this.id}: an earlier run did not finish; restored the gateway from its journal: ${restored.join('; ')}`);
      }
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
    return new GatewaySession(this, this.conn, this.#launcher!, this.#journal, dir);
  }

  /** After the run: put everything back, release the lock, disconnect. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#running].map((e) => e.stop().then(() => e.closed)));
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
      const journal = await this.#readJournal(conn);
      return journal ? await this.#replay(conn, journal) : ['no journal on the gateway: nothing to restore'];
    } finally {
      await this.#disconnect();
    }
  }

  // --- internals, used by the session ---------------------------------------------------------
  track(ems: ScenarioChannel): void {
    this.#running.add(ems);
    void ems.closed.then(() => this.#running.delete(ems));
  }

  get lostReason(): string | undefined {
    return this.#lost;
  }

  /**
   * The target EMS's own `-encrypt` of each secret, one run per entry (a secret listed twice gets
   * two runs: the strength check compares them). The runs not made yet in this run go in one
   * script; each secret's runs are kept for the run in order (an app key is new every scenario,
   * catalogue passphrases are not), so a later scenario gets the same distinct pair again.
   */
  encryptAll(conn: SshConnection, secrets: string[]): Promise<string[]> {
    const wanted = new Map<string, number>();
    const runs = secrets.map((s) => {
      const n = wanted.get(s) ?? 0;
      wanted.set(s, n + 1);
      return [s, n] as const;
    });
    const fresh = [...wanted].flatMap(([s, count]) => Array<string>(Math.max(0, count - (this.#encrypted.get(s)?.length ?? 0))).fill(s));
    if (fresh.length) {
      const answers = this.#encryptNow(conn, fresh);
      fresh.forEach((s, i) => {
        const one = answers.then((a) => a[i]!);
        one.catch(() => this.#encrypted.delete(s)); // a failure is not kept: the next scenario asks again
        this.#encrypted.set(s, [...(this.#encrypted.get(s) ?? []), one]);
      });
    }
    return Promise.all(runs.map(([s, n]) => this.#encrypted.get(s)![n]!));
  }

  async #encryptNow(conn: SshConnection, secrets: string[]): Promise<string[]> {
    const nonce = randomBytes(8).toString('hex');
    const r = await this.runScript(conn, this.encryptAllScript(nonce, secrets));
    const frames = r.stdout.split(/\r?\n/).filter((l) => l.startsWith(`${nonce} `)).map((l) => l.slice(nonce.length + 1));
    return secrets.map((_, i) => {
      const [code = '', ...out] = (frames[2 * i] ?? '').split(' ');
      const err = (frames[2 * i + 1] ?? '').replace(/^err ?/, '').trim();
      const value = out.join(' ').trim();
      if (code !== '0' || !value) {
        throw new InfrastructureError(`${this.id}: ${this.config.executable} -encrypt exited with ${code || r.code || 'nothing'} and printed ${value ? 'output' : 'nothing'}${err ? `: ${err}` : ''}${r.stderr.trim() ? ` (${r.stderr.trim().split(/\r?\n/).pop()})` : ''}`);
      }
      return value;
    });
  }

  /** Runs a script in a channel opened ahead, its input ended: one round trip. */
  async runScript(conn: SshConnection, script: Script, stdin?: Buffer): Promise<ExecResult> {
    const ch = await conn.takeSpare();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    ch.on('data', (d: Buffer) => out.push(d));
    ch.stderr.on('data', (d: Buffer) => err.push(d));
    ch.write(this.frame(script));
    ch.end(stdin);
    const { code, signal } = await ch.exited;
    if (conn.lost) throw new InfrastructureError(conn.lost);
    return { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  }

  /** Starts a scenario script: its frame, then `payload` (the files), on a channel opened ahead; the input stays open (EOF stops it). */
  async startScenario(conn: SshConnection, script: ScenarioScript, nonce: string, payload: Buffer): Promise<ScenarioChannel> {
    const ch = await conn.takeSpare();
    const ems = new ScenarioChannel(ch, nonce, script.drain, {
      lost: () => this.#lost,
      ports: (ports) => (this.#listening = new Set(ports)),
    }, script.output);
    this.track(ems);
    ch.write(this.frame(script));
    ch.write(payload);
    return ems;
  }

  /** A port nothing listens on (as the gateway last said), away from the usual services and from the last few handed out. */
  freePort(): number {
    for (;;) {
      const port = 20000 + Math.floor(Math.random() * 10000);
      if (this.#listening.has(port) || this.#handedOut.includes(port)) continue;
      this.#handedOut.push(port);
      if (this.#handedOut.length > 16) this.#handedOut.shift();
      return port;
    }
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
    conn.keepSpares(this.bootstrapCommand(), SPARE_CHANNELS);
    try {
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
    const work = this.config.workDir;
    const lockFile = this.join(work, 'lock');
    const ch = await conn.spawn(this.lockCommand(work, this.join(work, 'runs'), lockFile));
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
      const said = out.join('').trim();
      throw new InfrastructureError(/busy|locked by another/i.test(said) || !said
        ? `${this.id}: the gateway is busy: another harness run holds ${lockFile}${said ? ` (${said})` : ''}`
        : `${this.id}: cannot take the lock ${lockFile} on the gateway (${said})`);
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

  #readJournal(conn: SshConnection): Promise<Journal | undefined> {
    return readJournal(this.journalOps(conn), this.#journalPaths()).catch((e: Error) => {
      throw new InfrastructureError(`${this.id}: ${e.message}`);
    });
  }

  async #replay(conn: SshConnection, journal: Journal): Promise<string[]> {
    const done = await restoreFromJournal(this.journalOps(conn), this.#journalPaths(), journal);
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
  readonly #files: StagedFile[] = [];
  #ems?: ScenarioChannel;
  #tunnels: Array<Promise<() => Promise<void>>> = [];
  readonly #nonce = randomBytes(8).toString('hex');

  constructor(
    private readonly target: GatewayTarget,
    private readonly conn: SshConnection,
    private readonly launcher: Launcher,
    private readonly journal: Journal,
    readonly dir: string,
  ) {}

  /** Nothing goes to the gateway yet: the files travel with the scenario script that start() sends. */
  async putFiles(files: FileToPut[]): Promise<string[]> {
    return files.map((f) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f.name) || f.name === 'config.json') throw new Error(`not a file name for a session directory: ${f.name}`);
      const at = this.#files.findIndex((x) => x.name === f.name);
      const staged = { name: f.name, content: Buffer.from(f.content), secret: f.secret ?? false };
      if (at >= 0) this.#files[at] = staged;
      else this.#files.push(staged);
      return this.target.reportPath(this.target.join(this.dir, f.name));
    });
  }

  encryptAll(secrets: string[]): Promise<string[]> {
    return secrets.length ? this.target.encryptAll(this.conn, secrets) : Promise.resolve([]);
  }

  /** Free on every address of the gateway, as it last reported its listeners (`host` is one of them). */
  async restPort(_host?: string): Promise<number> {
    return this.target.freePort();
  }

  /** The local server listens on the gateway's loopback: an LSR there is reached through a direct-tcpip forward. */
  get dialRoute(): string {
    return `an SSH forward (forwardOut) through ${this.target.id}'s SSH connection: the TCP connection is the gateway's own, to its own address`;
  }

  /**
   * A direct-tcpip channel on the run's connection: sshd makes the TCP connection on the gateway
   * before it confirms the channel, so this costs one round trip; requests are not queued behind
   * the scenario's channel, and several may be open at once.
   */
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

  /** One channel: the script, then the files; resolves once the EMS runs. */
  async start(configJson: string): Promise<ScenarioChannel> {
    if (this.target.lostReason) throw new InfrastructureError(this.target.lostReason);
    const files = [...this.#files, { name: 'config.json', content: Buffer.from(configJson), secret: true }];
    if ('tunnel' in this.target.config.platform) {
      // Reverse tunnel: each platform port the EMS will dial on its loopback leads back here. The
      // requests go out before the script, and sshd sets each listener up before it hands the
      // script its input: no round trip is waited for before the EMS starts.
      const ports = new Set((JSON.parse(configJson) as { ws_servers: Array<{ port: number }> }).ws_servers.map((s) => s.port));
      this.#tunnels = [...ports].map((port) => this.conn.forwardIn(port, { host: this.target.bindAddress, port }));
      for (const t of this.#tunnels) t.catch(() => undefined); // awaited below, or by close() when the script fails first
    }
    const script = this.launcher.scenario({ nonce: this.#nonce, dir: this.dir, files, restPort: restPortOf(configJson), journal: this.journal });
    this.#ems = await this.target.startScenario(this.conn, script, this.#nonce, Buffer.concat(files.map((f) => f.content)));
    await Promise.all([this.#ems.started, ...this.#tunnels]);
    return this.#ems;
  }

  /** EOF to the script: it stops the EMS (a service too), puts journaled files back and removes the directory; resolves when it is done. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([
      this.#ems?.stop().then(() => this.#ems!.closed),
      ...this.#tunnels.map((t) => t.then((remove) => remove())),
    ]);
    if (this.target.lostReason) return; // nothing more can be done now; the journal restores it later
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

function restPortOf(configJson: string): number {
  const port = (JSON.parse(configJson) as { http_server?: { port?: unknown } }).http_server?.port;
  return typeof port === 'number' ? port : 8000;
}

function said(text: string): string {
  const t = text.trim().split(/\r?\n/).slice(-2).join(' | ');
  return t ? ` (${t})` : '';
}
