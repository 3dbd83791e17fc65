import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket, { type ClientOptions, type PerMessageDeflateOptions } from 'ws';
import { authBody, bindBody, decodeFrame, encodeFrame, MessageCode, NO_SESSION, type Frame, type Header } from './alwayson.ts';
import type { Logger } from './log.ts';
import { opensslText } from './openssl-text.ts';
import type { Settings } from './startup.ts';
import { tlsConnectOptions, verifyPeer, type TlsPolicy } from './tls-policy.ts';

// The C SDK's connection, as twApi_Connect runs it: per attempt twWs_Connect (TCP, TLS handshake,
// certificate checks, WebSocket upgrade) bounded by connect_timeout, then AUTH and BIND; on any
// failure wait connect_retry_interval and try again, connect_retries attempts in all (-1 forever).

const WS_PATH = '/Thingworx/WS';
const DEFAULT_BIND = ['LocalEms'];

type Phase = 'tcp' | 'tls' | 'upgrade';

export class Connector {
  /** Socket up and authenticated and bound: what the local REST isConnected reports. */
  connected = false;
  private stopped = false;
  private abortAttempt: (() => void) | undefined;
  private channel: Channel | undefined;
  private wake: (() => void) | undefined;
  private requestId = 0;

  constructor(
    private readonly settings: Settings,
    private readonly policy: TlsPolicy,
    private readonly log: Logger,
  ) {}

  /** Connects and stays connected; resolves 'exhausted' when connect_retries attempts all failed. */
  async run(): Promise<'exhausted' | 'stopped'> {
    const { connect_retries: retries, connect_retry_interval: interval } = this.settings.config.ws_connection;
    let left = retries;
    while (!this.stopped) {
      if (left === 0) {
        this.log.error(`twApi_Connect: Max number of connect retries: ${retries}, has been reached`);
        return 'exhausted';
      }
      const ws = await this.attempt();
      const channel = ws && new Channel(ws);
      this.channel = channel;
      if (channel && !this.stopped && (await this.authenticateAndBind(channel))) {
        this.connected = true;
        this.log.prompt();
        const { code, reason } = await channel.closed;
        this.connected = false;
        if (this.stopped) break;
        this.log.warn(`twWs_Receive: Websocket disconnected by the server. Code: ${code}${reason ? `, Reason: ${reason}` : ''}. Reconnecting`);
        left = retries; // a dropped connection starts a fresh twApi_Connect
        continue;
      }
      channel?.ws.terminate();
      if (left > 0) left--;
      if (left !== 0 && !this.stopped) await this.sleep(interval);
    }
    return 'stopped';
  }

  stop(): void {
    this.stopped = true;
    this.abortAttempt?.();
    this.channel?.ws.terminate();
    this.wake?.();
  }

  /** One twWs_Connect: resolves the upgraded WebSocket, or undefined once the failure is logged. */
  private attempt(): Promise<WebSocket | undefined> {
    const { config } = this.settings;
    const server = config.ws_servers[0]!;
    const tlsOn = config.ws_connection.encryption === 'ssl';
    return new Promise((resolve) => {
      let settled = false;
      let phase: Phase = 'tcp';
      let ws: WebSocket | undefined;
      const settle = (upgraded?: WebSocket) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.abortAttempt = undefined;
        if (!upgraded) {
          ws?.terminate();
          socket.destroy();
        }
        resolve(upgraded);
      };
      const timer = setTimeout(() => {
        this.log.error('twWs_Connect: Timed out trying to connect');
        settle();
      }, config.ws_connection.connect_timeout);
      this.abortAttempt = () => settle();

      this.log.debug(`twTlsClient_Connect: Connecting to server ${server.host}:${server.port}`);
      const socket: Socket = tlsOn
        ? tlsConnect(tlsConnectOptions({
            host: server.host, port: server.port, policy: this.policy, certs: config.certificates,
            ca: this.settings.ca, client: this.settings.client,
          }))
        : netConnect({ host: server.host, port: server.port });
      socket.once('connect', () => {
        phase = tlsOn ? 'tls' : 'upgrade';
      });
      // Registered before ws/http attach theirs, so socket errors are logged here, once.
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        this.logSocketError(phase, err);
        settle();
      });
      socket.once(tlsOn ? 'secureConnect' : 'connect', () => {
        if (settled) return;
        phase = 'upgrade';
        if (tlsOn && !this.certificateAccepted(socket as TLSSocket, server.host)) return settle();
        ws = this.upgrade(socket, server.host, server.port, tlsOn);
        ws.once('open', () => {
          this.log.info('twWs_Connect: Websocket connected!');
          settle(ws);
        });
        ws.on('unexpected-response', (_req, res) => {
          res.resume();
          if (settled) return;
          this.log.error(`twWs_Connect: Error initializing web socket.  Response code: ${res.statusCode}`);
          settle();
        });
        ws.on('error', (err: NodeJS.ErrnoException) => {
          if (settled) return; // after the upgrade the 'close' that follows is what counts
          if (err.code) this.log.error(`twWs_Connect: Error reading from socket.  Error: ${err.code}`);
          else {
            this.log.error('twWs_Connect: Error in HTTP response headers. Websocket connection failed');
            this.log.debug(`twWs_Connect: ${err.message}`);
          }
          settle();
        });
      });
    });
  }

  private logSocketError(phase: Phase, err: NodeJS.ErrnoException): void {
    if (phase === 'tcp') {
      this.log.error(`Error intializing socket connection.  Err = ${Math.abs(Number(err.errno ?? 0))}`);
      this.log.debug(`twSocket_Connect: ${err.code ?? err.message}`);
    } else if (phase === 'tls' || err.code?.startsWith('ERR_SSL_')) {
      // Also after the handshake: a TLS 1.3 server reports a refused client certificate only then.
      this.log.error(`TW_NEW_SSL_CLIENT: SSL handshake error. Error: ${opensslText(err)}.`);
      this.log.error('Error intializing SSL connection');
    } else {
      this.log.error(`twWs_Connect: Error reading from socket.  Error: ${err.code ?? err.message}`);
    }
  }

  /** TW_VALIDATE_CERT and the X509 field compare; logs the SDK's lines when the platform is refused. */
  private certificateAccepted(socket: TLSSocket, host: string): boolean {
    const rejection = verifyPeer(socket, host, this.settings.config.certificates, this.policy);
    if (!rejection) {
      this.log.debug(`twTlsClient_Connect: TLS connection established (${socket.getProtocol()}, ${socket.getCipher().name})`);
      return true;
    }
    if (rejection.kind === 'certificate') {
      this.log.error(`TW_VALIDATE_CERT: Certificate rejected.  Code: ${rejection.error.code}, Reason = ${rejection.error.reason}`);
      this.log.error('twTlsClient_Connect: Error intializing TLS connection.  Invalid certificate');
    } else {
      this.log.error(
        `twTlsClient_Connect: Certificate field ${rejection.actual ?? '(null)'} does not match expected ${rejection.expected}. Field ${rejection.index}`,
      );
    }
    return false;
  }

  private upgrade(socket: Socket, host: string, port: number, tlsOn: boolean): WebSocket {
    const { ws_connection: cfg } = this.settings.config;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    return new WebSocket(`${tlsOn ? 'wss' : 'ws'}://${urlHost}:${port}${WS_PATH}`, {
      // The socket that already passed the certificate checks (typed as net.createConnection's overloads).
      createConnection: (() => socket) as unknown as ClientOptions['createConnection'],
      headers: {
        'User-Agent': 'ThingWorx C SDK',
        'Max-Frame-Size': String(cfg.max_frame_size),
        appKey: this.settings.appKey,
      },
      // A bare "permessage-deflate" offer, as the SDK sends it: ws's clientMaxWindowBits: false
      // (missing from @types/ws) leaves the client_max_window_bits parameter out.
      perMessageDeflate: cfg.compression ? ({ clientMaxWindowBits: false } as unknown as PerMessageDeflateOptions) : false,
      generateMask: (mask) => mask.fill(0), // the SDK masks with zeros
      followRedirects: false,
    });
  }

  /** twApi_Authenticate then twApi_BindAll, with the SDK's log lines. */
  private async authenticateAndBind(channel: Channel): Promise<boolean> {
    const { appKey, config } = this.settings;
    const timeout = config.ws_connection.msg_timeout;
    const authId = ++this.requestId;
    const auth = await channel.request(
      { code: MessageCode.AUTH, requestId: authId, endpointId: 0, sessionId: NO_SESSION }, authBody(appKey), timeout,
    );
    if (!this.answered(auth, authId)) return false;
    if (auth.code !== MessageCode.SUCCESS) {
      this.log.warn(`api:sendMessageBlocking: AUTH Message ${authId} failed. Code:${auth.code}`);
      return false;
    }
    this.log.trace(`api:sendMessageBlocking: AUTH Message ${authId} succeeded. Code:${auth.code}`);
    const names = config.auto_bind?.map((t) => t.name) ?? DEFAULT_BIND;
    const bindId = ++this.requestId;
    const bind = await channel.request(
      { code: MessageCode.BIND, requestId: bindId, endpointId: 0, sessionId: auth.sessionId }, bindBody({ names }), timeout,
    );
    if (!this.answered(bind, bindId)) return false;
    if (bind.code !== MessageCode.SUCCESS) {
      this.log.error(`twApi_BindAll: BIND Message ${bindId} failed. Code:${bind.code}`);
      return false;
    }
    this.log.trace(`api:sendMessageBlocking: Received Response to Message ${bindId}.  Code: ${bind.code}`);
    return true;
  }

  private answered(reply: Frame | 'timeout' | 'closed', id: number): reply is Frame {
    if (reply === 'timeout') this.log.warn(`api:sendMessageBlocking: Message ${id} timed out`);
    else if (reply === 'closed') this.log.warn('api:sendMessageBlocking: Receive failed.');
    return typeof reply === 'object';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** An upgraded WebSocket speaking AlwaysOn: requests matched to responses by requestId. */
class Channel {
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly pending = new Map<number, (reply: Frame | 'closed') => void>();

  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        for (const answer of this.pending.values()) answer('closed');
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      let msg: Frame;
      try {
        msg = decodeFrame(data);
      } catch {
        return; // not a message of the subset this EMS answers
      }
      this.pending.get(msg.requestId)?.(msg);
    });
  }

  request(header: Header, body: Uint8Array, timeoutMs: number): Promise<Frame | 'timeout' | 'closed'> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const finish = (reply: Frame | 'timeout' | 'closed') => {
        clearTimeout(timer);
        this.pending.delete(header.requestId);
        resolve(reply);
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      this.pending.set(header.requestId, finish);
      this.ws.send(encodeFrame(header, body), { binary: true });
    });
  }
}
