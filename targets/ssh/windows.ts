import { win32 } from 'node:path';
import { InfrastructureError } from '../../harness/scenario/target.ts';
import type { SshConnection } from './connection.ts';
import { exitCodeOf, GatewayTarget, managedRun, type GatewayConfig, type Launcher, type RemoteRun, type ServiceControl } from './gateway.ts';
import { cmdLine, nativeArg, psCommand, psQuote, windowsForward, windowsNative, windowsSftp } from './powershell.ts';
import type { WindowsStart } from './schema.ts';

// A Windows gateway over SSH (Win32-OpenSSH): every command a PowerShell script sent as
// -EncodedCommand, SFTP paths as /C:/…, config.json paths in the Windows forms of CERT-PATHS.
// A process started in an SSH session dies with the session on Windows, so the EMS runs as a
// Windows service or as a scheduled task the harness registers, never as a child of the session.
// Nothing here has run on a Windows machine: docs/lab.md says what the unit tests verify.

/** Scheduled tasks the harness registers carry this prefix, so a restore can find leftovers. */
export const TASK_PREFIX = 'wsems-conformance-';

// --- the scripts (exported for the unit tests) ------------------------------------------------

/** Holds an exclusive open of the lock file until stdin closes (or the session ends). */
export function lockScript(lockFile: string): string {
  return `try { $f = [System.IO.File]::Open(${psQuote(windowsNative(lockFile))}, 'OpenOrCreate', 'ReadWrite', 'None') }
catch { [Console]::Error.WriteLine('locked by another process'); exit 1 }
[Console]::Out.WriteLine('LOCKED'); [Console]::Out.Flush()
[void][Console]::In.ReadToEnd()
$f.Close()`;
}

/** Prints the first line read from a TCP connection to host:port (the harness's probe listener sends a token). */
export function probeScript(host: string, port: number): string {
  return `$c = New-Object System.Net.Sockets.TcpClient
$t = $c.ConnectAsync(${psQuote(host)}, ${port})
try { $ok = $t.Wait(5000) } catch { [Console]::Error.WriteLine($_.Exception.InnerException.Message); exit 1 }
if (-not $ok) { [Console]::Error.WriteLine('timed out'); exit 1 }
$c.ReceiveTimeout = 5000
(New-Object System.IO.StreamReader($c.GetStream())).ReadLine()
$c.Close()`;
}

export const LISTENING_PORTS_SCRIPT = `[System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties().GetActiveTcpListeners() | ForEach-Object { $_.Port }`;

export function encryptScript(installDir: string, exe: string, secret: string): string {
  return `Set-Location -LiteralPath ${psQuote(windowsNative(installDir))}
& ${psQuote(windowsNative(exe))} -encrypt ${nativeArg(secret, 'the secret to encrypt')}
exit $LASTEXITCODE`;
}

export function removeTreeScript(dir: string): string {
  const d = psQuote(windowsNative(dir));
  return `if (Test-Path -LiteralPath ${d}) { Remove-Item -LiteralPath ${d} -Recurse -Force }`;
}

/** Processes whose command line names `dir` (the EMS of that session, the cmd.exe around it). */
function stopProcessesNaming(dirVar: string): string {
  return `Get-CimInstance Win32_Process | Where-Object { $_.CommandLine -and $_.CommandLine.Contains(${dirVar}) } | ForEach-Object {
  Stop-Process -Id $_.ProcessId -Force -ErrorAction SilentlyContinue
  "stopped leftover EMS pid $($_.ProcessId) of " + ${dirVar}
}`;
}

export function clearRunsScript(runsDir: string): string {
  const runs = psQuote(windowsNative(runsDir));
  return `Get-ScheduledTask -TaskName '${TASK_PREFIX}*' -ErrorAction SilentlyContinue | ForEach-Object {
  Stop-ScheduledTask -TaskName $_.TaskName -ErrorAction SilentlyContinue
  Unregister-ScheduledTask -TaskName $_.TaskName -Confirm:$false
  "unregistered task $($_.TaskName)"
}
if (-not (Test-Path -LiteralPath ${runs})) { exit 0 }
Get-ChildItem -LiteralPath ${runs} -Directory | ForEach-Object {
  $d = $_.FullName
  ${stopProcessesNaming('$d').replace(/\n/g, '\n  ')}
  Remove-Item -LiteralPath $d -Recurse -Force
  "removed $d"
}`;
}

export function executableCheckScript(exe: string): string {
  const e = psQuote(windowsNative(exe));
  return `if (-not (Test-Path -LiteralPath ${e} -PathType Leaf)) { [Console]::Out.WriteLine(${e} + ': not found'); exit 1 }`;
}

/** Only the login user and SYSTEM (which runs services and the harness's tasks) may read a session directory. */
export function privateDirScript(dir: string): string {
  return `$me = [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
& icacls.exe ${psQuote(windowsNative(dir))} /inheritance:r /grant:r "*$($me):(OI)(CI)F" '*S-1-5-18:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls.exe failed with $LASTEXITCODE" }`;
}

/**
 * Streams a log file from byte `offset` on, as it grows: read shared (the EMS keeps writing),
 * written out in chunks, line splitting (CRLF or LF) left to the harness. Ends with the session.
 */
export function followScript(log: string, offset: number): string {
  return `$path = ${psQuote(windowsNative(log))}
while (-not (Test-Path -LiteralPath $path)) { Start-Sleep -Milliseconds 200 }
$fs = [System.IO.File]::Open($path, 'Open', 'Read', 'ReadWrite, Delete')
$null = $fs.Seek(${offset}, 'Begin')
$r = New-Object System.IO.StreamReader($fs)
while ($true) {
  $chunk = $r.ReadToEnd()
  if ($chunk) { [Console]::Out.Write($chunk); [Console]::Out.Flush() } else { Start-Sleep -Milliseconds 200 }
}`;
}

export function fileSizeScript(path: string): string {
  const p = psQuote(windowsNative(path));
  return `if (Test-Path -LiteralPath ${p}) { (Get-Item -LiteralPath ${p}).Length } else { 0 }`;
}

export const serviceScripts = (name: string) => {
  const n = psQuote(name);
  return {
    running: `if ((Get-Service -Name ${n}).Status -ne 'Running') { exit 1 }`,
    start: `Start-Service -Name ${n}`,
    stop: `Stop-Service -Name ${n} -Force`,
    check: `$null = Get-Service -Name ${n}`,
    exitCode: `(Get-CimInstance Win32_Service | Where-Object { $_.Name -eq ${n} }).ExitCode`,
  };
};

/** Registers and starts a task running `exe -cfg config`, output to `log`, as the login user (S4U: no password stored). */
export function startTaskScript(task: string, exe: string, config: string, dir: string, log: string): string {
  const args = cmdLine([windowsNative(exe), '-cfg', windowsNative(config)], windowsNative(log));
  return `$a = New-ScheduledTaskAction -Execute 'cmd.exe' -Argument ${psQuote(args)} -WorkingDirectory ${psQuote(windowsNative(dir))}
$p = New-ScheduledTaskPrincipal -UserId ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name) -LogonType S4U
$s = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Hours 1) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
$null = Register-ScheduledTask -TaskName ${psQuote(task)} -Action $a -Principal $p -Settings $s -Force
Start-ScheduledTask -TaskName ${psQuote(task)}`;
}

export const taskScripts = (task: string, dir: string) => {
  const t = psQuote(task);
  const d = psQuote(windowsNative(dir));
  return {
    running: `if ((Get-ScheduledTask -TaskName ${t}).State -ne 'Running') { exit 1 }`,
    exitCode: `(Get-ScheduledTaskInfo -TaskName ${t}).LastTaskResult`,
    // Stopping the task ends cmd.exe; the EMS under it is ended by its command line.
    stop: `Stop-ScheduledTask -TaskName ${t} -ErrorAction SilentlyContinue
$dir = ${d}
${stopProcessesNaming('$dir')}
Unregister-ScheduledTask -TaskName ${t} -Confirm:$false`,
  };
};

// --- the driver --------------------------------------------------------------------------------

export class SshWindowsTarget extends GatewayTarget {
  constructor(
    config: GatewayConfig,
    private readonly startMode: WindowsStart,
  ) {
    super({ ...config, profile: { ...config.profile, os: 'windows' } });
  }

  sftpPath(native: string): string {
    return windowsSftp(native);
  }

  join(dir: string, ...names: string[]): string {
    return win32.join(windowsNative(dir), ...names);
  }

  reportPath(native: string): string {
    return windowsForward(native);
  }

  protected lockCommand(lockFile: string): string {
    return psCommand(lockScript(lockFile));
  }

  protected probeCommand(host: string, port: number): string {
    return psCommand(probeScript(host, port));
  }

  protected async listeningPorts(conn: SshConnection): Promise<number[]> {
    return (await conn.run(psCommand(LISTENING_PORTS_SCRIPT), 'list listening ports')).split(/\s+/).filter(Boolean).map(Number);
  }

  protected encryptCommand(secret: string): string {
    try {
      return psCommand(encryptScript(this.config.installDir, this.config.executable, secret));
    } catch (e) {
      throw new InfrastructureError(`${this.id}: ${(e as Error).message}`);
    }
  }

  protected removeTreeCommand(dir: string): string {
    return psCommand(removeTreeScript(dir));
  }

  protected clearRunsCommand(runsDir: string): string {
    return psCommand(clearRunsScript(runsDir));
  }

  protected executableCheckCommand(): string {
    return psCommand(executableCheckScript(this.config.executable));
  }

  protected async makePrivateDir(dir: string): Promise<void> {
    await this.conn!.mkdirp(this.sftpPath(dir), 0o700);
    await this.conn!.run(psCommand(privateDirScript(dir)), `restrict ${dir} to the login user`);
  }

  protected makeLauncher(conn: SshConnection): Launcher {
    const s = this.startMode;
    if (s.mode === 'scheduled-task') return new TaskLauncher(conn, this.config.executable);
    const abs = (p: string) => (win32.isAbsolute(p) ? windowsNative(p) : win32.join(windowsNative(this.config.installDir), p));
    return new WindowsServiceLauncher(conn, s.service, abs(s.config), abs(s.log));
  }
}

/** Runs a script on the gateway; fails (naming what) unless it exits 0. */
function ps(conn: SshConnection, script: string, what: string): Promise<string> {
  return conn.run(psCommand(script), what);
}

async function follow(conn: SshConnection, log: string, offset: number) {
  return conn.spawn(psCommand(followScript(log, offset)));
}

class WindowsServiceLauncher implements Launcher {
  readonly changes: string[];
  readonly service: ServiceControl;
  readonly #scripts: ReturnType<typeof serviceScripts>;

  constructor(
    private readonly conn: SshConnection,
    name: string,
    private readonly config: string,
    private readonly log: string,
  ) {
    this.changes = [config];
    const s = (this.#scripts = serviceScripts(name));
    this.service = {
      name,
      running: async () => (await conn.exec(psCommand(s.running))).code === 0,
      start: async () => void (await ps(conn, s.start, `start service ${name}`)),
      stop: async () => void (await ps(conn, s.stop, `stop service ${name}`)),
    };
  }

  configPath(): string {
    return this.config;
  }

  async preflight(): Promise<void> {
    await ps(this.conn, this.#scripts.check, `find service ${this.service.name}`);
  }

  async start(): Promise<RemoteRun> {
    await this.service.stop();
    const size = async () => Number((await ps(this.conn, fileSizeScript(this.log), `read the size of ${this.log}`)).trim()) || 0;
    const offset = await size();
    const ch = await follow(this.conn, this.log, offset);
    try {
      await this.service.start();
    } catch (e) {
      ch.close();
      await this.service.stop().catch(() => undefined); // never left running on a scenario's config
      throw e;
    }
    return managedRun({
      follow: ch,
      running: this.service.running,
      exitCode: async () => exitCodeOf(await ps(this.conn, this.#scripts.exitCode, 'read the service exit code')),
      stop: this.service.stop,
      endFollow: () => ch.close(), // Windows ends the follower with its session
      drain: { from: offset, logSize: size },
    });
  }
}

class TaskLauncher implements Launcher {
  readonly changes: string[] = [];

  constructor(
    private readonly conn: SshConnection,
    private readonly executable: string,
  ) {}

  configPath(sessionDir: string): string {
    return win32.join(sessionDir, 'config.json');
  }

  async preflight(): Promise<void> {}

  async start(sessionDir: string, configPath: string): Promise<RemoteRun> {
    const task = `${TASK_PREFIX}${win32.basename(sessionDir)}`;
    const log = win32.join(sessionDir, 'ems.log');
    const s = taskScripts(task, sessionDir);
    const ch = await follow(this.conn, log, 0);
    await ps(this.conn, startTaskScript(task, this.executable, configPath, sessionDir, log), `start the EMS as scheduled task ${task}`);
    return managedRun({
      follow: ch,
      running: async () => (await this.conn.exec(psCommand(s.running))).code === 0,
      exitCode: async () => exitCodeOf(await ps(this.conn, s.exitCode, 'read the task result')),
      stop: async () => void (await ps(this.conn, s.stop, `stop scheduled task ${task}`)),
      endFollow: () => ch.close(),
      drain: { from: 0, logSize: async () => Number((await ps(this.conn, fileSizeScript(log), `read the size of ${log}`)).trim()) || 0 },
    });
  }
}
