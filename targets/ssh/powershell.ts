// PowerShell command building and Windows path forms for Windows gateways (Win32-OpenSSH).
//
// Every command goes over SSH as `powershell -NoProfile -NonInteractive -EncodedCommand <b64>`:
// the script is UTF-16LE, base64 (about_PowerShell_exe: "-EncodedCommand Accepts a
// Base64-encoded string version of a command"), so neither the gateway's default shell (cmd.exe
// by default) nor PowerShell's own argument parsing ever sees a quote, a space or a `%` of it.
// Values inside scripts are single-quoted PowerShell literals (about_Quoting_Rules).

/** cmd.exe's command-line limit (the default shell of Win32-OpenSSH passes the command to it). */
export const CMD_LINE_LIMIT = 8191;

/**
 * Every character PowerShell treats as a single quote (U+0027 and the typographic ones U+2018,
 * U+2019, U+201A, U+201B: the language spec's single-quote-character); inside a single-quoted
 * string each is escaped by doubling it.
 */
const SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;

/** A PowerShell verbatim string literal: no expansion of `$`, backtick or anything else. */
export function psQuote(s: string): string {
  return `'${s.replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

/** The -EncodedCommand argument: base64 of the script's UTF-16LE bytes. */
export function encodeCommand(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

/**
 * Stops at the first error and reports it on stderr with exit 1; no progress records (they
 * would come out as CLIXML on a redirected stderr); UTF-8 output whatever the console code page.
 */
const PRELUDE = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  '[Console]::OutputEncoding = [System.Text.Encoding]::UTF8',
].join('\n');

/** The whole exec command for a script. Throws when it would not fit cmd.exe's line. */
export function psCommand(body: string): string {
  const script = `${PRELUDE}\ntry {\n${body}\n} catch {\n  [Console]::Error.WriteLine($_.Exception.Message)\n  exit 1\n}\n`;
  const command = `powershell -NoProfile -NonInteractive -EncodedCommand ${encodeCommand(script)}`;
  if (command.length > CMD_LINE_LIMIT) throw new Error(`PowerShell command of ${command.length} characters exceeds cmd.exe's ${CMD_LINE_LIMIT}: split the script`);
  return command;
}

const DRIVE_PATH = /^([A-Za-z]):[\\/]/;

/** `C:\dir\file` (either separator in) → `C:\dir\file`: the native form commands use. */
export function windowsNative(path: string): string {
  assertDrivePath(path);
  return path.replace(/\//g, '\\');
}

/** → `C:/dir/file`: the form putFile reports (render.ts turns it into either CERT-PATHS form). */
export function windowsForward(path: string): string {
  assertDrivePath(path);
  return path.replace(/\\/g, '/');
}

/** → `/C:/dir/file`: how Win32-OpenSSH's SFTP server names a path on a drive. */
export function windowsSftp(path: string): string {
  return `/${windowsForward(path)}`;
}

function assertDrivePath(path: string): void {
  if (!DRIVE_PATH.test(path)) throw new Error(`not an absolute Windows path with a drive letter: ${path}`);
}

/**
 * An argument for a native program called from PowerShell 5.1 (`& exe arg`). Windows PowerShell
 * wraps an argument containing spaces in double quotes but does not escape embedded double quotes
 * or a trailing backslash, so such values would reach the program changed: refuse them.
 */
export function nativeArg(value: string, what: string): string {
  if (/["\0]/.test(value) || /\\$/.test(value)) throw new Error(`${what} contains a double quote, NUL or trailing backslash, which Windows PowerShell cannot pass to a program unchanged`);
  return psQuote(value);
}

/** A cmd.exe `/s /c "…"` line quoting each word; `%` (expanded even inside quotes) is refused. */
export function cmdLine(words: string[], redirectTo?: string): string {
  for (const w of [...words, ...(redirectTo ? [redirectTo] : [])]) {
    if (/["%\0\r\n]/.test(w)) throw new Error(`cannot pass ${JSON.stringify(w)} through cmd.exe (it contains ", % or a line break)`);
  }
  const line = words.map((w) => `"${w}"`).join(' ');
  return `/d /s /c "${line}${redirectTo ? ` > "${redirectTo}" 2>&1` : ''}"`;
}
