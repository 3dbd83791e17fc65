import { strict as assert } from 'node:assert';
import { changeLine, diffRuns, renderDiffLines } from '../harness/report/diff.ts';
import { mergeRuns, type MergeInput } from '../harness/report/merge.ts';
import type { ResultsFile } from '../harness/report/results.ts';
import { caseKey, parseShard, shardCases } from '../harness/scenario/shard.ts';
import { fixtureDoc } from './report-fixture.ts';

// The pure parts of sharding, merging and diffing (the CLI runs them on real runs in test/cli-shard-merge.test.ts).

interface Case { scenario: string; target: string }
const cases: Case[] = ['simulator', 'gw'].flatMap((target) => ['baseline.sanity', ...Array.from({ length: 9 }, (_, i) => `s.${i}`)].map((scenario) => ({ scenario, target })));
const key = (c: Case) => caseKey(c.scenario, c.target);
const sanity = (c: Case) => c.scenario === 'baseline.sanity';

describe('shards', () => {
  it('parses i/n and refuses 0/2, 3/2, a/b', () => {
    assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
    assert.throws(() => parseShard('0/2'), /from 1 to 2/);
    assert.throws(() => parseShard('3/2'), /from 1 to 2/);
    assert.throws(() => parseShard('a/b'), /not a shard: write i\/n/);
    assert.throws(() => parseShard('1/0'), /at least 1/);
  });

  it('split every case exactly once, the sanity scenario in every shard, the same whatever the order', () => {
    const parts = [1, 2, 3].map((index) => shardCases(cases, { index, count: 3 }, key, sanity));
    for (const p of parts) assert.deepEqual(p.filter(sanity).map(key), ['baseline.sanity @ simulator', 'baseline.sanity @ gw']);
    const rest = parts.flatMap((p) => p.filter((c) => !sanity(c)).map(key)).sort();
    assert.deepEqual(rest, cases.filter((c) => !sanity(c)).map(key).sort());
    assert.deepEqual(parts.map((p) => p.length - 2), [6, 6, 6]);
    const reversed = shardCases([...cases].reverse(), { index: 2, count: 3 }, key, sanity);
    assert.deepEqual(reversed.map(key).sort(), parts[1]!.map(key).sort());
  });

  it('balance by an earlier run\'s durations (unknown cases weigh the median)', () => {
    const durations = new Map(cases.map((c, i) => [key(c), c.scenario === 's.0' ? 5000 : 10 + i]));
    durations.delete(key(cases[5]!));
    const parts = [1, 2].map((index) => shardCases(cases, { index, count: 2 }, key, sanity, durations));
    const load = parts.map((p) => p.filter((c) => !sanity(c)).reduce((n, c) => n + (durations.get(key(c)) ?? 0), 0));
    // The two 5 s cases go to different shards; the rest evens out.
    assert.deepEqual(parts.map((p) => p.filter((c) => c.scenario === 's.0').length), [1, 1]);
    assert.ok(Math.abs(load[0]! - load[1]!) < 60, `loads ${load}`);
  });
});

function doc(over: (d: ResultsFile) => void = () => undefined): ResultsFile {
  const d = fixtureDoc();
  over(d);
  return d;
}

describe('merge', () => {
  const half = (d: ResultsFile, target: string, index: number) => {
    d.results = d.results.filter((r) => r.target === target || r.scenario === 'baseline.sanity');
    d.run.shard = { index, count: 2 };
  };
  it('joins the parts: one of each case, shared sanity once, targets and times of the whole', () => {
    const a: MergeInput = { file: 'a/results.json', doc: doc((d) => half(d, 'simulator', 1)) };
    const b: MergeInput = { file: 'b/results.json', doc: doc((d) => { half(d, 'gw-axtls', 2); d.run.startedAt = '2026-11-27T01:59:00.000Z'; }) };
    const m = mergeRuns([a, b]);
    assert.equal(m.results.length, fixtureDoc().results.length);
    assert.equal(m.run.startedAt, '2026-11-27T01:59:00.000Z');
    assert.equal(m.run.summary.total, m.results.length);
    assert.deepEqual(m.run.merged?.map((x) => x.shard?.index), [1, 2]);
    assert.deepEqual(m.results.map((r) => r.target), [...m.results.filter((r) => r.target === 'simulator'), ...m.results.filter((r) => r.target === 'gw-axtls')].map((r) => r.target));
  });

  it('refuses different harness versions, the same case with different results, a missing or repeated shard, one id for two targets', () => {
    const a = { file: 'a.json', doc: doc() };
    assert.throws(() => mergeRuns([a, { file: 'b.json', doc: doc((d) => { d.harness.version = '0.2.0'; }) }]), /b\.json: made by ws-ems-conformance 0\.2\.0 .*different harness versions/);
    assert.throws(() => mergeRuns([a, { file: 'b.json', doc: doc((d) => { d.results[0]!.status = 'failed'; }) }]), /baseline\.sanity @ simulator is in a\.json as passed \(CONNECTED\) and in b\.json as failed \(CONNECTED\): the same case twice with different results/);
    assert.throws(() => mergeRuns([{ file: 'a.json', doc: doc((d) => { d.run.shard = { index: 1, count: 3 }; }) }]), /shards of 3: 2\/3, 3\/3 missing/);
    assert.throws(() => mergeRuns([{ file: 'a.json', doc: doc((d) => { d.run.shard = { index: 1, count: 2 }; }) }, { file: 'b.json', doc: doc((d) => { d.run.shard = { index: 1, count: 2 }; }) }]), /b\.json: shard 1\/2 again/);
    assert.throws(() => mergeRuns([a, { file: 'b.json', doc: doc((d) => { d.run.targets[1]!.flavour = 'openssl'; }) }]), /target "gw-axtls" is openssl .* two different targets under one id/);
    assert.throws(() => mergeRuns([a, a]), /a\.json: given twice/);
  });
});

describe('diff', () => {
  it('lists verdict, class, protocol/cipher and outcome changes, new and removed cases apart, and counts regressions', () => {
    const old = doc();
    const now = doc((d) => {
      d.results[0]!.status = 'failed'; // passed → failed: regressed
      d.results[0]!.actual.verdict = 'REFUSED';
      d.results[0]!.actual.class = 'expired';
      d.results = d.results.filter((r) => r.scenario !== 'cert.expired'); // removed
      d.results.push({ ...d.results[1]!, scenario: 'cert.new' }); // new
      d.results.find((r) => r.scenario === 'criteria.all-match')!.actual.evidence.observations = [{ kind: 'handshake-ok', at: 1, protocol: 'TLSv1.2', cipher: 'AES128-SHA' }];
    });
    const d = diffRuns({ label: 'old', doc: old }, { label: 'new', doc: now });
    assert.equal(d.regressions, 1);
    const first = d.changes.find((c) => c.new.scenario === 'baseline.sanity')!;
    assert.equal(first.regressed, true);
    assert.deepEqual(first.fields.map((f) => f.field), ['outcome', 'verdict', 'class']);
    const hs = d.changes.find((c) => c.new.scenario === 'criteria.all-match')!;
    assert.deepEqual(hs.fields, [{ field: 'protocol', new: 'TLSv1.2' }, { field: 'cipher', new: 'AES128-SHA' }]);
    assert.equal(hs.regressed, false);
    assert.deepEqual(d.added.map((v) => v.scenario), ['cert.new']);
    assert.deepEqual(d.removed.map((v) => v.scenario), ['cert.expired']);
    assert.equal(diffRuns({ label: 'a', doc: old }, { label: 'b', doc: old }).changes.length, 0);
    // Backwards, a class that went away has an old value and no new one.
    assert.deepEqual(diffRuns({ label: 'new', doc: now }, { label: 'old', doc: old }).changes.find((c) => c.new.scenario === 'baseline.sanity')!.fields,
      [{ field: 'outcome', old: 'failed', new: 'passed' }, { field: 'verdict', old: 'REFUSED', new: 'CONNECTED' }, { field: 'class', old: 'expired' }]);
    // The `diff` command's text: regressions first, then the other groups, each only when it has cases.
    assert.deepEqual(renderDiffLines(d), [
      'old → new: 2 changed (1 regressed), 1 new, 1 removed, 8 unchanged',
      '  regressed (1)',
      '    REGRESSED baseline.sanity @ simulator: outcome passed → failed; verdict CONNECTED → REFUSED; class – → expired',
      '  changed (1)',
      '    criteria.all-match @ gw-axtls: protocol – → TLSv1.2; cipher – → AES128-SHA',
      '  new (1)',
      '    cert.new @ gw-axtls: passed (CONNECTED)',
      '  removed (1)',
      '    cert.expired @ gw-axtls: failed (REFUSED: untrusted-cert)',
    ]);
    assert.deepEqual(renderDiffLines(diffRuns({ label: 'a', doc: old }, { label: 'b', doc: old })), ['a → b: 0 changed (0 regressed), 0 new, 0 removed, 11 unchanged']);
  });

  it('Markdown lines escape a pipe', () => {
    const old = doc((d) => { d.results = [{ ...d.results[0]!, scenario: 'odd|id' }]; });
    assert.deepEqual(renderDiffLines(diffRuns({ label: 'a', doc: old }, { label: 'b', doc: doc((d) => { d.results = []; }) }), true),
      ['a → b: 0 changed (0 regressed), 0 new, 1 removed, 0 unchanged.', '\n**removed (1)**\n', '- odd\\|id @ simulator: passed (CONNECTED)']);
  });

  it('compares two targets of one run scenario by scenario (the first one the oracle)', () => {
    const d = diffRuns({ label: 'simulator', doc: fixtureDoc(), target: 'simulator' }, { label: 'gw-axtls', doc: fixtureDoc(), target: 'gw-axtls' });
    const host = d.changes.find((c) => c.new.scenario === 'cert.host.mismatch')!;
    assert.equal(host.old.target, 'simulator');
    assert.equal(host.new.target, 'gw-axtls');
    assert.equal(host.regressed, true, 'passed on the oracle, failed on the gateway');
    assert.ok(d.added.some((v) => v.scenario === 'cert.expired'), 'a case only the second target has is new');
    assert.equal(changeLine(host), 'REGRESSED cert.host.mismatch (simulator → gw-axtls): outcome passed → failed; verdict REFUSED → CONNECTED; class hostname-mismatch → –');
  });
});
