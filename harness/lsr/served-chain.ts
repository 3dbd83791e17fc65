import { createDecipheriv, createHmac } from 'node:crypto';
import { Duplex } from 'node:stream';

// The certificates a TLS server sent, in the order it sent them (LSR-TLS: "leaf and the
// intermediates in the file, in order"). Node's getPeerCertificate(true) rebuilds the chain by
// issuer and completes it from the trust store, so it cannot tell the order. This reads the
// server's Certificate handshake message from the bytes on the wire instead: in clear up to
// TLS 1.2, and in TLS 1.3 decrypted with the server handshake traffic secret the client's own
// TLS stack hands out (the 'keylog' event, RFC 8446 7.1 and 5.2).

/** A stream that passes everything through and keeps a copy of what the server sent. */
export class ServerBytesTap extends Duplex {
  readonly #received: Buffer[] = [];

  constructor(private readonly raw: Duplex) {
    super();
    raw.on('data', (d: Buffer) => {
      this.#received.push(d);
      this.push(d);
    });
    // A close without an end (a reset) still ends the reading side, after whatever was read.
    const ended = () => this.push(null);
    raw.once('end', ended);
    raw.once('close', () => raw.readableEnded || ended());
    raw.once('error', (e) => this.destroy(e));
  }

  /** Everything the server sent so far. */
  received(): Buffer {
    return Buffer.concat(this.#received);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.raw.write(chunk, done);
  }

  override _final(done: (e?: Error | null) => void): void {
    this.raw.end();
    done();
  }

  override _destroy(err: Error | null, done: (e?: Error | null) => void): void {
    this.raw.destroy();
    done(err);
  }
}

const RECORD = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;
const CERTIFICATE = 11;

/** TLS 1.3 AEAD suites (RFC 8446 B.4) as Node's crypto names them; CCM is left out (no server here offers it). */
const TLS13_SUITES: Record<string, { cipher: string; hash: 'sha256' | 'sha384'; keyLength: number }> = {
  TLS_AES_128_GCM_SHA256: { cipher: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  TLS_AES_256_GCM_SHA384: { cipher: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  TLS_CHACHA20_POLY1305_SHA256: { cipher: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 },
};

export interface Negotiated {
  /** As TLSSocket.getProtocol() says it: TLSv1.3, TLSv1.2 … */
  protocol: string;
  /** The IANA name (getCipher().standardName). */
  suite: string;
  /** TLS 1.3: SERVER_HANDSHAKE_TRAFFIC_SECRET of this connection, from the keylog. */
  serverHandshakeSecret?: Buffer;
}

/** The DER certificates of the server's Certificate message, leaf first, as sent. Throws, saying why, when the bytes hold none. */
export function servedCertificates(serverBytes: Buffer, tls: Negotiated): Buffer[] {
  const handshake = tls.protocol === 'TLSv1.3' ? tls13Handshake(serverBytes, tls) : clearHandshake(serverBytes);
  for (let at = 0; at + 4 <= handshake.length;) {
    const type = handshake[at]!;
    const length = handshake.readUIntBE(at + 1, 3);
    const body = handshake.subarray(at + 4, at + 4 + length);
    if (body.length < length) break;
    if (type === CERTIFICATE) return certificateList(body, tls.protocol === 'TLSv1.3');
    at += 4 + length;
  }
  throw new Error(`no Certificate message in the server's ${tls.protocol} handshake (${serverBytes.length} bytes read)`);
}

/** The secret the keylog line names (`SERVER_HANDSHAKE_TRAFFIC_SECRET <client random> <secret>`), or undefined for another line. */
export function serverHandshakeSecret(keylogLine: Buffer | string): Buffer | undefined {
  const m = /^SERVER_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]+ ([0-9a-f]+)\s*$/i.exec(keylogLine.toString());
  return m ? Buffer.from(m[1]!, 'hex') : undefined;
}

function* records(bytes: Buffer): Generator<{ type: number; header: Buffer; fragment: Buffer }> {
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = bytes.readUInt16BE(at + 3);
    if (at + 5 + length > bytes.length) return;
    yield { type: bytes[at]!, header: bytes.subarray(at, at + 5), fragment: bytes.subarray(at + 5, at + 5 + length) };
    at += 5 + length;
  }
}

/** TLS ≤ 1.2: the handshake messages are in clear until the server's ChangeCipherSpec. */
function clearHandshake(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const r of records(bytes)) {
    if (r.type === RECORD.changeCipherSpec) break;
    if (r.type === RECORD.handshake) parts.push(r.fragment);
  }
  return Buffer.concat(parts);
}

/**
 * TLS 1.3: ServerHello in clear, then records protected with the server handshake traffic keys
 * (key and iv by HKDF-Expand-Label, nonce = iv XOR sequence number, the record header as AAD).
 */
function tls13Handshake(bytes: Buffer, tls: Negotiated): Buffer {
  const suite = TLS13_SUITES[tls.suite];
  if (!suite) throw new Error(`cannot read the TLS 1.3 Certificate message under ${tls.suite}`);
  if (!tls.serverHandshakeSecret) throw new Error('no server handshake traffic secret for this TLS 1.3 connection (keylog)');
  const key = expandLabel(tls.serverHandshakeSecret, 'key', suite.keyLength, suite.hash);
  const iv = expandLabel(tls.serverHandshakeSecret, 'iv', 12, suite.hash);
  const parts: Buffer[] = [];
  let seq = 0n;
  for (const r of records(bytes)) {
    if (r.type !== RECORD.applicationData) continue;
    const nonce = Buffer.from(iv);
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(seq++);
    for (let i = 0; i < 8; i++) nonce[4 + i]! ^= counter[i]!;
    const decipher = createDecipheriv(suite.cipher as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
    decipher.setAAD(r.header);
    decipher.setAuthTag(r.fragment.subarray(-16));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(r.fragment.subarray(0, -16)), decipher.final()]);
    } catch {
      break; // the first record under the application traffic keys: the handshake is over
    }
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--; // zero padding, then the real content type
    if (plain[end] === RECORD.handshake) parts.push(plain.subarray(0, end));
  }
  return Buffer.concat(parts);
}

/** HKDF-Expand-Label (RFC 8446 7.1) for outputs no longer than one hash block, which key and iv are. */
export function expandLabel(secret: Buffer, label: string, length: number, hash: 'sha256' | 'sha384'): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([0])]);
  return createHmac(hash, secret).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

/** certificate_list (RFC 5246 7.4.2; RFC 8446 4.4.2 adds a request context and per-entry extensions). */
function certificateList(body: Buffer, tls13: boolean): Buffer[] {
  let at = tls13 ? 1 + body[0]! : 0;
  const end = at + 3 + body.readUIntBE(at, 3);
  at += 3;
  const certs: Buffer[] = [];
  while (at + 3 <= end) {
    const length = body.readUIntBE(at, 3);
    certs.push(Buffer.from(body.subarray(at + 3, at + 3 + length)));
    at += 3 + length;
    if (tls13) at += 2 + body.readUInt16BE(at);
  }
  return certs;
}
