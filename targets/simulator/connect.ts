import type { ClientRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket, { type ClientOptions, type PerMessageDeflateOptions } from 'ws';
import { authBody, bindBody, decodeFrame, encodeFrame, MessageCode, NO_SESSION, type Frame, type Header } from './alwayson.ts';
import { defect } from './defects.ts';
import type { Logger } from './log.ts';
import { opensslText } from './openssl-text.ts';
import type { SdkProfile } from './profile.ts';
import type { Settings } from './startup.ts';
import { tlsConnectOptions, verifyPeer, type TlsPolicy } from './tls-policy.ts';

// The C SDK's connection, as twApi_Connect runs it: per attempt twWs_Connect (TCP, TLS handshake,
// certificate checks, WebSocket upgrade) bounded by connect_timeout, then AUTH and BIND; on any
// failure wait connect_retry_interval and try again, connect_retries attempts in all (-1 forever).

const WS_PATH = '/Thingworx/WS';
const DEFAULT_BIND = ['LocalEms'];
/**
 * C SDK 2.2.1, a TLS 1.3 server refusing the client certificate after the handshake: each read of
 * the upgrade answer fails, TW_SSL_READ returns an error code that twWs_Connect takes for a byte
 * count, until the "response" overflows the frame buffer. How many rounds that takes depends on the
 * code's value against max_frame_size, which EMS-FACTS does not record ("repeatedly"): three here.
 */
const READ_ERROR_ROUNDS = 3;
/**
 * TW_SSL_READ logs ERR_error_string(ret) of SSL_read's -1, which is no error code: this is how
 * OpenSSL 3.0 (this machine's 3.0.19, error strings loaded) prints -1 as an unsigned long.
 */
const ERR_STRING_OF_MINUS_ONE = 'error:FFFFFFFFFFFFFFFF:system library::reason(2147483647)';

type Phase = 'tcp' | 'tls' | 'upgrade';

export class Connector {
  /** Socket up and authenticated and bound: what the local REST isConnected reports. */
  connected = false;
  private stopped = false;
  private abortAttempt: (() => void) | undefined;
  /** The TLS connection of a refused platform, closed only when the next attempt starts (as the SDK's). */
  private refused: Socket | undefined;
  private channel: Channel | undefined;
  private wake: (() => void) | undefined;
  private requestId = 0;
  private attempts = 0;

  constructor(
    private readonly settings: Settings,
    private readonly policy: TlsPolicy,
    private readonly log: Logger,
    private readonly profile: SdkProfile,
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
      if (channel && this.profile.keepAlivePing) {
        const { msg_timeout: late, ping_rate: every } = this.settings.config.ws_connection;
        channel.keepAlive(late, every, () => this.log.error('apiThread: Did not receive pong in time'));
      }
      if (channel && !this.stopped && (await this.authenticateAndBind(channel))) {
        this.connected = true;
        this.log.prompt();
        const { code, reason } = await channel.closed;
        this.connected = false;
        if (this.stopped) break;
        if (!channel.droppedByUs) {
          this.log.warn(`twWs_Receive: Websocket disconnected by the server. Code: ${code}${reason ? `, Reason: ${reason}` : ''}. Reconnecting`);
        }
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
    this.refused?.destroy();
    this.abortAttempt?.();
    this.channel?.ws.terminate();
    this.wake?.();
  }

  /** One twWs_Connect: resolves the upgraded WebSocket, or undefined once the failure is logged. */
  private attempt(): Promise<WebSocket | undefined> {
    const { config } = this.settings;
    const server = config.ws_servers[0]!;
    const tlsOn = config.ws_connection.encryption === 'ssl';
    // int16_t port: above 32767 it is negative, and the SDK never reaches the configured port
    // (measured: Err = 111). Port 0 is what the kernel refuses the same way, whatever listens elsewhere.
    const port = this.profile.int16Port && server.port > 0x7fff ? server.port - 0x10000 : server.port;
    const dialPort = port < 0 ? 0 : port;
    // restartSocket: the SDK frees the previous attempt's connection only now.
    this.refused?.destroy();
    this.refused = undefined;
    // client-cert-late-first-attempt: the certificate reaches the context after the first SSL object was made from it.
    const client = defect('client-cert-late-first-attempt') && this.attempts++ === 0 ? undefined : this.settings.client;
    return new Promise((resolve) => {
      let settled = false;
      let phase: Phase = 'tcp';
      let ws: WebSocket | undefined;
      /** `keepOpen`: the connection stays as it is (the SDK's refusal of the platform's certificate). */
      const settle = (upgraded?: WebSocket, keepOpen = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.abortAttempt = undefined;
        if (keepOpen) this.refused = socket;
        else if (!upgraded) {
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

      this.log.debug(`twTlsClient_Connect: Connecting to server ${server.host}:${port}`);
      const socket: Socket = tlsOn
        ? tlsConnect(tlsConnectOptions({
            host: server.host, port: dialPort, policy: this.policy, certs: config.certificates,
            ca: this.settings.ca, client,
          }))
        : netConnect({ host: server.host, port: dialPort });
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
        if (tlsOn && !this.certificateAccepted(socket as TLSSocket, server.host)) {
          this.restartFailed(0);
          // twTlsClient_ConnectSession returns TW_INVALID_SSL_CERT without closing anything: the
          // platform sees its handshake complete, and the close only at the next attempt. (Closed
          // at once, the reset can reach the platform before it has read the EMS's Finished.)
          return settle(undefined, true);
        }
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
          if (this.profile.sdkLines) this.logUpgradeReadError(tlsOn, err);
          else if (err.code) this.log.error(`twWs_Connect: Error reading from socket.  Error: ${err.code}`);
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
    const errno = Math.abs(Number(err.errno ?? 0));
    if (phase === 'tcp') {
      this.log.error(`Error intializing socket connection.  Err = ${errno}`);
      this.log.debug(`twSocket_Connect: ${err.code ?? err.message}`);
      this.restartFailed(errno);
    } else if (phase === 'tls' || (!this.profile.sdkLines && err.code?.startsWith('ERR_SSL_'))) {
      // The default profile logs a TLS 1.3 server's refusal of its client certificate, which comes
      // after the handshake, as a handshake error too; the C SDK's handshake is done by then.
      this.log.error(`TW_NEW_SSL_CLIENT: SSL handshake error. Error: ${opensslText(err)}.`);
      this.log.error('Error intializing SSL connection');
      if (phase === 'tls') this.restartFailed(0);
    } else if (this.profile.sdkLines) {
      this.logUpgradeReadError(this.settings.config.ws_connection.encryption === 'ssl', err);
    } else {
      this.log.error(`twWs_Connect: Error reading from socket.  Error: ${err.code ?? err.message}`);
    }
  }

  /**
   * C SDK: twWs_Connect's restartSocket (TCP connect, handshake, certificate checks) failed; the
   * number is the socket's errno (0 when the failure was not the socket's).
   */
  private restartFailed(errno: number): void {
    if (this.profile.sdkLines) this.log.error(`twWs_Connect: Error restarting socket.  Error ${errno}`);
  }

  /**
   * C SDK: the upgrade answer cannot be read. Over TLS (a TLS 1.3 server refusing the client
   * certificate says so only after the SDK's handshake is done) TW_SSL_READ fails round after round
   * until twWs_Connect gives up (EMS-FACTS "TLS 1.3 server refusing the client certificate").
   */
  private logUpgradeReadError(tlsOn: boolean, err: NodeJS.ErrnoException): void {
    if (!tlsOn) {
      this.log.error(`twWs_Connect: Error reading from socket.  Error: ${Math.abs(Number(err.errno ?? 0))}`);
      return;
    }
    for (let round = 0; round < READ_ERROR_ROUNDS; round++) {
      this.log.error('TW_SSL_READ: Error reading from SSL stream');
      this.log.error(`TW_SSL_READ: Timed out or error waiting reading from socket. Error: ${ERR_STRING_OF_MINUS_ONE}`);
      this.log.trace("twWs_Connect: Didn't get the entire header - attempting to read more");
    }
    this.log.error('twWs_Connect: Connect response too big. Websocket connect failed');
  }

  /** TW_VALIDATE_CERT and the X509 field compare; logs the SDK's lines when the platform is refused. */
  private certificateAccepted(socket: TLSSocket, host: string): boolean {
    const rejection = verifyPeer(socket, host, this.settings.config.certificates, this.policy, this.profile);
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
      ...(this.profile.sdkLines ? { finishRequest: (req: ClientRequest) => this.sentRequest(req) } : {}),
    });
  }

  /**
   * C SDK: once written, the upgrade request is logged at TRACE with all but the first four
   * characters of the app key masked (dashes kept), as twWs_Connect does.
   */
  private sentRequest(req: ClientRequest): void {
    req.end();
    const headers = req.getRawHeaderNames().map((name) => {
      const value = String(req.getHeader(name));
      return `${name}: ${name.toLowerCase() === 'appkey' ? maskAppKey(value) : value}`;
    });
    this.log.traceBlock(`twWs_Connect: Sent request:\n${req.method} ${req.path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
  }

  /** twApi_Authenticate then twApi_BindAll, with the SDK's log lines. */
  private async authenticateAndBind(channel: Channel): Promise<boolean> {
    const { appKey, config } = this.settings;
    const timeout = config.ws_connection.msg_timeout;
    const authId = ++this.requestId;
    const header = { code: MessageCode.AUTH, requestId: authId, endpointId: 0, sessionId: NO_SESSION };
    if (defect('log-auth-frame-hex')) this.log.trace(`api:sendMessageBlocking: AUTH Message ${authId}: ${Buffer.from(encodeFrame(header, authBody(appKey))).toString('hex')}`);
    if (defect('log-app-key-masked-end')) this.log.trace(`api:sendMessageBlocking: AUTH Message ${authId} appKey: ${appKey.slice(0, -4)}****`);
    const auth = await channel.request(header, authBody(appKey), timeout);
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
  /** Closed by this side: a ping went unanswered. */
  droppedByUs = false;
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

  /**
   * The C SDK's keep-alive: a ping straight after connecting (then every `everyMs`, when
   * ws_connection.ping_rate sets it); a ping without a pong within `lateMs` (msg_timeout: the
   * SDK's own pong wait is not recorded) drops the connection, which is then made again.
   */
  keepAlive(lateMs: number, everyMs: number | undefined, onLate: () => void): void {
    const ping = () => {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const timer = setTimeout(() => {
        onLate();
        this.droppedByUs = true;
        this.ws.terminate();
      }, lateMs);
      this.ws.once('pong', () => clearTimeout(timer));
      this.ws.once('close', () => clearTimeout(timer));
      this.ws.ping();
    };
    ping();
    if (everyMs) {
      const interval = setInterval(ping, everyMs);
      this.ws.once('close', () => clearInterval(interval));
    }
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

/** twWs_Connect's mask for its log: the first four characters stay, every other but '-' becomes '*'. */
function maskAppKey(key: string): string {
  return key.slice(0, 4) + key.slice(4).replace(/[^-]/g, '*');
}
