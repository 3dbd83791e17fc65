#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { execa } from 'execa';
import { constants } from 'node:fs';
import { access, chmod, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprintOfPublicKey } from '../ssh/host-key.ts';
import { writeLabInventory } from './inventory.ts';
import { gatewayLayout, LAB_CLIENT_KEY, LAB_JSON, LAB_STATE, PLATFORM_NAME, readLab, ROLES, type Lab, type LabGateway, type Role } from './layout.ts';

// The virtual lab (root only): N Linux "gateways", each a network namespace joined to this host
// by a veth pair, running Debian's OpenSSH server with its own host key and a client key made
// for this lab, with the bundled simulator installed as its EMS. `up` also writes the
// inventory (targets/lab/state/virtual-lab.yaml); `down` removes everything `up` made.
//
//   harness host                          gateway lab-gwN (netns wsems-gwN)
//   10.77.N.1   (management, SSH from) ── 10.77.N.2:22 sshd
//   10.77.N.254 (endpoints listen)    ◄── platform.conformance.test (its /etc/hosts)

const SIMULATOR = fileURLToPath(new URL('../simulator/', import.meta.url));
const SSHD = '/usr/sbin/sshd';
const READY_TRIES = 100; // × 50 ms: sshd binds within a few ms; this only bounds a broken start

async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.exitCode}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('the virtual lab creates network namespaces: run it as root (sudo)');
}

/** Debian's OpenSSH server is what the gateways run; installed where it is missing. */
async function ensureSshd(): Promise<void> {
  if (await access(SSHD, constants.X_OK).then(() => true, () => false)) return;
  console.error('lab: installing openssh-server');
  await sh('apt-get', ['update', '-qq']);
  await sh('apt-get', ['install', '-y', '-qq', 'openssh-server']);
  // The package may start an sshd on the host itself; the lab wants none there.
  await execa('invoke-rc.d', ['ssh', 'stop'], { reject: false });
}

function sshdConfig(g: Omit<LabGateway, 'hostKey'>): string {
  return [
    `# sshd of the virtual lab gateway ${g.id} (network namespace ${g.netns}); written by targets/lab/lab.ts`,
    `ListenAddress ${g.address}:${g.sshPort}`,
    `HostKey ${join(g.dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${g.sshdPidFile}`,
    // Not root's own authorized_keys: the lab must not change the host's accounts.
    `AuthorizedKeysFile ${join(g.dir, 'authorized_keys')}`,
    // The state may live under any checkout (CI clones anywhere, /tmp included): the key file is
    // the lab's own, 0600 in a 0700 directory, whatever the modes of the directories above it.
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'AllowTcpForwarding yes',
    // A harness that vanished without closing (dropped link) is noticed in seconds, so its
    // session, and the EMS tied to it, end.
    'ClientAliveInterval 1',
    'ClientAliveCountMax 3',
    'Subsystem sftp internal-sftp',
    'PrintMotd no',
    'LogLevel INFO',
    '',
  ].join('\n');
}

/** A SysV-style init script: the EMS as a service that outlives any SSH session. */
function initScript(installDir: string): string {
  return `#!/bin/sh
# The WS EMS service of a virtual lab gateway (SysV style); written by targets/lab/lab.ts.
INSTALL='${installDir}'
EXE="$INSTALL/bin/wsems"
CFG="$INSTALL/etc/config.json"
LOG="$INSTALL/log/wsems.log"
PIDFILE="$INSTALL/run/wsems.pid"
# Alive = exists and is not a zombie waiting to be reaped (this VM's pid 1 reaps lazily).
alive() { [ -n "$1" ] && [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
running() { [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; }
case "$1" in
  start)
    running && exit 0
    cd "$INSTALL" || exit 1
    setsid "$EXE" -cfg "$CFG" </dev/null >>"$LOG" 2>&1 &
    echo $! >"$PIDFILE" ;;
  stop)
    running || { rm -f "$PIDFILE"; exit 0; }
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid"
    i=0
    while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$PIDFILE" ;;
  restart) "$0" stop && "$0" start ;;
  status) running ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
`;
}

/** The config.json the service gateway's EMS runs with before the harness borrows it. */
const PRODUCTION_CONFIG = {
  ws_servers: [{ host: '127.0.0.1', port: 9 }], // the gateway's own loopback: nothing listens, it retries
  appKey: 'lab-production-placeholder',
  ws_connection: { encryption: 'ssl', connect_retry_interval: 10000 },
  http_server: { host: 'localhost', port: 8000 },
  certificates: { validate: false },
  logger: { level: 'WARN' },
};

async function installEms(g: Omit<LabGateway, 'hostKey'>): Promise<void> {
  // Its own copy of the simulator: "remove the executable" faults one gateway only, and
  // `-encrypt` keys (dp.dat) are the gateway's own, as on real hardware.
  await mkdir(join(g.installDir, 'etc'), { recursive: true });
  await mkdir(join(g.installDir, 'log'), { recursive: true });
  await mkdir(join(g.installDir, 'run'), { recursive: true });
  await cp(join(SIMULATOR, 'bin'), join(g.installDir, 'bin'), { recursive: true });
  await cp(join(SIMULATOR, 'dist'), join(g.installDir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('dp.dat') });
  if (g.role !== 'service') return;
  await writeFile(g.serviceConfig!, JSON.stringify(PRODUCTION_CONFIG, null, 2) + '\n', { mode: 0o600 });
  await writeFile(g.initScript!, initScript(g.installDir), { mode: 0o755 });
}

async function upGateway(n: number, role: Role, clientPub: string): Promise<LabGateway> {
  const g = gatewayLayout(n, role);
  await mkdir(g.dir, { recursive: true, mode: 0o700 });
  await mkdir(g.workDir, { recursive: true });
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${g.id}-host`, '-f', join(g.dir, 'ssh_host_ed25519_key')]);
  await writeFile(join(g.dir, 'authorized_keys'), clientPub, { mode: 0o600 });
  await writeFile(join(g.dir, 'sshd_config'), sshdConfig(g));
  await installEms(g);

  await sh('ip', ['netns', 'add', g.netns]);
  await sh('ip', ['link', 'add', g.hostIf, 'type', 'veth', 'peer', 'name', g.gatewayIf, 'netns', g.netns]);
  await sh('ip', ['addr', 'add', `${g.hostAddress}/24`, 'dev', g.hostIf]);
  await sh('ip', ['addr', 'add', `${g.platformAddress}/24`, 'dev', g.hostIf]);
  await sh('ip', ['link', 'set', g.hostIf, 'up']);
  await sh('ip', ['-n', g.netns, 'addr', 'add', `${g.address}/24`, 'dev', g.gatewayIf]);
  await sh('ip', ['-n', g.netns, 'link', 'set', g.gatewayIf, 'up']);
  await sh('ip', ['-n', g.netns, 'link', 'set', 'lo', 'up']);
  // `ip netns exec` bind-mounts this over /etc/hosts for what it starts (sshd and its sessions).
  const etc = join('/etc/netns', g.netns);
  await mkdir(etc, { recursive: true });
  const platform = role === 'tunnel' ? '' : `${g.platformAddress} ${PLATFORM_NAME}\n`;
  await writeFile(join(etc, 'hosts'), `127.0.0.1 localhost\n::1 localhost ip6-localhost\n${g.address} ${g.id}\n${platform}`);
  await gatewayPasswd(g, etc);

  await startSshd(g);
  if (role === 'service') await sh('ip', ['netns', 'exec', g.netns, g.initScript!, 'start']);
  const hostKey = fingerprintOfPublicKey(await readFile(join(g.dir, 'ssh_host_ed25519_key.pub'), 'utf8'));
  return { ...g, hostKey };
}

/** Starts the gateway's sshd inside its namespace; resolves once it answers. */
export async function startSshd(g: Omit<LabGateway, 'hostKey'>): Promise<void> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
  await sh('ip', ['netns', 'exec', g.netns, SSHD, '-f', join(g.dir, 'sshd_config'), '-E', join(g.dir, 'sshd.log')]);
  await waitForSsh(g.address, g.sshPort, g.id);
}

/**
 * The gateway's own /etc/passwd (`ip netns exec` bind-mounts /etc/netns/<ns>/passwd over it for
 * sshd and its sessions): root's home is an empty directory of the gateway and its shell /bin/sh,
 * so a login runs none of the host root's shell start-up files, as on a separate machine.
 */
async function gatewayPasswd(g: Omit<LabGateway, 'hostKey'>, etc: string): Promise<void> {
  const home = join(g.dir, 'root');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const passwd = (await readFile('/etc/passwd', 'utf8'))
    .split('\n')
    .map((line) => (line.startsWith('root:') ? [...line.split(':').slice(0, 5), home, '/bin/sh'].join(':') : line))
    .join('\n');
  await writeFile(join(etc, 'passwd'), passwd, { mode: 0o644 });
}

/** Stops the gateway's sshd listener (its pid file names it) and waits until it is gone; sessions already open live on. */
export async function stopSshd(g: LabGateway): Promise<void> {
  const pid = Number((await readFile(g.sshdPidFile, 'utf8')).trim());
  signal(pid, 'SIGTERM');
  // Until it has exited it still accepts connections (and each gets a session of its own).
  for (let i = 0; i < READY_TRIES && (await access(`/proc/${pid}`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
}

async function waitForSsh(host: string, port: number, id: string): Promise<void> {
  for (let i = 0; i < READY_TRIES; i++) {
    const banner = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('SSH-')); });
      s.once('error', () => resolve(false));
    });
    if (banner) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id}: sshd did not answer on ${host}:${port}`);
}

async function up(count: number, roles: readonly Role[] = ROLES): Promise<Lab> {
  requireRoot();
  await ensureSshd();
  await down(); // a lab left from before (even half made) goes first
  await mkdir(LAB_STATE, { recursive: true, mode: 0o700 });
  await chmod(LAB_STATE, 0o700);
  await execa('node', [join(SIMULATOR, 'build.mjs')], { stdio: 'inherit' });
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wsems-lab-client', '-f', LAB_CLIENT_KEY]);
  const clientPub = await readFile(`${LAB_CLIENT_KEY}.pub`, 'utf8');
  const gateways: LabGateway[] = [];
  for (let n = 1; n <= count; n++) gateways.push(await upGateway(n, roles[(n - 1) % roles.length]!, clientPub));
  const lab: Lab = { createdAt: new Date().toISOString(), clientKey: LAB_CLIENT_KEY, inventory: '', gateways };
  lab.inventory = await writeLabInventory(lab);
  await writeFile(LAB_JSON, JSON.stringify(lab, null, 2) + '\n'); // last: the lab is up only when complete
  return lab;
}

/** Removes every namespace of the lab (and the processes in it), its hosts files and the state. */
async function down(): Promise<void> {
  requireRoot();
  const namespaces = (await sh('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter((n) => /^wsems-gw\d+$/.test(n));
  for (const ns of namespaces) {
    // Only processes inside the lab's own namespaces: its sshd, sessions and EMS services.
    const pids = (await sh('ip', ['netns', 'pids', ns])).split('\n').filter(Boolean).map(Number);
    for (const pid of pids) signal(pid, 'SIGKILL');
    await sh('ip', ['netns', 'del', ns]); // takes the veth pair with it
    await rm(join('/etc/netns', ns), { recursive: true, force: true });
  }
  await rm(LAB_STATE, { recursive: true, force: true });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const program = new Command('lab').description('the virtual lab: Linux gateways in network namespaces running OpenSSH');
program
  .command('up')
  .description('create the gateways (and remove a lab that is already up), write the inventory')
  .option('--gateways <n>', `how many (roles cycle through ${ROLES.join(', ')})`, (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new InvalidArgumentError('must be a whole number from 1 to 50');
    return n;
  }, 3)
  // Identical gateways (e.g. --roles process) measure N gateways against one of the same kind (npm run bench -- --lab).
  .option('--roles <list>', `the roles to cycle through, comma-separated (default ${ROLES.join(',')}; the lab tests need one of each)`, (v) => {
    const roles = v.split(',').map((r) => r.trim());
    const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
    if (!roles.length || bad.length) throw new InvalidArgumentError(`unknown role ${bad.join(', ')}: one or more of ${ROLES.join(', ')}`);
    return roles as Role[];
  })
  .action(async (o: { gateways: number; roles?: Role[] }) => {
    const lab = await up(o.gateways, o.roles);
    for (const g of lab.gateways) console.log(`${g.id}  ${g.role.padEnd(8)} root@${g.address}:${g.sshPort}  ${g.hostKey}  (netns ${g.netns})`);
    console.log(`inventory: ${lab.inventory}`);
  });
program.command('down').description('remove the gateways and everything the lab wrote').action(() => down());
program
  .command('status')
  .description('print the lab that is up')
  .action(async () => {
    const { lab, reason } = await readLab();
    if (!lab) {
      console.log(reason);
      process.exitCode = 1;
      return;
    }
    console.log(JSON.stringify(lab, null, 2));
  });

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await program.parseAsync().catch((e: Error) => {
    console.error(`lab: ${e.message}`);
    process.exitCode = 1;
  });
}
