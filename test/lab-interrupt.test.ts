import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proxiedInventory } from '../targets/lab/proxied-inventory.ts';
import { describeLab, gateway, harnessProcessesIn, notAsFound, serviceEms, sha, waitFor } from '../targets/lab/testing.ts';

// Ctrl-C puts gateways back (harness/interrupt.ts): a real harness process runs the certificate
// family on the process and the service gateway of the virtual lab and gets SIGINT while both
// run an EMS. It lets those scenarios end, starts no other, restores both gateways, writes
// results.json (the rest reported not run) and the reports, and exits 2; the gateways are as they
// were, with no EMS of the harness's left. A second SIGINT (later than the first by more than a
// terminal's repeat) leaves at once and the journal waits for the next run: there the gateways
// sit behind a 400 ms link (targets/lab/delay-proxy.ts), so that putting them back takes longer
// than the second Ctrl-C takes to come.

const CLI = fileURLToPath(new URL('../harness/cli.ts', import.meta.url));

await describeLab('Ctrl-C during a lab run', (lab) => {
  const proc = gateway(lab, 'process');
  const service = gateway(lab, 'service');
  let reports: string;
  let original: string;
  before(async () => {
    reports = await mkdtemp(join(tmpdir(), 'lab-interrupt-'));
    original = await sha(service.serviceConfig!);
  });
  after(() => rm(reports, { recursive: true, force: true }));

  /** The run, as a lab engineer starts it; resolves once an EMS of the harness's runs on both gateways. */
  async function startRun(inventory = lab.inventory) {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--inventory', inventory, '--target', proc.id, service.id, '--scenario', 'cert.', '--reports', reports], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const midScenario = async () => (await harnessProcessesIn(proc)).some((p) => p.cmd.includes(' -cfg ')) && (await sha(service.serviceConfig!)) !== original;
    await Promise.race([waitFor(midScenario), exited.then((e) => { throw new Error(`the run ended before it was interrupted (exit ${e.code}): ${stderr}`); })]);
    return { child, exited, stderr: () => stderr };
  }

  it('SIGINT: running scenarios end, the rest are not run, both gateways are put back, results and reports written, exit 2', async function () {
    this.timeout(180_000);
    const run = await startRun();
    const t0 = performance.now();
    run.child.kill('SIGINT');
    const exit = await run.exited;
    const tookMs = Math.round(performance.now() - t0);
    assert.equal(exit.code, 2, run.stderr());
    assert.match(run.stderr(), /SIGINT: stopping: no new scenario starts/);
    assert.match(run.stderr(), /interrupted \(SIGINT\): .*exit 2/);
    for (const g of [proc, service]) assert.deepEqual(await notAsFound(g), [], `${g.id} is as it was`);
    assert.equal(await sha(service.serviceConfig!), original, "the service's own config.json is back, byte for byte");
    assert.equal((await serviceEms(service)).length, 1, 'the service runs again, on its own config.json');
    const doc = JSON.parse(await readFile(join(reports, 'results.json'), 'utf8')) as { results: Array<{ target: string; status: string; endedBy: string; message?: string }> };
    const notRun = doc.results.filter((r) => r.endedBy === 'not-run' && r.status === 'broken');
    assert.ok(notRun.length > 0 && notRun.every((r) => /interrupted/.test(r.message ?? '')), 'the scenarios it kept from running say so');
    assert.ok(doc.results.some((r) => r.status === 'passed'), 'those that ran have their verdicts');
    for (const f of ['junit.xml', 'matrix.html', 'matrix.md']) await readFile(join(reports, f)); // the reports it has are written
    console.log(`      (SIGINT to exit: ${tookMs} ms)`);
  });

  it('a second SIGINT leaves at once: the journal stays, and the next run puts the gateways back', async function () {
    this.timeout(180_000);
    const slow = await proxiedInventory(lab.inventory, join(reports, 'slow.yaml'), 400);
    let run: Awaited<ReturnType<typeof startRun>>;
    try {
      run = await startRun(slow.file);
      run.child.kill('SIGINT');
      await waitFor(async () => run.stderr().includes('SIGINT: stopping'));
      await new Promise((r) => setTimeout(r, 1000)); // a second Ctrl-C, not the first one passed on again by npm or tsx
      run.child.kill('SIGINT');
      const exit = await run.exited;
      assert.equal(exit.code, 2, run.stderr());
      assert.match(run.stderr(), /SIGINT again: leaving at once/);
      assert.doesNotMatch(run.stderr(), /conformance: \d+ passed/, 'it left before the report step');
    } finally {
      await slow.close();
    }
    // Its connections are gone: the scripts on the gateways see their input close and clean up their scenario; the journals stay.
    await waitFor(async () => (await harnessProcessesIn(proc)).length === 0 && (await harnessProcessesIn(service)).length === 0);
    assert.ok((await notAsFound(service)).some((p) => p.includes('journal.json')), 'the service gateway keeps its journal');
    const next = spawn(process.execPath, ['--import', 'tsx', CLI, 'restore', '--inventory', lab.inventory, '--target', proc.id, service.id], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => next.once('exit', r)), 0);
    for (const g of [proc, service]) assert.deepEqual(await notAsFound(g), [], `${g.id} is as it was`);
    assert.equal(await sha(service.serviceConfig!), original);
    assert.equal((await serviceEms(service)).length, 1);
  });
});
