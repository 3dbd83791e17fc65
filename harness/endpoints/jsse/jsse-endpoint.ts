import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import * as z from 'zod';
import type { Catalogue } from '../../pki/catalogue.ts';
import type { Observation } from '../observations.ts';
import { createPlatformStub } from '../platform-stub.ts';
import { bindInRange, releasePort } from '../ports.ts';
import { EndpointSpec, type TlsVersion } from '../spec.ts';
import { Connection, type Endpoint, type EndpointContext, type Phase } from '../tls-endpoint.ts';
import { JAVA7_DH_BITS, Jvm, type Java7DhBits } from './jvm.ts';

// The jsse-java7 endpoint: a listener in the shared JsseFront JVM terminates TLS as a Java 7
// server would and forwards each connection to a loopback port here, reporting the handshake on
// it first; the plaintext then goes to the same platform stub the Node TLS endpoint uses.

/** JSSE suites a Java 7 server could enable without EC (standard names), with the OpenSSL names observations use. */
export const JSSE_SUITES = {
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA: 'DHE-RSA-AES128-SHA',
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA256: 'DHE-RSA-AES128-SHA256',
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA: 'DHE-RSA-AES256-SHA',
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: 'DHE-RSA-AES256-SHA256',
  TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA: 'DHE-RSA-DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA256: 'AES256-SHA256',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
} as const;
type JsseSuite = keyof typeof JSSE_SUITES;

/**
 * A Java 7 server's enabled suites without EC (OpenJDK 7 builds without SunEC) under the default
 * (limited) crypto policy, so AES-128 and 3DES: ephemeral DH first, then RSA key exchange, in
 * server order. An OpenSSL client that allows DHE therefore always meets the small DH group.
 */
export const JAVA7_SUITES: readonly JsseSuite[] = [
  'TLS_DHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
];

/** Java 7 servers spoke TLS 1.0 to 1.2 (SSLv3 too, which no client here would accept). */
const JAVA7_PROTOCOLS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2'];

/** What the front reports on each forwarded connection, one JSON line each. */
const FrontEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tcp-accepted'), remote: z.string() }),
  z.object({ kind: z.literal('handshake-ok'), protocol: z.string(), cipher: z.string() }),
  z.object({ kind: z.literal('handshake-failed'), error: z.string() }),
]);

interface JsseOptions {
  dhBits: Java7DhBits;
  protocols: string[];
  suites: JsseSuite[];
  certFiles: string[];
  keyFile: string;
  leadingZeroBug: boolean;
}

export async function startJsseEndpoint(spec: EndpointSpec, ctx: EndpointContext): Promise<Endpoint> {
  const checked = EndpointSpec.safeParse(spec);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new Error(`endpoint.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const options = jsseOptions(checked.data, ctx.catalogue);

  const observations: Observation[] = [];
  const listeners = new Set<(o: Observation) => void>();
  const observe = (o: Observation): void => {
    observations.push(o);
    for (const listener of [...listeners]) listener(o);
  };
  const stub = createPlatformStub({ appKey: ctx.appKey, observe });
  const connections = new WeakMap<Socket, Connection>();
  const sockets = new Set<Socket>();
  const http = createHttpServer((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('the platform only answers WebSocket upgrades\n');
  });
  http.on('upgrade', (req, socket, head) => {
    const conn = connections.get(socket as Socket);
    if (!conn) {
      socket.destroy(); // cannot happen: only reported connections reach the HTTP layer
      return;
    }
    stub.handleUpgrade(req, socket, head, conn);
  });

  const track = (socket: Socket, phase: Phase): void => {
    const conn = new Connection(phase, (reached) => observe({ kind: 'closed', at: performance.now(), phase: reached }));
    connections.set(socket, conn);
    if (socket.destroyed) conn.socketClosed();
    else socket.once('close', () => conn.socketClosed());
  };

  // One connection from the front per connection it accepted: report lines, then (after a
  // handshake) plaintext for the HTTP server.
  const forward = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // a reset is seen as the close that follows
    let pending = '';
    let accepted = false;
    let tracked = false;
    let reached: Phase = 'tcp';
    socket.once('close', () => {
      if (accepted && !tracked) track(socket, reached);
    });
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === '') {
          // Nothing follows until the acknowledgement: the HTTP server reads the rest itself.
          socket.off('data', onData);
          tracked = true;
          track(socket, 'tls');
          http.emit('connection', socket);
          socket.write('\n');
          return;
        }
        const event = FrontEvent.safeParse(parseJson(line));
        if (!event.success) {
          socket.destroy(); // not the front's protocol: drop it rather than guess
          return;
        }
        const e = event.data;
        const at = performance.now();
        if (e.kind === 'tcp-accepted') {
          accepted = true;
          observe({ kind: 'tcp-accepted', at, remote: e.remote });
        } else if (e.kind === 'handshake-failed') {
          tracked = true;
          observe({ kind: 'handshake-failed', at, error: e.error });
          track(socket, 'tcp');
        } else {
          reached = 'tls';
          const cipher = opensslName(e.cipher);
          observe({
            kind: 'handshake-ok',
            at,
            protocol: e.protocol,
            cipher,
            ...(cipher.startsWith('DHE-') ? { ephemeral: { type: 'DH', bits: options.dhBits } } : {}),
          });
        }
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    forward.once('error', (err) => reject(new Error(`endpoint: cannot listen on 127.0.0.1 for the JSSE front: ${err.message}`)));
    forward.listen(0, '127.0.0.1', () => resolve());
  });
  const forwardPort = (forward.address() as { port: number }).port;
  const closeLocal = () =>
    new Promise<void>((resolve) => {
      forward.close(() => resolve());
      stub.close();
      for (const s of sockets) s.destroy();
    });

  const id = randomUUID();
  let jvm: Jvm;
  let port: number;
  try {
    const shared = await Jvm.get(options.dhBits);
    jvm = shared;
    // The JVM binds the port picked here (the one a real EMS can reach), and says when it is taken.
    port = await bindInRange(ctx.bindAddress, ctx.ports, (p) => shared.listen({
      id,
      host: ctx.bindAddress,
      port: p,
      certFiles: options.certFiles,
      keyFile: options.keyFile,
      forwardPort,
      protocols: options.protocols,
      suites: options.suites,
      leadingZeroBug: options.leadingZeroBug,
    }).then(() => undefined));
  } catch (err) {
    await closeLocal();
    throw new Error(`endpoint: the JSSE front cannot serve "${spec.cert}" on ${ctx.bindAddress}: ${(err as Error).message}`);
  }

  let closing: Promise<void> | undefined;
  return {
    host: ctx.bindAddress,
    port,
    observations,
    onObservation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      // The JVM's port first, so nothing new arrives while the local side shuts.
      closing ??= jvm.closeListener(id).catch(() => undefined).then(() => releasePort(port)).then(closeLocal);
      return closing;
    },
  };
}

/** Ends the shared JVMs (end of a run). */
export function closeJsseFronts(): Promise<void> {
  return Jvm.closeAll();
}

function jsseOptions(spec: EndpointSpec, catalogue: Catalogue): JsseOptions {
  const leaf = catalogue.certs[spec.cert];
  if (!leaf) throw fieldError('cert', `unknown certificate "${spec.cert}"`);
  const chainField = spec.chain ? 'chain' : 'cert';
  const chain = (spec.chain ?? leaf.serveWith).map((name) => {
    const record = catalogue.certs[name];
    if (!record) throw fieldError(chainField, spec.chain ? `unknown certificate "${name}"` : `"${spec.cert}" is served with unknown certificate "${name}"`);
    return record.certFile;
  });

  const dhBits = spec.dhBits ?? 768;
  if (!(JAVA7_DH_BITS as readonly number[]).includes(dhBits)) {
    throw fieldError('dhBits', `a Java 7 server used ${JAVA7_DH_BITS.join(' or ')}-bit ephemeral DH, not ${dhBits}`);
  }

  const order: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  for (const field of ['minVersion', 'maxVersion'] as const) {
    const v = spec[field];
    if (v && !JAVA7_PROTOCOLS.includes(v)) throw fieldError(field, `Java 7 speaks ${JAVA7_PROTOCOLS.join(', ')}, not ${v}`);
  }
  const lo = order.indexOf(spec.minVersion ?? 'TLSv1');
  const hi = order.indexOf(spec.maxVersion ?? 'TLSv1.2');
  if (lo > hi) throw fieldError('maxVersion', `${spec.maxVersion} is below minVersion ${spec.minVersion}`);
  const protocols = JAVA7_PROTOCOLS.filter((p) => order.indexOf(p) >= lo && order.indexOf(p) <= hi);

  const suites = (spec.jsseSuites ?? JAVA7_SUITES).map((name) => {
    const standard = standardName(name);
    if (!(standard in JSSE_SUITES)) {
      throw fieldError('jsseSuites', `"${name}" is not a suite of a Java 7 server this endpoint knows (${Object.keys(JSSE_SUITES).join(', ')})`);
    }
    return standard as JsseSuite;
  });

  return { dhBits: dhBits as Java7DhBits, protocols, suites, certFiles: [leaf.certFile, ...chain], keyFile: leaf.keyFile, leadingZeroBug: spec.leadingZeroBug ?? false };
}

/** JSSE still spells some suites SSL_… (their SSL 3.0 names); the standard name is TLS_…. */
function standardName(jsse: string): string {
  return jsse.replace(/^SSL_/, 'TLS_');
}

function opensslName(jsse: string): string {
  return JSSE_SUITES[standardName(jsse) as JsseSuite] ?? jsse;
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function fieldError(field: string, message: string): Error {
  return new Error(`endpoint.${field}: ${message}`);
}
