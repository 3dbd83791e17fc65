import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { authBody, Code, decodeMessage, encodeMessage, NO_SESSION } from '../harness/endpoints/alwayson.ts';
import { Jvm } from '../harness/endpoints/jsse/jvm.ts';
import type { Observation } from '../harness/endpoints/observations.ts';
import { closeSharedEndpoints, startEndpoint, type Endpoint } from '../harness/endpoints/start.ts';
import type { EndpointSpecInput } from '../harness/endpoints/spec.ts';
import { EndpointSpec } from '../harness/endpoints/spec.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { prepareRun } from './prepare-run.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';
import { RECOMMENDED } from '../scenarios/lib/cipher-sets.ts';

// The jsse-java7 endpoint against real OpenSSL clients (Node's): Java 7's small DH group, its
// suite order, the plaintext path to the platform stub, and the shared JVM's life cycle.

const APP_KEY = 'jsse-test-app-key-0123456789';
let catalogue: Catalogue;
const open: Endpoint[] = [];

async function java7(spec: Partial<EndpointSpecInput> = {}): Promise<Endpoint> {
  const ep = await startEndpoint(EndpointSpec.parse({ kind: 'jsse-java7', cert: 'leaf-valid', ...spec }), {
    catalogue, appKey: APP_KEY, bindAddress: '127.0.0.1',
  });
  open.push(ep);
  return ep;
}

/** One TLS handshake; resolves the client's view of it or its error text. */
function handshake(port: number, opts: ConnectionOptions = {}): Promise<{ socket?: TLSSocket; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
    socket.once('secureConnect', () => resolve({ socket }));
    socket.once('error', (err) => resolve({ error: err.message }));
  });
}

/** Resolves once the endpoint has observed `kind` (`count` times). */
function observed(ep: Endpoint, kind: Observation['kind'], count = 1): Promise<Observation[]> {
  return new Promise((resolve) => {
    const check = () => {
      const hits = ep.observations.filter((o) => o.kind === kind);
      if (hits.length < count) return false;
      unsubscribe();
      resolve(hits);
      return true;
    };
    const unsubscribe = ep.onObservation(() => check());
    check();
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** JsseFront JVMs this process started (their parent is us). */
async function ourJvms(): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes('JsseFront')) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid) found.push(Number(pid));
  }
  return found;
}

describe('jsse-java7 endpoint (real JSSE)', function () {
  this.timeout(60_000);

  before(async function () {
    this.timeout(120_000);
    catalogue = await loadCatalogue();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });

  after(() => closeSharedEndpoints());

  it('the recommended list fails with "dh key too small" (768-bit DH); the endpoint saw the handshake fail', async () => {
    const ep = await java7();
    const { error } = await handshake(ep.port, { ciphers: RECOMMENDED });
    assert.match(error ?? '', /dh key too small/);
    const [failed] = await observed(ep, 'handshake-failed');
    assert.match((failed as Extract<Observation, { kind: 'handshake-failed' }>).error, /SSLHandshakeException/);
    const [closed] = await observed(ep, 'closed');
    assert.deepEqual({ ...closed, at: 0 }, { kind: 'closed', at: 0, phase: 'tcp' });
    assert.deepEqual(ep.observations.map((o) => o.kind), ['tcp-accepted', 'handshake-failed', 'closed']);
  });

  it('the same list plus !kEDH connects with AES128-SHA; plaintext reaches the platform stub (upgrade, AUTH)', async () => {
    const ep = await java7();
    const ws = new WebSocket(`wss://127.0.0.1:${ep.port}/Thingworx/WS`, {
      rejectUnauthorized: false, ciphers: `${RECOMMENDED}:!kEDH`, headers: { appKey: APP_KEY },
    });
    const reply = await new Promise<ReturnType<typeof decodeMessage>>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => ws.send(encodeMessage({ code: Code.AUTH, requestId: 7, endpointId: 0, sessionId: NO_SESSION, body: authBody(APP_KEY) })));
      ws.once('message', (data: Buffer) => resolve(decodeMessage(data)));
    });
    assert.equal(reply.code, Code.SUCCESS);
    assert.equal(reply.requestId, 7);
    ws.close();
    await observed(ep, 'closed');
    const kinds = ep.observations.map((o) => o.kind);
    assert.deepEqual(kinds, ['tcp-accepted', 'handshake-ok', 'upgrade', 'auth', 'closed']);
    const hs = ep.observations[1] as Extract<Observation, { kind: 'handshake-ok' }>;
    assert.deepEqual([hs.protocol, hs.cipher, hs.ephemeral], ['TLSv1.2', 'AES128-SHA', undefined]);
    assert.equal((ep.observations[2] as Extract<Observation, { kind: 'upgrade' }>).appKeyMatches, true);
    assert.equal((ep.observations[4] as Extract<Observation, { kind: 'closed' }>).phase, 'authenticated');
  });

  it('serves the platform chain from the catalogue: a client trusting the root verifies it', async () => {
    const ep = await java7();
    const { socket, error } = await handshake(ep.port, {
      ciphers: 'AES128-SHA', servername: 'localhost', rejectUnauthorized: true, ca: await readFile(catalogue.certs['root-ca']!.certFile, 'utf8'),
    });
    assert.equal(error, undefined);
    assert.equal(socket!.authorized, true);
    socket!.destroy();
  });

  it('a later Java 7 update (dhBits 1024): DHE first, and the client measures the 1024-bit group the observation names', async () => {
    const ep = await java7({ dhBits: 1024 });
    const { socket, error } = await handshake(ep.port, { ciphers: RECOMMENDED });
    assert.equal(error, undefined);
    assert.deepEqual(socket!.getEphemeralKeyInfo(), { type: 'DH', size: 1024 });
    socket!.destroy();
    const [hs] = (await observed(ep, 'handshake-ok')) as Array<Extract<Observation, { kind: 'handshake-ok' }>>;
    assert.equal(hs!.cipher, 'DHE-RSA-AES128-SHA');
    assert.deepEqual(hs!.ephemeral, { type: 'DH', bits: 1024 });
  });

  it('speaks the TLS versions asked (1.0 to 1.2), never TLS 1.3', async () => {
    const tls10 = await java7({ minVersion: 'TLSv1', maxVersion: 'TLSv1' });
    const old = await handshake(tls10.port, { ciphers: 'AES128-SHA:@SECLEVEL=0', minVersion: 'TLSv1' });
    assert.equal(old.socket?.getProtocol(), 'TLSv1');
    old.socket?.destroy();
    const any = await java7();
    const only13 = await handshake(any.port, { minVersion: 'TLSv1.3' });
    assert.match(only13.error ?? '', /protocol version|unsupported protocol/);
  });

  it('refuses what it cannot honour, naming the field', async () => {
    await assert.rejects(java7({ maxVersion: 'TLSv1.3' }), /endpoint\.maxVersion: Java 7 speaks TLSv1, TLSv1\.1, TLSv1\.2/);
    await assert.rejects(java7({ dhBits: 2048 }), /endpoint\.dhBits: /);
    await assert.rejects(java7({ jsseSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] }), /endpoint\.jsseSuites: /);
    await assert.rejects(java7({ cert: 'no-such-cert' }), /endpoint\.cert: unknown certificate/);
    assert.throws(() => EndpointSpec.parse({ kind: 'jsse-java7', ciphers: 'AES128-SHA' }), /not a field of a jsse-java7 endpoint/);
    assert.throws(() => EndpointSpec.parse({ kind: 'node-tls', leadingZeroBug: true }), /not a field of a node-tls endpoint/);
  });

  it('one JVM serves every endpoint; a closed endpoint frees its port; closeSharedEndpoints ends the JVM', async () => {
    const [a, b] = await Promise.all([java7(), java7()]);
    assert.notEqual(a!.port, b!.port);
    const jvm = await Jvm.get(768);
    assert.equal(await Jvm.get(768), jvm);
    await a!.close();
    assert.ok(await refused(a!.port), 'a closed endpoint still accepts connections');
    assert.equal((await handshake(b!.port, { ciphers: 'AES128-SHA' })).error, undefined, 'closing one endpoint touched another');
    await closeSharedEndpoints();
    assert.equal(alive(jvm.pid!), false);
    assert.ok(await refused(b!.port), 'an endpoint of the stopped JVM still accepts connections');
  });

  it('leading-zero bug on: some DHE handshakes fail as Java 7\'s did (about 1 in 256); off: none do', async function () {
    this.timeout(300_000);
    const off = await java7({ dhBits: 1024 });
    for (let i = 0; i < 256; i++) {
      const { socket, error } = await handshake(off.port, { ciphers: 'DHE-RSA-AES128-SHA' });
      assert.equal(error, undefined, `handshake ${i} failed without the bug`);
      socket!.destroy();
    }
    // P(no failure in 4096 tries) = (255/256)^4096, about 1e-7.
    const on = await java7({ dhBits: 1024, leadingZeroBug: true });
    let failure: string | undefined;
    for (let i = 0; i < 4096 && !failure; i++) {
      const { socket, error } = await handshake(on.port, { ciphers: 'DHE-RSA-AES128-SHA' });
      socket?.destroy();
      failure = error;
    }
    assert.match(failure ?? 'no handshake failed', /alert handshake failure|bad record mac|decrypt/);
    const [failed] = (await observed(on, 'handshake-failed')) as Array<Extract<Observation, { kind: 'handshake-failed' }>>;
    assert.match(failed!.error, /Padding|MAC|Finished/i);
  });

  it('a conformance run of the java7 family passes on both simulator targets and leaves no JVM or port behind', async function () {
    this.timeout(120_000);
    const reports = await mkdtemp(join(tmpdir(), 'jsse-leak-reports-'));
    try {
      const run = await prepareRun({ inventory: DEFAULT_INVENTORY, reportsDir: reports, jobs: 2, scenarios: ['java7.'] });
      const doc = await run.finish();
      const java7Results = doc.results.filter((r) => r.family === 'java7');
      assert.ok(java7Results.length >= 8, `expected the java7 family on both targets, got ${java7Results.length}`);
      assert.deepEqual(doc.results.filter((r) => r.status !== 'passed').map((r) => `${r.target}/${r.scenario}: ${r.message}`), []);
      assert.deepEqual(await ourJvms(), []);
      for (const r of java7Results) {
        const port = (r.actual.evidence.config as { ws_servers: Array<{ port: number }> }).ws_servers[0]!.port;
        assert.ok(await refused(port), `endpoint port ${port} of ${r.scenario} still accepts connections`);
      }
    } finally {
      await rm(reports, { recursive: true, force: true });
    }
  });
});
