import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as oracle from '../harness/endpoints/alwayson.ts';
import * as simulator from '../targets/simulator/alwayson.ts';

// Both AlwaysOn codecs, the harness's (the platform stub's) and the simulator's, over the same
// byte vectors: they share no code, so only the vectors can make them agree.

type Text = string | { repeat: string; times: number };
type Num = number | string; // "0x…" allowed
interface AuthBody { claim: string; value: Text }
interface BindBody { gateway?: { name: string; type: string }; names: string[] }
type Body = { auth: AuthBody } | { bind: BindBody } | { raw: string };
interface Vectors {
  codes: Record<string, string>;
  noSession: Num;
  strings: { about: string; text: Text; hex: string }[];
  messages: {
    name: string;
    hex: string;
    header: { code: string; requestId: Num; endpointId: Num; sessionId: Num };
    body: Body;
  }[];
  malformed: { name: string; read: 'message' | 'string' | 'auth' | 'bind'; hex: string; error: string }[];
}

const VECTORS = JSON.parse(readFileSync(new URL('./fixtures/alwayson-vectors.json', import.meta.url), 'utf8')) as Vectors;

/** "01 ab*3" → 01ababab */
function hexOf(spaced: string): string {
  return spaced.split(/\s+/).filter(Boolean).map((group) => {
    const [unit, times] = group.split('*');
    return (unit as string).repeat(times === undefined ? 1 : Number(times));
  }).join('');
}
const bytesOf = (spaced: string) => Buffer.from(hexOf(spaced), 'hex');
const textOf = (t: Text) => (typeof t === 'string' ? t : t.repeat.repeat(t.times));

interface Header { code: number; requestId: number; endpointId: number; sessionId: number }
interface Decoded extends Header { body: { auth: { claim: string; value: string } } | { bind: BindBody } | { raw: string } }

/** One codec seen through the operations the vectors exercise. */
interface Codec {
  name: string;
  /** The codes the codec names, by name. */
  codes: Record<string, number>;
  noSession: number;
  encode(header: Header, body: Body): Buffer;
  decode(bytes: Buffer, body: 'auth' | 'bind' | 'raw'): Decoded;
  encodeString(text: string): Buffer;
  /** The string at offset 0 and the offset after it. */
  decodeString(bytes: Buffer): [string, number];
  readAuth(body: Buffer): unknown;
  readBind(body: Buffer): unknown;
}

const CODECS: Codec[] = [
  {
    name: 'harness (harness/endpoints/alwayson.ts)',
    codes: oracle.Code,
    noSession: oracle.NO_SESSION,
    encode(header, body) {
      let bytes: Buffer;
      if ('auth' in body) {
        assert.equal(body.auth.claim, 'appKey'); // the only claim authBody writes
        bytes = oracle.authBody(textOf(body.auth.value));
      } else if ('bind' in body) bytes = oracle.bindBody(body.bind);
      else bytes = Buffer.from(body.raw, 'hex');
      return oracle.encodeMessage({ ...header, body: bytes });
    },
    decode(bytes, body) {
      const { body: raw, ...header } = oracle.decodeMessage(bytes);
      if (body === 'auth') return { ...header, body: { auth: oracle.parseAuthBody(raw) } };
      if (body === 'bind') return { ...header, body: { bind: oracle.parseBindBody(raw) } };
      return { ...header, body: { raw: raw.toString('hex') } };
    },
    encodeString: oracle.encodeString,
    decodeString: (bytes) => oracle.decodeString(bytes, 0),
    readAuth: oracle.parseAuthBody,
    readBind: oracle.parseBindBody,
  },
  {
    name: 'simulator (targets/simulator/alwayson.ts)',
    codes: simulator.MessageCode,
    noSession: simulator.NO_SESSION,
    encode(header, body) {
      let bytes: Uint8Array;
      if ('auth' in body) {
        assert.equal(body.auth.claim, 'appKey'); // the only claim authBody writes
        bytes = simulator.authBody(textOf(body.auth.value));
      } else if ('bind' in body) bytes = simulator.bindBody(body.bind);
      else bytes = Buffer.from(body.raw, 'hex');
      return simulator.encodeFrame(header, bytes);
    },
    decode(bytes, body) {
      const { body: raw, ...header } = simulator.decodeFrame(bytes);
      if (body === 'auth') return { ...header, body: { auth: simulator.readAuthBody(raw) } };
      if (body === 'bind') return { ...header, body: { bind: simulator.readBindBody(raw) } };
      return { ...header, body: { raw: Buffer.from(raw).toString('hex') } };
    },
    encodeString: (text) => new simulator.MessageWriter().string(text).toBuffer(),
    decodeString(bytes) {
      const reader = new simulator.MessageReader(bytes);
      return [reader.string(), reader.offset];
    },
    readAuth: simulator.readAuthBody,
    readBind: simulator.readBindBody,
  },
];

function headerOf(v: Vectors['messages'][number]): Header {
  const code = VECTORS.codes[v.header.code];
  assert.ok(code, `${v.name}: code ${v.header.code} is not in the codes table`);
  return {
    code: Number(code),
    requestId: Number(v.header.requestId),
    endpointId: Number(v.header.endpointId),
    sessionId: Number(v.header.sessionId),
  };
}

function expectedBody(body: Body): Decoded['body'] {
  return 'auth' in body ? { auth: { claim: body.auth.claim, value: textOf(body.auth.value) } } : body;
}

for (const codec of CODECS) {
  describe(`AlwaysOn codec: ${codec.name}`, () => {
    it('names its codes as EMS-FACTS does', () => {
      for (const [name, value] of Object.entries(codec.codes)) {
        assert.ok(name in VECTORS.codes, `${name} is not a code of the fixture`);
        assert.equal(value, Number(VECTORS.codes[name]), name);
      }
      for (const name of ['AUTH', 'BIND', 'SUCCESS']) assert.ok(name in codec.codes, `${name} missing`);
      assert.equal(codec.noSession, Number(VECTORS.noSession));
    });

    it('writes and reads every string vector (1-byte length below 128 bytes, else 4 bytes with the top bit set)', () => {
      for (const v of VECTORS.strings) {
        const text = textOf(v.text);
        const bytes = bytesOf(v.hex);
        assert.equal(codec.encodeString(text).toString('hex'), bytes.toString('hex'), v.about);
        assert.deepEqual(codec.decodeString(bytes), [text, bytes.length], v.about);
      }
      const long = codec.encodeString('x'.repeat(200));
      assert.equal(long.readUInt32BE(0), (0x80000000 | 200) >>> 0);
      assert.equal(codec.encodeString('y'.repeat(127))[0], 127);
    });

    for (const v of VECTORS.messages) {
      it(`encodes and decodes ${v.name}`, () => {
        const header = headerOf(v);
        const hex = hexOf(v.hex);
        assert.equal(codec.encode(header, v.body).toString('hex'), hex);
        const kind = 'auth' in v.body ? 'auth' : 'bind' in v.body ? 'bind' : 'raw';
        assert.deepEqual(codec.decode(Buffer.from(hex, 'hex'), kind), { ...header, body: expectedBody(v.body) });
      });
    }

    it('decodes a message inside a larger buffer (a pooled Buffer from ws)', () => {
      const v = VECTORS.messages.find((m) => m.name === 'auth-success');
      assert.ok(v);
      const pooled = Buffer.concat([Buffer.from('ffff', 'hex'), bytesOf(v.hex), Buffer.from('ee', 'hex')]);
      const frame = pooled.subarray(2, pooled.length - 1);
      assert.deepEqual(codec.decode(frame, 'raw'), { ...headerOf(v), body: { raw: '00ff' } });
    });

    for (const v of VECTORS.malformed) {
      it(`refuses ${v.name} (${v.error})`, () => {
        const bytes = bytesOf(v.hex);
        const read = {
          message: () => codec.decode(bytes, 'raw'),
          string: () => codec.decodeString(bytes),
          auth: () => codec.readAuth(bytes),
          bind: () => codec.readBind(bytes),
        }[v.read];
        assert.throws(read, new RegExp(v.error, 'i'));
      });
    }
  });
}
