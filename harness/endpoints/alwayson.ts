// The AlwaysOn message subset the WS EMS speaks after the WebSocket upgrade (EMS-FACTS.md):
// 15-byte big-endian header, length-prefixed strings, AUTH / BIND / SUCCESS / errors.
// The platform stub's; the simulator has its own (targets/simulator/alwayson.ts), and
// test/alwayson.test.ts holds both to the byte vectors of test/fixtures/alwayson-vectors.json.

export const VERSION = 0x01;
export const Code = {
  GET: 0x01, PUT: 0x02, POST: 0x03, DEL: 0x04, BIND: 0x0a, UNBIND: 0x0b, AUTH: 0x14,
  KEEP_ALIVE: 0x1f, SUCCESS: 0x40, BAD_REQUEST: 0x80, UNAUTHORIZED: 0x81,
} as const;
export const NO_SESSION = 0xffffffff;
const HEADER = 15;

export interface Message {
  code: number;
  requestId: number;
  endpointId: number;
  sessionId: number;
  body: Buffer;
}

export function encodeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length < 128) return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE((bytes.length | 0x80000000) >>> 0);
  return Buffer.concat([len, bytes]);
}

/** Reads one string at `offset`; returns it and the offset after it. */
export function decodeString(buf: Buffer, offset: number): [string, number] {
  const first = byteAt(buf, offset);
  let len: number;
  let start: number;
  if (first & 0x80) {
    need(buf, offset + 4);
    len = buf.readUInt32BE(offset) & 0x7fffffff;
    start = offset + 4;
  } else {
    len = first;
    start = offset + 1;
  }
  need(buf, start + len);
  return [buf.subarray(start, start + len).toString('utf8'), start + len];
}

export function encodeMessage(m: Message): Buffer {
  const head = Buffer.alloc(HEADER);
  head.writeUInt8(VERSION, 0);
  head.writeUInt8(m.code, 1);
  head.writeUInt32BE(m.requestId >>> 0, 2);
  head.writeUInt32BE(m.endpointId >>> 0, 6);
  head.writeUInt32BE(m.sessionId >>> 0, 10);
  head.writeUInt8(0, 14); // never multipart: every message here fits one frame
  return Buffer.concat([head, m.body]);
}

export function decodeMessage(buf: Buffer): Message {
  need(buf, HEADER);
  if (buf[0] !== VERSION) throw new Error(`AlwaysOn: unsupported version 0x${buf[0]?.toString(16)}`);
  if (buf[14] !== 0) throw new Error('AlwaysOn: multipart messages are not part of the subset');
  return {
    code: buf.readUInt8(1),
    requestId: buf.readUInt32BE(2),
    endpointId: buf.readUInt32BE(6),
    sessionId: buf.readUInt32BE(10),
    body: buf.subarray(HEADER),
  };
}

export function authBody(appKey: string): Buffer {
  return Buffer.concat([Buffer.from([0x01]), encodeString('appKey'), encodeString(appKey)]);
}

export function parseAuthBody(body: Buffer): { claim: string; value: string } {
  if (byteAt(body, 0) !== 0x01) throw new Error('AlwaysOn AUTH: expected exactly one claim');
  const [claim, next] = decodeString(body, 1);
  const [value] = decodeString(body, next);
  return { claim, value };
}

export interface BindRequest {
  gateway?: { name: string; type: string };
  names: string[];
}

export function bindBody(b: BindRequest): Buffer {
  const parts: Buffer[] = [];
  if (b.gateway) parts.push(Buffer.from([1]), encodeString(b.gateway.name), encodeString(b.gateway.type));
  else parts.push(Buffer.from([0]));
  const count = Buffer.alloc(2);
  count.writeUInt16BE(b.names.length);
  parts.push(count, ...b.names.map(encodeString));
  return Buffer.concat(parts);
}

export function parseBindBody(body: Buffer): BindRequest {
  let off = 1;
  let gateway: BindRequest['gateway'];
  const flag = byteAt(body, 0);
  if (flag !== 0 && flag !== 1) throw new Error(`AlwaysOn BIND: gateway flag ${flag}, expected 0 or 1`);
  if (flag === 1) {
    const [name, a] = decodeString(body, off);
    const [type, b] = decodeString(body, a);
    gateway = { name, type };
    off = b;
  }
  need(body, off + 2);
  const count = body.readUInt16BE(off);
  off += 2;
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const [n, next] = decodeString(body, off);
    names.push(n);
    off = next;
  }
  return gateway ? { gateway, names } : { names };
}

/** A response body with no reason and no content. */
export const EMPTY_RESPONSE = Buffer.from([0x00, 0xff]);

function byteAt(buf: Buffer, i: number): number {
  need(buf, i + 1);
  return buf[i] as number;
}

function need(buf: Buffer, len: number): void {
  if (buf.length < len) throw new Error(`AlwaysOn: message truncated (${buf.length} bytes, need ${len})`);
}
