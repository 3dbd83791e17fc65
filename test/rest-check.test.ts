import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askIsConnected, IS_CONNECTED_PATH, restEndpointOf } from '../harness/ems/rest-endpoint.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { Redactor } from '../harness/report/redact.ts';
import { family } from '../harness/scenario/model.ts';
import { runScenario } from '../harness/scenario/run.ts';
import type { Target } from '../harness/scenario/target.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';
import { override, wrapTarget } from './target-wrap.ts';

// The EMS's REST server is rendered explicitly (host, port, ssl, authenticate) and the isConnected
// check dials exactly that: the EMS takes `localhost` as the IPv6 loopback (EMS-FACTS.md "The
// EMS's local HTTP server"), so a check that assumed 127.0.0.1 would ask the wrong socket.

const scenario = (over: object = {}) =>
  family('rest', {}, [{
    id: 'rest.case', title: 't', requirements: ['BASE-SANITY'], expect: { outcome: 'connects' },
    ems: { certificates: { validate: false } }, ...over,
  }]).scenarios[0]!;

function dial(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => resolve(s)).once('error', reject);
  });
}

/** An isConnected answer (the same one, or one per request) on one address only. */
async function fakeRest(host: string, connected: boolean | (() => boolean)): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((req, res) => {
    if (req.url !== IS_CONNECTED_PATH) return void res.writeHead(404).end();
    const isConnected = typeof connected === 'function' ? connected() : connected;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ rows: [{ isConnected }], dataShape: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * The simulator as it is (real TLS, real AlwaysOn, its log), but the harness's REST question
 * reaching `rest` instead (a real HTTP server answering what the test says, or nothing there):
 * an EMS whose local server disagrees with its connection.
 */
function withRestAnswer(target: Target, rest: { port: number } | 'unreachable'): Target {
  return wrapTarget(target, {
    session: (s) => override(s, {
      dial: () => (rest === 'unreachable' ? Promise.reject(new Error('ECONNREFUSED')) : dial('127.0.0.1', rest.port)),
    }),
  });
}

/** `run` with a fake REST server answering `answer` per request, closed after. */
async function withFakeRest<T>(answer: () => boolean, run: (rest: { port: number }) => Promise<T>): Promise<T> {
  const fake = await fakeRest('127.0.0.1', answer);
  try {
    return await run(fake);
  } finally {
    fake.server.close();
  }
}

describe('the REST check follows the rendered config', function () {
  this.timeout(60_000);
  let catalogue: Catalogue;
  let simulator: Target;
  before(async () => {
    catalogue = await loadCatalogue();
    [simulator] = (await loadTargets(DEFAULT_INVENTORY, ['simulator'])) as [Target];
  });

  it('reads http_server as the EMS does: localhost is ::1, the port defaults to 8000', () => {
    assert.deepEqual(restEndpointOf({ host: '127.0.0.1', port: 20001, ssl: false, authenticate: false }), { host: '127.0.0.1', name: '127.0.0.1', port: 20001, ssl: false, authenticate: false });
    assert.deepEqual(restEndpointOf({}), { host: '::1', name: 'localhost', port: 8000, ssl: false, authenticate: false });
    assert.equal(restEndpointOf({ host: 'localhost' }).host, '::1');
  });

  it('asks the address it is given and no other (an IPv6-only server answers, its IPv4 twin is not there)', async () => {
    const v6 = await fakeRest('::1', true);
    try {
      const rest = { host: '::1', name: '::1', port: v6.port, ssl: false, authenticate: false };
      assert.equal(await askIsConnected(await dial('::1', v6.port), rest), true);
      await assert.rejects(dial('127.0.0.1', v6.port), /ECONNREFUSED/);
    } finally {
      v6.server.close();
    }
  });

  it('asks over TLS with the configured credentials when the config turns them on (the LSR client)', async () => {
    const ca = catalogue.certs['leaf-local-server']!;
    const server = createHttpsServer({ cert: await readFile(ca.certFile), key: await readFile(ca.keyFile) }, (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('lsr:pw-123456').toString('base64')}`) return void res.writeHead(401).end();
      res.writeHead(200).end(JSON.stringify({ rows: [{ isConnected: true }], dataShape: {} }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const rest = { host: '127.0.0.1', name: '127.0.0.1', port, ssl: true, authenticate: true };
      assert.equal(await askIsConnected(await dial('127.0.0.1', port), { ...rest, credentials: { user: 'lsr', password: 'pw-123456' } }), true);
      assert.equal(await askIsConnected(await dial('127.0.0.1', port), { ...rest, credentials: { user: 'lsr', password: 'wrong-pw' } }), false, '401: not connected');
      await assert.rejects(askIsConnected(await dial('127.0.0.1', port), { ...rest, ssl: false }), /no HTTP answer|socket hang up|ECONNRESET|Parse Error/);
    } finally {
      server.close();
    }
  });

  it('renders host 127.0.0.1, ssl and authenticate off; the simulator serves there and the check finds it connected', async () => {
    const r = await runScenario('rest', scenario(), simulator, { catalogue, redactor: new Redactor() });
    assert.equal(r.status, 'passed', r.message);
    const http = (r.actual.evidence.config as { http_server: Record<string, unknown> }).http_server;
    assert.deepEqual({ ...http, port: 0 }, { host: '127.0.0.1', port: 0, ssl: false, authenticate: false });
    assert.equal(r.actual.evidence.restConnected, true);
  });

  it('a scenario asking for ::1 gets it rendered, the simulator listens on the IPv6 loopback and the check asks there', async () => {
    const r = await runScenario('rest', scenario({ ems: { certificates: { validate: false }, extra: { http_server: { host: '::1' } } } }), simulator, { catalogue, redactor: new Redactor() });
    assert.equal(r.status, 'passed', r.message);
    assert.equal((r.actual.evidence.config as { http_server: { host: string } }).http_server.host, '::1');
    assert.equal(r.actual.evidence.restConnected, true);
  });

  it('fails a connection both sides confirm when the EMS REST API says isConnected=false (asked again for a while first)', async () => {
    let asked = 0;
    const r = await withFakeRest(() => (asked++, false), (rest) => runScenario('rest', scenario(), withRestAnswer(simulator, rest), { catalogue, redactor: new Redactor() }));
    assert.equal(r.actual.verdict, 'CONNECTED', 'the platform saw AUTH and the EMS logged it');
    assert.equal(r.status, 'failed');
    assert.equal(r.message, 'the platform and the EMS log say connected, but the EMS REST API says isConnected=false');
    assert.equal(r.actual.evidence.restConnected, false);
    assert.ok(asked > 1, `asked ${asked} time(s): a REST state that trails the log gets asked again`);
  });

  it('fails it too when the REST API cannot be reached at all', async () => {
    const r = await runScenario('rest', scenario(), withRestAnswer(simulator, 'unreachable'), { catalogue, redactor: new Redactor() });
    assert.equal(r.status, 'failed');
    assert.equal(r.actual.evidence.restConnected, false);
  });

  it('passes when the REST state catches up with the log within the recheck window', async () => {
    let asked = 0;
    const r = await withFakeRest(() => ++asked >= 3, (rest) => runScenario('rest', scenario(), withRestAnswer(simulator, rest), { catalogue, redactor: new Redactor() }));
    assert.equal(r.status, 'passed', r.message);
    assert.equal(r.actual.evidence.restConnected, true);
    assert.equal(asked, 3);
  });

  it('never asks the REST API when the EMS refused', async () => {
    let asked = 0;
    const refused = scenario({ endpoint: { cert: 'leaf-self-signed' }, ems: { certificates: { validate: true, allow_self_signed: false, cert_chain: { file: 'chain-root.pem' } } }, expect: { outcome: 'refuses', class: 'self-signed' } });
    const r = await withFakeRest(() => (asked++, false), (rest) => runScenario('rest', refused, withRestAnswer(simulator, rest), { catalogue, redactor: new Redactor() }));
    assert.equal(r.status, 'passed', r.message);
    assert.equal(asked, 0);
    assert.equal(r.actual.evidence.restConnected, undefined);
  });

  it('a target with restHost ::1 in its inventory entry renders ::1 for every scenario', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rest-inv-'));
    try {
      const file = join(dir, 'inventory.yaml');
      const executable = join(DEFAULT_INVENTORY, '..', 'simulator/bin/wsems');
      await writeFile(file, `targets:\n  - id: sim-v6\n    kind: local\n    executable: ${executable}\n    flavour: openssl\n    restHost: "::1"\n`);
      const [target] = (await loadTargets(file)) as [Target];
      const r = await runScenario('rest', scenario(), target, { catalogue, redactor: new Redactor() });
      assert.equal(r.status, 'passed', r.message);
      assert.equal((r.actual.evidence.config as { http_server: { host: string } }).http_server.host, '::1');
      assert.equal(r.actual.evidence.restConnected, true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
