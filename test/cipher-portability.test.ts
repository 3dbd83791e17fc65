import { strict as assert } from 'node:assert';
import { createSecureContext } from 'node:tls';
import { loadFamilies } from '../harness/scenario/families.ts';
import { effectiveCapabilities } from '../harness/scenario/capabilities.ts';
import { expectationFor, type Scenario } from '../harness/scenario/model.ts';
import { check102 } from './openssl-102-ciphers.ts';

// The catalogue's cipher strings are portable across the OpenSSL lines an EMS ships with
// (issue 10, REQUIREMENTS.md CIPHER-LIST): each `cipher_suite` goes through the parser of every
// line whose targets run the scenario, here Node's OpenSSL 3.0 (tls.createSecureContext) and an
// old-syntax check of 1.0.2 (test/openssl-102-ciphers.ts). A scenario that expects the list to be
// refused at start-up (config-error) needs it refused. The endpoint's `ciphers` are served by
// Node's OpenSSL only (every endpoint is), so they go through that parser, every element one it
// knows (a typo there would be dropped silently).

/** What a target of each line has, for `needs` and variants (capabilities.ts implies the rest from openssl:X.Y). */
const LINES = [
  { line: 'OpenSSL 3.0', capabilities: ['openssl:3.0', 'tls13'], parse: parse30 },
  { line: 'OpenSSL 1.0.2', capabilities: ['openssl:1.0.2'], parse: (list: string) => check102(list) },
];
/** Capabilities that depend on the OpenSSL line; every other need (fips, hostname-check …) is about the build, not the line. */
const LINE_CAPABILITIES = /^(openssl:|chacha20$|cipher-seclevel$|tls13$)/;

function parse30(list: string): { accepted: boolean; problems: string[] } {
  try {
    createSecureContext({ ciphers: list });
    return { accepted: true, problems: [] };
  } catch (e) {
    return { accepted: false, problems: [(e as Error).message] };
  }
}

/** What this line's targets that run the scenario expect; undefined when none runs it. */
function onLine(s: Scenario, capabilities: string[]) {
  const caps = effectiveCapabilities([...capabilities, ...s.needs.filter((n) => !LINE_CAPABILITIES.test(n))]);
  return s.needs.every((n) => caps.includes(n)) ? expectationFor(s, { flavour: 'openssl', capabilities: caps }) : undefined;
}

describe('cipher strings portable across OpenSSL lines', () => {
  let scenarios: Scenario[];
  before(async () => {
    scenarios = (await loadFamilies()).flatMap((f) => f.scenarios);
  });

  it('the 1.0.2 check knows its own syntax', () => {
    assert.deepEqual(check102('ALL:!aNULL:!eNULL:!LOW:!3DES:!MD5:!EXP:!PSK:!DSS:!RC4:!SEED:!ADH:!IDEA:!3DES:!SRP'), { accepted: true, problems: [] });
    assert.deepEqual(check102('kECDHE+AES256:!SHA1:@STRENGTH'), { accepted: true, problems: [] });
    assert.equal(check102('eNULL:@SECLEVEL=0').accepted, false);
    assert.match(check102('eNULL:@SECLEVEL=0').problems[0]!, /@SECLEVEL=0: not a command OpenSSL 1\.0\.2 knows/);
    assert.equal(check102('CHACHA20').accepted, false);
    assert.match(check102('ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA').problems[0]!, /ECDHE-RSA-CHACHA20-POLY1305 unknown to OpenSSL 1\.0\.2/);
    assert.equal(check102('!aNULL:+RSA').accepted, false, 'nothing selected');
  });

  it('every cipher_suite parses on every line whose targets run the scenario (refused where the scenario expects a config error)', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const s of scenarios) {
      const list = s.ems.certificates?.cipher_suite;
      if (list === undefined) continue;
      for (const { line, capabilities, parse } of LINES) {
        const expected = onLine(s, capabilities);
        if (!expected) continue;
        checked++;
        const mustRefuse = expected.every((e) => e.outcome === 'refuses' && e.class === 'config-error');
        const r = parse(list);
        if (r.accepted === mustRefuse || (!mustRefuse && r.problems.length)) {
          bad.push(`${s.id}: cipher_suite "${list}" on ${line}: ${mustRefuse ? 'accepted, but the scenario expects a config error' : r.problems.join('; ')}`);
        }
      }
    }
    assert.ok(checked > 20, `only ${checked} checks: the catalogue lost its cipher_suite scenarios?`);
    assert.deepEqual(bad, []);
  });

  it('every endpoint cipher list parses on the OpenSSL that serves it (Node\'s), each element one it knows', () => {
    const bad: string[] = [];
    for (const s of scenarios) {
      const { ciphers, ciphersuites } = s.endpoint as { ciphers?: string; ciphersuites?: string };
      if (ciphers) {
        const r = parse30(`${ciphers}:@SECLEVEL=0`); // as the endpoint serves it (weak suites on purpose)
        if (!r.accepted) bad.push(`${s.id}: endpoint.ciphers "${ciphers}": ${r.problems.join('; ')}`);
        for (const name of ciphers.split(':').filter((n) => !/^[!+-]/.test(n) && !parse30(`${n}:@SECLEVEL=0`).accepted)) bad.push(`${s.id}: endpoint.ciphers: ${name} matches no suite Node's OpenSSL has`);
      }
      if (ciphersuites) {
        try {
          createSecureContext({ ciphers: ciphersuites }); // Node takes TLS 1.3 suites (TLS_*) in the same option
        } catch (e) {
          bad.push(`${s.id}: endpoint.ciphersuites "${ciphersuites}": ${(e as Error).message}`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });
});
