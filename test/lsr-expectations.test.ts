import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { restEndpointOf, type RestEndpoint } from '../harness/ems/rest-endpoint.ts';
import { judgeLocalServer } from '../harness/lsr/judge.ts';
import { probeLocalServer } from '../harness/lsr/probe.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { family, membersOf, partsOf, type ScenarioInput } from '../harness/scenario/model.ts';
import { DialRefused, InfrastructureError, type TargetSession } from '../harness/scenario/target.ts';
import type { Decision } from '../harness/scenario/verdict.ts';
import { asChannel } from './stream-channel.ts';

// Each local-server expectation against real servers that get it right and servers with one
// defect each (a leaf without its intermediate, the chain out of order, a password not checked,
// a bind to every address, plain HTTP on the TLS port …): the probe asks them as the LSR, the
// judge must pass the right one and fail each defect naming what it saw.

const USER = 'lsr';
const PASSWORD = 'lsr-password-4711';
const connected: Decision = { verdict: 'CONNECTED', because: 'platform accepted AUTH; EMS logged AUTH succeeded' };

/** A session that dials on this host, as the local driver does. */
const here: Pick<TargetSession, 'dial' | 'dialRoute'> = {
  dialRoute: 'a TCP connection on the harness host',
  dial: (host, port) => new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ECONNREFUSED' ? new DialRefused(`nothing listens on ${host}:${port}`) : new InfrastructureError(e.message)));
  }),
};

interface Defects {
  chain?: 'leaf-only' | 'root-in-the-middle';
  /** Basic auth that looks at the user only. */
  passwordUnchecked?: boolean;
  /** Basic auth compared with strncmp over the received length (a prefix passes), or over the configured one (anything it begins passes). */
  comparedOver?: 'received-length' | 'configured-length';
  /** Plain HTTP answered on the TLS port too (first byte sniffed). */
  plainToo?: boolean;
}

function isConnectedAnswer(authOn: boolean, o: Defects) {
  const right = `${USER}:${PASSWORD}`;
  const matches = (given: string) => (o.passwordUnchecked ? given.startsWith(`${USER}:`)
    : o.comparedOver === 'received-length' ? right.startsWith(given)
      : o.comparedOver === 'configured-length' ? given.startsWith(right) : given === right);
  return (req: IncomingMessage, res: ServerResponse) => {
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    const ok = !authOn || (req.headers.authorization !== undefined && matches(given));
    if (!ok) return void res.writeHead(401).end();
    res.writeHead(200).end(JSON.stringify({ rows: [{ isConnected: true }], dataShape: {} }));
  };
}

describe('local-server expectations against real servers, right and defective', function () {
  this.timeout(60_000);
  let catalogue: Catalogue;
  let pems: Record<string, string>;
  const servers: Server[] = [];
  before(async () => {
    catalogue = await loadCatalogue();
    pems = Object.fromEntries(await Promise.all(['leaf-local-server', 'local-server-ca', 'root-ca'].map(async (n) => [n, await readFile(catalogue.certs[n]!.certFile, 'utf8')])));
    pems.key = await readFile(catalogue.certs['leaf-local-server']!.keyFile, 'utf8');
  });
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  /** A local server on `host`, TLS or plain, authenticating or not, with the defects asked for. */
  async function server(o: { tls: boolean; auth: boolean; host?: string } & Defects): Promise<RestEndpoint> {
    const chain = o.chain === 'leaf-only' ? [pems['leaf-local-server']] : o.chain === 'root-in-the-middle'
      ? [pems['leaf-local-server'], pems['root-ca'], pems['local-server-ca']] : [pems['leaf-local-server'], pems['local-server-ca']];
    const handler = isConnectedAnswer(o.auth, o);
    const https = createHttpsServer({ cert: chain.join(''), key: pems.key }, handler);
    const http = createHttpServer(handler);
    // One port; the first bytes tell a ClientHello (0x16) from a plain request, and are replayed to the server chosen.
    const front = createNetServer((socket) => socket.once('data', (first: Buffer) => {
      const to = first[0] === 0x16 ? (o.tls ? https : undefined) : (!o.tls || o.plainToo ? http : undefined);
      if (!to) return void socket.destroy();
      to.emit('connection', asChannel(socket, first));
    }));
    servers.push(front, https, http);
    const host = o.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => front.listen(0, host, resolve));
    const port = (front.address() as { port: number }).port;
    return restEndpointOf({ host: host === '::' ? '::1' : host, port, ssl: o.tls, authenticate: o.auth }, { user: USER, password: PASSWORD });
  }

  async function judged(expect: ScenarioInput['expect'], rest: RestEndpoint, lines: string[] = []) {
    const [s] = family('t', { link: 'local-server' }, [{ id: 't', title: 't', requirements: ['LSR-TLS'], expect }]).scenarios;
    assert.ok(s, 'a valid scenario');
    const members = membersOf(s.expect);
    const lsr = await probeLocalServer({ parts: members.flatMap(partsOf), rest, session: here, catalogue, lines: () => lines });
    return { lsr, j: judgeLocalServer(members, connected, { observations: [], lines: [] }, lsr) };
  }

  const SERVES_TLS = { outcome: 'serves-tls' as const, chain: ['leaf-local-server', 'local-server-ca'] };

  it('serves-tls: holds for the chain in order; fails a leaf alone and a chain out of order as the wrong chain', async () => {
    const good = await judged(SERVES_TLS, await server({ tls: true, auth: false }));
    assert.equal(good.j.status, 'passed', good.j.message);
    assert.deepEqual(good.lsr.handshakes[0]!.ok && good.lsr.handshakes[0]!.chain.map((c) => c.name), ['leaf-local-server', 'local-server-ca']);
    assert.equal(good.lsr.plainOnTlsPort?.answered, false);

    const leafOnly = await judged(SERVES_TLS, await server({ tls: true, auth: false, chain: 'leaf-only' }));
    assert.equal(leafOnly.j.status, 'failed');
    assert.match(leafOnly.j.message!, /the EMS served the wrong chain: served leaf-local-server; expected leaf-local-server, local-server-ca, in that order; the LSR client trusting chain-root\.pem refused it \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);

    const reordered = await judged(SERVES_TLS, await server({ tls: true, auth: false, chain: 'root-in-the-middle' }));
    assert.equal(reordered.j.status, 'failed');
    assert.match(reordered.j.message!, /the EMS served the wrong chain: served leaf-local-server, root-ca, local-server-ca; expected/);
  });

  it('serves-tls: fails a server that answers plain HTTP on its TLS port, and one that speaks no TLS', async () => {
    const both = await judged(SERVES_TLS, await server({ tls: true, auth: false, plainToo: true }));
    assert.equal(both.j.status, 'failed');
    assert.match(both.j.message!, /a plain-HTTP request on its TLS port was answered with 200: it does not serve TLS only/);
    const plain = await judged(SERVES_TLS, await server({ tls: false, auth: false }));
    assert.match(plain.j.message!, /expected TLS; the local server completed no TLS handshake/);
  });

  it('serves-plain: holds for a plain server; fails a TLS one', async () => {
    assert.equal((await judged({ outcome: 'serves-plain' }, await server({ tls: false, auth: false }))).j.status, 'passed');
    const tls = await judged({ outcome: 'serves-plain' }, await server({ tls: true, auth: false }));
    assert.match(tls.j.message!, /expected plain HTTP to be served; the plain request got no answer/);
  });

  it('rejects-unauthenticated: 401 for each wrong credential and 200 hold, over plain and over TLS; a password never checked fails, and so does no auth at all', async () => {
    const tried = ['none', 'wrong user', 'wrong password', 'truncated password', 'extended password', 'right'];
    for (const tls of [false, true]) {
      const good = await judged({ outcome: 'rejects-unauthenticated' }, await server({ tls, auth: true }));
      assert.equal(good.j.status, 'passed', good.j.message);
      assert.deepEqual(good.lsr.requests.map((r) => `${r.credentials}/${r.over}:${r.status}`), tried.map((c) => `${c}/${tls ? 'tls' : 'plain'}:${c === 'right' ? 200 : 401}`));
    }
    const lax = await judged({ outcome: 'rejects-unauthenticated' }, await server({ tls: false, auth: true, passwordUnchecked: true }));
    assert.equal(lax.j.message, 'a request with a wrong password got 200 (expected 401); a request with a truncated password got 200 (expected 401); a request with an extended password got 200 (expected 401)');
    // Compares over the wrong length: only the near misses tell them from a right one.
    const prefix = await judged({ outcome: 'rejects-unauthenticated' }, await server({ tls: true, auth: true, comparedOver: 'received-length' }));
    assert.equal(prefix.j.message, 'a request with a truncated password got 200 (expected 401)');
    const longer = await judged({ outcome: 'rejects-unauthenticated' }, await server({ tls: true, auth: true, comparedOver: 'configured-length' }));
    assert.equal(longer.j.message, 'a request with an extended password got 200 (expected 401)');
    const open = await judged({ outcome: 'rejects-unauthenticated' }, await server({ tls: false, auth: false }));
    assert.match(open.j.message!, /no credentials got 200 \(expected 401\); a request with a wrong user got 200/);
  });

  it('listens-only-on: holds for a server on that address only; fails one bound to every address, naming where else it listens', async () => {
    const v6 = await judged({ outcome: 'listens-only-on', family: 'IPv6', address: '::1' }, await server({ tls: false, auth: false, host: '::1' }));
    assert.equal(v6.j.status, 'passed', v6.j.message);
    assert.deepEqual(v6.lsr.listeners!.map((l) => `${l.address}:${l.listening}`), ['::1:true', '127.0.0.1:false', '127.0.0.2:false']);
    const v4 = await judged({ outcome: 'listens-only-on', family: 'IPv4', address: '127.0.0.1' }, await server({ tls: false, auth: false, host: '127.0.0.1' }));
    assert.equal(v4.j.status, 'passed', v4.j.message);
    const everywhere = await judged({ outcome: 'listens-only-on', family: 'IPv6', address: '::1' }, await server({ tls: false, auth: false, host: '::' }));
    assert.equal(everywhere.j.message, 'expected it to listen only on ::1: it also listens on 127.0.0.1, 127.0.0.2');
  });

  it('warns: exactly the warnings expected; a missing one names the WARN lines no entry knows and the entry to add; an extra one is quoted', async () => {
    const rest = await server({ tls: false, auth: false });
    const lines = [
      '[WARN ] 2026-01-01 00:00:00,000: http_server: SSL is disabled, use https',
      '[WARN ] 2026-01-01 00:00:00,000: LocalServer: anonymous access enabled',
    ];
    const some = await judged({ outcome: 'warns', warnings: ['ssl-off', 'authenticate-off'] }, rest, lines);
    assert.equal(some.j.status, 'failed');
    assert.match(some.j.message!, /^no warning logged for authenticate-off \(WARN lines no warningMap entry matched: "\[WARN \] .*anonymous access enabled"; .*warningMap: \[\{ pattern: /);
    const none = await judged({ outcome: 'warns', warnings: [] }, rest, lines);
    assert.match(none.j.message!, /^a warning about ssl-off although that setting is secure here: "\[WARN \] .*SSL is disabled, use https"$/);
    assert.equal((await judged({ outcome: 'warns', warnings: ['ssl-off'] }, rest, lines)).j.status, 'passed');
  });

  it('all-of holds only when every outcome does, and names each that does not', async () => {
    const rest = await server({ tls: true, auth: true, chain: 'leaf-only', passwordUnchecked: true });
    const { j } = await judged({ outcome: 'all-of', of: [SERVES_TLS, { outcome: 'rejects-unauthenticated' }] }, rest);
    assert.equal(j.status, 'failed');
    assert.match(j.message!, /the EMS served the wrong chain: .*; a request with a wrong password got 200 \(expected 401\); .*extended password got 200 \(expected 401\)$/);
  });

  it('refuses-to-start: an EMS that started and connected is an unexpected start; a start-up refusal of another class fails naming it', () => {
    const expect = [{ outcome: 'refuses-to-start' as const, class: 'key-load-error' as const }];
    const ev = { observations: [], lines: [] };
    assert.match(judgeLocalServer(expect, connected, ev, undefined).message!, /^unexpected start: expected the EMS to refuse to start \(key-load-error\); it started and connected/);
    assert.equal(judgeLocalServer(expect, { verdict: 'REFUSED', class: 'key-load-error', because: 'x' }, ev, undefined).status, 'passed');
    assert.match(judgeLocalServer(expect, { verdict: 'REFUSED', class: 'config-error', because: 'wsems: configuration error: x' }, ev, undefined).message!, /expected the EMS to refuse to start \(key-load-error\); got refusal: config-error/);
  });

  it('the platform link has to be up for anything served: a refused EMS fails a serving expectation, naming what happened', () => {
    const j = judgeLocalServer([{ outcome: 'serves-plain' }], { verdict: 'HANG', because: 'no decisive evidence within 15000 ms' }, { observations: [], lines: [] }, undefined);
    assert.equal(j.message, 'expected a running EMS that serves plain HTTP; got HANG (no decisive evidence within 15000 ms)');
  });
});
