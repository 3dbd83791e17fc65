import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternation, REDACTED, Redactor, redactTree, textOf, writeRedacted } from '../harness/report/redact.ts';

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

  it('marks what it removed with «redacted»', () => assert.equal(REDACTED, '«redacted»'));

  it('takes secrets of six characters and more; five are too short to tell from words', () => {
    assert.equal(new Redactor().add('abcdef').text('x abcdef y'), `x ${REDACTED} y`);
    assert.equal(new Redactor().add('abcde').text('x abcde y'), 'x abcde y');
  });

  it('removes PEM private keys by their exact armour: RSA, EC, encrypted or plain, and nothing that merely looks alike', () => {
    for (const label of ['', 'RSA ', 'EC ', 'ENCRYPTED ']) {
      const pem = `-----BEGIN ${label}PRIVATE KEY-----\nMIIB\n-----END ${label}PRIVATE KEY-----`;
      assert.equal(new Redactor().text(`a ${pem} b`), `a ${REDACTED} b`, label);
    }
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    assert.equal(new Redactor().text(cert), cert, 'certificates are evidence');
    assert.equal(new Redactor().text('-----BEGIN PRIVATE KEY----- truncated'), '-----BEGIN PRIVATE KEY----- truncated', 'no END: not a key block');
  });

  it('redacts the secret-named fields by their exact names (any case), and no field that only contains one', () => {
    const out = new Redactor().value({ appkey: 'v1', app_key: 'v2', AppKey: 'v3', privatekey: 'v4', private_key: 'v5', Password: 'v6', key_passphrase: 'v7', passphrase: 'v8', passwordEnv: 'WSEMS_PW', passphraseEnv: 'WSEMS_PASS', myPassword_hint: 'h', appKeys: 'k' });
    assert.deepEqual(out, { appkey: REDACTED, app_key: REDACTED, AppKey: REDACTED, privatekey: REDACTED, private_key: REDACTED, Password: REDACTED, key_passphrase: REDACTED, passphrase: REDACTED, passwordEnv: 'WSEMS_PW', passphraseEnv: 'WSEMS_PASS', myPassword_hint: 'h', appKeys: 'k' });
  });

  it('gives the same text whether its secrets overlap, repeat or were added in any order', () => {
    const secrets = ['wsems-sim:AAAA', 'wsems-sim:AAAAB', 'other-secret', 'wsems-sim:AAAA', 'x-other-secret-y'];
    const text = 'wsems-sim:AAAAB wsems-sim:AAAA x-other-secret-y other-secret';
    const want = [REDACTED, REDACTED, REDACTED, REDACTED].join(' ');
    assert.equal(new Redactor().add(...secrets).text(text), want);
    assert.equal(new Redactor().add(...[...secrets].reverse()).text(text), want);
    const oneByOne = new Redactor();
    for (const x of secrets) oneByOne.add(x);
    assert.equal(oneByOne.text(text), want);
  });

  describe('files', () => {
    let dir: string;
    beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'redact-files-')); });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('textOf: text as is, a buffer of UTF-8 as text, other bytes as no text at all', () => {
      assert.equal(textOf('plain «text»'), 'plain «text»');
      assert.equal(textOf(Buffer.from('plain «text»')), 'plain «text»');
      assert.equal(textOf(Buffer.from([0xff, 0xfe, 0x00, 0x41])), undefined);
    });

    it('writeRedacted: makes the directories, writes the text redacted under its name, leaves no temporary file', async () => {
      const path = join(dir, 'a', 'b', 'report.txt');
      assert.equal(await writeRedacted(path, 'key s3cr3t-key here', new Redactor().add('s3cr3t-key')), path);
      assert.equal(await readFile(path, 'utf8'), `key ${REDACTED} here`);
      assert.deepEqual(await readdir(join(dir, 'a', 'b')), ['report.txt']);
    });

    it('redactTree: rewrites the text files that hold a secret, in every subdirectory, leaves binaries and clean files alone, counts what it changed', async () => {
      const r = new Redactor().add('s3cr3t-key');
      await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
      await writeFile(join(dir, 'top.json'), '{"k":"s3cr3t-key"}');
      await writeFile(join(dir, 'sub', 'deeper', 'log.txt'), 'line s3cr3t-key\n');
      await writeFile(join(dir, 'sub', 'clean.txt'), 'nothing here\n');
      const binary = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('s3cr3t-key')]);
      await writeFile(join(dir, 'sub', 'image.png'), binary);
      assert.equal(await redactTree(dir, r), 2);
      assert.equal(await readFile(join(dir, 'top.json'), 'utf8'), `{"k":"${REDACTED}"}`);
      assert.equal(await readFile(join(dir, 'sub', 'deeper', 'log.txt'), 'utf8'), `line ${REDACTED}\n`);
      assert.equal(await readFile(join(dir, 'sub', 'clean.txt'), 'utf8'), 'nothing here\n');
      assert.deepEqual(await readFile(join(dir, 'sub', 'image.png')), binary, 'bytes that are not text are left byte for byte');
      assert.equal(await redactTree(dir, r), 0, 'nothing left to change');
      assert.equal(await redactTree(join(dir, 'absent'), r), 0, 'no directory: nothing to do');
    });
  });
});
