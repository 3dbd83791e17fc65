import { posix } from 'node:path';
import { InfrastructureError } from '../../harness/scenario/target.ts';
import type { SshConnection } from './connection.ts';
import { GatewayTarget, type GatewayConfig, type Launcher, type ScenarioPlan, type ScenarioScript, type Script, type ServiceControl, type StagedFile } from './gateway.ts';
import {
  BOOTSTRAP, CLEAR_RUNS, encryptAllScript, HOLD_LOCK, listeningPorts, processScenarioScript, PROBE_TCP, serviceScenarioScript, shCommand, shFrame, shQuote,
  type ServiceShell,
} from './posix.ts';
import type { Drain } from './scenario-channel.ts';
import type { LinuxStart } from './schema.ts';

// A Linux gateway over SSH: POSIX sh scripts, SFTP paths as they are, and three ways the EMS
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

  protected bootstrapCommand(): string {
    return BOOTSTRAP;
  }

  protected frame(s: Script): Buffer {
    return shFrame(s.script, s.args);
  }

  protected lockCommand(workDir: string, runsDir: string, lockFile: string): string {
    return shCommand(HOLD_LOCK, [workDir, runsDir, lockFile]);
  }

  protected probeCommand(host: string, port: number): string {
    return shCommand(PROBE_TCP, [host, String(port)]);
  }

  /** Read over SFTP (no process started on the gateway): /proc lists every listening socket. */
  protected async listeningPorts(conn: SshConnection): Promise<number[]> {
    const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => conn.readFile(f)));
    return listeningPorts(tables.map((t) => t?.toString('utf8') ?? '').join('\n'));
  }

  protected encryptAllScript(nonce: string, secrets: string[]): Script {
    return { script: encryptAllScript(this.#env()), args: [nonce, this.config.installDir, this.config.executable, ...secrets] };
  }

  protected clearRunsCommand(runsDir: string): string {
    return shCommand(CLEAR_RUNS, [runsDir]);
  }

  protected executableCheckCommand(): string {
    return shCommand('[ -x "$1" ] || { echo "$1: not found or not executable"; exit 1; }', [this.config.executable]);
  }

  protected makeLauncher(conn: SshConnection): Launcher {
    const s = this.startMode;
    if (s.mode === 'process') return new ProcessLauncher(this.config.executable, s.env);
    const config = posix.isAbsolute(s.config) ? s.config : posix.join(this.config.installDir, s.config);
    return new ServiceLauncher(conn, config, s.mode === 'systemd' ? systemdCommands(s.unit) : sysvCommands(s.script, posix.isAbsolute(s.log) ? s.log : posix.join(this.config.installDir, s.log)));
  }

  #env(): Record<string, string> {
    return this.startMode.mode === 'process' ? this.startMode.env : {};
  }
}

/** The scenario's files as the scripts' arguments: name, size, 1 for a public one. */
export function fileArgs(files: StagedFile[]): string[] {
  return files.flatMap((f) => [f.name, String(f.content.length), f.secret ? '0' : '1']);
}

/** The harness starts `<exe> -cfg <session>/config.json` itself; it ends with the channel. */
class ProcessLauncher implements Launcher {
  readonly changes: string[] = [];
  readonly #script: string;

  constructor(
    private readonly executable: string,
    env: Record<string, string>,
  ) {
    this.#script = processScenarioScript(env);
  }

  async preflight(): Promise<void> {}

  scenario(plan: ScenarioPlan): ScenarioScript {
    return { script: this.#script, args: [plan.nonce, plan.dir, this.executable, String(plan.restPort), ...fileArgs(plan.files)], drain: 'ordered', output: 'stdout/stderr' };
  }
}

/** What a service manager is asked: shell text for the scenario script, and a check before the first scenario. */
export interface ServiceCommands extends ServiceShell {
  /** Exits 0 when the gateway has what this manager needs (prints why not). */
  check: string;
  drain: Drain;
}

export function systemdCommands(unit: string): ServiceCommands {
  const u = shQuote(unit);
  const follow = `journalctl -u ${u} -f -o cat --no-pager`;
  return {
    name: unit,
    start: `systemctl start ${u}`,
    stop: `systemctl stop ${u}`,
    running: `systemctl is-active --quiet ${u}`,
    check: `systemctl cat ${u} >/dev/null`,
    exitCode: `systemctl show -p ExecMainStatus --value ${u}`,
    // After the journal's current last entry, whatever the clock says: no line of the previous scenario, none lost.
    follow: [
      `cursor=$(journalctl -n 1 --show-cursor -q -o cat --no-pager 2>/dev/null | sed -n 's/^-- cursor: //p')`,
      `if [ -n "$cursor" ]; then ${follow} --after-cursor="$cursor" 2>/dev/null & else ${follow} -n 0 2>/dev/null & fi`,
      'follower=$!',
    ].join('\n'),
    // systemd's own line about the unit comes after everything its main process wrote.
    drain: { lastLine: /Main process exited/ },
  };
}

export function sysvCommands(script: string, log: string): ServiceCommands {
  const s = shQuote(script);
  const size = `$(( $( { wc -c < ${shQuote(log)}; } 2>/dev/null || echo 0) ))`;
  return {
    name: script,
    start: `${s} start`,
    stop: `${s} stop`,
    running: `${s} status`,
    check: shCommand('[ -x "$1" ] || { echo "$1: init script not found or not executable"; exit 1; }', [script]),
    // From the log's current end, by byte offset: nothing the EMS writes after the start is missed.
    follow: [`off=${size}`, `tail -c +$((off + 1)) -F ${shQuote(log)} 2>/dev/null &`, 'follower=$!'].join('\n'),
    grown: `echo $((${size} - off))`,
    drain: 'grown',
  };
}

/** A service owns the EMS: the install's config.json is swapped (journaled), the service restarted, all in the scenario's script. */
class ServiceLauncher implements Launcher {
  readonly changes: string[];
  readonly service: ServiceControl;
  readonly #script: string;

  constructor(
    private readonly conn: SshConnection,
    private readonly config: string,
    private readonly cmds: ServiceCommands,
  ) {
    this.changes = [config];
    this.#script = serviceScenarioScript(cmds);
    this.service = {
      name: cmds.name,
      running: async () => (await conn.exec(cmds.running)).code === 0,
      start: async () => void (await conn.run(cmds.start, `start ${cmds.name}`)),
      stop: async () => void (await conn.run(cmds.stop, `stop ${cmds.name}`)),
    };
  }

  async preflight(): Promise<void> {
    const r = await this.conn.exec(this.cmds.check);
    if (r.code !== 0) throw new InfrastructureError(`${this.conn.opts.targetId}: cannot control ${this.cmds.name}: ${(r.stdout + r.stderr).trim() || `exit ${r.code}`}`);
  }

  scenario(plan: ScenarioPlan): ScenarioScript {
    const original = plan.journal.files.find((f) => f.path === this.config);
    if (!original) throw new InfrastructureError(`${this.conn.opts.targetId}: the restore journal does not hold ${this.config}: not swapping it`);
    return {
      script: this.#script,
      args: [plan.nonce, plan.dir, this.config, original.backup ?? '', (original.mode ?? 0o600).toString(8), String(plan.restPort), ...fileArgs(plan.files)],
      drain: this.cmds.drain,
      output: 'service log',
    };
  }
}
