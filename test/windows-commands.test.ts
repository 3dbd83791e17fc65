import { strict as assert } from 'node:assert';
import { formatPath } from '../harness/ems/render.ts';
import { GatewayTarget, type GatewayConfig } from '../targets/ssh/gateway.ts';
import { cmdLine, CMD_LINE_LIMIT, encodeCommand, nativeArg, psCommand, psQuote, windowsForward, windowsNative, windowsSftp } from '../targets/ssh/powershell.ts';
import {
  BOOTSTRAP_SCRIPT, clearRunsScript, ENCRYPT_ALL_SCRIPT, lockScript, psFrame, SERVICE_SCENARIO_SCRIPT, serviceScripts, SshWindowsTarget, TASK_PREFIX, TASK_SCENARIO_SCRIPT,
} from '../targets/ssh/windows.ts';
import type { Journal } from '../targets/ssh/journal.ts';

// The Windows driver, checked against documented behaviour (there is no Windows machine here):
// how -EncodedCommand is encoded, how PowerShell and cmd.exe quote, how Win32-OpenSSH's SFTP and
// the EMS (CERT-PATHS) spell paths. docs/lab.md lists what this does and does not verify.

/** The script a command carries, decoded as PowerShell would (UTF-16LE base64). */
function decode(command: string): string {
  const m = /^powershell -NoProfile -NonInteractive -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(command);
  assert.ok(m, `not an encoded PowerShell command: ${command.slice(0, 80)}`);
  return Buffer.from(m[1]!, 'base64').toString('utf16le');
}

describe('Windows driver: PowerShell commands', () => {
  it('encodes -EncodedCommand as base64 of UTF-16LE (about_PowerShell_exe example)', () => {
    // The documented example: $command = 'dir "c:\program files" '; [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($command))
    assert.equal(encodeCommand('dir "c:\\program files" '), 'ZABpAHIAIAAiAGMAOgBcAHAAcgBvAGcAcgBhAG0AIABmAGkAbABlAHMAIgAgAA==');
    assert.equal(Buffer.from(encodeCommand('é €'), 'base64').toString('hex'), 'e9002000ac20'); // UTF-16LE (€ = U+20AC → ac 20), not UTF-8
  });

  it('wraps every script: stop on error, no progress records, UTF-8 output, errors to stderr with exit 1', () => {
    const script = decode(psCommand('Get-Service -Name X'));
    assert.match(script, /^\$ErrorActionPreference = 'Stop'\n\$ProgressPreference = 'SilentlyContinue'\n\[Console\]::OutputEncoding = \[System\.Text\.Encoding\]::UTF8\ntry \{\nGet-Service -Name X\n\} catch \{/);
    assert.match(script, /\[Console\]::Error\.WriteLine\(\$_\.Exception\.Message\)\n {2}exit 1\n\}\n$/);
  });

  it("refuses a command longer than cmd.exe's 8191 characters", () => {
    assert.ok(psCommand('x'.repeat(2000)).length <= CMD_LINE_LIMIT);
    assert.throws(() => psCommand('x'.repeat(4000)), /exceeds cmd\.exe's 8191/);
  });

  it('quotes values as verbatim strings, doubling every kind of single quote (about_Quoting_Rules)', () => {
    assert.equal(psQuote("it's"), "'it''s'");
    assert.equal(psQuote('$env:PATH `n "x"'), "'$env:PATH `n \"x\"'"); // nothing expands inside single quotes
    assert.equal(psQuote('a\u2018b\u2019c\u201Ad\u201Be'), "'a\u2018\u2018b\u2019\u2019c\u201A\u201Ad\u201B\u201Be'");
  });

  it('passes a native argument only when Windows PowerShell can pass it unchanged', () => {
    assert.equal(nativeArg('base64url-Secret_1', 'x'), "'base64url-Secret_1'");
    assert.throws(() => nativeArg('has"quote', 'the secret'), /the secret contains a double quote/);
    assert.throws(() => nativeArg('ends\\', 'the secret'), /trailing backslash/);
  });

  it('builds the cmd.exe line of a scheduled task with /s /c, every word quoted, % refused', () => {
    assert.equal(cmdLine(['C:\\Program Files\\EMS\\wsems.exe', '-cfg', 'C:\\w\\config.json'], 'C:\\w\\ems.log'), '/d /s /c ""C:\\Program Files\\EMS\\wsems.exe" "-cfg" "C:\\w\\config.json" > "C:\\w\\ems.log" 2>&1"');
    assert.throws(() => cmdLine(['C:\\%TEMP%\\x']), /cannot pass/);
  });

  it('manages services with Get-Service/Start-Service/Stop-Service, never bare sc', () => {
    const s = serviceScripts("ThingWorx WS EMS");
    assert.equal(s.start, "Start-Service -Name 'ThingWorx WS EMS'");
    assert.equal(s.stop, "Stop-Service -Name 'ThingWorx WS EMS' -Force");
    assert.match(s.running, /^if \(\(Get-Service -Name 'ThingWorx WS EMS'\)\.Status -ne 'Running'\) \{ exit 1 \}$/);
    for (const script of [...Object.values(s), clearRunsScript('C:\\w\\runs'), SERVICE_SCENARIO_SCRIPT, TASK_SCENARIO_SCRIPT, ENCRYPT_ALL_SCRIPT, BOOTSTRAP_SCRIPT]) {
      assert.doesNotMatch(script, /(^|[\s;&|(])sc(\s|$)/m, 'sc is the Set-Content alias in PowerShell: only sc.exe names the service tool');
    }
  });

  it('holds the gateway lock with an exclusive open that ends with the session, after making the work directories private', () => {
    const script = lockScript('C:/ProgramData/wsems-conformance', 'C:/ProgramData/wsems-conformance/runs', 'C:/ProgramData/wsems-conformance/lock');
    assert.match(script, /New-Item -ItemType Directory -Force -Path 'C:\\ProgramData\\wsems-conformance\\runs'/);
    assert.match(script, /icacls\.exe 'C:\\ProgramData\\wsems-conformance' \/inheritance:r/);
    assert.match(script, /\[System\.IO\.File\]::Open\('C:\\ProgramData\\wsems-conformance\\lock', 'OpenOrCreate', 'ReadWrite', 'None'\)/);
  });
});

describe('Windows driver: a scenario in one channel (as on Linux; unverified on Windows)', () => {
  it('the channel opened ahead reads one base64 line from the raw stdin stream and runs it, leaving the rest for the script', () => {
    const command = psCommand(BOOTSTRAP_SCRIPT);
    assert.ok(command.length <= CMD_LINE_LIMIT);
    const script = decode(command);
    assert.match(script, /\$in = \[Console\]::OpenStandardInput\(\)/, 'a raw stream: a buffering reader would swallow the files after the line');
    assert.match(script, /\$in\.ReadByte\(\)/);
    assert.match(script, /\[ScriptBlock\]::Create\(\[System\.Text\.Encoding\]::UTF8\.GetString\(\[Convert\]::FromBase64String/);
    // The frame: one line, base64 of UTF-8, $argv set from verbatim literals (no length limit: it is input, not a command line).
    const frame = psFrame('Write-Output $argv[1]', ['n', "it's $x", 'C:\\dir']).toString();
    assert.match(frame, /^[A-Za-z0-9+/=]+\n$/);
    assert.equal(Buffer.from(frame.trim(), 'base64').toString('utf8'), "$argv = @('n', 'it''s $x', 'C:\\dir')\nWrite-Output $argv[1]");
  });

  it('service mode: files from the raw stream, config.json swapped and put back, the log followed from its size with shared access, the service state watched on the gateway', () => {
    const s = SERVICE_SCENARIO_SCRIPT;
    assert.match(s, /\$in\.Read\(\$buf, \$got, \$n - \$got\)/, 'each file exactly its byte count');
    assert.match(s, /cut short \(\$got of \$n bytes\)/);
    assert.match(s, /icacls\.exe \$dir \/inheritance:r/, 'the session directory for the login user and SYSTEM only');
    assert.match(s, /Stop-Service -Name \$service -Force[\s\S]*Move-Item -LiteralPath "\$config\.wsems-new" -Destination \$config -Force[\s\S]*Start-Service -Name \$service/);
    assert.match(s, /\[System\.IO\.File\]::Open\(\$log, 'Open', 'Read', 'ReadWrite, Delete'\); \$null = \$fs\.Seek\(\$offset, 'Begin'\)/);
    assert.match(s, /Tell "exit \$code - \$grown"/, 'an exit says how far the log grew: the harness reads up to there');
    assert.match(s, /\$in\.ReadAsync\(\$ctl, 0, 64\)/, 'EOF is seen while the log is followed');
    assert.doesNotMatch(s, /function Rest|'rest'/, 'the REST check dials through the connection, not through this script');
    assert.match(s, /PutBack\nRemove-Item -LiteralPath \$dir -Recurse -Force\nPorts$/);
  });

  it('scheduled-task mode: the task runs cmd.exe on the session config.json, is stopped and unregistered at EOF, its EMS ended by its command line', () => {
    assert.match(TASK_SCENARIO_SCRIPT, /New-ScheduledTaskAction -Execute 'cmd\.exe' -Argument \$line -WorkingDirectory \$dir/);
    assert.match(TASK_SCENARIO_SCRIPT, /-LogonType S4U/);
    assert.match(TASK_SCENARIO_SCRIPT, /Stop-ScheduledTask -TaskName \$task[\s\S]*\$_\.CommandLine\.Contains\(\$dir\)[\s\S]*Unregister-ScheduledTask -TaskName \$task -Confirm:\$false/);
    assert.match(clearRunsScript('C:/w/runs'), /Get-ScheduledTask -TaskName 'wsems-conformance-\*'/);
  });

  it('asks -encrypt for every secret in one script, each secret one verbatim argument', () => {
    assert.match(ENCRYPT_ALL_SCRIPT, /Set-Location -LiteralPath \$argv\[1\]/);
    assert.match(ENCRYPT_ALL_SCRIPT, /foreach \(\$s in \$argv\[3\.\.\(\$argv\.Count - 1\)\]\) \{[\s\S]*& \$exe -encrypt \$s 2>\$err/);
  });
});

describe('Windows driver: paths', () => {
  it('spells one path in the native, forward and SFTP forms', () => {
    assert.equal(windowsNative('C:/ProgramData/wsems conformance/a.pem'), 'C:\\ProgramData\\wsems conformance\\a.pem');
    assert.equal(windowsForward('C:\\ProgramData\\x\\a.pem'), 'C:/ProgramData/x/a.pem');
    assert.equal(windowsSftp('D:\\x\\y.json'), '/D:/x/y.json'); // Win32-OpenSSH's SFTP names drive paths /D:/…
    assert.throws(() => windowsSftp('relative\\x'), /not an absolute Windows path/);
  });

  it('renders config.json paths in both Windows forms of CERT-PATHS', () => {
    const reported = windowsForward('C:\\ProgramData\\wsems-conformance\\runs\\s\\chain-root.pem'); // what putFile returns
    const escaped = formatPath(reported, 'windows-escaped');
    assert.equal(escaped, 'C:\\ProgramData\\wsems-conformance\\runs\\s\\chain-root.pem');
    assert.equal(JSON.stringify({ cert_chain: escaped }), '{"cert_chain":"C:\\\\ProgramData\\\\wsems-conformance\\\\runs\\\\s\\\\chain-root.pem"}');
    assert.equal(formatPath(reported, 'windows-forward'), 'C:/ProgramData/wsems-conformance/runs/s/chain-root.pem');
  });
});

describe('Windows driver: every command it sends', () => {
  const config: GatewayConfig = {
    id: 'win',
    inventoryFile: 'inv.yaml',
    profile: { flavour: 'openssl', os: 'windows', capabilities: [], errorMap: [] },
    pathStyle: 'windows-escaped',
    platform: { host: 'platform.conformance.test', bind: '127.0.0.1' },
    ssh: { host: 'gw', port: 22, user: 'admin', auth: { describe: 'x' }, hostKeys: [], keepalive: { intervalMs: 1000, countMax: 3 }, connectTimeoutMs: 1000 },
    workDir: 'C:/ProgramData/wsems-conformance',
    installDir: 'C:/Program Files/ThingWorx/EMS',
    executable: 'C:\\Program Files\\ThingWorx\\EMS\\wsems.exe',
    acceptNewHostKey: false,
  };
  const target = new SshWindowsTarget(config, { mode: 'scheduled-task' });
  // The protected builders, as the base class calls them.
  const t = target as unknown as Record<string, (...a: unknown[]) => string>;

  it('is a PowerShell -EncodedCommand for every builder, with Windows paths inside', () => {
    const commands = [
      t.lockCommand!.call(target, config.workDir, target.join(config.workDir, 'runs'), target.join(config.workDir, 'lock')),
      t.probeCommand!.call(target, 'platform.conformance.test', 4433),
      t.bootstrapCommand!.call(target),
      t.clearRunsCommand!.call(target, target.join(config.workDir, 'runs')),
      t.executableCheckCommand!.call(target),
    ];
    for (const c of commands) assert.doesNotMatch(decode(c), /C:\/|\/C:/, 'scripts use native C:\\ paths');
  });

  it('builds the scenario and -encrypt scripts with native paths and refuses what PowerShell or cmd.exe would change', () => {
    const enc = (t.encryptAllScript as unknown as (n: string, s: string[]) => { script: string; args: string[] }).call(target, 'n', ['secret-value']);
    assert.deepEqual(enc.args, ['n', 'C:\\Program Files\\ThingWorx\\EMS', 'C:\\Program Files\\ThingWorx\\EMS\\wsems.exe', 'secret-value']);
    assert.throws(() => (t.encryptAllScript as unknown as (n: string, s: string[]) => unknown).call(target, 'n', ['has"quote']), /win: the secret to encrypt contains a double quote/);
    const launcher = (t.makeLauncher as unknown as (c: unknown) => { scenario(p: unknown): { script: string; args: string[]; drain: unknown } }).call(target, {});
    const journal: Journal = { format: 1, target: 'win', by: { host: 'h', pid: 1 }, createdAt: '', files: [], service: null };
    const dir = target.join(config.workDir, 'runs', 's1-abc');
    const plan = { nonce: 'n', dir, restPort: 23456, journal, files: [{ name: 'chain-root.pem', content: Buffer.from('abc'), secret: false }, { name: 'config.json', content: Buffer.from('{}'), secret: true }] };
    const run = launcher.scenario(plan);
    assert.equal(run.script, TASK_SCENARIO_SCRIPT);
    assert.deepEqual(run.args, ['n', dir, '23456', `${TASK_PREFIX}s1-abc`,
      '/d /s /c ""C:\\Program Files\\ThingWorx\\EMS\\wsems.exe" "-cfg" "C:\\ProgramData\\wsems-conformance\\runs\\s1-abc\\config.json" > "C:\\ProgramData\\wsems-conformance\\runs\\s1-abc\\ems.log" 2>&1"',
      'chain-root.pem', '3', '1', 'config.json', '2', '0']);
    assert.equal(run.drain, 'grown');
    assert.equal((run as unknown as { output: string }).output, 'task log');
  });

  it('joins paths natively and hands SFTP the /C:/ form', () => {
    assert.equal(target.join(config.workDir, 'runs', 's1'), 'C:\\ProgramData\\wsems-conformance\\runs\\s1');
    assert.equal(target.sftpPath(target.join(config.workDir, 'journal.json')), '/C:/ProgramData/wsems-conformance/journal.json');
    assert.ok(target instanceof GatewayTarget);
    assert.equal(target.profile.os, 'windows');
    assert.equal(target.concurrency, 1);
  });
});
