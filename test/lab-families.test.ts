import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConformanceRun } from '../harness/scenario/conformance-run.ts';
import type { ScenarioResult } from '../harness/scenario/run.ts';
import { loadTargets } from '../targets/inventory.ts';
import { decryptSecret, readKey } from '../targets/simulator/secrets.ts';
import { override, wrapTarget } from './target-wrap.ts';
import { describeLab, gateway, harnessProcessesIn, processesIn, sha, workLeftovers } from '../targets/lab/testing.ts';

// The scenario families over real SSH, all three gateways side by side (one scenario at a time
// each): the harness starts the EMS itself on one, a SysV service owns it on another, the third is
// reached only through a reverse tunnel. Afterwards the gateways are as they were found.


await describeLab('the scenario families over SSH (virtual lab)', (lab) => {
  const proc = gateway(lab, 'process');
  const service = gateway(lab, 'service');
  const tunnel = gateway(lab, 'tunnel');
  let reports: string;
  let results: ScenarioResult[];
  let serviceConfigBefore: string;
  const encrypted: Array<{ target: string; session: string; clear: string; out: string }> = [];

  before(async function () {
    this.timeout(15 * 60_000);
    reports = await mkdtemp(join(tmpdir(), 'lab-families-'));
    serviceConfigBefore = await sha(service.serviceConfig!);
    // Each gateway's driver as it is, its sessions' `-encrypt` recorded: what went in, what came out, on which gateway.
    const targets = (await loadTargets(lab.inventory, [proc.id, service.id, tunnel.id])).map((t) => wrapTarget(t, {
      session: (s) => override(s, {
        encryptAll: async (clears: string[]) => {
          const outs = await s.encryptAll(clears);
          clears.forEach((clear, i) => encrypted.push({ target: t.id, session: s.dir, clear, out: outs[i]! }));
          return outs;
        },
      }),
    }));
    const run = await ConformanceRun.prepare({ targets, inventory: lab.inventory, reportsDir: reports });
    results = (await run.finish()).results;
  });
  after(() => rm(reports, { recursive: true, force: true }));

  const problems = (rs: ScenarioResult[]) => rs.filter((r) => r.status === 'failed' || r.status === 'broken').map((r) => `${r.target}/${r.scenario}: ${r.status}: ${r.message}`);

  it('every scenario passes on every gateway (skipped only for a capability the lab lacks)', () => {
    assert.deepEqual(problems(results), []);
    for (const g of [proc, service, tunnel]) {
      const mine = results.filter((r) => r.target === g.id);
      assert.ok(mine.filter((r) => r.status === 'passed').length > 50, `${g.id} ran the families`);
      for (const r of mine.filter((x) => x.status === 'skipped')) assert.match(r.message!, /lacks capability/);
    }
  });

  it('the tunnelled gateway reaches the endpoints through the reverse tunnel, loopback scenarios included', () => {
    const mine = results.filter((r) => r.target === tunnel.id);
    const ipSan = mine.find((r) => r.scenario === 'cert.host.ip-san');
    assert.equal(ipSan?.status, 'passed', 'cert.host.ip-san needs loopback-platform: the tunnel provides it');
    const sanity = mine.find((r) => r.scenario === 'baseline.sanity')!;
    assert.equal((sanity.actual.evidence.config as { ws_servers: Array<{ host: string }> }).ws_servers[0]!.host, 'localhost');
    assert.equal(results.find((r) => r.target === proc.id && r.scenario === 'cert.host.ip-san')?.status, 'skipped');
  });

  it('the gateways reach the endpoints by name at the veth address, and encrypt with their own key', () => {
    const sanity = results.find((r) => r.target === proc.id && r.scenario === 'baseline.sanity')!;
    assert.equal((sanity.actual.evidence.config as { ws_servers: Array<{ host: string }> }).ws_servers[0]!.host, 'platform.conformance.test');
    const accepted = sanity.actual.evidence.observations.find((o) => o.kind === 'tcp-accepted') as { remote: string } | undefined;
    assert.match(accepted!.remote, new RegExp(`^${proc.address.replace(/\./g, '\\.')}:`));
    assert.equal(results.find((r) => r.target === proc.id && r.scenario === 'secret.app-key-encrypted')?.status, 'passed');
  });

  // Each gateway's -encrypt key is its own dp.dat (targets/lab/lab.ts copies the simulator without
  // it), readable from the host because the lab's gateways are namespaces on it.
  it('encrypts with each gateway\'s own key: every value the run encrypted opens with that gateway\'s dp.dat and no other', async () => {
    const gateways = [proc, service, tunnel];
    const keys = new Map(gateways.map((g) => [g.id, readKey(join(g.installDir, 'dist', 'dp.dat'))]));
    assert.equal(new Set([...keys.values()].map((k) => k.toString('hex'))).size, gateways.length, 'the gateways have keys of their own');
    for (const g of gateways) {
      const mine = encrypted.filter((e) => e.target === g.id);
      assert.ok(mine.length >= 2, `${g.id}: the run asked its -encrypt (app key, passphrases): ${mine.length} value(s)`);
      for (const e of mine) {
        assert.notEqual(e.out, e.clear, `${g.id}: -encrypt returned the clear value`);
        assert.equal(decryptSecret(e.out, keys.get(g.id)!), e.clear, `${g.id}: a value it encrypted does not open with its own dp.dat`);
        for (const other of gateways.filter((x) => x !== g)) {
          assert.throws(() => decryptSecret(e.out, keys.get(other.id)!), /another key/, `${g.id}'s value opens with ${other.id}'s key`);
        }
      }
    }
    // The scenario that authenticates with an encrypted app key passed on each gateway with its own value.
    for (const g of gateways) assert.equal(results.find((r) => r.target === g.id && r.scenario === 'secret.app-key-encrypted')?.status, 'passed', g.id);
  });

  it('runs the local-server family on each gateway, the LSR client on the gateway\'s loopback through an SSH forward', () => {
    for (const g of [proc, service, tunnel]) {
      const mine = results.filter((r) => r.target === g.id && r.family === 'local-server');
      assert.ok(mine.length >= 25 && mine.every((r) => r.status === 'passed'), `${g.id}: ${problems(mine).join('; ')}`);
      const probed = mine.filter((r) => r.actual.evidence.localServer);
      assert.ok(probed.length >= 15, `${g.id}: the LSR client ran`);
      for (const r of probed) assert.match(r.actual.evidence.localServer!.route, new RegExp(`^an SSH forward \\(forwardOut\\) through ${g.id}'s SSH connection`), `${g.id}/${r.scenario}`);
      const localhost = mine.find((r) => r.scenario === 'lsr.host.localhost')!;
      assert.deepEqual(localhost.actual.evidence.localServer!.listeners!.map((l) => `${l.address}:${l.listening}`), ['::1:true', '127.0.0.1:false', '127.0.0.2:false'], `${g.id}: the gateway's IPv6 loopback`);
    }
  });

  it('leaves the gateways as it found them: no journal, no run directory, no EMS of its own, the service back on its config', async () => {
    for (const g of [proc, service, tunnel]) {
      assert.deepEqual(await workLeftovers(g), [], `${g.id} work directory`);
      assert.deepEqual(await harnessProcessesIn(g), [], `${g.id} processes`);
    }
    assert.equal(await sha(service.serviceConfig!), serviceConfigBefore, 'the service config.json is the original again');
    const ems = (await processesIn(service)).filter((p) => p.cmd.includes(service.serviceConfig!));
    assert.equal(ems.length, 1, 'the service runs again, on its own config');
  });
});
