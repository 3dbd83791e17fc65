import { win32 } from 'node:path';
import { InfrastructureError } from '../../harness/scenario/target.ts';
import type { SshConnection } from './connection.ts';
import { GatewayTarget, type GatewayConfig, type Launcher, type ScenarioPlan, type ScenarioScript, type Script, type ServiceControl } from './gateway.ts';
import { fileArgs } from './linux.ts';
import { cmdLine, nativeArg, psCommand, psQuote, windowsForward, windowsNative, windowsSftp } from './powershell.ts';
import type { WindowsStart } from './schema.ts';

// A Windows gateway over SSH (Win32-OpenSSH): every command a PowerShell script sent as
// -EncodedCommand, SFTP paths as /C:/…, config.json paths in the Windows forms of CERT-PATHS.
// A process started in an SSH session dies with the session on Windows, so the EMS runs as a
// Windows service or as a scheduled task the harness registers, never as a child of the session.
// As on Linux, a scenario is one script in a channel opened ahead (its files after it on stdin,
// the log followed, the state watched on the gateway, everything put back at EOF; the REST check
// and the LSR client come through the connection's own forwards, GatewaySession.dial). Nothing here has run on a Windows machine: docs/lab.md says what the unit tests verify.

/** Scheduled tasks the harness registers carry this prefix, so a restore can find leftovers. */
export const TASK_PREFIX = 'wsems-conformance-';

// --- the scripts (exported for the unit tests) ------------------------------------------------

/** Makes the work and runs directories, then holds an exclusive open of the lock file until stdin closes (or the session ends). */
export function lockScript(workDir: string, runsDir: string, lockFile: string): string {
  return `$null = New-Item -ItemType Directory -Force -Path ${psQuote(windowsNative(runsDir))}
${privateDirScript(workDir)}
try { $f = [System.IO.File]::Open(${psQuote(windowsNative(lockFile))}, 'OpenOrCreate', 'ReadWrite', 'None') }
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

/**
 * The command of a channel opened ahead: reads one line from the raw stdin stream (no buffering
 * reader, so nothing after it is taken), base64 of a UTF-8 script, and runs it here; the script
 * reads its own input from `$in`. An unused channel gets EOF and exits.
 */
export const BOOTSTRAP_SCRIPT = `$in = [Console]::OpenStandardInput()
$b = New-Object System.IO.MemoryStream
while (($c = $in.ReadByte()) -ge 0 -and $c -ne 10) { $b.WriteByte([byte]$c) }
if ($b.Length -eq 0) { exit 0 }
. ([ScriptBlock]::Create([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([System.Text.Encoding]::ASCII.GetString($b.ToArray()).Trim()))))`;

/** What to write to a BOOTSTRAP_SCRIPT channel to run `script` with `$argv` set to `args`. */
export function psFrame(script: string, args: string[]): Buffer {
  const body = `$argv = @(${args.map(psQuote).join(', ')})\n${script}`;
  return Buffer.from(`${Buffer.from(body, 'utf8').toString('base64')}\n`);
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

/** Only the login user and SYSTEM (which runs services and the harness's tasks) may read a directory (a literal path, or a variable). */
export function privateDirScript(dir: string): string {
  const d = dir.startsWith('$') ? dir : psQuote(windowsNative(dir));
  return `$me = [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
& icacls.exe ${d} /inheritance:r /grant:r "*$($me):(OI)(CI)F" '*S-1-5-18:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls.exe failed with $LASTEXITCODE" }`;
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

/**
 * What the scenario scripts share (the Linux ones' counterparts in posix.ts): frames for the
 * harness are lines starting with the nonce (`Tell` on stderr), `Harness` writes a line classed
 * infrastructure, `Receive` writes the files that follow the script on stdin (byte counts, from
 * the raw stream), `Follow` streams the log from a byte offset with shared access (the EMS keeps
 * writing) while it watches the EMS's state, until EOF.
 * $argv: nonce dir rest-port, the mode's own values, then the files as name size public.
 */
const SCENARIO_FUNCTIONS = String.raw`$nonce = $argv[0]; $dir = $argv[1]; $port = [int]$argv[2]
function Tell([string]$s) { [Console]::Error.WriteLine("$nonce $s"); [Console]::Error.Flush() }
function Harness([string]$s) { [Console]::Error.WriteLine("harness: $s"); [Console]::Error.Flush() }
function Listening { @([System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties().GetActiveTcpListeners() | ForEach-Object { $_.Port } | Sort-Object -Unique) }
function Ports { Tell ('ports ' + ((Listening) -join ' ')) }
function Receive([object[]]$spec) {
  for ($i = 0; $i + 2 -lt $spec.Count; $i += 3) {
    $n = [int]$spec[$i + 1]; $buf = New-Object byte[] $n; $got = 0
    while ($got -lt $n) { $r = $in.Read($buf, $got, $n - $got); if ($r -le 0) { break }; $got += $r }
    if ($got -lt $n) { Harness "the upload of $($spec[$i]) was cut short ($got of $n bytes): the link to the harness dropped"; return $false }
    [System.IO.File]::WriteAllBytes((Join-Path $dir $spec[$i]), $buf)
  }
  $true
}
function Prepare([object[]]$spec) {
  try {
    $null = New-Item -ItemType Directory -Path $dir
    PRIVATE_DIR
  } catch { Harness "cannot create the scenario directory $($dir): $($_.Exception.Message)"; exit 1 }
  if (-not (Receive $spec)) { Remove-Item -LiteralPath $dir -Recurse -Force; exit 1 }
  if ((Listening) -contains $port) { Harness "the REST port $port chosen for the EMS is in use on the gateway"; Remove-Item -LiteralPath $dir -Recurse -Force; exit 1 }
}
function Follow([string]$log, [long]$offset, [scriptblock]$running, [scriptblock]$exitCode) {
  $reader = $null; $ctl = New-Object byte[] 64; $pending = $in.ReadAsync($ctl, 0, 64); $exited = $false; $tick = 0
  while ($true) {
    if (-not $reader -and (Test-Path -LiteralPath $log)) {
      $fs = [System.IO.File]::Open($log, 'Open', 'Read', 'ReadWrite, Delete'); $null = $fs.Seek($offset, 'Begin'); $reader = New-Object System.IO.StreamReader($fs)
    }
    if ($reader) { $chunk = $reader.ReadToEnd(); if ($chunk) { [Console]::Out.Write($chunk); [Console]::Out.Flush() } }
    if ($pending.IsCompleted) {
      if ($pending.Result -le 0) { break }
      $pending = $in.ReadAsync($ctl, 0, 64)
    }
    if (-not $exited -and ($tick % 2) -eq 0 -and -not (& $running)) {
      $exited = $true
      $grown = 0; if (Test-Path -LiteralPath $log) { $grown = (Get-Item -LiteralPath $log).Length - $offset }
      $code = "$(& $exitCode)".Trim(); if (-not $code) { $code = '-' }
      Tell "exit $code - $grown"
    }
    $tick++; Start-Sleep -Milliseconds 100
  }
  if ($reader) { $reader.Close() }
  $exited
}`.replace('PRIVATE_DIR', privateDirScript('$dir').replace(/\n/g, '\n    '));

/**
 * One scenario on a gateway whose EMS a Windows service runs: the service stopped, the install's
 * config.json replaced by the scenario's (the journal holds the original), the service started,
 * the log followed; at EOF the service stopped, the original put back, the directory removed.
 * $argv after the common three: config backup log service ('' backup: there was no config.json).
 */
export const SERVICE_SCENARIO_SCRIPT = `${SCENARIO_FUNCTIONS}
$config = $argv[3]; $backup = $argv[4]; $log = $argv[5]; $service = $argv[6]
function PutBack {
  try {
    if ($backup) { Copy-Item -LiteralPath $backup -Destination "$config.wsems-new" -Force; Move-Item -LiteralPath "$config.wsems-new" -Destination $config -Force }
    elseif (Test-Path -LiteralPath $config) { Remove-Item -LiteralPath $config -Force }
  } catch { Harness "cannot put $config back from $($backup): $($_.Exception.Message)" }
}
Prepare $argv[7..($argv.Count - 1)]
try {
  Stop-Service -Name $service -Force
  Copy-Item -LiteralPath (Join-Path $dir 'config.json') -Destination "$config.wsems-new" -Force; Move-Item -LiteralPath "$config.wsems-new" -Destination $config -Force
  $offset = 0; if (Test-Path -LiteralPath $log) { $offset = (Get-Item -LiteralPath $log).Length }
  Start-Service -Name $service
} catch {
  Harness "cannot start $($service): $($_.Exception.Message)"
  Stop-Service -Name $service -Force -ErrorAction SilentlyContinue; PutBack; Remove-Item -LiteralPath $dir -Recurse -Force; exit 1
}
Tell 'started'
$exited = Follow $log $offset { (Get-Service -Name $service).Status -eq 'Running' } { (Get-CimInstance Win32_Service | Where-Object { $_.Name -eq $service }).ExitCode }
try { Stop-Service -Name $service -Force } catch { Harness "cannot stop $($service): $($_.Exception.Message)" }
if (-not $exited) { Tell 'exit - -' }
PutBack
Remove-Item -LiteralPath $dir -Recurse -Force
Ports`;

/**
 * One scenario run as a scheduled task (the EMS outlives no SSH session this way): the task
 * registered on the session's config.json and started, its log (cmd.exe's redirect) followed; at
 * EOF the task stopped and unregistered, the EMS ended by its command line, the directory removed.
 * $argv after the common three: the task's name and its cmd.exe line (/d /s /c ""exe" "-cfg" …"), then the files.
 */
export const TASK_SCENARIO_SCRIPT = `${SCENARIO_FUNCTIONS}
$task = $argv[3]; $line = $argv[4]; $log = Join-Path $dir 'ems.log'
Prepare $argv[5..($argv.Count - 1)]
try {
  $a = New-ScheduledTaskAction -Execute 'cmd.exe' -Argument $line -WorkingDirectory $dir
  $p = New-ScheduledTaskPrincipal -UserId ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name) -LogonType S4U
  $s = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Hours 1) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
  $null = Register-ScheduledTask -TaskName $task -Action $a -Principal $p -Settings $s -Force
  Start-ScheduledTask -TaskName $task
} catch { Harness "cannot start the EMS as scheduled task $($task): $($_.Exception.Message)"; Remove-Item -LiteralPath $dir -Recurse -Force; exit 1 }
Tell 'started'
$exited = Follow $log 0 { (Get-ScheduledTask -TaskName $task).State -eq 'Running' } { (Get-ScheduledTaskInfo -TaskName $task).LastTaskResult }
Stop-ScheduledTask -TaskName $task -ErrorAction SilentlyContinue
$null = ${stopProcessesNaming('$dir')}
Unregister-ScheduledTask -TaskName $task -Confirm:$false -ErrorAction SilentlyContinue
if (-not $exited) { Tell 'exit - -' }
Remove-Item -LiteralPath $dir -Recurse -Force
Ports`;

/**
 * The target EMS's `-encrypt` for each secret, from its install directory, each secret one
 * verbatim argument: per secret a frame with the exit code and the last line of output, then one
 * with the last line of its stderr. $argv: nonce install-dir executable, then the secrets.
 */
export const ENCRYPT_ALL_SCRIPT = String.raw`$nonce = $argv[0]
Set-Location -LiteralPath $argv[1]
$exe = $argv[2]
foreach ($s in $argv[3..($argv.Count - 1)]) {
  $err = [System.IO.Path]::GetTempFileName()
  $ErrorActionPreference = 'Continue'
  $out = & $exe -encrypt $s 2>$err
  $code = $LASTEXITCODE
  $ErrorActionPreference = 'Stop'
  $last = @($out | Where-Object { "$_".Trim() }) | Select-Object -Last 1
  [Console]::Out.WriteLine("$nonce $code $last")
  $e = @(Get-Content -LiteralPath $err | Where-Object { "$_".Trim() }) | Select-Object -Last 1
  [Console]::Out.WriteLine("$nonce err $e")
  Remove-Item -LiteralPath $err -Force
}`;

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

  protected bootstrapCommand(): string {
    return psCommand(BOOTSTRAP_SCRIPT);
  }

  protected frame(s: Script): Buffer {
    return psFrame(s.script, s.args);
  }

  protected lockCommand(workDir: string, runsDir: string, lockFile: string): string {
    return psCommand(lockScript(workDir, runsDir, lockFile));
  }

  protected probeCommand(host: string, port: number): string {
    return psCommand(probeScript(host, port));
  }

  protected async listeningPorts(conn: SshConnection): Promise<number[]> {
    return (await conn.run(psCommand(LISTENING_PORTS_SCRIPT), 'list listening ports')).split(/\s+/).filter(Boolean).map(Number);
  }

  protected encryptAllScript(nonce: string, secrets: string[]): Script {
    try {
      for (const s of secrets) nativeArg(s, 'the secret to encrypt');
    } catch (e) {
      throw new InfrastructureError(`${this.id}: ${(e as Error).message}`);
    }
    return { script: ENCRYPT_ALL_SCRIPT, args: [nonce, windowsNative(this.config.installDir), windowsNative(this.config.executable), ...secrets] };
  }

  protected clearRunsCommand(runsDir: string): string {
    return psCommand(clearRunsScript(runsDir));
  }

  protected executableCheckCommand(): string {
    return psCommand(executableCheckScript(this.config.executable));
  }

  protected makeLauncher(conn: SshConnection): Launcher {
    const s = this.startMode;
    if (s.mode === 'scheduled-task') return new TaskLauncher(this.config.executable);
    const abs = (p: string) => (win32.isAbsolute(p) ? windowsNative(p) : win32.join(windowsNative(this.config.installDir), p));
    return new WindowsServiceLauncher(conn, s.service, abs(s.config), abs(s.log));
  }
}

/** Runs a script on the gateway; fails (naming what) unless it exits 0. */
function ps(conn: SshConnection, script: string, what: string): Promise<string> {
  return conn.run(psCommand(script), what);
}

/** The $argv every scenario script starts with. */
function commonArgs(plan: ScenarioPlan): string[] {
  return [plan.nonce, windowsNative(plan.dir), String(plan.restPort)];
}

/** A Windows service owns the EMS: the install's config.json is swapped (journaled), the service restarted, in the scenario's script. */
class WindowsServiceLauncher implements Launcher {
  readonly changes: string[];
  readonly service: ServiceControl;
  readonly #scripts: ReturnType<typeof serviceScripts>;

  constructor(
    private readonly conn: SshConnection,
    private readonly name: string,
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

  async preflight(): Promise<void> {
    await ps(this.conn, this.#scripts.check, `find service ${this.service.name}`);
  }

  scenario(plan: ScenarioPlan): ScenarioScript {
    const original = plan.journal.files.find((f) => f.path === this.config);
    if (!original) throw new InfrastructureError(`${this.conn.opts.targetId}: the restore journal does not hold ${this.config}: not swapping it`);
    return { script: SERVICE_SCENARIO_SCRIPT, args: [...commonArgs(plan), this.config, original.backup ?? '', this.log, this.name, ...fileArgs(plan.files)], drain: 'grown', output: 'service log' };
  }
}

class TaskLauncher implements Launcher {
  readonly changes: string[] = [];

  constructor(private readonly executable: string) {}

  async preflight(): Promise<void> {}

  scenario(plan: ScenarioPlan): ScenarioScript {
    const dir = windowsNative(plan.dir);
    // The task runs cmd.exe, every word quoted; what cmd.exe cannot carry is refused here, before anything is sent.
    const line = cmdLine([windowsNative(this.executable), '-cfg', win32.join(dir, 'config.json')], win32.join(dir, 'ems.log'));
    return { script: TASK_SCENARIO_SCRIPT, args: [...commonArgs(plan), `${TASK_PREFIX}${win32.basename(dir)}`, line, ...fileArgs(plan.files)], drain: 'grown', output: 'task log' };
  }
}
