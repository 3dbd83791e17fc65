import { strict as assert } from 'node:assert';
import { deepMerge, expectationFor, family } from '../harness/scenario/model.ts';
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
    assert.equal(expectationFor(s!, 'openssl', ['hostname-check']).outcome, 'refuses');
    assert.equal(expectationFor(s!, 'openssl', []).outcome, 'connects');
    assert.deepEqual(expectationFor(s!, 'axtls', ['hostname-check']), { outcome: 'refuses', class: 'expired' });
  });

  it('has a valid scenario catalogue covering every requirement of the certificate, secret and baseline families', async () => {
    const families = await loadFamilies();
    assert.deepEqual(families.flatMap((f) => f.invalid), []);
    const covered = new Set<string>(families.flatMap((f) => f.scenarios.flatMap((s) => s.requirements)));
    const wanted = Object.keys(REQUIREMENTS).filter((id) => /^(CERT|SECRET|BASE)-/.test(id));
    assert.deepEqual(wanted.filter((id) => !covered.has(id)), []);
  });
});
