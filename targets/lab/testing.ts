import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { LAB_UP_COMMAND, readLab, type Lab, type LabGateway } from './layout.ts';

// What the lab tests share: whether the lab is up (pending with the reason and the command that
// starts it when it is not, a failure under CI), and looks into the gateways from the host side.

/** The lab when it is up and usable from here, else why not. */
export async function usableLab(): Promise<{ lab?: Lab; reason?: string }> {
  const { lab, reason } = await readLab();
  if (!lab) return { reason: reason! };
  if (process.getuid?.() !== 0) return { reason: `the lab tests inject faults with ip(8) and signals: run them as root` };
  const namespaces = (await execa('ip', ['netns', 'list'], { reject: false })).stdout;
  const missing = lab.gateways.filter((g) => !namespaces.includes(g.netns)).map((g) => g.netns);
  if (missing.length) return { reason: `the lab's namespaces ${missing.join(', ')} are gone (machine restarted?); start it again with: ${LAB_UP_COMMAND}` };
  return { lab };
}

/**
 * A mocha suite over the lab: runs `body` when the lab is up; otherwise one pending test whose
 * title says why and how to start it — or, under CI (CI=true), one failing test.
 */
export async function describeLab(title: string, body: (lab: Lab) => void): Promise<void> {
  const { lab, reason } = await usableLab();
  if (lab) {
    describe(title, () => body(lab));
    return;
  }
  describe(title, () => {
    if (process.env.CI === 'true') it('needs the virtual lab (CI)', () => { throw new Error(reason); });
    else it(`pending: ${reason}`);
  });
}

export function gateway(lab: Lab, role: LabGateway['role']): LabGateway {
  const g = lab.gateways.find((x) => x.role === role);
  if (!g) throw new Error(`the lab has no ${role} gateway (lab up --gateways 3 makes one of each)`);
  return g;
}

export interface Proc {
  pid: number;
  ppid: number;
  cmd: string;
}

/** The processes inside a gateway's network namespace. */
export async function processesIn(g: LabGateway): Promise<Proc[]> {
  const pids = (await execa('ip', ['netns', 'pids', g.netns])).stdout.split('\n').filter(Boolean).map(Number);
  const procs: Proc[] = [];
  for (const pid of pids) {
    const [cmd, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''), readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')]);
    // A zombie has no command line: it is gone, only not reaped yet.
    if (!cmd) continue;
    procs.push({ pid, ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), cmd: cmd.replace(/\0/g, ' ').trim() });
  }
  return procs;
}

/**
 * Processes of the harness's on the gateway: EMS processes it started in its run directories, its
 * lock holder, and every shell it runs (`sh -c … wsems-harness`: scenario scripts, channels opened ahead).
 */
export async function harnessProcessesIn(g: LabGateway): Promise<Proc[]> {
  return (await processesIn(g)).filter((p) => p.cmd.includes(`${g.workDir}/`) || p.cmd.includes(' wsems-harness'));
}

/** The sshd processes serving connections (children of the listener). */
export async function sshdSessions(g: LabGateway): Promise<Proc[]> {
  const listener = Number((await readFile(g.sshdPidFile, 'utf8')).trim());
  return (await processesIn(g)).filter((p) => p.ppid === listener);
}

/** Polls until `check` holds; the test's own timeout bounds it (never a timed assertion). */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, everyMs = 50): Promise<T> {
  for (;;) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** What the harness left in a gateway's work directory (journal, run directories). */
export async function workLeftovers(g: LabGateway): Promise<string[]> {
  const top = (await readdir(g.workDir).catch(() => [] as string[])).filter((f) => f !== 'lock' && f !== 'runs');
  const runs = (await readdir(`${g.workDir}/runs`).catch(() => [] as string[])).map((r) => `runs/${r}`);
  return [...top, ...runs];
}

/** What keeps a gateway from being as the harness found it: its journal or run directories, processes of its own. */
export async function notAsFound(g: LabGateway): Promise<string[]> {
  return [...(await workLeftovers(g)).map((f) => `${g.id}: ${f} left in ${g.workDir}`), ...(await harnessProcessesIn(g)).map((p) => `${g.id}: still running: ${p.cmd}`)];
}

/** The EMS processes a service gateway's init script runs on its own config.json. */
export async function serviceEms(g: LabGateway): Promise<Proc[]> {
  return (await processesIn(g)).filter((p) => p.cmd.includes(`-cfg ${g.serviceConfig}`));
}

/** A file's SHA-256: is a gateway's file byte for byte what it was? */
export async function sha(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}
