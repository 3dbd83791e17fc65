import { strict as assert } from 'node:assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { checkEncryption, revealedBy } from '../harness/ems/encryption-strength.ts';
import { findLeaks, leakText, type ScenarioSecret } from '../harness/ems/secret-leaks.ts';
import { secretForms } from '../harness/ems/secret-forms.ts';
import { injectedDefect } from '../harness/scenario/injected-defect.ts';
import { checkSecrets, requirementsWith, withSecretFailures } from '../harness/scenario/secret-checks.ts';

// SECRET-NOLOG's log search and SECRET-ENCRYPT's strength check, on fakes: lines and `-encrypt`
// outputs written here in every encoding a defective EMS might use.

const APP_KEY = randomBytes(24).toString('base64url');
const PASS = randomBytes(18).toString('base64url');
const SECRETS: ScenarioSecret[] = [
  { kind: 'app key', value: APP_KEY, random: true },
  { kind: 'key passphrase', value: PASS, random: true },
  { kind: 'key passphrase', value: 'not-the-passphrase', random: false },
];
const line = (text: string, stream = 'stdout') => ({ text, stream });

describe('SECRET-NOLOG: the log search', () => {
  it('finds nothing in a clean log, the SDK\'s masked app key included', () => {
    const masked = `${APP_KEY.slice(0, 4)}${'*'.repeat(APP_KEY.length - 4)}`;
    const lines = [
      line('[TRACE] 2024-05-01 10:00:00,000: twWs_Connect: Sent request:'),
      line(`appKey: ${masked}`),
      line('[ERROR] 2024-05-01 10:00:00,000: wsems: certificates.key_file: wrong certificates.key_passphrase (bad decrypt)', 'stderr'),
      line('[DEBUG] 2024-05-01 10:00:00,000: appKey: present'),
    ];
    assert.deepEqual(findLeaks(lines, SECRETS), []);
  });

  const encodings: Array<[string, (s: string) => string]> = [
    ['clear', (s) => s],
    ['base64', (s) => Buffer.from(s).toString('base64')],
    ['base64url', (s) => Buffer.from(s).toString('base64url')],
    ['hex', (s) => Buffer.from(s).toString('hex')],
    ['hex', (s) => Buffer.from(s).toString('hex').toUpperCase()],
    ['url-encoded', (s) => encodeURIComponent(`${s}/+`).slice(0, -6)],
  ];
  for (const [encoding, encode] of encodings) {
    it(`finds the app key ${encoding === 'clear' ? 'as it is' : `${encoding}-encoded`}, naming the stream and line, the value redacted`, () => {
      const lines = [line('[INFO] first'), line('[ERROR] other', 'stderr'), line(`[TRACE] 2024-05-01 10:00:00,000: header: ${encode(APP_KEY)} end`)];
      const [leak, ...more] = findLeaks(lines, SECRETS);
      assert.equal(more.length, 0);
      assert.equal(leak!.kind, 'app key');
      // base64url text URL-encodes to itself; base64 and base64url agree where neither has its own characters.
      const named = encoding === 'url-encoded' ? 'clear' : encoding;
      assert.ok(leak!.encoding === named || (named.startsWith('base64') && leak!.encoding.startsWith('base64')), leak!.encoding);
      assert.equal(leak!.stream, 'stdout');
      assert.equal(leak!.line, 2, 'the second line of stdout (stderr counts apart)');
      assert.ok(!leak!.redacted.toLowerCase().includes(encode(APP_KEY).toLowerCase()), leak!.redacted);
      assert.match(leak!.redacted, /header: ‹app key›\S{0,3} end$/); // base64 keeps the padding and the character that also holds the next bits
      assert.match(leakText(leak!), /^the app key.* in stdout line 2: "/);
    });
  }

  it('finds a secret base64-encoded inside a longer base64 text, at each of the three alignments', () => {
    for (const before of ['', 'u', 'us']) {
      const header = `Authorization: Basic ${Buffer.from(`${before}:${PASS}:tail`).toString('base64')}`;
      const leaks = findLeaks([line(header)], SECRETS);
      assert.equal(leaks.length, 1, `prefix "${before}": ${header}`);
      assert.equal(leaks[0]!.encoding, 'base64');
    }
  });

  it('finds a literal secret with characters URL-encoding changes', () => {
    const secret: ScenarioSecret = { kind: 'http_server password', value: 'p@ss word/1', random: false };
    const [leak] = findLeaks([line(`GET /?password=${encodeURIComponent(secret.value)}`), line(`form: pw=p%40ss+word%2F1`)], [secret]);
    assert.equal(leak!.encoding, 'url-encoded');
    assert.equal(findLeaks([line(`form: pw=p%40ss+word%2F1`)], [secret])[0]!.encoding, 'url-encoded');
  });

  it('finds a long fragment of a random secret (a mask that hides only its end), not of a literal one', () => {
    const half = APP_KEY.slice(0, APP_KEY.length / 2 + 1);
    assert.equal(findLeaks([line(`appKey: ${half}${'*'.repeat(15)}`)], SECRETS)[0]!.encoding, 'fragment');
    assert.deepEqual(findLeaks([line('wrong certificates.key_passphrase: the-passphrase')], SECRETS), []);
  });

  it('reports each leaking secret once per line, and lines without a stream by their number in all output', () => {
    const leaks = findLeaks([{ text: 'nothing' }, { text: `${APP_KEY} ${PASS} ${APP_KEY}` }], SECRETS);
    assert.deepEqual(leaks.map((l) => [l.kind, l.line, l.stream]), [['app key', 2, undefined], ['key passphrase', 2, undefined]]);
    assert.equal(leaks[0]!.redacted, '‹app key› ‹key passphrase› ‹app key›'.replace('‹key passphrase›', PASS));
  });

  it('skips secrets too short to search for', () => {
    assert.deepEqual(findLeaks([line('pass abc')], [{ kind: 'key passphrase', value: 'abc', random: false }]), []);
    assert.equal(findLeaks([line('pass abcdef')], [{ kind: 'key passphrase', value: 'abcdef', random: false }]).length, 1, 'six characters are searched');
  });

  it('a fragment is half a random secret, at least 12 characters, anywhere in it (the tail too)', () => {
    const long = randomBytes(30).toString('base64url'); // 40 characters: a fragment is 20
    const secrets: ScenarioSecret[] = [{ kind: 'app key', value: long, random: true }];
    assert.deepEqual(findLeaks([line(`appKey: ${long.slice(0, 19)}*********************`)], secrets), [], '19 characters of 40 are no leak');
    assert.equal(findLeaks([line(`appKey: ********************${long.slice(20)}`)], secrets)[0]?.encoding, 'fragment', 'the last 20');
  });

  it('the redacted line hides the secret whole, once, whatever characters it has', () => {
    const literal: ScenarioSecret[] = [{ kind: 'key passphrase', value: 'pa$$.w0rd+(x)', random: false }];
    assert.equal(findLeaks([line('pass pa$$.w0rd+(x) end')], literal)[0]!.redacted, 'pass ‹key passphrase› end');
    // A random secret's fragments are in the pattern too: the whole secret must win over its halves.
    assert.equal(findLeaks([line(`k=${APP_KEY};`)], SECRETS)[0]!.redacted, 'k=‹app key›;');
  });

  it('a finding in words: the encoding (none for clear, "a fragment of it"), the stream or all output, the line', () => {
    const leak = { kind: 'app key' as const, line: 3, redacted: 'x ‹app key›' };
    assert.equal(leakText({ ...leak, encoding: 'clear', stream: 'stderr' }), 'the app key in stderr line 3: "x ‹app key›"');
    assert.equal(leakText({ ...leak, encoding: 'fragment' }), 'the app key (a fragment of it) in EMS output line 3: "x ‹app key›"');
    assert.equal(leakText({ ...leak, encoding: 'hex' }), 'the app key (hex) in EMS output line 3: "x ‹app key›"');
  });

  it('makes the base64 forms from the secret\'s own bits only', () => {
    const forms = secretForms('abcdef').filter((f) => f.encoding === 'base64').map((f) => f.text);
    assert.deepEqual(forms, ['YWJjZGVm', 'FiY2RlZ', 'hYmNkZW']);
    for (const prefix of ['', 'x', 'xy']) {
      const text = Buffer.from(`${prefix}abcdef!`).toString('base64');
      assert.ok(forms.some((f) => text.includes(f)), `${prefix}: ${text}`);
    }
  });
});

describe('SECRET-ENCRYPT: the strength check of -encrypt output', () => {
  const CLEAR = 'Gk3v9-appkey-Qm2x';
  const aes = (clear: string) => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', randomBytes(32), iv);
    return `enc:${Buffer.concat([iv, c.update(clear), c.final(), c.getAuthTag()]).toString('base64url')}`;
  };
  const revealing: Array<[string, string, string | RegExp]> = [
    ['the clear value with a prefix', `ENC(${CLEAR})`, 'contains the clear value'],
    ['base64', Buffer.from(CLEAR).toString('base64'), 'base64 decoding gives the clear value back'],
    ['base64 after a prefix', `wsems:${Buffer.from(CLEAR).toString('base64')}`, 'base64 decoding gives the clear value back'],
    ['base64url of salt + clear', `${Buffer.concat([Buffer.from([0xfb, 0xff]), randomBytes(5), Buffer.from(CLEAR)]).toString('base64url')}`, /^base64(url)? decoding gives the clear value back$/], // the two alphabets agree on the clear part
    ['hex', Buffer.from(CLEAR).toString('hex').toUpperCase(), 'hex decoding gives the clear value back'],
    ['URL-encoding of every byte', [...Buffer.from(CLEAR)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''), 'url decoding gives the clear value back'],
    ['base64 of hex', Buffer.from(Buffer.from(CLEAR).toString('hex')).toString('base64'), 'base64 then hex decoding gives the clear value back'],
  ];
  for (const [what, output, reveals] of revealing) {
    it(`fails an output that is ${what}`, () => {
      const got = checkEncryption('app key', CLEAR, output, output).reveals;
      if (typeof reveals === 'string') assert.equal(got, reveals);
      else assert.match(got ?? '', reveals);
    });
  }

  it('passes real encryption and records whether two runs agree', () => {
    const a = aes(CLEAR);
    assert.deepEqual(checkEncryption('app key', CLEAR, a, aes(CLEAR)), { kind: 'app key', deterministic: false });
    assert.deepEqual(checkEncryption('key passphrase', CLEAR, a, a), { kind: 'key passphrase', deterministic: true });
    assert.equal(revealedBy(a, CLEAR), undefined);
  });

  it('does not take a fixed-key XOR for a plain decoding (the requirement names plain decodings only)', () => {
    const key = randomBytes(CLEAR.length);
    const xored = Buffer.from([...Buffer.from(CLEAR)].map((b, i) => b ^ key[i]!)).toString('base64');
    assert.equal(revealedBy(xored, CLEAR), undefined);
  });
});

describe('the secret checks folded into a scenario\'s result', () => {
  const KEY = randomBytes(24).toString('base64url');
  const secrets: ScenarioSecret[] = [{ kind: 'app key', value: KEY, random: true }];

  it('fail a passed scenario naming each requirement, keep what held, and add the requirement', () => {
    const { failures, evidence, revealed } = checkSecrets(secrets, [{ kind: 'app key', deterministic: true, reveals: 'contains the clear value' }], [{ text: `k=${KEY}`, stream: 'stderr' }]);
    assert.deepEqual(failures.map((f) => f.requirement), ['SECRET-NOLOG', 'SECRET-ENCRYPT']);
    assert.deepEqual(revealed, [KEY]);
    assert.deepEqual(evidence.searched, ['app key']);
    assert.equal(evidence.lines, 1);
    assert.ok(!JSON.stringify(evidence).includes(KEY), 'the evidence holds the secret');
    const j = withSecretFailures({ status: 'passed', met: 1, weak: 'TLS 1.0' }, failures);
    assert.deepEqual(j, {
      status: 'failed', met: 1, weak: 'TLS 1.0',
      message: 'SECRET-NOLOG: the app key in stderr line 1: "k=‹app key›"; SECRET-ENCRYPT: wsems -encrypt output for the app key contains the clear value',
    });
    assert.deepEqual(requirementsWith(['CERT-HOST', 'SECRET-ENCRYPT'], failures), ['CERT-HOST', 'SECRET-ENCRYPT', 'SECRET-NOLOG']);
  });

  it('keep a scenario\'s own failure in the message, and leave a clean one as it was', () => {
    const { failures } = checkSecrets(secrets, [], [{ text: KEY }]);
    assert.match(withSecretFailures({ status: 'failed', message: 'unexpected success' }, failures).message!, /^SECRET-NOLOG: .*; also: unexpected success$/);
    const clean = { status: 'passed' as const };
    assert.equal(withSecretFailures(clean, checkSecrets(secrets, [], [{ text: 'nothing' }]).failures), clean);
  });

  it('name at most three failures, then how many more; the evidence keeps every -encrypt record, failing only those that reveal', () => {
    const lines = Array.from({ length: 4 }, (_, i) => ({ text: `${i} ${KEY}` }));
    const records = [{ kind: 'app key' as const, deterministic: false }, { kind: 'key passphrase' as const, deterministic: true }];
    const { failures, evidence } = checkSecrets([...secrets, { kind: 'key passphrase', value: 'short', random: false }], records, lines);
    assert.equal(failures.length, 4, 'no -encrypt failure: neither record reveals anything');
    assert.deepEqual(evidence.encryptions, records);
    assert.deepEqual(evidence.searched, ['app key'], 'a secret too short is not searched');
    assert.deepEqual(checkSecrets([{ kind: 'key passphrase', value: 'abcdef', random: false }], [], []).evidence.searched, ['key passphrase'], 'six characters are');
    const message = withSecretFailures({ status: 'passed' }, failures).message!;
    assert.equal(message.split('; ').length, 4);
    assert.match(message, /; and 1 more \(evidence\.secrets\)$/);
    assert.doesNotMatch(withSecretFailures({ status: 'passed' }, failures.slice(0, 3)).message!, /more/);
  });

  it('read the defect an EMS announces (mutation testing)', () => {
    assert.equal(injectedDefect([{ text: '[FORCE] x: wsems simulator: DEFECT INJECTED: criteria-contains (mutation testing only: …)' }]), 'criteria-contains');
    assert.equal(injectedDefect([{ text: '[FORCE] x: wsems simulator starting: flavour openssl' }]), undefined);
  });
});
