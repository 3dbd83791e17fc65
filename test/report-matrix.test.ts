import { strict as assert } from 'node:assert';
import { diffRuns } from '../harness/report/diff.ts';
import { applyDivergences } from '../harness/report/divergences.ts';
import { buildMatrix, evidenceAnchor, expectedText, renderMatrixHtml, renderMatrixMd, summaryLine, type Matrix } from '../harness/report/matrix.ts';
import type { ResultsFile } from '../harness/report/results.ts';
import { REQUIREMENT_IDS } from '../harness/scenario/requirements.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

describe('conformance matrix', () => {
  // Built in each test, not once in describe(): mutation:core switches a mutant on per test only.
  let doc: ResultsFile;
  let m: Matrix;
  beforeEach(() => {
    doc = fixtureDoc();
    doc.results = applyDivergences(doc.results, fixtureExpectations());
    m = buildMatrix(doc);
  });
  const row = (id: string) => m.families.flatMap((f) => f.rows).find((r) => r.id === id)!;
  const col = (target: string) => m.targets.findIndex((t) => t.id === target);

  it('has a row per requirement ID, grouped by family, and a column per target', () => {
    assert.deepEqual(m.families.flatMap((f) => f.rows).filter((r) => r.id).map((r) => r.id).sort(), [...REQUIREMENT_IDS].sort());
    assert.deepEqual(m.families.find((f) => f.rows.some((r) => r.id === 'CERT-HOST'))!.name, 'certificates');
    assert.deepEqual(m.targets.map((t) => t.id), ['simulator', 'gw-axtls']);
  });

  it('a cell is as bad as its worst result: failed, broken, known, passed, skipped, untested', () => {
    const gw = col('gw-axtls');
    assert.equal(row('CERT-VALIDATE').cells[gw]!.outcome, 'failed');
    assert.equal(row('CERT-CHAIN').cells[gw]!.outcome, 'broken');
    assert.equal(row('CERT-HOST').cells[gw]!.outcome, 'known');
    assert.equal(row('CERT-CRITERIA').cells[gw]!.outcome, 'passed');
    assert.equal(row('CERT-PATHS').cells[gw]!.outcome, 'skipped');
    assert.equal(row('FIPS-BUILD').cells[gw]!.outcome, 'untested');
    assert.equal(row('CERT-HOST').cells[col('simulator')]!.outcome, 'passed');
  });

  it('says per target how many requirements hold of those tested', () => {
    const [sim, gw] = m.summaries;
    assert.equal(summaryLine(sim!), `2 of 2 requirements hold (${REQUIREMENT_IDS.length - 2} not tested)`);
    assert.equal(summaryLine(gw!), `2 of 8 requirements hold (4 failing, 1 with known divergences, 1 broken (infrastructure), ${REQUIREMENT_IDS.length - 8} not tested)`);
  });

  it('shows a scenario that only leaked a secret as failing SECRET-NOLOG, holding for its own requirement', () => {
    const leaked = fixtureDoc();
    const sanity = leaked.results.find((r) => r.target === 'simulator' && r.scenario === 'baseline.sanity')!;
    Object.assign(sanity, {
      status: 'failed', requirements: ['BASE-SANITY', 'SECRET-NOLOG'], message: 'SECRET-NOLOG: the app key in stdout line 3: "‹app key›"',
      checks: { failed: ['SECRET-NOLOG'], expectationStatus: 'passed' },
    });
    const lm = buildMatrix(leaked);
    const cellOf = (id: string) => lm.families.flatMap((f) => f.rows).find((r) => r.id === id)!.cells[col('simulator')]!;
    assert.equal(cellOf('SECRET-NOLOG').outcome, 'failed');
    assert.equal(cellOf('BASE-SANITY').outcome, 'passed');
  });

  it('marks a run with an injected defect in its run line, and a run without none', () => {
    const defective = fixtureDoc();
    defective.results[0]!.injectedDefect = 'criteria-contains';
    assert.match(renderMatrixMd(defective, buildMatrix(defective)), /DEFECT INJECTED \(mutation testing, not a conformance verdict\): criteria-contains/);
    assert.doesNotMatch(renderMatrixMd(doc, m), /DEFECT INJECTED/);
  });

  it('keeps results without a requirement visible in a row of their own', () => {
    const harness = m.families.find((f) => f.name === 'harness')!;
    assert.equal(harness.rows[0]!.cells[col('simulator')]!.outcome, 'broken');
  });

  it('HTML: one self-contained page; cells link to evidence; text is escaped', () => {
    const html = renderMatrixHtml(doc, m);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /<meta name="viewport" content="width=device-width/);
    assert.doesNotMatch(html, /<script|<link |\ssrc=|@import|url\(/i, 'nothing that could fetch');
    assert.match(html, /<tr id="req-CERT-HOST">/);
    assert.match(html, /<a href="#ev-gw-axtls--cert\.expired">cert\.expired<\/a> <span class="b failed">failed<\/span> REFUSED · untrusted-cert/);
    assert.match(html, /<article id="ev-gw-axtls--cert\.expired" class="failed">/);
    assert.match(html, /Title of cert\.expired &lt;with&gt; &quot;markup&quot; &amp; \| pipes/);
    assert.doesNotMatch(html, /<with>/);
    assert.match(html, /fixed — remove from list/);
    assert.match(html, /known divergence: C SDK 2\.2\.1 never checks the host name/);
  });

  it('Markdown: the same table, every row with one cell per column; evidence links into matrix.html', () => {
    const md = renderMatrixMd(doc, m);
    const table = md.split('\n').filter((l) => l.startsWith('|'));
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    assert.ok(table.length > REQUIREMENT_IDS.length);
    for (const l of table) assert.equal(cells(l), cells(table[0]!), l);
    assert.match(md, /- \*\*gw-axtls\*\* \(axtls · EMS 5\.4\.10\): 2 of 8 requirements hold/);
    assert.match(md, /\| `CERT-HOST` — .* \| ✅ holds \(1 passed\) \| 🔶 known divergence: \[cert\.host\.mismatch\]\(matrix\.html#ev-gw-axtls--cert\.host\.mismatch\) known CONNECTED \|/);
    assert.match(md, /## Needs a look[\s\S]*❌ \*\*failed\*\* \[cert\.expired\]\(matrix\.html#ev-gw-axtls--cert\.expired\) on gw-axtls: expected refusal: expired/);
  });

  it('a run whose results all name a requirement has no "harness" row', () => {
    const valid = fixtureDoc();
    valid.results = valid.results.filter((r) => r.requirements.length);
    assert.deepEqual(buildMatrix(valid).families.filter((f) => f.name === 'harness'), []);
  });

  it('a target where everything tested holds gets the bare summary, a green badge', () => {
    const [sim] = m.summaries;
    assert.equal(summaryLine({ ...sim!, untested: 0 }), '2 of 2 requirements hold');
    const html = renderMatrixHtml(doc, m);
    assert.match(html, /<li><span class="b passed">2\/2<\/span> <strong>simulator<\/strong>/);
    assert.match(html, /<li><span class="b failed">2\/8<\/span> <strong>gw-axtls<\/strong>/);
  });

  it('an expectation set not met lists its members without a "held"; a local-server expectation in its own words', () => {
    const r = doc.results[0]!;
    assert.equal(expectedText({ ...r, expectedAnyOf: [{ outcome: 'refuses', class: 'expired' }, { outcome: 'connects', weak: 'TLS 1.0' }] }), 'one of: refuses (expired) | connects (weak)');
    assert.equal(expectedText({ ...r, expected: { outcome: 'serves-plain' } }), 'serves plain HTTP');
  });

  it('the run line: without a run outcome no exit code, without a pass rate none; every injected defect named', () => {
    const first = (d: ResultsFile) => renderMatrixMd(d, buildMatrix(d)).split('\n')[2];
    assert.equal(first(doc), 'Run 2026-11-27T02:00:00.000Z (9.0 s), ws-ems-conformance 0.1.0, 11 results.');
    const judged = fixtureDoc();
    judged.run.outcome = { counts: { passed: 0, failed: 0, skipped: 0, broken: 0, known: 0, weak: 0 }, gates: {}, exitCode: 0, reasons: [] } as unknown as NonNullable<ResultsFile['run']['outcome']>;
    assert.equal(first(judged), 'Run 2026-11-27T02:00:00.000Z (9.0 s), ws-ems-conformance 0.1.0, 11 results, exit code 0.');
    judged.results[0]!.injectedDefect = 'criteria-contains';
    judged.results[1]!.injectedDefect = 'no-host-check';
    assert.match(first(judged)!, /: criteria-contains, no-host-check\.$/);
  });

  it('a run without an outcome, triage or baseline: nothing between the summary, the table and the evidence', () => {
    const html = renderMatrixHtml(doc, m);
    assert.match(html, /<ul class="summary">[^]*?<\/ul>\s*<h2>Requirements × targets<\/h2>/);
    assert.match(html, /<\/table>\s*<\/div>\s*<h2 id="evidence">/);
    assert.match(html, /<summary>EMS log excerpt \(0 lines\)<\/summary><pre>\(no output\)<\/pre>/);
    assert.match(html, /END PRIVATE KEY-----\n\+4ms bad bytes/, 'the log excerpt one line a line');
    const validate = html.split('\n').find((l) => l.startsWith('<tr id="req-CERT-VALIDATE">'))!;
    assert.ok(validate.endsWith('</ul></td></tr>'), `a cell with nothing passing folds nothing away: ${validate}`);
    const md = renderMatrixMd(doc, m);
    assert.match(md, /24 not tested\)\n\n## Requirements × targets\n/);
    assert.doesNotMatch(md, /^- ➖/m, 'a skipped result needs no look');
    assert.doesNotMatch(md, /## Triage/);
  });

  it('a run where everything passed has no "Needs a look"', () => {
    const green = fixtureDoc();
    green.results = green.results.filter((r) => r.status === 'passed');
    assert.doesNotMatch(renderMatrixMd(green, buildMatrix(green)), /Needs a look/);
  });

  it('triage shows only the part it has: unused entries without an empty table, unmatched lines without an empty list, nothing for neither', () => {
    const withTriage = (triage: NonNullable<ResultsFile['run']['triage']>) => {
      const d = fixtureDoc();
      d.run.triage = triage;
      return { html: renderMatrixHtml(d, buildMatrix(d)), md: renderMatrixMd(d, buildMatrix(d)) };
    };
    const unused = withTriage({ unmatched: [], unusedErrorMap: [{ target: 'gw-axtls', pattern: 'never seen', class: 'expired' }] });
    assert.match(unused.html, /prints them\.<\/p>\s*<h3>Unused errorMap entries/);
    assert.match(unused.md, /## Triage[^]*- unused errorMap entry \(matched no line of this run\): `never seen` \(expired\) — gw-axtls/);
    const unmatched = withTriage({ unmatched: [{ shape: 'odd <n>', pattern: 'odd \\d+', count: 1, results: 1, targets: ['gw-axtls'], examples: [{ target: 'gw-axtls', scenario: 'cert.expired' }], line: 'odd 1' }], unusedErrorMap: [] });
    assert.match(unmatched.html, /<\/tbody><\/table><\/div>\s*<h2 id="evidence">/);
    assert.match(unmatched.md, /## Triage[^]*- 1× in 1/);
    const none = withTriage({ unmatched: [], unusedErrorMap: [] });
    assert.doesNotMatch(none.html, /id="triage"/);
    assert.doesNotMatch(none.md, /## Triage/);
  });

  it('evidence: an anchor keeps to letters, digits and ._-; what the LSR saw is shown', () => {
    assert.equal(evidenceAnchor({ target: 'simulator', scenario: 'broken[3]' }), 'ev-simulator--broken-3-');
    const lsr = fixtureDoc();
    lsr.results[0]!.actual.evidence.localServer = { route: 'ssh forward from gw1', address: { name: 'localhost', host: '::1', port: 8443 }, handshakes: [], requests: [] } as never;
    assert.match(renderMatrixHtml(lsr, buildMatrix(lsr)), /<details><summary>local server, as the LSR saw it \(ssh forward from gw1\)<\/summary><pre>\{\n {2}&quot;route&quot;/);
  });

  it('changes since a baseline: only the groups that have changes', () => {
    const html = renderMatrixHtml(doc, m, diffRuns({ label: 'yesterday', doc: fixtureDoc() }, { label: 'today', doc }));
    const changes = html.slice(html.indexOf('<h2 id="changes">'), html.indexOf('<h2>Requirements'));
    assert.match(changes, /yesterday → today: 1 changed \(0 regressed\), 0 new, 0 removed, 10 unchanged/);
    assert.deepEqual(changes.match(/<h3>.*?<\/h3>/g), ['<h3><span class="b known">changed</span> 1</h3>'], 'no empty regressed, new or removed group');
  });

  it('passing scenarios fold away in their cell, one list item each', () => {
    const two = fixtureDoc();
    two.results.push({ ...two.results.find((r) => r.target === 'simulator' && r.scenario === 'cert.host.mismatch')!, scenario: 'cert.host.ip' });
    assert.match(renderMatrixHtml(two, buildMatrix(two)), /<details><summary>2 passed<\/summary><ul><li><a href="#ev-simulator--cert\.host\.mismatch">[^]*?<\/li><li><a href="#ev-simulator--cert\.host\.ip">/);
  });
});
