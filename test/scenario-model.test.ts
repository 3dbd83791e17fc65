import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { parseRecipes } from '../harness/pki/recipes.ts';
import { CONFORMANCE_NAMES } from '../harness/scenario/capabilities.ts';
import { deepMerge, expectationFor, family, membersOf, partsOf } from '../harness/scenario/model.ts';
import { loadFamilies } from '../harness/scenario/families.ts';
import { REQUIREMENTS } from '../harness/scenario/requirements.ts';

describe('scenario model', () => {
  it('keeps an invalid scenario apart with an error naming the family, scenario and field', () => {
    const f = family('demo', {}, [
      { id: 'ok', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'connects' } },
      { id: 'bad', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'refuses', class: 'nonsense' as never } },
      { id: 'bad2', title: 't', requirements: ['CERT-HOST'], endpoint: { dhBits: 'big' as never }, expect: { outcome: 'connects' } },
    ]);
    assert.deepEqual(f.scenarios.map((s) => s.id), ['ok']);
    assert.match(f.invalid[0]!.error, /^scenario demo\/bad: expect\.class: /);
    assert.match(f.invalid[1]!.error, /^scenario demo\/bad2: endpoint\.dhBits: /);
  });

  it('refuses a duplicate id', () => {
    const s = { id: 'a', title: 't', requirements: ['CERT-HOST' as const], expect: { outcome: 'connects' as const } };
    assert.match(family('demo', {}, [s, s]).invalid[0]!.error, /used twice/);
  });

  it('merges family defaults under each scenario, arrays replaced', () => {
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } }), { a: { b: 1, c: [3] }, d: 1 });
  });

  it('picks the first variant whose condition the target meets', () => {
    const [s] = family('demo', {}, [{
      id: 'v', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'refuses', class: 'hostname-mismatch' },
      variants: [{ when: { lacks: ['hostname-check'] }, expect: { outcome: 'connects' } }, { when: { flavour: 'axtls' }, expect: { outcome: 'refuses', class: 'expired' } }],
    }]).scenarios;
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: ['hostname-check'] })[0]!.outcome, 'refuses');
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: [] })[0]!.outcome, 'connects');
    assert.deepEqual(expectationFor(s!, { flavour: 'axtls', capabilities: ['hostname-check'] }), [{ outcome: 'refuses', class: 'expired' }]);
  });

  it('reads an expectation set; a bad member is named by its field', () => {
    const f = family('demo', {}, [
      { id: 'set', title: 't', requirements: ['CERT-CHAIN-REQUIRED'], expect: { anyOf: [{ outcome: 'refuses', class: 'config-error' }, { outcome: 'refuses', class: 'untrusted-cert' }] } },
      { id: 'bad', title: 't', requirements: ['CERT-CHAIN-REQUIRED'], expect: { anyOf: [{ outcome: 'refuses', class: 'config-error' }, { outcome: 'refuses', class: 'nonsense' as never }] } },
      { id: 'one', title: 't', requirements: ['CERT-CHAIN-REQUIRED'], expect: { anyOf: [{ outcome: 'connects' }] } },
    ]);
    assert.deepEqual(f.scenarios.map((s) => s.id), ['set']);
    assert.deepEqual(expectationFor(f.scenarios[0]!, { flavour: 'openssl', capabilities: [] }).map((e) => e.outcome === 'refuses' && e.class), ['config-error', 'untrusted-cert']);
    assert.match(f.invalid[0]!.error, /^scenario demo\/bad: expect\.anyOf\[1\]\.class: /);
    assert.match(f.invalid[1]!.error, /^scenario demo\/one: expect\.anyOf: /);
  });

  it('an expectation\'s parts: an all-of\'s members, else the expectation itself', () => {
    const serves = { outcome: 'serves-plain' } as const;
    const warns = { outcome: 'warns', warnings: [] } as const;
    assert.deepEqual(partsOf({ outcome: 'all-of', of: [serves, warns] } as never), [serves, warns]);
    assert.deepEqual(partsOf(serves as never), [serves]);
  });

  it('picks variants by FIPS policy (the profile\'s, or the default sp800-131a-rev2)', () => {
    const [s] = family('demo', {}, [{
      id: 'p', title: 't', requirements: ['FIPS-ALGOS'], expect: { outcome: 'refuses', class: 'no-shared-cipher' },
      variants: [{ when: { fipsPolicy: 'module-2.0' }, expect: { outcome: 'connects', weak: 'SHA-1 MAC' } }],
    }]).scenarios;
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: ['fips'] })[0]!.outcome, 'refuses');
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: ['fips'], fipsPolicy: 'sp800-131a-rev2' })[0]!.outcome, 'refuses');
    assert.deepEqual(expectationFor(s!, { flavour: 'openssl', capabilities: ['fips'], fipsPolicy: 'module-2.0' }), [{ outcome: 'connects', weak: 'SHA-1 MAC' }]);
  });

  it('reads what an OpenSSL line implies from its openssl:X.Y capability', () => {
    const [s] = family('demo', {}, [{
      id: 'c', title: 't', requirements: ['CIPHER-RECOMMENDED'], expect: { outcome: 'connects' },
      variants: [{ when: { lacks: ['chacha20'] }, expect: { outcome: 'refuses', class: 'no-shared-cipher' } }],
    }]).scenarios;
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: ['openssl:3.0'] })[0]!.outcome, 'connects');
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: ['openssl:1.1'] })[0]!.outcome, 'connects');
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: ['openssl:1.0.2'] })[0]!.outcome, 'refuses');
    assert.equal(expectationFor(s!, { flavour: 'openssl', capabilities: ['chacha20'] })[0]!.outcome, 'connects');
  });

  it('has a valid scenario catalogue covering every requirement of the certificate, secret, baseline and local-server families', async () => {
    const families = await loadFamilies();
    assert.deepEqual(families.flatMap((f) => f.invalid), []);
    const covered = new Set<string>(families.flatMap((f) => f.scenarios.flatMap((s) => s.requirements)));
    const wanted = Object.keys(REQUIREMENTS).filter((id) => /^(CERT|SECRET|BASE|LSR)-/.test(id));
    assert.deepEqual(wanted.filter((id) => !covered.has(id)), []);
  });

  it('keeps an expectation kind that does not fit the scenario\'s link apart, naming the scenario and field', () => {
    const lsr = family('local-server', { link: 'local-server' }, [
      { id: 'a', title: 't', requirements: ['LSR-TLS'], expect: { outcome: 'connects' } },
      { id: 'b', title: 't', requirements: ['LSR-TLS'], expect: { anyOf: [{ outcome: 'serves-plain' }, { outcome: 'refuses', class: 'expired' }] } },
      { id: 'c', title: 't', requirements: ['LSR-TLS'], expect: { outcome: 'all-of', of: [{ outcome: 'serves-plain' }, { outcome: 'connects' }] } },
      { id: 'ok', title: 't', requirements: ['LSR-TLS'], expect: { outcome: 'all-of', of: [{ outcome: 'serves-plain' }, { outcome: 'warns', warnings: [] }] } },
    ]);
    assert.deepEqual(lsr.scenarios.map((s) => s.id), ['ok']);
    assert.match(lsr.invalid[0]!.error, /^scenario local-server\/a: expect\.outcome: "connects" does not fit a local-server scenario \(link: local-server\); it expects serves-tls, serves-plain, rejects-unauthenticated, refuses-to-start, listens-only-on, warns, all-of$/);
    assert.match(lsr.invalid[1]!.error, /^scenario local-server\/b: expect\.anyOf\[1\]\.outcome: "refuses" does not fit a local-server scenario/);
    assert.match(lsr.invalid[2]!.error, /^scenario local-server\/c: expect\.of\[1\]\.outcome: "connects" does not fit/);
    const platform = family('certificates', {}, [
      { id: 'p', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'serves-plain' } },
      { id: 'q', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'connects' }, variants: [{ when: { has: ['tls13'] }, expect: { outcome: 'warns', warnings: [] } }] },
    ]);
    assert.match(platform.invalid[0]!.error, /^scenario certificates\/p: expect\.outcome: "serves-plain" does not fit a platform-link scenario \(link: platform\); it expects connects, refuses$/);
    assert.match(platform.invalid[1]!.error, /^scenario certificates\/q: variants\[0\]\.expect\.outcome: "warns" does not fit a platform-link scenario/);
    // An all-of is for the LSR's several checks: on the platform link even of platform outcomes it does not fit.
    const allOf = family('certificates', {}, [{ id: 'r', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'all-of', of: [{ outcome: 'connects' }, { outcome: 'connects' }] } as never }]);
    assert.match(allOf.invalid[0]?.error ?? '(accepted)', /^scenario certificates\/r: expect\.outcome: "all-of" does not fit a platform-link scenario/);
  });

  it('keeps an http_server override that does not fit the schema apart, naming the field; and bad local-server expectations', () => {
    const f = family('local-server', { link: 'local-server' }, [
      { id: 'a', title: 't', requirements: ['LSR-TLS'], ems: { http_server: { ssl: 'yes' as never } }, expect: { outcome: 'serves-plain' } },
      { id: 'b', title: 't', requirements: ['LSR-TLS'], ems: { http_server: { port: 8000 } as never }, expect: { outcome: 'serves-plain' } },
      { id: 'c', title: 't', requirements: ['LSR-TLS'], ems: { http_server: { password: { vault: 'x' } as never } }, expect: { outcome: 'serves-plain' } },
      { id: 'd', title: 't', requirements: ['LSR-HOST'], expect: { outcome: 'listens-only-on', family: 'IPv4', address: '::1' } },
      { id: 'e', title: 't', requirements: ['LSR-TLS'], expect: { outcome: 'refuses-to-start', class: 'expired' as never } },
      { id: 'f', title: 't', requirements: ['LSR-WARN'], expect: { outcome: 'warns', warnings: ['ssl-off', 'ssl-off'] } },
    ]);
    assert.deepEqual(f.scenarios, []);
    const errors = f.invalid.map((i) => i.error);
    assert.match(errors[0]!, /^scenario local-server\/a: ems\.http_server\.ssl: /);
    assert.match(errors[1]!, /^scenario local-server\/b: ems\.http_server: Unrecognized key: "port"/);
    assert.match(errors[2]!, /^scenario local-server\/c: ems\.http_server\.password/);
    assert.match(errors[3]!, /^scenario local-server\/d: expect\.address: address is not of the family given/);
    assert.match(errors[4]!, /^scenario local-server\/e: expect\.class: .*"key-load-error"\|"config-error"/);
    assert.match(errors[5]!, /^scenario local-server\/f: expect\.warnings: a warning is listed twice/);
  });

  it('names only certificates and files the catalogue makes', async () => {
    const recipes = parseRecipes(await readFile(new URL('../certs/recipes.yaml', import.meta.url), 'utf8'), 'certs/recipes.yaml');
    const missing: string[] = [];
    const cert = (id: string, name: string | undefined) => name !== undefined && !(name in recipes.certs) && missing.push(`${id}: certificate ${name}`);
    const file = (id: string, name: string) => !(name in recipes.files) && missing.push(`${id}: file ${name}`);
    for (const s of (await loadFamilies()).flatMap((f) => f.scenarios)) {
      cert(s.id, s.endpoint.cert);
      s.endpoint.chain?.forEach((c) => cert(s.id, c));
      cert(s.id, s.endpoint.clientAuth?.trust);
      for (const e of [s.expect, ...s.variants.map((v) => v.expect)].flatMap(membersOf).flatMap(partsOf)) {
        if (e.outcome === 'serves-tls') {
          e.chain.forEach((c) => cert(s.id, c));
          file(s.id, e.trust);
        }
      }
      for (const ref of [...Object.values(s.ems.certificates ?? {}), ...Object.values(s.ems.http_server ?? {})]) {
        if (typeof ref !== 'object' || ref === null) continue;
        if ('file' in ref && !(ref.file in recipes.files)) missing.push(`${s.id}: file ${ref.file}`);
        if ('cert' in ref) cert(s.id, ref.cert);
        if ('key' in ref) cert(s.id, ref.key);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('declares what a host it names takes: conformance-names for the conformance names, loopback-platform for the loopback', async () => {
    for (const s of (await loadFamilies()).flatMap((f) => f.scenarios)) {
      if (s.host === undefined) continue;
      const wants = (CONFORMANCE_NAMES as readonly string[]).includes(s.host.toLowerCase()) ? 'conformance-names' : 'loopback-platform';
      assert.ok(s.needs.includes(wants), `${s.id} (host ${s.host}) needs ${wants}`);
    }
  });

  describe('the schema, field by field', () => {
    const one = (raw: object) => family('demo', {}, [raw as never]);
    const base = { id: 'a', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'connects' } };
    it('defaults: the valid leaf on a Node TLS endpoint, a clear app key, no needs, no variants, 15 s to HANG; secrets unencrypted', () => {
      const [s] = one({ ...base, ems: { certificates: { key_passphrase: { secret: 'p12-pass' } } } }).scenarios;
      assert.deepEqual(s!.endpoint, { kind: 'node-tls', cert: 'leaf-valid' });
      assert.deepEqual([s!.appKey, s!.needs, s!.variants, s!.hangMs], ['clear', [], [], 15_000]);
      assert.deepEqual(s!.ems.certificates?.key_passphrase, { secret: 'p12-pass', encrypt: false });
      assert.deepEqual(one({ ...base, ems: { certificates: { key_passphrase: { literal: 'x' } } } }).scenarios[0]!.ems.certificates?.key_passphrase, { literal: 'x', encrypt: false });
      assert.equal(one({ ...base, appKey: 'encrypted' }).scenarios[0]!.appKey, 'encrypted');
    });
    it('an id is lower-case words joined by . or -', () => {
      for (const id of ['a', 'cert.self-signed.refused', '0x.y']) assert.equal(one({ ...base, id }).invalid.length, 0, id);
      for (const id of ['Cert.x', 'a b', '.a', '-a', 'a_b', 'a!']) assert.match(one({ ...base, id }).invalid[0]?.error ?? '', /: id: lower-case words joined by \. or -$/, id);
    });
    it('an empty cipher or protocol list is an error (it would allow nothing)', () => {
      assert.match(one({ ...base, expect: { outcome: 'connects', cipherIn: [] } }).invalid[0]!.error, /expect\.cipherIn: /);
      assert.match(one({ ...base, expect: { outcome: 'connects', protocolIn: [] } }).invalid[0]!.error, /expect\.protocolIn: /);
      assert.equal(one({ ...base, expect: { outcome: 'connects', cipherIn: ['A', 'B'], protocolIn: ['TLSv1.2', 'TLSv1.3'] } }).invalid.length, 0);
    });
    it('a scenario without an id is named by its family and place; every issue is listed, at the root too', () => {
      const f = family('demo', {}, [base as never, 42 as never, { ...base, id: 7, title: '' } as never]);
      assert.deepEqual(f.invalid, [
        { id: 'demo[1]', error: 'scenario demo/demo[1]: (root): Invalid input: expected object, received number' },
        { id: 'demo[2]', error: 'scenario demo/demo[2]: id: Invalid input: expected string, received number; title: Too small: expected string to have >=1 characters' },
      ]);
    });
    it('a misspelt validation_criteria field is named', () => {
      assert.equal(one({ ...base, ems: { certificates: { validation_criteria: { Cert_Common_Nam: 'x' } } } }).invalid[0]!.error,
        'scenario demo/a: ems.certificates.validation_criteria: Unrecognized key: "Cert_Common_Nam"');
    });
    it('a value fitting no member of a union is explained by the member it came closest to (the deepest issues)', () => {
      assert.equal(one({ ...base, expect: { anyOf: [{ outcome: 'connects', cipherIn: [] }] } }).invalid[0]!.error,
        'scenario demo/a: expect.anyOf[0].cipherIn: Too small: expected array to have >=1 items; expect.anyOf: Too small: expected array to have >=2 items');
      assert.equal(one({ ...base, expect: { outcome: 'connects', weak: 3 } }).invalid[0]!.error, 'scenario demo/a: expect.weak: Invalid input: expected string, received number');
      // A set with a stray key: its deepest issue lies in the set (not "anyOf is no key of an expectation").
      assert.equal(one({ ...base, expect: { anyOf: [{ outcome: 'connects', cipherIn: [] }, { outcome: 'connects' }], outcome: 'connects' } as never }).invalid[0]!.error,
        'scenario demo/a: expect.anyOf[0].cipherIn: Too small: expected array to have >=1 items; expect: Unrecognized key: "outcome"');
    });
    it('deepMerge: objects merged, anything else replaced (arrays, null, a value over an object and back), undefined keeps the base', () => {
      assert.deepEqual(deepMerge({ a: 1 }, [1]), [1]);
      assert.deepEqual(deepMerge([1], { a: 1 }), { a: 1 });
      assert.equal(deepMerge({ a: 1 }, null), null);
      assert.deepEqual(deepMerge(null, { a: 1 }), { a: 1 });
      assert.deepEqual(deepMerge({ a: { b: 1 } }, { a: null }), { a: null });
      assert.deepEqual(deepMerge({ a: null }, { a: { b: 1 } }), { a: { b: 1 } });
      assert.deepEqual(deepMerge({ a: 1 }, undefined), { a: 1 });
      assert.deepEqual(deepMerge('x', 'y'), 'y');
    });
  });
});
