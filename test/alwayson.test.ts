import { strict as assert } from 'node:assert';
import {
  authBody, bindBody, Code, decodeMessage, decodeString, encodeMessage, encodeString, NO_SESSION,
  parseAuthBody, parseBindBody,
} from '../harness/endpoints/alwayson.ts';

describe('AlwaysOn codec', () => {
  it('encodes the AUTH request byte for byte as EMS-FACTS describes', () => {
    const msg = encodeMessage({ code: Code.AUTH, requestId: 7, endpointId: 0, sessionId: NO_SESSION, body: authBody('k1') });
    assert.equal(
      msg.toString('hex'),
      '01' + '14' + '00000007' + '00000000' + 'ffffffff' + '00' + '01' + '06' + Buffer.from('appKey').toString('hex') + '02' + '6b31',
    );
    const back = decodeMessage(msg);
    assert.equal(back.code, Code.AUTH);
    assert.equal(back.sessionId, NO_SESSION);
    assert.deepEqual(parseAuthBody(back.body), { claim: 'appKey', value: 'k1' });
  });

  it('uses a 4-byte length with the top bit set for strings of 128 bytes or more', () => {
    const long = 'x'.repeat(200);
    const enc = encodeString(long);
    assert.equal(enc.readUInt32BE(0), (0x80000000 | 200) >>> 0);
    assert.deepEqual(decodeString(enc, 0), [long, 204]);
    assert.equal(encodeString('y'.repeat(127))[0], 127);
  });

  it('round-trips BIND with and without a gateway', () => {
    assert.deepEqual(parseBindBody(bindBody({ names: ['a', 'b'] })), { names: ['a', 'b'] });
    const gw = { gateway: { name: 'gw1', type: 'EMS' }, names: ['t'] };
    assert.deepEqual(parseBindBody(bindBody(gw)), gw);
    assert.equal(bindBody({ names: [] }).toString('hex'), '000000');
  });

  it('refuses truncated and foreign messages with a reason', () => {
    assert.throws(() => decodeMessage(Buffer.from([1, 0x14, 0])), /truncated/);
    assert.throws(() => decodeMessage(Buffer.alloc(15, 2)), /version/);
    assert.throws(() => decodeString(Buffer.from([5, 0x61]), 0), /truncated/);
  });
});
