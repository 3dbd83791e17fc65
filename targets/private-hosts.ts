import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { CONFORMANCE_NAMES } from '../harness/scenario/capabilities.ts';
import { InfrastructureError } from '../harness/scenario/target.ts';

// How a local EMS resolves the conformance host names (capability `conformance-names`) to the
// harness's endpoints: as a lab gateway does, through /etc/hosts. Here that is a private copy,
// bind-mounted over /etc/hosts in a mount namespace of the EMS's own (util-linux `unshare`, as
// root or in an unprivileged user namespace). The EMS's own resolver does the lookups; nothing
// in the EMS is touched. `unshare` and `sh` exec in place, so the pid started is the EMS's.

const SHELL = '/bin/sh';
// $0 is the hosts file; the EMS command line follows.
const MOUNT_AND_EXEC = 'mount --bind "$0" /etc/hosts && exec "$@"';

/** Whether the EMS must resolve `host` through the private hosts file. */
export function needsPrivateHosts(host: string | undefined): boolean {
  return host !== undefined && (CONFORMANCE_NAMES as readonly string[]).includes(host.toLowerCase());
}

/** The machine's /etc/hosts with every conformance name pointing at `address`. */
export async function privateHostsText(address: string): Promise<string> {
  const system = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1 localhost\n');
  return `${system.endsWith('\n') || system === '' ? system : `${system}\n`}# the harness's conformance names (private to this EMS)\n${address} ${CONFORMANCE_NAMES.join(' ')}\n`;
}

/** The command that runs `executable args` with `hostsFile` as its /etc/hosts. */
export function withPrivateHosts(hostsFile: string, executable: string, args: string[]): { command: string; args: string[] } {
  const unshare = process.getuid?.() === 0 ? ['--mount'] : ['--map-root-user', '--mount'];
  return { command: 'unshare', args: [...unshare, '--', SHELL, '-c', MOUNT_AND_EXEC, hostsFile, executable, ...args] };
}

let probe: Promise<string | undefined> | undefined;

/** Rejects with an InfrastructureError (once checked, for every caller) when this host cannot give an EMS its own /etc/hosts. */
export async function checkPrivateHosts(targetId: string, hostsFile: string): Promise<void> {
  probe ??= (async () => {
    const { command, args } = withPrivateHosts(hostsFile, 'true', []);
    try {
      await promisify(execFile)(command, args, { timeout: 10_000 });
      return undefined;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      return (e.stderr?.trim() || e.message).split('\n')[0];
    }
  })();
  const failure = await probe;
  if (failure !== undefined) {
    throw new InfrastructureError(
      `${targetId}: the EMS must resolve ${CONFORMANCE_NAMES.join(', ')} to the harness's endpoints (capability conformance-names), ` +
        `but this host cannot give it a private /etc/hosts (${failure}); run as root or allow unprivileged user namespaces, ` +
        'or drop conformance-names from the target\'s capabilities',
    );
  }
}
