import { strict as assert } from 'node:assert';
import { alternation, REDACTED, Redactor } from '../harness/report/redact.ts';

describe('Redactor', () => {
  it('replaces registered secrets and their JSON-escaped forms everywhere in a value', () => {
    const r = new Redactor().add('s3cr3t-key', 'pa"ss\\word');
    const out = r.value({ appKey: 's3cr3t-key', log: ['AUTH with s3cr3t-key', 'x'], raw: JSON.stringify({ p: 'pa"ss\\word' }) });
    assert.deepEqual(out, { appKey: REDACTED, log: [`AUTH with ${REDACTED}`, 'x'], raw: `{"p":"${REDACTED}"}` });
  });

  it('treats secrets literally and replaces a secret containing another whole', () => {
    const r = new Redactor().add('a+b(c)*d$', 'inner-secret', 'outer-inner-secret-x');
    assert.equal(r.text('x a+b(c)*d$ y outer-inner-secret-x z inner-secret'), `x ${REDACTED} y ${REDACTED} z ${REDACTED}`);
    assert.equal(r.text('ab(c)d'), 'ab(c)d');
  });

  it('redacts object keys too (a secret used as a key), and secret-named fields whatever their value', () => {
    const r = new Redactor().add('s3cr3t-key');
    const out = r.value({ 's3cr3t-key': 'seen', nested: [{ 'x-s3cr3t-key-y': 1 }], passphrase: 'unregistered value', key_passphrase: '', password: 42 });
    assert.deepEqual(Object.keys(out), [REDACTED, 'nested', 'passphrase', 'key_passphrase', 'password']);
    assert.deepEqual(out.nested, [{ [`x-${REDACTED}-y`]: 1 }]);
    assert.equal(out.passphrase, REDACTED, 'a secret-named field is redacted even when nobody registered its value');
    assert.equal(out.key_passphrase, '', 'an empty value has nothing to hide');
    assert.equal(out.password, 42, 'only strings are values to redact');
    assert.ok(!JSON.stringify(out).includes('s3cr3t-key'));
  });

  it('leaves buffers, numbers, booleans and null as they are', () => {
    const r = new Redactor().add('s3cr3t-key');
    const buf = Buffer.from('s3cr3t-key');
    const out = r.value({ buf, n: 1, b: true, z: null, u: undefined });
    assert.equal(out.buf, buf);
    assert.deepEqual({ ...out, buf: 0 }, { buf: 0, n: 1, b: true, z: null, u: undefined });
  });

  it('removes private-key PEM blocks of any kind', () => {
    const pem = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----';
    assert.equal(new Redactor().text(`key: ${pem} end`), `key: ${REDACTED} end`);
  });

  it('ignores values too short to be a secret so ordinary words survive', () => {
    assert.equal(new Redactor().add('abc', undefined).text('abc'), 'abc');
  });

  it('matches the longest of secrets sharing a prefix, wherever one ends, with every special character literal', () => {
    const secrets = ['wsems-sim:AAAA', 'wsems-sim:AAAAB', 'wsems-sim:AB', 'x.y*z', 'a|b', '[q]', 'back\\slash/'];
    const re = new RegExp(alternation(secrets), 'g');
    assert.deepEqual('wsems-sim:AAAABx wsems-sim:AAAAC wsems-sim:ABC wsems-sim:A'.match(re), ['wsems-sim:AAAAB', 'wsems-sim:AAAA', 'wsems-sim:AB']);
    assert.deepEqual('x.y*z xyyz a|b ab [q] q back\\slash/'.match(re), ['x.y*z', 'a|b', '[q]', 'back\\slash/']);
    assert.equal('anything'.match(new RegExp(alternation([]), 'g')), null);
  });

  it('redacts every one of many secrets added one by one, and a later one containing an earlier whole', () => {
    const r = new Redactor();
    const keys = Array.from({ length: 37 }, (_, i) => `scenario-${i}-app-key-${(i * 7919).toString(36)}`);
    for (const k of keys) {
      r.add(k);
      assert.equal(r.text(`AUTH ${k};`), `AUTH ${REDACTED};`);
    }
    assert.equal(r.text(keys.join(' ')), keys.map(() => REDACTED).join(' '));
    r.add(`outer-${keys[5]}-outer`);
    assert.equal(r.text(`x outer-${keys[5]}-outer ${keys[5]} ${keys[36]}`), `x ${REDACTED} ${REDACTED} ${REDACTED}`);
  });

  it('keeps up with secrets added after a first use', () => {
    const r = new Redactor().add('first-secret');
    assert.equal(r.text('first-secret second-secret'), `${REDACTED} second-secret`);
    r.add('second-secret');
    assert.equal(r.text('first-secret second-secret'), `${REDACTED} ${REDACTED}`);
  });
});
