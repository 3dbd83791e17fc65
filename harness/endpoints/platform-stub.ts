import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  Code, decodeMessage, EMPTY_RESPONSE, encodeMessage, parseAuthBody, parseBindBody, type Message,
} from './alwayson.ts';
import type { Observation } from './observations.ts';

// The platform behind a TLS front: the WebSocket upgrade on /Thingworx/WS and the AlwaysOn
// subset the WS EMS speaks (AUTH, BIND, KEEP_ALIVE). It takes any upgraded Duplex, so the
// Node TLS endpoint and a JSSE front piping bytes in can share it.

export const WS_PATH = '/Thingworx/WS';
export const REDACTED = '«redacted»';

/** How the stub tells the TLS front about one connection. */
export interface StubConnection {
  /** The connection reached a later phase (reported in its `closed` observation). */
  advance(phase: 'websocket' | 'authenticated'): void;
  /**
   * Holds back the connection's `closed` observation until the returned function is called:
   * with permessage-deflate, messages can still be delivered after the socket has closed.
   */
  holdClose(): () => void;
}

export interface PlatformStub {
  /** Hand over an HTTP upgrade request (http.Server 'upgrade' event) with its connection. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, conn: StubConnection): void;
  /** Terminates every WebSocket; the sockets under them are the caller's to destroy. */
  close(): void;
}

export interface StubContext {
  appKey: string;
  observe(o: Observation): void;
}

export function createPlatformStub(ctx: StubContext): PlatformStub {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  // A listener here makes ws leave the refusal to us, so it can be observed.
  wss.on('wsClientError', (err, socket, req) => {
    reject(socket, req.url ?? '', 400, err.message);
  });

  function reject(socket: Duplex, path: string, status: number, reason: string): void {
    ctx.observe({ kind: 'upgrade-rejected', at: performance.now(), path, status });
    const body = `${reason}\n`;
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Bad Request'}\r\n` +
        `Connection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  return {
    handleUpgrade(req, socket, head, conn) {
      const path = req.url ?? '';
      if (new URL(path, 'http://platform').pathname !== WS_PATH) {
        reject(socket, path, 404, `no WebSocket endpoint at ${path}; the platform serves ${WS_PATH}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const release = conn.holdClose();
        ws.once('close', release);
        const offered = headerValue(req.headers['appkey']);
        ctx.observe({
          kind: 'upgrade',
          at: performance.now(),
          path,
          headers: redactedHeaders(req),
          appKeyMatches: offered !== undefined && sameSecret(offered, ctx.appKey),
        });
        conn.advance('websocket');
        serveAlwaysOn(ws, ctx, conn);
      });
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function serveAlwaysOn(ws: WebSocket, ctx: StubContext, conn: StubConnection): void {
  let sessionId: number | undefined;
  // The peer stays connected after a bad message (the platform answers, it does not hang up);
  // an error on the socket is the TLS front's to observe as a close.
  ws.on('error', () => {});
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const buf = toBuffer(data);
    let msg: Message;
    try {
      if (!isBinary) throw new Error('AlwaysOn messages are binary');
      msg = decodeMessage(buf);
    } catch {
      // Echo the requestId when the header got that far, so the client can match the error.
      const requestId = buf.length >= 6 ? buf.readUInt32BE(2) : 0;
      send({ code: Code.BAD_REQUEST, requestId, endpointId: 0, sessionId: sessionId ?? 0, body: EMPTY_RESPONSE });
      return;
    }
    const answer = (code: number, session = msg.sessionId) =>
      send({ code, requestId: msg.requestId, endpointId: msg.endpointId, sessionId: session, body: EMPTY_RESPONSE });

    if (msg.code === Code.AUTH) {
      let ok = false;
      try {
        const { claim, value } = parseAuthBody(msg.body);
        ok = claim === 'appKey' && sameSecret(value, ctx.appKey);
      } catch {
        answer(Code.BAD_REQUEST);
        return;
      }
      if (!ok) {
        ctx.observe({ kind: 'auth', at: performance.now(), ok: false });
        answer(Code.UNAUTHORIZED);
        return;
      }
      // 0xFFFFFFFF means "no session": never hand it out.
      sessionId = randomInt(1, 0xffffffff);
      ctx.observe({ kind: 'auth', at: performance.now(), ok: true, sessionId });
      conn.advance('authenticated');
      answer(Code.SUCCESS, sessionId);
      return;
    }
    if (sessionId === undefined) {
      answer(Code.UNAUTHORIZED);
      return;
    }
    switch (msg.code) {
      case Code.BIND: {
        let names: string[];
        try {
          names = parseBindBody(msg.body).names;
        } catch {
          answer(Code.BAD_REQUEST, sessionId);
          return;
        }
        ctx.observe({ kind: 'bind', at: performance.now(), names });
        answer(Code.SUCCESS, sessionId);
        return;
      }
      case Code.KEEP_ALIVE:
        return;
      default:
        answer(Code.BAD_REQUEST, sessionId);
    }
  });

  function send(m: Message): void {
    ws.send(encodeMessage(m), { binary: true });
  }
}

/** Compares secrets in constant time whatever their lengths (hashing evens them out). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function redactedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    const v = headerValue(value);
    if (v !== undefined) out[name] = name === 'appkey' ? REDACTED : v;
  }
  return out;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
