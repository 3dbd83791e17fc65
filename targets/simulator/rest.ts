import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { defect } from './defects.ts';
import type { Settings } from './startup.ts';
import type { TlsPolicy } from './tls-policy.ts';

// The EMS's local REST server: the one resource the harness reads, isConnected (EMS-FACTS.md),
// over TLS and behind basic authentication when http_server says so (http-server.ts loads both).

const IS_CONNECTED = '/Thingworx/Things/LocalEms/Properties/isConnected';

/** As the vendor documents http_server.host: `localhost` is the IPv6 loopback; `127.0.0.1` the IPv4 one. */
export function bindHost(host: string): string {
  if (defect('lsr-host-ignored')) return '127.0.0.1';
  if (host === 'localhost') return defect('lsr-localhost-ipv4') ? '127.0.0.1' : '::1';
  return host;
}

/**
 * Starts listening; rejects with the listen error (EADDRINUSE …) so the caller can say which address.
 * Its TLS is the build's own library: the versions (and, for axTLS, the fixed suites) of its policy.
 */
export function startRest(settings: Settings, policy: TlsPolicy, isConnected: () => boolean): Promise<Server> {
  const http = settings.config.http_server;
  const handler = (req: IncomingMessage, res: ServerResponse) => answer(req, res, settings, isConnected);
  const tls = settings.http.tls;
  const make = () => tls
    ? createHttpsServer({
      cert: tls.cert, key: tls.key, minVersion: policy.minVersion,
      ...(policy.maxVersion ? { maxVersion: policy.maxVersion } : {}),
      ...(policy.honoursCipherSuite ? {} : { ciphers: policy.cipherList(settings.config.certificates) }),
    }, handler)
    : createHttpServer(handler);
  const server = make();
  if (tls && defect('lsr-plain-http-answered')) answerPlainToo(server, handler);
  const host = bindHost(http.host);
  // lsr-binds-any: an EMS that ignores host and binds INADDR_ANY/in6addr_any, played on the
  // loopbacks only (the harness never listens on another address): both of them, on the same port.
  const twin = defect('lsr-binds-any') ? make() : undefined;
  return listen(server, http.port, host).then(async () => {
    if (twin) {
      await listen(twin, http.port, host === '::1' ? '127.0.0.1' : '::1');
      server.once('close', () => twin.close());
    }
    return server;
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** lsr-plain-http-answered: one port for both; a connection's first byte tells a ClientHello (0x16) from a plain request. */
function answerPlainToo(tlsServer: Server, handler: (req: IncomingMessage, res: ServerResponse) => void): void {
  const plain = createHttpServer(handler);
  const toTls = tlsServer.listeners('connection') as Array<(socket: Socket) => void>;
  tlsServer.removeAllListeners('connection');
  tlsServer.on('connection', (socket: Socket) => socket.once('data', (first: Buffer) => {
    socket.pause();
    socket.unshift(first);
    if (first[0] === 0x16) for (const listener of toTls) listener.call(tlsServer, socket);
    else plain.emit('connection', socket);
    process.nextTick(() => socket.resume());
  }));
}

function answer(req: IncomingMessage, res: ServerResponse, settings: Settings, isConnected: () => boolean): void {
  const basic = settings.http.basic;
  // Written past the logger, whose scrubber would mask the clear password (and only that).
  if (defect('log-http-password')) process.stdout.write(`wsems: http_server: ${req.method} ${req.url} Authorization: ${req.headers.authorization ?? '(none)'}\n`);
  if (basic && !defect('lsr-auth-ignored') && !authorized(req, basic.user, basic.password)) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="EMS"' }).end();
    return;
  }
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'GET' || path !== IS_CONNECTED) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n');
    return;
  }
  // An InfoTable: rows before the data shape, as the EMS answers.
  const body = JSON.stringify({
    rows: [{ isConnected: isConnected() && !defect('rest-isconnected-false') }],
    dataShape: { fieldDefinitions: { isConnected: { name: 'isConnected', baseType: 'BOOLEAN' } } },
  });
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
}

function authorized(req: IncomingMessage, user: string, password: string): boolean {
  const header = req.headers.authorization;
  if (header === undefined && defect('lsr-auth-missing-header-passes')) return true;
  if (!header?.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice(6), 'base64');
  const wanted = Buffer.from(`${user}:${password}`, 'utf8');
  // strncmp(given, wanted, n): equal over n characters, a terminating NUL included when one string ends first.
  if (defect('lsr-auth-prefix-compare')) return wanted.subarray(0, given.length).equals(given);
  if (defect('lsr-auth-configured-length-compare')) return given.subarray(0, wanted.length).equals(wanted);
  if (defect('lsr-auth-user-only')) return given.toString('utf8').split(':')[0] === user;
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
