import { posix } from 'node:path';
import { InfrastructureError } from '../../harness/scenario/target.ts';
import type { SshConnection } from './connection.ts';
import { exitCodeOf, GatewayTarget, managedRun, STOP_GRACE_MS, type Drain, type GatewayConfig, type Launcher, type RemoteRun, type ServiceControl } from './gateway.ts';
import { CLEAR_RUNS, emsProcessScript, FOLLOW, HOLD_LOCK, KILL_IF_OURS, listeningPorts, PROBE_TCP, shCommand, shExports, shQuote } from './posix.ts';
import type { LinuxStart } from './schema.ts';

// A Linux gateway over SSH: POSIX sh commands, SFTP paths as they are, and three ways the EMS
// may be run there: by the harness itself (`process`), by a systemd unit, by a SysV init script.

export class SshLinuxTarget extends GatewayTarget {
  constructor(
    config: GatewayConfig,
    private readonly startMode: LinuxStart,
  ) {
    super(config);
  }

  sftpPath(native: string): string {
    return native;
  }

  join(dir: string, ...names: string[]): string {
    return posix.join(dir, ...names);
  }

  reportPath(native: string): string {
    return native;
  }

  protected lockCommand(lockFile: string): string {
    return shCommand(HOLD_LOCK, [lockFile]);
  }

  protected probeCommand(host: string, port: number): string {
    return shCommand(PROBE_TCP, [host, String(port)]);
  }

  /** Read over SFTP (no process started on the gateway): /proc lists every listening socket. */
  protected async listeningPorts(conn: SshConnection): Promise<number[]> {
    const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => conn.readFile(f)));
    return listeningPorts(tables.map((t) => t?.toString('utf8') ?? '').join('\n'));
  }

  protected encryptCommand(secret: string): string {
    const env = this.startMode.mode === 'process' ? this.startMode.env : {};
    return shCommand(`cd "$1" && shift && ${shExports(env)}exec "$@"`, [this.config.installDir, this.config.executable, '-encrypt', secret]);
  }

  protected removeTreeCommand(dir: string): string {
    return shCommand('rm -rf -- "$1"', [dir]);
  }

  protected clearRunsCommand(runsDir: string): string {
    return shCommand(CLEAR_RUNS, [runsDir]);
  }

  protected executableCheckCommand(): string {
    return shCommand('[ -x "$1" ] || { echo "$1: not found or not executable"; exit 1; }', [this.config.executable]);
  }

  protected async makePrivateDir(dir: string): Promise<void> {
    await this.conn!.mkdirp(dir, 0o700);
  }

  protected makeLauncher(conn: SshConnection): Launcher {
    const s = this.startMode;
    if (s.mode === 'process') return new ProcessLauncher(conn, this.config.executable, s.env);
    const config = posix.isAbsolute(s.config) ? s.config : posix.join(this.config.installDir, s.config);
    return new ServiceLauncher(conn, config, s.mode === 'systemd' ? systemdCommands(s.unit) : sysvCommands(s.script, posix.isAbsolute(s.log) ? s.log : posix.join(this.config.installDir, s.log)));
  }
}

/** The harness starts `<exe> -cfg <session>/config.json` over SSH; it dies with the channel. */
class ProcessLauncher implements Launcher {
  readonly changes: string[] = [];

  constructor(
    private readonly conn: SshConnection,
    private readonly executable: string,
    private readonly env: Record<string, string>,
  ) {}

  configPath(sessionDir: string): string {
    return posix.join(sessionDir, 'config.json');
  }

  async preflight(): Promise<void> {}

  async start(sessionDir: string, configPath: string): Promise<RemoteRun> {
    const ch = await this.conn.spawn(shCommand(emsProcessScript(this.env), [sessionDir, this.executable, '-cfg', configPath]));
    const exit = ch.exited;
    return {
      streams: [ch, ch.stderr],
      exit,
      stop: async () => {
        ch.end(); // EOF: the watcher on the gateway sends SIGTERM
        if (await settlesWithin(exit, STOP_GRACE_MS)) return;
        await this.conn.exec(shCommand(KILL_IF_OURS, [posix.join(sessionDir, 'ems.pid'), sessionDir, 'KILL']));
        await exit;
      },
    };
  }
}

/** What a service manager is asked, as commands. */
export interface ServiceCommands {
  name: string;
  start: string;
  stop: string;
  /** Exits 0 while the service runs. */
  running: string;
  /** Exits 0 when the gateway has what this manager needs (prints why not). */
  check: string;
  /** The command that streams the service's log from now on (may ask the gateway first), and how to know it was read to the end. */
  follow(conn: SshConnection): Promise<{ command: string; drain: Drain }>;
  /** Prints the exit code of the service's main process, when the manager knows it. */
  exitCode?: string;
}

export function systemdCommands(unit: string): ServiceCommands {
  const u = shQuote(unit);
  return {
    name: unit,
    start: `systemctl start ${u}`,
    stop: `systemctl stop ${u}`,
    running: `systemctl is-active --quiet ${u}`,
    check: `systemctl cat ${u} >/dev/null`,
    exitCode: `systemctl show -p ExecMainStatus --value ${u}`,
    // After the journal's current last entry, whatever the clock says: no line of the previous scenario, none lost.
    follow: async (conn) => {
      const out = (await conn.exec('journalctl -n 1 --show-cursor -q -o cat --no-pager')).stdout;
      const cursor = /-- cursor: (.+)/.exec(out)?.[1]?.trim();
      const from = cursor ? [`--after-cursor=${cursor}`] : ['-n', '0'];
      // systemd's own line about the unit comes after everything its main process wrote.
      return { command: shCommand(FOLLOW, [unit, 'journalctl', '-u', unit, '-f', '-o', 'cat', '--no-pager', ...from]), drain: { lastLine: /Main process exited/ } };
    },
  };
}

export function sysvCommands(script: string, log: string): ServiceCommands {
  const s = shQuote(script);
  return {
    name: script,
    start: `${s} start`,
    stop: `${s} stop`,
    running: `${s} status >/dev/null 2>&1`,
    check: shCommand('[ -x "$1" ] || { echo "$1: init script not found or not executable"; exit 1; }', [script]),
    // From the log's current end, by byte offset: nothing the EMS writes after the start is missed.
    follow: async (conn) => {
      const size = (await conn.stat(log))?.size ?? 0;
      return {
        command: shCommand(FOLLOW, [log, 'tail', '-c', `+${size + 1}`, '-F', log]),
        drain: { from: size, logSize: async () => (await conn.stat(log))?.size ?? 0 },
      };
    },
  };
}

/** A service owns the EMS: the install's config.json is swapped (journaled), the service restarted. */
class ServiceLauncher implements Launcher {
  readonly changes: string[];
  readonly service: ServiceControl;
  #stoppedByUs = false;

  constructor(
    private readonly conn: SshConnection,
    private readonly config: string,
    private readonly cmds: ServiceCommands,
  ) {
    this.changes = [config];
    this.service = {
      name: cmds.name,
      running: async () => (await conn.exec(cmds.running)).code === 0,
      start: async () => void (await conn.run(cmds.start, `start ${cmds.name}`)),
      stop: async () => void (await conn.run(cmds.stop, `stop ${cmds.name}`)),
    };
  }

  configPath(): string {
    return this.config;
  }

  async preflight(): Promise<void> {
    const r = await this.conn.exec(this.cmds.check);
    if (r.code !== 0) throw new InfrastructureError(`${this.conn.opts.targetId}: cannot control ${this.cmds.name}: ${(r.stdout + r.stderr).trim() || `exit ${r.code}`}`);
  }

  async start(): Promise<RemoteRun> {
    // Before the first scenario it still runs with the gateway's own config; later ones stopped it.
    if (!this.#stoppedByUs) await this.service.stop();
    const { command, drain } = await this.cmds.follow(this.conn);
    const follow = await this.conn.spawn(command);
    this.#stoppedByUs = false; // from here it may run with this scenario's config until stopped
    try {
      await this.service.start();
    } catch (e) {
      follow.end();
      await this.service.stop().then(() => (this.#stoppedByUs = true), () => undefined);
      throw e;
    }
    const exitCode = this.cmds.exitCode;
    return managedRun({
      follow,
      running: this.service.running,
      ...(exitCode ? { exitCode: async () => exitCodeOf((await this.conn.exec(exitCode)).stdout) } : {}),
      stop: async () => {
        await this.service.stop();
        this.#stoppedByUs = true;
      },
      endFollow: () => follow.end(), // EOF ends the follower on the gateway
      drain,
    });
  }
}

function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() => clearTimeout(timer));
}
