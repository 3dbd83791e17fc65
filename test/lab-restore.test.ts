import { strict as assert } from 'node:assert';
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareRun } from './prepare-run.ts';
import { describeLab, gateway, harnessProcessesIn, processesIn, sha, waitFor, workLeftovers } from '../targets/lab/testing.ts';

// Gateways are borrowed, not owned: the harness is SIGKILLed in the middle of scenarios that
// have uploaded private keys to one gateway and swapped the EMS service's config.json on another.
// Its scenario scripts on the gateways see their input close and clean up what they can (the EMS
// stopped, keys and directory removed, the original config.json back); the journal stays, and the
// service stays stopped. A harder crash (the gateway-side scripts killed too: a power cut) leaves
// keys and the scenario's config.json in place. Either way the next run, or `npm run restore`,
// puts the gateways back exactly: the original config.json, the service running on it, no key, no
// run directory, no journal, no process of the harness's own.

const CLI = fileURLToPath(new URL('../harness/cli.ts', import.meta.url));

await describeLab('restoring gateways after the harness was killed', (lab) => {
  const proc = gateway(lab, 'process');
  const service = gateway(lab, 'service');
  let reports: string;
  let original: string;
  before(async () => {
    reports = await mkdtemp(join(tmpdir(), 'lab-restore-'));
    original = await sha(service.serviceConfig!);
  });
  after(() => rm(reports, { recursive: true, force: true }));

  /**
   * Starts a real harness run (one node process) and SIGKILLs it once both gateways are
   * mid-scenario with secrets on them; `powerCut`: the harness's processes on the gateways are
   * SIGKILLed first, so nothing there cleans up.
   */
  async function crashMidScenario(powerCut: boolean): Promise<void> {
    const child: ResultPromise = execa('node', ['--import', 'tsx', CLI, 'run', '--inventory', lab.inventory, '--target', proc.id, service.id, '--scenario', 'client.key', '--reports', reports], { reject: false, stdio: 'ignore' });
    const keysOnGateway = async () => (await runFiles(proc.workDir)).some((f) => /\.(key|p8|p12)$|\.enc\.pem$/.test(f)) && (await harnessProcessesIn(proc)).length > 0;
    const serviceSwapped = async () => (await sha(service.serviceConfig!)) !== original;
    const midScenario = async () => (await keysOnGateway()) && (await serviceSwapped());
    const ended = child.then((r) => { throw new Error(`the run ended before it was killed (exit ${r.exitCode})`); });
    for (;;) {
      await Promise.race([waitFor(midScenario), ended]);
      if (!powerCut) break;
      // Freeze the gateway side first, then look again: a scenario that ended between the look and
      // the freeze has already put its gateway back, and a power cut then would prove nothing.
      const pids = (await Promise.all([proc, service].map(harnessProcessesIn))).flat().map((p) => p.pid);
      for (const pid of pids) signal(pid, 'SIGSTOP');
      if (await midScenario()) {
        for (const pid of pids) signal(pid, 'SIGKILL');
        break;
      }
      for (const pid of pids) signal(pid, 'SIGCONT');
    }
    child.kill('SIGKILL');
    assert.equal((await child).signal, 'SIGKILL');
  }

  async function assertCrashed(powerCut: boolean): Promise<void> {
    assert.ok((await workLeftovers(proc)).includes('journal.json'), 'the killed run left its journal on the process gateway');
    assert.ok((await workLeftovers(service)).includes('journal.json'), 'and on the service gateway');
    if (powerCut) {
      assert.ok((await runFiles(proc.workDir)).some((f) => /\.(key|p8|p12)$|\.enc\.pem$/.test(f)), 'a key stays in a run directory');
      assert.notEqual(await sha(service.serviceConfig!), original, "the service's config.json is still the scenario's");
    } else {
      // The scripts on the gateways saw their input close: EMS stopped, keys gone, the original config.json back, the service stopped.
      await waitFor(async () => (await harnessProcessesIn(proc)).length === 0 && (await runFiles(proc.workDir)).length === 0);
      await waitFor(async () => (await harnessProcessesIn(service)).length === 0 && (await sha(service.serviceConfig!)) === original);
      assert.equal((await processesIn(service)).filter((p) => p.cmd.includes(`-cfg ${service.serviceConfig}`)).length, 0, 'the service is stopped (the journal starts it again)');
    }
  }

  async function assertRestored(): Promise<void> {
    for (const g of [proc, service]) {
      assert.deepEqual(await workLeftovers(g), [], `${g.id}: no journal, no run directory (no key) left`);
      assert.deepEqual(await harnessProcessesIn(g), [], `${g.id}: no EMS of the harness's own`);
    }
    assert.equal(await sha(service.serviceConfig!), original, "the service's own config.json is back, byte for byte");
    const ems = (await processesIn(service)).filter((p) => p.cmd.includes(`-cfg ${service.serviceConfig}`));
    assert.equal(ems.length, 1, 'the service runs again, on its own config.json');
  }

  it('after a power cut on both ends the next run finds the journals and restores the gateways first', async function () {
    this.timeout(180_000);
    await crashMidScenario(true);
    await assertCrashed(true);
    const next = await prepareRun({ inventory: lab.inventory, only: [proc.id, service.id], scenarios: ['baseline.sanity'], reportsDir: reports });
    const doc = await next.finish();
    for (const r of doc.results) assert.equal(r.status, 'passed', `${r.target}/${r.scenario}: ${r.message}`);
    await assertRestored();
  });

  it('after the harness alone was killed `npm run restore` puts the gateways back by hand', async function () {
    this.timeout(180_000);
    await crashMidScenario(false);
    await assertCrashed(false);
    const r = await execa('node', ['--import', 'tsx', CLI, 'restore', '--inventory', lab.inventory, '--target', proc.id, service.id], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`${service.id}: restored ${service.serviceConfig!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\n${service.id}: started .* again`));
    await assertRestored();
  });
});

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** Every file under a gateway's run directories. */
async function runFiles(workDir: string): Promise<string[]> {
  const runs = join(workDir, 'runs');
  const dirs = await readdir(runs).catch(() => [] as string[]);
  return (await Promise.all(dirs.map(async (d) => (await readdir(join(runs, d)).catch(() => [] as string[])).map((f) => join(d, f))))).flat();
}
