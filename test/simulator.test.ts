import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, get, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import { WebSocketServer, type WebSocket } from 'ws';
import { Code, decodeMessage, EMPTY_RESPONSE, encodeMessage, parseAuthBody, parseBindBody } from '../harness/endpoints/alwayson.ts';
import type { EmsConfigInput } from '../harness/ems/config.ts';
import { attributeLine, C_SDK_ERROR_MAP } from '../harness/ems/error-map.ts';
import type { ErrorMapEntry } from '../harness/scenario/target.ts';
import { freePort as harnessFreePort, INT16_MAX_PORT, listenInRange, releasePort } from '../harness/endpoints/ports.ts';
import { decryptSecret, readKey } from '../targets/simulator/secrets.ts';
import { DEFAULT_INVENTORY, readInventory } from '../targets/inventory.ts';

// Runs the BUILT simulator (targets/simulator/bin/wsems) as a child process against a small
// in-test platform (https + ws on /Thingworx/WS answering AUTH/BIND) with certificates made here.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'targets/simulator/bin/wsems');
const APP_KEY = 'a1b2c3d4-e5f6-4711-8000-0123456789ab';
const KEY_PASSPHRASE = 'correct horse battery staple';
/** The simulator's own lines (its start-up refusals) are in its inventory entry, the C SDK's in the default map. */
const SIM_LINES: ErrorMapEntry[] = (await readInventory(DEFAULT_INVENTORY)).targets.find((t) => t.id === 'simulator')!.errorMap;
const simAttribute = (line: string) => attributeLine(line, SIM_LINES);

// ---------- a small PKI (node-forge certificates, RSA keys from Node crypto) ----------

interface Issued {
  cert: string;
  key: string; // unencrypted PKCS#8 PEM
  keyObject: KeyObject;
  forgeCert: forge.pki.Certificate;
  forgeKey: forge.pki.rsa.PrivateKey;
}

function issue(o: {
  cn: string; org?: string; ou?: string; issuer?: Issued; ca?: boolean; dns?: string[]; ip?: string[]; eku?: 'serverAuth' | 'clientAuth'; bits?: number;
}): Issued {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: o.bits ?? 2048 });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 86_400_000);
  const subject = [{ shortName: 'CN', value: o.cn }];
  if (o.org) subject.push({ shortName: 'O', value: o.org });
  if (o.ou) subject.push({ shortName: 'OU', value: o.ou });
  cert.setSubject(subject);
  cert.setIssuer(o.issuer ? o.issuer.forgeCert.subject.attributes : subject);
  const extensions: object[] = [{ name: 'basicConstraints', cA: !!o.ca, critical: true }];
  if (o.ca) extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  else extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true });
  if (o.eku) extensions.push({ name: 'extKeyUsage', [o.eku]: true });
  const altNames = [...(o.dns ?? []).map((value) => ({ type: 2, value })), ...(o.ip ?? []).map((ip) => ({ type: 7, ip }))];
  if (altNames.length) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(o.issuer?.forgeKey ?? forgeKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyObject: privateKey,
    forgeCert: cert,
    forgeKey,
  };
}

// ---------- the in-test platform ----------

interface Seen {
  path?: string;
  headers?: Record<string, string | string[] | undefined>;
  appKey?: string;
  bound?: string[];
  clientCn?: string;
}

class Platform {
  readonly seen: Seen = {};
  /** TCP connections accepted, TLS handshakes completed and failed. */
  connections = 0;
  handshakes = 0;
  handshakeErrors = 0;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  private constructor(private readonly server: HttpsServer | HttpServer, readonly port: number, autoPong: boolean) {
    server.on('connection', () => this.connections++);
    server.on('secureConnection', () => this.handshakes++);
    server.on('tlsClientError', () => this.handshakeErrors++);
    this.wss = new WebSocketServer({ server, path: '/Thingworx/WS', autoPong });
    this.wss.on('connection', (ws, req) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      this.seen.path = req.url;
      this.seen.headers = req.headers;
      const peer = 'getPeerCertificate' in req.socket ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
      if (peer?.subject) this.seen.clientCn = String(peer.subject.CN);
      ws.on('message', (data: Buffer) => {
        const msg = decodeMessage(data);
        let code: number = Code.SUCCESS;
        if (msg.code === Code.AUTH) {
          this.seen.appKey = parseAuthBody(msg.body).value;
          if (this.seen.appKey !== APP_KEY) code = Code.UNAUTHORIZED;
        } else if (msg.code === Code.BIND) this.seen.bound = parseBindBody(msg.body).names;
        ws.send(encodeMessage({ code, requestId: msg.requestId, endpointId: 0, sessionId: 0x1234, body: EMPTY_RESPONSE }));
      });
    });
  }

  /** `opts.port: 'ephemeral'` listens on a kernel-chosen port (32768 and up); else one a real EMS reaches. */
  static async start(leaf: Issued, chain: Issued[] = [], clientCa?: Issued, opts: { port?: 'ephemeral'; autoPong?: boolean } = {}): Promise<Platform> {
    const server = createHttpsServer({
      cert: [leaf.cert, ...chain.map((c) => c.cert)].join(''),
      key: leaf.key,
      ...(clientCa ? { requestCert: true, rejectUnauthorized: true, ca: clientCa.cert } : {}),
    });
    return Platform.listen(server, opts);
  }

  /** A platform without TLS (ws_connection.encryption "none"). */
  static plain(): Promise<Platform> {
    return Platform.listen(createHttpServer());
  }

  private static async listen(server: HttpsServer | HttpServer, opts: { port?: 'ephemeral'; autoPong?: boolean } = {}): Promise<Platform> {
    if (opts.port === 'ephemeral') await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    else await listenInRange(server, '127.0.0.1');
    const platform = new Platform(server, (server.address() as { port: number }).port, opts.autoPong ?? true);
    platforms.push(platform);
    return platform;
  }

  /** Drops every EMS connection, as a platform restart would. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  close(): void {
    this.dropAll();
    this.wss.close();
    this.server.close();
    this.server.closeAllConnections();
  }
}

// ---------- what an EMS offers: its ClientHello ----------

/** TLS cipher suite code points (IANA) by OpenSSL name. */
const SUITE = {
  SCSV: 0x00ff,
  'AES128-SHA': 0x002f, 'AES256-SHA': 0x0035, 'AES128-SHA256': 0x003c, 'AES256-SHA256': 0x003d,
  'AES128-GCM-SHA256': 0x009c, 'AES256-GCM-SHA384': 0x009d,
  'ECDHE-ECDSA-AES128-SHA256': 0xc023, 'ECDHE-ECDSA-AES256-SHA384': 0xc024, 'ECDHE-RSA-AES128-SHA256': 0xc027, 'ECDHE-RSA-AES256-SHA384': 0xc028,
  'ECDHE-ECDSA-AES128-GCM-SHA256': 0xc02b, 'ECDHE-ECDSA-AES256-GCM-SHA384': 0xc02c, 'ECDHE-RSA-AES128-GCM-SHA256': 0xc02f, 'ECDHE-RSA-AES256-GCM-SHA384': 0xc030,
  'ECDHE-RSA-CHACHA20-POLY1305': 0xcca8,
  'NULL-SHA': 0x0002, 'NULL-SHA256': 0x003b, 'ADH-AES128-GCM-SHA256': 0x00a6, 'AECDH-AES128-SHA': 0xc018,
  'PSK-AES128-CBC-SHA': 0x008c, 'SRP-AES-128-CBC-SHA': 0xc01d, 'DHE-DSS-AES128-SHA': 0x0032,
  TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302, TLS_CHACHA20_POLY1305_SHA256: 0x1303,
} as const;

/** What the simulated FIPS policy may offer (REQUIREMENTS.md FIPS-ALGOS; targets/simulator/fips.ts). */
const FIPS_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384',
  'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA256', 'AES256-SHA256',
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384',
] as const;

interface ClientHello {
  legacyVersion: number;
  suites: number[];
  /** supported_versions (empty when the client offers nothing above TLS 1.2). */
  versions: number[];
  groups: number[];
  sigalgs: number[];
}

/** The first ClientHello in `buf` (one record), or undefined while it is incomplete. */
function parseClientHello(buf: Buffer): ClientHello | undefined {
  if (buf.length < 5 || buf[0] !== 22 || buf.length < 5 + buf.readUInt16BE(3)) return undefined;
  const u16s = (from: number, to: number) => {
    const out: number[] = [];
    for (let i = from; i < to; i += 2) out.push(buf.readUInt16BE(i));
    return out;
  };
  const legacyVersion = buf.readUInt16BE(9); // after the record (5) and handshake (4) headers
  let p = 9 + 2 + 32; // client_version, random
  p += 1 + buf[p]!; // session_id
  const suitesEnd = p + 2 + buf.readUInt16BE(p);
  const hello: ClientHello = { legacyVersion, suites: u16s(p + 2, suitesEnd), versions: [], groups: [], sigalgs: [] };
  p = suitesEnd;
  p += 1 + buf[p]!; // compression_methods
  const extEnd = p + 2 + buf.readUInt16BE(p);
  for (p += 2; p < extEnd; p += 4 + buf.readUInt16BE(p + 2)) {
    const type = buf.readUInt16BE(p);
    const body = p + 4;
    if (type === 43) hello.versions = u16s(body + 1, body + 1 + buf[body]!);
    if (type === 10) hello.groups = u16s(body + 2, body + 2 + buf.readUInt16BE(body));
    if (type === 13) hello.sigalgs = u16s(body + 2, body + 2 + buf.readUInt16BE(body));
  }
  return hello;
}

// ---------- the simulator as a child process ----------

class Sim {
  readonly lines: string[] = [];
  stderr = '';
  exitCode: number | null | undefined; // undefined while running
  readonly exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.notify();
    });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      proc.on('close', (code) => {
        this.exitCode = code;
        this.notify();
        resolve(code);
      });
    });
  }

  output(): string {
    return `${this.lines.join('\n')}\n${this.stderr}`;
  }

  /** The `count`-th line matching `re`; fails as soon as the simulator exits without it. */
  waitFor(re: RegExp, count = 1): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hits = this.lines.filter((l) => re.test(l));
        if (hits.length >= count) {
          this.listeners.delete(check);
          resolve(hits[count - 1] as string);
        } else if (this.exitCode !== undefined) {
          this.listeners.delete(check);
          reject(new Error(`wsems exited (${this.exitCode}) before logging ${re}:\n${this.output()}`));
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  line(re: RegExp): string | undefined {
    return this.lines.find((l) => re.test(l));
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode === undefined) this.proc.kill(signal);
    return this.exited;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

let dir: string;
let configCount = 0;
const platforms: Platform[] = [];
const sims: Sim[] = [];

function simEnv(keyFile = join(dir, 'dp.dat')): NodeJS.ProcessEnv {
  return { ...process.env, WSEMS_SIM_KEYFILE: keyFile };
}

function startSim(config: EmsConfigInput | string, env: NodeJS.ProcessEnv = simEnv()): Sim {
  const file = join(dir, `cfg-${++configCount}.json`);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  const sim = new Sim(spawn(BIN, ['-cfg', file], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  sims.push(sim);
  return sim;
}

/** `wsems -encrypt secret`; `how`: another command line before `-encrypt` (the launcher), more environment. */
function encrypt(secret: string, keyFile?: string, how: { command?: string[]; env?: NodeJS.ProcessEnv } = {}): string {
  const [file, ...before] = how.command ?? [BIN];
  const r = spawnSync(file!, [...before, '-encrypt', secret], { env: { ...simEnv(keyFile), ...how.env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/**
 * The test client's certificate, and its key in each key_file format the vendor page lists, encrypted
 * under KEY_PASSPHRASE: PEM (PKCS#8), `.p8` (PKCS#8 DER), `.p12` holding `p12Certs` (default: its own).
 */
function clientKeyFiles(p12Algorithm: '3des' | 'aes256', p12Certs = [pki.client.forgeCert]): { cert: string; pem: string; p8: string; p12: string } {
  const base = join(dir, `client-${++configCount}`);
  const files = { cert: `${base}.pem`, pem: `${base}-key.pem`, p8: `${base}-key.p8`, p12: `${base}.p12` };
  writeFileSync(files.cert, pki.client.cert);
  writeFileSync(files.pem, pki.client.keyObject.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: KEY_PASSPHRASE }));
  writeFileSync(files.p8, pki.client.keyObject.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: KEY_PASSPHRASE }));
  writeP12(files.p12, p12Certs, p12Algorithm);
  return files;
}

/** The client's key and certificates as a PKCS#12 file under KEY_PASSPHRASE. */
function writeP12(file: string, certs: forge.pki.Certificate[], algorithm: '3des' | 'aes256'): void {
  const asn1 = forge.pkcs12.toPkcs12Asn1(pki.client.forgeKey, certs, KEY_PASSPHRASE, { algorithm });
  writeFileSync(file, Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
}

/** Ports handed to the simulator in the current test, released after it. */
const handedOut: number[] = [];

/**
 * A port for the simulator to bind (its REST server, or a platform nobody listens on), from the
 * harness's port module: random below the ephemeral range and reserved in this process, never
 * listen-on-0-and-close (the kernel may hand that port to anything in between).
 */
async function freePort(): Promise<number> {
  const port = await harnessFreePort('127.0.0.1');
  handedOut.push(port);
  return port;
}

/** A listener bound for real to a port of the harness's range (no probe-and-close gap). */
async function listening(server: NetServer): Promise<number> {
  return listenInRange(server, '127.0.0.1');
}

function restIsConnected(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/Thingworx/Things/LocalEms/Properties/isConnected' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(JSON.parse(body).rows[0].isConnected === true));
    }).on('error', reject);
  });
}

async function untilConnected(restPort: number): Promise<void> {
  while (!(await restIsConnected(restPort).catch(() => false))) await new Promise((r) => setTimeout(r, 50));
}

let pki: {
  ca: Issued; otherCa: Issued; leaf: Issued; wrongHost: Issued; selfSigned: Issued; stray: Issued; client: Issued;
  notCa: Issued; underNotCa: Issued; rogueClient: Issued;
};
let files: { caBundle: string; otherCa: string };

/** A config for the platform on `port`: TRACE logging, quick retries, one attempt unless said. */
function config(port: number, restPort: number, over: {
  certificates?: EmsConfigInput['certificates']; ws_connection?: EmsConfigInput['ws_connection']; appKey?: string;
} = {}): EmsConfigInput {
  return {
    ws_servers: [{ host: 'localhost', port }],
    appKey: over.appKey ?? APP_KEY,
    logger: { level: 'TRACE' },
    http_server: { host: '127.0.0.1', port: restPort, ssl: false },
    ws_connection: { connect_retries: 1, connect_retry_interval: 100, connect_timeout: 5000, ...over.ws_connection },
    certificates: { cert_chain: files.caBundle, ...over.certificates },
  };
}

const helloServers: NetServer[] = [];

/** A "platform" that records the EMS's ClientHello, then hangs up (on a port every profile reaches). */
async function captureHello(): Promise<{ port: number; hello: Promise<ClientHello> }> {
  let resolve!: (h: ClientHello) => void;
  const hello = new Promise<ClientHello>((r) => (resolve = r));
  const server = createNetServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseClientHello(buf);
      if (parsed) {
        resolve(parsed);
        socket.destroy();
      }
    });
  });
  helloServers.push(server);
  return { port: await listenInRange(server, '127.0.0.1'), hello };
}

/** A run that must be refused: `retries` attempts, exit 2; returns the first attributed line. */
async function refusal(sim: Sim, retries = 1): Promise<{ line: string; cls: ReturnType<typeof attributeLine> }> {
  assert.equal(await sim.exited, 2, sim.output());
  assert.ok(sim.line(new RegExp(`twApi_Connect: Max number of connect retries: ${retries}, has been reached`)), sim.output());
  for (const line of sim.lines) {
    const cls = simAttribute(line);
    if (cls && cls !== 'context') return { line, cls };
  }
  assert.fail(`no attributable line:\n${sim.output()}`);
}

async function startupFailure(sim: Sim): Promise<{ line: string; cls: ReturnType<typeof attributeLine> }> {
  assert.equal(await sim.exited, 1, sim.output());
  const line = sim.lines.find((l) => simAttribute(l)) ?? assert.fail(`no attributable line:\n${sim.output()}`);
  return { line, cls: simAttribute(line) };
}

describe('simulated WS EMS (built executable)', function () {
  this.timeout(60_000);

  before(function () {
    this.timeout(120_000);
    const build = spawnSync(process.execPath, [join(ROOT, 'targets/simulator/build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    dir = mkdtempSync(join(tmpdir(), 'wsems-sim-test-'));
    const ca = issue({ cn: 'Sim Test CA', org: 'Harness', ou: 'QA', ca: true });
    const otherCa = issue({ cn: 'Other CA', org: 'Elsewhere', ca: true });
    // An intermediate without CA:TRUE (and without keyCertSign) that nevertheless signs a leaf.
    const notCa = issue({ cn: 'Not A CA', org: 'Harness', issuer: ca });
    pki = {
      ca,
      otherCa,
      leaf: issue({ cn: 'localhost', org: 'Platform Inc', ou: 'IoT', issuer: ca, dns: ['localhost'], ip: ['127.0.0.1'], eku: 'serverAuth' }),
      wrongHost: issue({ cn: 'elsewhere.example', org: 'Platform Inc', issuer: ca, dns: ['elsewhere.example'], eku: 'serverAuth' }),
      selfSigned: issue({ cn: 'localhost', dns: ['localhost'] }),
      stray: issue({ cn: 'nowhere.example', issuer: otherCa, dns: ['nowhere.example'] }),
      client: issue({ cn: 'ems-client', org: 'Harness', issuer: ca, eku: 'clientAuth' }),
      notCa,
      underNotCa: issue({ cn: 'localhost', issuer: notCa, dns: ['localhost'], eku: 'serverAuth' }),
      rogueClient: issue({ cn: 'rogue-client', issuer: otherCa, eku: 'clientAuth' }),
    };
    files = { caBundle: join(dir, 'ca-bundle.pem'), otherCa: join(dir, 'other-ca.pem') };
    // CERT-CHAIN: the issuing CA is not the first certificate of the list.
    writeFileSync(files.caBundle, otherCa.cert + ca.cert);
    writeFileSync(files.otherCa, otherCa.cert);
  });

  afterEach(async function () {
    for (const sim of sims) {
      const output = sim.output();
      assert.ok(!output.includes(APP_KEY), 'the app key reached the output');
      assert.ok(!output.includes(KEY_PASSPHRASE), 'the key passphrase reached the output');
    }
    await Promise.all(sims.splice(0).map((sim) => sim.stop('SIGKILL')));
    for (const platform of platforms.splice(0)) platform.close();
    for (const server of helloServers.splice(0)) server.close();
    handedOut.splice(0).forEach(releasePort);
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects: upgrade headers, AUTH, BIND, isConnected; reconnects after a drop; SIGTERM exits 0', async function () {
    const platform = await Platform.start(pki.leaf);
    const restPort = await freePort();
    const sim = startSim(config(platform.port, restPort, { ws_connection: { connect_retries: -1 } }), {
      ...simEnv(), WSEMS_SIM_FLAVOUR: 'axtls',
    });
    await sim.waitFor(/twWs_Connect: Websocket connected!/);
    await sim.waitFor(/AUTH Message \d+ succeeded\. Code:64/);
    await sim.waitFor(/^\+\+$/);
    await untilConnected(restPort);
    assert.ok(sim.line(/wsems simulator starting: flavour axtls/), sim.output());
    assert.equal(platform.seen.path, '/Thingworx/WS');
    assert.equal(platform.seen.headers?.['user-agent'], 'ThingWorx C SDK');
    assert.equal(platform.seen.headers?.['max-frame-size'], '8192');
    assert.equal(platform.seen.headers?.['appkey'], APP_KEY);
    assert.equal(platform.seen.headers?.['sec-websocket-extensions'], 'permessage-deflate');
    assert.equal(platform.seen.appKey, APP_KEY);
    assert.deepEqual(platform.seen.bound, ['LocalEms']);
    for (const line of sim.lines.filter((l) => l !== '++')) {
      assert.match(line, /^\[(TRACE|DEBUG|INFO |WARN |ERROR|FORCE)\] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: /);
    }

    platform.dropAll();
    await sim.waitFor(/Websocket disconnected by the server/);
    await sim.waitFor(/twWs_Connect: Websocket connected!/, 2);
    await untilConnected(restPort);

    assert.equal(await sim.stop('SIGTERM'), 0);
  });

  it('an app key the platform refuses: AUTH failed, retried, then exit 2 (auth-rejected)', async function () {
    const platform = await Platform.start(pki.leaf);
    const sim = startSim(config(platform.port, await freePort(), { appKey: 'not-the-key', ws_connection: { connect_retries: 2 } }));
    const { line, cls } = await refusal(sim, 2);
    assert.match(line, /api:sendMessageBlocking: AUTH Message 1 failed\. Code:129/);
    assert.equal(cls, 'auth-rejected');
    assert.ok(sim.line(/AUTH Message 2 failed\. Code:129/), sim.output());
  });

  it('connects without TLS when ws_connection.encryption is "none"', async function () {
    const platform = await Platform.plain();
    const restPort = await freePort();
    startSim(config(platform.port, restPort, { ws_connection: { encryption: 'none', compression: false } }));
    await untilConnected(restPort);
    assert.equal(platform.seen.headers?.['sec-websocket-extensions'], undefined);
  });

  it('logs a timeout when an attempt outlasts connect_timeout', async function () {
    const silent = createNetServer(() => undefined); // accepts, never answers the ClientHello
    const silentPort = await listening(silent);
    try {
      const sim = startSim(config(silentPort, await freePort(), { ws_connection: { connect_timeout: 300 } }));
      assert.equal(await sim.exited, 2, sim.output());
      assert.ok(sim.line(/twWs_Connect: Timed out trying to connect/), sim.output());
    } finally {
      silent.close();
    }
  });

  it('refuses a platform whose CA is not in cert_chain (untrusted-cert)', async function () {
    const platform = await Platform.start(pki.leaf);
    const sim = startSim(config(platform.port, await freePort(), { certificates: { cert_chain: files.otherCa } }));
    const { line, cls } = await refusal(sim);
    assert.match(line, /TW_VALIDATE_CERT: Certificate rejected\.  Code: (19|20|21), Reason = /);
    assert.equal(cls, 'untrusted-cert');
    assert.ok(sim.line(/twTlsClient_Connect: Error intializing TLS connection\.  Invalid certificate/));
  });

  it('self-signed platform: code 18 with allow_self_signed false, connects with true', async function () {
    const platform = await Platform.start(pki.selfSigned);
    const refused = await refusal(startSim(config(platform.port, await freePort())));
    assert.match(refused.line, /Code: 18, Reason = self-signed certificate/);
    assert.equal(refused.cls, 'self-signed');

    const restPort = await freePort();
    startSim(config(platform.port, restPort, { certificates: { allow_self_signed: true, cert_chain: '' } }));
    await untilConnected(restPort);
  });

  it('reads backslash-separated paths, as the Windows EMS does (CERT-PATHS)', async function () {
    const platform = await Platform.start(pki.leaf);
    const restPort = await freePort();
    startSim(config(platform.port, restPort, { certificates: { cert_chain: files.caBundle.replaceAll('/', '\\') } }));
    await untilConnected(restPort);
  });

  it('validate false connects to an untrusted platform with the wrong host name', async function () {
    const platform = await Platform.start(pki.stray, [pki.otherCa]);
    const restPort = await freePort();
    startSim(config(platform.port, restPort, { certificates: { validate: false, cert_chain: '' } }));
    await untilConnected(restPort);
  });

  it('host name mismatch: code 62 unless disable_hostname_validation', async function () {
    const platform = await Platform.start(pki.wrongHost);
    const refused = await refusal(startSim(config(platform.port, await freePort())));
    assert.match(refused.line, /Code: 62, Reason = hostname mismatch/);
    assert.equal(refused.cls, 'hostname-mismatch');

    const restPort = await freePort();
    startSim(config(platform.port, restPort, { certificates: { disable_hostname_validation: true } }));
    await untilConnected(restPort);
  });

  it('validation_criteria: a differing or missing field refuses, matching fields connect', async function () {
    const platform = await Platform.start(pki.leaf);
    const differs = await refusal(startSim(config(platform.port, await freePort(), {
      certificates: { validation_criteria: { Cert_Common_Name: 'localhost', CA_Cert_Organization: 'Wrong Org' } },
    })));
    assert.equal(differs.line.replace(/^.*?: twTls/, 'twTls'), 'twTlsClient_Connect: Certificate field Harness does not match expected Wrong Org. Field 4');
    assert.equal(differs.cls, 'criteria-mismatch');

    const restPort = await freePort();
    startSim(config(platform.port, restPort, {
      certificates: {
        validation_criteria: {
          Cert_Common_Name: 'localhost', Cert_Organization: 'Platform Inc', Cert_Organizational_Name: 'IoT',
          CA_Cert_Common_Name: 'Sim Test CA', CA_Cert_Organization: 'Harness', CA_Cert_Organizational_Name: 'QA',
        },
      },
    }));
    await untilConnected(restPort);

    const noOu = await Platform.start(pki.wrongHost); // its subject has no OU
    const missing = await refusal(startSim(config(noOu.port, await freePort(), {
      certificates: { disable_hostname_validation: true, validation_criteria: { Cert_Organizational_Name: 'IoT' } },
    })));
    assert.match(missing.line, /Certificate field \(null\) does not match expected IoT\. Field 2/);
    assert.equal(missing.cls, 'criteria-mismatch');
  });

  it('validate true, allow_self_signed false and no cert_chain: exits 1 saying why (config-error)', async function () {
    const sim = startSim(config(1, await freePort(), { certificates: { cert_chain: undefined } }));
    const { line, cls } = await startupFailure(sim);
    assert.match(line, /certificates\.cert_chain is required/);
    assert.equal(cls, 'config-error');
  });

  it('a wrong or missing key passphrase exits 1 at once (key-load-error)', async function () {
    const { cert: clientCert, pem: encryptedPem, p12 } = clientKeyFiles('3des');
    const cases: { key_file: string; key_passphrase?: string; expect: RegExp }[] = [
      { key_file: encryptedPem, key_passphrase: 'not the passphrase', expect: /wrong certificates\.key_passphrase/ },
      { key_file: encryptedPem, expect: /key_passphrase is not set/ },
      { key_file: p12, key_passphrase: 'not the passphrase', expect: /wrong certificates\.key_passphrase \(PKCS#12/ },
      { key_file: join(dir, 'no-such-key.pem'), expect: /ENOENT/ },
    ];
    for (const c of cases) {
      const sim = startSim(config(1, await freePort(), { certificates: { client_cert: clientCert, ...c } }));
      const { line, cls } = await startupFailure(sim);
      assert.equal(cls, 'key-load-error', line);
      assert.ok(line.includes(c.key_file), line);
      assert.match(line, c.expect);
    }
  });

  it('-encrypt output works as appKey and key_passphrase (mutual TLS with an encrypted .p8 key, and a .p12)', async function () {
    const platform = await Platform.start(pki.leaf, [], pki.ca);
    const { cert: clientCert, p8, p12 } = clientKeyFiles('3des', [pki.client.forgeCert, pki.ca.forgeCert]);
    const appKey = encrypt(APP_KEY);
    const key_passphrase = encrypt(KEY_PASSPHRASE);
    assert.notEqual(appKey, APP_KEY);

    const restPort = await freePort();
    startSim(config(platform.port, restPort, { appKey, certificates: { client_cert: clientCert, key_file: p8, key_passphrase } }));
    await untilConnected(restPort);
    assert.equal(platform.seen.appKey, APP_KEY);
    assert.equal(platform.seen.clientCn, 'ems-client');

    const restPort2 = await freePort();
    platform.seen.clientCn = undefined;
    startSim(config(platform.port, restPort2, { appKey, certificates: { key_file: p12, key_passphrase } }));
    await untilConnected(restPort2);
    assert.equal(platform.seen.clientCn, 'ems-client');
  });

  it('a platform requiring a client certificate refuses an EMS without one (client-cert-required)', async function () {
    const platform = await Platform.start(pki.leaf, [], pki.ca);
    const { line, cls } = await refusal(startSim(config(platform.port, await freePort())));
    assert.match(line, /TW_NEW_SSL_CLIENT: SSL handshake error\. Error: .*certificate required\./);
    assert.equal(cls, 'client-cert-required');
  });

  it('refuses a value encrypted under another key file, naming the field (config-error)', async function () {
    const foreign = encrypt(APP_KEY, join(dir, 'other-dp.dat'));
    encrypt('x'); // creates this run's own key file, so the refusal is "wrong key", not "no key file"
    const { line, cls } = await startupFailure(startSim(config(1, await freePort(), { appKey: foreign })));
    assert.match(line, /: appKey: encrypted value cannot be decrypted/);
    assert.equal(cls, 'config-error');
  });

  it('names line:column of malformed JSON (config-error), without quoting the file', async function () {
    const sim = startSim(`{\n  "appKey": "${APP_KEY}",\n  "ws_servers": [}\n`);
    const { line, cls } = await startupFailure(sim);
    assert.match(line, /cfg-\d+\.json:3:18: malformed JSON: /);
    assert.equal(cls, 'config-error');
  });

  it('names file and dotted path of every schema problem (config-error), without quoting a value', async function () {
    const sim = startSim({ ...config(1, await freePort()), appKey: 12345678, certificates: { validate: 'yes' } } as unknown as EmsConfigInput);
    const { line, cls } = await startupFailure(sim);
    assert.match(line, /wsems: configuration error: \S*cfg-\d+\.json: appKey: expected string, got number; \S*cfg-\d+\.json: certificates\.validate: expected boolean, got string$/);
    assert.ok(!line.includes('12345678'), line);
    assert.equal(cls, 'config-error');
  });

  it('exits 3 naming host:port when the local REST port is taken', async function () {
    const squatter = createNetServer();
    const port = await listening(squatter);
    try {
      const sim = startSim(config(1, port, { certificates: { validate: false } }));
      assert.equal(await sim.exited, 3, sim.output());
      assert.ok(sim.line(new RegExp(`http_server cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`)), sim.output());
    } finally {
      squatter.close();
    }
  });

  it('keeps retrying an absent platform until SIGTERM, then exits 0', async function () {
    const sim = startSim(config(await freePort(), await freePort(), { ws_connection: { connect_retries: -1 } }));
    await sim.waitFor(/Error intializing socket connection\.  Err = /, 2);
    assert.equal(await sim.stop('SIGTERM'), 0);
  });

  it('runs from the launcher too (what bin/wsems falls back to when the build could make no start-up snapshot)', async function () {
    const keyFile = join(dir, 'launcher-dp.dat');
    const out = encrypt(APP_KEY, keyFile, { command: [process.execPath, join(ROOT, 'targets/simulator/dist/wsems.cjs')] });
    assert.equal(decryptSecret(out, readKey(keyFile)), APP_KEY);
  });

  it('runs as it was built whatever NODE_OPTIONS the harness was given (the start-up snapshot loads only under its own V8 settings)', async function () {
    const keyFile = join(dir, 'node-options-dp.dat');
    const out = encrypt(APP_KEY, keyFile, { env: { NODE_OPTIONS: '--max-old-space-size=4096 --stack-size=2000' } });
    assert.equal(decryptSecret(out, readKey(keyFile)), APP_KEY);
  });

  it('-encrypt: concurrent first uses create one key file that decrypts every output', async function () {
    const keyFile = join(dir, 'race-dp.dat');
    const outputs = await Promise.all(Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => {
      const p = spawn(BIN, ['-encrypt', APP_KEY], { env: simEnv(keyFile) });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
    })));
    const key = readKey(keyFile);
    for (const out of outputs) assert.equal(decryptSecret(out, key), APP_KEY);
  });

  describe('build flavours and the simulated FIPS policy', () => {
    const axtls = () => ({ ...simEnv(), WSEMS_SIM_FLAVOUR: 'axtls' });
    const offered = (h: ClientHello) => h.suites.filter((s) => s !== SUITE.SCSV).sort((a, b) => a - b);

    it('openssl: cipher_suite is an OpenSSL list (TLS 1.3 suites stay on), the recommended list when left out', async function () {
      const byDefault = await captureHello();
      startSim(config(byDefault.port, await freePort()));
      const hello = await byDefault.hello;
      assert.ok(hello.suites.includes(SUITE['ECDHE-RSA-AES128-GCM-SHA256']));
      for (const excluded of ['NULL-SHA256', 'NULL-SHA', 'ADH-AES128-GCM-SHA256', 'AECDH-AES128-SHA', 'PSK-AES128-CBC-SHA', 'SRP-AES-128-CBC-SHA', 'DHE-DSS-AES128-SHA'] as const) {
        assert.ok(!hello.suites.includes(SUITE[excluded]), `the recommended list offered ${excluded}`);
      }
      assert.ok(hello.versions.includes(0x0304));

      const narrow = await captureHello();
      startSim(config(narrow.port, await freePort(), { certificates: { cipher_suite: 'AES128-SHA' } }));
      assert.deepEqual(offered(await narrow.hello), [SUITE['AES128-SHA'], SUITE.TLS_AES_128_GCM_SHA256, SUITE.TLS_AES_256_GCM_SHA384, SUITE.TLS_CHACHA20_POLY1305_SHA256]);
    });

    it('openssl: a cipher_suite OpenSSL cannot parse exits 1 at start-up (config-error)', async function () {
      const { line, cls } = await startupFailure(startSim(config(1, await freePort(), { certificates: { cipher_suite: 'NO-SUCH-CIPHER' } })));
      assert.equal(cls, 'config-error');
      assert.match(line, /TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error: .*no cipher match \(certificates\.cipher_suite\)/);
    });

    it('axtls: offers only its RSA-key-exchange AES suites over TLS <= 1.2, whatever cipher_suite says', async function () {
      const cap = await captureHello();
      const sim = startSim(config(cap.port, await freePort(), { certificates: { cipher_suite: 'NO-SUCH-CIPHER' } }), axtls());
      const hello = await cap.hello;
      assert.deepEqual(offered(hello), [SUITE['AES128-SHA'], SUITE['AES256-SHA'], SUITE['AES128-SHA256'], SUITE['AES256-SHA256']]);
      assert.deepEqual(hello.versions, [], 'no supported_versions: nothing above TLS 1.2');
      assert.equal(hello.legacyVersion, 0x0303);
      assert.ok(sim.line(/TLS policy axTLS/), sim.output());
      assert.ok(sim.line(/certificates\.cipher_suite ignored/), sim.output());
    });

    it('axtls: fips.enabled true refuses to start (fips-unavailable); false starts', async function () {
      const on = startSim({ ...config(1, await freePort()), fips: { enabled: true } }, axtls());
      const { line, cls } = await startupFailure(on);
      assert.equal(cls, 'fips-unavailable');
      assert.match(line, /FIPS mode unavailable in this build/);
      const cap = await captureHello();
      startSim({ ...config(cap.port, await freePort()), fips: { enabled: false } }, axtls());
      await cap.hello;
    });

    it('FIPS mode offers exactly the approved suites, TLS 1.2 and 1.3, NIST curves and no SHA-1 signatures; false or no group leaves it off', async function () {
      const cap = await captureHello();
      const sim = startSim({ ...config(cap.port, await freePort()), fips: { enabled: true } });
      const hello = await cap.hello;
      assert.deepEqual(offered(hello), FIPS_SUITES.map((n) => SUITE[n]).sort((a, b) => a - b));
      assert.deepEqual([...hello.versions].sort(), [0x0303, 0x0304]);
      assert.ok(hello.groups.length > 0 && hello.groups.every((g) => [23, 24, 25].includes(g)), `groups ${hello.groups}`);
      assert.ok(!hello.sigalgs.some((a) => a === 0x0201 || a === 0x0203), `SHA-1 signature schemes offered: ${hello.sigalgs}`);
      assert.ok(sim.line(/TLS policy simulated FIPS policy/), sim.output());

      for (const fips of [{ enabled: false }, undefined]) {
        const off = await captureHello();
        startSim({ ...config(off.port, await freePort()), ...(fips ? { fips } : {}) });
        assert.ok((await off.hello).suites.includes(SUITE['ECDHE-RSA-CHACHA20-POLY1305']), `FIPS looks on with fips ${JSON.stringify(fips)}`);
      }
    });

    it('FIPS mode refuses at start-up a cipher_suite without approved suites, a 3DES PKCS#12 key and an RSA-1024 client key (fips-violation)', async function () {
      const clientCert = join(dir, 'client.pem');
      writeFileSync(clientCert, pki.client.cert);
      const p12 = join(dir, 'client-3des.p12');
      writeP12(p12, [pki.client.forgeCert], '3des');
      const weak = issue({ cn: 'weak-client', issuer: pki.ca, eku: 'clientAuth', bits: 1024 });
      const weakCert = join(dir, 'weak.pem');
      const weakKey = join(dir, 'weak-key.pem');
      writeFileSync(weakCert, weak.cert);
      writeFileSync(weakKey, weak.key);
      const cases: Array<{ certificates: EmsConfigInput['certificates']; expect: RegExp; cls?: string }> = [
        { certificates: { cipher_suite: 'CHACHA20' }, expect: /cipher_suite "CHACHA20" allows no FIPS-approved TLS 1\.2 suite/ },
        // An unparsable list is a configuration error before it is a FIPS matter.
        { certificates: { cipher_suite: 'NO-SUCH-CIPHER' }, expect: /Setting SSL cipher string Error/, cls: 'config-error' },
        // Refused for its algorithm before the passphrase is even tried.
        { certificates: { client_cert: clientCert, key_file: p12, key_passphrase: 'not the passphrase' }, expect: /private key is encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC/ },
        { certificates: { client_cert: weakCert, key_file: weakKey }, expect: /a rsa key \(1024 bits\) is not FIPS-approved/ },
      ];
      for (const c of cases) {
        const sim = startSim({ ...config(1, await freePort(), { certificates: c.certificates }), fips: { enabled: true } });
        const { line, cls } = await startupFailure(sim);
        assert.equal(cls, c.cls ?? 'fips-violation', line);
        assert.match(line, c.expect);
      }
    });

    it('FIPS mode connects with mutual TLS using a PKCS#12 key under PBES2/AES', async function () {
      const platform = await Platform.start(pki.leaf, [], pki.ca);
      const clientCert = join(dir, 'client.pem');
      const p12 = join(dir, 'client-aes.p12');
      writeFileSync(clientCert, pki.client.cert);
      writeP12(p12, [pki.client.forgeCert], 'aes256');
      const restPort = await freePort();
      startSim({ ...config(platform.port, restPort, { certificates: { client_cert: clientCert, key_file: p12, key_passphrase: KEY_PASSPHRASE } }), fips: { enabled: true } });
      await untilConnected(restPort);
      assert.equal(platform.seen.clientCn, 'ems-client');
    });
  });

  it('an intermediate without CA:TRUE: code 79 "invalid CA certificate", as OpenSSL 3.0 numbers it (24 is NO_ISSUER_PUBLIC_KEY there)', async function () {
    const platform = await Platform.start(pki.underNotCa, [pki.notCa]);
    for (const env of [simEnv(), { ...simEnv(), WSEMS_SIM_PROFILE: 'csdk-2.2.1' }]) {
      const sim = startSim(config(platform.port, await freePort()), env);
      assert.equal(await sim.exited, 2, sim.output());
      assert.ok(sim.line(/TW_VALIDATE_CERT: Certificate rejected\.  Code: 79, Reason = invalid CA certificate$/), sim.output());
    }
  });

  it('serves its REST API on the IPv6 loopback for http_server.host localhost, as the vendor documents', async function () {
    const platform = await Platform.start(pki.leaf);
    const restPort = await freePort();
    const cfg = config(platform.port, restPort);
    startSim({ ...cfg, http_server: { ...cfg.http_server, host: 'localhost' } });
    const ask = (host: string) => new Promise<boolean>((resolve, reject) => {
      get({ host, port: restPort, path: '/Thingworx/Things/LocalEms/Properties/isConnected' }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(JSON.parse(body).rows[0].isConnected === true));
      }).on('error', reject);
    });
    while (!(await ask('::1').catch(() => false))) await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(ask('127.0.0.1'), /ECONNREFUSED/);
  });

  describe('the C SDK 2.2.1 profile (WSEMS_SIM_PROFILE=csdk-2.2.1, EMS-FACTS "Measured on the open C SDK 2.2.1")', () => {
    const csdk = () => ({ ...simEnv(), WSEMS_SIM_PROFILE: 'csdk-2.2.1' });
    const offered = (h: ClientHello) => h.suites.filter((s) => s !== SUITE.SCSV).sort((a, b) => a - b);

    it('holds the platform port in an int16_t: a platform above 32767 is never reached (Err = 111), one below it is', async function () {
      const high = await Platform.start(pki.leaf, [], undefined, { port: 'ephemeral' });
      assert.ok(high.port > INT16_MAX_PORT, `the kernel gave ${high.port}`);
      const sim = startSim(config(high.port, await freePort()), csdk());
      assert.equal(await sim.exited, 2, sim.output());
      assert.ok(sim.line(/: Error intializing socket connection\.  Err = 111$/), sim.output());
      assert.ok(sim.line(/twWs_Connect: Error restarting socket\.  Error 111$/), sim.output());
      assert.ok(sim.line(new RegExp(`Connecting to server localhost:${high.port - 65536}$`)), sim.output());
      assert.equal(high.connections, 0, 'the platform saw a TCP connection');

      const low = await Platform.start(pki.leaf);
      const restPort = await freePort();
      startSim(config(low.port, restPort), csdk());
      await untilConnected(restPort);
    });

    it('never checks the host name; validates after the handshake, so a refused platform saw the handshake complete', async function () {
      const wrongHost = await Platform.start(pki.wrongHost);
      const restPort = await freePort();
      startSim(config(wrongHost.port, restPort), csdk());
      await untilConnected(restPort);

      const selfSigned = await Platform.start(pki.selfSigned);
      const sim = startSim(config(selfSigned.port, await freePort(), { ws_connection: { connect_retries: 2 } }), csdk());
      const { line, cls } = await refusal(sim, 2);
      // The first attempt's connection stays open until the next attempt starts (the SDK closes it
      // only then), so the platform completed that handshake; the last one ends with the process.
      assert.ok(selfSigned.handshakes >= 1, `the platform completed ${selfSigned.handshakes} handshakes`);
      assert.match(line, /TW_VALIDATE_CERT: Certificate rejected\.  Code: 18, Reason = self-signed certificate$/);
      assert.equal(cls, 'self-signed');
      const after = sim.lines.slice(sim.lines.indexOf(line) + 1).map((l) => l.replace(/^.*?: /, ''));
      assert.deepEqual(after.slice(0, 2), ['twTlsClient_Connect: Error intializing TLS connection.  Invalid certificate', 'twWs_Connect: Error restarting socket.  Error 0']);
    });

    it('key_file is PEM only: .p8 (DER) and .p12 fail with DECODER routines::unsupported; an encrypted PEM key opens with its passphrase', async function () {
      const { cert: clientCert, p8, p12, pem: encPem } = clientKeyFiles('aes256');
      for (const key_file of [p8, p12]) {
        const sim = startSim(config(1, await freePort(), { certificates: { client_cert: clientCert, key_file, key_passphrase: KEY_PASSPHRASE } }), csdk());
        const { line, cls } = await startupFailure(sim);
        assert.equal(line.replace(/^.*?: /, ''), 'TW_USE_KEY_FILE: Error setting the key file - error:1E08010C:DECODER routines::unsupported');
        assert.equal(cls, 'key-load-error');
      }
      const wrong = await startupFailure(startSim(config(1, await freePort(), { certificates: { client_cert: clientCert, key_file: encPem, key_passphrase: 'not it' } }), csdk()));
      assert.match(wrong.line, /TW_USE_KEY_FILE: Error setting the key file - error:1C800064:Provider routines::bad decrypt$/);

      const platform = await Platform.start(pki.leaf, [], pki.ca);
      const restPort = await freePort();
      startSim(config(platform.port, restPort, { certificates: { client_cert: clientCert, key_file: encPem, key_passphrase: encrypt(KEY_PASSPHRASE) } }), csdk());
      await untilConnected(restPort);
      assert.equal(platform.seen.clientCn, 'ems-client');
    });

    it('cipher_suite goes to SSL_CTX_set_cipher_list only: TLS 1.3 suites stay all on (the default profile would narrow them); a list of TLS 1.3 names only matches nothing', async function () {
      const list = 'AES128-SHA:TLS_AES_128_GCM_SHA256';
      const sdk = await captureHello();
      startSim(config(sdk.port, await freePort(), { certificates: { cipher_suite: list } }), csdk());
      assert.deepEqual(offered(await sdk.hello), [SUITE['AES128-SHA'], SUITE.TLS_AES_128_GCM_SHA256, SUITE.TLS_AES_256_GCM_SHA384, SUITE.TLS_CHACHA20_POLY1305_SHA256]);
      const node = await captureHello();
      startSim(config(node.port, await freePort(), { certificates: { cipher_suite: list } }));
      assert.deepEqual(offered(await node.hello), [SUITE['AES128-SHA'], SUITE.TLS_AES_128_GCM_SHA256]);

      const only13 = await startupFailure(startSim(config(1, await freePort(), { certificates: { cipher_suite: 'TLS_AES_128_GCM_SHA256' } }), csdk()));
      assert.equal(only13.line.replace(/^.*?: /, ''), 'TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error: error:0A0000B9:SSL routines::no cipher match');
      assert.equal(only13.cls, 'config-error');
    });

    it('validate false skips validation_criteria entirely; a criteria field the certificate lacks compares against an uninitialised buffer', async function () {
      const platform = await Platform.start(pki.wrongHost); // its subject has no OU
      const restPort = await freePort();
      startSim(config(platform.port, restPort, {
        certificates: { validate: false, cert_chain: '', validation_criteria: { Cert_Common_Name: 'not this one', Cert_Organizational_Name: 'IoT' } },
      }), csdk());
      await untilConnected(restPort);

      const missing = await refusal(startSim(config(platform.port, await freePort(), { certificates: { validation_criteria: { Cert_Organizational_Name: 'IoT' } } }), csdk()));
      const m = /twTlsClient_Connect: Certificate field (.+) does not match expected IoT\. Field 2$/.exec(missing.line);
      assert.ok(m, missing.line);
      assert.notEqual(m[1], '(null)');
      assert.match(m[1]!, /[^\x20-\x7e]/, 'bytes of no field');
      assert.equal(missing.cls, 'criteria-mismatch');
    });

    it('without cert_chain (validate true) starts and connects, and refuses the platform as untrusted: code 20', async function () {
      const platform = await Platform.start(pki.leaf, [pki.ca]);
      const sim = startSim(config(platform.port, await freePort(), { certificates: { cert_chain: undefined } }), csdk());
      const { line, cls } = await refusal(sim);
      assert.match(line, /TW_VALIDATE_CERT: Certificate rejected\.  Code: (20|19), Reason = /);
      assert.equal(cls, 'untrusted-cert');
      assert.ok(platform.connections > 0);
    });

    it('a TLS 1.3 platform refusing the client certificate (none, or untrusted): the handshake completes, then TW_SSL_READ rounds end in "Connect response too big", then a retry', async function () {
      const clientCert = join(dir, 'rogue.pem');
      const clientKey = join(dir, 'rogue-key.pem');
      writeFileSync(clientCert, pki.rogueClient.cert);
      writeFileSync(clientKey, pki.rogueClient.key);
      const platform = await Platform.start(pki.leaf, [], pki.ca);
      for (const certificates of [{}, { client_cert: clientCert, key_file: clientKey }]) {
        const sim = startSim(config(platform.port, await freePort(), { certificates, ws_connection: { connect_retries: 2 } }), csdk());
        assert.equal(await sim.exited, 2, sim.output());
        const said = sim.lines.map((l) => l.replace(/^\[[A-Z ]+\] [^:]+:\d\d:\d\d,\d{3}: /, ''));
        const first = said.indexOf('TW_SSL_READ: Error reading from SSL stream');
        assert.ok(first > said.findIndex((l) => /TLS connection established \(TLSv1\.3/.test(l)), sim.output());
        const round = [
          'TW_SSL_READ: Error reading from SSL stream',
          'TW_SSL_READ: Timed out or error waiting reading from socket. Error: error:FFFFFFFFFFFFFFFF:system library::reason(2147483647)',
          "twWs_Connect: Didn't get the entire header - attempting to read more",
        ];
        assert.deepEqual(said.slice(first, first + 7), [...round, ...round, round[0]], sim.output());
        const tooBig = said.filter((l) => l === 'twWs_Connect: Connect response too big. Websocket connect failed');
        assert.equal(tooBig.length, 2, 'one per attempt');
        assert.ok(said.includes('twApi_Connect: Max number of connect retries: 2, has been reached'));
        assert.ok(!sim.lines.some((l) => /SSL handshake error/.test(l)), 'the SDK\'s own handshake did not fail');
      }
    });

    it('logs the upgrade request at TRACE with the app key masked past its first four characters', async function () {
      const platform = await Platform.start(pki.leaf);
      const restPort = await freePort();
      const sim = startSim(config(platform.port, restPort), csdk());
      await untilConnected(restPort);
      assert.ok(sim.line(/\[TRACE\] .*: twWs_Connect: Sent request:$/), sim.output());
      assert.ok(sim.lines.includes('GET /Thingworx/WS HTTP/1.1'), sim.output());
      assert.ok(sim.lines.includes(`appKey: ${APP_KEY.slice(0, 4)}****-****-****-****-************`), sim.output());
      assert.ok(sim.lines.includes('User-Agent: ThingWorx C SDK'), sim.output());
      assert.ok(sim.line(/FIPS Capable$/), sim.output());
    });

    it('pings straight after connecting and drops the connection when no pong comes; a platform that answers keeps it', async function () {
      const silent = await Platform.start(pki.leaf, [], undefined, { autoPong: false });
      const sim = startSim(config(silent.port, await freePort(), { ws_connection: { connect_retries: -1, msg_timeout: 400 } }), csdk());
      await sim.waitFor(/apiThread: Did not receive pong in time/);
      await sim.waitFor(/twWs_Connect: Websocket connected!/, 2);

      const answering = await Platform.start(pki.leaf);
      const kept = startSim(config(answering.port, await freePort(), { ws_connection: { connect_retries: -1, msg_timeout: 400 } }), csdk());
      await kept.waitFor(/^\+\+$/);
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(!kept.line(/Did not receive pong/), kept.output());
      assert.equal(kept.lines.filter((l) => /Websocket connected!/.test(l)).length, 1);
    });

    it('has no FIPS module: fips.enabled ends at twApi_EnableFipsMode returning 1012, and the EMS says so and stops (fips-unavailable)', async function () {
      const { line, cls } = await startupFailure(startSim({ ...config(1, await freePort()), fips: { enabled: true } }, csdk()));
      assert.match(line, /wsems: fips\.enabled is true but twApi_EnableFipsMode returned 1012 \(TW_FIPS_MODE_NOT_SUPPORTED\)/);
      assert.equal(cls, 'fips-unavailable');
    });

    it('names a cert_chain it cannot load in its own words (config-error), and refuses an axTLS flavour outright', async function () {
      const { line, cls } = await startupFailure(startSim(config(1, await freePort(), { certificates: { cert_chain: join(dir, 'no-such-ca.pem') } }), csdk()));
      assert.equal(line.replace(/^.*?: /, ''), 'TW_SET_CLIENT_CA_LIST: Loading a certificate authority chain from file into the ctx: error:80000002:system library::No such file or directory.');
      assert.equal(cls, 'config-error');
      const axtls = startSim(config(1, await freePort()), { ...csdk(), WSEMS_SIM_FLAVOUR: 'axtls' });
      assert.equal(await axtls.exited, 1);
      assert.match(axtls.stderr, /WSEMS_SIM_PROFILE csdk-2\.2\.1 is an OpenSSL build/);
    });
  });
});

describe('C SDK error map', () => {
  it('attributes the SDK lines, and the simulator start-up lines through its inventory entries', () => {
    const cases: [string, string | undefined][] = [
      ['[ERROR] 2024-01-01 00:00:00,000: TW_VALIDATE_CERT: Certificate rejected.  Code: 18, Reason = self signed certificate', 'self-signed'],
      ['TW_VALIDATE_CERT: Certificate rejected.  Code: 19, Reason = self-signed certificate in certificate chain', 'untrusted-cert'],
      ['TW_VALIDATE_CERT: Certificate rejected.  Code: 2, Reason = unable to get issuer certificate', 'untrusted-cert'],
      ['TW_VALIDATE_CERT: Certificate rejected.  Code: 10, Reason = certificate has expired', 'expired'],
      ['TW_VALIDATE_CERT: Certificate rejected.  Code: 9, Reason = certificate is not yet valid', 'expired'],
      ['TW_VALIDATE_CERT: Certificate rejected.  Code: 62, Reason = hostname mismatch', 'hostname-mismatch'],
      ['TW_VALIDATE_CERT: Certificate rejected.  Code: 68, Reason = CA signature digest algorithm too weak', 'untrusted-cert'],
      ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A0000B5:SSL routines::no ciphers available.', 'no-shared-cipher'],
      ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A00018A:SSL routines:tls_process_ske_dhe:dh key too small.', 'dh-too-small'],
      ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000102:SSL routines::unsupported protocol.', 'protocol-version'],
      ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A00014D:SSL routines:tls_process_key_exchange:legacy sigalg disallowed or unsupported.', 'protocol-version'],
      ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000418:SSL routines::tlsv1 alert unknown ca.', 'client-cert-rejected'],
      ['TW_NEW_SSL_CLIENT: SSL handshake error. Error: error:0A000410:SSL routines::sslv3 alert handshake failure.', 'handshake'],
      ['api:sendMessageBlocking: AUTH Message 1 failed. Code:129', 'auth-rejected'],
      ['wsems: fips.enabled is true but FIPS mode unavailable in this build (axtls: no FIPS module); not starting', 'fips-unavailable'],
      ['wsems: FIPS policy violation: certificates.key_file: /x/k.p12: the PKCS#12 private key is encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC, which is not FIPS-approved (PBES2 with AES-CBC is) (simulated FIPS policy); not starting', 'fips-violation'],
      ['TW_NEW_SSL_CTX_FUNC: Setting SSL cipher string Error: error:0A0000B9:SSL routines::no cipher match (certificates.cipher_suite)', 'config-error'],
      ['api:sendMessageBlocking: AUTH Message 1 succeeded. Code:64', undefined],
      ['twWs_Connect: Websocket connected!', undefined],
    ];
    for (const [line, cls] of cases) assert.equal(simAttribute(line), cls, line);
    for (const entry of C_SDK_ERROR_MAP) assert.doesNotThrow(() => new RegExp(entry.pattern), entry.pattern);
  });

  it('holds no simulator-only line: those need the simulator\'s inventory entries', () => {
    assert.equal(attributeLine('wsems: FIPS policy violation: certificates.key_file: x (simulated FIPS policy); not starting'), undefined);
    assert.equal(attributeLine('wsems: http_server cannot listen on 127.0.0.1:8000'), undefined);
    // A port in use is the OS's words, which any build prints: infrastructure by the default map too.
    assert.equal(attributeLine('wsems: http_server cannot listen on 127.0.0.1:8000: EADDRINUSE'), 'infrastructure');
    assert.ok(C_SDK_ERROR_MAP.every((e) => !e.pattern.startsWith('wsems')), 'no "wsems: …" pattern in the default map');
  });

  it('tries a profile\'s extra entries first', () => {
    const line = 'TW_VALIDATE_CERT: Certificate rejected.  Code: 19, Reason = self signed certificate in certificate chain';
    assert.equal(attributeLine(line, [{ pattern: 'Code: 19,', class: 'self-signed' }]), 'self-signed');
  });
});
