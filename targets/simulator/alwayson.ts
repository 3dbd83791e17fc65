// The AlwaysOn messages this EMS sends and reads after the WebSocket upgrade, written from
// EMS-FACTS.md ("The connection, as the C SDK does it") and on purpose apart from the harness's
// codec: the platform stub judges these bytes, so the two must not be able to share a mistake.
// test/alwayson.test.ts runs both over test/fixtures/alwayson-vectors.json.

/** The codes this EMS uses (the C SDK's msgCodeEnum). */
export const MessageCode = { AUTH: 0x14, BIND: 0x0a, SUCCESS: 0x40 } as const;

/** The sessionId of a message sent before the platform has assigned one (AUTH). */
export const NO_SESSION = 0xffff_ffff;

const PROTOCOL_VERSION = 0x01;
/** A string's length is one byte below this, else four bytes with the top bit set. */
const LONG_STRING = 0x80;
const LONG_STRING_FLAG = 0x8000_0000;

export interface Header {
  code: number;
  requestId: number;
  endpointId: number;
  sessionId: number;
}

export interface Frame extends Header {
  body: Uint8Array;
}

/** A message this EMS cannot read; the message says why. */
export class AlwaysOnError extends Error {
  override name = 'AlwaysOnError';
}

/** Appends big-endian fields to a buffer that grows as needed. */
export class MessageWriter {
  private bytes = new Uint8Array(64);
  private view = new DataView(this.bytes.buffer);
  private length = 0;

  u8(value: number): this {
    this.room(1).setUint8(this.length, value);
    this.length += 1;
    return this;
  }

  u16(value: number): this {
    this.room(2).setUint16(this.length, value);
    this.length += 2;
    return this;
  }

  u32(value: number): this {
    this.room(4).setUint32(this.length, value >>> 0);
    this.length += 4;
    return this;
  }

  /** UTF-8, prefixed with its length in bytes (not characters). */
  string(text: string): this {
    const utf8 = new TextEncoder().encode(text);
    if (utf8.length < LONG_STRING) this.u8(utf8.length);
    else this.u32(LONG_STRING_FLAG | utf8.length);
    return this.raw(utf8);
  }

  raw(data: Uint8Array): this {
    this.room(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes.buffer, 0, this.length);
  }

  private room(more: number): DataView {
    if (this.length + more > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + more));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    return this.view;
  }
}

/** Reads big-endian fields in order; running past the end is an AlwaysOnError. */
export class MessageReader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.at;
  }

  u8(): number {
    return this.view.getUint8(this.advance(1));
  }

  u16(): number {
    return this.view.getUint16(this.advance(2));
  }

  u32(): number {
    return this.view.getUint32(this.advance(4));
  }

  string(): string {
    const long = this.at < this.bytes.length && (this.view.getUint8(this.at) & LONG_STRING) !== 0;
    const length = long ? this.u32() & ~LONG_STRING_FLAG : this.u8();
    const start = this.advance(length);
    // ignoreBOM: a string's leading U+FEFF is content, not a marker to drop.
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(this.bytes.subarray(start, start + length));
  }

  /** Everything not read yet. */
  rest(): Uint8Array {
    return this.bytes.subarray(this.advance(this.bytes.length - this.at));
  }

  private advance(count: number): number {
    const start = this.at;
    if (start + count > this.bytes.length) {
      throw new AlwaysOnError(`AlwaysOn message truncated: ${count} more bytes needed at byte ${start} of ${this.bytes.length}`);
    }
    this.at += count;
    return start;
  }
}

/** Header (version, code, requestId, endpointId, sessionId, multipart flag 0) + body. */
export function encodeFrame(header: Header, body: Uint8Array): Buffer {
  return new MessageWriter()
    .u8(PROTOCOL_VERSION)
    .u8(header.code)
    .u32(header.requestId)
    .u32(header.endpointId)
    .u32(header.sessionId)
    .u8(0) // single part: this EMS's messages are far below a frame's size
    .raw(body)
    .toBuffer();
}

export function decodeFrame(data: Uint8Array): Frame {
  const reader = new MessageReader(data);
  const version = reader.u8();
  if (version !== PROTOCOL_VERSION) throw new AlwaysOnError(`AlwaysOn protocol version ${version} is not 1`);
  const header: Header = { code: reader.u8(), requestId: reader.u32(), endpointId: reader.u32(), sessionId: reader.u32() };
  // A multipart header carries chunk id, count and size; no answer to AUTH or BIND is split.
  if (reader.u8() !== 0) throw new AlwaysOnError('AlwaysOn multipart message: not read by this EMS');
  return { ...header, body: reader.rest() };
}

/** AUTH: one claim, "appKey", with its value. */
export function authBody(appKey: string): Uint8Array {
  return new MessageWriter().u8(1).string('appKey').string(appKey).toBuffer();
}

/**
 * The platform's side of AUTH (and readBindBody of BIND): this EMS never reads them; they let
 * test/alwayson.test.ts hold this codec to every vector in both directions.
 */
export function readAuthBody(body: Uint8Array): { claim: string; value: string } {
  const reader = new MessageReader(body);
  const claims = reader.u8();
  if (claims !== 1) throw new AlwaysOnError(`AlwaysOn AUTH with ${claims} claims, not 1`);
  return { claim: reader.string(), value: reader.string() };
}

export interface BindRequest {
  /** Sent by an EMS that binds as a gateway; this one binds its things only. */
  gateway?: { name: string; type: string };
  names: string[];
}

/** BIND: flag 1 + gateway name and type, or flag 0; then a 2-byte count and the thing names. */
export function bindBody(request: BindRequest): Uint8Array {
  const writer = new MessageWriter();
  if (request.gateway) writer.u8(1).string(request.gateway.name).string(request.gateway.type);
  else writer.u8(0);
  writer.u16(request.names.length);
  for (const name of request.names) writer.string(name);
  return writer.toBuffer();
}

export function readBindBody(body: Uint8Array): BindRequest {
  const reader = new MessageReader(body);
  const flag = reader.u8();
  if (flag !== 0 && flag !== 1) throw new AlwaysOnError(`AlwaysOn BIND gateway flag ${flag} is neither 0 nor 1`);
  const gateway = flag === 1 ? { name: reader.string(), type: reader.string() } : undefined;
  const names = Array.from({ length: reader.u16() }, () => reader.string());
  return gateway ? { gateway, names } : { names };
}
