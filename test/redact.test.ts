import { strict as assert } from 'node:assert';
import { REDACTED, Redactor } from '../harness/report/redact.ts';

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

  it('removes private-key PEM blocks of any kind', () => {
    const pem = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----';
    assert.equal(new Redactor().text(`key: ${pem} end`), `key: ${REDACTED} end`);
  });

  it('ignores values too short to be a secret so ordinary words survive', () => {
    assert.equal(new Redactor().add('abc', undefined).text('abc'), 'abc');
  });
});
