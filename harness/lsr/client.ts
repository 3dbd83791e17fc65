import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { servedCertificates, ServerBytesTap, serverHandshakeSecret } from './served-chain.ts';

// The LSR's side of the EMS's local server: a real TLS client (Node's OpenSSL) and a real HTTP
// client (Node's parser) over a TCP stream a target driver opened where the EMS runs (a local
// socket, an SSH forward). Every step records what happened instead of throwing: it is evidence.

/** A certificate as the server sent it. */
export interface ServedCert {
  subject: string;
  issuer: string;
  sha256: string;
}

export type TlsEvidence =
  | {
      ok: true;
      protocol: string;
      cipher: string;
      /** The server's Certificate message, in the order sent (served-chain.ts); empty when it could not be read (chainError). */
      chain: ServedCert[];
      chainError?: string;
      /** The served chain verified against the CA list the client trusts. */
      authorized: boolean;
      authorizationError?: string;
      /** The name the LSR dials by, checked against the leaf (RFC 6125, Node's checkServerIdentity). */
      identity: string;
      identityError?: string;
    }
  | { ok: false; error: string };

export type HttpAnswer = { status: number; body: string } | { error: string; timedOut?: true };

export interface TlsOptions {
  /** PEM certificates the client trusts. */
  ca: string[];
  /** The host name (or address) the LSR uses: SNI when it is a name, and the identity checked. */
  identity: string;
  timeoutMs: number;
}

/** A TLS handshake over `raw`; resolves the socket (on success) and what the handshake showed. */
export function tlsHandshake(raw: Duplex, opts: TlsOptions): Promise<{ socket?: TLSSocket; evidence: TlsEvidence }> {
  const tap = new ServerBytesTap(raw);
  let secret: Buffer | undefined;
  const socket = tlsConnect({
    socket: tap,
    ca: opts.ca,
    // Decided from the evidence (authorized, identity), so that a wrong chain is seen as what it is.
    rejectUnauthorized: false,
    ...(isIP(opts.identity) ? {} : { servername: opts.identity }),
  });
  socket.on('keylog', (line: Buffer) => (secret ??= serverHandshakeSecret(line)));
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail(`no TLS handshake within ${opts.timeoutMs} ms`), opts.timeoutMs);
    const fail = (error: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ evidence: { ok: false, error } });
    };
    socket.once('error', (e: NodeJS.ErrnoException) => fail(e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message));
    socket.once('close', () => fail('the server closed the connection during the handshake'));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // later errors belong to the request made over it
      const protocol = socket.getProtocol() ?? '(unknown)';
      const cipher = socket.getCipher();
      let chain: ServedCert[] = [];
      let chainError: string | undefined;
      try {
        chain = servedCertificates(tap.received(), { protocol, suite: cipher.standardName, ...(secret ? { serverHandshakeSecret: secret } : {}) }).map(describeCert);
      } catch (e) {
        chainError = (e as Error).message;
      }
      const identityError = checkServerIdentity(opts.identity, socket.getPeerCertificate())?.message;
      resolve({
        socket,
        evidence: {
          ok: true, protocol, cipher: cipher.name, chain, ...(chainError ? { chainError } : {}),
          authorized: socket.authorized, ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
          identity: opts.identity, ...(identityError ? { identityError } : {}),
        },
      });
    });
  });
}

export interface HttpRequest {
  path: string;
  /** The Host header: where the LSR believes it is. */
  host: string;
  port: number;
  /** Basic credentials, when the request carries any. */
  auth?: { user: string; password: string };
  timeoutMs: number;
}

/** One HTTP/1.1 GET over `stream` (plain or TLS), the connection closed after the answer. */
export function httpGet(stream: Duplex, req: HttpRequest): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (a: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => settle({ error: `no HTTP answer within ${req.timeoutMs} ms`, timedOut: true }), req.timeoutMs);
    const host = isIP(req.host) === 6 ? `[${req.host}]` : req.host;
    const r = request({
      createConnection: () => stream as never,
      method: 'GET',
      path: req.path,
      headers: {
        Host: `${host}:${req.port}`,
        Connection: 'close',
        ...(req.auth ? { Authorization: `Basic ${Buffer.from(`${req.auth.user}:${req.auth.password}`, 'utf8').toString('base64')}` } : {}),
      },
    });
    r.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.once('end', () => settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.once('error', (e) => settle({ error: e.message }));
    });
    r.once('error', (e: NodeJS.ErrnoException) => settle({ error: e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message }));
    r.end();
  });
}

function describeCert(der: Buffer): ServedCert {
  const x = new X509Certificate(der);
  return { subject: oneLine(x.subject), issuer: oneLine(x.issuer), sha256: x.fingerprint256 };
}

/** Node prints a DN one attribute a line. */
function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}
