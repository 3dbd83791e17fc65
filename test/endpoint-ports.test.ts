import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPortRange, ephemeralRange, INT16_MAX_PORT, parsePortRange, type PortRange } from '../harness/endpoints/ports.ts';
import { closeSharedEndpoints, startEndpoint, type Endpoint } from '../harness/endpoints/start.ts';
import { EndpointSpec } from '../harness/endpoints/spec.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { prepareRun } from './prepare-run.ts';
import { DEFAULT_INVENTORY, readInventory } from '../targets/inventory.ts';

// Platform endpoints listen where a real EMS can reach them: below 32768 (the C SDK 2.2.1 keeps
// the port in an int16_t) and outside the kernel's ephemeral range, on a port the listener binds
// itself (another pick when it is taken). An inventory may set the range per target.

const EPHEMERAL = { low: 32768, high: 60999 };

/**
 * A range of `size` ports outside every harness's own picks (above the ephemeral range, else at the
 * bottom of the port space), held by this test on all its ports but one, picked at random: the
 * returned free one. A block where anything else holds a port (another run of this very test, on
 * a shared machine) is let go and another one tried, so the test never depends on an idle host.
 */
async function occupiedRange(size = 100): Promise<{ range: PortRange; free: number; squatters: Server[] }> {
  const eph = ephemeralRange();
  const [low, high] = eph.high + size < 65535 ? [eph.high + 1, 65535] : [1024, defaultPortRange()!.low - 1];
  const blocks = Math.floor((high - low + 1) / size);
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = low + size * Math.floor(Math.random() * blocks);
    const range = { low: first, high: first + size - 1 };
    const squatters: Server[] = [];
    for (let port = range.low; port <= range.high; port++) {
      const s = createServer();
      const ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (!ok) break;
      squatters.push(s);
    }
    if (squatters.length < size) {
      await Promise.all(squatters.map((s) => new Promise((r) => s.close(r))));
      continue;
    }
    // Free one at random among those we hold, so the pick cannot get lucky by order.
    const [released] = squatters.splice(Math.floor(Math.random() * squatters.length), 1);
    const free = (released!.address() as { port: number }).port;
    await new Promise((r) => released!.close(r));
    return { range, free, squatters };
  }
  throw new Error(`no block of ${size} ports free in ${low}-${high} after 20 tries`);
}

describe('endpoint ports', function () {
  this.timeout(120_000);

  describe('the range', () => {
    it('defaults below 32768 and below the kernel ephemeral range, read from /proc', () => {
      const range = defaultPortRange()!;
      const eph = ephemeralRange();
      assert.ok(range.high <= INT16_MAX_PORT, `default ${range.low}-${range.high}`);
      assert.ok(range.high < eph.low || range.low > eph.high, `default ${range.low}-${range.high} overlaps ${eph.low}-${eph.high}`);
      assert.deepEqual(defaultPortRange({ low: 32768, high: 60999 }), { low: 20768, high: 32767 });
      assert.deepEqual(defaultPortRange({ low: 10000, high: 60999 }), { low: 1024, high: 9999 }, 'a machine with a moved ephemeral range');
      assert.equal(defaultPortRange({ low: 1100, high: 65535 }), undefined, 'no room left');
    });

    it('parses LOW-HIGH, and says what is wrong with a range that is not numeric, too small or overlaps the ephemeral range', () => {
      assert.deepEqual(parsePortRange('20000-32767', EPHEMERAL), { low: 20000, high: 32767 });
      assert.deepEqual(parsePortRange('61000-65535', EPHEMERAL), { low: 61000, high: 65535 }, 'above the ephemeral range, for an EMS that reaches it');
      assert.match(parsePortRange('20000-3x767', EPHEMERAL) as string, /is not a numeric port range: write LOW-HIGH/);
      assert.match(parsePortRange('30000-30010', EPHEMERAL) as string, /30000-30010 is too small: give at least 100 ports/);
      assert.match(parsePortRange('30000-40000', EPHEMERAL) as string, /overlaps the kernel's ephemeral port range 32768-60999/);
      assert.match(parsePortRange('30000-20000', EPHEMERAL) as string, /the first port is above the last/);
      assert.match(parsePortRange('80-2000', EPHEMERAL) as string, /ports must lie in 1024-65535/);
    });

    it('an inventory naming a bad range is refused, naming the file and the field', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ports-inv-'));
      try {
        const cases: Array<[unknown, RegExp]> = [
          ['lots', /targets\[0\]\.endpointPorts: "lots" is not a numeric port range: write LOW-HIGH/],
          [20000, /targets\[0\]\.endpointPorts: write the port range as LOW-HIGH/],
          ['30000-30050', /targets\[0\]\.endpointPorts: 30000-30050 is too small/],
          [`${ephemeralRange().low - 200}-${ephemeralRange().low + 200}`, /targets\[0\]\.endpointPorts: .* overlaps the kernel's ephemeral port range/],
        ];
        for (const [value, expected] of cases) {
          const file = join(dir, 'inventory.yaml');
          await writeFile(file, `targets:\n  - id: sim\n    kind: local\n    executable: /bin/true\n    flavour: openssl\n    endpointPorts: ${JSON.stringify(value)}\n`);
          await assert.rejects(readInventory(file), (e: Error) => {
            assert.ok(e.message.startsWith(`${file}: `), e.message);
            assert.match(e.message, expected);
            return true;
          });
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('endpoints bind a port of the range themselves', () => {
    let catalogue: Catalogue;
    const open: Endpoint[] = [];
    before(async () => {
      catalogue = await loadCatalogue();
    });
    after(async () => {
      await Promise.all(open.splice(0).map((e) => e.close()));
      await closeSharedEndpoints();
    });

    for (const kind of ['node-tls', 'jsse-java7'] as const) {
      it(`${kind}: takes the one port of a busy range that is free (a taken pick is another try, not an error)`, async () => {
        // The JVM builds a TLS context per try: fewer ports for it, still more taken than free.
        const { range, free, squatters } = await occupiedRange(kind === 'node-tls' ? 100 : 10);
        try {
          const ep = await startEndpoint(EndpointSpec.parse({ kind, cert: 'leaf-valid' }), { catalogue, appKey: 'k', bindAddress: '127.0.0.1', ports: range });
          open.push(ep);
          assert.equal(ep.port, free);
          // The endpoint itself holds it: nobody else can bind it now.
          const probe = createServer();
          const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
            probe.once('error', resolve);
            probe.listen(ep.port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
          });
          assert.equal(err?.code, 'EADDRINUSE');
        } finally {
          for (const s of squatters) s.close();
        }
      });
    }

    it('a range with no free port left fails saying so, naming the range', async () => {
      const { range, free, squatters } = await occupiedRange();
      const last = createServer().listen(free, '127.0.0.1');
      try {
        await assert.rejects(
          startEndpoint(EndpointSpec.parse({ cert: 'leaf-valid' }), { catalogue, appKey: 'k', bindAddress: '127.0.0.1', ports: range }),
          new RegExp(`endpoint: cannot listen on 127\\.0\\.0\\.1: no free TCP port on 127\\.0\\.0\\.1 in ${range.low}-${range.high} after \\d+ tries: every port tried was in use`),
        );
      } finally {
        last.close();
        for (const s of squatters) s.close();
      }
    });
  });

  describe('a default run', () => {
    let reports: string;
    before(async () => {
      reports = await mkdtemp(join(tmpdir(), 'ports-run-'));
    });
    after(() => rm(reports, { recursive: true, force: true }));

    it('has no endpoint listening above 32767 on any default target (Node TLS and JSSE endpoints), and every target gets verdicts: the C SDK 2.2.1 profile too, with the kernel\'s ephemeral range where it is', async () => {
      const run = await prepareRun({
        inventory: DEFAULT_INVENTORY,
        reportsDir: reports,
        scenarios: ['cert.self-signed.refused', 'java7.recommended-no-kedh', 'cipher.set.rsa-aes128-sha'],
      });
      const doc = await run.finish();
      const range = defaultPortRange()!;
      const targets = new Set(doc.results.map((r) => r.target));
      assert.deepEqual([...targets].sort(), ['simulator', 'simulator-axtls', 'simulator-csdk221']);
      for (const r of doc.results) {
        assert.notEqual(r.status, 'broken', `${r.target} ${r.scenario}: ${r.message}`);
        const port = (r.actual.evidence.config as { ws_servers: Array<{ port: number }> }).ws_servers[0]!.port;
        assert.ok(port <= INT16_MAX_PORT && port >= range.low && port <= range.high, `${r.target} ${r.scenario}: endpoint port ${port}`);
        assert.ok(['CONNECTED', 'REFUSED'].includes(r.actual.verdict), `${r.target} ${r.scenario}: ${r.actual.verdict} (${r.actual.because})`);
      }
      // The int16 profile reached every endpoint: its sanity gate and scenarios were decided, none by a timeout.
      const csdk = doc.results.filter((r) => r.target === 'simulator-csdk221');
      assert.deepEqual(csdk.map((r) => `${r.scenario}:${r.status}`), [
        'baseline.sanity:passed', 'cert.self-signed.refused:passed', 'cipher.set.rsa-aes128-sha:passed', 'java7.recommended-no-kedh:passed',
      ]);
    });
  });
});
