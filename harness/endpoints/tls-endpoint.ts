import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, DEFAULT_CIPHERS, type SecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Catalogue } from '../pki/catalogue.ts';
import { dhParamsPem } from './dh-groups.ts';
import type { Observation } from './observations.ts';
import { createPlatformStub, type StubConnection } from './platform-stub.ts';
import { listenInRange, type PortRange } from './ports.ts';
import { EndpointSpec } from './spec.ts';

// The Node TLS front of the platform: a real TLS server configured from an EndpointSpec, the
// platform stub behind its HTTP 'upgrade', and every step of every connection as observations.

export interface Endpoint {
  host: string;
  port: number;
  /** Everything seen so far, in order. */
  observations: Observation[];
  /** Returns the unsubscribe function. */
  onObservation(listener: (o: Observation) => void): () => void;
  /** Stops listening and destroys every socket; resolves when the port is free. */
  close(): Promise<void>;
}

export interface EndpointContext {
  catalogue: Catalogue;
  appKey: string;
  bindAddress: string;
  /** Where the listening port comes from (the target's endpointPorts); default: harness/endpoints/ports.ts. */
  ports?: PortRange;
}

export type Phase = Extract<Observation, { kind: 'closed' }>['phase'];
const PHASE_ORDER: Phase[] = ['tcp', 'tls', 'websocket', 'authenticated'];

export async function startEndpoint(spec: EndpointSpec, ctx: EndpointContext): Promise<Endpoint> {
  const checked = EndpointSpec.safeParse(spec);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new Error(`endpoint.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  spec = checked.data;
  if (spec.kind !== 'node-tls') {
    throw new Error(`endpoint.kind: "${spec.kind}" is not served by the Node TLS endpoint; start it with its own front`);
  }
  const { options, context } = await cachedTlsOptions(spec, ctx.catalogue);

  const observations: Observation[] = [];
  const listeners = new Set<(o: Observation) => void>();
  const observe = (o: Observation): void => {
    observations.push(o);
    for (const listener of [...listeners]) listener(o);
  };

  let server: Server;
  try {
    server = serverWith(options, context, (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('the platform only answers WebSocket upgrades\n');
    });
  } catch (err) {
    throw new Error(`endpoint: the TLS options were refused: ${messageOf(err)}`);
  }
  const stub = createPlatformStub({ appKey: ctx.appKey, observe });
  const rawSockets = new Set<Socket>();
  const connections = new WeakMap<TLSSocket, Connection>();
  // tls.Server creates the TLSSocket out of sight; it surfaces in exactly one of
  // 'secureConnection' or 'tlsClientError' (Node reports a close before the handshake as the
  // latter), which is where a connection's tracking starts.
  const track = (socket: TLSSocket, phase: Phase): void => {
    const conn = new Connection(phase, (reached) => observe({ kind: 'closed', at: performance.now(), phase: reached }));
    connections.set(socket, conn);
    if (socket.closed) conn.socketClosed();
    else socket.once('close', () => conn.socketClosed());
  };

  server.on('connection', (raw: Socket) => {
    rawSockets.add(raw);
    raw.once('close', () => rawSockets.delete(raw));
    observe({ kind: 'tcp-accepted', at: performance.now(), remote: addressOf(raw.remoteAddress, raw.remotePort) });
  });

  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // With rejectUnauthorized Node completes the handshake, then drops a client whose
    // certificate did not verify and reports only "socket hang up": the reason is here.
    const rejected = socket.authorizationError;
    observe(
      rejected
        ? { kind: 'handshake-failed', at: performance.now(), error: `client certificate rejected: ${rejected}`, code: String(rejected) }
        : { kind: 'handshake-failed', at: performance.now(), error: err.message, ...(err.code ? { code: err.code } : {}) },
    );
    track(socket, 'tcp');
    socket.destroy();
  });

  // Prepended so that a client refused here never reaches the HTTP layer.
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const peer = socket.getPeerX509Certificate();
    if (spec.clientAuth && peer && !socket.authorized) {
      // Optional client auth (require: false) still refuses a certificate that does not verify.
      observe({
        kind: 'handshake-failed',
        at: performance.now(),
        error: `client certificate rejected: ${socket.authorizationError}`,
        code: String(socket.authorizationError),
      });
      track(socket, 'tcp');
      socket.destroy();
      return;
    }
    const protocol = socket.getProtocol() ?? 'unknown';
    const cipher = socket.getCipher().name;
    const ephemeral = ephemeralKeyOf(protocol, cipher, spec);
    observe({
      kind: 'handshake-ok',
      at: performance.now(),
      protocol,
      cipher,
      ...(ephemeral ? { ephemeral } : {}),
      ...(peer ? { clientCert: { subject: dnString(peer.subject), issuer: dnString(peer.issuer) } } : {}),
    });
    track(socket, 'tls');
  });

  server.on('upgrade', (req, socket, head) => {
    const conn = connections.get(socket as TLSSocket);
    if (!conn) {
      socket.destroy(); // cannot happen: every upgrade arrives on a tracked TLS socket
      return;
    }
    stub.handleUpgrade(req, socket, head, conn);
  });

  let port: number;
  try {
    port = await listenInRange(server, ctx.bindAddress, ctx.ports);
  } catch (err) {
    stub.close();
    throw new Error(`endpoint: cannot listen on ${ctx.bindAddress}: ${messageOf(err)}`);
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
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        stub.close();
        // Destroying the TCP socket destroys the TLS socket wrapped around it.
        for (const raw of rawSockets) raw.destroy();
      });
      return closing;
    },
  };
}

/**
 * One connection's progress, reported once as `closed` when its socket and every hold are gone.
 * Exported for the JSSE front, whose plaintext side feeds the same platform stub.
 */
export class Connection implements StubConnection {
  private closed = false;
  private holds = 0;
  private reported = false;

  constructor(
    private phase: Phase,
    private readonly report: (phase: Phase) => void,
  ) {}

  advance(phase: 'websocket' | 'authenticated'): void {
    if (PHASE_ORDER.indexOf(phase) > PHASE_ORDER.indexOf(this.phase)) this.phase = phase;
  }

  holdClose(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.maybeReport();
    };
  }

  socketClosed(): void {
    this.closed = true;
    this.maybeReport();
  }

  private maybeReport(): void {
    if (!this.closed || this.holds > 0 || this.reported) return;
    this.reported = true;
    this.report(this.phase);
  }
}

/**
 * An endpoint's options and secure context, made once per spec and catalogue: reading the PEM
 * files and parsing key and chain into a context is most of an endpoint's start-up (start + close
 * 2.4 ms CPU uncached, measured over the catalogue's specs), and a spec comes back on every target
 * and in every scenario that asks for it. The server stays per scenario: a listener shared by
 * concurrent scenarios could not tell whose failed handshake it saw (docs/performance.md).
 * Sharing the context shares its session cache and ticket keys: an EMS is started afresh for each
 * scenario, so it can offer no other scenario's session; two endpoints of one spec in one scenario
 * may see the second resume what the first began, and they serve the same certificate.
 */
const optionsCache = new WeakMap<Catalogue, Map<string, Promise<ServingOptions>>>();

interface ServingOptions {
  options: ServerOptions;
  context: SecureContext;
}

function cachedTlsOptions(spec: EndpointSpec, catalogue: Catalogue): Promise<ServingOptions> {
  let bySpec = optionsCache.get(catalogue);
  if (!bySpec) optionsCache.set(catalogue, (bySpec = new Map()));
  const key = JSON.stringify(spec);
  let serving = bySpec.get(key);
  if (!serving) {
    serving = tlsOptions(spec, catalogue).then(servingOptions);
    bySpec.set(key, serving);
    // A spec that failed (a file that could not be read, say) is tried afresh the next time.
    serving.catch(() => bySpec.delete(key));
  }
  return serving;
}

/** tls.Server sets one (from process.argv) for its own contexts: resuming a session with client auth needs it. */
const SESSION_ID_CONTEXT = 'wsems-conformance-endpoint';

/**
 * An HTTPS server that serves with `context`. tls.Server takes no prebuilt context: it builds its
 * own from the options (its `_sharedCreds`). Given only the server's own options it builds an
 * empty one cheaply, which is then replaced; a Node without that field gets the full options.
 */
function serverWith(options: ServerOptions, context: SecureContext, handler: RequestListener): Server {
  const { requestCert, rejectUnauthorized } = options;
  const server = createServer({ requestCert, rejectUnauthorized }, handler);
  if (!('_sharedCreds' in server)) return createServer(options, handler);
  (server as Server & { _sharedCreds: SecureContext })._sharedCreds = context;
  return server;
}

/** A spec's server options, and each option's own check (a field, the context options that test it alone). */
interface SpecOptions {
  options: ServerOptions;
  checks: Array<[field: string, options: SecureContextOptions]>;
}

async function tlsOptions(spec: EndpointSpec, catalogue: Catalogue): Promise<SpecOptions> {
  const leaf = catalogue.certs[spec.cert];
  if (!leaf) throw fieldError('cert', `unknown certificate "${spec.cert}"`);
  const chainField = spec.chain ? 'chain' : 'cert';
  const chain = (spec.chain ?? leaf.serveWith).map((name) => {
    const record = catalogue.certs[name];
    if (!record) {
      throw fieldError(chainField, spec.chain ? `unknown certificate "${name}"` : `"${spec.cert}" is served with unknown certificate "${name}"`);
    }
    return record;
  });
  const pem = async (field: string, file: string) => {
    try {
      const text = await readFile(file, 'utf8');
      return text.endsWith('\n') ? text : `${text}\n`;
    } catch (err) {
      throw fieldError(field, `cannot read ${file}: ${messageOf(err)}`);
    }
  };
  const key = await pem('cert', leaf.keyFile);
  const cert = (await Promise.all([pem('cert', leaf.certFile), ...chain.map((c) => pem(chainField, c.certFile))])).join('');
  // Run only when the whole context is refused (servingOptions), to name the field. Weak
  // certificates are served on purpose (see ciphers below).
  const checks: SpecOptions['checks'] = [['cert', { key, cert, ciphers: 'DEFAULT:@SECLEVEL=0' }]];

  const opts: ServerOptions = { key, cert, honorCipherOrder: true };

  if (spec.minVersion) opts.minVersion = spec.minVersion;
  if (spec.maxVersion) opts.maxVersion = spec.maxVersion;
  const order = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  if (spec.minVersion && spec.maxVersion && order.indexOf(spec.minVersion) > order.indexOf(spec.maxVersion)) {
    throw fieldError('maxVersion', `${spec.maxVersion} is below minVersion ${spec.minVersion}`);
  }

  // Node takes both lists in one `ciphers` option and splits them on the TLS_ prefix, so each
  // field is checked on its own (to name it in an error) and then joined.
  const defaults = DEFAULT_CIPHERS.split(':');
  const isSuite = (c: string) => c.startsWith('TLS_') || c.startsWith('!TLS_');
  if (spec.ciphers?.split(':').some(isSuite)) {
    throw fieldError('ciphers', 'TLS 1.3 suites (TLS_*) belong in endpoint.ciphersuites');
  }
  if (spec.ciphersuites?.split(':').some((c) => !c.startsWith('TLS_'))) {
    throw fieldError('ciphersuites', 'only TLS 1.3 suite names (TLS_*) belong here; the TLS <= 1.2 list is endpoint.ciphers');
  }
  let list12 = spec.ciphers ?? defaults.filter((c) => !isSuite(c)).join(':');
  // The platform plays whatever server the scenario describes, weak ones included: OpenSSL 3
  // loads SHA-1/MD5-signed or small-key certificates and speaks TLS 1.0/1.1 only at security
  // level 0. The suites offered stay exactly the list; the EMS's policy is what is under test.
  if (!/@SECLEVEL=/i.test(list12)) list12 = list12 ? `${list12}:@SECLEVEL=0` : '@SECLEVEL=0';
  const suites13 = spec.ciphersuites ?? defaults.filter(isSuite).join(':');
  if (list12 !== '') checks.push(['ciphers', { ciphers: list12 }]);
  checks.push(['ciphersuites', { ciphers: suites13 }]);
  opts.ciphers = [suites13, list12].filter((s) => s !== '').join(':');

  if (spec.ecdhCurve !== undefined) {
    checks.push(['ecdhCurve', { ecdhCurve: spec.ecdhCurve }]);
    opts.ecdhCurve = spec.ecdhCurve;
  }
  if (spec.dhBits !== undefined) {
    try {
      opts.dhparam = dhParamsPem(spec.dhBits);
    } catch (err) {
      throw fieldError('dhBits', messageOf(err));
    }
  }
  if (spec.clientAuth) {
    const trust = catalogue.certs[spec.clientAuth.trust];
    if (!trust) throw fieldError('clientAuth.trust', `unknown certificate "${spec.clientAuth.trust}"`);
    opts.ca = await pem('clientAuth.trust', trust.certFile);
    // With nothing configured after the leaf, OpenSSL completes the chain it sends from the
    // client-auth trust store, and Node cannot switch that off: the served chain would silently
    // differ from the spec (and turn an EMS's "unable to get local issuer" into "self-signed in chain").
    const leafX509 = x509(cert, 'cert');
    if (chain.length === 0 && !leafX509.checkIssued(leafX509) && leafX509.checkIssued(x509(opts.ca, 'clientAuth.trust'))) {
      throw fieldError(
        'clientAuth.trust',
        `"${spec.clientAuth.trust}" issued "${spec.cert}", which is served alone: OpenSSL would append it to the chain; ` +
          'trust a separate client CA, or list the CA in endpoint.chain',
      );
    }
    opts.requestCert = true;
    opts.rejectUnauthorized = spec.clientAuth.require;
  }
  return { options: opts, checks };
}

/** A certificate the spec names, parsed; one that does not parse is that field's error. */
function x509(pem: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw fieldError(field, messageOf(err));
  }
}

/**
 * The secure context of a spec's options. Refused, it is the first option whose own check fails
 * that the error names (each check is a throw-away context of its own: made only then, since a
 * context that builds needs none of them).
 */
function servingOptions({ options, checks }: SpecOptions): ServingOptions {
  try {
    return { options, context: createSecureContext({ ...options, sessionIdContext: SESSION_ID_CONTEXT }) };
  } catch (whole) {
    for (const [field, opts] of checks) {
      try {
        createSecureContext(opts);
      } catch (err) {
        throw fieldError(field, messageOf(err));
      }
    }
    throw new Error(`endpoint: the TLS options were refused: ${messageOf(whole)}`);
  }
}

/**
 * The server side has no getEphemeralKeyInfo() (Node answers it only for clients), so this is
 * derived from the configuration: a DHE suite used the dhBits group, the only one loaded (exact);
 * ECDHE and TLS 1.3 used a group from ecdhCurve, known only when that names exactly one group
 * (with a list, OpenSSL picks from the ClientHello, which Node does not expose): else undefined.
 */
function ephemeralKeyOf(protocol: string, cipher: string, spec: EndpointSpec): Extract<Observation, { kind: 'handshake-ok' }>['ephemeral'] {
  if (protocol !== 'TLSv1.3' && /^(DHE|EDH)-/.test(cipher)) {
    return spec.dhBits === undefined ? undefined : { type: 'DH', bits: spec.dhBits };
  }
  if (protocol !== 'TLSv1.3' && !cipher.startsWith('ECDHE-')) return undefined; // RSA key transport
  const groups = spec.ecdhCurve?.split(':') ?? [];
  return groups.length === 1 ? groupInfo(groups[0] as string) : undefined;
}

/** Named as the client's getEphemeralKeyInfo() names them, so both sides compare equal. */
function groupInfo(group: string): { type: string; bits: number; name: string } | undefined {
  const ffdhe = /^ffdhe(\d+)$/i.exec(group);
  if (ffdhe) return { type: 'DH', bits: Number(ffdhe[1]), name: group.toLowerCase() };
  const curves: Record<string, { name: string; bits: number }> = {
    'p-256': { name: 'prime256v1', bits: 256 },
    prime256v1: { name: 'prime256v1', bits: 256 },
    secp256r1: { name: 'prime256v1', bits: 256 },
    'p-384': { name: 'secp384r1', bits: 384 },
    secp384r1: { name: 'secp384r1', bits: 384 },
    'p-521': { name: 'secp521r1', bits: 521 },
    secp521r1: { name: 'secp521r1', bits: 521 },
    x25519: { name: 'X25519', bits: 253 },
    x448: { name: 'X448', bits: 448 },
  };
  const curve = curves[group.toLowerCase()];
  return curve ? { type: 'ECDH', ...curve } : undefined;
}

/** "CN=a\nO=b" (X509Certificate form) as "CN=a, O=b". */
function dnString(dn: string): string {
  return dn.split('\n').join(', ');
}

function addressOf(host: string | undefined, port: number | undefined): string {
  return host?.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function fieldError(field: string, message: string): Error {
  return new Error(`endpoint.${field}: ${message}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
