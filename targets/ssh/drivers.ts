import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, posix, resolve, win32 } from 'node:path';
import type * as z from 'zod';
import type { TargetProfile } from '../../harness/scenario/target.ts';
import type { SshAuth as SshAuthOptions } from './connection.ts';
import type { GatewayConfig } from './gateway.ts';
import { SshLinuxTarget } from './linux.ts';
import type { SshAuth, SshLinuxFields, SshWindowsFields } from './schema.ts';
import { SshWindowsTarget } from './windows.ts';

// From a validated inventory entry to a driver: credentials resolved (key file read, environment
// variables looked up) with errors that name the inventory file and the field.

type Entry<F extends z.ZodRawShape> = z.output<z.ZodObject<F>>;
export type SshLinuxEntry = Entry<typeof SshLinuxFields>;
export type SshWindowsEntry = Entry<typeof SshWindowsFields>;

export interface DriverContext {
  inventoryFile: string;
  /** `--accept-new-host-key`: a target without a pinned key may be contacted once and pinned. */
  acceptNewHostKey: boolean;
}

/** `where` names the entry, e.g. `inventory.yaml: targets[2]`. */
export async function gatewayTarget(
  entry: SshLinuxEntry | SshWindowsEntry,
  profile: TargetProfile,
  ctx: DriverContext,
  where: string,
): Promise<SshLinuxTarget | SshWindowsTarget> {
  const windows = entry.kind === 'ssh-windows';
  const path = windows ? win32 : posix;
  const config: GatewayConfig = {
    id: entry.id,
    inventoryFile: ctx.inventoryFile,
    profile,
    pathStyle: windows ? entry.paths : 'posix',
    platform: entry.platform,
    ssh: {
      host: entry.address,
      port: entry.port,
      user: entry.user,
      auth: await resolveAuth(entry.auth, ctx.inventoryFile, `${where}.auth`),
      hostKeys: entry.hostKey === undefined ? [] : [entry.hostKey].flat(),
      keepalive: entry.keepalive,
      connectTimeoutMs: entry.connectTimeoutMs,
    },
    workDir: entry.workDir,
    installDir: entry.ems.installDir,
    executable: path.isAbsolute(entry.ems.executable) ? entry.ems.executable : path.join(entry.ems.installDir, entry.ems.executable),
    acceptNewHostKey: ctx.acceptNewHostKey,
  };
  return entry.kind === 'ssh-windows' ? new SshWindowsTarget(config, entry.ems.start) : new SshLinuxTarget(config, entry.ems.start);
}

async function resolveAuth(auth: SshAuth, inventoryFile: string, where: string): Promise<SshAuthOptions> {
  const env = (field: string, name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${where}.${field}: the environment variable ${name} is not set`);
    return v;
  };
  if (auth.keyFile) {
    const file = auth.keyFile.startsWith('~/') ? resolve(homedir(), auth.keyFile.slice(2)) : isAbsolute(auth.keyFile) ? auth.keyFile : resolve(dirname(inventoryFile), auth.keyFile);
    const privateKey = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${where}.keyFile: cannot read ${file} (${e.code ?? e.message})`);
    });
    return { privateKey, ...(auth.passphraseEnv ? { passphrase: env('passphraseEnv', auth.passphraseEnv) } : {}), describe: `key file ${file}` };
  }
  if (auth.agent) return { agent: env('agent', 'SSH_AUTH_SOCK'), describe: 'ssh-agent at $SSH_AUTH_SOCK' };
  return { password: env('passwordEnv', auth.passwordEnv!), describe: `password from $${auth.passwordEnv}` };
}
