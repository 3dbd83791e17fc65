import * as z from 'zod';
import { FINGERPRINT } from './host-key.ts';

// Inventory entries of gateways reached over SSH (`ssh-linux`, `ssh-windows`): passive facts,
// validated here; targets/inventory.ts puts them in its discriminated union. No secret is ever
// written in the inventory: keys are files, passphrases and passwords environment variables.

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable');
const NO_SECRET = (what: string, instead: string) =>
  z.never({ error: `never write a ${what} in the inventory: put it in an environment variable and name it with ${instead}` }).optional();

export const SshAuth = z
  .object({
    /** A private key file (OpenSSH or PEM), relative to the inventory; `~/` is the home directory. */
    keyFile: z.string().min(1).optional(),
    /** The environment variable holding the key file's passphrase. */
    passphraseEnv: EnvName.optional(),
    /** Use the ssh-agent at $SSH_AUTH_SOCK. */
    agent: z.literal(true).optional(),
    /** The environment variable holding a password (gateways that allow nothing else). */
    passwordEnv: EnvName.optional(),
    password: NO_SECRET('password', 'passwordEnv'),
    passphrase: NO_SECRET('passphrase', 'passphraseEnv'),
    privateKey: NO_SECRET('private key', 'keyFile (a path)'),
  })
  .strict()
  .refine((a) => [a.keyFile, a.agent, a.passwordEnv].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of keyFile, agent: true or passwordEnv',
  })
  .refine((a) => !a.passphraseEnv || a.keyFile, { message: 'passphraseEnv only goes with keyFile', path: ['passphraseEnv'] });
export type SshAuth = z.infer<typeof SshAuth>;

/** Where the gateway reaches the harness's endpoints: a name and the harness address behind it, or a reverse tunnel. */
export const Platform = z.union([
  z
    .object({
      /** The name (or address) the EMS connects to, written in ws_servers; the platform leaves carry it in their SAN. */
      host: z.string().min(1),
      /** The address of this host the endpoints listen on (the gateway must route to it). */
      bind: z.union([z.ipv4(), z.ipv6()]),
    })
    .strict(),
  z.object({ tunnel: z.literal('reverse') }).strict(),
], { error: 'either { host, bind } or { tunnel: reverse }' });
export type Platform = z.infer<typeof Platform>;

const SshCommon = {
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  /** Host name or address of the gateway's SSH server. */
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  auth: SshAuth,
  /** The gateway's host key fingerprint(s) as `ssh-keygen -lf` prints them; absent until first contact. */
  hostKey: z.union([z.string().regex(FINGERPRINT, 'an OpenSSH fingerprint: SHA256: and 43 base64 characters'), z.array(z.string().regex(FINGERPRINT)).min(1)]).optional(),
  platform: Platform,
  keepalive: z.object({ intervalMs: z.number().int().positive().default(2000), countMax: z.number().int().positive().default(3) }).strict().prefault({}),
  connectTimeoutMs: z.number().int().positive().default(10_000),
};

const LinuxPath = z.string().regex(/^\//, 'an absolute path (/…)');
const WindowsPath = z.string().regex(/^[A-Za-z]:[\\/]/, 'an absolute Windows path (C:\\… or C:/…)');

export const LinuxStart = z.discriminatedUnion('mode', [
  /** The harness starts the EMS itself over SSH with `-cfg <session>/config.json`; the install is not touched. */
  z.object({ mode: z.literal('process'), env: z.record(EnvName, z.string()).default({}) }).strict(),
  /** A systemd unit owns the EMS: the harness swaps the install's config.json (journaled) and restarts the unit; logs from journalctl. */
  z.object({ mode: z.literal('systemd'), unit: z.string().min(1), config: z.string().default('etc/config.json') }).strict(),
  /** A SysV init script owns the EMS (`script start|stop|status`); logs from the file it writes. */
  z.object({ mode: z.literal('sysv'), script: LinuxPath, log: z.string().min(1), config: z.string().default('etc/config.json') }).strict(),
]);
export type LinuxStart = z.infer<typeof LinuxStart>;

export const WindowsStart = z.discriminatedUnion('mode', [
  /** A Windows service owns the EMS (Get-Service/Start-Service/Stop-Service); logs from the file it writes. */
  z.object({ mode: z.literal('service'), service: z.string().min(1), log: z.string().min(1), config: z.string().default('etc/config.json') }).strict(),
  /**
   * The harness starts the EMS with `-cfg <session>\config.json` as a scheduled task: a process
   * started inside an SSH session dies with it on Windows, a task does not.
   */
  z.object({ mode: z.literal('scheduled-task') }).strict(),
]);
export type WindowsStart = z.infer<typeof WindowsStart>;

export const SshLinuxFields = {
  ...SshCommon,
  kind: z.literal('ssh-linux'),
  ems: z
    .object({
      installDir: LinuxPath,
      /** Relative to installDir, or absolute. */
      executable: z.string().min(1).default('bin/wsems'),
      start: LinuxStart.default({ mode: 'process', env: {} }),
    })
    .strict(),
  /** Where the harness keeps its restore journal and per-scenario directories on the gateway. */
  workDir: LinuxPath.default('/var/tmp/wsems-conformance'),
};

export const SshWindowsFields = {
  ...SshCommon,
  kind: z.literal('ssh-windows'),
  ems: z
    .object({
      installDir: WindowsPath,
      executable: z.string().min(1).default('wsems.exe'),
      start: WindowsStart,
    })
    .strict(),
  workDir: WindowsPath.default('C:/ProgramData/wsems-conformance'),
  /** How config.json spells paths (CERT-PATHS): `C:\\dir\\file` escaped, or `C:/dir/file`. */
  paths: z.enum(['windows-escaped', 'windows-forward']).default('windows-forward'),
};
