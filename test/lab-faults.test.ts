import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { prepareRun } from './prepare-run.ts';
import type { ScenarioResult } from '../harness/scenario/run.ts';
import { startSshd, stopSshd } from '../targets/lab/lab.ts';
import type { LabGateway } from '../targets/lab/layout.ts';
import { describeLab, gateway, harnessProcessesIn, sshdSessions, waitFor, workLeftovers } from '../targets/lab/testing.ts';

// Faults are BROKEN, not FAILED: each is injected for real in the virtual lab (a wrong or unknown
// host key, a key the gateway does not accept, no gateway at the address, sshd stopped, the EMS
// executable removed, the endpoints' address unreachable from the gateway, the SSH connection
// killed and the link dropped while a scenario runs). The affected target's scenarios are broken
// with the cause, a healthy target in the same run carries on, nothing is left running.

type Entry = Record<string, unknown>;

await describeLab('faults in the virtual lab are BROKEN with their cause', (lab) => {
  const gw = gateway(lab, 'process');
  const healthy = gateway(lab, 'tunnel');
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'lab-faults-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The lab inventory with the faulty gateway's entry changed; returns its path. */
  async function inventory(patch: (e: Entry) => void, name = 'inv'): Promise<string> {
    const doc = parse(await readFile(lab.inventory, 'utf8')) as { targets: Entry[] };
    patch(doc.targets.find((t) => t.id === gw.id)!);
    const file = join(dir, `${name}-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, stringify(doc));
    return file;
  }

  async function run(opts: Partial<Parameters<typeof prepareRun>[0]> & { inventory: string }): Promise<ScenarioResult[]> {
    const r = await prepareRun({ only: [gw.id], scenarios: ['baseline.sanity'], reportsDir: join(dir, 'reports'), ...opts });
    return (await r.finish()).results;
  }

  function allBroken(results: ScenarioResult[], target: string, cause: RegExp): void {
    const mine = results.filter((r) => r.target === target);
    assert.ok(mine.length > 0);
    for (const r of mine) {
      assert.equal(r.status, 'broken', `${r.scenario}: ${r.status} ${r.message}`);
      assert.match(r.message!, cause);
    }
  }

  async function nothingLeft(g: LabGateway): Promise<void> {
    await waitFor(async () => (await harnessProcessesIn(g)).length === 0); // the watcher ends them as the session goes
    assert.deepEqual(await workLeftovers(g), [], `${g.id}: journal and run directories gone`);
    const ours = (await execa('ss', ['-tnp'])).stdout.split('\n').filter((l) => l.includes(`pid=${process.pid},`) && l.includes(`${g.address}:22`));
    assert.deepEqual(ours, [], 'no SSH connection of the harness left open');
  }

  it('a changed host key: refused, showing the key seen and how to pin it', async function () {
    this.timeout(60_000);
    const wrong = 'SHA256:vATrt5FlycNrx90Rui4252EfqSokp3P01y8cGOLcixQ';
    const file = await inventory((e) => { e.hostKey = wrong; });
    allBroken(await run({ inventory: file }), gw.id, new RegExp(`the gateway's host key is ${esc(gw.hostKey)}, but ${esc(file)} pins ${esc(wrong)} .*refusing to connect.*set hostKey: ${esc(gw.hostKey)}`));
  });

  it('an unknown host key: refused unless --accept-new-host-key, which pins it in the inventory', async function () {
    this.timeout(60_000);
    const file = await inventory((e) => { delete e.hostKey; });
    allBroken(await run({ inventory: file, acceptNewHostKey: false }), gw.id, new RegExp(`pins no host key for this target and the gateway offers ${esc(gw.hostKey)}.*--accept-new-host-key`));
    const results = await run({ inventory: file, acceptNewHostKey: true });
    assert.equal(results[0]!.status, 'passed', results[0]!.message);
    const pinned = (parse(await readFile(file, 'utf8')) as { targets: Entry[] }).targets.find((t) => t.id === gw.id)!;
    assert.equal(pinned.hostKey, gw.hostKey);
  });

  it('a key the gateway does not accept: authentication failure', async function () {
    this.timeout(60_000);
    const key = join(dir, 'stranger');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const file = await inventory((e) => { e.auth = { keyFile: key }; });
    allBroken(await run({ inventory: file }), gw.id, new RegExp(`root@${esc(gw.address)}:22: SSH authentication failed \\(key file ${esc(key)}\\)`));
  });

  it('no gateway at the address: unreachable', async function () {
    this.timeout(60_000);
    const file = await inventory((e) => { e.address = gw.address.replace(/\.2$/, '.3'); e.connectTimeoutMs = 2000; });
    allBroken(await run({ inventory: file }), gw.id, /unreachable/);
  });

  it('sshd stopped: refused connection; the other gateway in the run carries on', async function () {
    this.timeout(120_000);
    await stopSshd(gw);
    try {
      const results = await run({ inventory: lab.inventory, only: [gw.id, healthy.id], scenarios: ['baseline', 'cert.host'] });
      allBroken(results, gw.id, /refused the SSH connection \(ECONNREFUSED\): is sshd running there\?/);
      const other = results.filter((r) => r.target === healthy.id);
      // A lab gateway resolves one name only, so the wildcard scenarios are not run on it (UNSUPPORTED);
      // every scenario it runs must pass.
      const ran = other.filter((r) => r.actual.verdict !== 'UNSUPPORTED');
      assert.ok(ran.length > 5, `${ran.length} scenarios ran on ${healthy.id}`);
      for (const r of ran) assert.ok(r.status === 'passed', `${r.scenario}: ${r.message}`);
      for (const r of other.filter((x) => x.actual.verdict === 'UNSUPPORTED')) assert.match(r.message ?? '', /lacks capability conformance-names/);
    } finally {
      await startSshd(gw);
    }
  });

  it('the EMS executable removed: every scenario of the gateway broken, naming it', async function () {
    this.timeout(60_000);
    const exe = join(gw.installDir, 'bin', 'wsems');
    await rename(exe, `${exe}.away`);
    try {
      allBroken(await run({ inventory: lab.inventory }), gw.id, new RegExp(`the EMS executable ${esc(exe)} is missing or cannot run on the gateway`));
    } finally {
      await rename(`${exe}.away`, exe);
    }
    await nothingLeft(gw);
  });

  it("the endpoints' address unreachable from the gateway: broken before any verdict", async function () {
    this.timeout(60_000);
    await execa('ip', ['-n', gw.netns, 'route', 'add', 'unreachable', `${gw.platformAddress}/32`]);
    try {
      allBroken(await run({ inventory: lab.inventory }), gw.id, new RegExp(`the gateway cannot reach the harness's endpoints at platform\\.conformance\\.test:\\d+ \\(this host's ${esc(gw.platformAddress)}\\)`));
    } finally {
      await execa('ip', ['-n', gw.netns, 'route', 'del', 'unreachable', `${gw.platformAddress}/32`]);
    }
    await nothingLeft(gw);
  });

  /** Runs the certificate family on the gateway (and the healthy one); `fault` strikes once an EMS runs on the gateway. */
  async function faultMidScenario(fault: () => Promise<void>): Promise<ScenarioResult[]> {
    const r = await prepareRun({ inventory: lab.inventory, only: [gw.id, healthy.id], scenarios: ['cert.'], reportsDir: join(dir, 'reports') });
    const finished = r.finish();
    const emsRuns = waitFor(async () => (await harnessProcessesIn(gw)).some((p) => p.cmd.includes('-cfg')));
    await Promise.race([emsRuns, finished.then((d) => { throw new Error(`the run ended before an EMS ran on ${gw.id}: ${d.results[0]?.message}`); })]);
    await fault();
    return (await finished).results;
  }

  function brokenFromFault(results: ScenarioResult[], cause: RegExp): void {
    const mine = results.filter((r) => r.target === gw.id);
    const broken = mine.filter((r) => r.status === 'broken');
    assert.ok(broken.length > 0, 'the fault broke the scenario it struck');
    assert.match(broken[0]!.message!, cause);
    // Everything after the fault is broken too, with the same cause; nothing after it passed or failed.
    const first = mine.indexOf(broken[0]!);
    for (const r of mine.slice(first)) assert.equal(r.status === 'broken' || r.status === 'skipped', true, `${r.scenario}: ${r.status} ${r.message}`);
    assert.equal(mine.filter((r) => r.status === 'failed').length, 0);
    for (const r of results.filter((x) => x.target === healthy.id)) assert.ok(r.status === 'passed' || r.status === 'skipped', `${healthy.id}/${r.scenario}: ${r.message}`);
  }

  it('the SSH connection killed mid-scenario: broken, the rest of the gateway broken, the gateway restored afterwards', async function () {
    this.timeout(180_000);
    const results = await faultMidScenario(async () => {
      for (const s of await sshdSessions(gw)) process.kill(s.pid, 'SIGKILL'); // the harness's session on the gateway
    });
    brokenFromFault(results, new RegExp(`SSH connection to ${gw.id} \\(${esc(gw.address)}:22\\) .*(closed|failed)`));
    await nothingLeft(gw);
  });

  it('the link dropped mid-scenario: keepalive notices, broken; `restore` puts the gateway back once the link is back', async function () {
    this.timeout(180_000);
    let results: ScenarioResult[];
    try {
      results = await faultMidScenario(async () => void (await execa('ip', ['link', 'set', gw.hostIf, 'down'])));
    } finally {
      await execa('ip', ['link', 'set', gw.hostIf, 'up']);
    }
    brokenFromFault(results, new RegExp(`SSH connection to ${gw.id} .*failed: Keepalive timeout`));
    // The gateway ended the harness's session on its own (sshd's ClientAlive), and the EMS with it.
    await waitFor(async () => (await harnessProcessesIn(gw)).length === 0);
    // The run could not restore through a dead link: its journal waits for `npm run restore`.
    assert.ok((await workLeftovers(gw)).includes('journal.json'));
    const cli = await execa('npx', ['tsx', 'harness/cli.ts', 'restore', '--inventory', lab.inventory, '--target', gw.id], { reject: false });
    assert.equal(cli.exitCode, 0, cli.stderr);
    // The scenario script on the gateway may have removed its directory already (its input closed with the session).
    assert.match(cli.stderr, new RegExp(`${gw.id}: journal of .* from \\S+(\n${gw.id}: removed ${esc(gw.workDir)}/runs/.*)?\n?$`));
    await nothingLeft(gw);
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
