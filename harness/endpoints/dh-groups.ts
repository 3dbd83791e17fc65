import { getDiffieHellman } from 'node:crypto';

// Well-known MODP groups (RFC 2409 / RFC 3526) as the PEM `DH PARAMETERS` Node's `dhparam`
// option takes. Fixed groups, not generated ones: generating 2048+ bits takes seconds, and a
// platform's DHE behaviour depends on the group size, not on which prime of that size it is.

const GROUP_BY_BITS: Record<number, string> = {
  1024: 'modp2',
  1536: 'modp5',
  2048: 'modp14',
  3072: 'modp15',
  4096: 'modp16',
  6144: 'modp17',
  8192: 'modp18',
};

export const SUPPORTED_DH_BITS = Object.keys(GROUP_BY_BITS).map(Number);

/** PKCS#3 DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER }, PEM-armoured. */
export function dhParamsPem(bits: number): string {
  const group = GROUP_BY_BITS[bits];
  if (!group) {
    const hint = bits < 1024 ? ' (Node refuses DH groups under 1024 bits; legacy sizes need the jsse-java7 endpoint)' : '';
    throw new Error(`no DH group of ${bits} bits; use one of ${SUPPORTED_DH_BITS.join(', ')}${hint}`);
  }
  const dh = getDiffieHellman(group);
  const der = derSequence([derInteger(dh.getPrime()), derInteger(dh.getGenerator())]);
  const b64 = der.toString('base64').match(/.{1,64}/g)?.join('\n');
  return `-----BEGIN DH PARAMETERS-----\n${b64}\n-----END DH PARAMETERS-----\n`;
}

function derInteger(unsigned: Buffer): Buffer {
  // A set top bit would read as negative: DER needs a leading zero byte then.
  const body = (unsigned[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), unsigned]) : unsigned;
  return derTlv(0x02, body);
}

function derSequence(items: Buffer[]): Buffer {
  return derTlv(0x30, Buffer.concat(items));
}

function derTlv(tag: number, body: Buffer): Buffer {
  let len: Buffer;
  if (body.length < 0x80) {
    len = Buffer.from([body.length]);
  } else {
    const bytes: number[] = [];
    for (let n = body.length; n > 0; n >>>= 8) bytes.unshift(n & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
