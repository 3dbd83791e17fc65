import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConformanceRun } from '../harness/scenario/conformance-run.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';
import { SESSION_PREFIX } from '../targets/local.ts';
import { wrapTarget } from './target-wrap.ts';

// A run leaves nothing behind: no EMS process, no listening endpoint or REST port, no session
// directory — whether the scenarios connected, were refused at the handshake or at start-up.
// Scoped to this run: the session directories its target opened (recorded as it opens them), the
// processes that name one of them, and the sockets of this process and its descendants; whatever
// else runs on the host (another harness run, another test's leftovers) is not looked at.

const pids = async () => (await readdir('/proc')).filter((p) => /^\d+$/.test(p)).map(Number);

/** Processes whose command line names one of the directories. */
async function processesIn(dirs: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await pids()) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    if (dirs.some((d) => cmd.includes(d))) found.push(`${pid}: ${cmd}`);
  }
  return found;
}

/** This process and its descendants. */
async function processTree(root = process.pid): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const pid of await pids()) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat) parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parent) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** TCP ports on which one of these processes holds a listening socket (/proc/net/tcp{,6}: state 0A, matched by socket inode). */
async function listeningPortsOf(processes: readonly number[]): Promise<number[]> {
  const inodes = new Set<string>();
  for (const pid of processes) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
      if (m) inodes.add(m[1]!);
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

describe('a conformance run', function () {
  this.timeout(120_000);
  let reports: string;
  before(async () => { reports = await mkdtemp(join(tmpdir(), 'leak-test-reports-')); });
  after(() => rm(reports, { recursive: true, force: true }));

  it('can see what it looks for: a listener of its own, by its port', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.ok((await listeningPortsOf(await processTree())).includes((server.address() as { port: number }).port));
    } finally {
      server.close();
    }
  });

  it('leaves no process, port or temp directory behind', async () => {
    const sessions: string[] = [];
    const [simulator] = await loadTargets(DEFAULT_INVENTORY, ['simulator']);
    const run = await ConformanceRun.prepare({
      targets: [wrapTarget(simulator!, { session: (s) => (sessions.push(s.dir), s) })],
      inventory: DEFAULT_INVENTORY,
      reportsDir: reports,
      jobs: 2,
      scenarios: ['cert.self-signed.refused', 'client.key-p12.wrong-passphrase', 'client.none-presented', 'criteria.all-match'],
    });
    const doc = await run.finish();
    assert.deepEqual(doc.results.map((r) => `${r.scenario}:${r.status}`).sort(), [
      'baseline.sanity:passed', 'cert.self-signed.refused:passed', 'client.key-p12.wrong-passphrase:passed',
      'client.none-presented:passed', 'criteria.all-match:passed',
    ]);
    assert.equal(sessions.length, 5, 'one session per scenario');
    assert.ok(sessions.every((d) => d.startsWith(join(tmpdir(), SESSION_PREFIX))), 'sessions are this process\'s own temp directories');
    assert.deepEqual(await processesIn(sessions), [], 'EMS processes of this run still running');
    assert.deepEqual(sessions.filter((d) => existsSync(d)), [], 'session directories left');
    const ports = doc.results.flatMap((r) => {
      const cfg = r.actual.evidence.config as { ws_servers?: Array<{ port: number }>; http_server?: { port: number } } | undefined;
      return [cfg?.ws_servers?.[0]?.port, cfg?.http_server?.port].filter((p): p is number => typeof p === 'number');
    });
    assert.equal(ports.length, 10, 'every result carries its endpoint and REST port');
    const held = await listeningPortsOf(await processTree());
    assert.deepEqual(ports.filter((p) => held.includes(p)), [], 'ports this process (or a child of it) still listens on');
    const written = JSON.parse(await readFile(join(reports, 'results.json'), 'utf8')) as { results: unknown[] };
    assert.equal(written.results.length, 5);
  });
});
