import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun } from './prepare-run.ts';
import type { ScenarioResult } from '../harness/scenario/run.ts';
import { loadTargets } from '../targets/inventory.ts';
import { proxiedInventory, type ProxiedInventory } from '../targets/lab/proxied-inventory.ts';
import { describeLab, gateway, harnessProcessesIn, notAsFound, serviceEms, sha, waitFor } from '../targets/lab/testing.ts';

// Bad links, made with the lab's delaying proxy in front of the gateways' sshd
// (targets/lab/delay-proxy.ts): a link cut in the middle of a scenario's upload leaves no partial
// file and never touches the service; a gateway whose link goes silent is BROKEN with its cause
// while a slow one and a healthy one in the same run go on to the end.


await describeLab('bad links to lab gateways', (lab) => {
  const proc = gateway(lab, 'process');
  const service = gateway(lab, 'service');
  const tunnel = gateway(lab, 'tunnel');
  let dir: string;
  let links: ProxiedInventory;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-links-'));
  });
  beforeEach(async () => {
    links = await proxiedInventory(lab.inventory, join(dir, `inv-${Math.random().toString(36).slice(2)}.yaml`), 0);
  });
  afterEach(() => links.close());
  after(() => rm(dir, { recursive: true, force: true }));

  for (const role of ['process', 'service'] as const) {
    it(`${role} gateway: the link cut in the middle of the upload leaves no partial file; the next connection restores the rest`, async function () {
      this.timeout(120_000);
      const g = gateway(lab, role);
      const original = g.serviceConfig ? await sha(g.serviceConfig) : undefined;
      const serviceBefore = g.role === 'service' ? (await serviceEms(g)).map((p) => p.pid) : [];
      const [target] = await loadTargets(links.file, [g.id]);
      await target!.connect!();
      const session = await target!.openSession('upload-cut');
      const big = randomBytes(1 << 20); // a megabyte: the cut falls well inside it
      await session.putFiles([{ name: 'chain-root.pem', content: big }, { name: 'client.key', content: randomBytes(2048), secret: true }]);
      const config = JSON.stringify({ ws_servers: [{ host: 'platform.conformance.test', port: 9 }], http_server: { port: await session.restPort() } });
      const proxy = links.proxies.get(g.id)!;
      const mark = proxy.bytesUp;
      const cut = proxy.cutAfter(256 * 1024);
      await assert.rejects(session.start(config), /SSH connection to .* (was closed|failed)/);
      await cut;
      assert.ok(proxy.bytesUp - mark < big.length, 'the link dropped before the upload was through');
      await session.close();
      // The script on the gateway found its input cut short and removed what it had written; the EMS never started.
      await waitFor(async () => (await harnessProcessesIn(g)).length === 0);
      assert.deepEqual(await readdir(join(g.workDir, 'runs')), [], 'no partial file, no directory');
      if (g.role === 'service') {
        assert.equal(await sha(g.serviceConfig!), original, 'the service config.json was never touched');
        assert.deepEqual((await serviceEms(g)).map((p) => p.pid), serviceBefore, 'nor the service stopped');
      }
      await target!.close(); // a new connection: the journal is replayed
      assert.deepEqual(await notAsFound(g), []);
      if (g.role === 'service') assert.equal((await serviceEms(g)).length, 1);
    });
  }

  it('a gateway whose link goes silent is BROKEN (keepalive) while a slow one (300 ms) and a healthy one finish', async function () {
    this.timeout(300_000);
    links.proxies.get(service.id)!.rttMs = 300;
    let silenced = false;
    const run = await prepareRun({
      inventory: links.file,
      only: [proc.id, service.id, tunnel.id],
      scenarios: ['baseline', 'cert.host'],
      reportsDir: join(dir, 'reports'),
      // Once its sanity scenario passed, the process gateway's link carries nothing more.
      onStart: (c) => {
        if (c.target.id === proc.id && c.scenario.id !== 'baseline.sanity' && !silenced) {
          silenced = true;
          links.proxies.get(proc.id)!.blackhole();
        }
      },
    });
    const results: ScenarioResult[] = (await run.finish()).results;
    const of = (id: string) => results.filter((r) => r.target === id);
    assert.equal(of(proc.id).find((r) => r.scenario === 'baseline.sanity')!.status, 'passed');
    const rest = of(proc.id).filter((r) => r.scenario !== 'baseline.sanity' && r.status !== 'skipped');
    assert.ok(rest.length > 3);
    for (const r of rest) assert.match(`${r.status} ${r.message}`, /^broken .*Keepalive timeout/, `${proc.id}/${r.scenario}`);
    for (const id of [service.id, tunnel.id]) {
      assert.ok(of(id).length > 5);
      for (const r of of(id)) assert.ok(r.status === 'passed' || r.status === 'skipped', `${id}/${r.scenario}: ${r.status} ${r.message}`);
    }
    for (const g of [service, tunnel]) assert.deepEqual(await notAsFound(g), []);
    // The silent gateway's journal waits for a link: restored directly, without the proxy.
    await waitFor(async () => (await harnessProcessesIn(proc)).length === 0);
    const cli = await execa('node', ['--import', 'tsx', 'harness/cli.ts', 'restore', '--inventory', lab.inventory, '--target', proc.id], { reject: false });
    assert.equal(cli.exitCode, 0, cli.stderr);
    assert.deepEqual(await notAsFound(proc), []);
  });
});
