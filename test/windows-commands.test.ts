import { strict as assert } from 'node:assert';
import { formatPath } from '../harness/ems/render.ts';
import { GatewayTarget, type GatewayConfig } from '../targets/ssh/gateway.ts';
import { cmdLine, CMD_LINE_LIMIT, encodeCommand, nativeArg, psCommand, psQuote, windowsForward, windowsNative, windowsSftp } from '../targets/ssh/powershell.ts';
import {
  clearRunsScript, encryptScript, followScript, lockScript, serviceScripts, SshWindowsTarget, startTaskScript, taskScripts, TASK_PREFIX,
} from '../targets/ssh/windows.ts';

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
    for (const script of [...Object.values(s), clearRunsScript('C:\\w\\runs'), ...Object.values(taskScripts('t', 'C:\\w\\runs\\x'))]) {
      assert.doesNotMatch(script, /(^|[\s;&|(])sc(\s|$)/m, 'sc is the Set-Content alias in PowerShell: only sc.exe names the service tool');
    }
  });

  it('registers the EMS as a scheduled task (processes of an SSH session die with it) and cleans up by prefix', () => {
    const script = startTaskScript(`${TASK_PREFIX}s1`, 'C:/EMS/wsems.exe', 'C:/w/runs/s1/config.json', 'C:/w/runs/s1', 'C:/w/runs/s1/ems.log');
    assert.match(script, /New-ScheduledTaskAction -Execute 'cmd\.exe' -Argument '\/d \/s \/c ""C:\\EMS\\wsems\.exe" "-cfg" "C:\\w\\runs\\s1\\config\.json" > "C:\\w\\runs\\s1\\ems\.log" 2>&1"'/);
    assert.match(script, /-LogonType S4U/);
    assert.match(script, /Register-ScheduledTask -TaskName 'wsems-conformance-s1' .* -Force\nStart-ScheduledTask -TaskName 'wsems-conformance-s1'$/);
    assert.match(clearRunsScript('C:/w/runs'), /Get-ScheduledTask -TaskName 'wsems-conformance-\*'/);
  });

  it('reads logs from a byte offset with shared access (the EMS keeps writing); lines are split CRLF-safe by the harness', () => {
    const script = followScript('C:/EMS/logs/wsems.log', 1234);
    assert.match(script, /\[System\.IO\.File\]::Open\(\$path, 'Open', 'Read', 'ReadWrite, Delete'\)/);
    assert.match(script, /\$fs\.Seek\(1234, 'Begin'\)/);
    assert.match(script, /\$path = 'C:\\EMS\\logs\\wsems\.log'/);
  });

  it('holds the gateway lock with an exclusive open that ends with the session', () => {
    assert.match(lockScript('C:/ProgramData/wsems-conformance/lock'), /\[System\.IO\.File\]::Open\('C:\\ProgramData\\wsems-conformance\\lock', 'OpenOrCreate', 'ReadWrite', 'None'\)/);
  });

  it('asks the target EMS to encrypt, from its install directory, with the secret as one verbatim argument', () => {
    assert.equal(encryptScript('C:/EMS', 'C:/EMS/wsems.exe', "s3cr'et"), "Set-Location -LiteralPath 'C:\\EMS'\n& 'C:\\EMS\\wsems.exe' -encrypt 's3cr''et'\nexit $LASTEXITCODE");
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
      t.lockCommand!.call(target, target.join(config.workDir, 'lock')),
      t.probeCommand!.call(target, 'platform.conformance.test', 4433),
      t.encryptCommand!.call(target, 'secret-value'),
      t.removeTreeCommand!.call(target, target.join(config.workDir, 'runs', 'x')),
      t.clearRunsCommand!.call(target, target.join(config.workDir, 'runs')),
      t.executableCheckCommand!.call(target),
    ];
    for (const c of commands) assert.doesNotMatch(decode(c), /C:\/|\/C:/, 'scripts use native C:\\ paths');
    assert.match(decode(commands[2]!), /& 'C:\\Program Files\\ThingWorx\\EMS\\wsems\.exe' -encrypt 'secret-value'/);
  });

  it('joins paths natively and hands SFTP the /C:/ form', () => {
    assert.equal(target.join(config.workDir, 'runs', 's1'), 'C:\\ProgramData\\wsems-conformance\\runs\\s1');
    assert.equal(target.sftpPath(target.join(config.workDir, 'journal.json')), '/C:/ProgramData/wsems-conformance/journal.json');
    assert.ok(target instanceof GatewayTarget);
    assert.equal(target.profile.os, 'windows');
    assert.equal(target.concurrency, 1);
  });
});
