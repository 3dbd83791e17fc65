import { strict as assert } from 'node:assert';
import { loadFamilies } from '../harness/scenario/families.ts';
import { expectationFor, family, membersOf, type ProfileFacts, type Scenario } from '../harness/scenario/model.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';

// Every expectation variant of the catalogue is selected by some target a run can have: a target
// of the default inventory, or one of the documented profiles below (builds the lab meets that the
// simulator does not play). A variant nothing selects is dead: it states an expectation no run
// ever checks, and it fails here until a profile that selects it is listed (with where it is
// documented) or the variant goes.

/** Builds documented in docs/target-profiles.md and EMS-FACTS.md, with the variants they exist for. */
const DOCUMENTED_PROFILES: Array<{ name: string; why: string; profile: ProfileFacts }> = [
  {
    name: 'C SDK 2.2.1 with the vendor\'s OpenSSL 1.0.2l-fips (FIPS Object Module 2.0)',
    why: 'EMS-FACTS.md "The same SDK with the OpenSSL the vendor ships beside it"; docs/target-profiles.md fipsPolicy module-2.0',
    profile: { flavour: 'openssl', capabilities: ['openssl:1.0.2', 'fips', 'dh-min-bits:1024', 'posix-paths'], fipsPolicy: 'module-2.0' },
  },
  {
    name: 'an OpenSSL at a security level that refuses DH groups under 2048 bits',
    why: 'docs/target-profiles.md dh-min-bits:N (with dh-min-bits:2048: refused, dh-too-small)',
    profile: { flavour: 'openssl', capabilities: ['openssl:3.0', 'tls13', 'dh-min-bits:2048'] },
  },
  {
    name: 'an OpenSSL before 1.0.2 that takes Java 7\'s 768-bit DH',
    why: 'docs/target-profiles.md dh-min-bits:N (768 or 512 for older ones: connects with DHE)',
    profile: { flavour: 'openssl', capabilities: ['openssl:1.0.2', 'dh-min-bits:768'] },
  },
  {
    name: 'an OpenSSL that takes even 512-bit DH',
    why: 'docs/target-profiles.md dh-min-bits:N',
    profile: { flavour: 'openssl', capabilities: ['openssl:1.0.2', 'dh-min-bits:512'] },
  },
];

/** The variants of these scenarios that none of the profiles selects, in words. */
function deadVariants(scenarios: readonly Scenario[], profiles: readonly ProfileFacts[]): string[] {
  const dead: string[] = [];
  for (const s of scenarios) {
    s.variants.forEach((v, i) => {
      // expectationFor returns the selected variant's own members (the very objects): identity says which variant won.
      const first = membersOf(v.expect)[0];
      if (!profiles.some((p) => expectationFor(s, p)[0] === first)) dead.push(`${s.id}: variants[${i}] when ${JSON.stringify(v.when)}`);
    });
  }
  return dead;
}

describe('expectation variants', () => {
  let scenarios: Scenario[];
  let defaults: ProfileFacts[];
  before(async () => {
    scenarios = (await loadFamilies()).flatMap((f) => f.scenarios);
    defaults = (await loadTargets(DEFAULT_INVENTORY)).map((t) => t.profile);
  });

  it('each one is selected by a default target or a documented profile (no dead variants)', () => {
    assert.ok(scenarios.flatMap((s) => s.variants).length > 50, 'the catalogue has its variants');
    assert.deepEqual(deadVariants(scenarios, [...defaults, ...DOCUMENTED_PROFILES.map((p) => p.profile)]), [], 'variants no listed target selects');
  });

  it('each documented profile selects a variant no default target does (else it is not needed here)', () => {
    for (const { name, profile } of DOCUMENTED_PROFILES) {
      const own = scenarios.filter((s) => {
        const mine = expectationFor(s, profile)[0];
        return s.variants.some((v) => membersOf(v.expect)[0] === mine) && !defaults.some((d) => expectationFor(s, d)[0] === mine);
      });
      assert.ok(own.length > 0, `${name}: selects nothing the default targets do not`);
    }
  });

  it('names a variant no profile selects: one behind an earlier variant that always wins, one whose condition nobody meets', () => {
    const [s] = family('demo', {}, [{
      id: 'demo.dead', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'connects' },
      variants: [
        { when: { flavour: 'openssl' }, expect: { outcome: 'refuses', class: 'expired' } },
        { when: { flavour: 'openssl', has: ['tls13'] }, expect: { outcome: 'refuses', class: 'self-signed' } },
        { when: { has: ['dh-min-bits:4096'] }, expect: { outcome: 'refuses', class: 'dh-too-small' } },
      ],
    }]).scenarios;
    assert.deepEqual(deadVariants([s!], [...defaults, ...DOCUMENTED_PROFILES.map((p) => p.profile)]), [
      'demo.dead: variants[1] when {"has":["tls13"],"flavour":"openssl"}',
      'demo.dead: variants[2] when {"has":["dh-min-bits:4096"]}',
    ]);
  });
});
