import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPABILITIES, capabilityProblem, PARAMETERISED } from '../harness/scenario/capabilities.ts';
import { loadFamilies } from '../harness/scenario/families.ts';
import { family } from '../harness/scenario/model.ts';
import { nearMiss } from '../harness/suggest.ts';
import { readInventory } from '../targets/inventory.ts';

// One registry of capability names (harness/scenario/capabilities.ts): what the catalogue uses is
// in it, and a name that is not is an error that names the near miss and what exists.

describe('capability registry', () => {
  it('holds every capability the scenario catalogue uses (needs, variants[].when.has/lacks)', async () => {
    const used = new Set<string>();
    const families = await loadFamilies();
    // A scenario naming an unknown capability fails validation (kept apart as invalid): none may.
    assert.deepEqual(families.flatMap((f) => f.invalid).filter((i) => /capabilit/.test(i.error)), []);
    for (const f of families) {
      for (const s of f.scenarios) {
        for (const c of [...s.needs, ...s.variants.flatMap((v) => [...(v.when.has ?? []), ...(v.when.lacks ?? [])])]) used.add(c);
      }
    }
    assert.ok(used.size >= 5, `the catalogue uses only ${used.size} capabilities`);
    assert.deepEqual([...used].filter((c) => capabilityProblem(c) !== undefined), []);
  });

  it('knows plain names and well-formed parameterised ones, nothing else', () => {
    for (const name of Object.keys(CAPABILITIES)) assert.equal(capabilityProblem(name), undefined);
    for (const p of Object.values(PARAMETERISED)) assert.equal(capabilityProblem(p.example), undefined);
    assert.match(capabilityProblem('hostnme-check')!, /^unknown capability "hostnme-check" \(did you mean "hostname-check"\?\); known: .*hostname-check.*dh-min-bits:N \(e\.g\. dh-min-bits:1024\)/);
    assert.match(capabilityProblem('dh-min-bit:1024')!, /did you mean "dh-min-bits:1024"/);
    assert.match(capabilityProblem('dh-min-bits:big')!, /dh-min-bits takes a value written dh-min-bits:N/);
    assert.doesNotMatch(capabilityProblem('quantum-safe')!, /did you mean/);
  });

  it('near misses are close: one or two edits, not a third of the word', () => {
    assert.equal(nearMiss('tsl13', ['tls13', 'fips']), 'tls13');
    assert.equal(nearMiss('fips', ['tls13', 'fips']), undefined, 'an exact name is no near miss');
    assert.equal(nearMiss('abc', ['xyz']), undefined);
  });

  it('a scenario asking for an unknown capability is invalid, naming the field', () => {
    const f = family('demo', {}, [
      { id: 'a', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'connects' }, needs: ['tsl13'] },
      { id: 'b', title: 't', requirements: ['CERT-HOST'], expect: { outcome: 'connects' }, variants: [{ when: { lacks: ['hostnme-check'] }, expect: { outcome: 'connects' } }] },
    ]);
    assert.match(f.invalid[0]!.error, /^scenario demo\/a: needs\[0\]: unknown capability "tsl13" \(did you mean "tls13"\?\)/);
    assert.match(f.invalid[1]!.error, /^scenario demo\/b: variants\[0\]\.when\.lacks\[0\]: unknown capability "hostnme-check"/);
  });

  it('an inventory declaring an unknown capability is refused, naming the file and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'capabilities-'));
    try {
      const file = join(dir, 'inventory.yaml');
      await writeFile(file, 'targets:\n  - id: t1\n    kind: local\n    executable: wsems\n    flavour: openssl\n    capabilities: [tls13, hostnme-check]\n');
      await assert.rejects(readInventory(file), (e: Error) => {
        assert.match(e.message, new RegExp(`^${file.replace(/[.]/g, '\\.')}: targets\\[0\\]\\.capabilities\\[1\\]: unknown capability "hostnme-check" \\(did you mean "hostname-check"\\?\\)`));
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
